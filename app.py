"""Transformer Explainer: entry point. Page config, the shared sidebar, navigation."""

import os
from pathlib import Path

# Offline unless the user asks for a hub model: set before transformers is ever imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import streamlit as st  # noqa: E402

from components.i18n import init_language, t  # noqa: E402
from components.loaders import freeze_loaded_objects, warm_up_later  # noqa: E402
from components.navigation import build_navigation  # noqa: E402
from components.plotly_theme import use_app_template  # noqa: E402
from components.projector import route_charts  # noqa: E402
from components.settings import device_picker, sidebar_settings  # noqa: E402
from components.share import copy_link, link_note, missing_page_name, opening_params, sync_language_param  # noqa: E402
from models.core.device import configure_threads  # noqa: E402

# Nothing here imports torch (1-2 s): the page imports it when it needs it, so its first charts reach
# the browser, which starts drawing them, while the server is still importing torch.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="Transformer Explainer", page_icon=str(ICON), layout="wide")
configure_threads()
route_charts()  # projector mode enlarges every chart, whichever page draws it
init_language()
navigation = build_navigation()
opening_url = opening_params(navigation)  # None except when this run opens the page
missing_page = missing_page_name(navigation) if opening_url is not None else None
link_slot, device_slot = sidebar_settings()
sync_language_param()
st.sidebar.caption(t("common.sidebar_caption"))
note_slot = st.container()  # above the page: what of a shared link could not be used
# Imported here, before any page, so that many students opening pages at once on a fresh server do
# not race to import them half-way (plotly imports pandas lazily while a page imports it directly:
# one session then saw "partially initialized module 'pandas'"). After the sidebar, so the browser
# draws the sidebar while the server imports pandas.
import pandas  # noqa: E402,F401
import plotly.graph_objects  # noqa: E402,F401

use_app_template()  # every chart's template: Streamlit's, less the trace types no page draws

try:
    navigation.run()
finally:
    device_picker(device_slot)  # lists the devices torch sees: drawn after the page, in its place in the sidebar
    link_note(note_slot, opening_url, missing_page)  # once every bound widget has read the URL
    copy_link(link_slot)
warm_up_later()  # MiniLM for the attention page, once per server, after the first page is drawn
freeze_loaded_objects()  # once per server: what the first page imported stays out of later full collections
