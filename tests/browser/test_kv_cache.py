"""KV cache in the browser: the context slider changes the size chart; a timing run draws its charts."""

import pytest

from tests.browser.conftest import assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_context_changes_the_cache_sizes_and_a_run_draws_timings(page, app_url):
    open_page(page, app_url, "kv_cache")
    page.wait_for_selector(".js-plotly-plot")
    assert page.locator(".js-plotly-plot").count() == 1  # nothing timed yet: only the size chart
    before = chart_signature(page, 0)
    slider = page.locator("[data-testid='stSlider']").filter(has_text="Context length").get_by_role("slider")
    slider.focus()
    slider.press("ArrowLeft")  # 8,192 -> 4,096 tokens
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 0) != before

    tokens = page.locator("[data-testid='stSlider']").filter(has_text="Tokens to generate").get_by_role("slider")
    tokens.focus()
    tokens.press("Home")  # 1 token ...
    for _ in range(3):
        tokens.press("ArrowRight")  # ... then 4
    wait_for_app(page)
    page.get_by_role("button", name="Run both and time them").click()
    page.get_by_text("Identical output").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").count() == 4
    screenshot(page, "kv_cache-run")
