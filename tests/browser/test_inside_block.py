"""Inside-a-block page in the browser, both languages at 1280x720: pickers redraw their charts,
the per-position proof reads "exactly unchanged", typed HTML stays text, screenshots saved."""

import pytest

from tests.browser import conftest
from tests.browser.conftest import assert_injection_inert, assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser
PROOF_TEXT = {"en": "exactly unchanged", "zh": "完全没有变化"}


def keyed_signature(page, key: str) -> str:
    container = page.locator(f".st-key-{key}")
    container.scroll_into_view_if_needed()
    container.locator(".js-plotly-plot").wait_for()
    return container.evaluate("(element) => JSON.stringify(element.querySelector('.js-plotly-plot').data)")


def choose(page, key: str, typed: str) -> None:
    box = page.locator(f".st-key-{key}").get_by_role("combobox")
    box.click()
    box.fill(typed)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pickers_redraw_and_the_proof_holds(page, app_url, lang):
    page.set_viewport_size({"width": 1280, "height": 720})
    open_page(page, app_url, "inside_block", lang)
    assert_no_exception(page)
    assert page.get_by_text(PROOF_TEXT[lang]).count() == 1
    hidden = keyed_signature(page, "inside_block_hidden_chart")
    lens = keyed_signature(page, "inside_block_lens_chart")
    choose(page, "inside_block_token", "7:")
    assert keyed_signature(page, "inside_block_hidden_chart") != hidden
    assert keyed_signature(page, "inside_block_lens_chart") != lens
    proof = keyed_signature(page, "inside_block_proof_chart")
    choose(page, "inside_block_layer", "2")
    assert keyed_signature(page, "inside_block_proof_chart") != proof
    assert page.get_by_text(PROOF_TEXT[lang]).count() == 1
    page.locator(".st-key-inside_block_routing_chart").scroll_into_view_if_needed()
    screenshot(page, f"inside_block-{lang}")


def test_html_in_the_prompt_is_shown_as_text(page, app_url):
    open_page(page, app_url, "inside_block")
    box = page.get_by_label("Prompt", exact=True)
    box.fill(conftest.INJECTION)
    box.press("Enter")
    wait_for_app(page)
    assert_injection_inert(page)
