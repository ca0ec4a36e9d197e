"""Overview: the whole pipeline on the bundled tiny GPT, the history, and the three families."""

import streamlit as st

from components.chips import token_chips
from components.figures.shared import bars, figure_from_spec, figure_spec, heatmap, timeline
from components.i18n import current_language, t, translate
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_tiny_gpt
from components.settings import current_seed
from components.text import capped_text, chart_label, unique_labels

KEY = "overview"
MILESTONES = (  # (year, locale suffix)
    (1954, "bow"),
    (2013, "word2vec"),
    (2014, "seq2seq"),
    (2017, "transformer"),
    (2018, "bert_gpt1"),
    (2019, "gpt2"),
    (2020, "gpt3"),
    (2024, "llama3"),
)
FAMILIES = ("encoder", "decoder", "encoder_decoder")
STYLE = "2024"
DEFAULT_PROMPT = "The history of"
TOP_TOKENS = 10
EMBEDDING_COLUMNS = 48


@st.cache_data(max_entries=256, show_spinner=False)
def pipeline_view(ids: tuple[int, ...]):
    from models.labs.overview import next_token_view

    return next_token_view(load_tiny_gpt(STYLE).model, list(ids), top=TOP_TOKENS)


def append_token(ids: list[int], greedy: bool) -> None:
    from models.labs.overview import choose_next_token

    added = st.session_state[f"{KEY}_added"]
    token = choose_next_token(load_tiny_gpt(STYLE).model, ids, greedy=greedy, seed=current_seed() + len(added))
    added.append(token)


def prompt_ids(bundle) -> list[int]:
    """The prompt's ids plus the tokens added with the buttons; a new prompt starts over."""
    prompt = capped_text(t(f"{KEY}.prompt_label"), DEFAULT_PROMPT, f"{KEY}_prompt", area=False, max_chars=300)
    if st.session_state.get(f"{KEY}_prompt_seen") != prompt:
        st.session_state[f"{KEY}_prompt_seen"] = prompt
        st.session_state[f"{KEY}_added"] = []
    return bundle.encode(prompt) + st.session_state[f"{KEY}_added"]


@st.cache_data(max_entries=256, show_spinner=False)
def step_figures(ids: tuple[int, ...], lang: str) -> tuple[dict, dict, dict]:
    """The three pipeline charts (input vectors, block updates, next-token candidates) for these ids,
    built once per prompt and language."""
    bundle = load_tiny_gpt(STYLE)
    config, view = bundle.config, pipeline_view(ids)
    labels = unique_labels([chart_label(piece, 12) for piece in bundle.token_strings(list(ids))])
    embeddings = heatmap(view.embeddings[:, :EMBEDDING_COLUMNS], None, labels, colorscale="RdBu", zmid=0.0,
                         annotate=False, height=60 + 24 * len(ids), show_scale=False,
                         x_title=translate(f"{KEY}.dimensions", lang, n=EMBEDDING_COLUMNS, width=config.n_embd))
    block_labels = [translate(f"{KEY}.block_label", lang, i=i + 1) for i in range(config.n_layer)]
    blocks = heatmap(view.update_norms.T, block_labels, labels, colorscale="Oranges", annotate=False,
                     hover_name=translate(f"{KEY}.update_size", lang), height=60 + 24 * len(ids))
    candidates = unique_labels([chart_label(piece, 16) for piece in bundle.token_strings(view.top_ids)])
    probability = translate(f"{KEY}.probability", lang)
    next_token = bars(candidates, {probability: view.top_probs}, horizontal=True, height=330, y_title=probability)
    return figure_spec(embeddings), figure_spec(blocks), figure_spec(next_token)


def show_steps(bundle, ids: list[int]) -> None:
    config = bundle.config
    view = pipeline_view(tuple(ids))
    embeddings, blocks, next_token = step_figures(tuple(ids), current_language())
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t(f'{KEY}.step_tokens')}**  \n{t(f'{KEY}.step_tokens_text')}")
        token_chips(bundle.token_strings(ids), ids)
        st.markdown(f"**{t(f'{KEY}.step_embeddings')}**  \n"
                    f"{t(f'{KEY}.step_embeddings_text', width=config.n_embd)}")
        st.plotly_chart(figure_from_spec(embeddings), key=f"{KEY}_embeddings_chart")
    with right:
        st.markdown(f"**{t(f'{KEY}.step_blocks', n=config.n_layer)}**  \n{t(f'{KEY}.step_blocks_text')}")
        st.plotly_chart(figure_from_spec(blocks), key=f"{KEY}_blocks_chart")
        st.markdown(f"**{t(f'{KEY}.step_head')}**  \n{t(f'{KEY}.step_head_text', vocab=view.total_vocab)}")
        st.plotly_chart(figure_from_spec(next_token), key=f"{KEY}_next_chart")


@st.fragment
def show_pipeline():
    st.subheader(t(f"{KEY}.pipeline_title"))
    bundle = load_tiny_gpt(STYLE)
    config = bundle.config
    st.caption(t(f"{KEY}.model_caption", name=t(f"{KEY}.model_name"), params=bundle.parameter_count,
                 layers=config.n_layer, heads=config.n_head, width=config.n_embd))
    ids = prompt_ids(bundle)
    if not ids:
        st.info(t("common.empty_text"))
        return
    if len(ids) > config.block_size:
        st.warning(t(f"{KEY}.tokens_capped", total=len(ids), n=config.block_size))
        ids = ids[-config.block_size:]
    show_steps(bundle, ids)
    added = st.session_state[f"{KEY}_added"]
    greedy, sampled, reset = st.columns([1, 1, 1])
    greedy.button(t(f"{KEY}.add_greedy"), key=f"{KEY}_add_greedy", icon=":material/add:",
                  on_click=append_token, args=(ids, True))
    sampled.button(t(f"{KEY}.add_sampled"), key=f"{KEY}_add_sampled", icon=":material/casino:",
                   on_click=append_token, args=(ids, False))
    reset.button(t(f"{KEY}.reset"), key=f"{KEY}_reset", icon=":material/restart_alt:", disabled=not added,
                 on_click=added.clear)
    st.markdown(t(f"{KEY}.generated", n=len(added)))
    st.code(bundle.decode(ids), language=None, wrap_lines=True)
    st.caption(t(f"{KEY}.loop_explain"))


@st.cache_data(max_entries=4, show_spinner=False)
def timeline_figure(lang: str) -> dict:
    """The history chart: the same for every visitor, built once per language."""
    return figure_spec(timeline([year for year, _ in MILESTONES],
                                [translate(f"{KEY}.milestone_{name}", lang) for _, name in MILESTONES],
                                [translate(f"{KEY}.milestone_{name}_detail", lang) for _, name in MILESTONES]))


@st.cache_data(max_entries=4, show_spinner=False)
def family_figures(lang: str) -> dict[str, dict]:
    """Who may attend to whom in each family, one chart each, built once per language."""
    from models.labs.overview import family_attention_views

    views = family_attention_views(n_source=5, n_target=4)
    return {family: figure_spec(heatmap(
        views[family].allowed.astype(float), views[family].key_labels, views[family].query_labels, zmin=0, zmax=1,
        colorscale=[[0, "#f1f3f6"], [1, "#3b6fd8"]], annotate=False, height=260, show_scale=False,
        hover_name=translate(f"{KEY}.may_attend", lang), value_format=".0f",
        x_title=translate(f"{KEY}.keys_axis", lang), y_title=translate(f"{KEY}.queries_axis", lang)))
        for family in FAMILIES}


def show_timeline():
    st.subheader(t(f"{KEY}.timeline_title"))
    st.plotly_chart(figure_from_spec(timeline_figure(current_language())), key=f"{KEY}_timeline_chart")
    half = (len(MILESTONES) + 1) // 2  # every milestone's detail in words too: a projector or a touch screen cannot hover
    for column, milestones in zip(st.columns(2), (MILESTONES[:half], MILESTONES[half:])):
        column.markdown("\n".join(f"- **{year} · {t(f'{KEY}.milestone_{name}')}**: {t(f'{KEY}.milestone_{name}_detail')}"
                                   for year, name in milestones))


def show_families():
    st.subheader(t(f"{KEY}.families_title"))
    st.markdown(t(f"{KEY}.families_intro"))
    figures = family_figures(current_language())
    for column, family in zip(st.columns(3), FAMILIES):
        with column, st.container(border=True):
            st.markdown(f"**{t(f'{KEY}.family_{family}')}**")
            st.markdown(t(f"{KEY}.family_{family}_text"))
            st.plotly_chart(figure_from_spec(figures[family]), key=f"{KEY}_family_{family}_chart")
            if family == "encoder_decoder":
                st.page_link("app_pages/translator.py", label=t(f"{KEY}.family_encoder_decoder_link"),
                             icon=":material/translate:")


page_header(KEY)
pipeline_area = st.container()
show_timeline()  # needs no model: drawn first, so the browser draws it while the model loads
with pipeline_area:
    show_pipeline()
show_families()
what_to_notice(KEY)
next_page_link(KEY)
