"""Attention heatmaps: who real models listen to, head by head, layer by layer, on your text."""

import streamlit as st

from components.figures.attention import all_heads_grid, closeup_heatmap, head_view
from components.chips import token_chips
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_minilm, load_tiny_gpt
from components.model_picker import error_text, user_model_picker
from components.text import capped_text, chart_label, escape_markdown, unique_labels
from models.labs.attention import (AVERAGE, MAX_TOKENS, UNITS, block_names, default_query, from_model_run,
                                    shown_grid, shown_matrix, text_units, token_limit, top_links, visible_keys, zoom)
from models.pretrained.user_model import UserModelError

KEY = "attention"
MODELS = ("minilm", "tiny_gpt_2024", "tiny_gpt_2017", "user")
DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
GRID_SIDE = 32  # each small heatmap of the grid is pooled to at most 32 x 32 cells
WINDOW = 64  # a longer text's close-up starts on its first 64 units; a range slider moves it
CLOSEUP_SIDE = 128  # a wider range is block-averaged to 128 x 128 cells (chart well under 1 MB)

# The stack is a shared read-only resource (at 512 tokens MiniLM's weights are 75 MB: st.cache_data
# would copy them for every read). Derived arrays are cached with st.cache_data; figures with
# st.cache_resource keyed on hashable inputs (they are never changed after building, and a pickled
# plotly figure re-validates every property when read back, which costs more than building it again).


@st.cache_resource(max_entries=4, show_spinner=False)
def attention_stack(model_id: str, text: str, _model):
    """Run the chosen model once on the text; every picture below is read from this."""
    stack = from_model_run(_model.run(text, MAX_TOKENS))
    stack.weights.flags.writeable = False
    return stack


@st.cache_data(max_entries=64, show_spinner=False)
def closeup(model_id: str, text: str, hide_special: bool, unit: str, layer: int, head: int, _model):
    """(matrix over the shown units, their chart labels, their texts) of one head or the layer average."""
    matrix, units = shown_matrix(attention_stack(model_id, text, _model), layer, head, hide_special, unit)
    labels = unique_labels([chart_label(piece, 18 if unit == "sentence" else 14) for piece in units.texts])
    return matrix, labels, units.texts


@st.cache_resource(max_entries=64, show_spinner=False)
def closeup_figure(model_id: str, text: str, hide_special: bool, unit: str, layer: int, head: int, span: tuple,
                   words: tuple, _model):
    """The close-up of units span[0] .. span[1] - 1, and how many units one cell averages (1: exact)."""
    matrix, labels, _ = closeup(model_id, text, hide_special, unit, layer, head, _model)
    cells, edges = zoom(matrix, *span, CLOSEUP_SIDE)
    hover_name, x_title, y_title = words
    figure = closeup_heatmap(cells, unique_labels(block_names(labels, edges)), hover_name=hover_name,
                             x_title=x_title, y_title=y_title)
    return figure, int(max(edges[1:] - edges[:-1]))


@st.cache_resource(max_entries=128, show_spinner=False)
def lines_figure(model_id: str, text: str, hide_special: bool, unit: str, layer: int, head: int, query: int,
                 top: int, words: tuple, _model):
    """The head view from one unit and its strongest links."""
    matrix, labels, _ = closeup(model_id, text, hide_special, unit, layer, head, _model)
    links = top_links(matrix[query], top)
    query_side, key_side, hover_name = words
    causal = attention_stack(model_id, text, _model).causal
    figure = head_view(labels, matrix[query], query, links, query_side=query_side, key_side=key_side,
                       hover_name=hover_name, visible=visible_keys(len(labels), query, causal))
    return figure, links


@st.cache_resource(max_entries=16, show_spinner=False)
def grid_figure(model_id: str, text: str, hide_special: bool, unit: str, words: tuple, _model):
    """The pooled all-heads grid (None when only special tokens are left) and units per cell."""
    pooled, per_cell = shown_grid(attention_stack(model_id, text, _model), hide_special, GRID_SIDE, unit)
    layer_label, head_label, hover, colour = words
    figure = all_heads_grid(pooled, layer_label=layer_label, head_label=head_label, hover_template=hover,
                            colour_title=colour) if pooled.shape[-1] else None
    return figure, per_cell


def choose_model():
    """(model id, loaded model); MiniLM stands in while no user model is loaded."""
    choice = st.radio(t(f"{KEY}.model"), MODELS, key=f"{KEY}_model", bind="query-params", format_func=option_labels(f"{KEY}.model_"))
    st.caption(t(f"{KEY}.about_{choice}"))
    if choice.startswith("tiny_gpt"):
        return choice, load_tiny_gpt(choice.removeprefix("tiny_gpt_"))
    if choice == "user":
        loaded = user_model_picker(KEY)
        if loaded is not None:
            return f"user:{loaded.spec}", loaded
        st.info(t(f"{KEY}.user_hint"))
    return "minilm", load_minilm()


@st.fragment
def explore(model_id, text, hide_special, unit, n_layers, n_heads, causal, model):
    """Layer and head pickers, the range of a long text and the close-up; reruns alone when they move."""
    st.subheader(t(f"{KEY}.head_title"))
    left, right = st.columns([3, 2], gap="medium")
    layer_column, head_column = left.columns(2)
    layer = layer_column.slider(t(f"{KEY}.layer"), 1, n_layers, 1 if causal else 3, key=f"{KEY}_layer", bind="query-params") - 1  # shown from 1
    head_names = {AVERAGE: t(f"{KEY}.average"), **{h: t(f"{KEY}.head_n", n=h + 1) for h in range(n_heads)}}
    head = head_column.selectbox(t(f"{KEY}.head"), list(head_names), key=f"{KEY}_head", bind="query-params", format_func=head_names.get)
    _, labels, _ = closeup(model_id, text, hide_special, unit, layer, head, model)
    if not labels:
        st.info(t(f"{KEY}.nothing_left"))
        return
    span = (0, len(labels))
    if len(labels) > WINDOW:  # a long text: the close-up shows a range of it
        first, last = left.slider(t(f"{KEY}.range"), 1, len(labels), (1, WINDOW), key=f"{KEY}_range", bind="query-params",
                                  help=t(f"{KEY}.range_help", side=CLOSEUP_SIDE))
        span = (first - 1, last)
    with left:
        st.markdown(f"**{t(f'{KEY}.heatmap_title', layer=layer + 1, head=head_names[head])}**")
        words = (t(f"{KEY}.weight"), t(f"{KEY}.key_axis"), t(f"{KEY}.query_axis"))
        figure, per_cell = closeup_figure(model_id, text, hide_special, unit, layer, head, span, words, model)
        st.plotly_chart(figure, key=f"{KEY}_heatmap_chart")
        if per_cell > 1:
            st.caption(t(f"{KEY}.closeup_pooled", n=per_cell, side=CLOSEUP_SIDE))
    with right:
        follow(model_id, text, hide_special, unit, layer, head, model)


@st.fragment
def follow(model_id, text, hide_special, unit, layer, head, model):
    """The unit to follow and its lines; reruns alone when the unit or the line count moves."""
    _, labels, texts = closeup(model_id, text, hide_special, unit, layer, head, model)
    query_column, top_column = st.columns([3, 1])
    query = query_column.selectbox(t(f"{KEY}.query"), range(len(labels)), key=f"{KEY}_query", bind="query-params",
                                   index=default_query(texts), format_func=lambda n: f"{n + 1}: {labels[n]}")
    top = top_column.number_input(t(f"{KEY}.top_k"), 1, 20, 5, key=f"{KEY}_top_k", bind="query-params")
    words = (t(f"{KEY}.query_side"), t(f"{KEY}.key_side"), t(f"{KEY}.weight"))
    figure, links = lines_figure(model_id, text, hide_special, unit, layer, head, query, int(top), words, model)
    st.plotly_chart(figure, key=f"{KEY}_lines_chart")
    st.caption(t(f"{KEY}.lines_caption", token=labels[query],
                 links=", ".join(f"{labels[j]} {w:.2f}" for j, w in links)))


def show_grid(model_id, text, hide_special, unit, model):
    st.subheader(t(f"{KEY}.grid_title"))
    words = (t(f"{KEY}.layer_n"), t(f"{KEY}.head_short"), t(f"{KEY}.grid_hover"), t(f"{KEY}.weight"))
    figure, per_cell = grid_figure(model_id, text, hide_special, unit, words, model)
    st.markdown(t(f"{KEY}.grid_intro"))
    if per_cell > 1:
        st.caption(t(f"{KEY}.grid_pooled", n=per_cell, side=GRID_SIDE))
    if figure is not None:
        st.plotly_chart(figure, key=f"{KEY}_grid_chart")


page_header(KEY)
model_column, text_column = st.columns([1, 2])
with model_column:
    model_id, model = choose_model()
limit, limited_by = token_limit(model.context)
with text_column:
    text = capped_text(t(f"{KEY}.text_label"), DEFAULT_TEXT, f"{KEY}_text", height=100, max_chars=8000,
                       help=t(f"{KEY}.text_help", n=limit))
    hide_column, unit_column = st.columns([1, 1])
    hide_special = hide_column.checkbox(t(f"{KEY}.hide_special"), value=True, key=f"{KEY}_hide_special", bind="query-params",
                                        help=t(f"{KEY}.hide_special_help"))
    unit = unit_column.radio(t(f"{KEY}.unit"), UNITS, key=f"{KEY}_unit", bind="query-params", horizontal=True,
                             format_func=option_labels(f"{KEY}.unit_"), help=t(f"{KEY}.unit_help"))

stack = None
if not text.strip():
    st.info(t("common.empty_text"))
else:
    try:
        stack = attention_stack(model_id, text, model)
    except UserModelError as error:
        st.error(error_text(error.key, error.values))
    except (RuntimeError, ValueError, IndexError) as error:  # a user model that cannot take this text
        st.error(t(f"{KEY}.model_failed", reason=escape_markdown(str(error)[:300])))
if stack is not None:
    if stack.dropped:
        st.warning(t(f"{KEY}.capped_{limited_by}", total=stack.total, n=len(stack.ids), dropped=stack.dropped,
                     limit=limit), icon=":material/content_cut:")
    units = text_units(stack.tokens, stack.special, unit)
    colours = None if unit == "token" else list(units.of_token())
    with st.expander(t(f"{KEY}.all_tokens", n=len(stack.ids)), expanded=len(stack.ids) <= 2 * WINDOW):
        token_chips(stack.tokens, stack.ids, colour_by=colours)  # folded away for a long text
    st.caption(t(f"{KEY}.shape", layers=stack.n_layers, heads=stack.n_heads, tokens=len(stack.ids),
                 kind=t(f"{KEY}.causal") if stack.causal else t(f"{KEY}.bidirectional")))
    if unit != "token":
        st.caption(t(f"{KEY}.unit_rule_{unit}", tokens=len(stack.ids), units=len(units)))
    explore(model_id, text, hide_special, unit, stack.n_layers, stack.n_heads, stack.causal, model)
    show_grid(model_id, text, hide_special, unit, model)
what_to_notice(KEY)
next_page_link(KEY)
