"""Caps on explicit long runs show themselves: the sparse page's FlexAttention timing stops at its
time budget (a cold compile per length took a minute on a busy 2-core CPU) and says which lengths
were left for the next press, in both languages."""

from __future__ import annotations

import time

import pytest

from components.i18n import translate
from tests.app.conftest import open_page


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """These tests swap in fake corpora and kernels: nothing they cached may reach later tests."""
    import streamlit as st

    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_sparse_flex_timing_past_its_budget_says_so(monkeypatch, lang):
    from models.core import sparse
    from models.labs import sparse as sparse_lab

    monkeypatch.setattr(sparse, "flex_available", lambda device="cpu": True)
    monkeypatch.setattr(sparse, "flex_block_mask", lambda mask, block_size=128: None)
    monkeypatch.setattr(sparse, "flex_attention", lambda q, k, v, block_mask=None: time.sleep(0.01) or q)
    monkeypatch.setattr(sparse_lab, "FLEX_BUDGET_S", 0.005)  # the first length (30 ms) is timed, then no more
    at = open_page("app_pages/sparse.py", lang)
    at.checkbox(key="sparse_with_flex").check().run()
    at.button(key="sparse_timing_button").click().run()
    assert not at.exception
    lengths = ", ".join(map(str, sparse_lab.TIMING_LENGTHS_CPU[1:]))
    expected = translate("sparse.flex_capped", lang, lengths=lengths, seconds=0.005)
    assert expected in [info.value for info in at.info]


def test_word2vec_training_past_its_budget_trains_fewer_epochs_and_says_so(monkeypatch, tmp_path, lang):
    from models.text import word2vec
    from models.text.embedding_space import tokenize_words

    sentences = [tokenize_words("the cat sat on the mat and the dog sat on the log")] * 50
    monkeypatch.setattr(word2vec, "corpus_sentences", lambda cache_dir=None: sentences)
    monkeypatch.setattr(word2vec, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(word2vec, "MAX_TRAINING_WORK", 3.0)  # three default epochs
    at = open_page("app_pages/embeddings.py", lang)
    at.slider(key="embeddings_epochs").set_value(20)
    at.button(key="embeddings_train").click().run()
    assert not at.exception
    assert translate("embeddings.epochs_capped", lang, asked=20, n=3) in [w.value for w in at.warning]
    assert at.session_state["embeddings_params"][3] == 3
    assert any(path.name.endswith("-e3-m5-s0.npz") for path in tmp_path.iterdir())  # what was trained
