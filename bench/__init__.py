"""Benchmarks of the core: they print tables, they never assert on time.

``python -m bench`` runs all; ``python -m bench decode`` or ``python -m bench sparse`` one.
Results and the machine they came from are kept in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Callable

import torch

from models.core.device import synchronize


def machine_summary(device: torch.device) -> str:
    """One line saying what the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{cpu}, {os.cpu_count()} cores visible"
    return f"{where}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads"


def best_times(runs: dict[str, Callable[[], object]], device: torch.device, repeats: int = 3) -> dict[str, float]:
    """Fastest of ``repeats`` runs of each contender in seconds, after one warm-up each.

    The fastest run is the one least disturbed by other work on a shared machine, and
    the contenders take turns (A, B, A, B, ...) so a change of load hits them alike."""
    for run in runs.values():
        run()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            synchronize(device)
            start = time.perf_counter()
            run()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table, ready to paste into docs/PERFORMANCE.md."""
    def cell(value):
        return f"{value:.3g}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
