"""Every registered page renders in a real Chromium, in both languages, with no exception element."""

import pytest

from components.navigation import PAGES
from tests.browser.conftest import assert_no_exception, open_page, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("spec", PAGES, ids=[spec.key for spec in PAGES])
def test_page_renders(page, app_url, spec, lang):
    open_page(page, app_url, spec.key, lang)
    assert_no_exception(page)
    assert page.locator("h1").count() >= 1
    page.wait_for_selector(".js-plotly-plot")
    screenshot(page, f"{spec.key}-{lang}")
