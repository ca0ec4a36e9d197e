"""Figures of the 2017 vs 2024 block page: plain data in, go.Figure out, no Streamlit here.

The block diagrams are drawn with plotly shapes and annotations (boxes, arrows, residual
paths), so the text comes from the locale files and any changed part can be outlined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import FONT, KEEP_TEXT_SIZE

BOX_WIDTH = 0.74
BOX_HEIGHT = 0.56
TALL_BOX_HEIGHT = 0.8  # attention and FFN: room for three lines of text
TALL_PARTS = ("attention", "ffn")
ADD_RADIUS = 0.17
COLUMN_CENTRES = (0.55, 1.75)
FILL = {"embedding": "#eceff3", "positions": "#e9e2f7", "norm": "#fff2c2", "attention": "#d9e7fb",
        "ffn": "#d8f0df", "head": "#eceff3", "final_norm": "#fff2c2"}
BORDER = "#7b8794"
CHANGED_BORDER = "#e8590c"
ARROW = "#52606d"
RESIDUAL = "#3b6fd8"

# Which switches (models.labs.blocks.BlockChoices fields) show up in which drawn part.
PART_SWITCHES = {
    "positions": {"positions"},
    "attention": {"kv_group", "positions", "bias"},
    "norm": {"norm", "norm_placement", "bias"},
    "final_norm": {"norm", "norm_placement", "bias"},
    "ffn": {"ffn", "bias"},
}


def changed_parts(changed_switches: set[str]) -> frozenset[str]:
    """The drawn parts to outline when these switches differ from the 2017 block."""
    return frozenset(part for part, switches in PART_SWITCHES.items() if switches & changed_switches)


@dataclass(frozen=True)
class BlockDrawing:
    """One block to draw. ``labels`` holds the text of every part (already translated):
    embedding, positions (None when positions are not added at the input), norm, attention,
    ffn, head, residual, repeat; ``changed`` names the parts to outline."""

    title: str
    norm_placement: str  # "post" or "pre"
    labels: dict[str, str | None]
    changed: frozenset[str] = field(default_factory=frozenset)


def _rows(drawing: BlockDrawing) -> list[tuple[str, int]]:
    """(part, row) bottom-up; both placements use the same rows so the two columns line up."""
    if drawing.norm_placement == "post":
        inside = [("attention", 2), ("add", 3), ("norm", 4), ("ffn", 5), ("add", 6), ("norm", 7)]
        final = []
    else:
        inside = [("norm", 2), ("attention", 3), ("add", 4), ("norm", 5), ("ffn", 6), ("add", 7)]
        final = [("final_norm", 8)]
    start = [("embedding", 0)] + ([("positions", 1)] if drawing.labels.get("positions") else [])
    return start + inside + final + [("head", 9)]


class _Canvas:
    """Shapes and annotations collected as plain dicts and handed to plotly once: adding
    them one by one through fig.add_shape re-validates the whole layout each time."""

    def __init__(self):
        self.shapes: list[dict] = []
        self.annotations: list[dict] = []

    def add_shape(self, **shape) -> None:
        self.shapes.append(shape)

    def add_annotation(self, **annotation) -> None:
        self.annotations.append(annotation)


def _half_height(part: str) -> float:
    if part == "add":
        return ADD_RADIUS
    return (TALL_BOX_HEIGHT if part in TALL_PARTS else BOX_HEIGHT) / 2


def _box(fig: _Canvas, x: float, y: float, part: str, text: str, changed: bool) -> None:
    half = _half_height(part)
    fig.add_shape(type="rect", x0=x - BOX_WIDTH / 2, x1=x + BOX_WIDTH / 2, y0=y - half, y1=y + half,
                  fillcolor=FILL[part], layer="below",
                  line=dict(color=CHANGED_BORDER if changed else BORDER, width=3.5 if changed else 1))
    fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=11.5, color="#1f2933"))


def _add_node(fig: _Canvas, x: float, y: float) -> None:
    fig.add_shape(type="circle", x0=x - ADD_RADIUS / 2.2, x1=x + ADD_RADIUS / 2.2, y0=y - ADD_RADIUS,
                  y1=y + ADD_RADIUS, fillcolor="white", line=dict(color=RESIDUAL, width=1.5))
    fig.add_annotation(x=x, y=y, text="+", showarrow=False, font=dict(size=16, color=RESIDUAL))


def _arrow(fig: _Canvas, x: float, y_from: float, y_to: float, colour: str = ARROW) -> None:
    fig.add_annotation(x=x, y=y_to, ax=x, ay=y_from, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=1, arrowwidth=1.5, arrowcolor=colour)


def _draw_column(fig: _Canvas, x: float, drawing: BlockDrawing) -> None:
    rows = _rows(drawing)
    labels = drawing.labels
    fig.add_annotation(x=x, y=10.0, text=f"<b>{drawing.title}</b>", showarrow=False, font=dict(size=15))
    # the repeated block: a dashed frame from row 1.5 to 7.5, "x N" on its right
    fig.add_shape(type="rect", x0=x - 0.55, x1=x + 0.55, y0=1.55, y1=7.5, layer="below",
                  line=dict(color="#9aa5b1", width=1, dash="dash"), fillcolor="rgba(0,0,0,0)")
    fig.add_annotation(x=x + 0.55, y=7.52, text=labels["repeat"], showarrow=False, xanchor="right",
                       yanchor="bottom", font=dict(size=11, color="#616e7c"))
    for (part, row), (next_part, next_row) in zip(rows, rows[1:]):
        top = row + _half_height(part)
        bottom = next_row - _half_height(next_part)
        _arrow(fig, x, top, bottom)
    sublayer_rows = [row for part, row in rows if part in ("attention", "ffn")]
    add_rows = [row for part, row in rows if part == "add"]
    for add_row, sublayer_row in zip(add_rows, sublayer_rows):
        # the residual path: from just below the sub-layer (pre-norm: below its norm) around to the add
        branch = sublayer_row - (1.5 if drawing.norm_placement == "pre" else 0.5)
        side = x - BOX_WIDTH / 2 - 0.08
        fig.add_shape(type="path", path=f"M {x},{branch} L {side},{branch} L {side},{add_row} "
                                         f"L {x - ADD_RADIUS / 2.2},{add_row}",
                      line=dict(color=RESIDUAL, width=1.5))
    fig.add_annotation(x=x - BOX_WIDTH / 2 - 0.1, y=(add_rows[0] + sublayer_rows[0]) / 2 - 0.5, textangle=-90,
                       text=labels["residual"], showarrow=False, font=dict(size=10, color=RESIDUAL))
    for part, row in rows:
        if part == "add":
            _add_node(fig, x, row)
        else:
            _box(fig, x, row, part, labels[part], part in drawing.changed)


def block_diagrams(left: BlockDrawing, right: BlockDrawing, *, legend: str, height: int = 660) -> go.Figure:
    """Two blocks side by side, bottom (tokens) to top (next-token scores)."""
    canvas = _Canvas()
    for x, drawing in zip(COLUMN_CENTRES, (left, right)):
        _draw_column(canvas, x, drawing)
    canvas.add_annotation(x=1.15, y=-0.7, text=legend, showarrow=False, font=dict(size=11, color=CHANGED_BORDER))
    layout = dict(shapes=canvas.shapes, annotations=canvas.annotations, height=height, font=FONT, showlegend=False,
                  margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="white", paper_bgcolor="white", dragmode=False,
                  xaxis=dict(visible=False, range=[0.0, 2.3], fixedrange=True),
                  yaxis=dict(visible=False, range=[-1.0, 10.4], fixedrange=True), meta=KEEP_TEXT_SIZE)
    return go.Figure(dict(data=[], layout=layout))


PART_COLOURS = ("#9aa5b1", "#b197fc", "#4c8bf5", "#40c057", "#fab005")  # embedding, positions, attention, ffn, norms
LINE_COLOURS = ("#e8590c", "#3b6fd8", "#2f9e44", "#ae3ec9", "#f59f00", "#495057")
LEGEND_BELOW = dict(orientation="h", y=-0.28, yanchor="top", x=0.5, xanchor="center")

# The builders below describe each figure as one dict and construct it once: plotly's
# update_* calls re-validate the whole figure each time and cost far more.


def _title(text: str | None) -> dict | None:
    return dict(text=text, x=0.0, xanchor="left") if text else None


def parameter_breakdown(parts: Sequence[str], columns: dict[str, Sequence[int]], *, x_title: str,
                        height: int = 230) -> go.Figure:
    """Stacked horizontal bars: one bar per configuration, one colour per part (in PART_COLOURS order)."""
    names = list(columns)
    bars = [dict(type="bar", y=names, x=[columns[name][index] for name in names], name=part, orientation="h",
                 marker=dict(color=PART_COLOURS[index % len(PART_COLOURS)]),
                 hovertemplate=f"{part}: %{{x:,}}<extra>%{{y}}</extra>")
            for index, part in enumerate(parts)]
    layout = dict(barmode="stack", legend=dict(orientation="h", y=-0.35, yanchor="top", traceorder="normal"),
                  margin=dict(l=10, r=10, t=10, b=10), font=FONT, height=height, xaxis=dict(title=dict(text=x_title)),
                  yaxis=dict(type="category", autorange="reversed"))
    return go.Figure(dict(data=bars, layout=layout))


def line_figure(x: Sequence[float], series: dict[str, Sequence[float]], *, title: str, x_title: str, y_title: str,
                log_x: bool = False, log_y: bool = False, dashed: Sequence[str] = (),
                colours: Sequence[str] | None = None, height: int = 340) -> go.Figure:
    """Several lines over the same x, legend under the plot so it never meets the title."""
    colours = colours or LINE_COLOURS
    traces = [dict(type="scatter", x=list(x), y=list(values), mode="lines+markers", name=name, marker=dict(size=5),
                   line=dict(color=colours[index % len(colours)], dash="dash" if name in dashed else "solid"))
              for index, (name, values) in enumerate(series.items())]
    layout = dict(title=_title(title), font=FONT, height=height, margin=dict(l=10, r=10, t=40, b=10),
                  legend=LEGEND_BELOW,
                  xaxis=dict(title=dict(text=x_title), type="log" if log_x else "linear"),
                  yaxis=dict(title=dict(text=y_title), type="log" if log_y else "linear"))
    return go.Figure(dict(data=traces, layout=layout))


def rope_rotation_figure(points: np.ndarray, pair_names: Sequence[str], *, position_label: str,
                         x_title: str, y_title: str, height: int = 380) -> go.Figure:
    """Each chosen pair's (first, second) coordinates after rotation, one dot per position,
    on the unit circle; the slowest pair is joined by a line and numbered every few positions."""
    angle = np.linspace(0, 2 * np.pi, 121)
    traces = [dict(type="scatter", x=np.cos(angle).tolist(), y=np.sin(angle).tolist(), mode="lines",
                   line=dict(color="#d3d9e0", width=1), hoverinfo="skip", showlegend=False)]
    n_positions = points.shape[1]
    label_every = max(1, n_positions // 8)
    for index, (pair_points, name) in enumerate(zip(points, pair_names)):
        labelled = index == len(points) - 1  # numbers on the slowest pair only, so they stay readable
        traces.append(dict(
            type="scatter", x=pair_points[:, 0].tolist(), y=pair_points[:, 1].tolist(), name=name,
            mode="lines+markers+text" if labelled else "markers",
            text=[str(p) if labelled and p % label_every == 0 else "" for p in range(n_positions)],
            textposition="top right", customdata=list(range(n_positions)), marker=dict(size=7),
            line=dict(width=1, color=LINE_COLOURS[1 if labelled else 0]),
            hovertemplate=f"{position_label} %{{customdata}}<br>(%{{x:.3f}}, %{{y:.3f}})<extra>{name}</extra>"))
    axis = dict(range=[-1.3, 1.3], zeroline=True, zerolinecolor="#e4e7eb")
    layout = dict(font=FONT, height=height, margin=dict(l=10, r=10, t=10, b=10),
                  legend=dict(orientation="h", y=1.02, yanchor="bottom"),
                  xaxis=dict(axis, title=dict(text=x_title)),
                  yaxis=dict(axis, title=dict(text=y_title), scaleanchor="x", scaleratio=1))
    return go.Figure(dict(data=traces, layout=layout))


def drawing_labels(text, stats, choices) -> dict[str, str | None]:
    """The text of every drawn part of one block. ``text(name, **values)`` translates
    ``blocks.<name>``; ``stats`` is a models.labs.blocks.BlockStats, ``choices`` its BlockChoices."""
    kind = "mha" if stats.n_kv_head == stats.n_head else "mqa" if stats.n_kv_head == 1 else "gqa"
    attention = text(f"part_attention_{kind}", heads=stats.n_head, kv=stats.n_kv_head)
    if choices.positions == "rope":
        attention += "<br>" + text("part_rope")
    norm = text(f"norm_{choices.norm}")
    return {
        "embedding": text("part_embedding"),
        "positions": None if choices.positions == "rope" else text(f"part_positions_{choices.positions}"),
        "norm": norm, "final_norm": text("part_final_norm", norm=norm), "attention": attention,
        "ffn": text(f"part_ffn_{choices.ffn}", width=stats.ffn_hidden),
        "head": text("part_head"), "residual": text("part_residual"), "repeat": text("part_repeat", n=stats.n_layer),
    }
