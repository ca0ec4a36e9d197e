"""Q/K/V page in the browser: the word picker redraws step 1, the no-projection switch redraws the matrices,
typed HTML stays text."""

import pytest

from tests.browser import conftest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, open_page, screenshot, wait_for_app
from tests.browser.test_masking import choose, keyed_signature

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION + ' it **was**'


def test_current_word_and_no_projection_change_the_charts(page, app_url):
    open_page(page, app_url, "qkv")
    bars = keyed_signature(page, "qkv_bars_chart")
    choose(page, "qkv_token", "2: dog")
    assert keyed_signature(page, "qkv_bars_chart") != bars
    compare = keyed_signature(page, "qkv_compare_chart")
    page.get_by_text("No projection (Q = K = V = X)").click()
    wait_for_app(page)
    assert_no_exception(page)
    assert keyed_signature(page, "qkv_compare_chart") != compare
    assert page.locator(".st-key-qkv_weights_chart").count() == 0  # no W_Q, W_K, W_V without projections
    screenshot(page, "qkv-no-projection")


def test_html_in_the_sentence_is_shown_as_text(page, app_url):
    open_page(page, app_url, "qkv", "zh")
    box = page.get_by_label("句子", exact=True)
    box.fill(INJECTION)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
    screenshot(page, "qkv-injection-zh")


def test_tiny_gpt_weights_are_drawn_as_block_averages(page, app_url):
    """With the tiny GPT's 256-wide weights the W_Q / W_K / W_V chart draws 2 x 2 block means:
    128 rows in the browser, and the hover says it is a block average."""
    open_page(page, app_url, "qkv")
    page.get_by_text("Tiny GPT 2024 (trained, GQA)").click()
    wait_for_app(page)
    assert_no_exception(page)
    keyed_signature(page, "qkv_weights_chart")  # scrolled into view and drawn
    plot = page.locator(".st-key-qkv_weights_chart .js-plotly-plot")
    assert plot.evaluate("(element) => element._fullData.map(trace => trace.z.length)") == [128, 128, 128]
    plot.evaluate("(element) => Plotly.Fx.hover(element, {xval: 3, yval: 5}, 'xy')")
    hover = page.locator(".st-key-qkv_weights_chart .hovertext")
    hover.wait_for()
    assert "block average (2 × 2)" in hover.text_content()
    assert "10–11" in hover.text_content() and "6–7" in hover.text_content()
    assert page.get_by_text("average of a 2 × 2 block of weights").count() == 1
    screenshot(page, "qkv-tiny-gpt-weights")
