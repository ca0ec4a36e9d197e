"""2017 vs 2024 block in the browser: a switch redraws the diagram and the counts; the All-2017 button."""

import pytest

from models.labs import blocks as lab
from tests.browser.conftest import assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


N_CHARTS = 11


def wait_for_charts(page) -> None:
    """Plotly draws after the script has finished; wait until every chart of the page is there."""
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length >= {N_CHARTS}")


DIAGRAM_TEXT = "() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[0].layout.annotations)"


def wait_for_change(page, expression: str, before: str) -> str:
    page.wait_for_function(f"(before) => ({expression})() !== before", arg=before, timeout=30_000)
    return page.evaluate(expression)


def metric_values(page) -> list[str]:
    return page.locator("[data-testid='stMetricValue']").all_inner_texts()


def test_switches_change_the_diagram_and_counts(page, app_url):
    open_page(page, app_url, "blocks")
    wait_for_charts(page)
    diagram = page.evaluate(DIAGRAM_TEXT)
    assert "Grouped-query attention" in diagram
    page.get_by_role("button", name="All 2017").click()
    wait_for_app(page)
    assert_no_exception(page)
    assert "Grouped-query attention" not in wait_for_change(page, DIAGRAM_TEXT, diagram)
    total = lab.block_stats("tiny", lab.BlockChoices.style_2017()).total
    assert metric_values(page)[0] == f"{total / 1e6:,.2f}M"
    screenshot(page, "blocks-2017")

    breakdown = chart_signature(page, 1)
    page.get_by_text("SwiGLU", exact=True).first.click()
    wait_for_app(page)
    assert_no_exception(page)
    wait_for_change(page, "() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[1].data)", breakdown)
    page.get_by_role("button", name="All 2024").click()
    wait_for_app(page)
    assert metric_values(page)[0] == f"{lab.block_stats('tiny', lab.BlockChoices.style_2024()).total / 1e6:,.2f}M"
    screenshot(page, "blocks-en-full")


def test_scores_method_changes_the_heatmap_and_chinese_renders(page, app_url):
    open_page(page, app_url, "blocks")
    wait_for_charts(page)
    charts = page.locator(".js-plotly-plot")
    index = next(i for i in range(charts.count())
                 if page.evaluate("(i) => (document.querySelectorAll('.js-plotly-plot')[i].data[0] || {}).type", i) == "heatmap")
    before = chart_signature(page, index)
    page.get_by_text("Sinusoidal, added", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    wait_for_change(page, f"() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[{index}].data)", before)
    open_page(page, app_url, "blocks", "zh")
    wait_for_charts(page)
    assert_no_exception(page)
    assert page.get_by_text("两个模块，并排对照").count() == 1
    screenshot(page, "blocks-zh-full")
