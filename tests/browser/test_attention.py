"""Attention heatmaps in the browser: the layer slider redraws the close-up; typed HTML stays text."""

import pytest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_layer_slider_changes_the_heatmap_and_html_stays_inert(page, app_url):
    open_page(page, app_url, "attention")
    page.wait_for_selector(".js-plotly-plot")
    before = chart_signature(page, 0)
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Layer").get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 0) != before
    assert page.locator(".js-plotly-plot").count() == 3, "close-up, lines and the all-heads grid"
    page.locator(".js-plotly-plot").nth(2).scroll_into_view_if_needed()
    screenshot(page, "attention-grid")
    box = page.locator("[data-testid='stTextArea'] textarea").first
    box.fill('<img src=x onerror="window.__pwned=1"> it was <b>bold</b>')
    box.press("Control+Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
