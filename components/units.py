"""Bytes and counts as pages show them, in one place: KiB / GiB are powers of 1024, millions are 10^6."""

from __future__ import annotations

KIB = 1024
GIB = 1024**3
MILLION = 1_000_000


def kib(n_bytes: float) -> float:
    return n_bytes / KIB


def gib(n_bytes: float) -> float:
    return n_bytes / GIB


def millions(count: float) -> float:
    return count / MILLION


def kib_text(n_bytes: float) -> str:
    """``n_bytes`` as "1,234.5 KiB"."""
    return f"{kib(n_bytes):,.1f} KiB"


def count_text(count: int) -> str:
    """A whole number with thousands separators: 12345 -> "12,345"."""
    return f"{count:,}"
