"""Figures for the word-embedding page: plain data in, go.Figure out, no Streamlit here.

Labels arrive already made safe by ``chart_label`` in the page. Each figure is built in one
``go.Figure(traces, layout)`` call: plotly validates every ``update_*`` call again, which
costs more than the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import FONT

GROUP_COLOURS = ("#3b6fd8", "#e4572e", "#2a9d8f", "#9c4dcc", "#f4a261", "#6c757d", "#d62f7a", "#8ab17d")


def _layout(title: str | None, height: int, **extra) -> dict:
    layout = dict(
        title=dict(text=title, x=0.0, xanchor="left") if title else None,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        font=FONT,
        height=height,
        legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0.0),
    )
    layout.update(extra)
    return layout


def projection_scatter(coordinates: np.ndarray, labels: Sequence[str], groups: Sequence[int],
                       group_names: Sequence[str], axis_titles: Sequence[str], *, title: str | None = None,
                       height: int = 560) -> go.Figure:
    """Words as labelled points in 2D or 3D, one coloured trace per group (the legend)."""
    coordinates = np.asarray(coordinates, dtype=float)
    dims = coordinates.shape[1]
    traces = []
    for group, name in enumerate(group_names):
        rows = [i for i, g in enumerate(groups) if g == group]
        if not rows:
            continue
        colour = GROUP_COLOURS[group % len(GROUP_COLOURS)]
        common = dict(
            mode="markers+text", name=name, text=[labels[i] for i in rows], textposition="top center",
            marker=dict(color=colour, size=9 if dims == 2 else 5), textfont=dict(color=colour),
            hovertemplate="%{text}<extra>" + name + "</extra>",
        )
        if dims == 3:
            traces.append(go.Scatter3d(x=coordinates[rows, 0], y=coordinates[rows, 1], z=coordinates[rows, 2],
                                       **common))
        else:
            traces.append(go.Scatter(x=coordinates[rows, 0], y=coordinates[rows, 1], **common))
    if dims == 3:
        axes = dict(scene=dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], zaxis_title=axis_titles[2]))
    else:
        axes = dict(xaxis=dict(title=axis_titles[0], zeroline=False), yaxis=dict(title=axis_titles[1], zeroline=False))
    return go.Figure(traces, _layout(title, height, **axes))


def similarity_bars(words: Sequence[str], scores: Sequence[float], *, x_title: str, title: str | None = None,
                    colour: str = "#3b6fd8") -> go.Figure:
    """Horizontal bars, best first, for neighbour or analogy answers."""
    bar = go.Bar(y=list(words), x=list(scores), orientation="h", marker_color=colour,
                 text=[f"{s:.3f}" for s in scores], textposition="auto",
                 hovertemplate="%{y}: %{x:.3f}<extra></extra>")
    return go.Figure(bar, _layout(title, max(220, 26 * len(words) + 90),
                                  yaxis=dict(type="category", autorange="reversed"),
                                  xaxis=dict(title=x_title, range=[min(0.0, min(scores, default=0.0)), 1.0])))


def axis_strip(positions: Sequence[float], labels: Sequence[str], kinds: Sequence[int], kind_names: Sequence[str],
               left_name: str, right_name: str, *, x_title: str, height: int = 340) -> go.Figure:
    """Words placed along one direction; ``kinds`` picks a row and colour (e.g. left pole, right pole, words)."""
    traces = []
    for kind, name in enumerate(kind_names):
        rows = [i for i, k in enumerate(kinds) if k == kind]
        if not rows:
            continue
        colour = GROUP_COLOURS[kind % len(GROUP_COLOURS)]
        # Alternate label positions inside a row so neighbours do not print on top of each other.
        order = sorted(rows, key=lambda i: positions[i])
        text_positions = {i: ("top center" if n % 2 == 0 else "bottom center") for n, i in enumerate(order)}
        traces.append(go.Scatter(x=[positions[i] for i in rows], y=[name] * len(rows), mode="markers+text", name=name,
                                 text=[labels[i] for i in rows], textposition=[text_positions[i] for i in rows],
                                 marker=dict(color=colour, size=11), textfont=dict(color=colour),
                                 hovertemplate="%{text}: %{x:.3f}<extra></extra>"))
    span = max([abs(p) for p in positions] + [0.1]) * 1.15
    zero_line = dict(type="line", x0=0, x1=0, xref="x", y0=0, y1=1, yref="y domain",
                     line=dict(color="#9aa5b1", dash="dot"))
    poles = [dict(x=-span, y=1.12, yref="paper", text="← " + left_name, showarrow=False, xanchor="left"),
             dict(x=span, y=1.12, yref="paper", text=right_name + " →", showarrow=False, xanchor="right")]
    layout = _layout(None, height, showlegend=False, shapes=[zero_line], annotations=poles,
                     xaxis=dict(title=x_title, range=[-span, span], zeroline=False),
                     yaxis=dict(type="category", categoryorder="array", categoryarray=list(kind_names)[::-1]))
    layout["margin"]["t"] = 60
    return go.Figure(traces, layout)
