"""Figures of the KV-cache page: plain data in, go.Figure out, each built in one go.Figure call."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from components.figures.shared import titled_layout
from components.units import kib

WITH_COLOUR = "#2f9e44"
WITHOUT_COLOUR = "#d9480f"
VARIANT_COLOURS = ("#d9480f", "#3b6fd8", "#2f9e44")


def timing_lines(positions: Sequence[int], with_cache: Sequence[float], without_cache: Sequence[float], *,
                 title: str, with_name: str, without_name: str, x_title: str, y_title: str,
                 height: int = 360) -> go.Figure:
    """Two runs against the context length: per-token latency or cumulative time (seconds in, ms drawn)."""
    traces = [
        go.Scatter(x=list(positions), y=[1000 * s for s in values], mode="lines", name=name,
                   line=dict(color=colour, width=2),
                   hovertemplate=f"{x_title}: %{{x}}<br>{name}: %{{y:.2f}}<extra></extra>")
        for values, name, colour in ((without_cache, without_name, WITHOUT_COLOUR),
                                     (with_cache, with_name, WITH_COLOUR))
    ]
    return go.Figure(traces, titled_layout(title, height, xaxis=dict(title=x_title),
                                     yaxis=dict(title=y_title, rangemode="tozero")))


def cache_bytes_line(positions: Sequence[int], cache_bytes: Sequence[int], *, title: str, x_title: str,
                     y_title: str, height: int = 360) -> go.Figure:
    """K/V memory held after each step (bytes in, KiB drawn)."""
    trace = go.Scatter(x=list(positions), y=[kib(b) for b in cache_bytes], mode="lines", fill="tozeroy",
                       line=dict(color=WITH_COLOUR, width=2), showlegend=False,
                       hovertemplate=f"{x_title}: %{{x}}<br>{y_title}: %{{y:,.1f}}<extra></extra>")
    return go.Figure([trace], titled_layout(title, height, xaxis=dict(title=x_title),
                                      yaxis=dict(title=y_title, rangemode="tozero")))


def variant_bars(models: Sequence[str], series: dict[str, Sequence[float]], *, title: str, y_title: str,
                 log_y: bool = False, value_format: str = ",.1f", height: int = 420) -> go.Figure:
    """One group per model, one bar per attention variant (MHA / GQA / MQA)."""
    traces = [
        go.Bar(x=list(models), y=list(values), name=name, marker_color=colour,
               hovertemplate=f"%{{x}}<br>{name}: %{{y:{value_format}}}<extra></extra>")
        for (name, values), colour in zip(series.items(), VARIANT_COLOURS)
    ]
    y_axis = dict(title=y_title, type="log", dtick=1) if log_y else dict(title=y_title, type="linear")
    return go.Figure(traces, titled_layout(title, height, barmode="group", xaxis=dict(type="category"), yaxis=y_axis))
