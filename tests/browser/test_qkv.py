"""Q/K/V page in the browser: the word picker redraws step 1, the no-projection switch redraws the matrices,
typed HTML stays text."""

import pytest

from tests.browser.conftest import assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> it **was**'
WEIGHTS, BARS = 0, 2  # chart order on the page: W_Q|W_K|W_V, X|Q|K|V, step-1 bars, ...


def test_current_word_and_no_projection_change_the_charts(page, app_url):
    open_page(page, app_url, "qkv")
    page.wait_for_selector(".js-plotly-plot")
    bars = chart_signature(page, BARS)
    page.get_by_label("Current word", exact=True).click()
    page.get_by_role("option", name="2: dog").click()
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, BARS) != bars
    weights = chart_signature(page, WEIGHTS)
    page.get_by_text("No projection (Q = K = V = X)").click()
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, WEIGHTS) != weights
    screenshot(page, "qkv-no-projection")


def test_html_in_the_sentence_is_shown_as_text(page, app_url):
    open_page(page, app_url, "qkv", "zh")
    box = page.get_by_label("句子", exact=True)
    box.fill(INJECTION)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("[data-testid='stApp'] img[src='x']").count() == 0
    screenshot(page, "qkv-injection-zh")
