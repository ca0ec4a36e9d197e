"""Figures for the tokenizer page: plain data in, go.Figure out. Callers pass translated titles and
labels; token text reaches a figure only through ``chart_label``."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from components.figures.shared import FONT

BLUE = "#3b6fd8"
ORANGE = "#e8833a"
GREY = "#9aa5b1"
SERIES_COLOURS = (BLUE, ORANGE, "#2a9d8f", "#8e5bd0")


def _finish(fig: go.Figure, title: str | None, height: int) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.0, xanchor="left") if title else None,
        margin=dict(l=10, r=10, t=50 if title else 10, b=10),
        font=FONT,
        height=height,
    )
    return fig


def token_count_bars(names: Sequence[str], counts: Sequence[int], chars_per_token: Sequence[float], *,
                     title: str, x_title: str, hover_tokens: str, hover_ratio: str) -> go.Figure:
    """One horizontal bar per tokenizer: how many tokens the text became."""
    fig = go.Figure(go.Bar(
        y=list(names), x=list(counts), orientation="h", marker_color=BLUE,
        text=[f"{count:,}" for count in counts], textposition="auto",
        customdata=[[ratio] for ratio in chars_per_token],
        hovertemplate=f"%{{y}}<br>{hover_tokens}: %{{x:,}}<br>{hover_ratio}: %{{customdata[0]:.2f}}<extra></extra>",
    ))
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(title=x_title, rangemode="tozero")
    return _finish(fig, title, max(220, 42 * len(names) + 110))


def merge_curve(token_counts: Sequence[int], current_step: int, *, title: str, x_title: str,
                y_title: str, current_name: str) -> go.Figure:
    """Length of the text in tokens after 0, 1, 2, ... merges, the chosen step marked."""
    steps = list(range(len(token_counts)))
    fig = go.Figure()
    fig.add_scatter(x=steps, y=list(token_counts), mode="lines+markers", line=dict(color=BLUE),
                    marker=dict(size=5), showlegend=False,
                    hovertemplate=f"{x_title}: %{{x}}<br>{y_title}: %{{y}}<extra></extra>")
    fig.add_scatter(x=[current_step], y=[token_counts[current_step]], mode="markers", name=current_name,
                    marker=dict(size=14, color=ORANGE, line=dict(color="white", width=2)), showlegend=False,
                    hovertemplate=f"{current_name}<br>{x_title}: %{{x}}<br>{y_title}: %{{y}}<extra></extra>")
    fig.update_xaxes(title=x_title, rangemode="tozero")
    fig.update_yaxes(title=y_title, rangemode="tozero")
    return _finish(fig, title, 300)


def vocab_tradeoff(sizes: Sequence[int], tokens: dict[str, Sequence[int]], parameters: Sequence[float], *,
                   tokens_title: str, parameters_title: str, x_title: str, tokens_axis: str,
                   parameters_axis: str, parameters_name: str) -> go.Figure:
    """Left: tokens the text needs at each vocabulary size, one line per tokenizer kind.
    Right: the embedding table's parameters at each size (vocabulary x width).
    Two axes side by side, laid out by hand (make_subplots is slow to build)."""
    fig = go.Figure()
    for colour, (name, values) in zip(SERIES_COLOURS, tokens.items()):
        fig.add_scatter(x=list(sizes), y=list(values), mode="lines+markers", name=name, line=dict(color=colour),
                        hovertemplate=f"{name}<br>{x_title}: %{{x:,}}<br>{tokens_axis}: %{{y:,}}<extra></extra>")
    fig.add_bar(x=[f"{size:,}" for size in sizes], y=list(parameters), name=parameters_name, marker_color=GREY,
                xaxis="x2", yaxis="y2", showlegend=False,
                hovertemplate=f"{x_title}: %{{x}}<br>{parameters_axis}: %{{y:.2f}}<extra></extra>")
    fig.update_layout(
        xaxis=dict(domain=[0.0, 0.44], title=x_title, type="log", tickvals=list(sizes),
                   ticktext=[f"{size:,}" for size in sizes]),
        yaxis=dict(title=tokens_axis, rangemode="tozero"),
        xaxis2=dict(domain=[0.56, 1.0], title=x_title, type="category", anchor="y2"),
        yaxis2=dict(title=parameters_axis, rangemode="tozero", anchor="x2"),
        annotations=[dict(text=f"<b>{text}</b>", x=x, y=1.08, xref="paper", yref="paper", showarrow=False,
                          xanchor="center", yanchor="bottom") for text, x in ((tokens_title, 0.22),
                                                                              (parameters_title, 0.78))],
        legend=dict(orientation="h", x=0.0, y=-0.22, yanchor="top"),
    )
    fig = _finish(fig, None, 400)
    fig.update_layout(margin=dict(t=50, b=10))
    return fig
