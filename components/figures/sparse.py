"""Figures for sparse attention: masks, a gallery of patterns, reach and timing.

Pure builders: arrays and labels in, ``go.Figure`` out, each built in one ``go.Figure`` call.
Positions are numbers (0..T-1), so the axes stay readable at any length.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import FONT, cell_gap

MASK_COLOURS = [[0, "#f1f3f6"], [1, "#3b6fd8"]]
GLOBAL_COLOUR = "#d9480f"


def mask_figure(mask: np.ndarray, *, title: str, x_title: str, y_title: str, hover_yes: str, hover_no: str,
                height: int = 460, highlight_row: int | None = None) -> go.Figure:
    """A (T, T) bool mask: blue where the query (row) may attend to the key (column).

    Two traces on the same cells, the kept pairs and the others (each blank where the other is
    drawn), so the hover can name the cell in words without sending a word per cell: at
    T = 256 and in Chinese that came to more than 1 MB.
    """
    T = mask.shape[0]
    gap = cell_gap(mask.shape)
    traces = [dict(type="heatmap", z=np.where(mask == kept, float(kept), np.nan).astype(np.float32),
                   colorscale=MASK_COLOURS, zmin=0, zmax=1, showscale=False, hoverongaps=False,
                   hovertemplate=f"{y_title} %{{y}} → {x_title} %{{x}}<br>{word}<extra></extra>", xgap=gap, ygap=gap)
              for kept, word in ((True, hover_yes), (False, hover_no))]
    shapes = []
    if highlight_row is not None:
        shapes.append(dict(type="rect", x0=-0.5, x1=T - 0.5, y0=highlight_row - 0.5, y1=highlight_row + 0.5,
                           line=dict(color=GLOBAL_COLOUR, width=2)))
    return go.Figure(data=traces, layout=dict(
        shapes=shapes, yaxis=dict(autorange="reversed", title=dict(text=y_title), constrain="domain", scaleanchor="x"),
        xaxis=dict(title=dict(text=x_title), side="top", constrain="domain"),
        title=dict(text=title, x=0, xanchor="left", y=0.995, yanchor="top"), height=height,
        margin=dict(l=10, r=10, t=80, b=10), font=FONT,
    ))


def pattern_gallery(patterns: dict[str, np.ndarray], titles: dict[str, str], selected: str | None = None,
                    columns: int = 4) -> go.Figure:
    """Every pattern as a small mask, side by side, at the same settings.

    Laid out like ``make_subplots(rows, columns)`` with spacing 0.03 across and 0.09 down, but
    built in one call (make_subplots and its per-axis updates cost more than the masks)."""
    names = list(patterns)
    rows = (len(names) + columns - 1) // columns
    gap_x, gap_y = 0.03, 0.09
    width = (1 - gap_x * (columns - 1)) / columns
    height = (1 - gap_y * (rows - 1)) / rows
    axis = dict(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    traces, layout, annotations = [], {}, []
    for index, name in enumerate(names):
        row, column = divmod(index, columns)
        n = index + 1
        suffix = "" if n == 1 else str(n)
        x0, y0 = column * (width + gap_x), (rows - 1 - row) * (height + gap_y)  # rows counted from the bottom
        traces.append(dict(type="heatmap", z=patterns[name].astype(np.uint8), colorscale=MASK_COLOURS, zmin=0,
                           zmax=1, showscale=False, hoverinfo="skip", xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
        layout[f"xaxis{suffix}"] = dict(axis, domain=[x0, x0 + width], anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = dict(axis, domain=[y0, y0 + height], anchor=f"x{suffix}", autorange="reversed")
        chosen = name == selected  # the chosen pattern: its title in bold and in the highlight colour
        annotations.append(dict(
            text=f"<b>▶ {titles[name]}</b>" if chosen else titles[name], x=x0 + width / 2, y=y0 + height,
            xref="paper", yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
            font=dict(color=GLOBAL_COLOUR, size=14) if chosen else dict(size=16)))
    return go.Figure(data=traces, layout=dict(annotations=annotations, height=230 * rows + 40,
                                              margin=dict(l=10, r=10, t=40, b=10), font=FONT, **layout))


def reach_figure(counts: np.ndarray, query: int, length: int, *, title: str, x_title: str, y_title: str,
                 series_name: str, everything_name: str, causal: bool) -> go.Figure:
    """Tokens one query can draw on after k layers (k = 0..K), against what it could at most."""
    layers = list(range(counts.shape[0]))
    ceiling = query + 1 if causal else length
    traces = [
        dict(type="scatter", x=layers, y=counts[:, query].tolist(), mode="lines+markers", name=series_name,
             line=dict(color="#3b6fd8", width=3)),
        dict(type="scatter", x=layers, y=[ceiling] * len(layers), mode="lines", name=everything_name,
             line=dict(color="#9aa5b1", dash="dash")),
    ]
    return go.Figure(data=traces, layout=dict(
        xaxis=dict(title=dict(text=x_title), dtick=1), yaxis=dict(title=dict(text=y_title), rangemode="tozero"),
        title=dict(text=title, x=0, xanchor="left"), height=360, font=FONT,
        legend=dict(orientation="h", y=-0.25), margin=dict(l=10, r=10, t=50, b=10),
    ))


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
