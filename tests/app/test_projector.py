"""Projector mode: the sidebar switch (and ?projector= in a link) enlarges every chart's fonts and hover labels,
folds section explanations, leaves the glossary out and keeps the seed; the cached figures other sessions get
stay as they were."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from components.projector import FONT_SCALE, PLOTLY_FONT_PX, enlarge
from tests.app.conftest import APP, assert_clean, open_page

PAGES = ("app_pages/overview.py", "app_pages/tokenizers.py", "app_pages/blocks.py")


def chart_specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def base_font(spec: dict) -> float:
    return spec["layout"].get("font", {}).get("size", PLOTLY_FONT_PX)


def scale_of(spec: dict) -> float:
    return spec["layout"].get("meta", {}).get("projector_font_scale", FONT_SCALE) if isinstance(
        spec["layout"].get("meta"), dict) else FONT_SCALE


@pytest.mark.parametrize("path", PAGES)
def test_the_switch_changes_the_figure_font_sizes(path, lang):
    at = open_page(path, lang)
    plain = chart_specs(at)
    assert plain
    labels_before = [e.label for e in at.sidebar.expander]
    at.toggle(key="projector").set_value(True).run()
    assert_clean(at)
    projected = chart_specs(at)
    assert len(projected) == len(plain)
    for before, after in zip(plain, projected):
        scale = scale_of(after)
        assert base_font(after) == pytest.approx(base_font(before) * scale, abs=0.1)
        assert after["layout"]["hoverlabel"]["font"]["size"] >= 13 * scale - 0.1
        if before["layout"].get("height"):
            assert after["layout"]["height"] > before["layout"]["height"]
    assert any(scale_of(spec) == FONT_SCALE for spec in projected)
    assert labels_before and not at.sidebar.expander  # the glossary is left out
    assert at.session_state["seed"] == 0  # hidden, not dropped

    at.toggle(key="projector").set_value(False).run()
    assert_clean(at)
    assert [base_font(spec) for spec in chart_specs(at)] == [base_font(spec) for spec in plain]
    assert [e.label for e in at.sidebar.expander] == labels_before


def test_explanations_fold_into_expanders():
    at = open_page("app_pages/tokenizers.py")
    plain = len(at.expander)
    at.toggle(key="projector").set_value(True).run()
    assert_clean(at)
    folded = [e for e in at.expander if e.label == "Explanation"]
    assert len(folded) >= 3 and len(at.expander) == plain - 1 + len(folded)  # the glossary went
    assert any("Byte-pair encoding starts" in m.value for e in folded for m in e.markdown)


@pytest.mark.parametrize("value, on", [("true", True), ("1", True), ("on", True), ("false", False),
                                       ("garbage", False), ("", False)])
def test_a_link_turns_it_on(value, on):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["projector"] = value
    at.run()
    assert_clean(at)
    assert at.toggle(key="projector").value is on
    fonts = [base_font(spec) for spec in chart_specs(at)]
    assert fonts and all((font > 13) is on for font in fonts)


def test_enlarge_scales_every_font_and_makes_room():
    spec = {"data": [{"type": "bar", "textfont": {"size": 10}}],
            "layout": {"font": {"size": 13}, "height": 300, "margin": {"t": 40, "l": 10},
                       "xaxis": {"tickfont": {"size": 11}, "title": {"font": {"size": 12}}},
                       "annotations": [{"text": "a", "font": {"size": 15}}, {"text": "b"}]}}
    out = enlarge(spec, 1.5)
    assert out["data"][0]["textfont"]["size"] == 15
    assert out["layout"]["font"]["size"] == 19.5
    assert out["layout"]["xaxis"]["tickfont"]["size"] == 16.5 and out["layout"]["xaxis"]["title"]["font"]["size"] == 18
    assert out["layout"]["annotations"][0]["font"]["size"] == 22.5 and "font" not in out["layout"]["annotations"][1]
    assert out["layout"]["margin"] == {"t": 60, "l": 10} and out["layout"]["height"] > 300
    assert out["layout"]["hoverlabel"]["font"]["size"] == 19.5
    assert enlarge({"layout": {}}, 1.5)["layout"]["font"]["size"] == PLOTLY_FONT_PX * 1.5
    kept = enlarge({"layout": {"meta": {"projector_font_scale": 1.0}, "font": {"size": 13}, "height": 100}})
    assert kept["layout"]["font"]["size"] == 13 and kept["layout"]["height"] > 100


def test_attention_cells_show_whole_percentages_and_other_heatmaps_keep_their_numbers():
    import numpy as np
    import plotly.graph_objects as go

    rows = np.array([[0.342, 0.658], [1.0, 0.0]])
    attention = enlarge(go.Figure(go.Heatmap(z=rows, texttemplate="%{z:.3f}")).to_dict())
    assert attention["data"][0]["texttemplate"] == "%{z:.0%}" and attention["data"][0]["colorbar"]["tickformat"] == ".0%"
    as_lists = enlarge({"data": [{"type": "heatmap", "z": rows.tolist(), "texttemplate": "%{z:.2f}"}]})
    assert as_lists["data"][0]["texttemplate"] == "%{z:.0%}"
    similarity = enlarge(go.Figure(go.Heatmap(z=[[1.0, 0.4], [0.4, 1.0]], texttemplate="%{z:.2f}")).to_dict())
    assert similarity["data"][0]["texttemplate"] == "%{z:.2f}"  # rows that do not add up to 1 stay as they were
    counts = enlarge({"data": [{"type": "heatmap", "z": [[2, 0]], "texttemplate": "%{text}"}]})
    assert counts["data"][0]["texttemplate"] == "%{text}"


def test_long_chart_titles_are_wrapped_with_room_made_for_the_extra_line():
    from components.projector import TITLE_LINE_CHARS, wrap_title

    long_title = "The 768 hidden units: gate, up, and what passes (their product)"
    out = enlarge({"layout": {"title": {"text": long_title}, "margin": {"t": 40}, "height": 300}}, 1.5)
    lines = out["layout"]["title"]["text"].split("<br>")
    assert len(lines) == 2 and " ".join(lines) == long_title
    short = enlarge({"layout": {"title": {"text": "Short"}, "margin": {"t": 40}, "height": 300}}, 1.5)
    assert out["layout"]["margin"]["t"] > short["layout"]["margin"]["t"] == 60
    assert out["layout"]["height"] > short["layout"]["height"]
    chinese = wrap_title("768 个隐藏单元：门控、上投影，以及通过的部分（它们的乘积）")
    assert chinese.replace("<br>", "") == "768 个隐藏单元：门控、上投影，以及通过的部分（它们的乘积）" and "<br>" in chinese
    assert all(sum(2 if ord(ch) > 0x2E80 else 1 for ch in line) <= TITLE_LINE_CHARS for line in chinese.split("<br>"))
    assert wrap_title("one<br>two " * 10) == "one<br>two " * 10  # already broken by its author
