"""Charts built once per distinct input and reused on every rerun.

A page reruns from the top when any control moves, and most of its charts have not changed:
building a Plotly figure (validation of every property) costs several milliseconds each.
The figure is kept as a resource rather than with ``st.cache_data``: it is only read
(``st.plotly_chart`` sends a copy), and unpickling a Figure from ``cache_data`` runs
plotly's validation again, as slow as building it anew.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st


def cached_figure(build: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """``build(*args, **kwargs)``, from the cache when the same builder had the same arguments."""
    return _built(f"{build.__module__}.{build.__qualname__}", build, *args, **kwargs)


@st.cache_resource(max_entries=256, show_spinner=False)
def _built(name: str, _build: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    return _build(*args, **kwargs)
