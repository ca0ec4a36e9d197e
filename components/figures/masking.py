"""Figures for the Masking page: which cells a mask allows, and how much each position's output moved."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import FONT, HIGHLIGHT, chart_title, matrix_figure

MASK_SCALE = [[0, "#eceff3"], [1, "#3b6fd8"]]


def mask_matrix(allowed, x_labels: Sequence[str], y_labels: Sequence[str], *, title: str, hover_name: str,
                x_title: str, y_title: str, height: int | None = None) -> go.Figure:
    """True / False "may attend" as blue / grey cells, written 1 / 0."""
    return matrix_figure(np.asarray(allowed, dtype=float), x_labels, y_labels, title=title, colorscale=MASK_SCALE,
                          zmin=0, zmax=1, value_format=".0f", hover_name=hover_name, x_title=x_title,
                          y_title=y_title, height=height, annotate=None, show_scale=False)


def delta_bars(positions: Sequence[str], series: dict[str, Sequence[float]], *, title: str, y_title: str,
               first_changed: int | None, changed_text: str) -> go.Figure:
    """Max |change| of each position's output, one bar group per mode.

    The axis is linear so a zero stays visibly zero; each bar is labelled with its exact value.
    """
    colours = ("#2f9e44", "#e03131")
    traces = [dict(type="bar", x=list(positions), y=[float(v) for v in values], name=name,
                   marker=dict(color=colour), textposition="outside",
                   text=["0" if v == 0 else f"{v:.2g}" for v in values],
                   hovertemplate=f"%{{x}}: %{{y:.3e}}<extra>{name}</extra>")
              for (name, values), colour in zip(series.items(), colours)]
    peak = max((float(np.max(v)) for v in series.values() if len(v)), default=0.0) or 1.0
    shapes, notes = [], []
    if first_changed is not None and first_changed < len(positions):
        shapes.append(dict(type="line", xref="x", yref="paper", x0=first_changed - 0.5, x1=first_changed - 0.5,
                           y0=0, y1=1, line=dict(color=HIGHLIGHT, width=2, dash="dash")))
        notes.append(dict(x=first_changed - 0.5, y=1.0, xref="x", yref="paper", text=changed_text, showarrow=False,
                          xanchor="left", yanchor="bottom", font=dict(color=HIGHLIGHT)))
    return go.Figure(data=traces, layout=dict(
        title=chart_title(title), font=FONT, height=380, margin=dict(l=10, r=10, t=80, b=10), barmode="group",
        legend=dict(orientation="h", x=1.0, xanchor="right", y=1.12, yanchor="bottom"), shapes=shapes,
        annotations=notes,
        xaxis=dict(type="category", tickangle=-45), yaxis=dict(title=dict(text=y_title), range=[0, peak * 1.3]),
    ))
