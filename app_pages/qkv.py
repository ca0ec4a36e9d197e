"""Q/K/V projection: one sentence, its vectors, W_Q / W_K / W_V, the scores, the softmax, the weighted sum."""

import streamlit as st

from components.chips import token_chips
from components.figure_cache import cached_figure
from components.figures.qkv import (block_factor, grouped_bars, head_grid, score_and_weight_bars, side_by_side,
                                    signed_matrix)
from components.figures.shared import weight_matrix
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_bert_encoder, load_tiny_gpt
from components.settings import current_seed
from components.text import capped_text, chart_label, unique_labels, visible_whitespace
from components.widgets import keep_in_range, keep_selection
from models.labs import qkv as qkv_lab
from models.labs.qkv import HEAD_COUNTS, MAX_TOKENS, WIDTHS
from models.pretrained.tokens import default_token

KEY = "qkv"
SOURCES = ("minilm", "random", "2017", "2024")
MAX_SIDE = 128  # weight matrices larger than this are drawn as block means (chart payload under 1 MB)


def tr(name: str, /, **values) -> str:
    return t(f"{KEY}.{name}", **values)


def chart(figure, name: str, column=st) -> None:
    column.plotly_chart(figure, key=f"{KEY}_{name}_chart")


def panel(title: str, matrix, **values):
    """(title, matrix, column labels) for side_by_side; the title may name the matrix's shape."""
    rows, cols = matrix.shape
    return tr(title, rows=rows, cols=cols, **values), matrix, list(map(str, range(cols)))


@st.cache_data(show_spinner=False)
def referent():  # the MiniLM head where "it" in the default sentence listens most to its noun
    return qkv_lab.referent_head(load_bert_encoder())


@st.cache_data(max_entries=64, show_spinner=False)
def sentence_labs(source, text, width, heads, layer, seed, causal, no_projection):
    """(the lab as chosen, the same sentence with Q = K = V = X, tokens before the cut)."""
    model = None if source == "random" else load_bert_encoder() if source == "minilm" else load_tiny_gpt(source)
    return qkv_lab.sentence_labs(source, text, model=model, width=width, heads=heads, layer=layer, seed=seed,
                                 causal=causal, no_projection=no_projection)


def controls():
    text_column, option_column = st.columns([3, 2])
    with text_column:
        text = capped_text(tr("sentence_label"), qkv_lab.REFERENT_SENTENCE, f"{KEY}_sentence", area=False,
                           max_chars=500, help=tr("sentence_help"))
        source = st.radio(tr("source"), SOURCES, key=f"{KEY}_source", bind="query-params", horizontal=True,
                          format_func=option_labels(f"{KEY}.source_"), help=tr("source_help"))
    if st.session_state.get(f"{KEY}_causal_for") != source:  # each source opens the way it was trained
        st.session_state[f"{KEY}_causal_for"] = source
        st.session_state[f"{KEY}_causal"] = source != "minilm"  # MiniLM reads both ways; the others were causal
        st.session_state[f"{KEY}_head"] = referent().head if source == "minilm" else 0
    with option_column:
        width = heads = layer = None
        if source == "minilm":
            layer = st.select_slider(tr("layer"), range(load_bert_encoder().n_layers), value=referent().layer,
                                     key=f"{KEY}_layer", bind="query-params", format_func=lambda i: str(i + 1), help=tr("layer_help"))
        if source == "random":
            width = st.select_slider(tr("width"), WIDTHS, value=8, key=f"{KEY}_width", bind="query-params", help=tr("width_help"))
            heads = st.select_slider(tr("heads"), HEAD_COUNTS, value=2, key=f"{KEY}_heads", bind="query-params", help=tr("heads_help"))
        causal = st.checkbox(tr("causal"), source != "minilm", key=f"{KEY}_causal", bind="query-params", help=tr("causal_help"))
        no_projection = st.toggle(tr("no_projection"), value=False, key=f"{KEY}_no_projection", bind="query-params",
                                  help=tr("no_projection_help"))
        st.caption(tr("no_projection_explain"))
    return text, source, width, heads, layer, causal, no_projection


def compute(text, source, width, heads, layer, causal, no_projection):
    """(lab, lab without projections) or (None, None) after saying why in the page."""
    try:
        lab, plain, total = sentence_labs(source, text, width, heads, layer, current_seed(), causal, no_projection)
    except FileNotFoundError:
        st.error(tr("model_missing"))
        return None, None
    if total > MAX_TOKENS:
        st.warning(tr("too_many_tokens", n=MAX_TOKENS, total=total))
    if lab is None:
        st.info(tr("no_tokens"))
        return None, None
    st.caption(tr({"random": "random_caption", "minilm": "minilm_caption"}.get(source, "model_caption"),
                  width=lab.width, heads=heads or lab.n_heads, kv_heads=lab.n_kv_heads, layer=(layer or 0) + 1,
                  head_dim=width // heads if heads else lab.head_dim, seed=current_seed()))
    return lab, plain


def weight_chart(panels, lab, name, factor, widths=None):
    """W_Q / W_K / W_V or W_O: rows are input features; cells average ``factor`` x ``factor`` blocks (1: exact)."""
    chart(cached_figure(side_by_side, panels, list(map(str, range(lab.width))), hover_name=tr("value_hover"),
                        group_widths=widths, x_title=tr("out_axis"), y_title=tr("in_axis"),
                        height=min(700, 18 * lab.width + 150), block_hover=tr("block_hover", f=factor),
                        max_side=MAX_SIDE if factor > 1 else max(MAX_SIDE, lab.width)), name)


def show_projections(lab, labels, head):
    st.subheader(tr("step0_title"))
    st.markdown(tr("step0_explain"))
    st.caption(tr("colour_note"))
    x_panel = panel("x_title", lab.x, width=lab.width)
    if not lab.projected:
        chart(side_by_side([x_panel], labels, hover_name=tr("value_hover"), x_title=tr("features_axis")), "x")
        st.info(tr("no_projection_note"))
        return
    if lab.n_kv_heads < lab.n_heads:
        st.markdown(tr("gqa_note", heads=lab.n_heads, kv_heads=lab.n_kv_heads, group=lab.n_heads // lab.n_kv_heads))
    for note in [name for name, shown in (("bias_note", lab.has_bias), ("rope_note", lab.rope)) if shown]:
        st.caption(tr(note))
    one_head = lab.width > MAX_SIDE  # a wide model: the chosen head's columns, every number exact
    matrices = lab.head_weights(head) if one_head else (lab.w_q, lab.w_k, lab.w_v)
    if one_head:
        st.caption(tr("head_weights_caption", head=head_name(lab, head), width=lab.width, d=lab.head_dim))
    factor = 1 if one_head else block_factor(max(*lab.w_q.shape, *lab.w_o.shape), MAX_SIDE)
    weight_chart([panel(f"{name}_title", m) for name, m in zip(("wq", "wk", "wv"), matrices)], lab, "weights",
                 factor, None if one_head else [lab.head_dim] * 3)
    if factor > 1:
        st.caption(tr("block_caption", width=lab.width, f=factor))
    projected = [panel(f"{name}_title", lab.joined_heads(name)) for name in ("q", "k", "v")]
    chart(cached_figure(side_by_side, [x_panel, *projected], labels, hover_name=tr("value_hover"),
                        group_widths=[None] + [lab.head_dim] * 3, x_title=tr("features_axis")), "qkv")


def head_name(lab, head):
    grouped = lab.n_kv_heads < lab.n_heads
    return tr("head_title_kv" if grouped else "head_title", n=head + 1, kv=lab.kv_head(head) + 1)


def head_picker(lab, column):
    head_names = [head_name(lab, h) for h in range(lab.n_heads)]  # translated now, not when drawn
    first_head = referent().head if st.session_state.get(f"{KEY}_source") == "minilm" else 0  # as a source change sets it
    return column.selectbox(tr("head_pick"), range(lab.n_heads), min(first_head, lab.n_heads - 1), key=f"{KEY}_head",
                            bind="query-params", format_func=head_names.__getitem__, help=tr("head_pick_help"))


def token_picker(lab, column):
    return column.selectbox(tr("token_pick"), range(len(lab.tokens)), default_token(lab.tokens), key=f"{KEY}_token",
                            bind="query-params", format_func=lambda i: f"{i + 1}: {visible_whitespace(lab.tokens[i])}")


def step_by_step(lab, plain, labels, token, head):
    st.subheader(tr("step1_title"))
    st.markdown(tr("step1_explain"))
    current, weights = labels[token], lab.weights[head, token]
    chart(score_and_weight_bars(labels, lab.scores[head, token], weights, lab.mask[token],
                                score_title=tr("scores_title", token=current, d=lab.head_dim),
                                weight_title=tr("weights_title", token=current), masked_text=tr("masked")), "bars")
    st.caption(tr("row_sum", total=float(weights.sum())))
    row_column, sum_column = st.columns(2)
    chart(weight_matrix(lab.weights[head], labels, labels, title=tr("row_title", token=current),
                        hover_name=tr("weight_hover"), x_title=tr("keys_axis"), y_title=tr("queries_axis"),
                        highlight_row=token), "row", row_column)
    rows = unique_labels([tr("contribution_row", weight=float(w), token=label) for w, label in zip(weights, labels)])
    chart(signed_matrix(lab.weighted_sum_table(head, token), list(map(str, range(lab.head_dim))),
                        rows + [tr("output_row", token=current)], title=tr("step2_title", token=current),
                        hover_name=tr("value_hover"), x_title=tr("features_axis")), "sum", sum_column)
    st.markdown(tr("step2_explain"))
    st.markdown(f"**{tr('compare_title')}**  \n{tr('compare_explain')}")
    series = {tr("series_projected", head=head + 1): weights, tr("series_plain"): plain.weights[0, token]}
    chart(grouped_bars(labels, series, y_title=tr("weight_hover"), height=300, y_range=(0, 1)), "compare")


@st.fragment
def word_and_head(lab, plain, labels):
    """The current head and what it picks: moving it reruns only this part (the heads below stay)."""
    keep_selection(f"{KEY}_token", tuple(lab.tokens), default_token(lab.tokens))  # a new sentence: its default word
    keep_in_range(f"{KEY}_head", lab.n_heads, 0)
    head = head_picker(lab, st.columns(2)[0])
    show_projections(lab, labels, head)
    one_word(lab, plain, labels, head)


@st.fragment
def one_word(lab, plain, labels, head):
    """The current word's steps: moving the word reruns only these (the projections above do not depend on it)."""
    token = token_picker(lab, st.columns(2)[0])
    step_by_step(lab, plain, labels, token, head)


def show_heads(lab, labels):
    st.subheader(tr("heads_title"))
    st.markdown(tr("heads_explain"))
    chart(cached_figure(head_grid, lab.weights, labels, [head_name(lab, h) for h in range(lab.n_heads)],
                        hover_name=tr("weight_hover"), annotate=len(labels) <= 6), "heads")
    concat_column, wo_column = st.columns([3, 2])
    chart(cached_figure(side_by_side, [panel("concat_title", lab.concat), panel("output_title", lab.output)],
                        labels, hover_name=tr("value_hover"), group_widths=[lab.head_dim, None],
                        x_title=tr("features_axis")), "concat", concat_column)
    with wo_column:
        factor = block_factor(max(*lab.w_q.shape, *lab.w_o.shape), MAX_SIDE)  # 1 = every number exact
        weight_chart([panel("wo_title", lab.w_o)], lab, "wo", factor)
        if factor > 1:
            st.caption(tr("wo_block_caption", f=factor))


page_header(KEY)
lab, plain = compute(*controls())
if lab is not None:
    token_chips(lab.tokens)
    labels = unique_labels([chart_label(token, 12) for token in lab.tokens])
    word_and_head(lab, plain, labels)
    if lab.projected:
        show_heads(lab, labels)
found = referent()
what_to_notice(KEY, layer=found.layer + 1, head=found.head + 1, noun=f"{found.noun_weight:.2f}",
               other=f"{found.other_weight:.2f}")
next_page_link(KEY)
