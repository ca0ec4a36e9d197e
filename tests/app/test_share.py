"""Shareable links in AppTest: a URL sets the controls it names, bad or stale values fall back to the
defaults with a note, every control of every page is bound to the URL, and the sidebar's link is
the URL. (The browser half, a moved control's link opened in a fresh browser: tests/browser/test_share.py.)"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.i18n import translate
from components.navigation import PAGES
from tests.app.conftest import APP, assert_clean

# Controls a link does not carry, on purpose: a person's own model or tokenizer loads only with its
# button (and "download" would let a link fetch from the internet). The language radio is not bound
# (its labels are "English" / "中文"): components.share keeps ``?lang=`` itself.
NOT_IN_LINKS = ("lang", "tokenizers_user_spec", "tokenizers_user_download", "_user_model_spec", "_user_model_online")
WIDGET_KINDS = ("checkbox", "toggle", "radio", "selectbox", "multiselect", "slider", "select_slider",
                "number_input", "text_input", "text_area")


def open_link(page: str, **params: str) -> AppTest:
    """Open ``app_pages/<page>.py`` the way a pasted link does: the page itself, with these parameters."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert_clean(at)
    return at


def link_notes(at: AppTest, lang: str = "en") -> list[str]:
    title = translate("share.note_title", lang)
    return [str(info.value) for info in at.info if title in str(info.value)]


def test_a_link_sets_the_controls_it_names():
    at = open_link("sparse", lang="zh", sparse_length="128", sparse_pattern=translate("sparse.pattern_sliding_window", "zh"),
                   seed="7", sparse_layers="3")
    assert at.session_state["lang"] == "zh"
    assert at.slider(key="sparse_length").value == 128
    assert at.selectbox(key="sparse_pattern").value == "sliding_window"
    assert at.slider(key="sparse_layers").value == 3
    assert at.number_input(key="seed").value == 7
    assert at.number_input(key="sparse_seed").value == 7  # the page's seed follows the sidebar's
    assert not link_notes(at, "zh")
    assert at.query_params["sparse_length"] == "128" and at.query_params["lang"] == "zh"


def test_bad_and_stale_values_fall_back_to_the_defaults_with_a_note(lang):
    at = open_link("sparse", lang=lang, sparse_window="abc", sparse_n_global="99", sparse_pattern="no-such-pattern",
                   sparse_length="999", qkv_token="3", seed="-5", device="tpu", sparse_stride="4", sparse_layers="2.0")
    assert at.slider(key="sparse_window").value == 4
    assert at.slider(key="sparse_n_global").value == 2
    assert at.selectbox(key="sparse_pattern").value == "bigbird"
    assert at.number_input(key="seed").value == 0
    assert at.selectbox(key="device").value == "auto"
    assert at.slider(key="sparse_length").value == 64
    [note] = link_notes(at, lang)
    for name in ("sparse\\_window\\=abc", "sparse\\_n\\_global\\=99", "sparse\\_pattern\\=no\\-such\\-pattern",
                 "sparse\\_length\\=999", "qkv\\_token\\=3", "seed\\=\\-5", "device\\=tpu"):
        assert name in note, (name, note)
    assert translate("share.unknown", lang, names="qkv\\_token\\=3") in note
    assert "sparse\\_stride" not in note and "sparse\\_layers" not in note  # they asked for the defaults
    for gone in ("sparse_window", "sparse_n_global", "sparse_pattern", "sparse_length", "qkv_token", "seed", "device"):
        assert gone not in at.query_params, gone  # a link copied from here is clean


def test_an_unknown_language_opens_in_english_with_a_note():
    at = open_link("masking", lang="fr")
    assert at.session_state["lang"] == "en"
    [note] = link_notes(at)
    assert "lang\\=fr" in note
    assert at.query_params["lang"] == "en"


def test_the_note_is_shown_once_not_on_every_rerun():
    at = open_link("bag_of_words", no_such_setting="1")
    assert link_notes(at)
    at.checkbox(key="bag_of_words_lowercase").uncheck().run()
    assert_clean(at)
    assert not link_notes(at)


def test_a_language_switch_writes_the_new_option_labels_into_the_link():
    """A bound radio or select box keeps its option's label in the URL; labels change with the language."""
    at = open_link("sparse", lang="en", sparse_pattern=translate("sparse.pattern_sliding_window", "en"))
    at.sidebar.radio(key="lang").set_value("zh").run()
    assert_clean(at)
    at.run()  # the relabelled value reaches the URL in the run after the switch
    assert at.query_params["sparse_pattern"] == translate("sparse.pattern_sliding_window", "zh")
    assert at.query_params["lang"] == "zh"
    assert at.selectbox(key="sparse_pattern").value == "sliding_window"


def test_the_sidebar_link_is_the_url_with_every_parameter(lang):
    at = open_link("sampling", lang=lang, sampling_temperature="1.2", sampling_top_k="40")
    assert at.slider(key="sampling_temperature").value == pytest.approx(1.2)
    [code] = at.sidebar.code  # inside the "copy link" popover
    link = code.value
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    assert query == {"lang": lang, "sampling_temperature": "1.2", "sampling_top_k": "40"}


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.key)
def test_every_control_of_a_page_is_bound_to_the_url(spec):
    """Each page opened with a parameter no page has: the note names it, and every control on the
    page (main area and sidebar) carries its key as its URL parameter."""
    at = open_link(spec.key, lang="en", no_such_setting="1")
    [note] = link_notes(at)
    assert "no\\_such\\_setting" in note
    unbound = []
    for kind in WIDGET_KINDS:
        for widget in getattr(at, kind):
            if not widget.key.endswith(NOT_IN_LINKS) and widget.proto.query_param_key != widget.key:
                unbound.append((kind, widget.key))
    assert not unbound, unbound
    assert {"seed", "device"} <= {w.key for kind in ("number_input", "selectbox") for w in getattr(at.sidebar, kind)}
