"""The app's Plotly template is Streamlit's, less entries for trace types no chart uses."""

import re
from pathlib import Path

import plotly.io as pio

from components.plotly_theme import DRAWN, NAME, use_app_template

FIGURES = Path(__file__).resolve().parents[2] / "components" / "figures"


def trace_types_in_builders() -> set[str]:
    """Every trace type the figure builders create: go.Bar(...) -> bar, dict(type="heatmap", ...) -> heatmap."""
    found = set()
    for path in FIGURES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= {name.lower() for name in re.findall(r"go\.([A-Z][A-Za-z0-9]*)\(", text) if name != "Figure"}
        found |= set(re.findall(r"dict\(type=\"([a-z0-9]+)\"", text))
    shapes_and_axes = {"category", "circle", "data", "line", "linear", "log", "path", "rect", "date", "-"}
    return found - shapes_and_axes


def test_every_trace_type_a_builder_uses_keeps_its_template_entry():
    used = trace_types_in_builders()
    assert {"bar", "heatmap", "scatter"} <= used  # the reader sees the builders
    assert used <= set(DRAWN), f"add {sorted(used - set(DRAWN))} to components.plotly_theme.DRAWN"


def test_the_cut_template_equals_streamlits_for_what_is_drawn():
    use_app_template()
    assert pio.templates.default == NAME
    ours, theirs = pio.templates[NAME].to_plotly_json(), pio.templates["streamlit"].to_plotly_json()
    assert ours["layout"] == theirs["layout"]
    assert {kind: theirs["data"][kind] for kind in DRAWN if kind in theirs["data"]} == ours["data"]
    assert len(str(ours)) < 0.6 * len(str(theirs))
    use_app_template()  # a second call keeps it
    assert pio.templates.default == NAME
