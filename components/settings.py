"""The shared sidebar: language, compute device and random seed, kept in session state."""

from __future__ import annotations

import streamlit as st

from components.i18n import LANGUAGES, LANGUAGE_STATE_KEY, t

DEVICE_STATE_KEY = "device"
SEED_STATE_KEY = "seed"
DEFAULT_SEED = 0


def sidebar_settings() -> None:
    """Draw the language switch, device picker and seed; values land in session state."""
    from models.device import available_devices

    with st.sidebar:
        st.radio(
            "Language / 语言",
            options=list(LANGUAGES),
            format_func=LANGUAGES.get,
            key=LANGUAGE_STATE_KEY,
            horizontal=True,
        )
        st.selectbox(
            t("common.device"),
            options=["auto", *available_devices()],
            key=DEVICE_STATE_KEY,
            help=t("common.device_help"),
        )
        st.number_input(
            t("common.seed"),
            min_value=0,
            max_value=2**31 - 1,
            value=DEFAULT_SEED,
            step=1,
            key=SEED_STATE_KEY,
            help=t("common.seed_help"),
        )


def current_device():
    """The torch.device the sidebar asks for (``auto`` resolved)."""
    from models.device import pick_device

    return pick_device(st.session_state.get(DEVICE_STATE_KEY, "auto"))


def current_seed() -> int:
    return int(st.session_state.get(SEED_STATE_KEY, DEFAULT_SEED))
