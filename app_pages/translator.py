"""Translator: the seq2seq bottleneck measured, and the 2017 encoder-decoder writing step by step."""

import streamlit as st

from components.chips import token_chips
from components.figure_cache import cached_figure
from components.figures import translator as figures
from components.i18n import current_language, option_labels, t, translate
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_seq2seq_model, load_translators
from components.model_picker import user_model_picker
from components.settings import current_seed
from components.text import capped_text, chart_label, escape_markdown, unique_labels
from components.widgets import counted_from_one
from models.labs import translator as lab
from models.labs.translator import (
    AVERAGE_HEAD, MAX_WORDS, METRICS, MODELS, STRATEGIES, alignment_summary, check_sentence, headline, length_curves,
)

KEY = "translator"
DEFAULT_SENTENCE = "today the small dog that sees the cat sleeps because the teacher feeds the horses ."


@st.cache_data(max_entries=1024, show_spinner=False)
def lab_call(function: str, *args):
    """A function of models.labs.translator on the bundled translators, cached per arguments."""
    return getattr(lab, function)(load_translators(), *args)


@st.cache_data(max_entries=32, show_spinner=False)
def own_run(_model, spec: str, text: str, prefix: str):
    return _model.translate(text, prefix)


def labels(tokens) -> tuple[str, ...]:
    return tuple(unique_labels([chart_label(token, 14) for token in tokens]))


def attention_chart(weights, keys, queries, kind: str, lang: str):
    return cached_figure(figures.attention_map, weights, labels(keys), labels(queries),
                         x_title=translate(f"{KEY}.axis_{kind}_keys", lang),
                         y_title=translate(f"{KEY}.axis_{kind}_queries", lang),
                         hover_name=translate(f"{KEY}.weight", lang))


def read_sentence(bundle):
    """The typed sentence as ids, or None with a message saying what is wrong."""
    text = capped_text(t(f"{KEY}.sentence_label"), DEFAULT_SENTENCE, f"{KEY}_sentence", area=False,
                       max_chars=400, help=t(f"{KEY}.sentence_help"))
    check = check_sentence(bundle, text)
    if not check.words:
        st.info(t("common.empty_text"))
    elif check.unknown:
        st.warning(t(f"{KEY}.unknown_words", words=", ".join(f"“{escape_markdown(w)}”" for w in check.unknown)))
    elif check.too_long:
        st.warning(t(f"{KEY}.too_long", n=len(check.words), limit=MAX_WORDS))
    with st.expander(t(f"{KEY}.vocabulary_title")):
        st.caption(escape_markdown(" · ".join(w for w in bundle.source_vocab if not w.startswith("<"))))
    return check.ids if check.usable else None


def show_bottleneck(bundle, ids, lang: str):
    st.subheader(t(f"{KEY}.bottleneck_title"))
    st.markdown(t(f"{KEY}.bottleneck_text", **headline(bundle)))
    metric = st.radio(t(f"{KEY}.metric_label"), METRICS, key=f"{KEY}_metric", bind="query-params", horizontal=True,
                      format_func=option_labels(f"{KEY}.metric_"))
    buckets, curves = length_curves(bundle, metric)
    named = {translate(f"{KEY}.model_{name}", lang): tuple(curves[name]) for name in MODELS}
    st.plotly_chart(cached_figure(figures.length_curves, tuple(buckets), named,
                                  x_title=translate(f"{KEY}.axis_length", lang),
                                  y_title=translate(f"{KEY}.metric_{metric}", lang), trained_up_to="31-35",
                                  trained_note=translate(f"{KEY}.untrained_lengths", lang)),
                    key=f"{KEY}_curves_chart")
    if ids is None:
        return
    translations, vector = lab_call("gru_translations", ids), lab_call("bottleneck_vector", ids)
    for name in MODELS:
        st.markdown(f"**{t(f'{KEY}.model_{name}')}**: {escape_markdown(' '.join(translations[name]))}")
    st.caption(t(f"{KEY}.vector_caption", n=len(vector), words=len(ids) - 1))
    st.plotly_chart(cached_figure(figures.bottleneck_strip, vector, title=translate(f"{KEY}.vector_row", lang),
                                  hover_name=translate(f"{KEY}.value", lang)), key=f"{KEY}_vector_chart")


def step_count(ids, settings) -> int:
    """Steps taken with the buttons; a new sentence or strategy starts again from <bos>."""
    state = st.session_state
    if state.get(f"{KEY}_seen") != (ids, settings):
        state[f"{KEY}_seen"], state[f"{KEY}_steps"] = (ids, settings), 0
    return state[f"{KEY}_steps"]


def set_steps(value: int) -> None:
    st.session_state[f"{KEY}_steps"] = value


def show_decoding(ids):
    st.subheader(t(f"{KEY}.decoding_title"))
    st.markdown(t(f"{KEY}.decoding_text"))
    strategy = st.radio(t(f"{KEY}.strategy_label"), STRATEGIES, key=f"{KEY}_strategy", bind="query-params", horizontal=True,
                        format_func=option_labels(f"{KEY}.strategy_"))
    beam_col, temperature_col = st.columns(2)
    beam = beam_col.slider(t(f"{KEY}.beam_label"), 2, 5, 3, key=f"{KEY}_beam", bind="query-params", disabled=strategy != "beam")
    temperature = temperature_col.slider(t(f"{KEY}.temperature_label"), 0.2, 2.0, 1.0, 0.1,
                                         key=f"{KEY}_temperature", bind="query-params", disabled=strategy != "sample")
    steps = step_count(ids, (strategy, beam, temperature))
    state = lab_call("decoding_state", ids, steps, strategy, beam, temperature, current_seed())
    next_col, finish_col, reset_col = st.columns(3)
    next_col.button(t(f"{KEY}.next_token"), key=f"{KEY}_next", icon=":material/add:", disabled=state.finished,
                    on_click=set_steps, args=(steps + 1,), type="primary")
    finish_col.button(t(f"{KEY}.finish"), key=f"{KEY}_finish", icon=":material/fast_forward:",
                      disabled=state.finished, on_click=set_steps, args=(80,))
    reset_col.button(t(f"{KEY}.reset"), key=f"{KEY}_reset", icon=":material/restart_alt:", disabled=steps == 0,
                     on_click=set_steps, args=(0,))
    st.markdown(t(f"{KEY}.written", n=len(state.written)))
    token_chips(["<bos>", *state.written])
    if state.finished:
        st.success(t(f"{KEY}.length_limit" if state.hit_limit else f"{KEY}.finished"), icon=":material/check:")
    else:
        tokens, probabilities = zip(*state.candidates)
        st.plotly_chart(cached_figure(figures.candidate_bars, labels(tokens), probabilities,
                                      title=translate(f"{KEY}.probability", current_language())),
                        key=f"{KEY}_candidates_chart")
    if state.beams:
        st.caption(t(f"{KEY}.beams_caption", beams="  \n".join(
            f"{score:.2f}: {escape_markdown(text) or '∅'}" for text, score in state.beams)))
    return state.prefix


@st.fragment  # layer and head rerun only the three maps and the alignment chart
def show_attentions(bundle, ids, prefix, lang: str):
    config = bundle.models["transformer"].config
    st.subheader(t(f"{KEY}.attentions_title"))
    st.markdown(t(f"{KEY}.attentions_text"))
    layer_col, head_col = st.columns(2)
    layer = layer_col.selectbox(t(f"{KEY}.layer_label"), range(config.n_decoder_layers), key=f"{KEY}_layer", bind="query-params",
                                format_func=counted_from_one)
    heads = [AVERAGE_HEAD, *range(config.n_head)]
    head = head_col.selectbox(t(f"{KEY}.head_label"), heads, key=f"{KEY}_head", bind="query-params",
                              format_func=lambda h: translate(f"{KEY}.head_average", lang) if h == AVERAGE_HEAD else counted_from_one(h))
    view = lab_call("attention_views", ids, prefix, layer, head)
    columns = st.columns(2)  # the two self-attentions side by side, cross-attention the full width below them
    for column, kind, weights, keys, queries in (
            (columns[0], "encoder", view.encoder_self, view.source, view.source),
            (columns[1], "decoder", view.decoder_self, view.target_inputs, view.target_inputs),
            (st.container(), "cross", view.cross, view.source, view.target_inputs)):
        with column:
            st.markdown(f"**{t(f'{KEY}.map_{kind}')}**  \n{t(f'{KEY}.map_{kind}_text')}")
            st.plotly_chart(attention_chart(weights, keys, queries, kind, lang), key=f"{KEY}_{kind}_chart")
    summary = alignment_summary(bundle)
    st.markdown(t(f"{KEY}.alignment_text", best=100 * summary.best_accuracy, layer=summary.best_layer + 1,
                  head=summary.best_head + 1, average=100 * summary.all_heads_average, gru=100 * summary.gru_attention))
    st.plotly_chart(cached_figure(figures.head_accuracy, summary.per_head, layer_label=translate(f"{KEY}.layer", lang),
                                  head_label=translate(f"{KEY}.head", lang),
                                  hover_name=translate(f"{KEY}.alignment_hover", lang)), key=f"{KEY}_heads_chart")


@st.fragment
def show_own_model(lang: str):
    st.subheader(t(f"{KEY}.own_title"))
    st.markdown(t(f"{KEY}.own_text"))
    model = user_model_picker(f"{KEY}_own", kinds=("encoder_decoder",), loader=load_seq2seq_model)
    if model is None:
        return
    text = capped_text(t(f"{KEY}.own_sentence"), "The dog that sees the cat sleeps.", f"{KEY}_own_text", area=False,
                       max_chars=300)
    prefix = st.text_input(t(f"{KEY}.own_prefix"), key=f"{KEY}_own_prefix", bind="query-params", max_chars=60, help=t(f"{KEY}.own_prefix_help"))
    if not text.strip():
        st.info(t("common.empty_text"))
        return
    try:
        run = own_run(model, model.spec, text, prefix)
    except Exception as error:  # a model that cannot run this text still gets a sentence, not a traceback
        st.error(t(f"{KEY}.own_failed", reason=type(error).__name__))
        return
    st.markdown(t(f"{KEY}.own_translation", text=escape_markdown(run.translation)))
    if run.truncated:
        st.caption(t(f"{KEY}.own_truncated"))
    (n_layers, n_heads), (layer_col, head_col) = run.cross.shape[:2], st.columns(2)
    layer = layer_col.selectbox(t(f"{KEY}.layer_label"), range(n_layers), n_layers - 1, key=f"{KEY}_own_layer", bind="query-params",
                                format_func=counted_from_one)
    head = head_col.selectbox(t(f"{KEY}.head_label"), range(n_heads), key=f"{KEY}_own_head", bind="query-params",
                              format_func=counted_from_one)
    st.plotly_chart(attention_chart(run.cross[layer, head], run.source_tokens, run.target_tokens, "cross", lang),
                    key=f"{KEY}_own_chart")


page_header(KEY)
st.markdown(t(f"{KEY}.analogy"))
lang = current_language()
translators = load_translators()
sentence_ids = read_sentence(translators)
show_bottleneck(translators, sentence_ids, lang)
if sentence_ids is not None:
    written_prefix = show_decoding(sentence_ids)
    show_attentions(translators, sentence_ids, written_prefix, lang)
show_own_model(lang)
what_to_notice(KEY)
next_page_link(KEY)
