"""Charts of the translator page: pure builders, data in, ``go.Figure`` out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import bars, heatmap, lines

ATTENTION_SCALE = "Blues"
ROW_PX = 22  # height of one query row
MIN_HEIGHT = 360  # tall enough for the upright y-axis title when only a few rows are written
UPRIGHT_AFTER = 6  # more key columns than this: their labels stand upright
TICK_FONT = dict(size=12)


def length_curves(buckets: Sequence[str], curves: dict[str, Sequence[float | None]], *, x_title: str,
                  y_title: str, trained_up_to: str | None = None, trained_note: str = "") -> go.Figure:
    """One line per model: a held-out score against the source length; the untrained range shaded."""
    fig = lines(list(buckets), {name: list(values) for name, values in curves.items()},
                x_title=x_title, y_title=y_title, height=340)
    if trained_up_to in buckets:
        fig.add_vrect(x0=trained_up_to, x1=buckets[-1], fillcolor="#999", opacity=0.12, line_width=0,
                      annotation_text=trained_note, annotation_position="top left")
    fig.update_xaxes(type="category")
    return fig


def bottleneck_strip(vector: np.ndarray, *, title: str, hover_name: str) -> go.Figure:
    """The single vector the bottleneck GRU hands over, as one row of colour."""
    values = np.asarray(vector, dtype=float)[None, :]
    fig = heatmap(values, [str(i) for i in range(values.shape[1])], [title], colorscale="RdBu", zmid=0.0,
                  zmin=-1.0, zmax=1.0, annotate=False, height=130, hover_name=hover_name, show_scale=False)
    fig.update_xaxes(showticklabels=False)
    return fig


def attention_map(weights: np.ndarray, keys: Sequence[str], queries: Sequence[str], *, x_title: str,
                  y_title: str, hover_name: str) -> go.Figure:
    """Rows are the tokens that ask (queries), columns those that answer (keys); rows sum to 1.

    Every token gets its label (Plotly would otherwise skip some when the axis is crowded): the
    column labels stand upright once there are more than a few, the rows get ROW_PX each.
    """
    height = max(MIN_HEIGHT, min(760, ROW_PX * len(queries) + 150))
    fig = heatmap(weights, list(keys), list(queries), colorscale=ATTENTION_SCALE, zmin=0.0, zmax=1.0,
                  annotate=False, height=height, hover_name=hover_name, x_title=x_title, y_title=y_title,
                  show_scale=False)
    fig.update_xaxes(dtick=1, tickangle=-90 if len(keys) > UPRIGHT_AFTER else 0, tickfont=TICK_FONT, automargin=True)
    fig.update_yaxes(dtick=1, tickfont=TICK_FONT, automargin=True)
    return fig


def candidate_bars(tokens: Sequence[str], probabilities: Sequence[float], *, title: str) -> go.Figure:
    return bars(list(tokens), {title: list(probabilities)}, horizontal=True, height=230, y_title=title)


def head_accuracy(per_head: np.ndarray, *, layer_label: str, head_label: str, hover_name: str) -> go.Figure:
    """Alignment accuracy of every cross-attention head (layers x heads), in percent."""
    matrix = 100 * np.asarray(per_head, dtype=float)
    layers, heads = matrix.shape
    return heatmap(matrix, [f"{head_label} {h + 1}" for h in range(heads)], [f"{layer_label} {l + 1}" for l in range(layers)],
                   colorscale="Greens", zmin=0.0, zmax=100.0, value_format=".0f", hover_name=hover_name,
                   height=80 + 40 * layers, show_scale=False)
