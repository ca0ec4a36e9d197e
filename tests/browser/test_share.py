"""Shareable links in a real browser, one test per page: move a control, take the page's URL, open it
in a new browser context (a student's laptop: no cookies, no session) and see the same control value
and the same charts; then a URL with garbage values opens with the defaults, the same charts as a fresh
page, and a note. Plus the sidebar's "copy link" box (screenshots in both languages) and a link to a
page that does not exist. One server for the whole file (the session's ``app_url``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from components.i18n import translate
from components.navigation import PAGES
from tests.browser.conftest import SCREENSHOTS, assert_no_exception, open_page, wait_for_app

pytestmark = pytest.mark.browser

TESTIDS = {"slider": "stSlider", "checkbox": "stCheckbox", "toggle": "stCheckbox", "radio": "stRadio",
           "text": "stTextInput", "area": "stTextArea"}


@dataclass(frozen=True)
class Move:
    """One control of a page: its kind, key (the URL parameter), English label, and how to move it
    (arrow presses for a slider, the option's position for a radio, the new text for a text box)."""

    page: str
    kind: str
    key: str
    label: str
    to: int | str = 1

    @property
    def garbage(self) -> dict[str, str]:
        """What a broken link asks: a value this control cannot take (a text box takes any text, so
        then the sidebar seed gets one), and a parameter no page has."""
        bad = {"slider": "abc", "checkbox": "maybe", "toggle": "maybe", "radio": "no-such-option"}
        own = {self.key: bad[self.kind]} if self.kind in bad else {"seed": "abc"}
        return {**own, "no_such_setting": "1"}


MOVES = (
    Move("overview", "text", "overview_prompt", "Prompt", "The cat sat on the"),
    Move("bag_of_words", "checkbox", "bag_of_words_lowercase", "Lower-case first"),
    Move("embeddings", "slider", "embeddings_neighbours", "Add nearest neighbours of each word"),
    Move("tokenizers", "area", "tokenizers_text", "Text to tokenize", "Shared links keep state."),
    Move("translator", "radio", "translator_metric", "Score on the held-out sentences", 1),
    Move("qkv", "toggle", "qkv_no_projection", "No projection (Q = K = V = X)"),
    Move("attention", "slider", "attention_layer", "Layer"),
    Move("masking", "checkbox", "masking_padding_causal", "Also causal"),
    Move("sparse", "slider", "sparse_window", "Window (tokens)", 3),
    Move("inside_block", "radio", "inside_block_model", "Model", 0),
    Move("reader", "slider", "reader_top_k", "Guesses shown", 2),
    Move("sampling", "slider", "sampling_temperature", "Temperature", 4),
    Move("kv_cache", "toggle", "kv_cache_log", "Logarithmic scale"),
    Move("blocks", "slider", "blocks_depth_layers", "Layers", 2),
)


def control(page, move: Move):
    """The control's element: the first of its kind whose label is exactly ``move.label``."""
    label = page.get_by_test_id("stWidgetLabel").get_by_text(move.label, exact=True)
    return page.get_by_test_id(TESTIDS[move.kind]).filter(has=label).first


def control_value(page, move: Move) -> str:
    """The control's value once two readings half a second apart agree: a text box restored from a
    link is drawn empty for a moment before its text arrives, and under load a radio was read with no
    option checked yet."""
    before = read_value(page, move)
    for _ in range(20):
        page.wait_for_timeout(500)
        now = read_value(page, move)
        if now == before and not (move.kind == "radio" and now == "-1"):  # -1: no option checked yet
            return now
        before = now
    return now


def read_value(page, move: Move) -> str:
    element = control(page, move)
    if move.kind == "slider":
        return element.get_by_test_id("stSliderThumbValue").first.inner_text()
    if move.kind in ("checkbox", "toggle"):
        return str(element.locator("input").is_checked())
    if move.kind == "radio":
        return str(element.locator("input[type=radio]").evaluate_all("(inputs) => inputs.findIndex(i => i.checked)"))
    return element.locator("textarea" if move.kind == "area" else "input").input_value()


def move_control(page, move: Move) -> None:
    element = control(page, move)
    element.scroll_into_view_if_needed()
    if move.kind == "slider":
        handle = element.get_by_role("slider").first
        handle.focus()
        for _ in range(move.to):
            handle.press("ArrowRight")
    elif move.kind in ("checkbox", "toggle"):
        element.locator("label").first.click()
    elif move.kind == "radio":
        element.get_by_role("radio").nth(move.to).check(force=True)  # the input is hidden under its label
    else:
        box = element.locator("textarea" if move.kind == "area" else "input")
        box.fill(move.to)
        box.press("Control+Enter" if move.kind == "area" else "Enter")
    wait_for_app(page)


def charts(page) -> list[str]:
    """Every Plotly chart's data on the page, in order, once two readings a second apart agree (under
    load a page's later charts are drawn a while after the script has finished)."""
    page.wait_for_selector(".js-plotly-plot")
    read = """() => Array.from(document.querySelectorAll('.js-plotly-plot'),
                               c => JSON.stringify([c.data || null, c.layout && c.layout.yaxis && c.layout.yaxis.type]))"""
    before = page.evaluate(read)
    for _ in range(30):
        page.wait_for_timeout(1000)
        now = page.evaluate(read)
        if now == before and not any(chart.startswith("[null") for chart in now):
            return now
        before = now
    return now


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def link_note(page, lang: str = "en"):
    """The note that says what of a link was not used (its first words, as rendered)."""
    return page.get_by_test_id("stAlert").filter(has_text=translate("share.note_title", lang).replace("**", "")[:20])


@pytest.fixture()
def fresh_context(browser):
    """Another browser context: what a student who opens the link has (no cookies, a new session)."""
    contexts = []

    def open_fresh(url: str):
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        contexts.append(context)
        other = context.new_page()
        other.set_default_timeout(180_000)
        other.goto(url)
        wait_for_app(other)
        return other

    yield open_fresh
    for context in contexts:
        context.close()


def test_every_page_is_in_this_test():
    assert [move.page for move in MOVES] == [spec.key for spec in PAGES]


@pytest.mark.parametrize("move", MOVES, ids=lambda move: move.page)
def test_a_copied_link_restores_the_view_and_a_broken_one_opens_the_defaults(page, app_url, fresh_context, move):
    open_page(page, app_url, move.page)
    default_value, default_charts = control_value(page, move), charts(page)
    move_control(page, move)
    assert_no_exception(page)
    moved_value, moved_charts = control_value(page, move), charts(page)
    assert moved_value != default_value
    assert moved_charts != default_charts, "the control changed no chart"
    link = page.url
    assert move.key in params(link), link

    student = fresh_context(link)
    assert_no_exception(student)
    assert control_value(student, move) == moved_value
    assert charts(student) == moved_charts
    assert link_note(student).count() == 0

    path = urlsplit(link).path
    broken = fresh_context(f"{app_url}{path}?lang=en&" + "&".join(f"{k}={v}" for k, v in move.garbage.items()))
    assert_no_exception(broken)
    assert link_note(broken).count() == 1
    for key in move.garbage:
        assert key not in params(broken.url), broken.url  # a link copied from here is clean
    assert control_value(broken, move) == default_value
    assert charts(broken) == default_charts


@pytest.mark.parametrize("lang", ("en", "zh"))
def test_the_copy_link_box_gives_the_current_url(page, app_url, lang):
    open_page(page, app_url, "sparse", lang)
    slider = page.get_by_test_id("stSlider").first.get_by_role("slider").first
    slider.focus()
    slider.press("ArrowRight")
    wait_for_app(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name=translate("share.button", lang)).click()
    code = page.get_by_test_id("stCode").filter(has_text="sparse")
    code.wait_for()
    link = code.inner_text().strip()
    assert urlsplit(link).path == urlsplit(page.url).path
    assert params(link) == params(page.url) and params(link)["lang"] == [lang]
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"share-link-{lang}.png"))


def test_a_link_to_a_page_that_does_not_exist_opens_the_first_page_with_a_note(page, app_url):
    page.goto(f"{app_url}/no_such_page?lang=zh&no_such_setting=1")
    wait_for_app(page)
    assert_no_exception(page)
    note = link_note(page, "zh").filter(has_text="no_such_page")
    assert note.count() == 1
    assert note.filter(has_text=translate("share.missing_page", "zh", page="@").split("@")[0]).count() == 1
    assert "no_such_setting" not in page.url
