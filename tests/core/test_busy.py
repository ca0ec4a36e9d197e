"""Explicit heavy runs take turns (components/busy.py): a run that finds every slot taken waits, is
told how many are waiting, and starts by itself when a slot is released; a free slot means no note."""

from __future__ import annotations

import threading
import time

from components import busy


def test_a_run_waits_for_a_free_slot_and_is_told_its_place():
    slots = threading.BoundedSemaphore(1)
    order, told = [], []
    slots.acquire()  # someone else's run

    def second():
        with busy.take_turn(told.append, slots=slots):
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    deadline = time.monotonic() + 10
    while not told and time.monotonic() < deadline:
        time.sleep(0.01)
    assert told == [1] and order == []  # queued, first in line, not started
    order.append("first done")
    slots.release()
    thread.join(timeout=10)
    assert order == ["first done", "second"]
    assert slots.acquire(blocking=False)  # the waiting run gave its slot back


def test_a_free_slot_runs_at_once_without_a_note():
    slots = threading.BoundedSemaphore(2)
    told = []
    with busy.take_turn(told.append, slots=slots):
        with busy.take_turn(told.append, slots=slots):
            pass
    assert told == []


def script_with_a_heavy_run():
    import streamlit as st

    from components.busy import heavy_run

    with heavy_run():
        st.write("the run happened")


def test_a_page_queued_behind_another_run_shows_the_note_then_runs():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(script_with_a_heavy_run, default_timeout=60)
    for _ in range(busy.SLOTS):
        busy._slots.acquire()
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("app", app.run()))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while busy._waiting == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert busy._waiting == 1  # the page is waiting for a slot (its note is drawn)
    finally:
        for _ in range(busy.SLOTS):
            busy._slots.release()
    thread.join(timeout=60)
    assert not app.exception
    assert [element.value for element in app.markdown] == ["the run happened"]
    assert not app.info  # the note went when the run started
