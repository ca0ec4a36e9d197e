"""Sampling in the browser: the temperature slider reshapes the bars; a typed prompt stays inert text."""

import pytest

from tests.browser import conftest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION + ' **bold**'


def test_temperature_changes_the_adjusted_bars(page, app_url):
    open_page(page, app_url, "sampling")
    page.wait_for_selector(".js-plotly-plot")
    before = chart_signature(page, 0)
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Temperature").get_by_role("slider")
    slider.focus()
    slider.press("PageDown")  # one big step down
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 0) != before
    screenshot(page, "sampling-cold")


def test_html_in_the_prompt_is_shown_as_text(page, app_url):
    open_page(page, app_url, "sampling", "zh")
    box = page.locator("[data-testid='stTextInput'] input").first
    box.fill(INJECTION)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
    page.wait_for_selector(".js-plotly-plot")
    screenshot(page, "sampling-injection-zh")
