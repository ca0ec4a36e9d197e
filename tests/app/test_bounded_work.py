"""Caps on explicit long runs show themselves: the sparse page's FlexAttention timing stops at its
time budget (a cold compile per length took a minute on a busy 2-core CPU) and says which lengths
were left for the next press, in both languages."""

from __future__ import annotations

import time

from components.i18n import translate
from tests.app.conftest import open_page


def test_sparse_flex_timing_past_its_budget_says_so(monkeypatch, lang):
    from models import sparse, sparse_lab

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
