"""Attention heatmaps on a long text in the browser at 1280 x 720, both languages: past the model's
limit (MiniLM's 512 tokens in English, the tiny GPT's 256 on Chinese) the page says what it cut,
joins tokens into words (the tiny GPT's byte pieces back into Chinese characters), the range slider
moves the close-up, and the all-heads grid is still drawn. Screenshots of the view and of the page."""

import pytest

from bench.bench_app import LONG_TEXT
from components.i18n import translate
from tests.browser.conftest import assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser

# Our own Chinese paragraph, repeated past the tiny GPT's 256 tokens (it cuts most characters into bytes;
# MiniLM's vocabulary knows few Chinese characters and reads most of them as [UNK]).
LONG_TEXT_ZH = ("老师把一句很长的话写在黑板上，同学们一个字一个字地读。读到“它”的时候，大家都回头去找它指的是哪个词。"
                "注意力就是这样：每个词都听其他的词，再决定谁对自己最重要！") * 8
MODEL = {"en": "minilm", "zh": "tiny_gpt_2024"}
LIMIT = {"en": "512", "zh": "256"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_long_text_stays_readable(page, app_url, lang):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_url, "attention", lang)
    page.locator("[data-testid='stRadio']").filter(has_text=translate("attention.model", lang)) \
        .get_by_text(translate(f"attention.model_{MODEL[lang]}", lang), exact=True).click()
    wait_for_app(page)
    box = page.locator("[data-testid='stTextArea'] textarea").first
    box.fill(LONG_TEXT if lang == "en" else LONG_TEXT_ZH)
    box.press("Control+Enter")
    wait_for_app(page)
    assert_no_exception(page)
    alert = page.locator("[data-testid='stAlert']").filter(has_text=LIMIT[lang])
    assert alert.count() >= 1, "the cap is said, with the counts"
    page.locator("[data-testid='stRadio']").filter(has_text=translate("attention.unit", lang)) \
        .get_by_text(translate("attention.unit_word", lang), exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").count() == 3, "close-up, lines and the all-heads grid"
    range_slider = page.locator("[data-testid='stSlider']").filter(has_text=translate("attention.range", lang))
    before = chart_signature(page, 0)
    thumb = range_slider.get_by_role("slider").nth(1)  # a long text: more words than one close-up shows
    thumb.focus()
    thumb.press("End")
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 0) != before, "the range moves the close-up"
    full = screenshot(page, f"attention-long-{lang}")
    page.get_by_text(translate("attention.head_title", lang)).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(full.with_name(f"attention-long-view-{lang}.png")))  # what a projector shows
