"""The shared sidebar: language, projector mode, compute device and random seed, kept in session state.

The device picker needs torch to list the devices, so it is drawn after the page, into a slot
that keeps its place between the language and the seed: a page that draws charts before it
uses torch then shows them without waiting for the torch import (1-2 s on a fresh server).
Until the picker has been drawn once, ``current_device`` reads the picker's default, ``auto``.
"""

from __future__ import annotations

import streamlit as st

from components.i18n import LANGUAGES, LANGUAGE_STATE_KEY, t
from components.projector import projector_on, projector_switch

DEVICE_STATE_KEY = "device"
SEED_STATE_KEY = "seed"
DEFAULT_SEED = 0


def sidebar_settings():
    """Draw the language switch, the projector switch and the seed; values land in session state.
    Returns two empty slots below the switches: where ``components.share.copy_link`` draws the
    "copy link" box and where ``device_picker`` draws the device choice. Projector mode hides the
    seed and device boxes and leaves the glossary out. Seed, device and projector are bound to the
    URL (the language is kept in ``?lang=`` by components.share)."""
    from components.share import relabel_bound_values

    with st.sidebar:
        st.radio(
            "Language / 语言",
            options=list(LANGUAGES),
            format_func=LANGUAGES.get,
            key=LANGUAGE_STATE_KEY,
            horizontal=True,
            on_change=relabel_bound_values,
        )
        projector_switch()
        link_slot = st.container()
        device_slot = st.container(key="device_box")
        st.number_input(
            t("common.seed"),
            min_value=0,
            max_value=2**31 - 1,
            value=DEFAULT_SEED,
            step=1,
            key=SEED_STATE_KEY,
            help=t("common.seed_help"),
            bind="query-params",
        )
        if not projector_on():
            glossary()
    return link_slot, device_slot


def glossary() -> None:
    """The app's one glossary (assets/locales/*/glossary.json), folded away in the sidebar."""
    from components.i18n import current_language, load_locale

    with st.expander(t("glossary.title"), icon=":material/menu_book:"):
        terms = [key for key in load_locale(current_language()) if key.startswith("glossary.term_")]
        st.markdown("\n".join([t("glossary.intro"), ""] + [f"- {t(key)}" for key in terms]))


def device_picker(slot) -> None:
    """The compute device choice ("auto" first, then what this machine can use), drawn in ``slot``."""
    from models.core.device import available_devices

    with slot:
        st.selectbox(
            t("common.device"),
            options=["auto", *available_devices()],
            key=DEVICE_STATE_KEY,
            help=t("common.device_help"),
            bind="query-params",
        )


def current_device():
    """The torch.device the sidebar asks for (``auto`` resolved)."""
    from models.core.device import pick_device

    return pick_device(st.session_state.get(DEVICE_STATE_KEY, "auto"))


def current_seed() -> int:
    return int(st.session_state.get(SEED_STATE_KEY, DEFAULT_SEED))


def follow_sidebar(key: str, value) -> None:
    """One behaviour for a page's own seed or device box: it starts at the sidebar's ``value`` and
    takes it again whenever the sidebar changes; in between the page's box may differ."""
    origin = f"{key}_from_sidebar"
    if st.session_state.get(origin) != value:
        st.session_state[origin] = value
        st.session_state[key] = value
