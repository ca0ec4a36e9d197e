"""AppTest helpers: open a registered page through app.py in a chosen language and check it is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "app.py")
LANGS = ("en", "zh")


def all_locale_keys() -> set[str]:
    keys = set()
    for path in (REPO / "assets" / "locales").glob("*/*.json"):
        keys |= {f"{path.stem}.{name}" for name in json.loads(path.read_text(encoding="utf-8"))}
    return keys


LOCALE_KEYS = all_locale_keys()
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")
WIDGETS = ("button", "checkbox", "radio", "selectbox", "multiselect", "slider", "select_slider",
           "number_input", "text_input", "text_area", "toggle")


def visible_texts(at: AppTest) -> list[str]:
    """Text of every element and widget label on the page (main area and sidebar)."""
    texts = []
    for name in TEXT_ELEMENTS:
        texts += [str(element.value) for element in getattr(at, name)]
    for name in WIDGETS:
        texts += [str(widget.label) for widget in getattr(at, name)]
    return texts


def assert_clean(at: AppTest) -> None:
    """No exception element, and no raw locale key shown instead of a translation."""
    assert not at.exception, "\n".join(str(e.value) + "\n" + "".join(e.stack_trace) for e in at.exception)
    raw = [text for text in visible_texts(at) if text.strip() in LOCALE_KEYS]
    assert not raw, f"raw locale keys rendered: {raw}"


def open_page(path: str, lang: str = "en", timeout: float = 120, **state) -> AppTest:
    """Run app.py, switch to the page at ``path`` (relative to the repo root), run it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(path)
    at.run()
    assert_clean(at)
    return at


@pytest.fixture(params=LANGS)
def lang(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    """A tiny randomly initialised GPT-2 (2 layers, 2 heads, 64 positions) with the bundled tokenizer,
    saved like any local model folder, for the pages that take a user's own model."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from models.pretrained.tiny_gpt import load_tokenizer

    folder = tmp_path_factory.mktemp("attention_gpt2")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=4096, n_positions=64, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(folder)
    PreTrainedTokenizerFast(tokenizer_object=load_tokenizer(), bos_token="<|endoftext|>",
                            eos_token="<|endoftext|>").save_pretrained(folder)
    return folder
