"""Tokenizers in the browser: an example button and the merge slider change their charts; typed HTML stays text."""

import pytest

from tests.browser import conftest
from tests.browser.conftest import (RUN_TIMEOUT_MS, assert_injection_inert, assert_no_exception, chart_signature,
                                    open_page, screenshot, wait_for_app)

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION + ' **bold** [link](http://x) 猫'
COMPARE_CHART = 0  # the first Plotly chart on the page: tokens per tokenizer
MERGE_CHART = 1  # the second: text length after each BPE merge


@pytest.fixture()
def tall_page(browser):
    """A window tall enough to hold the whole page, so every chart is drawn and one screenshot shows it all."""
    context = browser.new_context(viewport={"width": 1400, "height": 5200}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield page
    context.close()


def test_example_button_changes_the_comparison(tall_page, app_url):
    page = tall_page
    open_page(page, app_url, "tokenizers")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2")
    screenshot(page, "tokenizers-full-en")
    before = chart_signature(page, COMPARE_CHART)
    page.get_by_role("button", name="Chinese", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert "自然语言处理" in page.locator("[data-testid='stTextArea'] textarea").first.input_value()
    assert chart_signature(page, COMPARE_CHART) != before


def test_merge_slider_moves_and_typed_html_stays_text(tall_page, app_url):
    page = tall_page
    open_page(page, app_url, "tokenizers")
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2")
    before = chart_signature(page, MERGE_CHART)
    widget = page.locator("[data-testid='stSlider']").filter(has_text="Merges done")
    slider = widget.get_by_role("slider")
    thumb_value = widget.locator("[data-testid='stSliderThumbValue']")
    slider.focus()
    start = int(thumb_value.inner_text())
    for _ in range(3):
        slider.press("ArrowRight")
    value = int(thumb_value.inner_text())
    assert value > start
    # The slider sends its value after a short pause: wait until the page shows that merge.
    page.get_by_text(f"Merge {value}:").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text(f"Merge {value}:").count() == 1
    assert chart_signature(page, MERGE_CHART) != before

    # The same page: typed HTML and markdown stay inert text in the chips.
    box = page.locator("[data-testid='stTextArea'] textarea").first
    box.fill(INJECTION)
    box.press("Control+Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
    assert page.locator("[data-testid='stApp'] a[href='http://x']").count() == 0
    assert page.get_by_text("<img", exact=False).count() > 0
