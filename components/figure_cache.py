"""Charts built once per distinct input and reused on every rerun.

A page reruns from the top when any control moves, and most of its charts have not changed:
building a Plotly figure (validation of every property) costs several milliseconds each.
The figure is kept as a resource rather than with ``st.cache_data``: it is only read
(``st.plotly_chart`` sends a copy), and unpickling a Figure from ``cache_data`` runs
plotly's validation again, as slow as building it anew. Its dict form, which
``st.plotly_chart`` asks for on every draw (a deep copy with every array encoded: a third of a
warm rerun's time on a page of charts), is made once too.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st


class ReadOnlyFigure(go.Figure):
    """A cached figure, never changed once built: ``to_dict`` makes the dict form once and hands out
    the same nested dicts (only the top level and the layout are fresh copies, so a caller may set or
    drop a layout key; anything deeper is read-only)."""

    def to_dict(self) -> dict:
        spec = self.__dict__.get("_spec_once")
        if spec is None:
            spec = super().to_dict()
            self.__dict__["_spec_once"] = spec  # past plotly's property checks: a plain instance attribute
        return {**spec, "layout": dict(spec.get("layout", {}))}


def cached_figure(build: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """``build(*args, **kwargs)``, from the cache when the same builder had the same arguments.

    The arguments are keyed by a digest of their pickle (one pass in C; Streamlit's own hashing
    walks nested lists and dicts element by element); equal inputs that pickle differently only
    cost a second build. Arguments that cannot be pickled (a lambda) are built every time."""
    name = f"{build.__module__}.{build.__qualname__}"
    try:
        packed = pickle.dumps((name, args, sorted(kwargs.items())), protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return build(*args, **kwargs)
    return _built_by_digest(hashlib.blake2b(packed, digest_size=20).hexdigest(), build, args, kwargs)


def _read_only(figure):
    if type(figure) is go.Figure:
        figure.__class__ = ReadOnlyFigure
    return figure


@st.cache_resource(max_entries=256, show_spinner=False)
def _built_by_digest(digest: str, _build: Callable[..., go.Figure], _args: tuple, _kwargs: dict) -> go.Figure:
    return _read_only(_build(*_args, **_kwargs))
