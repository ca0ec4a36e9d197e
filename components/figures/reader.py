"""Figures for the reader page: guesses per view, recipe shares, segment ids, similarities, few-shot curves.

Plain data in, ``go.Figure`` out; labels that hold user text are escaped by the caller
(``components.text.chart_label``). Every figure is built in one ``go.Figure`` call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import titled_layout

COLOURS = ("#3b6fd8", "#e07b39", "#2f9e6e", "#8e6cc9")


def guess_panels(panels: Sequence[tuple[str, Sequence[str], Sequence[float]]], *, title: str, x_title: str,
                 height: int = 300) -> go.Figure:
    """One panel per view (title, guessed pieces, probabilities), best guess on top, shared x axis 0-1."""
    traces, layout_axes = [], {}
    width = 1.0 / len(panels)
    for index, (name, tokens, probabilities) in enumerate(panels):
        suffix = "" if index == 0 else str(index + 1)
        traces.append(dict(type="bar", orientation="h", x=list(probabilities), y=list(tokens),
                           xaxis=f"x{suffix}", yaxis=f"y{suffix}", marker=dict(color=COLOURS[index % len(COLOURS)]),
                           text=[f"{p:.1%}" for p in probabilities], textposition="auto", name=name,
                           hovertemplate="%{y}: %{x:.2%}<extra>" + name + "</extra>", showlegend=False))
        gap = 0.06 if index < len(panels) - 1 else 0.0
        layout_axes[f"xaxis{suffix}"] = dict(domain=[index * width, (index + 1) * width - gap], range=[0, 1],
                                             tickformat=".0%", title=dict(text=x_title))
        layout_axes[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", autorange="reversed", type="category",
                                             automargin=True)
    annotations = [dict(text=f"<b>{name}</b>", x=(index + 0.5) * width, y=1.0, xref="paper", yref="paper",
                        xanchor="center", yanchor="bottom", showarrow=False)
                   for index, (name, _, _) in enumerate(panels)]
    layout = titled_layout(title, height, annotations=annotations, **layout_axes)
    layout["margin"] = dict(l=10, r=10, t=70, b=10)
    return go.Figure(data=traces, layout=layout)


def recipe_shares(names: Sequence[str], measured: Sequence[float], target: Sequence[float], *, title: str,
                  measured_name: str, target_name: str, height: int = 300) -> go.Figure:
    """Measured shares of the masking recipe next to the recipe's own numbers."""
    traces = [dict(type="bar", x=list(names), y=list(values), name=name, marker=dict(color=colour),
                   text=[f"{v:.1%}" for v in values], textposition="outside",
                   hovertemplate="%{x}: %{y:.2%}<extra>" + name + "</extra>")
              for name, values, colour in ((measured_name, measured, COLOURS[0]), (target_name, target, "#c3cad3"))]
    return go.Figure(data=traces, layout=titled_layout(
        title, height, barmode="group", yaxis=dict(tickformat=".0%", range=[0, 1.05]), xaxis=dict(type="category")))


def input_rows(tokens: Sequence[str], rows: dict[str, Sequence[int]], *, title: str, height: int = 230) -> go.Figure:
    """What the reader adds up per token: one heatmap row per id kind (segment, position), the number in each cell."""
    names = list(rows)
    matrix = np.array([rows[name] for name in names], dtype=float)
    scaled = matrix / np.maximum(matrix.max(1, keepdims=True), 1)  # colour by the row's own range
    trace = dict(type="heatmap", z=scaled, x=list(tokens), y=names, customdata=matrix.astype(int),
                 text=matrix.astype(int), texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1.6,
                 showscale=False, xgap=1, ygap=1, hovertemplate="%{x} · %{y}: %{customdata}<extra></extra>")
    layout = titled_layout(title, height, xaxis=dict(type="category", side="top", title=None),
                           yaxis=dict(type="category"))
    layout["margin"] = dict(l=10, r=10, t=90, b=10)  # room for the token labels above the rows
    return go.Figure(data=[trace], layout=layout)


def similarity_histograms(series: dict[str, Sequence[float]], *, title: str, x_title: str, y_title: str,
                          marker: float | None = None, marker_text: str = "", height: int = 320) -> go.Figure:
    """Overlaid histograms of cosine similarities, one per named group; an optional dashed line."""
    traces = [dict(type="histogram", x=list(values), name=name, opacity=0.65, xbins=dict(start=-0.2, end=1.0, size=0.05),
                   marker=dict(color=COLOURS[index % len(COLOURS)]),
                   hovertemplate="%{x}: %{y}<extra>" + name + "</extra>")
              for index, (name, values) in enumerate(series.items())]
    shapes, annotations = [], []
    if marker is not None:
        shapes.append(dict(type="line", x0=marker, x1=marker, y0=0, y1=1, yref="paper",
                           line=dict(color="#333", dash="dash")))
        annotations.append(dict(x=marker, y=1, yref="paper", text=marker_text, showarrow=False,
                                xanchor="left", yanchor="top"))
    return go.Figure(data=traces, layout=titled_layout(
        title, height, barmode="overlay", shapes=shapes, annotations=annotations,
        xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title))))


def few_shot_lines(sizes: Sequence[int], scores: dict[str, np.ndarray], *, title: str, x_title: str, y_title: str,
                   chance: float, chance_text: str, height: int = 340) -> go.Figure:
    """Mean held-out accuracy per examples-per-label, with the lowest and highest seed as error bars."""
    traces = []
    for index, (name, values) in enumerate(scores.items()):
        mean = values.mean(0)
        traces.append(dict(type="scatter", mode="lines+markers", x=list(sizes), y=mean.tolist(), name=name,
                           line=dict(color=COLOURS[index % len(COLOURS)]),
                           error_y=dict(type="data", symmetric=False, array=(values.max(0) - mean).tolist(),
                                        arrayminus=(mean - values.min(0)).tolist()),
                           hovertemplate="%{x}: %{y:.1%}<extra>" + name + "</extra>"))
    shapes = [dict(type="line", x0=0, x1=1, xref="paper", y0=chance, y1=chance, line=dict(color="#999", dash="dot"))]
    annotations = [dict(x=1, xref="paper", y=chance, text=chance_text, showarrow=False, xanchor="right", yanchor="bottom")]
    return go.Figure(data=traces, layout=titled_layout(
        title, height, shapes=shapes, annotations=annotations,
        xaxis=dict(title=dict(text=x_title), type="log", tickvals=list(sizes), ticktext=[str(s) for s in sizes]),
        yaxis=dict(title=dict(text=y_title), tickformat=".0%", range=[0, 1.05])))
