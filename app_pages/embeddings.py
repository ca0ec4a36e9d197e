"""Word embeddings: word2vec trained here beside MiniLM's token table; neighbours, analogies, axes, context."""

from dataclasses import astuple

import pandas as pd
import streamlit as st

from components.figures.embeddings import axis_strip, projection_scatter, similarity_bars
from components.figure_cache import cached_figure
from components.figures.shared import heatmap, lines
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.settings import current_seed
from components.text import capped_text, chart_label, escape_markdown, unique_labels
from models.text.embedding_space import (
    analogy, attribute_axis, nearest_neighbours, nearest_neighbours_of_many, pca, sentence_vectors,
    static_word_similarity, table_space, tokenize_words,
)
from models.text.word2vec import (
    ARCHITECTURES, Word2VecParams, cached_on_disk, cached_quality_scores, train_word2vec, within_budget,
)

KEY = "embeddings"
SPACES = ("word2vec", "minilm")
GROUPS = {
    "animals": "dog horse cow lion bird fish sheep wolf bear elephant",
    "countries": "france germany china japan india russia italy spain egypt canada",
    "numbers": "one two three four five six seven eight nine ten",
    "royalty": "king queen prince princess emperor kingdom crown royal duke monarch",
    "fruit": "apple orange banana grape lemon fruit wine sugar coffee tea",
}
AXES = {  # preset: (left pole, right pole, words to place)
    "animal_fruit": ("dog horse cow lion sheep", "apple orange banana grape fruit", "wolf bear pig wine coffee rice"),
    "small_big": ("small tiny little", "big large huge", "mouse ant village elephant whale city"),
    "man_woman": ("man he his boy father", "woman she her girl mother", "king queen prince princess actor actress"),
}
DEFAULT_SENTENCES = ("The dog chased the horse across the field.\nA wolf attacked the sheep near the farm.\n"
                     "Stock markets fell sharply today.\nShares dropped on the exchange.")
BANK_SENTENCES = ("We walked along the bank of the river.\nThe boat drifted toward the muddy bank.\n"
                  "Fish hid near the grassy bank of the stream.\nShe deposited her money at the bank.\n"
                  "The bank raised its interest rates.\nHe asked the bank for a loan.")
MAX_WORDS = 20
MAX_SENTENCES = 8
MAX_CONTEXT_TOKENS = 64
MAP_NEIGHBOURS_OF = 60  # the map adds neighbours of its first 60 words


@st.cache_resource(max_entries=6, show_spinner=False)
def word2vec_model(params: tuple):
    trained = train_word2vec(Word2VecParams(*params))
    trained.space.unit  # noqa: B018 - normalised once here and kept with the cached model
    return trained


@st.cache_resource(show_spinner=False)
def minilm_space():
    """Whole-word space of MiniLM's token-embedding table, read from its files (no transformers)."""
    from models.pretrained.minilm import read_embedding_table, read_vocab

    space = table_space(read_embedding_table(), {piece: i for i, piece in enumerate(read_vocab())}, name="minilm")
    space.unit  # noqa: B018 - normalised once here and kept with the cached space
    return space


@st.cache_resource(show_spinner=False)
def minilm_encoder():
    """MiniLM's encoder for the contextual section (plain torch over the bundled weights)."""
    from models.pretrained.minilm import load_bert_encoder

    return load_bert_encoder()


def space_for(name: str, params: tuple):
    return word2vec_model(params).space if name == "word2vec" else minilm_space()


@st.cache_data(max_entries=16, show_spinner=False)
def scores(name: str, params: tuple):
    key = Word2VecParams(*params).cache_name().removesuffix(".npz") if name == "word2vec" else "minilm-table"
    return cached_quality_scores(space_for(name, params), key)


@st.cache_data(max_entries=64, show_spinner=False)
def projection(name: str, params: tuple, groups: tuple, own_words: tuple, neighbours: int, dims: int):
    space = space_for(name, params)
    words, group_of, missing = [], [], []
    for group, text in enumerate([GROUPS[g] for g in groups] + [" ".join(own_words)]):
        known, unknown = space.split_known(text.split())
        missing += unknown
        for word in known:
            if word not in words:
                words.append(word)
                group_of.append(group)
    for found in nearest_neighbours_of_many(space, words[:MAP_NEIGHBOURS_OF], neighbours):
        for near, _ in found:
            if near not in words:
                words.append(near)
                group_of.append(len(groups) + 1)
    result = pca(space.vectors[[space.index[w] for w in words]], dims) if words else None
    return words, group_of, result, missing


@st.cache_data(max_entries=64, show_spinner=False)
def sentence_states(sentence: str):
    """MiniLM's token spans and hidden states for one sentence: editing one line reruns only that line."""
    return minilm_encoder().offsets_and_states(sentence, max_tokens=MAX_CONTEXT_TOKENS)


@st.cache_data(max_entries=16, show_spinner=False)
def contextual(sentences: tuple, word: str):
    from models.text.embedding_space import contextual_word_vectors

    return contextual_word_vectors(sentence_states, list(sentences), word)


@st.cache_data(max_entries=64, show_spinner=False)
def neighbours_of(name: str, params: tuple, word: str, k: int):
    return nearest_neighbours(space_for(name, params), word, k)


@st.cache_data(max_entries=64, show_spinner=False)
def analogies(name: str, params: tuple, a: str, b: str, c: str):
    return analogy(space_for(name, params), a, b, c, k=8)


def quoted(words) -> str:
    return ", ".join(escape_markdown(w) for w in words)


def training():
    st.subheader(t(f"{KEY}.train_title"))
    st.markdown(t(f"{KEY}.train_explain"))
    with st.form(f"{KEY}_train_form"):
        size, window, architecture, epochs, min_count = st.columns(5)
        vector_size = size.select_slider(t(f"{KEY}.vector_size"), [25, 50, 100, 200, 300], 100, key=f"{KEY}_vector_size")
        window = window.slider(t(f"{KEY}.window"), 1, 10, 5, key=f"{KEY}_window", help=t(f"{KEY}.window_help"))
        architecture = architecture.radio(t(f"{KEY}.architecture"), ARCHITECTURES, key=f"{KEY}_architecture",
                                          format_func=option_labels(f"{KEY}.architecture_"),
                                          help=t(f"{KEY}.architecture_help"))
        epochs = epochs.slider(t(f"{KEY}.epochs"), 1, 20, 5, key=f"{KEY}_epochs")
        min_count = min_count.slider(t(f"{KEY}.min_count"), 1, 50, 5, key=f"{KEY}_min_count",
                                     help=t(f"{KEY}.min_count_help"))
        if st.form_submit_button(t(f"{KEY}.train_button"), key=f"{KEY}_train", type="primary"):
            asked = Word2VecParams(vector_size, window, architecture, epochs, min_count, current_seed())
            allowed = within_budget(asked)
            if allowed != asked:
                st.warning(t(f"{KEY}.epochs_capped", asked=asked.epochs, n=allowed.epochs), icon=":material/timer:")
            st.session_state[f"{KEY}_params"] = astuple(allowed)
    params = st.session_state.setdefault(f"{KEY}_params", astuple(Word2VecParams(seed=current_seed())))
    if not cached_on_disk(Word2VecParams(*params)):
        bar = st.progress(0.0, text=t(f"{KEY}.training"))
        train_word2vec(Word2VecParams(*params), progress=lambda f: bar.progress(min(f, 1.0), text=t(f"{KEY}.training")))
        bar.empty()
    model = word2vec_model(params)
    p = model.params
    st.caption(t(f"{KEY}.trained_facts", words=len(model.space.words), corpus=model.corpus_words,
                 seconds=model.train_seconds, architecture=t(f"{KEY}.architecture_{p.architecture}"),
                 size=p.vector_size, window=p.window, epochs=p.epochs, min_count=p.min_count))
    return params


def quality_table(params):
    st.subheader(t(f"{KEY}.scores_title"))
    st.markdown(t(f"{KEY}.scores_explain"))
    rows = []
    for name in SPACES:
        space, score = space_for(name, params), scores(name, params)
        rows.append({
            t(f"{KEY}.col_space"): t(f"{KEY}.space_{name}"),
            t(f"{KEY}.col_vocabulary"): len(space.words),
            t(f"{KEY}.col_dimensions"): space.dimension,
            t(f"{KEY}.col_wordsim"): round(score.wordsim.spearman, 3),
            t(f"{KEY}.col_wordsim_coverage"): f"{score.wordsim.coverage:.0%}",
            t(f"{KEY}.col_simlex"): round(score.simlex.spearman, 3),
            t(f"{KEY}.col_simlex_coverage"): f"{score.simlex.coverage:.0%}",
            t(f"{KEY}.col_analogy"): f"{score.analogies.accuracy:.1%}",
            t(f"{KEY}.col_analogy_coverage"): f"{score.analogies.coverage:.0%}",
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{KEY}_scores_table")


@st.fragment
def projection_section(name, params):
    st.subheader(t(f"{KEY}.projection_title"))
    st.markdown(t(f"{KEY}.projection_explain"))
    controls, chart = st.columns([1, 3])
    with controls:
        groups = st.multiselect(t(f"{KEY}.groups"), list(GROUPS), default=list(GROUPS), key=f"{KEY}_groups",
                                format_func=option_labels(f"{KEY}.group_"))
        own = capped_text(t(f"{KEY}.own_words"), "", f"{KEY}_own_words", area=False, max_chars=300,
                          help=t(f"{KEY}.own_words_help"))
        neighbours = st.slider(t(f"{KEY}.add_neighbours"), 0, 5, 0, key=f"{KEY}_neighbours")
        dims = st.radio(t(f"{KEY}.dimensions"), (2, 3), horizontal=True, key=f"{KEY}_dims",
                        format_func=option_labels(f"{KEY}.dims_"))
    own_words = tuple(dict.fromkeys(tokenize_words(own)))[:MAX_WORDS]
    words, group_of, result, missing = projection(name, params, tuple(groups), own_words, neighbours, dims)
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


def first_word(label, default, key):
    words = tokenize_words(capped_text(label, default, key, area=False, max_chars=100))
    return words[0] if words else None


@st.fragment
def neighbours_section(name, params):
    space = space_for(name, params)
    left, right = st.columns(2)
    with left:
        st.subheader(t(f"{KEY}.neighbours_title"))
        word = first_word(t(f"{KEY}.neighbour_word"), "france", f"{KEY}_neighbour_word")
        k = st.slider(t(f"{KEY}.neighbour_count"), 3, 20, 8, key=f"{KEY}_neighbour_count")
        found = neighbours_of(name, params, word, k) if word else []
        if word is None:
            st.info(t(f"{KEY}.no_word"))
        elif not found:
            st.warning(t(f"{KEY}.out_of_vocabulary", word=escape_markdown(word)))
        else:
            st.plotly_chart(cached_figure(similarity_bars, words=[chart_label(w) for w, _ in found],
                                          scores=[s for _, s in found], x_title=t(f"{KEY}.cosine")),
                            key=f"{KEY}_neighbours_chart")
    with right:
        st.subheader(t(f"{KEY}.analogy_title"))
        st.markdown(t(f"{KEY}.analogy_explain"))
        a, b, c = st.columns(3)
        with a:
            first = first_word(t(f"{KEY}.analogy_a"), "king", f"{KEY}_analogy_a")
        with b:
            second = first_word(t(f"{KEY}.analogy_b"), "man", f"{KEY}_analogy_b")
        with c:
            third = first_word(t(f"{KEY}.analogy_c"), "woman", f"{KEY}_analogy_c")
        if None in (first, second, third):
            st.info(t(f"{KEY}.no_word"))
            return
        _, missing = space.split_known([first, second, third])
        if missing:
            st.warning(t(f"{KEY}.out_of_vocabulary", word=quoted(missing)))
            return
        answers = analogies(name, params, first, second, third)
        st.plotly_chart(cached_figure(similarity_bars, words=[chart_label(w) for w, _ in answers],
                                      scores=[s for _, s in answers], x_title=t(f"{KEY}.cosine"), colour="#2a9d8f"),
                        key=f"{KEY}_analogy_chart")


def set_axis_preset():
    left, right, words = AXES[st.session_state[f"{KEY}_axis_preset"]]
    st.session_state[f"{KEY}_axis_left"], st.session_state[f"{KEY}_axis_right"] = left, right
    st.session_state[f"{KEY}_axis_words"] = words


@st.fragment
def axis_section(name, params):
    st.subheader(t(f"{KEY}.axis_title"))
    st.markdown(t(f"{KEY}.axis_explain"))
    preset = st.selectbox(t(f"{KEY}.axis_preset"), list(AXES), key=f"{KEY}_axis_preset", on_change=set_axis_preset,
                          format_func=option_labels(f"{KEY}.axis_"))
    left_words, right_words, words = AXES[preset]
    columns = st.columns(3)
    with columns[0]:
        left = tokenize_words(capped_text(t(f"{KEY}.axis_left"), left_words, f"{KEY}_axis_left", area=False, max_chars=300))
    with columns[1]:
        right = tokenize_words(capped_text(t(f"{KEY}.axis_right"), right_words, f"{KEY}_axis_right", area=False, max_chars=300))
    with columns[2]:
        placed = tokenize_words(capped_text(t(f"{KEY}.axis_words"), words, f"{KEY}_axis_words", area=False, max_chars=300))
    left, right, placed = left[:MAX_WORDS], right[:MAX_WORDS], placed[:MAX_WORDS]
    result = attribute_axis(space_for(name, params), left, right, placed)
    if result is None:
        st.info(t(f"{KEY}.axis_no_pole"))
        return
    if result.missing:
        st.caption(t(f"{KEY}.missing_words", words=quoted(result.missing)))
    labels = [chart_label(w) for w in result.left_used + result.right_used + result.words]
    kinds = [0] * len(result.left_used) + [1] * len(result.right_used) + [2] * len(result.words)
    kind_names = [t(f"{KEY}.axis_left_row"), t(f"{KEY}.axis_right_row"), t(f"{KEY}.axis_words_row")]
    positions = [*result.left_positions, *result.right_positions, *result.positions]
    st.plotly_chart(cached_figure(axis_strip, positions=positions, labels=labels, kinds=kinds, kind_names=kind_names,
                                  left_name=chart_label(" ".join(result.left_used), 40, show_whitespace=False),
                                  right_name=chart_label(" ".join(result.right_used), 40, show_whitespace=False),
                                  x_title=t(f"{KEY}.axis_position")), key=f"{KEY}_axis_chart")


@st.fragment
def sentences_section(name, params):
    st.subheader(t(f"{KEY}.sentences_title"))
    st.markdown(t(f"{KEY}.sentences_explain"))
    text = capped_text(t(f"{KEY}.sentences_label"), DEFAULT_SENTENCES, f"{KEY}_sentences", max_chars=2000)
    sentences = [line.strip() for line in text.splitlines() if line.strip()][:MAX_SENTENCES]
    if not sentences:
        st.info(t("common.empty_text"))
        return
    result = sentence_vectors(space_for(name, params), sentences)
    for number, (used, missing) in enumerate(zip(result.used, result.missing), start=1):
        if not used:
            st.caption(t(f"{KEY}.sentence_no_known", n=number))
        elif missing:
            st.caption(t(f"{KEY}.sentence_missing", n=number, words=quoted(missing[:12])))
    labels = unique_labels([f"S{i + 1}: {chart_label(s, 26, show_whitespace=False)}" for i, s in enumerate(sentences)])
    short = [f"S{i + 1}" for i in range(len(sentences))]
    st.plotly_chart(cached_figure(heatmap, values=result.similarity, x_labels=short, y_labels=labels,
                                  colorscale="Viridis", hover_name=t(f"{KEY}.cosine")), key=f"{KEY}_sentences_chart")


@st.fragment
def context_section(params):
    st.subheader(t(f"{KEY}.context_title"))
    st.markdown(t(f"{KEY}.context_explain"))
    text_column, word_column = st.columns([3, 1])
    with text_column:
        text = capped_text(t(f"{KEY}.context_sentences"), BANK_SENTENCES, f"{KEY}_context_sentences", max_chars=2000)
    with word_column:
        word = first_word(t(f"{KEY}.context_word"), "bank", f"{KEY}_context_word")
    sentences = tuple(line.strip() for line in text.splitlines() if line.strip())[:MAX_SENTENCES]
    if word is None:
        st.info(t(f"{KEY}.no_word"))
        return
    result = contextual(sentences, word)
    if len(result.sentences) < 2:
        st.info(t(f"{KEY}.context_too_few", word=escape_markdown(word)))
        return
    if result.skipped:
        st.caption(t(f"{KEY}.context_skipped", n=len(result.skipped), word=escape_markdown(word)))
    layers = result.similarity.shape[0] - 1
    layer = st.slider(t(f"{KEY}.layer"), 0, layers, layers, key=f"{KEY}_layer", help=t(f"{KEY}.layer_help"))
    labels = unique_labels([f"S{i + 1}: {chart_label(s, 22, show_whitespace=False)}" for i, s in enumerate(result.sentences)])
    short = [f"S{i + 1}" for i in range(len(result.sentences))]
    static, contextual_column = st.columns(2)
    with static:
        matrix = static_word_similarity(space_for("word2vec", params), list(result.sentences), word)
        if matrix is None:
            st.warning(t(f"{KEY}.out_of_vocabulary", word=escape_markdown(word)))
        else:
            st.plotly_chart(cached_figure(heatmap, values=matrix, x_labels=short, y_labels=labels, zmin=0, zmax=1,
                                          colorscale="Viridis", title=t(f"{KEY}.context_static_title"),
                                          hover_name=t(f"{KEY}.cosine")), key=f"{KEY}_static_chart")
    with contextual_column:
        st.plotly_chart(cached_figure(heatmap, values=result.similarity[layer], x_labels=short, y_labels=labels,
                                      zmin=0, zmax=1, colorscale="Viridis",
                                      title=t(f"{KEY}.context_layer_title", layer=layer),
                                      hover_name=t(f"{KEY}.cosine")), key=f"{KEY}_contextual_chart")
    series = {t(f"{KEY}.context_mean"): result.mean_by_layer, t(f"{KEY}.context_lowest"): result.lowest_by_layer}
    st.plotly_chart(cached_figure(lines, x=list(range(layers + 1)), series=series, x_title=t(f"{KEY}.layer"),
                                  y_title=t(f"{KEY}.cosine"), height=280), key=f"{KEY}_context_lines")


page_header(KEY)
trained_params = training()
quality_table(trained_params)
st.divider()
space_name = st.radio(t(f"{KEY}.space"), SPACES, horizontal=True, key=f"{KEY}_space",
                      format_func=option_labels(f"{KEY}.space_"), help=t(f"{KEY}.space_help"))
projection_section(space_name, trained_params)
neighbours_section(space_name, trained_params)
axis_section(space_name, trained_params)
sentences_section(space_name, trained_params)
st.divider()
context_section(trained_params)
what_to_notice(KEY)
next_page_link(KEY)
