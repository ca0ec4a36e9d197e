"""Figures of the inside-a-block page: one token's FFN, the activation curves, the per-position
proof, the logit lens, parameter shares and the experts' routing. Plain data in, go.Figure out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import FONT, heatmap, titled_layout


def vector_bars(series: dict[str, Sequence[float]], *, title: str, x_title: str, height: int = 260) -> go.Figure:
    """One or more vectors as bars over their index (input, hidden units, output)."""
    traces = [dict(type="bar", y=[float(v) for v in values], name=name,
                   hovertemplate=f"{name} [%{{x}}]: %{{y:.3f}}<extra></extra>") for name, values in series.items()]
    return go.Figure(data=traces, layout=titled_layout(
        title, height, barmode="overlay", bargap=0, xaxis=dict(title=dict(text=x_title)),
        showlegend=len(series) > 1))


def activation_plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], chosen: str, points: np.ndarray, *,
                    title: str, points_name: str, height: int = 320) -> go.Figure:
    """ReLU / GELU / SiLU curves; this token's pre-activations drawn on the chosen one."""
    traces = [dict(type="scatter", x=list(x), y=list(y), mode="lines", name=name,
                   line=dict(width=4 if name == chosen else 1.5, dash="solid" if name == chosen else "dot"))
              for name, (x, y) in curves.items()]
    x, y = curves[chosen]
    low, high = float(x[0]), float(x[-1])
    clipped = np.clip(np.asarray(points, dtype=float), low, high)
    traces.append(dict(type="scatter", x=list(clipped), y=list(np.interp(clipped, x, y)), mode="markers",
                       name=points_name, marker=dict(size=6, opacity=0.6, color="#111111", line=dict(width=1, color="white")),  # dark dots: no curve is drawn in black
                       hovertemplate="%{x:.2f} → %{y:.2f}<extra></extra>"))
    # The legend sits inside the empty top-left corner (every curve is near 0 for negative inputs), so a long
    # title or legend never runs into the other.
    return go.Figure(data=traces, layout=titled_layout(
        title, height, xaxis=dict(range=[low, high]), yaxis=dict(zeroline=True), margin=dict(l=10, r=10, t=48, b=10),
        legend=dict(orientation="v", x=0.01, y=0.99, xanchor="left", yanchor="top", bgcolor="rgba(255,255,255,0.7)")))


def proof_bars(labels: Sequence[str], series: dict[str, Sequence[float]], changed: int, *, title: str,
               y_title: str, changed_text: str, height: int = 340) -> go.Figure:
    """max |Δ| per position for each sub-layer; the changed position marked."""
    traces = [dict(type="bar", x=list(labels), y=[float(v) for v in values], name=name,
                   hovertemplate=f"%{{x}}: %{{y:.3g}}<extra>{name}</extra>") for name, values in series.items()]
    marker = dict(type="line", xref="x", yref="paper", x0=changed, x1=changed, y0=0, y1=1,
                  line=dict(dash="dash", color="#888"))
    note = dict(x=changed, y=1, xref="x", yref="paper", text=changed_text, showarrow=False, yanchor="bottom")
    return go.Figure(data=traces, layout=titled_layout(
        title, height, barmode="group", shapes=[marker], annotations=[note],
        xaxis=dict(type="category"), yaxis=dict(title=dict(text=y_title))))


def lens_grid(stage_labels: Sequence[str], token_labels: Sequence[Sequence[str]], probs: np.ndarray, *,
              title: str, rank_title: str, height: int | None = None) -> go.Figure:
    """Rows: stages (embeddings, after block 1..L); columns: ranks 1..k; cell: token and probability."""
    ranks = [str(rank + 1) for rank in range(probs.shape[1])]
    text = [[f"{token}<br>{p:.2f}" for token, p in zip(row, prob_row)] for row, prob_row in zip(token_labels, probs)]
    fig = heatmap(probs, [f"{rank_title} {rank}" for rank in ranks], list(stage_labels), title=title, zmin=0, zmax=1,
                  annotate=False, height=height or 80 + 44 * len(stage_labels), hover_name="p")
    fig.layout.xaxis.side = "bottom"
    fig.data[0].text = text
    fig.data[0].texttemplate = "%{text}"
    fig.data[0].hovertemplate = "%{y}, %{x}: %{text}<extra></extra>"
    return fig


def lens_track(stage_labels: Sequence[str], prob: Sequence[float], rank: Sequence[int], *, title: str,
               prob_name: str, rank_name: str, height: int = 380) -> go.Figure:
    """Probability of the final prediction per stage, each point labelled with its rank there."""
    trace = dict(type="scatter", x=list(stage_labels), y=[float(v) for v in prob], name=prob_name,
                 mode="lines+markers+text", text=[f"#{int(r)}" for r in rank], textposition="top center",
                 hovertemplate=f"%{{x}}: %{{y:.3f}}, {rank_name} %{{text}}<extra></extra>")
    return go.Figure(data=[trace], layout=titled_layout(
        title, height, xaxis=dict(type="category"), showlegend=False,
        yaxis=dict(title=dict(text=prob_name), rangemode="tozero")))


def update_bars(layer_labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str, y_title: str,
                height: int = 300) -> go.Figure:
    traces = [dict(type="bar", x=list(layer_labels), y=[float(v) for v in values], name=name,
                   hovertemplate=f"%{{x}}: %{{y:.2f}}<extra>{name}</extra>") for name, values in series.items()]
    return go.Figure(data=traces, layout=titled_layout(
        title, height, barmode="group", xaxis=dict(type="category"), yaxis=dict(title=dict(text=y_title))))


def share_bars(models: Sequence[str], parts: dict[str, Sequence[int]], *, title: str, x_title: str,
               height: int | None = None) -> go.Figure:
    """Stacked horizontal bars: each model's parameters split into parts, as shares of its total."""
    totals = np.sum([np.asarray(values, dtype=float) for values in parts.values()], axis=0)
    traces = []
    for name, values in parts.items():
        share = np.asarray(values, dtype=float) / totals
        traces.append(dict(type="bar", y=list(models), x=list(100 * share), name=name, orientation="h",
                           text=[f"{100 * s:.0f}%" for s in share], textposition="inside",
                           customdata=[f"{int(v):,}" for v in values],
                           hovertemplate=f"%{{y}}: %{{customdata}} (%{{x:.1f}}%)<extra>{name}</extra>"))
    return go.Figure(data=traces, layout=titled_layout(
        title, height or 120 + 44 * len(models), barmode="stack", xaxis=dict(title=dict(text=x_title), range=[0, 100]),
        yaxis=dict(type="category", autorange="reversed")))


def routing_map(token_labels: Sequence[str], probs: np.ndarray, chosen: np.ndarray, weights: np.ndarray, *,
                title: str, expert_label: str, height: int | None = None) -> go.Figure:
    """Tokens (rows) x experts (columns): the mixing weight where the expert was chosen, blank elsewhere."""
    n_tokens, n_experts = probs.shape
    used = np.full((n_tokens, n_experts), np.nan)
    for row in range(n_tokens):
        used[row, chosen[row]] = weights[row]
    experts = [f"{expert_label}{e + 1}" for e in range(n_experts)]
    fig = heatmap(used, experts, list(token_labels), title=title, zmin=0, zmax=1, colorscale="Oranges",
                  hover_name="weight", height=height or max(260, min(900, 26 * n_tokens + 140)),
                  annotate=n_tokens * n_experts <= 600)
    fig.layout.xaxis.side = "bottom"
    return fig


def load_bars(load: Sequence[float], even: float, *, title: str, expert_label: str, even_text: str,
              height: int = 260) -> go.Figure:
    experts = [f"{expert_label}{e + 1}" for e in range(len(load))]
    trace = dict(type="bar", x=experts, y=[float(v) for v in load], hovertemplate="%{x}: %{y:.1%}<extra></extra>",
                 marker=dict(color="#ff7f0e"))
    even_line = dict(type="line", xref="paper", x0=0, x1=1, y0=even, y1=even, line=dict(dash="dash", color="#555"))
    note = dict(xref="paper", x=1, y=even, text=even_text, showarrow=False, xanchor="right", yanchor="bottom",
                font=FONT)
    return go.Figure(data=[trace], layout=titled_layout(title, height, shapes=[even_line], annotations=[note],
                                                        yaxis=dict(tickformat=".0%")))
