"""Word embeddings: word2vec trained here beside MiniLM's token table; neighbours, analogies, axes, context."""

from dataclasses import astuple

import pandas as pd
import streamlit as st

from components.embedding_panels import (context_section, first_word, pieces_section, quoted, sentences_section, space_for,
                                        typed_words)
from components.figure_cache import cached_figure
from components.figures.embeddings import axis_strip, projection_scatter, similarity_bars
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, section_header, what_to_notice
from components.loaders import load_word2vec
from components.settings import current_seed
from components.text import capped_text, chart_label, escape_markdown
from components.widgets import progress_bar
from models.labs.embeddings import AXES, GROUPS, MAX_WORDS, MEASURES, axis_points, quality_row
from models.text.embedding_space import attribute_axis, tokenize_words
from models.text.word2vec import (
    ARCHITECTURES, Word2VecParams, cached_on_disk, cached_quality_scores, train_word2vec, within_budget,
)

KEY = "embeddings"
SPACES = ("word2vec", "minilm")


@st.cache_data(max_entries=16, show_spinner=False)
def scores(name: str, params: tuple):
    key = Word2VecParams(*params).cache_name().removesuffix(".npz") if name == "word2vec" else "minilm-table"
    return cached_quality_scores(space_for(name, params), key)


@st.cache_data(max_entries=192, show_spinner=False)
def on_space(measure: str, name: str, params: tuple, *args):
    """``MEASURES[measure](space, *args)`` on the chosen space: the map, neighbours, analogies."""
    return MEASURES[measure](space_for(name, params), *args)


def training():
    section_header(KEY, "train")
    with st.form(f"{KEY}_train_form"):
        size, window, architecture, epochs, min_count = st.columns(5)
        vector_size = size.select_slider(t(f"{KEY}.vector_size"), [25, 50, 100, 200, 300], 100, key=f"{KEY}_vector_size", bind="query-params")
        window = window.slider(t(f"{KEY}.window"), 1, 10, 5, key=f"{KEY}_window", bind="query-params", help=t(f"{KEY}.window_help"))
        architecture = architecture.radio(t(f"{KEY}.architecture"), ARCHITECTURES, key=f"{KEY}_architecture", bind="query-params",
                                          format_func=option_labels(f"{KEY}.architecture_"),
                                          help=t(f"{KEY}.architecture_help"))
        epochs = epochs.slider(t(f"{KEY}.epochs"), 1, 20, 5, key=f"{KEY}_epochs", bind="query-params")
        min_count = min_count.slider(t(f"{KEY}.min_count"), 1, 50, 5, key=f"{KEY}_min_count", bind="query-params",
                                     help=t(f"{KEY}.min_count_help"))
        if st.form_submit_button(t(f"{KEY}.train_button"), key=f"{KEY}_train", type="primary"):
            asked = Word2VecParams(vector_size, window, architecture, epochs, min_count, current_seed())
            allowed = within_budget(asked)
            if allowed != asked:
                st.warning(t(f"{KEY}.epochs_capped", asked=asked.epochs, n=allowed.epochs), icon=":material/timer:")
            st.session_state[f"{KEY}_params"] = astuple(allowed)
    params = st.session_state.setdefault(f"{KEY}_params", astuple(Word2VecParams(seed=current_seed())))
    if not cached_on_disk(Word2VecParams(*params)):
        with progress_bar(t(f"{KEY}.training")) as bar:
            train_word2vec(Word2VecParams(*params), progress=lambda f: bar.progress(min(f, 1.0), text=t(f"{KEY}.training")))
    model = load_word2vec(params)
    p = model.params
    st.caption(t(f"{KEY}.trained_facts", words=len(model.space.words), corpus=model.corpus_words,
                 seconds=model.train_seconds, architecture=t(f"{KEY}.architecture_{p.architecture}"),
                 size=p.vector_size, window=p.window, epochs=p.epochs, min_count=p.min_count))
    return params


def quality_table(params):
    section_header(KEY, "scores")
    rows = [{t(f"{KEY}.col_space"): t(f"{KEY}.space_{name}"),
             **{t(f"{KEY}.col_{column}"): value
                for column, value in quality_row(space_for(name, params), scores(name, params)).items()}}
            for name in SPACES]
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{KEY}_scores_table")


@st.fragment
def projection_section(name, params):
    section_header(KEY, "projection")
    controls, chart = st.columns([1, 3])
    with controls:
        groups = st.multiselect(t(f"{KEY}.groups"), list(GROUPS), default=list(GROUPS), key=f"{KEY}_groups", bind="query-params",
                                format_func=option_labels(f"{KEY}.group_"), placeholder=t("common.choose_placeholder"))
        own = capped_text(t(f"{KEY}.own_words"), "", f"{KEY}_own_words", area=False, max_chars=300,
                          help=t(f"{KEY}.own_words_help"))
        neighbours = st.slider(t(f"{KEY}.add_neighbours"), 0, 5, 0, key=f"{KEY}_neighbours", bind="query-params")
        dims = st.radio(t(f"{KEY}.dimensions"), (2, 3), horizontal=True, key=f"{KEY}_dims", bind="query-params",
                        format_func=option_labels(f"{KEY}.dims_"))
    own_words = tuple(dict.fromkeys(tokenize_words(own)))[:MAX_WORDS]
    words, group_of, result, missing = on_space("map", name, params, tuple(groups), own_words, neighbours, dims)
    with chart:
        if missing:
            st.caption(t(f"{KEY}.missing_words", words=quoted(missing)))
        if len(words) < 2:
            st.info(t(f"{KEY}.projection_empty"))
            return
        group_names = [t(f"{KEY}.group_{g}") for g in groups] + [t(f"{KEY}.group_own"), t(f"{KEY}.group_neighbours")]
        axis_titles = [t(f"{KEY}.pc_axis", n=i + 1, share=result.explained[i]) for i in range(dims)]
        st.plotly_chart(cached_figure(projection_scatter, coordinates=result.coordinates,
                                      labels=[chart_label(w) for w in words], groups=group_of,
                                      group_names=group_names, axis_titles=axis_titles),
                        key=f"{KEY}_projection_chart")


@st.fragment
def neighbours_section(name, params):
    space = space_for(name, params)
    left, right = st.columns(2)
    with left:
        st.subheader(t(f"{KEY}.neighbours_title"))
        word = first_word(left, t(f"{KEY}.neighbour_word"), "france", f"{KEY}_neighbour_word")
        k = st.slider(t(f"{KEY}.neighbour_count"), 3, 20, 8, key=f"{KEY}_neighbour_count", bind="query-params")
        found = on_space("neighbours", name, params, word, k) if word else []
        if word is None:
            st.info(t(f"{KEY}.no_word"))
        elif not found:
            st.warning(t(f"{KEY}.out_of_vocabulary", word=escape_markdown(word)))
        else:
            st.plotly_chart(cached_figure(similarity_bars, words=[chart_label(w) for w, _ in found],
                                          scores=[s for _, s in found], x_title=t(f"{KEY}.cosine")),
                            key=f"{KEY}_neighbours_chart")
    with right:
        section_header(KEY, "analogy")
        first, second, third = [first_word(column, t(f"{KEY}.analogy_{key}"), default, f"{KEY}_analogy_{key}")
                                for column, key, default in zip(st.columns(3), "abc", ("king", "man", "woman"))]
        if None in (first, second, third):
            st.info(t(f"{KEY}.no_word"))
            return
        _, missing = space.split_known([first, second, third])
        if missing:
            st.warning(t(f"{KEY}.out_of_vocabulary", word=quoted(missing)))
            return
        answers = on_space("analogy", name, params, first, second, third)
        st.plotly_chart(cached_figure(similarity_bars, words=[chart_label(w) for w, _ in answers],
                                      scores=[s for _, s in answers], x_title=t(f"{KEY}.cosine"), colour="#2a9d8f"),
                        key=f"{KEY}_analogy_chart")


def set_axis_preset():
    left, right, words = AXES[st.session_state[f"{KEY}_axis_preset"]]
    st.session_state[f"{KEY}_axis_left"], st.session_state[f"{KEY}_axis_right"] = left, right
    st.session_state[f"{KEY}_axis_words"] = words


@st.fragment
def axis_section(name, params):
    section_header(KEY, "axis")
    preset = st.selectbox(t(f"{KEY}.axis_preset"), list(AXES), key=f"{KEY}_axis_preset", bind="query-params", on_change=set_axis_preset,
                          format_func=option_labels(f"{KEY}.axis_"))
    left_words, right_words, words = AXES[preset]
    left, right, placed = [typed_words(column, t(f"{KEY}.axis_{key}"), default, f"{KEY}_axis_{key}", 300)[:MAX_WORDS]
                           for column, key, default in zip(st.columns(3), ("left", "right", "words"),
                                                           (left_words, right_words, words))]
    result = attribute_axis(space_for(name, params), left, right, placed)
    if result is None:
        st.info(t(f"{KEY}.axis_no_pole"))
        return
    if result.missing:
        st.caption(t(f"{KEY}.missing_words", words=quoted(result.missing)))
    shown, kinds, positions = axis_points(result)
    kind_names = [t(f"{KEY}.axis_{row}_row") for row in ("left", "right", "words")]
    st.plotly_chart(cached_figure(axis_strip, positions=positions, labels=[chart_label(w) for w in shown], kinds=kinds,
                                  kind_names=kind_names,
                                  left_name=chart_label(" ".join(result.left_used), 40, show_whitespace=False),
                                  right_name=chart_label(" ".join(result.right_used), 40, show_whitespace=False),
                                  x_title=t(f"{KEY}.axis_position")), key=f"{KEY}_axis_chart")


page_header(KEY)
trained_params = training()
quality_table(trained_params)
st.divider()
space_name = st.radio(t(f"{KEY}.space"), SPACES, horizontal=True, key=f"{KEY}_space", bind="query-params",
                      format_func=option_labels(f"{KEY}.space_"), help=t(f"{KEY}.space_help"))
projection_section(space_name, trained_params)
neighbours_section(space_name, trained_params)
axis_section(space_name, trained_params)
sentences_section(space_name, trained_params)
st.divider()
pieces_section()
context_section(trained_params)
what_to_notice(KEY)
next_page_link(KEY)
