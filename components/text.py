"""User text in, safe text out: a capped text box and escaping for markdown and chart labels.

User text is never passed to HTML: markdown gets every ASCII punctuation mark
backslash-escaped, chart labels get HTML entities, so typed markup shows as text.
"""

from __future__ import annotations

import html
import string
import unicodedata

import streamlit as st

from components.i18n import t

MAX_CHARS = 2000
_MARKDOWN_SPECIALS = set(string.punctuation)
# Visible stand-ins for characters a person cannot see in a chip.
_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def strip_control_characters(text: str) -> tuple[str, int]:
    """Drop control characters other than newline and tab; returns the text and how many went."""
    kept = [ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"]
    return "".join(kept), len(text) - len(kept)


def clean_user_text(text: str, max_chars: int = MAX_CHARS) -> tuple[str, list[str]]:
    """Normalise line ends, drop control characters, cap the length; messages say what changed."""
    messages = []
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text, dropped = strip_control_characters(text)
    if dropped:
        messages.append(t("common.control_removed", n=dropped))
    if len(text) > max_chars:
        messages.append(t("common.truncated", total=len(text), n=max_chars))
        text = text[:max_chars]
    return text, messages


def capped_text(label: str, default: str, key: str, *, max_chars: int = MAX_CHARS,
                area: bool = True, height: int | None = None, help: str | None = None) -> str:
    """A text box whose value is cleaned and capped; a message in the page says when it was.
    Bound to the URL: a text other than ``default`` travels in a shared link."""
    widget = st.text_area if area else st.text_input
    options = {"height": height} if area and height else {}
    raw = widget(label, value=default, key=key, help=help, bind="query-params", **options)
    text, messages = clean_user_text(raw, max_chars)
    for message in messages:
        st.warning(message, icon=":material/content_cut:")
    return text


def escape_markdown(text: str) -> str:
    """Backslash every ASCII punctuation mark so markdown shows the text literally."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)


def visible_whitespace(text: str) -> str:
    return "".join(_VISIBLE.get(ch, ch) for ch in text)


def chart_label(text: str, max_len: int = 24, *, show_whitespace: bool = True) -> str:
    """A token or word as a Plotly label: whitespace made visible, markup inert, long text shortened."""
    shown = visible_whitespace(text) if show_whitespace else " ".join(text.split())
    if len(shown) > max_len:
        shown = shown[: max_len - 1] + "…"
    return html.escape(shown, quote=False)


def unique_labels(labels: list[str]) -> list[str]:
    """Plotly merges equal category labels; suffix repeats with an invisible-width counter."""
    seen: dict[str, int] = {}
    result = []
    for label in labels:
        count = seen.get(label, 0)
        seen[label] = count + 1
        result.append(label + "\u200b" * count)
    return result


def numbered_labels(texts: list[str], width: int) -> list[str]:
    """Chart labels "S1: first words…", "S2: …" for a list of sentences, each cut to ``width``."""
    return unique_labels([f"S{i + 1}: {chart_label(text, width, show_whitespace=False)}" for i, text in enumerate(texts)])
