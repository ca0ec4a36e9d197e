"""Cached model loaders: each model is read from disk once per server and shared by every
session (``st.cache_resource``). The objects are inference-only and must never be changed
by a page: run them, read from them, do not train, move or edit them.

The heavy imports (torch models, transformers) happen inside the functions, so importing
this module is cheap.
"""

from __future__ import annotations

import streamlit as st


@st.cache_resource(show_spinner=False, max_entries=6)
def load_tiny_gpt(style: str, device: str = "cpu"):
    """A bundled tiny GPT ("2017" or "2024") as a ``models.tiny_gpt.TinyGPT``: model,
    tokenizer, training log and evaluation."""
    from models.tiny_gpt import load_tiny_gpt as load

    return load(style, device=device)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_minilm(device: str = "cpu"):
    """The bundled MiniLM encoder as a ``models.minilm.MiniLM``."""
    from models.minilm import load_minilm as load

    return load(device=device)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_user_model(spec: str, allow_online: bool = False):
    """A model the person named (hub id or folder) as a ``models.user_model.UserModel``.
    Raises ``models.user_model.UserModelError`` (not cached, so a retry tries again)."""
    from models.user_model import load_user_model as load

    return load(spec, allow_online=allow_online)
