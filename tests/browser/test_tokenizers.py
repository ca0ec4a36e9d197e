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


@pytest.fixture()
def small_page(browser):
    """A 1280 x 720 window, the size of a classroom projector."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield page
    context.close()


@pytest.mark.parametrize("lang, button, section", [("en", "Course test", "Characters cut between their bytes"),
                                                   ("zh", "课程测试句", "在字节中间被切开的字符")])
def test_course_example_with_gpt4_and_byte_pieces(small_page, app_url, lang, button, section):
    page = small_page
    open_page(page, app_url, "tokenizers", lang)
    page.get_by_role("button", name=button, exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert "CAPITALIZATION" in page.locator("[data-testid='stTextArea'] textarea").first.input_value()
    text = page.locator("[data-testid='stMain']").inner_text()
    assert "GPT-4 (cl100k_base)" in text or "GPT-4（cl100k_base）" in text
    assert "<0xE9>" in text  # GPT-4's chip for the first byte of 鸟
    assert "\ufffd" not in text
    screenshot(page, f"tokenizers-course-{lang}")
    heading = page.get_by_text(section, exact=True)
    heading.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(conftest.SCREENSHOTS / f"tokenizers-bytes-{lang}.png"))
