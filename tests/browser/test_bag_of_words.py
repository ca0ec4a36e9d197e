"""Bag-of-words in the browser: a control changes the chart; typed HTML stays inert text."""

import pytest

from tests.browser import conftest

from tests.browser.conftest import assert_injection_inert, assert_no_exception, chart_signature, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser
INJECTION = conftest.INJECTION + ' **bold** dog'


def test_weighting_changes_the_vectors(page, app_url):
    open_page(page, app_url, "bag_of_words")
    page.wait_for_selector(".js-plotly-plot")
    before = chart_signature(page, 0)
    page.get_by_text("TF-IDF", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert chart_signature(page, 0) != before
    screenshot(page, "bag_of_words-tfidf")


def test_html_in_sentences_is_shown_as_text(page, app_url):
    open_page(page, app_url, "bag_of_words")
    box = page.locator("[data-testid='stTextArea'] textarea").first
    box.fill(INJECTION + "\nman bites dog")
    box.press("Control+Enter")
    wait_for_app(page)
    assert_no_exception(page)
    assert_injection_inert(page)
    screenshot(page, "bag_of_words-injection")
