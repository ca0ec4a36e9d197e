"""Figures for real models' attention: all heads at a glance, and lines from one token.

Pure builders: arrays and already-escaped labels in, ``go.Figure`` out. Callers pass
token labels through ``components.text.chart_label``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from components.figures.shared import FONT, heatmap

LINE_COLOUR = "59, 111, 216"  # rgb of the lines in the head view
QUERY_COLOUR = "#d9480f"
MAX_LABELLED_ROWS = 48  # beyond this many tokens, only the linked ones get a label


def all_heads_grid(
    pooled: np.ndarray,
    *,
    layer_label: str,
    head_label: str,
    hover_template: str,
    colour_title: str,
    selected: tuple[int, int] | None = None,
    zmax: float | None = None,
) -> go.Figure:
    """One small heatmap per (layer, head): rows are layers, columns heads, all on one colour scale.

    ``pooled`` is (L, H, S, S), already shrunk so the payload stays small. The small maps are
    tiled into one heatmap trace with an empty row and column between neighbours: one trace
    and one pair of axes build and draw far faster than L * H subplots. ``layer_label`` and
    ``head_label`` are format strings with ``{n}``; ``hover_template`` has ``{layer}`` and
    ``{head}`` placeholders and ends where the value goes. ``selected`` gets a frame.
    """
    L, H, S, _ = pooled.shape
    step = S + 1  # each map plus one empty (NaN) row / column as a gap
    padded = np.full((L, H, step, step), np.nan, dtype=np.float32)
    padded[:, :, :S, :S] = np.round(pooled, 3)
    tiled = padded.transpose(0, 2, 1, 3).reshape(L * step, H * step)[:-1, :-1]  # (rows, columns)
    layer_of_row = np.repeat(np.arange(1, L + 1, dtype=np.uint8), step)[:-1]  # layers and heads shown from 1
    head_of_column = np.repeat(np.arange(1, H + 1, dtype=np.uint8), step)[:-1]
    owner = np.stack(np.broadcast_arrays(layer_of_row[:, None], head_of_column[None, :]), axis=-1)  # (rows, cols, 2)
    top = float(zmax if zmax is not None else max(np.nanmax(tiled), 1e-6))
    hover = hover_template.format(layer="%{customdata[0]}", head="%{customdata[1]}")
    fig = go.Figure(go.Heatmap(z=tiled, customdata=owner, coloraxis="coloraxis", hoverongaps=False,
                               hovertemplate=hover + "%{z:.3f}<extra></extra>"))
    centres = (S - 1) / 2 + step * np.arange(max(L, H))
    fig.update_xaxes(side="top", tickvals=centres[:H], ticktext=[head_label.format(n=h + 1) for h in range(H)],
                     showgrid=False, zeroline=False, ticks="", range=[-0.5, H * step - 1.5])
    fig.update_yaxes(tickvals=centres[:L], ticktext=[layer_label.format(n=layer + 1) for layer in range(L)],
                     showgrid=False, zeroline=False, ticks="", autorange="reversed")
    if selected is not None:
        layer, head = selected
        fig.add_shape(type="rect", x0=head * step - 0.5, x1=head * step + S - 0.5, y0=layer * step - 0.5,
                      y1=layer * step + S - 0.5, line=dict(color=QUERY_COLOUR, width=3))
    cell = 70 if H <= 8 else 58
    fig.update_layout(
        coloraxis=dict(colorscale="Blues", cmin=0, cmax=top, colorbar=dict(title=colour_title, thickness=12)),
        height=L * cell + 70, margin=dict(l=10, r=40, t=40, b=10), font=FONT, plot_bgcolor="white",
    )
    return fig


def closeup_heatmap(matrix: np.ndarray, labels: Sequence[str], *, hover_name: str, x_title: str,
                    y_title: str) -> go.Figure:
    """One head's (T, T) weights with every value, keys along the top, queries down the side.

    The top and left margins are sized from the longest label, so the rotated key labels and
    the axis titles stay inside the figure instead of running over what is drawn above it.
    """
    T = len(labels)
    fig = heatmap(matrix, labels, labels, zmin=0, value_format=".3f", hover_name=hover_name,
                  x_title=x_title, y_title=y_title, height=min(760, 18 * T + 260))
    longest = max((len(label) for label in labels), default=1)
    fig.update_xaxes(automargin=True, title_standoff=8)
    fig.update_yaxes(automargin=True, title_standoff=8)
    fig.update_layout(margin=dict(l=20, r=10, t=40 + 5 * longest, b=10))
    return fig


def head_view(
    labels: Sequence[str],
    row: np.ndarray,
    query: int,
    links: Sequence[tuple[int, float]],
    *,
    query_side: str,
    key_side: str,
    hover_name: str,
    visible: Sequence[bool] | None = None,
) -> go.Figure:
    """Tokens in two columns, the chosen query on the left joined to the keys it attends to.

    A line's width and opacity grow with its weight, so the strongest links stand out.
    ``row`` holds the query's weight on every key (for hover); ``links`` the (key, weight)
    pairs to draw. ``visible[j]`` False marks keys the query may not see (drawn faint).
    """
    T = len(labels)
    y = -np.arange(T, dtype=float)
    strongest = max((w for _, w in links), default=1.0) or 1.0
    linked = {j for j, _ in links}
    traces = []
    for key, weight in sorted(links, key=lambda link: link[1]):
        share = weight / strongest
        traces.append(dict(
            type="scatter", x=[0, 1], y=[y[query], y[key]], mode="lines", showlegend=False,
            line=dict(width=1 + 9 * share, color=f"rgba({LINE_COLOUR}, {0.25 + 0.75 * share:.2f})"),
            hoverinfo="text", hovertext=f"{labels[query]} → {labels[key]}<br>{hover_name}: {weight:.3f}",
        ))
    label_all = T <= MAX_LABELLED_ROWS
    positions = np.arange(T)
    row = np.asarray(row, dtype=float)[:T]
    sizes = 5 + 10 * row / strongest
    seen = np.ones(T, dtype=bool) if visible is None else np.asarray(visible, dtype=bool)
    # One colour per trace (per-point colour lists cost ~1 ms per 10 points to validate): the
    # listening column, the query on it, and the keys it may / may not see.
    for side, colour, chosen, text_position in ((0, "#5c6370", positions != query, "middle left"),
                                                (0, QUERY_COLOUR, positions == query, "middle left"),
                                                (1, "#1f2328", seen, "middle right"),
                                                (1, "#c3cad3", ~seen, "middle right")):
        if not chosen.any():
            continue
        picked = np.flatnonzero(chosen)
        names = [labels[i] for i in picked]
        if label_all or colour == QUERY_COLOUR:
            shown = names
        else:  # a long text: only the keys with a line get a label
            shown = [labels[i] if side == 1 and i in linked else "" for i in picked]
        trace = dict(type="scatter", x=np.full(len(picked), side, dtype=float), y=y[picked], mode="markers+text",
                     text=shown, textposition=text_position, textfont=dict(color=colour), showlegend=False,
                     marker=dict(size=sizes[picked] if side == 1 else (11 if colour == QUERY_COLOUR else 5),
                                 color=colour), hovertext=names)
        if side == 1:
            trace.update(customdata=row[picked], hovertemplate="%{hovertext}<br>" + hover_name
                         + ": %{customdata:.3f}<extra></extra>")
        else:
            trace.update(hoverinfo="text")
        traces.append(trace)
    step = 22 if T <= MAX_LABELLED_ROWS else max(6, 900 // T)
    layout = dict(
        xaxis=dict(visible=False, range=[-0.9, 1.9]), yaxis=dict(visible=False, range=[y[-1] - 1, 1]),
        annotations=[dict(x=0, y=1, text=query_side, showarrow=False, yanchor="bottom", xanchor="right"),
                     dict(x=1, y=1, text=key_side, showarrow=False, yanchor="bottom", xanchor="left")],
        height=min(1000, max(260, step * T + 80)), margin=dict(l=10, r=10, t=30, b=10), font=FONT,
        plot_bgcolor="white",
    )
    return go.Figure(data=traces, layout=layout)  # one call: validated once, not once per trace and update
