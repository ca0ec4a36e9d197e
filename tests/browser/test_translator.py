"""Translator in the browser: the "next token" button writes the translation step by step and
the cross-attention map grows a row per step, in both languages."""

import pytest

from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def cross_rows(page) -> int:
    """Rows of the cross-attention heatmap (the one whose x axis is the source, y the decoder inputs)."""
    return page.evaluate(
        """() => {
            const maps = [...document.querySelectorAll('.js-plotly-plot')]
                .filter(c => c.data && c.data[0] && c.data[0].type === 'heatmap');
            const cross = maps[3];  // bottleneck strip, encoder, decoder, cross
            return cross ? cross.data[0].y.length : -1;
        }"""
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_step_by_step_decode(page, app_url, lang):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_url, "translator", lang)
    page.wait_for_selector(".js-plotly-plot")
    screenshot(page, f"translator-top-{lang}")
    assert cross_rows(page) == 1  # only <bos> so far
    button = page.locator("[data-testid='stButton'] button").first
    for step in (2, 3):
        button.click()
        wait_for_app(page)
        assert_no_exception(page)
        for _ in range(20):  # on a busy machine the rerun may land a moment after the app looks idle
            if cross_rows(page) == step:
                break
            page.wait_for_timeout(500)
        assert cross_rows(page) == step
    page.get_by_text("Layer" if lang == "en" else "层", exact=True).first.scroll_into_view_if_needed()
    screenshot(page, f"translator-attentions-{lang}")
