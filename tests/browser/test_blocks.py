"""2017 vs 2024 block in the browser: a switch redraws the diagram and the counts; the All-2017 button."""

import pytest

from models import blocks_lab as lab
from tests.browser.conftest import assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def metric_values(page) -> list[str]:
    return page.locator("[data-testid='stMetricValue']").all_inner_texts()


def test_switches_change_the_diagram_and_counts(page, app_url):
    open_page(page, app_url, "blocks")
    page.wait_for_selector(".js-plotly-plot")
    diagram = chart_signature(page, 0)
    layout_before = page.evaluate("() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[0].layout.annotations)")
    page.get_by_role("button", name="All 2017").click()
    wait_for_app(page)
    assert_no_exception(page)
    layout_after = page.evaluate("() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[0].layout.annotations)")
    assert layout_after != layout_before
    total = lab.block_stats("tiny", lab.BlockChoices.style_2017()).total
    assert metric_values(page)[0] == f"{total / 1e6:,.2f}M"
    screenshot(page, "blocks-2017")

    breakdown = chart_signature(page, 1)
    page.get_by_text("SwiGLU", exact=True).first.click()
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 1) != breakdown
    assert diagram is not None


def test_scores_method_changes_the_heatmap_and_chinese_renders(page, app_url):
    open_page(page, app_url, "blocks")
    page.wait_for_selector(".js-plotly-plot")
    charts = page.locator(".js-plotly-plot")
    index = next(i for i in range(charts.count())
                 if page.evaluate("(i) => (document.querySelectorAll('.js-plotly-plot')[i].data[0] || {}).type", i) == "heatmap")
    before = chart_signature(page, index)
    page.get_by_text("Sinusoidal, added", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, index) != before
    open_page(page, app_url, "blocks", "zh")
    assert_no_exception(page)
    assert page.get_by_text("两个块，并排对照").count() == 1
    screenshot(page, "blocks-zh-full")
