"""Q/K/V page in the browser: the word picker redraws step 1, the no-projection switch redraws the matrices,
typed HTML stays text."""

import pytest

from tests.browser import conftest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, open_page, screenshot, wait_for_app
from tests.browser.test_masking import choose, keyed_signature

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION + ' it **was**'


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_opens_on_minilm_with_it_selected(page, app_url, lang):
    """MiniLM's real weights by default: "it" is the current word, the head is one the page found,
    and the chosen head's W_Q, W_K, W_V are drawn with every number (384 rows each)."""
    open_page(page, app_url, "qkv", lang)
    assert_no_exception(page)
    box = page.locator(".st-key-qkv_token").get_by_role("combobox")
    assert "8: it" in box.input_value() + (box.get_attribute("aria-label", timeout=30_000) or "") + page.locator(
        ".st-key-qkv_token").evaluate("(element) => element.textContent")
    keyed_signature(page, "qkv_weights_chart")
    plot = page.locator(".st-key-qkv_weights_chart .js-plotly-plot")
    assert plot.evaluate("(element) => element._fullData.map(trace => trace.z.length)") == [384, 384, 384]
    keyed_signature(page, "qkv_bars_chart")
    screenshot(page, f"qkv-minilm-{lang}")


def test_current_word_and_no_projection_change_the_charts(page, app_url):
    open_page(page, app_url, "qkv")
    bars = keyed_signature(page, "qkv_bars_chart")
    choose(page, "qkv_token", "3: dog")
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
    """With the tiny GPT's 256-wide weights, W_Q / W_K / W_V show the chosen head's columns exactly
    (256 rows) and W_O draws 2 x 2 block means: 128 rows, and the hover says it is a block average."""
    open_page(page, app_url, "qkv")
    page.get_by_text("Tiny GPT 2024 (trained, GQA)").click()
    wait_for_app(page)
    assert_no_exception(page)
    keyed_signature(page, "qkv_weights_chart")  # scrolled into view and drawn
    plot = page.locator(".st-key-qkv_weights_chart .js-plotly-plot")
    assert plot.evaluate("(element) => element._fullData.map(trace => trace.z.length)") == [256, 256, 256]
    keyed_signature(page, "qkv_wo_chart")
    plot = page.locator(".st-key-qkv_wo_chart .js-plotly-plot")
    assert plot.evaluate("(element) => element._fullData.map(trace => trace.z.length)") == [128]
    plot.evaluate("(element) => Plotly.Fx.hover(element, {xval: 3, yval: 5}, 'xy')")
    hover = page.locator(".st-key-qkv_wo_chart .hovertext")
    hover.wait_for()
    assert "block average (2 × 2)" in hover.text_content()
    assert "10–11" in hover.text_content() and "6–7" in hover.text_content()
    assert page.get_by_text("average of a 2 × 2 block of W_O").count() == 1
    screenshot(page, "qkv-tiny-gpt-weights")
