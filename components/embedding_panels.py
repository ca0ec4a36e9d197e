"""Panels of the Word embeddings page: which space a control reads, the words typed into a box, and the two
sections on a word made whole from its sub-word pieces, on sentences (averaged word vectors) and on context ("bank": one word2vec vector vs MiniLM per layer)."""

import streamlit as st

from components.figure_cache import cached_figure
from components.chips import token_chips
from components.figures.shared import bars, heatmap, lines
from components.i18n import t
from components.layout import section_header
from components.loaders import load_bert_encoder, load_minilm_table_space, load_word2vec
from components.text import capped_text, escape_markdown, numbered_labels
from models.labs.embeddings import (BANK_SENTENCES, DEFAULT_SENTENCES, MAX_CONTEXT_TOKENS, PIECES_OTHERS, PIECES_WORD,
                                   lines_of)
from models.text.embedding_space import (contextual_word_vectors, sentence_vectors, static_word_similarity,
                                         tokenize_words, word_from_pieces)

KEY = "embeddings"


def space_for(name: str, params: tuple):
    return load_word2vec(params).space if name == "word2vec" else load_minilm_table_space()


@st.cache_data(max_entries=64, show_spinner=False)
def sentence_states(sentence: str):
    """MiniLM's token spans and hidden states for one sentence: editing one line reruns only that line."""
    return load_bert_encoder().offsets_and_states(sentence, max_tokens=MAX_CONTEXT_TOKENS)


@st.cache_data(max_entries=16, show_spinner=False)
def contextual(sentences: tuple, word: str):
    return contextual_word_vectors(sentence_states, list(sentences), word)


def similarity_map(values, labels, title):
    """Cosine similarity between sentences S1, S2, ... on a fixed 0..1 scale."""
    return cached_figure(heatmap, values=values, x_labels=[f"S{i + 1}" for i in range(len(labels))], y_labels=labels,
                         zmin=0, zmax=1, colorscale="Viridis", title=title, hover_name=t(f"{KEY}.cosine"))


def quoted(words) -> str:
    return ", ".join(escape_markdown(w) for w in words)


def typed_words(column, label, default, key, max_chars=100):
    """The words typed into a one-line box drawn in ``column``."""
    with column:
        return tokenize_words(capped_text(label, default, key, area=False, max_chars=max_chars))


def first_word(column, label, default, key):
    return (typed_words(column, label, default, key) or [None])[0]


@st.cache_data(max_entries=32, show_spinner=False)
def pieces_average(word: str, others: tuple, layer: int):
    return word_from_pieces(sentence_states, word, list(others), layer)


@st.fragment
def pieces_section():
    """The course's "vocalization": the tokenizer cuts one word into pieces, the encoder gives each piece a
    vector, and their mean stands for the whole word."""
    section_header(KEY, "pieces")
    word_column, others_column = st.columns([1, 2])
    word = first_word(word_column, t(f"{KEY}.pieces_word"), PIECES_WORD, f"{KEY}_pieces_word")
    others = typed_words(others_column, t(f"{KEY}.pieces_others"), PIECES_OTHERS, f"{KEY}_pieces_others")[:8]
    if word is None:
        st.info(t(f"{KEY}.no_word"))
        return
    layers = load_bert_encoder().n_layers
    layer = st.slider(t(f"{KEY}.layer"), 0, layers, layers, key=f"{KEY}_pieces_layer", bind="query-params", help=t(f"{KEY}.layer_help"))
    result = pieces_average(word, tuple(others), layer)
    if result is None:
        st.info(t(f"{KEY}.no_word"))
        return
    token_chips(result.pieces)
    st.markdown(t(f"{KEY}.pieces_counts", word=escape_markdown(word), n=len(result.pieces),
                  dims=result.vector.shape[0]))
    if not result.others:
        st.info(t(f"{KEY}.pieces_no_others"))
        return
    series = {t(f"{KEY}.pieces_mean", word=word): result.word_similarity}
    series.update({t(f"{KEY}.pieces_alone", piece=piece): row
                   for piece, row in zip(result.pieces, result.piece_similarity)})
    st.plotly_chart(cached_figure(bars, labels=result.others, series=series, y_title=t(f"{KEY}.cosine"), height=300),
                    key=f"{KEY}_pieces_chart")
    best = int(result.word_similarity.argmax())
    st.caption(t(f"{KEY}.pieces_closest", word=escape_markdown(word), layer=layer,
                 other=escape_markdown(result.others[best]), cosine=float(result.word_similarity[best])))


@st.fragment
def sentences_section(name, params):
    section_header(KEY, "sentences")
    text = capped_text(t(f"{KEY}.sentences_label"), DEFAULT_SENTENCES, f"{KEY}_sentences", max_chars=2000)
    sentences = lines_of(text)
    if not sentences:
        st.info(t("common.empty_text"))
        return
    result = sentence_vectors(space_for(name, params), sentences)
    for number, (used, missing) in enumerate(zip(result.used, result.missing), start=1):
        if not used:
            st.caption(t(f"{KEY}.sentence_no_known", n=number))
        elif missing:
            st.caption(t(f"{KEY}.sentence_missing", n=number, words=quoted(missing[:12])))
    labels, short = numbered_labels(sentences, 26), [f"S{i + 1}" for i in range(len(sentences))]
    st.plotly_chart(cached_figure(heatmap, values=result.similarity, x_labels=short, y_labels=labels,
                                  colorscale="Viridis", hover_name=t(f"{KEY}.cosine")), key=f"{KEY}_sentences_chart")


@st.fragment
def context_section(params):
    section_header(KEY, "context")
    text_column, word_column = st.columns([3, 1])
    with text_column:
        text = capped_text(t(f"{KEY}.context_sentences"), BANK_SENTENCES, f"{KEY}_context_sentences", max_chars=2000)
    word = first_word(word_column, t(f"{KEY}.context_word"), "bank", f"{KEY}_context_word")
    sentences = tuple(lines_of(text))
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
    layer = st.slider(t(f"{KEY}.layer"), 0, layers, layers, key=f"{KEY}_layer", bind="query-params", help=t(f"{KEY}.layer_help"))
    labels = numbered_labels(result.sentences, 22)
    static, contextual_column = st.columns(2)
    matrix = static_word_similarity(space_for("word2vec", params), list(result.sentences), word)
    if matrix is None:
        static.warning(t(f"{KEY}.out_of_vocabulary", word=escape_markdown(word)))
    else:
        static.plotly_chart(similarity_map(matrix, labels, t(f"{KEY}.context_static_title")), key=f"{KEY}_static_chart")
    contextual_column.plotly_chart(similarity_map(result.similarity[layer], labels,
                                                  t(f"{KEY}.context_layer_title", layer=layer)),
                                   key=f"{KEY}_contextual_chart")
    series = {t(f"{KEY}.context_mean"): result.mean_by_layer, t(f"{KEY}.context_lowest"): result.lowest_by_layer}
    st.plotly_chart(cached_figure(lines, x=list(range(layers + 1)), series=series, x_title=t(f"{KEY}.layer"),
                                  y_title=t(f"{KEY}.cosine"), height=280), key=f"{KEY}_context_lines")
