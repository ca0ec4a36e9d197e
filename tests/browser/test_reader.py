"""Reader page in the browser, in both languages: the guess chart redraws when a chip is hidden,
the recipe's seed moves the chips, typed HTML stays text; screenshots at 1280 x 720."""

import pytest

from tests.browser import conftest
from tests.browser.conftest import assert_injection_inert, assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def keyed_signature(page, key: str) -> str:
    container = page.locator(f".st-key-{key}")
    container.scroll_into_view_if_needed()
    container.locator(".js-plotly-plot").wait_for()
    return container.evaluate("(element) => JSON.stringify(element.querySelector('.js-plotly-plot').data)")


def small_screens(page, name: str) -> None:
    """The page as a projector shows it: 1280 x 720, the top and each section scrolled into view."""
    page.set_viewport_size({"width": 1280, "height": 720})
    wait_for_app(page)
    page.screenshot(path=str(conftest.SCREENSHOTS / f"{name}-top.png"))
    for key in ("reader_shares_chart", "reader_similarity_chart", "reader_curve_chart"):
        page.locator(f".st-key-{key}").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(conftest.SCREENSHOTS / f"{name}-{key}.png"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reader_page_in_both_languages(page, app_url, lang):
    open_page(page, app_url, "reader", lang)
    assert_no_exception(page)
    page.locator(".st-key-reader_curve_chart .js-plotly-plot").wait_for(timeout=180_000)
    conftest.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    small_screens(page, f"reader-{lang}")
    page.set_viewport_size({"width": 1400, "height": 1000})
    screenshot(page, f"reader-{lang}")
    assert page.get_by_text("[MASK]").count() >= 1


def test_hiding_a_chip_adds_a_guess_chart_and_the_seed_moves_the_recipe(page, app_url):
    open_page(page, app_url, "reader")
    before = keyed_signature(page, "reader_guess_chart_5")
    box = page.locator(".st-key-reader_chips").get_by_role("combobox")
    box.click()
    box.fill("2: dog")
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert keyed_signature(page, "reader_guess_chart_2")
    assert keyed_signature(page, "reader_guess_chart_5") != before  # the dog is hidden too now
    shares = keyed_signature(page, "reader_shares_chart")
    seed = page.locator(".st-key-reader_recipe_seed input")
    seed.fill("7")
    seed.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert keyed_signature(page, "reader_shares_chart") != shares


def test_html_in_the_sentence_is_shown_as_text(page, app_url):
    open_page(page, app_url, "reader", "zh")
    box = page.locator(".st-key-reader_sentence input")
    box.fill(conftest.INJECTION + " [MASK]")
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
