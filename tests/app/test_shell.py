"""The app shell: every registered page renders in both languages; locales are complete."""

import json

import pytest

from components.navigation import PAGES
from tests.app.conftest import REPO, open_page

LOCALES = REPO / "assets" / "locales"


def locale_keys(lang: str) -> dict[str, set[str]]:
    return {path.stem: set(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted((LOCALES / lang).glob("*.json"))}


def test_both_locales_have_the_same_files_and_keys():
    english, chinese = locale_keys("en"), locale_keys("zh")
    assert english.keys() == chinese.keys()
    for namespace in english:
        assert english[namespace] == chinese[namespace], namespace


def test_locale_values_are_non_empty_and_placeholders_match():
    import string

    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for path in (LOCALES / "en").glob("*.json"):
        english = json.loads(path.read_text(encoding="utf-8"))
        chinese = json.loads((LOCALES / "zh" / path.name).read_text(encoding="utf-8"))
        for key, text in english.items():
            assert text.strip() and chinese[key].strip(), f"{path.stem}.{key} is empty"
            assert fields(text) == fields(chinese[key]), f"{path.stem}.{key} placeholders differ"


def test_every_page_has_its_page_strings():
    for spec in PAGES:
        for lang in ("en", "zh"):
            keys = locale_keys(lang)[spec.key]
            assert {"nav_title", "title", "intro", "notice"} <= keys, (spec.key, lang)


@pytest.mark.parametrize("spec", PAGES, ids=[spec.key for spec in PAGES])
def test_every_page_renders_in_both_languages(spec, lang):
    at = open_page(spec.path, lang)
    assert at.title, f"{spec.key} shows no title"


def test_sidebar_controls_move(lang):
    at = open_page(PAGES[0].path, lang)
    at.sidebar.number_input(key="seed").set_value(7).run()
    assert at.session_state["seed"] == 7
    at.sidebar.selectbox(key="device").set_value("cpu").run()
    other = "zh" if lang == "en" else "en"
    at.sidebar.radio(key="lang").set_value(other).run()
    assert not at.exception
    assert at.session_state["lang"] == other


def sidebar_widget_keys(block) -> list[str]:
    """Keys of the sidebar's widgets in the order they are shown (containers opened in place)."""
    keys = []
    for child in block.children.values():
        if hasattr(child, "children"):  # a container, keyed (the device slot) or not
            keys += sidebar_widget_keys(child)
        elif getattr(child, "key", None):
            keys.append(child.key)
    return keys


def test_sidebar_shows_language_projector_device_seed_in_order(lang):
    # The device picker is drawn after the page (it needs torch), into a slot kept in its place.
    at = open_page(PAGES[0].path, lang)
    assert sidebar_widget_keys(at.sidebar) == ["lang", "projector", "device", "seed"]


def test_device_choice_is_kept_across_reruns(lang):
    at = open_page(PAGES[0].path, lang)
    at.sidebar.selectbox(key="device").set_value("cpu").run()
    at.run()
    assert at.sidebar.selectbox(key="device").value == "cpu"
    assert at.session_state["device"] == "cpu"


def test_thread_count_is_set_before_torch_is_imported():
    # One thread by default; torch alone would take one per core.
    import os
    import subprocess
    import sys

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: one thread is also torch's own default")
    code = ("import sys; from models.core.device import configure_threads; configure_threads(); "
            "assert 'torch' not in sys.modules; import torch; print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={"PATH": os.environ.get("PATH", "")},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("page, key", [("app_pages/sampling.py", "sampling_seed"), ("app_pages/sparse.py", "sparse_seed")])
def test_a_page_seed_follows_the_sidebar(page, key):
    """One behaviour for the sidebar's seed: a page's own seed box starts from it, may differ for a
    while, and takes the sidebar's value again whenever that changes."""
    at = open_page(page)
    assert at.session_state[key] == 0
    at.number_input(key=key).set_value(5).run()
    at.run()
    assert at.session_state[key] == 5  # kept while the sidebar stays
    at.sidebar.number_input(key="seed").set_value(9).run()
    assert not at.exception and at.session_state[key] == 9


def test_the_kv_cache_device_box_starts_from_the_sidebar():
    at = open_page("app_pages/kv_cache.py")
    at.sidebar.selectbox(key="device").set_value("cpu").run()
    assert not at.exception and at.session_state["kv_cache_device"] == "cpu"
