"""The "bring your own model" box: a text field for a Hugging Face id or a local folder.

While nothing is loaded, or when loading fails, the picker returns None and the page keeps
showing its bundled model; the failure is explained in the reader's language, without a
traceback. What was loaded is remembered per page (``key_prefix``) in session state; the
model itself lives in the shared cache (components.loaders).
"""

from __future__ import annotations

import streamlit as st

from components.i18n import t
from components.loaders import load_user_model
from components.text import escape_markdown
from components.units import millions

MAX_SPEC_CHARS = 300


def error_text(key: str, values: dict) -> str:
    """A ``UserModelError``'s message in the current language; typed text is shown literally."""
    shown = {name: escape_markdown(value) if isinstance(value, str) else value for name, value in values.items()}
    return t(key, **shown)


def kind_label(kind: str) -> str:
    return t(f"models.kind_{kind}")


def user_model_picker(key_prefix: str, kinds: tuple[str, ...] = ("causal", "encoder"), loader=load_user_model):
    """Draw the picker; return the loaded ``models.pretrained.user_model.UserModel`` or None.

    ``kinds`` lists what the page can show: "causal" (writers like GPT-2) and/or "encoder"
    (readers like BERT), or "encoder_decoder" with ``loader=components.loaders.load_seq2seq_model``
    (translators like Marian or T5). Every widget key starts with ``key_prefix``.
    """
    from models.pretrained.user_model import UserModelError

    loaded_key, error_key = f"{key_prefix}_user_model_loaded", f"{key_prefix}_user_model_error"
    state = st.session_state
    wanted = " / ".join(kind_label(kind) for kind in kinds)
    with st.expander(t("models.picker_title"), expanded=bool(state.get(loaded_key) or state.get(error_key)),
                     icon=":material/upload_file:"):
        st.caption(t("models.picker_help", kinds=wanted))
        spec = st.text_input(t("models.picker_label"), key=f"{key_prefix}_user_model_spec",
                             placeholder=t("models.picker_placeholder"), max_chars=MAX_SPEC_CHARS)
        allow_online = st.checkbox(t("models.picker_online"), key=f"{key_prefix}_user_model_online",
                                   help=t("models.picker_online_help"))
        load_column, clear_column = st.columns(2)
        load = load_column.button(t("models.picker_load"), key=f"{key_prefix}_user_model_load",
                                  icon=":material/download:")
        if load:
            state.pop(loaded_key, None)
            state.pop(error_key, None)
            spec = (spec or "").strip()
            try:
                with st.spinner(t("models.picker_loading", spec=escape_markdown(spec))):
                    model = loader(spec, allow_online)
                if model.kind not in kinds:
                    raise UserModelError("models.err_wrong_kind", spec=spec, kind=kind_label(model.kind), wanted=wanted)
                state[loaded_key] = (spec, allow_online)
            except UserModelError as error:
                state[error_key] = (error.key, error.values)
            except Exception as error:  # anything unforeseen still gets a sentence, not a traceback
                state[error_key] = ("models.err_load_failed", {"spec": spec, "reason": type(error).__name__})
        # Drawn after a load was handled, so it is enabled in the very run that loaded a model.
        if clear_column.button(t("models.picker_clear"), key=f"{key_prefix}_user_model_clear",
                               disabled=not state.get(loaded_key)):
            state.pop(loaded_key, None)
            state.pop(error_key, None)

        model = None
        if state.get(loaded_key):
            spec, allow_online = state[loaded_key]
            try:
                model = loader(spec, allow_online)
            except Exception as error:  # evicted from the cache and no longer loadable
                state.pop(loaded_key, None)
                key, values = (error.key, error.values) if isinstance(error, UserModelError) else (
                    "models.err_load_failed", {"spec": spec, "reason": type(error).__name__})
                state[error_key] = (key, values)
        if state.get(error_key):
            key, values = state[error_key]
            st.error(error_text(key, values), icon=":material/error:")
        if model is not None:
            st.success(t("models.picker_loaded", spec=escape_markdown(model.spec), kind=kind_label(model.kind),
                         layers=model.n_layers, heads=model.n_heads, millions=millions(model.parameters)),
                       icon=":material/check_circle:")
        else:
            st.caption(t("models.picker_using_bundled"))
    return model
