"""A classroom at once: eight browser sessions against the one test server, each on a different page
typing its own marker text, all at the same time. No session shows an exception, no marker shows up
in another session's page, and the shared cached tiny GPT gives the same next-token chart before
and after the crowd."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.browser.conftest import (CHROMIUM_FLAGS, RUN_TIMEOUT_MS, assert_no_exception, chart_signature,
                                    open_page, wait_for_app)

pytestmark = pytest.mark.browser

# Pages with a text box near the top; each session types into the first one.
SESSION_PAGES = ("overview", "bag_of_words", "tokenizers", "qkv", "attention", "masking", "sampling", "kv_cache")

IDLE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const state = app && app.getAttribute('data-test-script-state');
    const running = document.querySelector("[data-testid='stStatusWidget'] button, [data-testid='stSpinner']");
    return state === 'notRunning' && !running;
}"""

EVERYTHING_SHOWN = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const boxes = [...document.querySelectorAll('input, textarea')].map(box => box.value);
    return (app ? app.innerText : '') + '\\n' + boxes.join('\\n');
}"""


def marker(index: int) -> str:
    return f"student{index}marker qxz{index}"


async def session(browser, app_url: str, key: str, index: int) -> dict:
    from components.navigation import PAGES

    context = await browser.new_context(viewport={"width": 1300, "height": 900}, locale="en-US")
    try:
        page = await context.new_page()
        page.set_default_timeout(RUN_TIMEOUT_MS)
        path = "" if key == PAGES[0].key else key
        await page.goto(f"{app_url}/{path}?lang=en")
        await page.wait_for_selector("[data-testid='stApp']")
        await page.wait_for_function(IDLE)
        box = page.locator("[data-testid='stTextInput'] input, [data-testid='stTextArea'] textarea").first
        is_area = await box.evaluate("box => box.tagName === 'TEXTAREA'")
        await box.fill(marker(index))
        await box.press("Control+Enter" if is_area else "Enter")
        await page.wait_for_timeout(300)
        await page.wait_for_function(IDLE)
        await page.wait_for_timeout(400)
        return {"key": key, "index": index,
                "exceptions": await page.locator("[data-testid='stException']").all_inner_texts(),
                "shown": await page.evaluate(EVERYTHING_SHOWN)}
    finally:
        await context.close()


async def classroom(chromium_path: str, app_url: str) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        try:
            return await asyncio.gather(*(session(browser, app_url, key, index)
                                          for index, key in enumerate(SESSION_PAGES)))
        finally:
            await browser.close()


def run_classroom(chromium_path: str, app_url: str) -> list[dict]:
    """The async sessions run on their own thread: the sync Playwright of the other tests owns this one."""
    outcome = {}

    def target():
        try:
            outcome["results"] = asyncio.run(classroom(chromium_path, app_url))
        except BaseException as error:  # handed back to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the concurrent sessions did not finish in 5 minutes"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["results"]


def overview_chart(page, app_url: str) -> str:
    open_page(page, app_url, "overview")
    page.wait_for_selector(".js-plotly-plot")
    wait_for_app(page)
    assert_no_exception(page)
    return chart_signature(page, 0)


def test_eight_sessions_at_once(page, app_url, chromium_path):
    before = overview_chart(page, app_url)
    results = run_classroom(chromium_path, app_url)
    assert len(results) == len(SESSION_PAGES) >= 8
    for result in results:
        assert not result["exceptions"], f"{result['key']}: {result['exceptions'][0]}"
        assert marker(result["index"]) in result["shown"], f"{result['key']}: its own text is missing"
        others = [marker(other["index"]) for other in results if other is not result]
        leaked = [text for text in others if text in result["shown"]]
        assert not leaked, f"{result['key']} shows another session's text: {leaked}"
    after = overview_chart(page, app_url)
    assert before and after == before, "the shared tiny GPT gave a different next-token chart after the crowd"
