"""Masking: the tiny GPT's weights read both ways, the proof that the causal mask hides the future, padding."""

import pandas as pd
import streamlit as st

from components.chips import token_chips
from components.figure_cache import cached_figure
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_tiny_gpt
from components.figures.masking import delta_bars, mask_matrix
from components.figures.shared import weight_matrix
from components.text import capped_text, chart_label, unique_labels, visible_whitespace
from components.widgets import cut_tokens, keep_selection
from models.labs.masking import MAX_TOKENS, compare_masks, edit_proof, padding_batch, replace_word
from models.pretrained.tokens import default_token

KEY = "masking"
STYLES = ("2017", "2024")
DEFAULT_SENTENCE = "The dog chased the cat because it was hungry."
DEFAULT_REPLACEMENT = "is"
DEFAULT_PAIR = ("The dog chased the cat.", "It was hungry.")
MAX_PAIR_TOKENS = 16
PAD_LABEL = "[PAD]"
HIDDEN, SEEN, CHANGED = 6, 0, 2  # chip colours: gray, blue, orange
CUT = f"{KEY}.too_many_tokens"  # the message when a text has more tokens than a section reads


@st.cache_data(max_entries=32, show_spinner=False)
def comparison(style: str, ids: tuple[int, ...]):
    return compare_masks(load_tiny_gpt(style).model, list(ids))


@st.cache_data(max_entries=32, show_spinner=False)
def proof(style: str, ids: tuple[int, ...], edited: tuple[int, ...]):
    bundle = load_tiny_gpt(style)
    return edit_proof(bundle.model, list(ids), list(edited), bundle.end_of_text_id)


@st.cache_data(max_entries=32, show_spinner=False)
def batch(style: str, first: tuple[int, ...], second: tuple[int, ...], causal: bool):
    bundle = load_tiny_gpt(style)
    return padding_batch(bundle.model, list(first), list(second), bundle.end_of_text_id, causal=causal)


def labels_for(tokens):
    return unique_labels([chart_label(token, 10) for token in tokens])


def layer_and_head(n_layers, n_heads, prefix):
    left, right, _ = st.columns([1, 1, 2])
    layer = left.selectbox(t(f"{KEY}.layer"), range(n_layers), key=f"{KEY}_{prefix}_layer", bind="query-params",
                           format_func=lambda i: str(i + 1))
    head = right.selectbox(t(f"{KEY}.head"), range(n_heads), key=f"{KEY}_{prefix}_head", bind="query-params",
                           format_func=lambda i: str(i + 1))
    return layer, head


@st.fragment
def both_ways(style, ids, tokens):
    st.subheader(t(f"{KEY}.both_title"))
    st.markdown(t(f"{KEY}.both_explain"))
    result = comparison(style, tuple(ids))
    layer, head = layer_and_head(result.n_layers, result.n_heads, "both")
    labels = labels_for(tokens)
    axes = dict(x_title=t(f"{KEY}.keys_axis"), y_title=t(f"{KEY}.queries_axis"))
    height = max(260, min(560, 22 * len(tokens) + 140))
    for column, mode, allowed, weights in zip(st.columns(2), ("reader", "writer"),
                                              (result.full_mask, result.causal_mask),
                                              (result.full_weights, result.causal_weights)):
        with column, st.container(border=True):
            st.markdown(f"**{t(f'{KEY}.mode_{mode}')}**")
            st.plotly_chart(cached_figure(mask_matrix, allowed, labels, labels, title=t(f"{KEY}.mask_title"),
                                          hover_name=t(f"{KEY}.may_attend"), height=height, **axes),
                            key=f"{KEY}_{mode}_mask_chart")
            st.plotly_chart(cached_figure(weight_matrix, weights[layer, head], labels, labels,
                                          title=t(f"{KEY}.weights_title", layer=layer + 1, head=head + 1),
                                          hover_name=t(f"{KEY}.weight"), height=height, **axes),
                            key=f"{KEY}_{mode}_weights_chart")
    full, causal = result.future_weight(layer, head)
    st.caption(t(f"{KEY}.future_weight", full=full, causal=causal))


@st.fragment
def the_proof(style, bundle, ids, tokens):
    st.subheader(t(f"{KEY}.proof_title"))
    st.markdown(t(f"{KEY}.proof_explain"))
    first_edit = min(default_token(tokens) + 1, len(ids) - 1)
    keep_selection(f"{KEY}_edit_position", tuple(ids), first_edit)
    position_column, word_column = st.columns(2)
    position = position_column.selectbox(t(f"{KEY}.edit_position"), range(len(ids)), first_edit, key=f"{KEY}_edit_position", bind="query-params",
                                         format_func=lambda i: f"{i + 1}: {visible_whitespace(tokens[i])}")
    with word_column:
        word = capped_text(t(f"{KEY}.replacement"), DEFAULT_REPLACEMENT, f"{KEY}_replacement", area=False,
                           max_chars=40, help=t(f"{KEY}.replacement_help"))
    edited = replace_word(ids, tokens, position, word, bundle.encode)
    result = proof(style, tuple(ids), tuple(edited))
    changed = result.first_changed
    colours = [CHANGED if changed is not None and i >= changed else HIDDEN for i in range(len(edited))]
    st.markdown(t(f"{KEY}.edited_label"))
    token_chips(bundle.token_strings(edited), colour_by=colours)
    if changed is None:
        st.info(t(f"{KEY}.no_change"))
        return
    labels = labels_for(tokens[: result.compared])
    st.plotly_chart(cached_figure(delta_bars, labels, {t(f"{KEY}.series_causal"): result.causal_delta,
                                                       t(f"{KEY}.series_full"): result.full_delta},
                                  title=t(f"{KEY}.delta_title"), y_title=t(f"{KEY}.delta_axis"),
                                  first_changed=changed, changed_text=t(f"{KEY}.edit_marker")),
                    key=f"{KEY}_delta_chart")
    if result.before_edit == 0:
        st.info(t(f"{KEY}.nothing_before"))
    elif result.causal_before_max == 0.0:
        st.success(t(f"{KEY}.proof_holds", n=result.before_edit, full=result.full_before_max),
                   icon=":material/verified:")
    else:
        st.error(t(f"{KEY}.proof_fails", value=result.causal_before_max))
    table = pd.DataFrame({
        t(f"{KEY}.col_position"): range(1, result.compared + 1),
        t(f"{KEY}.col_token"): [visible_whitespace(token) for token in tokens[: result.compared]],
        t(f"{KEY}.series_causal"): [f"{value:.3g}" for value in result.causal_delta],
        t(f"{KEY}.series_full"): [f"{value:.3g}" for value in result.full_delta],
    })
    st.dataframe(table, hide_index=True, height=min(400, 36 * result.compared + 40), key=f"{KEY}_delta_table")


@st.fragment
def reader_and_writer(ids, tokens):
    st.subheader(t(f"{KEY}.families_title"))
    st.markdown(t(f"{KEY}.families_explain"))
    keep_selection(f"{KEY}_query", tuple(ids), default_token(tokens))
    query = st.selectbox(t(f"{KEY}.query_pick"), range(len(ids)), default_token(tokens), key=f"{KEY}_query", bind="query-params",
                         format_func=lambda i: f"{i + 1}: {visible_whitespace(tokens[i])}")
    reader, writer = st.columns(2)
    with reader, st.container(border=True):
        st.markdown(f"**{t(f'{KEY}.reader_title')}**  \n{t(f'{KEY}.reader_text')}")
        token_chips(tokens, colour_by=[CHANGED if i == query else SEEN for i in range(len(tokens))])
    with writer, st.container(border=True):
        st.markdown(f"**{t(f'{KEY}.writer_title')}**  \n{t(f'{KEY}.writer_text')}")
        token_chips(tokens, colour_by=[CHANGED if i == query else SEEN if i < query else HIDDEN
                                       for i in range(len(tokens))])
        st.caption(t(f"{KEY}.writer_count", seen=query + 1, total=len(tokens)))


@st.fragment
def padding_section(style, bundle):
    st.subheader(t(f"{KEY}.padding_title"))
    st.markdown(t(f"{KEY}.padding_explain"))
    *text_columns, option_column = st.columns([2, 2, 1])
    pair = []
    for column, name, default in zip(text_columns, ("first", "second"), DEFAULT_PAIR):
        with column:
            pair.append(cut_tokens(bundle, capped_text(t(f"{KEY}.{name}_sentence"), default, f"{KEY}_{name}", area=False,
                                                   max_chars=200), MAX_PAIR_TOKENS, CUT))
    (first, first_tokens), (second, second_tokens) = pair
    causal = option_column.checkbox(t(f"{KEY}.padding_causal"), value=False, key=f"{KEY}_padding_causal", bind="query-params")
    if not first or not second:
        st.info(t(f"{KEY}.padding_empty"))
        return
    result = batch(style, tuple(first), tuple(second), causal)
    layer, head = layer_and_head(result.n_layers, result.n_heads, "padding")
    axes = dict(x_title=t(f"{KEY}.keys_axis"), y_title=t(f"{KEY}.queries_axis"))
    height = max(240, min(480, 22 * result.length + 140))
    for row, (column, tokens) in enumerate(zip(st.columns(2), (first_tokens, second_tokens))):
        padded = labels_for(tokens + [PAD_LABEL] * (result.length - len(tokens)))
        with column, st.container(border=True):
            st.markdown(t(f"{KEY}.row_title", n=row + 1, real=result.lengths[row],
                          pads=result.length - result.lengths[row]))
            st.plotly_chart(cached_figure(mask_matrix, result.mask[row], padded, padded,
                                          title=t(f"{KEY}.padding_mask_title"), hover_name=t(f"{KEY}.may_attend"),
                                          height=height, **axes),
                            key=f"{KEY}_padding_mask_{row}_chart")
            st.plotly_chart(cached_figure(weight_matrix, result.weights[row, layer, head], padded, padded,
                                          title=t(f"{KEY}.weights_title", layer=layer + 1, head=head + 1),
                                          hover_name=t(f"{KEY}.weight"), height=height, **axes),
                            key=f"{KEY}_padding_weights_{row}_chart")
            st.caption(t(f"{KEY}.padding_check", delta=result.alone_delta[row], pad=result.pad_weight[row]))


page_header(KEY)
style = st.radio(t(f"{KEY}.model"), STYLES, key=f"{KEY}_model", bind="query-params", horizontal=True,
                 format_func=option_labels(f"{KEY}.model_"), help=t(f"{KEY}.model_help"))
text = capped_text(t(f"{KEY}.sentence_label"), DEFAULT_SENTENCE, f"{KEY}_sentence", area=False, max_chars=500)
try:
    model_bundle = load_tiny_gpt(style)
except FileNotFoundError:
    model_bundle = None
    st.error(t(f"{KEY}.model_missing"))
if model_bundle is not None:
    sentence_ids, sentence_tokens = cut_tokens(model_bundle, text, MAX_TOKENS, CUT)
    if not sentence_ids:
        st.info(t(f"{KEY}.no_tokens"))
    else:
        token_chips(sentence_tokens, sentence_ids)
        both_ways(style, sentence_ids, sentence_tokens)
        the_proof(style, model_bundle, sentence_ids, sentence_tokens)
        reader_and_writer(sentence_ids, sentence_tokens)
    padding_section(style, model_bundle)
what_to_notice(KEY)
next_page_link(KEY)
