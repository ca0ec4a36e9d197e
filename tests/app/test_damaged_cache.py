"""A page opened over a damaged disk cache rebuilds it and renders cleanly: no exception, no traceback."""

from __future__ import annotations

import json
import shutil

import pytest

from models.text import tokenization as tk
from tests.app.conftest import open_page


@pytest.mark.timeout(300)
def test_tokenizers_page_over_a_damaged_cache(tmp_path, monkeypatch):
    import streamlit as st

    size = tk.DEFAULT_VOCAB_SIZE
    tk.training_texts(), tk.trained_tokenizer("unigram", size)  # the shared cache, built if missing
    shutil.copy(tk.CACHE_DIR / f"corpus-v{tk.CACHE_VERSION}.json", tmp_path)
    shutil.copy(tk.CACHE_DIR / f"unigram-{size}-v{tk.CACHE_VERSION}.json", tmp_path)
    damaged = tmp_path / f"bpe-{size}-v{tk.CACHE_VERSION}.json"
    damaged.write_bytes(b"\x00\xffnot a tokenizer")
    monkeypatch.setattr(tk, "CACHE_DIR", tmp_path)
    st.cache_data.clear()  # tokenized pieces from earlier tests would hide the disk

    at = open_page("app_pages/tokenizers.py", "en")  # fails on any exception element
    assert at.get("plotly_chart") or at.dataframe
    assert json.loads(damaged.read_text(encoding="utf-8"))["model"]["type"] == "BPE"  # rebuilt in place
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    st.cache_data.clear()  # nothing read from the temporary folder stays for later tests
