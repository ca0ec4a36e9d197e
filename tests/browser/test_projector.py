"""Projector mode in the browser at 1280 x 720: a link with ?projector=true opens seven representative pages (the three new this round among them)
with larger text and chart fonts, the seed and device boxes hidden and no glossary; the sidebar switch turns
it off again. Screenshots of each page in both languages go to the screenshot folder."""

import pytest

from components.navigation import PAGES
from components.projector import FONT_SCALE, ROOT_FONT_PX
from tests.browser.conftest import RUN_TIMEOUT_MS, SCREENSHOTS, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser
SHOWN = ("overview", "tokenizers", "translator", "attention", "inside_block", "reader", "blocks")
CHART_FONTS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                     .map(chart => chart._fullLayout && chart._fullLayout.font.size)"""


@pytest.fixture()
def projector_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield page
    context.close()


def open_with_projector(page, app_url: str, key: str, lang: str, on: bool = True) -> None:
    path = "" if key == PAGES[0].key else key
    page.goto(f"{app_url}/{path}?lang={lang}" + ("&projector=true" if on else ""))
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length > 0")
    wait_for_app(page)
    assert_no_exception(page)


def root_font_px(page) -> float:
    return page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("key", SHOWN)
def test_projector_pages(projector_page, app_url, key, lang):
    page = projector_page
    open_with_projector(page, app_url, key, lang)
    page.screenshot(path=str(SCREENSHOTS / f"projector-{key}-{lang}-top.png"))
    assert root_font_px(page) == ROOT_FONT_PX
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.locator(".st-key-projector input").is_checked()
    assert sidebar.get_by_text("Projector mode" if lang == "en" else "投影模式", exact=True).is_visible()
    assert not sidebar.locator(".st-key-seed").is_visible()
    assert not sidebar.locator(".st-key-device_box").is_visible()
    assert sidebar.get_by_text("Glossary" if lang == "en" else "术语表").count() == 0
    fonts = page.evaluate(CHART_FONTS)
    enlarged = [font for font in fonts if font >= 12 * FONT_SCALE - 0.5]
    assert enlarged and len(fonts) - len(enlarged) <= 1, fonts  # only the block diagram keeps its text size
    screenshot(page, f"projector-{key}-{lang}-full", max_height=12000)


def test_the_switch_turns_it_off(projector_page, app_url):
    page = projector_page
    open_with_projector(page, app_url, "tokenizers", "en")
    enlarged = page.evaluate(CHART_FONTS)
    page.locator("[data-testid='stSidebar']").get_by_text("Projector mode", exact=True).click()
    wait_for_app(page)
    assert_no_exception(page)
    assert "projector" not in page.url
    assert root_font_px(page) == 16
    page.wait_for_function(f"() => {{ const fonts = ({CHART_FONTS})(); return fonts.length && fonts[0] < {enlarged[0]}; }}")
    assert not page.locator("[data-testid='stSidebar'] .st-key-projector input").is_checked()
    assert page.locator("[data-testid='stSidebar'] .st-key-seed").is_visible()
