"""The registry of built pages: sections, order, icons. app.py turns it into st.navigation.

Add a page here only when it is really built; the "next page" link follows this order.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from components.i18n import t


@dataclass(frozen=True)
class PageSpec:
    key: str  # locale namespace of the page and its URL path
    path: str  # script, relative to the repo root
    section: str  # locale key suffix of the navigation section
    icon: str


SECTIONS = ("intro", "vectors", "translator", "attention", "block", "readers", "generation", "architecture")

PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "app_pages/overview.py", "intro", ":material/route:"),
    PageSpec("bag_of_words", "app_pages/bag_of_words.py", "vectors", ":material/shopping_bag:"),
    PageSpec("embeddings", "app_pages/embeddings.py", "vectors", ":material/scatter_plot:"),
    PageSpec("tokenizers", "app_pages/tokenizers.py", "vectors", ":material/token:"),
    PageSpec("translator", "app_pages/translator.py", "translator", ":material/translate:"),
    PageSpec("qkv", "app_pages/qkv.py", "attention", ":material/key:"),
    PageSpec("attention", "app_pages/attention.py", "attention", ":material/grid_on:"),
    PageSpec("masking", "app_pages/masking.py", "attention", ":material/visibility_off:"),
    PageSpec("sparse", "app_pages/sparse.py", "attention", ":material/grain:"),
    PageSpec("inside_block", "app_pages/inside_block.py", "block", ":material/hub:"),
    PageSpec("reader", "app_pages/reader.py", "readers", ":material/menu_book:"),
    PageSpec("sampling", "app_pages/sampling.py", "generation", ":material/casino:"),
    PageSpec("kv_cache", "app_pages/kv_cache.py", "generation", ":material/memory:"),
    PageSpec("blocks", "app_pages/blocks.py", "architecture", ":material/compare:"),
)


def build_navigation():
    """st.navigation over the registry, grouped by section, titles in the current language."""
    grouped: dict[str, list] = {}
    for index, spec in enumerate(PAGES):
        page = st.Page(
            spec.path,
            title=t(f"{spec.key}.nav_title"),
            icon=spec.icon,
            url_path=spec.key,
            default=index == 0,
        )
        grouped.setdefault(t(f"nav.section_{spec.section}"), []).append(page)
    return st.navigation(grouped)


def next_page(key: str) -> PageSpec | None:
    keys = [spec.key for spec in PAGES]
    position = keys.index(key)
    return PAGES[position + 1] if position + 1 < len(PAGES) else None
