"""Plotly figure builders shared by pages: plain data in, go.Figure out, no Streamlit here.

Labels are passed through ``chart_label`` by the callers that hold user text.
Large matrices are drawn as one heatmap trace; text annotations appear only when
the matrix is small enough to read them. Every figure is built in one
``go.Figure(data=..., layout=...)`` call: Plotly validates each ``update_*`` call on its
own, and that, not the data, was most of what drawing a small chart cost.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

ANNOTATE_MAX_CELLS = 400
GAP_MAX_SIDE = 64  # white lines between cells only while every cell is big enough to tell apart
FONT = dict(family="Inter, Noto Sans SC, sans-serif", size=13)
WEIGHT_SCALE = "Blues"  # attention weights, 0..1
HIGHLIGHT = "#e8590c"  # the one row, token or edit a chart points at
# layout.meta of a drawing whose labels must fit the boxes drawn round them: projector mode
# (components.projector) leaves its text size alone and only makes it taller.
KEEP_TEXT_SIZE = {"projector_font_scale": 1.0}


def titled_layout(title: str, height: int, **extra) -> dict:
    """Layout for a figure built in one ``go.Figure(traces, layout)`` call: title at the top left,
    legend in a row under it; ``extra`` adds to that or replaces it (a margin, a legend elsewhere). One call is
    much faster than several ``update_*`` calls."""
    return dict(
        dict(title=dict(text=title, x=0.0, xanchor="left", y=0.98, yref="container", yanchor="top"),
             margin=dict(l=10, r=10, t=86, b=10), font=FONT, height=height,
             legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", xanchor="left")),
        **extra,
    )


def _layout(title: str | None, height: int | None, **extra) -> dict:
    """Title at the top left (or none), small margins, the app's font; ``extra`` adds axes and such."""
    return dict(
        title=dict(text=title, x=0.0, xanchor="left") if title else None,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        font=FONT,
        height=height,
        **extra,
    )


def _axis_title(text: str | None) -> dict | None:
    return dict(text=text) if text is not None else None


def figure_spec(fig: go.Figure) -> dict:
    """The figure as the plain dict Plotly built and validated: cheap to keep in ``st.cache_data``.

    The default template (most of the dict; no builder here sets another) is left out: a figure
    built from the dict gets it back.
    """
    spec = fig.to_dict()
    spec["layout"].pop("template", None)
    return spec


def figure_from_spec(spec: dict) -> go.Figure:
    """A figure again from ``figure_spec``'s dict, without validating it a second time: it was
    validated when it was first built, and that check costs more than the rest of drawing it."""
    return go.Figure(spec, _validate=False)


def heatmap(
    values,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
    colorscale: str = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    zmid: float | None = None,
    value_format: str = ".2f",
    hover_name: str = "value",
    x_title: str | None = None,
    y_title: str | None = None,
    height: int | None = None,
    annotate: bool | None = None,
    show_scale: bool = True,
) -> go.Figure:
    """A matrix as a heatmap; rows read top to bottom like the matrix is written."""
    matrix = np.asarray(values, dtype=float)
    rows, cols = matrix.shape
    x = list(x_labels) if x_labels is not None else [str(i) for i in range(cols)]
    y = list(y_labels) if y_labels is not None else [str(i) for i in range(rows)]
    if annotate is None:
        annotate = rows * cols <= ANNOTATE_MAX_CELLS
    trace = dict(
        type="heatmap",
        z=matrix,
        x=x,
        y=y,
        colorscale=colorscale,
        zmin=zmin,
        zmax=zmax,
        zmid=zmid,
        hovertemplate=f"%{{y}} → %{{x}}<br>{hover_name}: %{{z:{value_format}}}<extra></extra>",
        texttemplate=f"%{{z:{value_format}}}" if annotate else None,
        xgap=cell_gap(matrix.shape),
        ygap=cell_gap(matrix.shape),
        showscale=show_scale,
    )
    return go.Figure(data=[trace], layout=_layout(
        title, height or max(220, min(700, 30 * rows + 120)),
        yaxis=dict(autorange="reversed", title=_axis_title(y_title), type="category"),
        xaxis=dict(title=_axis_title(x_title), type="category", side="top" if rows > 1 else "bottom"),
    ))


def bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str | None = None,
    value_format: str = ".3f",
    y_title: str | None = None,
    height: int | None = 320,
    horizontal: bool = False,
) -> go.Figure:
    """Grouped bars, one trace per named series."""
    if horizontal:
        traces = [dict(type="bar", y=list(labels), x=list(values), name=name, orientation="h",
                       hovertemplate=f"%{{y}}: %{{x:{value_format}}}<extra>{name}</extra>")
                  for name, values in series.items()]
        axes = dict(yaxis=dict(type="category", autorange="reversed"), xaxis=dict(title=_axis_title(y_title)))
    else:
        traces = [dict(type="bar", x=list(labels), y=list(values), name=name,
                       hovertemplate=f"%{{x}}: %{{y:{value_format}}}<extra>{name}</extra>")
                  for name, values in series.items()]
        axes = dict(xaxis=dict(type="category"), yaxis=dict(title=_axis_title(y_title)))
    return go.Figure(data=traces, layout=_layout(
        title, height, barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom"), **axes))


def lines(
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    *,
    title: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    log_y: bool = False,
    height: int | None = 340,
) -> go.Figure:
    """Line chart, one trace per named series sharing the same x."""
    traces = [dict(type="scatter", x=list(x), y=list(values), mode="lines+markers", name=name)
              for name, values in series.items()]
    return go.Figure(data=traces, layout=_layout(
        title, height, xaxis=dict(title=_axis_title(x_title)),
        yaxis=dict(title=_axis_title(y_title), type="log" if log_y else "linear"),
        legend=dict(orientation="h", y=1.02, yanchor="bottom")))


def timeline(years: Sequence[int], labels: Sequence[str], details: Sequence[str], *,
             height: int = 300) -> go.Figure:
    """Milestones evenly spaced (years as tick labels), labels alternating above and below."""
    positions = list(range(len(years)))
    levels = [1 if i % 2 == 0 else -1 for i in positions]
    axis_line = dict(type="scatter", x=positions, y=[0] * len(years), mode="lines",
                     line=dict(color="#9aa5b1", width=2), hoverinfo="skip", showlegend=False)
    milestones = dict(
        type="scatter", x=positions, y=[0.85 * level for level in levels], mode="markers+text", text=list(labels),
        textposition=["top center" if level > 0 else "bottom center" for level in levels],
        marker=dict(size=12, color="#3b6fd8"), customdata=[[y, d] for y, d in zip(years, details)],
        hovertemplate="%{customdata[0]}: %{text}<br>%{customdata[1]}<extra></extra>", showlegend=False,
    )
    stems = [dict(type="line", x0=position, x1=position, y0=0, y1=0.8 * level, line=dict(color="#c3cad3", width=1))
             for position, level in zip(positions, levels)]
    return go.Figure(data=[axis_line, milestones], layout=_layout(
        None, height, shapes=stems, yaxis=dict(visible=False, range=[-1.9, 1.9]),
        xaxis=dict(showgrid=False, zeroline=False, tickvals=positions, ticktext=[str(y) for y in years],
                   range=[-0.6, len(years) - 0.4])))


# -- token-by-token matrices (Q/K/V, masking) ------------------------------------------


def rounded_values(values, decimals: int = 4) -> np.ndarray:
    """Values rounded to ``decimals`` (the hover shows 2 or 3) and kept as float64, whose shortest
    form is what was rounded: 0.0418 travels as 0.0418. As float32 it would be 0.04179999977350235
    wherever a figure is written out as JSON numbers (Streamlit's agent API does, for every figure on
    the page at every rerun): three times the text, twice the time to read and write."""
    return np.round(np.asarray(values, dtype=np.float64), decimals)


def value_limit(values: np.ndarray) -> float:
    peak = float(np.nanmax(np.abs(values))) if values.size else 0.0
    return peak if peak > 0 else 1.0


def title_margin(title: str | None) -> dict:
    return dict(l=10, r=10, t=40 if title else 10, b=10)


def chart_title(text: str | None) -> dict | None:
    return dict(text=text, x=0.0, xanchor="left") if text else None


def cell_gap(shape: tuple[int, ...]) -> int:
    """Pixels of white between a heatmap's cells: 1 for a matrix small enough to read cell by cell,
    0 once either side is longer than ``GAP_MAX_SIDE``. Besides saving tiny cells from being eaten
    by their borders, no gap lets Plotly.js draw the matrix as one image with a pixel per cell; with
    a gap it paints every cell at screen size and encodes the picture as a PNG on every redraw
    (the Q/K/V page's 9 x 384 panels had a row gap: 2.96 s of Chromium CPU per layer press, 2.49 s
    without it and with ``qkv.row_lines`` instead)."""
    return 1 if max(shape) <= GAP_MAX_SIDE else 0


def heatmap_trace(matrix: np.ndarray, x: Sequence[str], y: Sequence[str], *, colorscale, zmin: float, zmax: float,
                   value_format: str, hover_name: str, annotate: bool, show_scale: bool = True,
                   axes: tuple[str, str] = ("x", "y")) -> dict:
    return dict(
        type="heatmap", z=matrix, x=list(x), y=list(y), colorscale=colorscale, zmin=zmin, zmax=zmax,
        xgap=cell_gap(matrix.shape), ygap=cell_gap(matrix.shape),
        showscale=show_scale, xaxis=axes[0], yaxis=axes[1],
        texttemplate=f"%{{z:{value_format}}}" if annotate else None,
        hovertemplate=f"%{{y}} → %{{x}}<br>{hover_name}: %{{z:{value_format}}}<extra></extra>",
    )


def matrix_figure(matrix: np.ndarray, x_labels, y_labels, *, title, colorscale, zmin, zmax, value_format,
                   hover_name, x_title, y_title, height, annotate, show_scale=True, shapes=()) -> go.Figure:
    rows, columns = matrix.shape
    if annotate is None:
        annotate = rows * columns <= ANNOTATE_MAX_CELLS
    trace = heatmap_trace(matrix, x_labels, y_labels, colorscale=colorscale, zmin=zmin, zmax=zmax,
                           value_format=value_format, hover_name=hover_name, annotate=annotate,
                           show_scale=show_scale)
    return go.Figure(data=[trace], layout=dict(
        title=chart_title(title), font=FONT, margin=title_margin(title),
        height=height or max(220, min(700, 30 * rows + 120)),
        xaxis=dict(type="category", title=dict(text=x_title)),
        yaxis=dict(type="category", title=dict(text=y_title), autorange="reversed"),
        shapes=list(shapes),
    ))


def weight_matrix(weights, x_labels: Sequence[str], y_labels: Sequence[str], *, title: str, hover_name: str,
                  x_title: str, y_title: str, highlight_row: int | None = None, height: int | None = None,
                  annotate: bool | None = None) -> go.Figure:
    """Attention weights (queries down, keys across), 0..1; one query row outlined."""
    matrix = rounded_values(weights)
    shapes = []
    if highlight_row is not None:
        shapes.append(dict(type="rect", xref="x", yref="y", x0=-0.5, x1=matrix.shape[1] - 0.5,
                           y0=highlight_row - 0.5, y1=highlight_row + 0.5, line=dict(color=HIGHLIGHT, width=3)))
    return matrix_figure(matrix, x_labels, y_labels, title=title, colorscale=WEIGHT_SCALE, zmin=0, zmax=1,
                          value_format=".2f", hover_name=hover_name, x_title=x_title, y_title=y_title,
                          height=height, annotate=annotate, shapes=shapes)
