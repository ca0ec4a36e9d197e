"""Q/K/V projection: one sentence, its vectors, W_Q / W_K / W_V, the scores, the softmax, the weighted sum."""

import streamlit as st

from components.chips import token_chips
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.figures.qkv import (
    block_factor,
    grouped_bars,
    head_grid,
    score_and_weight_bars,
    side_by_side,
    signed_matrix,
    weight_matrix,
)
from components.settings import current_seed
from components.text import capped_text, chart_label, unique_labels, visible_whitespace
from models.labs import qkv as qkv_lab
from models.labs.qkv import HEAD_COUNTS, MAX_TOKENS, WIDTHS, default_token

KEY = "qkv"
DEFAULT_SENTENCE = qkv_lab.REFERENT_SENTENCE
SOURCES = ("minilm", "random", "2017", "2024")
CAUSAL_BY_DEFAULT = {"minilm": False, "random": True, "2017": True, "2024": True}  # as each was trained
MAX_SIDE = 128  # weight matrices larger than this are drawn as block means (chart payload under 1 MB)


@st.cache_resource(show_spinner=False)
def bert_encoder():
    from models.pretrained.minilm import load_bert_encoder

    return load_bert_encoder()


@st.cache_data(show_spinner=False)
def referent():
    """The MiniLM head where "it" in the default sentence listens most to its noun (models.labs.qkv)."""
    return qkv_lab.referent_head(bert_encoder())


@st.cache_data(max_entries=64, show_spinner=False)
def sentence_labs(source, text, width, heads, layer, seed, causal, no_projection):
    """(the lab as chosen, the same sentence with Q = K = V = X, tokens before the cut)."""
    from components.loaders import load_tiny_gpt

    model = None if source == "random" else bert_encoder() if source == "minilm" else load_tiny_gpt(source)
    return qkv_lab.sentence_labs(source, text, model=model, width=width, heads=heads, layer=layer, seed=seed,
                                 causal=causal, no_projection=no_projection)


def controls():
    text_column, option_column = st.columns([3, 2])
    with text_column:
        text = capped_text(t(f"{KEY}.sentence_label"), DEFAULT_SENTENCE, f"{KEY}_sentence", area=False,
                           max_chars=500, help=t(f"{KEY}.sentence_help"))
        source = st.radio(t(f"{KEY}.source"), SOURCES, key=f"{KEY}_source", horizontal=True,
                          format_func=option_labels(f"{KEY}.source_"), help=t(f"{KEY}.source_help"))
    if st.session_state.get(f"{KEY}_causal_for") != source:  # each source opens the way it was trained
        st.session_state[f"{KEY}_causal_for"] = source
        st.session_state[f"{KEY}_causal"] = CAUSAL_BY_DEFAULT[source]
        st.session_state[f"{KEY}_head"] = referent().head if source == "minilm" else 0
    with option_column:
        width = heads = layer = None
        if source == "minilm":
            layer = st.select_slider(t(f"{KEY}.layer"), range(bert_encoder().n_layers), value=referent().layer,
                                     key=f"{KEY}_layer", format_func=lambda i: str(i + 1), help=t(f"{KEY}.layer_help"))
        if source == "random":
            width = st.select_slider(t(f"{KEY}.width"), WIDTHS, value=8, key=f"{KEY}_width",
                                     help=t(f"{KEY}.width_help"))
            heads = st.select_slider(t(f"{KEY}.heads"), HEAD_COUNTS, value=2, key=f"{KEY}_heads",
                                     help=t(f"{KEY}.heads_help"))
        causal = st.checkbox(t(f"{KEY}.causal"), key=f"{KEY}_causal", help=t(f"{KEY}.causal_help"))
        no_projection = st.toggle(t(f"{KEY}.no_projection"), value=False, key=f"{KEY}_no_projection",
                                  help=t(f"{KEY}.no_projection_help"))
        st.caption(t(f"{KEY}.no_projection_explain"))
    return text, source, width, heads, layer, causal, no_projection


def compute(text, source, width, heads, layer, causal, no_projection):
    """(lab, lab without projections) or (None, None) after saying why in the page."""
    try:
        lab, plain, total = sentence_labs(source, text, width, heads, layer, current_seed(), causal, no_projection)
    except FileNotFoundError:
        st.error(t(f"{KEY}.model_missing"))
        return None, None
    if total > MAX_TOKENS:
        st.warning(t(f"{KEY}.too_many_tokens", n=MAX_TOKENS, total=total))
    if lab is None:
        st.info(t(f"{KEY}.no_tokens"))
        return None, None
    if source == "random":
        st.caption(t(f"{KEY}.random_caption", width=width, heads=heads, head_dim=width // heads, seed=current_seed()))
    else:
        st.caption(t(f"{KEY}.{'minilm' if source == 'minilm' else 'model'}_caption", width=lab.width,
                     heads=lab.n_heads, kv_heads=lab.n_kv_heads, head_dim=lab.head_dim, layer=(layer or 0) + 1))
    return lab, plain


def show_projections(lab, labels, head):
    st.subheader(t(f"{KEY}.step0_title"))
    st.markdown(t(f"{KEY}.step0_explain"))
    st.caption(t(f"{KEY}.colour_note"))
    feature, hover = t(f"{KEY}.features_axis"), t(f"{KEY}.value_hover")
    x_panel = (t(f"{KEY}.x_title", width=lab.width), lab.x, [str(i) for i in range(lab.width)])
    if not lab.projected:
        st.plotly_chart(side_by_side([x_panel], labels, hover_name=hover, x_title=feature), key=f"{KEY}_x_chart")
        st.info(t(f"{KEY}.no_projection_note"))
        return
    if lab.n_kv_heads < lab.n_heads:
        st.markdown(t(f"{KEY}.gqa_note", heads=lab.n_heads, kv_heads=lab.n_kv_heads,
                      group=lab.n_heads // lab.n_kv_heads))
    for note in ([t(f"{KEY}.bias_note")] if lab.has_bias else []) + ([t(f"{KEY}.rope_note")] if lab.rope else []):
        st.caption(note)
    one_head = lab.width > MAX_SIDE  # a wide model: the chosen head's columns, every number exact
    matrices = lab.head_weights(head) if one_head else (lab.w_q, lab.w_k, lab.w_v)
    weights = [(t(f"{KEY}.{name}_title", rows=matrix.shape[0], cols=matrix.shape[1]), matrix,
                [str(i) for i in range(matrix.shape[1])]) for name, matrix in zip(("wq", "wk", "wv"), matrices)]
    factor = 1 if one_head else weight_block(lab)
    if one_head:
        st.caption(t(f"{KEY}.head_weights_caption", head=head_name(lab, head), width=lab.width, d=lab.head_dim))
    st.plotly_chart(side_by_side(weights, [str(i) for i in range(lab.width)], hover_name=hover,
                                 group_widths=None if one_head else [lab.head_dim] * 3, x_title=t(f"{KEY}.out_axis"),
                                 y_title=t(f"{KEY}.in_axis"), height=min(700, 18 * lab.width + 150),
                                 max_side=lab.width if one_head else MAX_SIDE,
                                 block_hover=t(f"{KEY}.block_hover", f=factor)), key=f"{KEY}_weights_chart")
    if factor > 1:
        st.caption(t(f"{KEY}.block_caption", width=lab.width, f=factor))
    projected = [(t(f"{KEY}.{name}_title"), lab.joined_heads(name), [str(i) for i in range(lab.joined_heads(name).shape[1])])
                 for name in ("q", "k", "v")]
    st.plotly_chart(side_by_side([x_panel, *projected], labels, hover_name=hover,
                                 group_widths=[None, lab.head_dim, lab.head_dim, lab.head_dim], x_title=feature),
                    key=f"{KEY}_qkv_chart")


def weight_block(lab) -> int:
    """How many rows and columns one cell of the W_Q / W_K / W_V / W_O charts averages (1 = exact)."""
    return block_factor(max(*lab.w_q.shape, *lab.w_o.shape), MAX_SIDE)


def head_name(lab, head):
    if lab.n_kv_heads < lab.n_heads:
        return t(f"{KEY}.head_title_kv", n=head + 1, kv=lab.kv_head(head) + 1)
    return t(f"{KEY}.head_title", n=head + 1)


def keep_valid(key, count, default):
    if st.session_state.get(key) not in range(count):
        st.session_state[key] = default


def pickers(lab):
    """The current word and head, kept valid when the sentence or the source changes."""
    if st.session_state.get(f"{KEY}_token_for") != tuple(lab.tokens):
        st.session_state[f"{KEY}_token_for"] = tuple(lab.tokens)
        st.session_state[f"{KEY}_token"] = default_token(lab.tokens)
    keep_valid(f"{KEY}_token", len(lab.tokens), default_token(lab.tokens))
    keep_valid(f"{KEY}_head", lab.n_heads, 0)
    pick_token, pick_head = st.columns(2)
    token = pick_token.selectbox(t(f"{KEY}.token_pick"), range(len(lab.tokens)), key=f"{KEY}_token",
                                 format_func=lambda i: f"{i + 1}: {visible_whitespace(lab.tokens[i])}")
    head_names = [head_name(lab, h) for h in range(lab.n_heads)]  # translated now, not when drawn
    head = pick_head.selectbox(t(f"{KEY}.head_pick"), range(lab.n_heads), key=f"{KEY}_head",
                               format_func=head_names.__getitem__, help=t(f"{KEY}.head_pick_help"))
    return token, head


def step_by_step(lab, plain, labels, token, head):
    st.subheader(t(f"{KEY}.step1_title"))
    st.markdown(t(f"{KEY}.step1_explain"))
    current = labels[token]
    st.plotly_chart(
        score_and_weight_bars(labels, lab.scores[head, token], lab.weights[head, token], lab.mask[token],
                              score_title=t(f"{KEY}.scores_title", token=current, d=lab.head_dim),
                              weight_title=t(f"{KEY}.weights_title", token=current),
                              masked_text=t(f"{KEY}.masked")),
        key=f"{KEY}_bars_chart")
    st.caption(t(f"{KEY}.row_sum", total=float(lab.weights[head, token].sum())))
    row_column, sum_column = st.columns(2)
    with row_column:
        st.plotly_chart(
            weight_matrix(lab.weights[head], labels, labels, title=t(f"{KEY}.row_title", token=current),
                          hover_name=t(f"{KEY}.weight_hover"), x_title=t(f"{KEY}.keys_axis"),
                          y_title=t(f"{KEY}.queries_axis"), highlight_row=token),
            key=f"{KEY}_row_chart")
    with sum_column:
        rows = unique_labels([t(f"{KEY}.contribution_row", weight=float(w), token=label)
                              for w, label in zip(lab.weights[head, token], labels)])
        rows.append(t(f"{KEY}.output_row", token=current))
        st.plotly_chart(
            signed_matrix(lab.weighted_sum_table(head, token), [str(i) for i in range(lab.head_dim)], rows,
                          title=t(f"{KEY}.step2_title", token=current), hover_name=t(f"{KEY}.value_hover"),
                          x_title=t(f"{KEY}.features_axis")),
            key=f"{KEY}_sum_chart")
    st.markdown(t(f"{KEY}.step2_explain"))
    st.markdown(f"**{t(f'{KEY}.compare_title')}**  \n{t(f'{KEY}.compare_explain')}")
    st.plotly_chart(
        grouped_bars(labels, {t(f"{KEY}.series_projected", head=head + 1): lab.weights[head, token],
                              t(f"{KEY}.series_plain"): plain.weights[0, token]},
                     y_title=t(f"{KEY}.weight_hover"), height=300, y_range=(0, 1)),
        key=f"{KEY}_compare_chart")


def show_heads(lab, labels):
    st.subheader(t(f"{KEY}.heads_title"))
    st.markdown(t(f"{KEY}.heads_explain"))
    st.plotly_chart(head_grid(lab.weights, labels, [head_name(lab, h) for h in range(lab.n_heads)],
                              hover_name=t(f"{KEY}.weight_hover"), annotate=len(labels) <= 6),
                    key=f"{KEY}_heads_chart")
    hover, feature = t(f"{KEY}.value_hover"), t(f"{KEY}.features_axis")
    columns = [str(i) for i in range(lab.width)]
    concat_column, wo_column = st.columns([3, 2])
    with concat_column:
        st.plotly_chart(side_by_side([(t(f"{KEY}.concat_title"), lab.concat, columns),
                                      (t(f"{KEY}.output_title"), lab.output, columns)], labels, hover_name=hover,
                                     group_widths=[lab.head_dim, None], x_title=feature),
                        key=f"{KEY}_concat_chart")
    with wo_column:
        factor = weight_block(lab)
        st.plotly_chart(side_by_side([(t(f"{KEY}.wo_title", rows=lab.w_o.shape[0], cols=lab.w_o.shape[1]),
                                       lab.w_o, columns)], columns, hover_name=hover, x_title=t(f"{KEY}.out_axis"),
                                     y_title=t(f"{KEY}.in_axis"), height=min(700, 18 * lab.width + 150),
                                     max_side=MAX_SIDE, block_hover=t(f"{KEY}.block_hover", f=factor)),
                        key=f"{KEY}_wo_chart")
        if factor > 1:
            st.caption(t(f"{KEY}.wo_block_caption", f=factor))


page_header(KEY)
settings = controls()
lab, plain = compute(*settings)
if lab is not None:
    token_chips(lab.tokens)
    labels = unique_labels([chart_label(token, 12) for token in lab.tokens])
    token, head = pickers(lab)
    show_projections(lab, labels, head)
    step_by_step(lab, plain, labels, token, head)
    if lab.projected:
        show_heads(lab, labels)
found = referent()
what_to_notice(KEY, layer=found.layer + 1, head=found.head + 1, noun=f"{found.noun_weight:.2f}",
               other=f"{found.other_weight:.2f}")
next_page_link(KEY)
