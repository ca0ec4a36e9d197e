"""Projector mode: one sidebar switch (and ``?projector=true`` in a link) for showing the app to a room.

When it is on, for this session only:

- text is larger: the page's root font size grows, so everything Streamlit sizes in rem (markdown,
  headings, widgets, tables) grows with it; token chips get a larger font and more padding;
- every chart's fonts grow (titles, axes, legends, annotations, text on bars and cells, hover
  labels), with room made for them: the top margin and the height grow too, so a legend set above
  the plot stays clear of the title; the numbers in an attention heatmap's cells become whole
  percentages, short enough to be read from the back of the room;
- what a class does not need to see is out of the way: the glossary is not drawn, the device and
  seed boxes are hidden (they keep their values), and a section's long explanation is folded into
  an expander under its heading (``components.layout.section_header``).

Every chart of every page passes through ``st.plotly_chart`` (or a column's ``.plotly_chart``),
and Streamlit has no per-session chart theme, so ``route_charts`` (called once by app.py) puts
``fit_figure`` in front of that one call. Charts are enlarged on a copy: the figures pages keep in
caches are shared between sessions and never changed.
"""

from __future__ import annotations

import base64
import copy
import re

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.figures.shared import KEEP_TEXT_SIZE
from components.i18n import t

PROJECTOR_KEY = "projector"  # the toggle's key, and so the URL parameter: ?projector=true
ALSO_ON = ("1", "on", "yes")  # other spellings a hand-typed link may use
FONT_SCALE = 1.4  # chart fonts (13 px -> 18 px)
HEIGHT_SCALE = 1.2  # chart heights: room for the larger labels without charts twice as tall
ROOT_FONT_PX = 20  # Streamlit's default is 16 px
PLOTLY_FONT_PX = 12  # what plotly.js draws when a figure names no size
PLOTLY_HOVER_PX = 13
TITLE_LINE_PX = 20  # one more line of a chart title, before the scale
PLOTLY_HEIGHT_PX = 450  # what plotly.js draws when a figure names no height
HIDDEN = ("st-key-seed", "st-key-device_box")  # the sidebar's seed and device boxes

_STYLE = f"""<style>
html {{ font-size: {ROOT_FONT_PX}px; }}
[data-testid="stMainBlockContainer"] {{ padding: 3.5rem 2rem 4rem; }}
h1 {{ font-size: 2.2rem !important; }}
[data-testid="stMarkdownColoredBackground"] {{ font-size: 1.15em; padding: 0.1em 0.3em; line-height: 1.9; }}
{", ".join(f".{name}" for name in HIDDEN)} {{ display: none; }}
</style>"""


def projector_on() -> bool:
    return bool(st.session_state.get(PROJECTOR_KEY, False))


def projector_switch() -> None:
    """The sidebar toggle, bound to the URL; ``?projector=1`` (or on / yes) in a typed link counts as on."""
    if PROJECTOR_KEY not in st.session_state and str(st.query_params.get(PROJECTOR_KEY, "")).lower() in ALSO_ON:
        st.session_state[PROJECTOR_KEY] = True
    st.toggle(t("common.projector"), key=PROJECTOR_KEY, bind="query-params", help=t("common.projector_help"))
    if projector_on():
        st.html(_STYLE)


def _scale_fonts(node, scale: float) -> None:
    """Every ``size`` inside a ``*font`` dict (font, tickfont, textfont, ...) in a figure's dict, times ``scale``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if "font" in key and isinstance(value, dict) and isinstance(value.get("size"), (int, float)):
                value["size"] = round(value["size"] * scale, 1)
            if isinstance(value, (dict, list, tuple)):
                _scale_fonts(value, scale)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _scale_fonts(item, scale)


def _matrix(z) -> np.ndarray | None:
    """A heatmap's ``z`` as plotly's ``to_dict`` leaves it (nested lists, or a typed array)."""
    if isinstance(z, dict) and "bdata" in z:
        shape = [int(n) for n in str(z.get("shape", "")).split(",") if n.strip()]
        values = np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"]))
        return values.reshape(shape) if shape else values
    try:
        matrix = np.asarray(z, dtype=float)
    except (TypeError, ValueError):
        return None
    return matrix


def _percent_cells(spec: dict) -> None:
    """On a heatmap whose rows are distributions (attention: every row adds up to 1), cell numbers
    become whole percentages ("34%" for 0.342): three characters instead of five, so the text plotly
    fits into each cell comes out about half again as large, and the colour bar counts in percent
    too. Hover labels keep the exact value."""
    for trace in spec.get("data", []):
        if trace.get("type") != "heatmap" or not trace.get("texttemplate", "").startswith("%{z:"):
            continue
        matrix = _matrix(trace.get("z"))
        if matrix is None or matrix.ndim != 2 or not matrix.size or not np.isfinite(matrix).all():
            continue
        if matrix.min() >= 0 and np.allclose(matrix.sum(axis=1), 1.0, atol=1e-3):
            trace["texttemplate"] = "%{z:.0%}"
            trace.setdefault("colorbar", {})["tickformat"] = ".0%"  # the scale in the cells' unit


TITLE_LINE_CHARS = 36  # about what the narrower of two charts side by side holds at 1280 px (a CJK character counts 2)


_PIECES = re.compile(r"[\u2e80-\uffff]\s*|[^\s\u2e80-\uffff]+\s*|\s+")  # a CJK character, a word, or spaces


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def wrap_title(text: str, line_chars: int = TITLE_LINE_CHARS) -> str:
    """A chart title broken into lines (``<br>``) of at most about ``line_chars``: plotly never wraps
    a title, so an enlarged one ran past a half-width chart's edge. Breaks at spaces, and anywhere
    in Chinese, which has none; a title that already has line breaks is left as it is."""
    if "<br" in text or _width(text) <= line_chars:
        return text
    lines, line = [], ""
    for piece in _PIECES.findall(text):
        if line and _width(line + piece.rstrip()) > line_chars:
            lines.append(line.rstrip())
            line = ""
        line += piece
    return "<br>".join([*lines, line.rstrip()])


def _wrap_titles(layout: dict) -> int:
    """Wrap the figure's title; returns the number of lines it gained."""
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else None
    if not isinstance(text, str):
        return 0
    wrapped = wrap_title(text)
    title["text"] = wrapped
    return wrapped.count("<br>") - text.count("<br>")


def enlarge(spec: dict, scale: float = FONT_SCALE) -> dict:
    """A figure's dict (``fig.to_dict()``) with larger fonts and the room they need; ``spec`` is changed in place.
    A drawing whose labels must fit its boxes names its own scale in ``layout.meta`` (``KEEP_TEXT_SIZE``)."""
    layout = spec.setdefault("layout", {})
    meta = layout.get("meta")
    (scale_key,) = KEEP_TEXT_SIZE
    if isinstance(meta, dict) and isinstance(meta.get(scale_key), (int, float)):
        scale = meta[scale_key]
    _scale_fonts(spec, scale)
    _percent_cells(spec)
    layout.setdefault("font", {}).setdefault("size", round(PLOTLY_FONT_PX * scale, 1))
    hover_font = layout.setdefault("hoverlabel", {}).setdefault("font", {})
    hover_font.setdefault("size", round(PLOTLY_HOVER_PX * scale, 1))
    extra_lines = _wrap_titles(layout)
    extra_px = round(extra_lines * TITLE_LINE_PX * scale)
    if extra_lines:  # plotly hangs a wrapped title's first line above the top edge: move it down by the lines added
        height = layout.get("height") if isinstance(layout.get("height"), (int, float)) else PLOTLY_HEIGHT_PX
        total = round(height * HEIGHT_SCALE) + extra_px
        layout["title"].update(yref="container", yanchor="top", y=1 - (extra_px + 8) / total)
    margin = layout.get("margin")
    if isinstance(margin, dict) and isinstance(margin.get("t"), (int, float)):
        margin["t"] = round(margin["t"] * scale) + extra_px
    if isinstance(layout.get("height"), (int, float)):
        layout["height"] = round(layout["height"] * HEIGHT_SCALE) + extra_px
    return spec


def fit_figure(figure):
    """The figure to draw: enlarged (a copy) in projector mode, else the very same object."""
    if not projector_on() or not hasattr(figure, "to_dict"):
        return figure
    import plotly.graph_objects as go

    spec = copy.deepcopy(figure.to_dict())  # a cached figure hands out its own dicts: enlarge a copy
    return go.Figure(enlarge(spec), _validate=False)


_plain_plotly_chart = DeltaGenerator.plotly_chart


def _projected_plotly_chart(self, figure_or_data, *args, **kwargs):
    return _plain_plotly_chart(self, fit_figure(figure_or_data), *args, **kwargs)


def route_charts() -> None:
    """Send every chart through ``fit_figure``: ``st.plotly_chart`` and a container's ``.plotly_chart``."""
    if DeltaGenerator.plotly_chart is not _projected_plotly_chart:
        DeltaGenerator.plotly_chart = _projected_plotly_chart
        st.plotly_chart = st._main.plotly_chart  # bound when streamlit was imported: bind it again
