"""Bytes and counts as pages show them, in one place: KiB / GiB are powers of 1024, millions are 10^6;
large counts read as K / M / B / T."""

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


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB' (whole bytes below 1 KiB)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024


def format_count(n: float) -> str:
    """8_030_261_248 -> '8.03B'; below a thousand, the number itself."""
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:,.2f}{unit}"
    return f"{n:,.0f}"
