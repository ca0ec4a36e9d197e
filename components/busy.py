"""Explicit heavy runs (timings, evaluations) take turns: at most one per two CPU cores at once.

A class presses the same "time it" button within seconds. Run side by side, the runs share the
cores: every student waits for all of them, and each run's measured times are inflated by the
others. Queued, each run gets the cores it measures, and a student whose turn has not come sees
a "busy, queued" note with their place instead of a page that seems stuck.

    with heavy_run():
        result = compare_generation(...)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import streamlit as st

from components.i18n import t

SLOTS = max(1, (os.cpu_count() or 2) // 2)
_slots = threading.BoundedSemaphore(SLOTS)
_waiting_lock = threading.Lock()
_waiting = 0


@contextmanager
def take_turn(on_wait: Callable[[int], None] = lambda ahead: None,
              slots: threading.BoundedSemaphore | None = None) -> Iterator[None]:
    """Run the block when a slot is free; if none is, call ``on_wait(runs ahead of this one)`` first."""
    global _waiting
    slots = slots or _slots
    if not slots.acquire(blocking=False):
        with _waiting_lock:
            _waiting += 1
            ahead = _waiting
        on_wait(ahead)
        slots.acquire()
        with _waiting_lock:
            _waiting -= 1
    try:
        yield
    finally:
        slots.release()


@contextmanager
def heavy_run() -> Iterator[None]:
    """``take_turn`` with the queued note drawn in the page while this run waits, removed when it starts."""
    note = st.empty()

    def show(ahead: int) -> None:
        note.info(t("common.busy_queued", n=ahead), icon=":material/hourglass_top:")

    with take_turn(show):
        note.empty()
        yield
