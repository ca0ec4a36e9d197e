"""Figures of the sampling page: plain data in, go.Figure out (labels already made safe by the caller).

Each figure is built in one go.Figure(data, layout) call: Plotly validates a whole layout
at once far faster than a chain of add_vline / update_layout calls, and these figures are
rebuilt whenever a slider moves.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from components.figures.shared import titled_layout

RAW_COLOUR = "#b8c2cc"
ADJUSTED_COLOUR = "#3b6fd8"
REMOVED_COLOUR = "#e4e7eb"
CUT_COLOUR = "#d9480f"
SAMPLED_COLOUR = "#f08c00"


def _vertical_line(x: float) -> dict:
    return dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line=dict(color=CUT_COLOUR, width=2, dash="dash"))


def distribution_bars(labels: Sequence[str], raw: Sequence[float], adjusted: Sequence[float],
                      kept: Sequence[bool], *, title: str, raw_name: str, adjusted_name: str,
                      y_title: str, cut_after: int | None = None, cut_label: str = "",
                      height: int = 400) -> go.Figure:
    """The top tokens: raw probability beside the adjusted one; removed tokens greyed.

    ``cut_after``: draw the nucleus cut between bar ``cut_after - 1`` and bar ``cut_after``.
    """
    x = list(labels)
    traces = [
        go.Bar(x=x, y=list(raw), name=raw_name, marker_color=RAW_COLOUR,
               hovertemplate=f"%{{x}}<br>{raw_name}: %{{y:.4f}}<extra></extra>"),
        go.Bar(x=x, y=list(adjusted), name=adjusted_name,
               marker=dict(color=[ADJUSTED_COLOUR if keep else REMOVED_COLOUR for keep in kept],
                           line=dict(color=[ADJUSTED_COLOUR if keep else "#9aa5b1" for keep in kept], width=1)),
               hovertemplate=f"%{{x}}<br>{adjusted_name}: %{{y:.4f}}<extra></extra>"),
    ]
    shapes, annotations = [], []
    if cut_after is not None and 0 < cut_after < len(x):
        shapes.append(_vertical_line(cut_after - 0.5))
        annotations.append(dict(x=cut_after - 0.5, y=1.0, yref="paper", text=cut_label, showarrow=False,
                                xanchor="left", yanchor="top", xshift=4, font=dict(color=CUT_COLOUR)))
    return go.Figure(traces, titled_layout(
        title, height, bargap=0.25, shapes=shapes, annotations=annotations,
        xaxis=dict(type="category", tickangle=-45), yaxis=dict(title=y_title, rangemode="tozero"),
    ))


def cumulative_curve(cumulative: Sequence[float], *, title: str, x_title: str, y_title: str,
                     top_p: float | None = None, top_p_label: str = "", cut: int | None = None,
                     cut_label: str = "", height: int = 320) -> go.Figure:
    """Probability covered by the top 1..n tokens, with the top-p line and the nucleus size."""
    ranks = list(range(1, len(cumulative) + 1))
    trace = go.Scatter(x=ranks, y=list(cumulative), mode="lines", line=dict(color=ADJUSTED_COLOUR, width=2),
                       showlegend=False, hovertemplate=f"{x_title}: %{{x}}<br>{y_title}: %{{y:.3f}}<extra></extra>")
    shapes, annotations = [], []
    if top_p is not None:
        shapes.append(dict(type="line", x0=0, x1=1, xref="paper", y0=top_p, y1=top_p,
                           line=dict(color=CUT_COLOUR, width=1, dash="dot")))
        annotations.append(dict(x=1, xref="paper", y=top_p, text=top_p_label, showarrow=False,
                                xanchor="right", yanchor="top", font=dict(color=CUT_COLOUR)))
    if cut is not None and cut <= len(ranks):
        shapes.append(_vertical_line(cut))
        annotations.append(dict(x=cut, y=1.0, yref="paper", text=cut_label, showarrow=False,
                                xanchor="left", yanchor="bottom", xshift=4, font=dict(color=CUT_COLOUR)))
    return go.Figure([trace], titled_layout(
        title, height, bargap=0.25, shapes=shapes, annotations=annotations,
        xaxis=dict(title=x_title, range=[0.5, len(ranks) + 0.5]), yaxis=dict(title=y_title, range=[0, 1.05]),
    ))


def sample_histogram(labels: Sequence[str], frequency: Sequence[float], exact: Sequence[float], *,
                     title: str, sampled_name: str, exact_name: str, y_title: str,
                     height: int = 380) -> go.Figure:
    """Share of draws per token (bars) against the exact probability (short horizontal ticks)."""
    x = list(labels)
    traces = [
        go.Bar(x=x, y=list(frequency), name=sampled_name, marker_color=SAMPLED_COLOUR,
               hovertemplate=f"%{{x}}<br>{sampled_name}: %{{y:.4f}}<extra></extra>"),
        go.Scatter(x=x, y=list(exact), name=exact_name, mode="markers",
                   marker=dict(symbol="line-ew", size=22, line=dict(width=3, color=ADJUSTED_COLOUR)),
                   hovertemplate=f"%{{x}}<br>{exact_name}: %{{y:.4f}}<extra></extra>"),
    ]
    return go.Figure(traces, titled_layout(
        title, height, bargap=0.25, xaxis=dict(type="category", tickangle=-45), yaxis=dict(title=y_title, rangemode="tozero"),
    ))
