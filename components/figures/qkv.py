"""Figures for the Q/K/V page: plain arrays and translated labels in, go.Figure out.

Signed matrices (vectors, weights, Q, K, V) use a diverging scale centred on 0; attention
weights use 0..1. Every caller passes labels already made safe with ``chart_label``.

Each figure is built in one ``go.Figure(data=..., layout=...)`` call: Plotly validates
every ``update_*`` call separately, and with a dozen charts per page that validation,
not the maths, would be what a person waits for.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import (
    ANNOTATE_MAX_CELLS, FONT, GAP_MAX_SIDE, HIGHLIGHT, WEIGHT_SCALE, cell_gap, chart_title, heatmap_trace,
    matrix_figure, rounded_values, title_margin, value_limit,
)

SIGNED_SCALE = "RdBu_r"
SERIES_COLOURS = ("#3b6fd8", "#e8590c", "#2f9e44", "#e03131")


def block_mean(matrix: np.ndarray, factor: int) -> np.ndarray:
    """Mean of every ``factor`` x ``factor`` block of a 2-D matrix (blocks cut by the edge average
    the cells they hold): a (rows, cols) matrix becomes (ceil(rows / f), ceil(cols / f))."""
    matrix = np.asarray(matrix, dtype=float)
    rows, cols = matrix.shape
    out_rows, out_cols = -(-rows // factor), -(-cols // factor)
    padded = np.full((out_rows * factor, out_cols * factor), np.nan)
    padded[:rows, :cols] = matrix
    return np.nanmean(padded.reshape(out_rows, factor, out_cols, factor), axis=(1, 3))


def block_factor(largest_side: int, max_side: int | None) -> int:
    """The block size ``side_by_side`` averages over: 1 when ``largest_side`` fits in ``max_side``."""
    return -(-largest_side // max_side) if max_side and largest_side > max_side else 1


def block_labels(labels: Sequence[str], factor: int) -> list[str]:
    """Axis labels for ``block_mean``'s cells: "first–last" of the labels each block covers."""
    labels = list(labels)
    if factor == 1:
        return labels
    return [f"{labels[i]}–{labels[min(i + factor, len(labels)) - 1]}" for i in range(0, len(labels), factor)]


def row_lines(rows: int, columns: int, x_axis: str) -> dict:
    """One shape, a thin white line between every two rows of a heatmap on ``x_axis``: what a row gap
    showed, for a panel too wide to draw with gaps (``cell_gap``)."""
    path = "".join(f"M-0.5,{row + 0.5}H{columns - 0.5}" for row in range(rows - 1))
    return dict(type="path", path=path, xref=x_axis, yref="y", line=dict(color="white", width=1))


def signed_matrix(values, x_labels: Sequence[str], y_labels: Sequence[str], *, title: str, hover_name: str,
                  group_width: int | None = None, x_title: str | None = None, y_title: str | None = None,
                  height: int | None = None) -> go.Figure:
    """A matrix of signed numbers; thick lines every ``group_width`` columns mark the heads."""
    matrix = rounded_values(values)
    limit = value_limit(matrix)
    columns = matrix.shape[1]
    lines = []
    if group_width and group_width < columns:
        lines = [dict(type="line", xref="x", yref="paper", x0=b - 0.5, x1=b - 0.5, y0=0, y1=1,
                      line=dict(color="#222", width=2)) for b in range(group_width, columns, group_width)]
    return matrix_figure(matrix, x_labels, y_labels, title=title, colorscale=SIGNED_SCALE, zmin=-limit,
                          zmax=limit, value_format=".2f", hover_name=hover_name, x_title=x_title, y_title=y_title,
                          height=height, annotate=None, shapes=lines)


def score_and_weight_bars(keys: Sequence[str], scores: Sequence[float], weights: Sequence[float],
                          allowed: Sequence[bool], *, score_title: str, weight_title: str,
                          masked_text: str) -> go.Figure:
    """Step 1 for one query: raw scores (masked keys shown as -inf) beside the softmax weights."""
    keys = list(keys)
    shown_scores = [float(s) if ok else 0.0 for s, ok in zip(scores, allowed)]
    weights = [float(w) for w in weights]
    low, high = min(shown_scores + [0.0]), max(shown_scores + [0.0])
    pad = 0.25 * (high - low or 1.0)
    score_bars = dict(
        type="bar", x=keys, y=shown_scores, xaxis="x", yaxis="y", showlegend=False,
        marker=dict(color=[SERIES_COLOURS[0] if ok else "#c3cad3" for ok in allowed]),
        text=[f"{s:.2f}" if ok else "−∞" for s, ok in zip(scores, allowed)], textposition="outside",
        customdata=["" if ok else masked_text for ok in allowed],
        hovertemplate="%{x}: %{text} %{customdata}<extra></extra>",
    )
    weight_bars = dict(
        type="bar", x=keys, y=weights, xaxis="x2", yaxis="y2", showlegend=False,
        marker=dict(color=HIGHLIGHT), text=[f"{w:.2f}" for w in weights], textposition="outside",
        hovertemplate="%{x}: %{y:.4f}<extra></extra>",
    )
    titles = [dict(text=text, x=x, xref="paper", y=1.0, yref="paper", xanchor="center", yanchor="bottom",
                   showarrow=False, font=dict(size=14)) for text, x in ((score_title, 0.235), (weight_title, 0.765))]
    return go.Figure(data=[score_bars, weight_bars], layout=dict(
        font=FONT, height=340, margin=dict(l=10, r=10, t=40, b=10), bargap=0.25, annotations=titles,
        xaxis=dict(domain=[0, 0.47], type="category", tickangle=-45),
        xaxis2=dict(domain=[0.53, 1], type="category", tickangle=-45),
        yaxis=dict(range=[low - pad, high + pad]),
        yaxis2=dict(anchor="x2", range=[0, 1.15]),
    ))


def head_grid(weights, labels: Sequence[str], head_titles: Sequence[str], *, hover_name: str,
              columns: int = 4, annotate: bool = False) -> go.Figure:
    """Every head's weight matrix as small multiples on one 0..1 scale."""
    weights = rounded_values(weights)
    n_heads = weights.shape[0]
    columns = min(columns, n_heads)
    rows = -(-n_heads // columns)
    gap_x, gap_y = 0.03, 0.1 / rows
    width = (1 - gap_x * (columns - 1)) / columns
    height = (1 - gap_y * (rows - 1)) / rows
    traces, layout, titles = [], {}, []
    for head in range(n_heads):
        row, column = divmod(head, columns)
        suffix = "" if head == 0 else str(head + 1)
        x0 = column * (width + gap_x)
        y1 = 1 - row * (height + gap_y)
        traces.append(heatmap_trace(weights[head], labels, labels, colorscale=WEIGHT_SCALE, zmin=0, zmax=1,
                                     value_format=".2f", hover_name=hover_name, annotate=annotate,
                                     show_scale=head == 0, axes=(f"x{suffix}", f"y{suffix}")))
        layout[f"xaxis{suffix}"] = dict(domain=[x0, x0 + width], anchor=f"y{suffix}", type="category",
                                        showticklabels=False)
        layout[f"yaxis{suffix}"] = dict(domain=[y1 - height, y1], anchor=f"x{suffix}", type="category",
                                        autorange="reversed", showticklabels=column == 0)
        titles.append(dict(text=head_titles[head], x=x0 + width / 2, y=y1, xref="paper", yref="paper",
                           xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=13)))
    return go.Figure(data=traces, layout=dict(font=FONT, height=max(260, 250 * rows), annotations=titles,
                                              margin=dict(l=10, r=10, t=30, b=10), **layout))


def grouped_bars(labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str | None = None,
                 y_title: str | None = None, value_format: str = ".3f", height: int = 320,
                 y_range: tuple[float, float] | None = None) -> go.Figure:
    """Bars side by side, one colour per named series."""
    traces = [dict(type="bar", x=list(labels), y=[float(v) for v in values], name=name,
                   marker=dict(color=colour), hovertemplate=f"%{{x}}: %{{y:{value_format}}}<extra>{name}</extra>")
              for (name, values), colour in zip(series.items(), SERIES_COLOURS)]
    return go.Figure(data=traces, layout=dict(
        title=chart_title(title), font=FONT, height=height, margin=dict(l=10, r=10, t=60 if title else 30, b=10),
        barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom"),
        xaxis=dict(type="category", tickangle=-45), yaxis=dict(title=dict(text=y_title), range=y_range),
    ))


def side_by_side(panels: Sequence[tuple[str, np.ndarray, Sequence[str]]], y_labels: Sequence[str], *,
                 hover_name: str, group_widths: Sequence[int | None] | None = None, x_title: str | None = None,
                 y_title: str | None = None, height: int | None = None, max_side: int | None = None,
                 block_hover: str | None = None) -> go.Figure:
    """Several signed matrices with the same rows, side by side: red positive, blue negative.

    ``panels`` holds (title, matrix, column labels). Each panel gets its own colour range
    (the 99th percentile of its |values|, so one outlier does not wash out the rest), and a
    colour bar only when there is a single panel; hovering shows every exact value. A panel
    is as wide as its number of columns, but never narrower than a sixth of the total, so a
    matrix with fewer K/V heads looks narrower yet keeps a readable title.
    ``group_widths`` draws a thick line between heads in each panel.

    ``max_side``: when a panel has more rows or columns than this, every panel shows the means
    of f x f blocks instead (f the smallest factor that brings the largest side within it), the
    axes name the rows and columns each block covers, and the hover says ``block_hover``
    (e.g. "block average (2 × 2)") instead of ``hover_name``. A 256 x 256 weight matrix sent
    cell by cell is about 0.7 MB; its 2 x 2 block means a quarter of that.
    """
    widths = [np.shape(matrix)[1] for _, matrix, _ in panels]  # columns before any block means
    largest = max(max(np.shape(matrix)) for _, matrix, _ in panels)
    factor = block_factor(largest, max_side)
    if factor > 1:
        panels = [(title, block_mean(matrix, factor), block_labels(columns, factor))
                  for title, matrix, columns in panels]
        y_labels = block_labels(y_labels, factor)
        hover_name = block_hover or hover_name
    matrices = [rounded_values(matrix) for _, matrix, _ in panels]
    rows = matrices[0].shape[0]
    total_columns = sum(matrix.shape[1] for matrix in matrices)
    annotate = rows * total_columns <= ANNOTATE_MAX_CELLS
    shares = [max(matrix.shape[1], total_columns / 6) for matrix in matrices]
    gap = 0.02 if len(panels) < 4 else 0.03
    usable = 1 - gap * (len(panels) - 1) - (0.0 if len(panels) > 1 else 0.08)
    traces, layout, titles, shapes = [], {}, [], []
    left = 0.0
    for index, ((title, _, columns), matrix, share) in enumerate(zip(panels, matrices, shares)):
        suffix = "" if index == 0 else str(index + 1)
        right = left + usable * share / sum(shares)
        limit = float(np.percentile(np.abs(matrix), 99)) if matrix.size else 0.0
        limit = limit if limit > 0 else value_limit(matrix)
        traces.append(heatmap_trace(matrix, columns, y_labels, colorscale=SIGNED_SCALE, zmin=-limit, zmax=limit,
                                     value_format=".2f", hover_name=hover_name, annotate=annotate,
                                     show_scale=len(panels) == 1, axes=(f"x{suffix}", "y")))
        layout[f"xaxis{suffix}"] = dict(domain=[left, right], anchor="y", type="category",
                                        title=dict(text=x_title),
                                        showticklabels=matrix.shape[1] <= 32 and factor == 1)
        titles.append(dict(text=title, x=(left + right) / 2, y=1.0, xref="paper", yref="paper", xanchor="center",
                           yanchor="bottom", showarrow=False, font=dict(size=14)))
        if 1 < rows <= GAP_MAX_SIDE and not cell_gap(matrix.shape):  # a wide panel, drawn without gaps: still one row per word
            shapes.append(row_lines(rows, matrix.shape[1], f"x{suffix}"))
        width = (group_widths or [None] * len(panels))[index]
        if width and width < widths[index]:  # head boundaries, placed in this panel's (block) cells
            shapes += [dict(type="line", xref=f"x{suffix}", yref="paper", x0=b / factor - 0.5, x1=b / factor - 0.5,
                            y0=0, y1=1, line=dict(color="#222", width=2))
                       for b in range(width, widths[index], width)]
        left = right + gap
    title_lines = max(title.count("<br>") for title, _, _ in panels) + 1
    return go.Figure(data=traces, layout=dict(
        font=FONT, height=height or max(240, min(700, 30 * rows + 130)),
        margin=dict(l=10, r=10, t=20 + 20 * title_lines, b=10), annotations=titles, shapes=shapes,
        yaxis=dict(type="category", autorange="reversed", title=dict(text=y_title)), **layout,
    ))
