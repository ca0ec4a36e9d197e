"""Figures of the sampling page: plain data in, go.Figure out (labels already made safe by the caller)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from components.figures import FONT

RAW_COLOUR = "#b8c2cc"
ADJUSTED_COLOUR = "#3b6fd8"
REMOVED_COLOUR = "#e4e7eb"
CUT_COLOUR = "#d9480f"
SAMPLED_COLOUR = "#f08c00"


def _finish(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left", y=0.98, yref="container", yanchor="top"),
        margin=dict(l=10, r=10, t=100, b=10),
        font=FONT,
        height=height,
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", xanchor="left"),
        bargap=0.25,
    )
    return fig


def distribution_bars(labels: Sequence[str], raw: Sequence[float], adjusted: Sequence[float],
                      kept: Sequence[bool], *, title: str, raw_name: str, adjusted_name: str,
                      y_title: str, cut_after: int | None = None, cut_label: str = "",
                      height: int = 400) -> go.Figure:
    """The top tokens: raw probability beside the adjusted one; removed tokens greyed.

    ``cut_after``: draw the nucleus cut between bar ``cut_after - 1`` and bar ``cut_after``.
    """
    x = list(labels)
    fig = go.Figure()
    fig.add_bar(x=x, y=list(raw), name=raw_name, marker_color=RAW_COLOUR,
                hovertemplate=f"%{{x}}<br>{raw_name}: %{{y:.4f}}<extra></extra>")
    fig.add_bar(x=x, y=list(adjusted), name=adjusted_name,
                marker_color=[ADJUSTED_COLOUR if keep else REMOVED_COLOUR for keep in kept],
                marker_line=dict(color=[ADJUSTED_COLOUR if keep else "#9aa5b1" for keep in kept], width=1),
                hovertemplate=f"%{{x}}<br>{adjusted_name}: %{{y:.4f}}<extra></extra>")
    fig.update_xaxes(type="category", tickangle=-45)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    if cut_after is not None and 0 < cut_after < len(x):
        fig.add_vline(x=cut_after - 0.5, line=dict(color=CUT_COLOUR, width=2, dash="dash"))
        fig.add_annotation(x=cut_after - 0.5, y=1.0, yref="paper", text=cut_label, showarrow=False,
                           xanchor="left", yanchor="top", font=dict(color=CUT_COLOUR), xshift=4)
    return _finish(fig, title, height)


def cumulative_curve(cumulative: Sequence[float], *, title: str, x_title: str, y_title: str,
                     top_p: float | None = None, top_p_label: str = "", cut: int | None = None,
                     cut_label: str = "", height: int = 320) -> go.Figure:
    """Probability covered by the top 1..n tokens, with the top-p line and the nucleus size."""
    ranks = list(range(1, len(cumulative) + 1))
    fig = go.Figure()
    fig.add_scatter(x=ranks, y=list(cumulative), mode="lines", line=dict(color=ADJUSTED_COLOUR, width=2),
                    name=y_title, showlegend=False,
                    hovertemplate=f"{x_title}: %{{x}}<br>{y_title}: %{{y:.3f}}<extra></extra>")
    if top_p is not None:
        fig.add_hline(y=top_p, line=dict(color=CUT_COLOUR, width=1, dash="dot"),
                      annotation_text=top_p_label, annotation_position="bottom right")
    if cut is not None and cut <= len(ranks):
        fig.add_vline(x=cut, line=dict(color=CUT_COLOUR, width=2, dash="dash"),
                      annotation_text=cut_label, annotation_position="top left")
    fig.update_xaxes(title=x_title, range=[0.5, len(ranks) + 0.5])
    fig.update_yaxes(title=y_title, range=[0, 1.05])
    return _finish(fig, title, height)


def sample_histogram(labels: Sequence[str], frequency: Sequence[float], exact: Sequence[float], *,
                     title: str, sampled_name: str, exact_name: str, y_title: str,
                     height: int = 380) -> go.Figure:
    """Share of draws per token (bars) against the exact probability (markers)."""
    x = list(labels)
    fig = go.Figure()
    fig.add_bar(x=x, y=list(frequency), name=sampled_name, marker_color=SAMPLED_COLOUR,
                hovertemplate=f"%{{x}}<br>{sampled_name}: %{{y:.4f}}<extra></extra>")
    fig.add_scatter(x=x, y=list(exact), name=exact_name, mode="markers",
                    marker=dict(symbol="line-ew", size=22, line=dict(width=3, color=ADJUSTED_COLOUR)),
                    hovertemplate=f"%{{x}}<br>{exact_name}: %{{y:.4f}}<extra></extra>")
    fig.update_xaxes(type="category", tickangle=-45)
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return _finish(fig, title, height)
