"""Shareable links: a copied URL opens the same page, language and settings in a fresh browser.

Every control that shapes what a page shows is a widget with ``key=`` and ``bind="query-params"``:
Streamlit itself keeps its value in the URL (the key is the parameter's name; a value equal to the
widget's default is left out) and seeds the widget from the URL when a page opens. The language is
not a bound widget (its labels are "English" / "中文", not the codes a link carries): ``?lang=`` is
read once by ``components.i18n.init_language`` and written back here on every run.

What Streamlit does with a bad value in the URL (read in streamlit/runtime/state/session_state.py,
``_seed_widget_from_url``, 1.67): it silently drops the parameter and the widget shows its default
(not a number, an unknown option, a number input or slider out of range), or it rewrites it when
it could correct it (a fraction on an integer slider). A parameter no widget on the page binds (an
old link, another page's setting, a typo) just stays in the URL. None of that raises, so nobody
would know the link did not open what its sender saw. This module compares the URL a page opened
with against what is left of it once the page has drawn its widgets, and says in the page which
parameters were not used (and takes the unused ones out of the URL, so a link copied from here is
clean).
"""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from components.i18n import LANGUAGE_STATE_KEY, LANGUAGES, t
from components.text import escape_markdown

ARRIVAL_KEY = "_share_checked_page"  # the page whose opening URL was last checked
MAX_NAMED = 6  # parameters named in the note per reason; more are counted
MAX_SHOWN_CHARS = 40  # of one "name=value" in the note


def opening_params(page) -> dict[str, list[str]] | None:
    """The URL's parameters as they came in, when this run opens ``page`` (a fresh tab, a pasted link,
    a switch from another page); None on the reruns after that, whose URL the app wrote itself."""
    if st.session_state.get(ARRIVAL_KEY) == page.url_path:
        return None
    st.session_state[ARRIVAL_KEY] = page.url_path
    return {key: st.query_params.get_all(key) for key in st.query_params}


def missing_page_name(page) -> str | None:
    """The page a link asked for when it does not exist (any more): Streamlit then runs the first page."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    wanted = (ctx.pages_manager.intended_page_name or "") if ctx is not None else ""
    wanted = wanted.strip("/")
    return wanted if wanted and wanted != page.url_path else None


def _default_requested(raw: list[str], metadata) -> bool:
    """Whether ``raw`` asks for the widget's default (Streamlit drops such a parameter too)."""
    from streamlit.runtime.state.query_params import parse_url_param

    try:
        return parse_url_param(raw, metadata.value_type) == metadata.serializer(metadata.deserializer(None))
    except (ValueError, TypeError, IndexError):
        return False


def unused_params(requested: dict[str, list[str]]) -> dict[str, list[str]]:
    """After the page has drawn its widgets: the opening parameters that did not set a control, by
    reason ("unknown": no control of this page has that name; "invalid": the control kept its
    default; "adjusted": Streamlit corrected the value). Unknown ones are taken out of the URL."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    state = get_session_state()
    unused: dict[str, list[str]] = {"unknown": [], "invalid": [], "adjusted": []}
    if LANGUAGE_STATE_KEY in requested and requested[LANGUAGE_STATE_KEY][-1:] != [st.session_state.get(LANGUAGE_STATE_KEY)]:
        unused["invalid"].append(f"{LANGUAGE_STATE_KEY}={requested[LANGUAGE_STATE_KEY][-1]}")
    for key, raw in requested.items():
        if key == LANGUAGE_STATE_KEY:
            continue
        with state.query_params() as params:
            binding = params.get_binding_for_param(key)
        now = st.query_params.get_all(key)
        shown = f"{key}={raw[-1] if raw else ''}"
        if binding is None:
            unused["unknown"].append(shown)
            del st.query_params[key]
        elif now == raw:
            continue
        elif now:
            unused["adjusted"].append(shown)
        else:
            metadata = state._state.get_widget_metadata(binding.widget_id)  # the widget's own (de)serializer
            if metadata is None or not _default_requested(raw, metadata):
                unused["invalid"].append(shown)
    return {reason: keys for reason, keys in unused.items() if keys}


def link_note(slot, requested: dict[str, list[str]] | None, missing_page: str | None) -> None:
    """Say in ``slot`` (at the top of the page) what of the opening URL was not used."""
    lines = [t("share.missing_page", page=escape_markdown(missing_page[:MAX_SHOWN_CHARS]))] if missing_page else []
    unused = unused_params(requested) if requested is not None else {}
    for reason, shown in unused.items():
        names = [escape_markdown(text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…")
                 for text in shown[:MAX_NAMED]]
        if len(shown) > MAX_NAMED:
            names.append(t("share.more", n=len(shown) - MAX_NAMED))
        lines.append(t(f"share.{reason}", names=", ".join(names)))
    if lines:
        slot.info("\n\n".join([t("share.note_title"), *lines]), icon=":material/link_off:")


def sync_language_param() -> None:
    """Keep ``?lang=`` equal to the language shown, so every copied link names it."""
    lang = st.session_state.get(LANGUAGE_STATE_KEY)
    if lang in LANGUAGES and st.query_params.get(LANGUAGE_STATE_KEY) != lang:
        st.query_params[LANGUAGE_STATE_KEY] = lang


def relabel_bound_values() -> None:
    """On a language switch: a bound radio or select box keeps its option's *label* in the URL, and
    the labels change with the language. Writing each bound value back into session state makes
    Streamlit write the new label into the URL in the next run."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as params:
        bound = [key for key in params if params.is_bound(key)]
    for key in bound:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def current_link() -> str:
    """The URL of this view: the page's address and every parameter now in the URL."""
    base = st.context.url or ""
    query = urlencode([(key, value) for key in st.query_params for value in st.query_params.get_all(key)])
    return f"{base}?{query}" if query else base


def copy_link(slot) -> None:
    """The "copy link to this view" box in the sidebar, drawn after the page so the link has every
    setting the page bound."""
    with slot.popover(t("share.button"), icon=":material/link:", width="stretch", help=t("share.help")):
        st.caption(t("share.caption"))
        st.code(current_link(), language=None, wrap_lines=True)
