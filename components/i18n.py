"""Every string a user sees comes from here.

Locale files live in ``assets/locales/<lang>/<namespace>.json``; a key is written
``"<namespace>.<name>"`` (for example ``t("bow.title")``).  One file per page keeps
the strings of a page together and lets pages grow independently.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import streamlit as st

LOCALE_DIR = Path(__file__).resolve().parent.parent / "assets" / "locales"
LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_STATE_KEY = "lang"


@lru_cache(maxsize=None)
def load_locale(lang: str) -> dict[str, str]:
    """All strings of one language, keyed ``namespace.name``."""
    strings: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang).glob("*.json")):
        namespace = path.stem
        for name, text in json.loads(path.read_text(encoding="utf-8")).items():
            strings[f"{namespace}.{name}"] = text
    return strings


def current_language() -> str:
    lang = st.session_state.get(LANGUAGE_STATE_KEY, DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def init_language() -> None:
    """Take the first language from the URL (``?lang=zh``), so a link can open the app in Chinese.
    An unknown code falls back to English; components.share says so in the page and writes the
    language shown back into ``?lang=``."""
    if LANGUAGE_STATE_KEY not in st.session_state:
        requested = st.query_params.get(LANGUAGE_STATE_KEY)
        st.session_state[LANGUAGE_STATE_KEY] = requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, lang: str, **values) -> str:
    """The text for ``key`` in ``lang``; a missing key raises, so tests catch it."""
    text = load_locale(lang)[key]
    return text.format(**values) if values else text


def t(key: str, **values) -> str:
    """The text for ``key`` in the language chosen in the sidebar."""
    return translate(key, current_language(), **values)


def has_key(key: str, lang: str | None = None) -> bool:
    return key in load_locale(lang or current_language())


def option_labels(prefix: str):
    """A format_func for selects and radios: option ``v`` shows the text of ``prefix + v``.

    The language is read now, not when the label is drawn, so the labels match the page.
    """
    lang = current_language()
    return lambda value: translate(f"{prefix}{value}", lang)
