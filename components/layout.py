"""The shape every page shares: title and two-line intro, section headings, a 'what to notice' note, a next-page link."""

from __future__ import annotations

import streamlit as st

from components.i18n import t
from components.navigation import next_page
from components.projector import projector_on


def page_header(key: str) -> None:
    st.title(t(f"{key}.title"))
    st.markdown(t(f"{key}.intro"))


def section_header(key: str, name: str, text: str = "explain") -> None:
    """A section's subheading ``<key>.<name>_title`` and the paragraph ``<key>.<name>_<text>`` under it
    (in projector mode folded into an expander, for whoever wants to read it)."""
    st.subheader(t(f"{key}.{name}_title"))
    if projector_on():
        st.expander(t("common.explanation"), icon=":material/notes:").markdown(t(f"{key}.{name}_{text}"))
    else:
        st.markdown(t(f"{key}.{name}_{text}"))


def what_to_notice(key: str, **values) -> None:
    """The page's "what to notice" note; ``values`` fill its placeholders (numbers the page computed)."""
    st.info(t(f"{key}.notice", **values), icon=":material/lightbulb:")


def next_page_link(key: str) -> None:
    following = next_page(key)
    st.divider()
    if following is None:
        st.caption(t("common.last_page"))
        return
    st.page_link(
        following.path,
        label=t("common.next_page", title=t(f"{following.key}.nav_title")),
        icon=":material/arrow_forward:",
    )
