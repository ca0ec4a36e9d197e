"""Figures for sparse attention: masks, a gallery of patterns, reach and timing.

Pure builders: arrays and labels in, ``go.Figure`` out. Positions are numbers (0..T-1), so
the axes stay readable at any length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.figures import FONT

MASK_COLOURS = [[0, "#f1f3f6"], [1, "#3b6fd8"]]
GLOBAL_COLOUR = "#d9480f"


def mask_figure(mask: np.ndarray, *, title: str, x_title: str, y_title: str, hover_yes: str, hover_no: str,
                height: int = 460, highlight_row: int | None = None) -> go.Figure:
    """A (T, T) bool mask: blue where the query (row) may attend to the key (column)."""
    T = mask.shape[0]
    words = np.where(mask, hover_yes, hover_no)
    fig = go.Figure(go.Heatmap(
        z=mask.astype(np.uint8), colorscale=MASK_COLOURS, zmin=0, zmax=1, showscale=False, customdata=words,
        hovertemplate=f"{y_title} %{{y}} → {x_title} %{{x}}<br>%{{customdata}}<extra></extra>",
        xgap=1 if T <= 64 else 0, ygap=1 if T <= 64 else 0,
    ))
    if highlight_row is not None:
        fig.add_shape(type="rect", x0=-0.5, x1=T - 0.5, y0=highlight_row - 0.5, y1=highlight_row + 0.5,
                      line=dict(color=GLOBAL_COLOUR, width=2))
    fig.update_yaxes(autorange="reversed", title=y_title, constrain="domain", scaleanchor="x")
    fig.update_xaxes(title=x_title, side="top", constrain="domain")
    fig.update_layout(title=dict(text=title, x=0, xanchor="left", y=0.995, yanchor="top"), height=height,
                      margin=dict(l=10, r=10, t=80, b=10), font=FONT)
    return fig


def pattern_gallery(patterns: dict[str, np.ndarray], titles: dict[str, str], selected: str | None = None,
                    columns: int = 4) -> go.Figure:
    """Every pattern as a small mask, side by side, at the same settings."""
    names = list(patterns)
    rows = (len(names) + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[titles[n] for n in names],
                        horizontal_spacing=0.03, vertical_spacing=0.09)
    for index, name in enumerate(names):
        fig.add_trace(go.Heatmap(z=patterns[name].astype(np.uint8), colorscale=MASK_COLOURS, zmin=0, zmax=1,
                                 showscale=False, hoverinfo="skip"),
                      row=index // columns + 1, col=index % columns + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed", constrain="domain")
    for annotation, name in zip(fig.layout.annotations, names):
        if name == selected:  # the chosen pattern: its title in bold and in the highlight colour
            annotation.update(text=f"<b>▶ {titles[name]}</b>", font=dict(color=GLOBAL_COLOUR, size=14))
    fig.update_layout(height=230 * rows + 40, margin=dict(l=10, r=10, t=40, b=10), font=FONT)
    return fig


def reach_figure(counts: np.ndarray, query: int, length: int, *, title: str, x_title: str, y_title: str,
                 series_name: str, everything_name: str, causal: bool) -> go.Figure:
    """Tokens one query can draw on after k layers (k = 0..K), against what it could at most."""
    layers = list(range(counts.shape[0]))
    ceiling = query + 1 if causal else length
    fig = go.Figure()
    fig.add_scatter(x=layers, y=counts[:, query].tolist(), mode="lines+markers", name=series_name,
                    line=dict(color="#3b6fd8", width=3))
    fig.add_scatter(x=layers, y=[ceiling] * len(layers), mode="lines", name=everything_name,
                    line=dict(color="#9aa5b1", dash="dash"))
    fig.update_xaxes(title=x_title, dtick=1)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=360, font=FONT,
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=10, r=10, t=50, b=10))
    return fig


def timing_figure(lengths: Sequence[int], series: dict[str, Sequence[float | None]], *, title: str,
                  x_title: str, y_title: str) -> go.Figure:
    """Milliseconds per attention call against sequence length, log-log, one line per method."""
    fig = go.Figure()
    for name, values in series.items():
        points = [(n, v) for n, v in zip(lengths, values) if v is not None]
        if points:
            fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", name=name,
                            hovertemplate=f"{name}<br>{x_title}: %{{x}}<br>{y_title}: %{{y:.2f}}<extra></extra>")
    fig.update_xaxes(title=x_title, type="log", tickvals=list(lengths), ticktext=[str(n) for n in lengths])
    fig.update_yaxes(title=y_title, type="log")
    fig.update_layout(title=dict(text=title, x=0, xanchor="left"), height=380, font=FONT,
                      legend=dict(orientation="h", y=-0.25), margin=dict(l=10, r=10, t=50, b=10))
    return fig
