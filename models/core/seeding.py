"""Seeded work on torch's global random generator, safe when several sessions run at once.

Building a model draws its initial weights from torch's one global generator. Two sessions that
seed it and build at the same time would interleave their draws and get weights that depend on
timing. ``seeded(seed)`` holds a lock for the whole block and runs it on a forked copy of the
generator: inside, the numbers are exactly those ``torch.manual_seed(seed)`` gives; outside, the
global generator is left as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_LOCK = threading.RLock()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    with _LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
