"""Numbers as people read them: bytes in binary units, large counts with K / M / B / T."""

from __future__ import annotations


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
