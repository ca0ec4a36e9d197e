"""Inside a block: the FFN on one token, position by position, where the parameters are, the residual
stream read through the logit lens, and a trained mixture of experts."""

import streamlit as st

from components.chips import token_chips, token_picker
from components.figure_cache import cached_figure
from components.figures import inside_block as figures
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_tiny_gpt, load_user_model
from components.model_picker import user_model_picker
from components.moe_panel import moe_section
from components.text import capped_text, chart_label, escape_markdown, unique_labels, visible_whitespace
from models.labs import inside_block as lab
from models.pretrained.tokens import encode_in_place

KEY = "inside_block"
STYLES = ("2017", "2024")
DEFAULT_PROMPT = "The dog chased the cat because it was hungry."
DEFAULT_REPLACEMENT = "man"


@st.cache_data(max_entries=64, show_spinner=False)
def ffn_view(style, ids, position, layer):
    return lab.ffn_on_token(load_tiny_gpt(style).model, list(ids), position, layer)


@st.cache_data(max_entries=32, show_spinner=False)
def user_ffn(loaded, text, position, layer):
    return lab.user_ffn_on_token(load_user_model(*loaded), text, position, layer)


@st.cache_data(max_entries=64, show_spinner=False)
def proof(style, ids, position, replacement, layer):
    return lab.position_proof(load_tiny_gpt(style).model, list(ids), position, replacement, layer)


@st.cache_data(max_entries=64, show_spinner=False)
def lens(style, ids, position):
    return lab.logit_lens(load_tiny_gpt(style).model, list(ids), position)


@st.cache_data(show_spinner=False)
def shares(names: tuple[str, ...]):
    return lab.parameter_shares({name: load_tiny_gpt(style).config for name, style in zip(names, STYLES)})


def ffn_figures(view, token):
    hidden = {t(f"{KEY}.series_gate"): view.pre_activation, t(f"{KEY}.series_up"): view.up,
              t(f"{KEY}.series_product"): view.hidden} if view.kind == "swiglu" else {
        t(f"{KEY}.series_pre"): view.pre_activation, t(f"{KEY}.series_hidden"): view.hidden}
    axis, curve = t(f"{KEY}.index_axis"), lab.activation_of(view.kind)
    left, right = st.columns(2)
    left.plotly_chart(cached_figure(figures.vector_bars, {t(f"{KEY}.series_input"): view.input}, x_title=axis,
                                    title=t(f"{KEY}.input_title", n=len(view.input))), key=f"{KEY}_input_chart")
    right.plotly_chart(cached_figure(figures.vector_bars, {t(f"{KEY}.series_output"): view.output}, x_title=axis,
                                     title=t(f"{KEY}.output_title")), key=f"{KEY}_output_chart")
    left, right = st.columns([3, 2])
    left.plotly_chart(cached_figure(figures.vector_bars, hidden, x_title=axis, height=340,
                                    title=t(f"{KEY}.hidden_title_{view.kind}", n=view.n_hidden)),
                      key=f"{KEY}_hidden_chart")
    right.plotly_chart(cached_figure(figures.activation_plot, lab.activation_curves(), curve, view.pre_activation,
                                     title=t(f"{KEY}.curves_title", curve=curve), points_name=t(f"{KEY}.points_name")),
                       key=f"{KEY}_curves_chart")
    st.caption(t(f"{KEY}.firing", share=view.firing_share, n=view.n_hidden, token=visible_whitespace(token)))


@st.fragment
def ffn_section(style, ids, tokens, position, layer, text):
    st.subheader(t(f"{KEY}.ffn_title"))
    st.markdown(t(f"{KEY}.ffn_explain"))
    user = user_model_picker(KEY, kinds=("causal",))
    loaded = st.session_state.get(f"{KEY}_user_model_loaded")
    found = user_ffn(loaded, text, 0, 0) if user is not None else None
    if user is not None and found is None:
        st.warning(t(f"{KEY}.user_no_ffn", spec=escape_markdown(user.spec)))
    if found is None:
        return ffn_figures(ffn_view(style, tuple(ids), position, layer), tokens[position])
    left, right = st.columns(2)
    with left:
        user_position = token_picker(t(f"{KEY}.token_pick"), f"{KEY}_user_token", found[1], len(found[1]) - 1)
    user_layer = right.selectbox(t(f"{KEY}.layer"), range(user.n_layers), key=f"{KEY}_user_layer", bind="query-params",
                                 format_func=lambda i: str(i + 1))
    st.caption(t(f"{KEY}.user_showing", spec=escape_markdown(user.spec)))
    view, user_tokens = user_ffn(loaded, text, user_position, user_layer)
    ffn_figures(view, user_tokens[user_position])


@st.fragment
def proof_section(style, bundle, ids, tokens, position, layer):
    st.subheader(t(f"{KEY}.proof_title"))
    st.markdown(t(f"{KEY}.proof_explain"))
    left, right = st.columns(2)
    with left:
        changed = token_picker(t(f"{KEY}.change_position"), f"{KEY}_change", tokens, min(1, len(tokens) - 1))
    with right:
        word = capped_text(t(f"{KEY}.replacement"), DEFAULT_REPLACEMENT, f"{KEY}_replacement", area=False,
                           max_chars=40, help=t(f"{KEY}.replacement_help"))
    replacement = encode_in_place(tokens, changed, word, bundle.encode)
    if not replacement or replacement[0] == ids[changed]:
        st.info(t(f"{KEY}.same_token"))
        return
    result = proof(style, tuple(ids), changed, replacement[0], layer)
    labels = unique_labels([chart_label(token, 10) for token in tokens])
    st.plotly_chart(cached_figure(
        figures.proof_bars, labels, {t(f"{KEY}.series_attention"): result.attention_delta,
                                     t(f"{KEY}.series_ffn"): result.ffn_delta}, changed,
        title=t(f"{KEY}.proof_chart", layer=layer + 1, token=bundle.token_strings(replacement[:1])[0]),
        y_title=t(f"{KEY}.delta_axis"), changed_text=t(f"{KEY}.changed_marker")), key=f"{KEY}_proof_chart")
    if result.ffn_elsewhere == 0.0:
        st.success(t(f"{KEY}.proof_holds", n=len(ids) - 1, attention=result.attention_after),
                   icon=":material/verified:")
    else:
        st.error(t(f"{KEY}.proof_fails", value=result.ffn_elsewhere))


def params_section():
    st.subheader(t(f"{KEY}.params_title"))
    st.markdown(t(f"{KEY}.params_explain"))
    table = shares(tuple(t(f"{KEY}.model_{style}") for style in STYLES))
    names = list(table)
    parts = {t(f"{KEY}.part_{part}"): [table[name][part] for name in names]
             for part in ("embeddings", "attention", "ffn", "norms")}
    st.plotly_chart(cached_figure(figures.share_bars, names, parts, title=t(f"{KEY}.shares_title"),
                                  x_title=t(f"{KEY}.share_axis")), key=f"{KEY}_shares_chart")
    st.caption(t(f"{KEY}.ffn_share", shares=", ".join(
        t(f"{KEY}.ffn_share_item", model=name, share=table[name]["block_ffn_share"], ffn=table[name]["block_ffn"],
          attention=table[name]["block_attention"]) for name in names)))


def lens_section(style, bundle, ids, tokens, position):
    st.subheader(t(f"{KEY}.lens_title"))
    st.markdown(t(f"{KEY}.lens_explain"))
    view = lens(style, tuple(ids), position)
    stages = [t(f"{KEY}.stage_embeddings")] + [t(f"{KEY}.stage_block", n=i + 1) for i in range(len(view.ffn_update))]
    top_tokens = [[chart_label(token, 10) for token in bundle.token_strings(row.tolist())] for row in view.top_ids]
    final = visible_whitespace(bundle.token_strings([view.final_id])[0])
    left, right = st.columns([3, 2])
    left.plotly_chart(cached_figure(figures.lens_grid, stages, top_tokens, view.top_probs,
                                    title=t(f"{KEY}.lens_grid_title", token=visible_whitespace(tokens[position])),
                                    rank_title=t(f"{KEY}.rank_axis")), key=f"{KEY}_lens_chart")
    right.plotly_chart(cached_figure(figures.lens_track, stages, view.final_prob, view.final_rank,
                                     title=t(f"{KEY}.track_title", token=final), prob_name=t(f"{KEY}.prob_name"),
                                     rank_name=t(f"{KEY}.rank_name")), key=f"{KEY}_track_chart")
    st.caption(t(f"{KEY}.lens_exact", delta=view.last_layer_gap))
    st.plotly_chart(cached_figure(figures.update_bars, stages[1:], {t(f"{KEY}.series_attention"): view.attention_update,
                                                                   t(f"{KEY}.series_ffn"): view.ffn_update},
                                  title=t(f"{KEY}.updates_title"), y_title=t(f"{KEY}.updates_axis")),
                    key=f"{KEY}_updates_chart")
    st.caption(t(f"{KEY}.updates_note_{style}"))


@st.fragment
def token_and_layer(style, bundle, ids, tokens, text):
    """The token and block pickers with the three sections they feed: moving them leaves the parameter
    shares and the mixture of experts below as they are."""
    left, right = st.columns(2)
    with left:
        token = token_picker(t(f"{KEY}.token_pick"), f"{KEY}_token", tokens, len(tokens) - 1)
    layer = right.selectbox(t(f"{KEY}.layer"), range(bundle.config.n_layer), key=f"{KEY}_layer", bind="query-params",
                            format_func=lambda i: str(i + 1))
    ffn_section(style, ids, tokens, token, layer, text)
    proof_section(style, bundle, ids, tokens, token, layer)
    lens_section(style, bundle, ids, tokens, token)


page_header(KEY)
style = st.radio(t(f"{KEY}.model"), STYLES, index=1, key=f"{KEY}_model", bind="query-params", horizontal=True,
                 format_func=option_labels(f"{KEY}.model_"))
text = capped_text(t(f"{KEY}.prompt_label"), DEFAULT_PROMPT, f"{KEY}_prompt", area=False, max_chars=500)
try:
    model_bundle = load_tiny_gpt(style)
except FileNotFoundError:
    model_bundle = None
    st.error(t(f"{KEY}.model_missing"))
if model_bundle is not None:
    prompt_ids = model_bundle.encode(text)
    if len(prompt_ids) > lab.MAX_TOKENS:
        st.warning(t(f"{KEY}.too_many_tokens", n=lab.MAX_TOKENS, total=len(prompt_ids)))
        prompt_ids = prompt_ids[: lab.MAX_TOKENS]
    prompt_tokens = model_bundle.token_strings(prompt_ids)
    if not prompt_ids:
        st.info(t(f"{KEY}.no_tokens"))
    else:
        token_chips(prompt_tokens, prompt_ids)
        token_and_layer(style, model_bundle, prompt_ids, prompt_tokens, text)
    params_section()
    moe_section(load_tiny_gpt("2024"), text)
what_to_notice(KEY)
next_page_link(KEY)
