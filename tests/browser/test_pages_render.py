"""Every registered page renders in a real Chromium, in both languages, with no exception
element, and no request leaves the machine while it loads."""

from urllib.parse import urlparse

import pytest

from components.navigation import PAGES
from tests.browser.conftest import assert_no_exception, open_page, screenshot

pytestmark = pytest.mark.browser
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in LOCAL_HOSTS


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("spec", PAGES, ids=[spec.key for spec in PAGES])
def test_page_renders(page, app_url, spec, lang):
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not is_local(request.url) else None)
    open_page(page, app_url, spec.key, lang)
    assert_no_exception(page)
    assert page.locator("h1").count() >= 1
    page.wait_for_selector(".js-plotly-plot")
    screenshot(page, f"{spec.key}-{lang}")
    assert not outside, f"requests left the machine: {outside}"
