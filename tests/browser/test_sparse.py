"""Sparse attention in the browser: a slider redraws the mask; the pattern picker moves the
frame in the gallery. (Timing runs in the AppTest with tiny sizes; here it would take too long.)"""

import pytest

from tests.browser.conftest import assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_window_slider_changes_the_mask_and_pattern_moves_the_gallery_frame(page, app_url):
    open_page(page, app_url, "sparse")
    page.wait_for_selector(".js-plotly-plot")
    before = chart_signature(page, 0)
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Window").get_by_role("slider")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 0) != before
    gallery_layout = page.evaluate("() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[1].layout)")
    page.locator("[data-testid='stSelectbox']").filter(has_text="Pattern").click()
    page.get_by_role("option", name="Sliding window").click()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.evaluate("() => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[1].layout)") != gallery_layout
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    screenshot(page, "sparse-gallery")
    page.locator(".js-plotly-plot").nth(3).scroll_into_view_if_needed()
    screenshot(page, "sparse-reach")
