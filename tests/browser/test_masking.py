"""Masking page in the browser: the pickers redraw their charts, the proof reads "exactly unchanged",
typed HTML stays text."""

import pytest

from tests.browser import conftest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION


def keyed_signature(page, key: str) -> str:
    """The data of the Plotly chart drawn with ``key=key`` (scrolled into view so it renders)."""
    container = page.locator(f".st-key-{key}")
    container.scroll_into_view_if_needed()
    container.locator(".js-plotly-plot").wait_for()
    return container.evaluate("(element) => JSON.stringify(element.querySelector('.js-plotly-plot').data)")


def choose(page, key: str, typed: str) -> None:
    """Pick an option of the selectbox drawn with ``key=key`` by typing part of its label (unique)."""
    box = page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    box.fill(typed)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)


def test_pickers_redraw_and_the_proof_holds(page, app_url):
    open_page(page, app_url, "masking")
    assert_no_exception(page)
    weights = keyed_signature(page, "masking_writer_weights_chart")
    choose(page, "masking_both_layer", "4")
    assert keyed_signature(page, "masking_writer_weights_chart") != weights
    delta = keyed_signature(page, "masking_delta_chart")
    choose(page, "masking_edit_position", "14:")
    assert keyed_signature(page, "masking_delta_chart") != delta
    assert page.get_by_text("exactly unchanged").count() == 1
    screenshot(page, "masking-proof")


def test_html_in_the_replacement_is_shown_as_text(page, app_url):
    open_page(page, app_url, "masking", "zh")
    box = page.get_by_label("替换为", exact=True)
    box.fill(INJECTION)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
    assert page.get_by_text("完全没有变化").count() == 1
