"""Page pieces written once: a selection that survives a changed token list, a run button that keeps
its result and says when it is stale, a progress bar around a long call, a text cut to its first tokens.

Widget state lives in ``st.session_state`` under the keys the page gives, so a page's tests can
still read it there.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

import streamlit as st

from components.i18n import t


def counted_from_one(index: int) -> str:
    """How a layer or head is named on every page: counted from 1 (the glossary's rule)."""
    return str(index + 1)


def keep_in_range(key: str, count: int, default: int) -> None:
    """Before drawing a widget over positions 0..count-1: put ``default`` in its state when the value
    kept there is missing or no longer one of them (the list got shorter)."""
    if st.session_state.get(key) not in range(count):
        st.session_state[key] = default


def keep_selection(key: str, items: tuple[Hashable, ...], default: int) -> None:
    """Like ``keep_in_range`` over the positions of ``items``, and back to ``default`` whenever
    ``items`` (e.g. a sentence's token ids) changed since the last run, so the pick follows the text."""
    if st.session_state.get(f"{key}_for") != items:
        st.session_state[f"{key}_for"] = items
        st.session_state[key] = default
    keep_in_range(key, len(items), default)


def run_button(label: str, key: str, state_key: str, request: Hashable, compute: Callable[[], dict | None],
               where=st, **button) -> dict | None:
    """A button that runs ``compute()`` and keeps what it returns, with the ``request`` it answered,
    in ``st.session_state[state_key]`` (``{"request": ..., **compute()}``; nothing is kept when
    compute returns None). Returns what is kept, with ``"stale": True`` when it answered another
    request than the current one, or None before the first run. The button is drawn in ``where``
    (a column, say); ``button`` holds more ``st.button`` arguments."""
    if where.button(label, key=key, **button):
        outcome = compute()
        st.session_state[state_key] = None if outcome is None else {"request": request, **outcome}
    stored = st.session_state.get(state_key)
    if not stored:
        return None
    return {**stored, "stale": stored["request"] != request}


def metric_row(*metrics: tuple) -> None:
    """One ``st.metric`` per column, side by side: each ``(label, value)`` or ``(label, value, {more
    st.metric arguments})``."""
    for column, (label, value, *more) in zip(st.columns(len(metrics)), metrics):
        column.metric(label, value, **(more[0] if more else {}))


def cut_tokens(model, text: str, limit: int, warning_key: str) -> tuple[list[int], list[str]]:
    """The first ``limit`` token ids of ``text`` and their readable texts (``model`` a
    ``models.pretrained.interface.LanguageModel``); a longer text is cut with the warning
    ``warning_key`` (placeholders ``n`` = limit, ``total``)."""
    ids = model.encode(text)
    if len(ids) > limit:
        st.warning(t(warning_key, n=limit, total=len(ids)))
        ids = ids[:limit]
    return ids, model.token_strings(ids)


@contextmanager
def progress_bar(text: str) -> Iterator:
    """An ``st.progress`` bar at 0 with ``text`` for the length of a long call, removed afterwards."""
    bar = st.progress(0.0, text=text)
    try:
        yield bar
    finally:
        bar.empty()
