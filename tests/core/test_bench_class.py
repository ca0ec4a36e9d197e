"""The class benchmark's browser student presses only arrow keys that start a rerun; its Chromium can
start at a lower priority (its scheduling group too), and the machine's speed is measured the same way every time."""

import os
import random
import subprocess
from pathlib import Path

import pytest

from bench.bench_app import machine_line, reference_loop_ms
from bench.bench_class import CHROMIUM, arrow_that_moves, niced_chromium


def test_an_arrow_key_is_chosen_only_where_it_moves_the_slider():
    rng = random.Random(0)
    assert {arrow_that_moves([0, 10, 5, 1, False], rng) for _ in range(50)} == {"ArrowLeft", "ArrowRight"}
    assert arrow_that_moves([0, 10, 0, 1, False], rng) == "ArrowRight"
    assert arrow_that_moves([0, 10, 10, 1, False], rng) == "ArrowLeft"
    assert arrow_that_moves([0.0, 1.0, 0.9, 0.3, False], rng) == "ArrowLeft"  # 0.9 + 0.3 would pass the end
    assert arrow_that_moves([0.0, 0.9, 0.9, 0.3, False], rng) == "ArrowLeft"
    assert arrow_that_moves([0.1, 0.2, 0.15, 0.1, False], rng) is None  # less than a step either way
    assert arrow_that_moves([0, 10, 5, 1, True], rng) is None  # disabled, or inside a form
    assert arrow_that_moves([3, 3, 3, 1, False], rng) is None


def test_the_niced_launcher_runs_chromium_at_that_niceness(tmp_path, monkeypatch):
    assert niced_chromium(tmp_path, 0) == CHROMIUM and not list(tmp_path.iterdir())
    monkeypatch.setattr("bench.bench_class.CHROMIUM", "/bin/sh")  # stands in for Chromium: prints its niceness
    launcher = niced_chromium(tmp_path, 7)
    assert os.access(launcher, os.X_OK)
    shown = subprocess.run([launcher, "-c", "nice"], capture_output=True, text=True, check=True).stdout
    assert int(shown) == os.nice(0) + 7


def test_the_launcher_lowers_its_own_scheduling_group_too(tmp_path, monkeypatch):
    if not os.access("/proc/self/autogroup", os.W_OK):
        pytest.skip("this kernel has no writable autogroup")
    own_group = Path("/proc/self/autogroup").read_text()
    monkeypatch.setattr("bench.bench_class.CHROMIUM", "/bin/cat")  # stands in for Chromium: shows its group
    launcher = niced_chromium(tmp_path, 7)
    shown = subprocess.run(["setsid", launcher, "/proc/self/autogroup"], capture_output=True, text=True, check=True).stdout
    assert shown.strip().endswith("nice 7")  # the new session's group, not this one
    assert Path("/proc/self/autogroup").read_text() == own_group  # ours is left as it was


def test_the_reference_loop_is_timed_and_named():
    assert 0 < reference_loop_ms(iterations=10_000, repeats=2) < 1000
    assert "reference loop" in machine_line(speed=True) and "reference loop" not in machine_line()


def test_the_record_keeps_each_request_once_and_reads_its_tables_from_that():
    from bench.bench_class import Record

    record = Record()
    start = record.started
    record.note("s0", "open", "", start, 0.2)
    record.note("s0", "move", "qkv", start + 1, 0.5, "qkv_layer=3")
    record.note("s1", "move", "qkv", start + 2, 0.9, "qkv_head=2")
    record.note("s1", "move", "qkv", start + 3, None, "qkv_head=3 over the wait")  # failed: no timing
    record.note("b0", "open", "qkv", start + 4, 2.0)
    record.note("b0", "move", "qkv", start + 5, 1.0, "ArrowLeft")
    assert record.opens == [("", 0.2)] and record.interactions == [("qkv", 0.5), ("qkv", 0.9)]
    assert record.browser_opens == [("qkv", 2.0)] and record.browser == [("qkv", 1.0)]
    assert record.slowest == {"qkv": (0.9, "qkv_head=2")}  # the agent students' only
    assert [line["at"] for line in record.trace] == [0, 1, 2, 3, 4, 5]
