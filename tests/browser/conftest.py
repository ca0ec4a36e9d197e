"""Real-browser harness: `streamlit run app.py` on a free localhost port, driven by Debian's Chromium.

Chromium is found through CHROMIUM_PATH or the usual install locations. Without one the
browser tests are skipped with a reason, except under CI=true, where they must run.
Screenshots go to <tmp>/transformer-explainer-screenshots/.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bench.server import free_port, start_server, stop_server, wait_healthy

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(tempfile.gettempdir()) / "transformer-explainer-screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                       "/snap/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
RUN_TIMEOUT_MS = 180_000


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), *CHROMIUM_CANDIDATES,
                  shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true but no Chromium found: install Debian's chromium or set CHROMIUM_PATH")
        pytest.skip("no Chromium found (set CHROMIUM_PATH or install Debian's chromium)")
    return path


@pytest.fixture(scope="session")
def app_url(chromium_path) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(Path(tempfile.gettempdir()) / f"streamlit-test-{port}.log", "w")
    process = start_server(port, output=log, extra_flags=("--client.showErrorDetails", "full"))
    try:
        wait_healthy(url, process, timeout=90, poll_s=0.3)
        yield url
    finally:
        stop_server(process)
        log.close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield page
    context.close()


def wait_for_app(page) -> None:
    """Wait until the script has finished running and nothing is pending.

    Widgets such as sliders send their value a moment after the key press, so the rerun may
    not have started yet when this is called: give it that moment first."""
    page.wait_for_timeout(600)
    page.wait_for_selector("[data-testid='stApp']", timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        """() => {
            const app = document.querySelector("[data-testid='stApp']");
            const state = app && app.getAttribute('data-test-script-state');
            const running = document.querySelector("[data-testid='stStatusWidget'] button, [data-testid='stSpinner']");
            return state === 'notRunning' && !running;
        }""",
        timeout=RUN_TIMEOUT_MS,
    )
    page.wait_for_timeout(400)


def open_page(page, app_url: str, key: str, lang: str = "en") -> None:
    """Open a registered page by its URL path (the default page lives at the root)."""
    from components.navigation import PAGES

    path = "" if key == PAGES[0].key else key
    page.goto(f"{app_url}/{path}?lang={lang}")
    wait_for_app(page)
    assert page.get_by_text("Page not found").count() == 0, f"no page at /{path}"


def assert_no_exception(page) -> None:
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.first.inner_text()


INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


def assert_injection_inert(page) -> None:
    """Typed markup stayed text: no script ran and no element was injected into the app."""
    assert_no_exception(page)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("[data-testid='stApp'] img[src='x']").count() == 0
    assert page.locator("[data-testid='stApp'] script:not([src])").filter(has_text="__pwned").count() == 0


def chart_signature(page, index: int = 0) -> str:
    """A fingerprint of the n-th Plotly chart's data, to tell whether a control changed it."""
    return page.evaluate(
        """(index) => {
            const charts = document.querySelectorAll('.js-plotly-plot');
            const chart = charts[index];
            return chart ? JSON.stringify(chart.data) : '';
        }""",
        index,
    )


def screenshot(page, name: str, max_height: int = 8000) -> Path:
    """The whole page: Streamlit scrolls inside its own container, so the viewport is made as
    tall as the content for the shot, then restored."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size
    height = page.evaluate(
        """() => {
            const main = document.querySelector("[data-testid='stMain']");
            return main ? main.scrollHeight : document.body.scrollHeight;
        }"""
    )
    page.set_viewport_size({"width": viewport["width"], "height": min(max(height, viewport["height"]), max_height)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
    return path
