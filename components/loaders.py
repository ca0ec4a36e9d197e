"""Cached model loaders, one per model: each model is read from disk once per server and shared by every
session (``st.cache_resource``). The objects are inference-only and must never be changed
by a page: run them, read from them, do not train, move or edit them.

The heavy imports (torch models, transformers) happen inside the functions, so importing
this module is cheap.

``warm_up_later`` loads MiniLM in the background once per server, a few seconds after the
first page has been drawn: the attention page's first visit would otherwise wait 2-3 s for
transformers' modelling code to import. Set TRANSFORMER_EXPLAINER_WARM_UP=0 to turn it off
(e.g. for latency benchmarks, where a background import would compete for the CPU).
"""

from __future__ import annotations

import gc
import logging
import os
import threading

import streamlit as st

WARM_UP_VARIABLE = "TRANSFORMER_EXPLAINER_WARM_UP"
WARM_UP_DELAY_S = 5.0  # after the first page: leave the CPU to the browser drawing it
_warm_up_lock = threading.Lock()
_warm_up_timer: threading.Timer | None = None


@st.cache_resource(show_spinner=False, max_entries=6)
def load_tiny_gpt(style: str, device: str = "cpu"):
    """A bundled tiny GPT ("2017" or "2024") as a ``models.pretrained.tiny_gpt.TinyGPT``: model,
    tokenizer, training log and evaluation."""
    from models.pretrained.tiny_gpt import load_tiny_gpt as load

    return load(style, device=device)


@st.cache_resource(show_spinner=False, max_entries=1)
def load_tiny_moe():
    """The 2024 tiny GPT with its trained mixture-of-experts layer (``models.pretrained.tiny_moe.TinyMoE``),
    or None when ``python -m models.train moe`` has not been run."""
    from models.pretrained.tiny_moe import load_tiny_moe as load

    try:
        return load(load_tiny_gpt("2024").model)
    except FileNotFoundError:
        return None


@st.cache_resource(show_spinner=False, max_entries=2)
def load_minilm(device: str = "cpu"):
    """The bundled MiniLM encoder as a ``models.pretrained.minilm.MiniLM``."""
    from models.pretrained.minilm import load_minilm as load

    return load(device=device)


@st.cache_resource(show_spinner=False)
def load_bert_encoder():
    """MiniLM as plain torch over its bundled weights (``models.pretrained.minilm.BertEncoder``): no
    transformers import, for pages that need its layers and projections but not its heads' API."""
    from models.pretrained.minilm import load_bert_encoder as load

    return load()


@st.cache_resource(show_spinner=False)
def load_tiny_gpt_tokenizer():
    """The byte-level BPE tokenizer both tiny GPTs share (a ``tokenizers.Tokenizer``), without a model."""
    from models.pretrained.tiny_gpt import load_tokenizer

    return load_tokenizer()


@st.cache_resource(show_spinner=False)
def load_minilm_table_space():
    """Whole-word space of MiniLM's token-embedding table (``models.text.embedding_space.WordSpace``),
    read from its files (no transformers), normalised once."""
    from models.pretrained.minilm import read_embedding_table, read_vocab
    from models.text.embedding_space import table_space

    space = table_space(read_embedding_table(), {piece: i for i, piece in enumerate(read_vocab())}, name="minilm")
    space.unit  # noqa: B018 - normalised once here and kept with the cached space
    return space


@st.cache_resource(show_spinner=False, max_entries=6)
def load_word2vec(params: tuple):
    """A word2vec model trained in-app with ``models.text.word2vec.Word2VecParams(*params)`` (from the
    disk cache when it was trained before), its space normalised once."""
    from models.text.word2vec import Word2VecParams, train_word2vec

    trained = train_word2vec(Word2VecParams(*params))
    trained.space.unit  # noqa: B018 - normalised once here and kept with the cached model
    return trained


@st.cache_resource(show_spinner=False, max_entries=2)
def load_random_gpt(layers: int, width: int, device: str = "cpu"):
    """The KV-cache page's larger GPT with random weights (seed 0), ``layers`` x ``width``."""
    from models.labs.kv_cache import large_config, random_model

    return random_model(large_config(layers, width), seed=0, device=device)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_user_model(spec: str, allow_online: bool = False):
    """A model the person named (hub id or folder) as a ``models.pretrained.user_model.UserModel``.
    Raises ``models.pretrained.user_model.UserModelError`` (not cached, so a retry tries again)."""
    from models.pretrained.user_model import load_user_model as load

    return load(spec, allow_online=allow_online)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_seq2seq_model(spec: str, allow_online: bool = False):
    """A person's encoder-decoder (Marian, T5, BART) as a ``models.pretrained.seq2seq_model.Seq2SeqModel``.
    Raises ``UserModelError`` (not cached, so a retry tries again)."""
    from models.pretrained.seq2seq_model import load_seq2seq_model as load

    return load(spec, allow_online=allow_online)


@st.cache_resource(show_spinner=False, max_entries=1)
def load_translators():
    """The three bundled translators as a ``models.pretrained.translator.TranslatorBundle``."""
    from models.pretrained.translator import load_translators as load

    return load()


@st.cache_resource(show_spinner=False, max_entries=4)
def load_user_tokenizer(spec: str, allow_download: bool):
    """A tokenizer the person named (hub id or folder) as a ``models.text.tokenization.UserTokenizer``."""
    from models.text.tokenization import load_user_tokenizer as load

    return load(spec, allow_download)


def _warm_up() -> None:
    try:
        load_minilm()
        gc.freeze()  # transformers' modules and MiniLM, as after the first page
    except Exception:  # the attention page loads it again and shows the error in context
        logging.getLogger(__name__).warning("MiniLM warm-up failed", exc_info=True)


def warm_up_later(delay_s: float = WARM_UP_DELAY_S) -> bool:
    """Load MiniLM into the shared cache in a background thread, once per server, ``delay_s``
    after the first call. Safe with many sessions: the first caller starts the one timer, and a
    page asking for MiniLM meanwhile waits for the same cached value instead of loading it twice.
    Returns whether this call started the timer."""
    global _warm_up_timer
    if os.environ.get(WARM_UP_VARIABLE, "1") == "0":
        return False
    with _warm_up_lock:
        if _warm_up_timer is not None:
            return False
        _warm_up_timer = threading.Timer(delay_s, _warm_up)
        _warm_up_timer.daemon = True
        _warm_up_timer.name = "minilm-warm-up"
        _warm_up_timer.start()
    return True


@st.cache_resource(show_spinner=False)
def freeze_loaded_objects() -> None:
    """Move every object alive now (imported modules, cached models) out of the garbage collector's
    reach. With torch, plotly and pandas loaded about 270,000 objects live for the whole server, and
    each full collection walked them all (0.3-0.8 s on this 2-core machine), landing on a random
    student's rerun. Objects created later are collected as usual. Cached, so it runs once per server
    (after the first page); the MiniLM warm-up freezes once more when it has loaded."""
    gc.freeze()


@st.cache_resource(show_spinner=False, max_entries=1)
def load_fill_mask():
    """MiniLM with its trained fill-in-the-blank head (``assets/mlm``) as a
    ``models.pretrained.minilm_mlm.FillMask``: model, tokenizer, vocabulary, recorded scores."""
    from models.pretrained.minilm_mlm import load_fill_mask as load

    return load()
