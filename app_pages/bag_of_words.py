"""Bag-of-words: sentences become count vectors over a shared vocabulary; order is lost."""

import pandas as pd
import streamlit as st

from components.figure_cache import cached_figure
from components.figures.shared import heatmap
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, what_to_notice
from components.text import capped_text, chart_label, numbered_labels, unique_labels
from models.text.bow import WEIGHTINGS, bag_of_words

KEY = "bag_of_words"
DEFAULT_SENTENCES = "My cat is cute\nMy dog is cute\nThe cat chased the dog\nStocks fell sharply today"
MAX_SENTENCES = 12
MAX_COLUMNS = 60


@st.cache_data(max_entries=64, show_spinner=False)
def compute(sentences: tuple[str, ...], weighting: str, lowercase: bool, strip_punctuation: bool, split_cjk: bool):
    return bag_of_words(list(sentences), weighting, lowercase=lowercase,
                        strip_punctuation=strip_punctuation, split_cjk=split_cjk)


def sentence_labels(sentences):
    return numbered_labels(sentences, 22)


def options():
    weighting = st.radio(t(f"{KEY}.weighting"), WEIGHTINGS, key=f"{KEY}_weighting", bind="query-params",
                         format_func=option_labels(f"{KEY}.weighting_"), help=t(f"{KEY}.weighting_help"))
    lowercase = st.checkbox(t(f"{KEY}.lowercase"), value=True, key=f"{KEY}_lowercase", bind="query-params")
    strip_punctuation = st.checkbox(t(f"{KEY}.strip_punctuation"), value=True, key=f"{KEY}_punctuation", bind="query-params")
    split_cjk = st.checkbox(t(f"{KEY}.split_cjk"), value=True, key=f"{KEY}_split_cjk", bind="query-params",
                            help=t(f"{KEY}.split_cjk_help"))
    return weighting, lowercase, strip_punctuation, split_cjk


def show_vectors(sentences, bow, weighting):
    vocabulary = bow.vocabulary
    columns = list(range(len(vocabulary)))
    if len(columns) > MAX_COLUMNS:
        columns = sorted(sorted(columns, key=lambda i: -bow.counts[:, i].sum())[:MAX_COLUMNS])
        st.caption(t(f"{KEY}.columns_capped", shown=MAX_COLUMNS, total=len(vocabulary)))
    labels = unique_labels([chart_label(vocabulary[i], 14) for i in columns])
    st.plotly_chart(
        cached_figure(heatmap, bow.vectors[:, columns], labels, sentence_labels(sentences),
                      value_format=".0f" if weighting in ("binary", "count") else ".2f",
                      hover_name=t(f"{KEY}.weighting_{weighting}"), colorscale="Blues"),
        key=f"{KEY}_vectors_chart",
    )


def show_vocabulary(bow):
    table = pd.DataFrame({
        t(f"{KEY}.col_id"): range(len(bow.vocabulary)),
        t(f"{KEY}.col_word"): bow.vocabulary,
        t(f"{KEY}.col_sentences"): bow.document_frequency,
        t(f"{KEY}.col_total"): bow.counts.sum(axis=0).astype(int),
    })
    st.dataframe(table, hide_index=True, height=300, key=f"{KEY}_vocabulary_table")


def word_order_demo(settings):
    st.subheader(t(f"{KEY}.order_title"))
    st.markdown(t(f"{KEY}.order_intro"))
    left, right = st.columns(2)
    with left:
        first = capped_text(t(f"{KEY}.order_first"), "dog bites man", f"{KEY}_order_first", area=False, max_chars=300)
    with right:
        second = capped_text(t(f"{KEY}.order_second"), "man bites dog", f"{KEY}_order_second", area=False, max_chars=300)
    pair = compute((first, second), *settings)
    if not pair.vocabulary:
        st.info(t("common.empty_text"))
        return
    st.plotly_chart(
        cached_figure(heatmap, pair.vectors, unique_labels([chart_label(w, 14) for w in pair.vocabulary]),
                      sentence_labels([first, second]), colorscale="Blues", height=200),
        key=f"{KEY}_order_chart",
    )
    identical = bool((pair.vectors[0] == pair.vectors[1]).all())
    metric, verdict = st.columns([1, 3])
    metric.metric(t(f"{KEY}.cosine"), f"{pair.similarity[0, 1]:.3f}")
    with verdict:
        if identical:
            st.success(t(f"{KEY}.order_identical"), icon=":material/equal:")
        else:
            st.warning(t(f"{KEY}.order_different"))


page_header(KEY)
text_column, option_column = st.columns([3, 1])
with option_column:
    settings = options()
with text_column:
    text = capped_text(t(f"{KEY}.sentences_label"), DEFAULT_SENTENCES, f"{KEY}_sentences", height=160,
                       help=t(f"{KEY}.sentences_help"))
sentences = [line.strip() for line in text.splitlines() if line.strip()]
if len(sentences) > MAX_SENTENCES:
    st.warning(t(f"{KEY}.too_many_sentences", n=MAX_SENTENCES, total=len(sentences)))
    sentences = sentences[:MAX_SENTENCES]

bow = compute(tuple(sentences), *settings)
if not bow.vocabulary:
    st.info(t(f"{KEY}.no_words"))
else:
    st.subheader(t(f"{KEY}.vectors_title"))
    st.markdown(t(f"{KEY}.vectors_explain"))
    vector_column, vocabulary_column = st.columns([3, 1])
    with vector_column:
        show_vectors(sentences, bow, settings[0])
    with vocabulary_column:
        show_vocabulary(bow)
    st.subheader(t(f"{KEY}.similarity_title"))
    st.markdown(t(f"{KEY}.similarity_explain"))
    labels = sentence_labels(sentences)
    st.plotly_chart(cached_figure(heatmap, bow.similarity, labels, labels, zmin=0, zmax=1, colorscale="Viridis",
                                  hover_name=t(f"{KEY}.cosine")), key=f"{KEY}_similarity_chart")
word_order_demo(settings)
what_to_notice(KEY)
next_page_link(KEY)
