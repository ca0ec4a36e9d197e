"""Token chips: each token on a coloured background, its id in small digits after it.

Built from Streamlit's markdown colour directives with the token escaped, so any text
(HTML, emoji, Chinese, markdown syntax) shows literally and nothing is injected.
"""

from __future__ import annotations

import streamlit as st

from components.text import escape_markdown, visible_whitespace

CHIP_COLOURS = ("blue", "green", "orange", "violet", "red", "yellow", "gray")
_SUBSCRIPT = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def subscript(number: int) -> str:
    return str(number).translate(_SUBSCRIPT)


def chip_markdown(tokens: list[str], ids: list[int] | None = None, colour_by: list[int] | None = None) -> str:
    """Markdown for a row of chips; ``colour_by`` groups chips that should share a colour."""
    parts = []
    for index, token in enumerate(tokens):
        colour = CHIP_COLOURS[(colour_by[index] if colour_by else index) % len(CHIP_COLOURS)]
        shown = escape_markdown(visible_whitespace(token)) or "∅"
        suffix = subscript(ids[index]) if ids is not None else ""
        parts.append(f":{colour}-background[{shown}]{suffix}")
    return " ".join(parts)


def token_chips(tokens: list[str], ids: list[int] | None = None, colour_by: list[int] | None = None,
                max_chips: int = 400) -> None:
    """Draw chips; very long sequences show the first ``max_chips`` and say how many were left out."""
    from components.i18n import t

    if not tokens:
        st.caption(t("common.no_tokens"))
        return
    shown_tokens = tokens[:max_chips]
    shown_ids = ids[:max_chips] if ids is not None else None
    shown_colours = colour_by[:max_chips] if colour_by is not None else None
    st.markdown(chip_markdown(shown_tokens, shown_ids, shown_colours))
    if len(tokens) > max_chips:
        st.caption(t("common.more_chips", n=len(tokens) - max_chips))


def token_picker(label: str, key: str, tokens: list[str], default: int) -> int:
    """A selectbox over a text's tokens ("3: ␣cat"); back to ``default`` whenever the tokens change."""
    if st.session_state.get(f"{key}_for") != tuple(tokens) or st.session_state.get(key) not in range(len(tokens)):
        st.session_state[f"{key}_for"], st.session_state[key] = tuple(tokens), default
    return st.selectbox(label, range(len(tokens)), index=default, key=key, bind="query-params",
                        format_func=lambda i: f"{i + 1}: {visible_whitespace(tokens[i])}")
