"""The Plotly template every chart carries, cut to the trace types the app draws.

Streamlit registers a "streamlit" template (placeholder colours the browser swaps for the
theme's) with entries for ten trace types, and Plotly copies and serialises the whole template
into every chart on every rerun: about 2 ms a chart, more than a small chart's own data, and
the class benchmark's agent API parses it once more. The app draws bars, histograms, scatters
(2D and 3D) and heatmaps only, so ``use_app_template`` keeps Streamlit's layout part whole and
its entries for those trace types: every chart looks the same, its template is half as large.
"""

from __future__ import annotations


NAME = "streamlit_app"
DRAWN = ("bar", "histogram", "scatter", "scatter3d", "heatmap")  # every trace type in components/figures


def use_app_template() -> None:
    """Make the cut template Plotly's default (once per process; later calls only check)."""
    import plotly.graph_objects as go
    import plotly.io as pio
    import streamlit.elements.plotly_chart  # noqa: F401  (registers Streamlit's "streamlit" template)

    if pio.templates.default == NAME:
        return
    full = pio.templates["streamlit"]
    data = {kind: getattr(full.data, kind) for kind in DRAWN if getattr(full.data, kind)}
    pio.templates[NAME] = go.layout.Template(layout=full.layout, data=data)
    pio.templates.default = NAME
