"""Word embeddings in the browser: switching space redraws the map; the layer slider redraws the
contextual matrix; typed HTML stays inert text."""

import pytest

from tests.browser import conftest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION + ' king'


def chart_index(page, key: str) -> int:
    """Position of the Plotly chart inside the element whose class names the chart's key."""
    page.wait_for_selector(f".st-key-{key} .js-plotly-plot")
    return page.evaluate(
        """(key) => {
            const charts = [...document.querySelectorAll('.js-plotly-plot')];
            return charts.findIndex(c => c.closest(`.st-key-${key}`));
        }""",
        key,
    )


def test_space_switch_redraws_the_map(page, app_url):
    open_page(page, app_url, "embeddings")
    index = chart_index(page, "embeddings_projection_chart")
    assert index >= 0
    before = chart_signature(page, index)
    page.locator(".st-key-embeddings_space").get_by_text("MiniLM token table (pretrained)", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, chart_index(page, "embeddings_projection_chart")) != before
    screenshot(page, "embeddings-minilm")


def test_layer_slider_redraws_the_contextual_matrix(page, app_url):
    open_page(page, app_url, "embeddings")
    index = chart_index(page, "embeddings_contextual_chart")
    before = chart_signature(page, index)
    slider = page.locator(".st-key-embeddings_layer input[type='range']")
    slider.focus()
    slider.press("Home")  # last layer -> layer 0
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, chart_index(page, "embeddings_contextual_chart")) != before


def test_html_in_words_is_shown_as_text(page, app_url):
    open_page(page, app_url, "embeddings")
    box = page.locator(".st-key-embeddings_own_words input")
    box.fill(INJECTION)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_word_from_pieces_follows_the_layer(page, app_url, lang):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_url, "embeddings", lang)
    index = chart_index(page, "embeddings_pieces_chart")
    before = chart_signature(page, index)
    assert "vocal" in before and "ization" in before
    slider = page.locator(".st-key-embeddings_pieces_layer input[type='range']")
    slider.focus()
    slider.press("Home")  # the last layer -> 0, the embedding output
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, chart_index(page, "embeddings_pieces_chart")) != before
    section = page.locator(".st-key-embeddings_pieces_chart")
    section.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, f"embeddings-pieces-{lang}")
