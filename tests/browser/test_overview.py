"""Overview in the browser: the "next token" button runs the loop and redraws the pipeline."""

import pytest

from tests.browser.conftest import assert_no_exception, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def next_token_chart(page) -> str:
    return page.evaluate(
        """() => {
            const chart = [...document.querySelectorAll('.js-plotly-plot')]
                .find(c => c.data && c.data[0] && c.data[0].type === 'bar');
            return chart ? JSON.stringify(chart.data) : '';
        }"""
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_next_token_button_redraws(page, app_url, lang):
    open_page(page, app_url, "overview", lang)
    page.wait_for_selector(".js-plotly-plot")
    # the timeline is drawn before the model loads: wait for the next-token bars themselves
    page.wait_for_function("""() => [...document.querySelectorAll('.js-plotly-plot')]
        .some(c => c.data && c.data[0] && c.data[0].type === 'bar')""", timeout=60_000)
    before = next_token_chart(page)
    assert before
    page.locator("[data-testid='stButton'] button").first.click()
    wait_for_app(page)
    assert_no_exception(page)
    after = next_token_chart(page)
    assert after and after != before
    screenshot(page, f"overview-after-next-{lang}")
