"""Any Hugging Face model a person names: a hub id or a folder on this computer.

The loader is careful because the name comes from a text box:

* nothing downloads unless the caller asks (``allow_online``); offline, a hub id is looked
  up in the local cache only, so an unknown id fails at once instead of waiting on the net;
* a model's own Python code is never run (``trust_remote_code=False``), weights are read
  from safetensors where the folder has them, and otherwise only through transformers'
  ``torch.load(weights_only=True)`` path, which refuses pickled code;
* a path that is not a model folder (a file, an empty or unrelated folder) is rejected by
  looking at file names alone: no file's content is read or shown;
* every failure is a ``UserModelError`` holding a locale key and values, so a page shows
  it in the reader's language and never a traceback.

A loaded model is either ``causal`` (a decoder-only writer such as GPT-2 or Llama) or an
``encoder`` (a reader such as BERT); ``run`` returns the same fields for both, plus the
next-token scores for causal models.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

from models.core.sampling import next_token_probs, sample
from models.pretrained.hub import HubLookupError, hub_access, probe_hub
from models.pretrained.interface import MAX_TOKENS, LanguageModel, ModelRun

KINDS = ("causal", "encoder")
MAX_PARAMETERS = 600_000_000  # ~2.4 GB in float32: still comfortable on a laptop's CPU
ONLINE_TIMEOUT_S = 8  # per request, only when the person asked to download
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model")


class UserModelError(Exception):
    """A failure a page can translate: ``key`` names a string in the locale files
    (``models.err_*``) and ``values`` fill its placeholders."""

    def __init__(self, key: str, **values):
        self.key = key
        self.values = values
        super().__init__(f"{key} {values}" if values else key)


class TransformersModel(LanguageModel):
    """A ``transformers`` model and its tokenizer behind the page interface; inference only, shared,
    never changed. Sampling uses our own ``models.core.sampling``, not ``model.generate``."""

    def __init__(self, model, tokenizer, name: str, is_causal: bool = True):
        self.model = model  # transformers PreTrainedModel, eval mode, float32
        self.tokenizer = tokenizer  # transformers tokenizer
        self.name = name
        self.is_causal = is_causal
        output = model.get_output_embeddings() if is_causal else model.get_input_embeddings()
        self.vocab_size = int(output.weight.shape[0])
        config_context = getattr(model.config, "max_position_embeddings", None) or getattr(model.config, "n_positions", None)
        self.context = int(config_context or 1024)

    @property
    def config(self):
        return self.model.config

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def n_layers(self) -> int:
        return int(self.config.num_hidden_layers)

    @property
    def n_heads(self) -> int:
        return int(self.config.num_attention_heads)

    @property
    def model_type(self) -> str:
        return str(self.config.model_type)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def token_text(self, token_id: int) -> str:
        return self.tokenizer.decode([token_id])

    def readable_tokens(self, ids: list[int]) -> list[str]:
        return readable_tokens(self.tokenizer, ids)

    def start_ids(self) -> list[int]:
        token = self.tokenizer.bos_token_id
        if token is None:
            token = self.tokenizer.eos_token_id
        return [token] if token is not None else []

    @torch.inference_mode()
    def next_token_logits(self, ids: list[int]) -> torch.Tensor:
        idx = torch.tensor([ids[-self.context:]], dtype=torch.long, device=self.device)
        return self.model(input_ids=idx).logits[0, -1].float().cpu()

    @torch.inference_mode()
    def generate_rows(self, ids, new_tokens, temperatures, top_k, top_p, seed):
        """One token per row at a time, reusing the model's key/value cache between steps."""
        ids = ids[-(self.context - new_tokens):] if new_tokens < self.context else ids[-1:]
        generators = [torch.Generator(device="cpu").manual_seed(seed) for _ in temperatures]
        feed = torch.tensor([ids] * len(temperatures), dtype=torch.long, device=self.device)  # (R, T)
        cache = None  # transformers' own KV cache, filled by the first call
        rows = [[] for _ in temperatures]
        for _ in range(new_tokens):
            output = self.model(input_ids=feed, cache=cache, use_cache=True)
            cache = output.cache
            logits = output.logits[:, -1].float().cpu()  # (R, V)
            for row, row_logits, temperature, generator in zip(rows, logits, temperatures, generators):
                probs = next_token_probs(row_logits, temperature, top_k, top_p)
                row.append(int(probs.argmax()) if temperature == 0 else int(sample(probs, generator)[0]))
            feed = torch.tensor([[row[-1]] for row in rows], dtype=torch.long, device=self.device)  # (R, 1)
        return rows

    def run(self, text: str, max_tokens: int = MAX_TOKENS) -> ModelRun:
        return run_transformers_model(self.model, self.tokenizer, text, is_causal=self.is_causal,
                                      max_tokens=max_tokens)


class UserModel(TransformersModel):
    """A model the person named, as loaded by ``load_user_model``."""

    def __init__(self, spec: str, kind: str, model, tokenizer, parameters: int = 0):
        super().__init__(model, tokenizer, name=f"user:{spec}", is_causal=kind == "causal")
        self.spec = spec  # what the person typed
        self.kind = kind  # "causal" or "encoder"
        self.parameters = parameters

    def __repr__(self) -> str:
        return f"UserModel(spec={self.spec!r}, kind={self.kind!r})"


# -- token strings ------------------------------------------------------------------------


def _decoder_types(tokenizer) -> str:
    """The backend decoder's description (JSON text), used to tell byte-level from SentencePiece."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return ""
    try:
        import json

        return json.dumps(json.loads(backend.to_str()).get("decoder"))
    except (ValueError, TypeError, AttributeError):
        return ""


def readable_tokens(tokenizer, ids: list[int]) -> list[str]:
    """Token strings a person can read: byte-level BPE marks ("Ġ", "Ċ") become the bytes they
    stand for, SentencePiece's "▁" becomes a space; WordPiece pieces ("##ing") stay as they are."""
    from models.pretrained.tokens import token_text

    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    decoder = _decoder_types(tokenizer)
    special = set(getattr(tokenizer, "all_special_tokens", []))
    if '"ByteLevel"' in decoder:
        return [piece if piece in special else token_text(piece) for piece in pieces]
    if '"Metaspace"' in decoder or any(piece.startswith("▁") for piece in pieces):
        return [piece.replace("▁", " ") for piece in pieces]
    return list(pieces)


# -- running ------------------------------------------------------------------------------


def position_limit(config, max_tokens: int = MAX_TOKENS) -> int:
    """``max_tokens``, or fewer when the model's position table is shorter (a small GPT-2 may
    know only 64 positions); read from ``max_position_embeddings`` or ``n_positions``."""
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    return min(max_tokens, int(positions)) if positions else max_tokens


@torch.inference_mode()
def run_transformers_model(model, tokenizer, text: str, *, is_causal: bool, max_tokens: int = MAX_TOKENS) -> ModelRun:
    """Tokenize ``text`` (special tokens added, cut to ``max_tokens`` and to the model's
    position table) and return every layer's hidden states and attention weights. The model
    must be loaded with eager attention."""
    max_tokens = position_limit(model.config, max_tokens)
    full = tokenizer(text, add_special_tokens=True)["input_ids"]
    encoded = tokenizer(text, add_special_tokens=True, truncation=True, max_length=max_tokens,
                        return_special_tokens_mask=True)
    ids = list(encoded["input_ids"])
    special = [bool(flag) for flag in encoded["special_tokens_mask"]]
    if not ids and getattr(tokenizer, "bos_token_id", None) is not None:
        ids, special = [tokenizer.bos_token_id], [True]  # a causal model needs at least one token
    if not ids:
        raise UserModelError("models.err_no_tokens")
    device = next(model.parameters()).device
    idx = torch.tensor([ids], dtype=torch.long, device=device)  # (1, T)
    output = model(input_ids=idx, attention_mask=torch.ones_like(idx), output_attentions=True,
                   output_hidden_states=True)
    if not output.attentions or output.attentions[0] is None:
        raise UserModelError("models.err_no_attentions")
    attentions = torch.stack([layer[0] for layer in output.attentions]).float().cpu().numpy()  # (L, H, T, T)
    hidden = torch.stack([layer[0] for layer in output.hidden_states]).float().cpu().numpy()  # (L+1, T, D)
    logits = output.logits[0, -1].float().cpu().numpy() if is_causal and hasattr(output, "logits") else None
    return ModelRun(
        tokens=readable_tokens(tokenizer, ids), ids=ids, special=special, hidden_states=hidden,
        attentions=attentions, is_causal=is_causal, next_token_logits=logits,
        truncated=len(full) > len(ids), total_tokens=len(full),
    )


# -- finding and loading ------------------------------------------------------------------


def looks_like_path(spec: str) -> bool:
    """A folder on this computer rather than a hub id: an absolute or relative path, a home
    path, Windows separators, or a name that exists here as a folder."""
    return (
        spec.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or spec in (".", "..")
        or "\\" in spec
        or re.match(r"^[A-Za-z]:", spec) is not None
        or os.path.isdir(spec)
    )


def check_model_folder(spec: str) -> Path:
    """The folder as a Path if it looks like a saved model (by file names only)."""
    path = Path(spec).expanduser()
    try:
        if not path.exists():
            raise UserModelError("models.err_path_missing", spec=spec)
        if not path.is_dir():
            raise UserModelError("models.err_not_folder", spec=spec)
        names = {entry.name for entry in path.iterdir()}
    except OSError as error:  # permission denied, a broken link, a name too long
        raise UserModelError("models.err_path_unreadable", spec=spec) from error
    if "config.json" not in names:
        raise UserModelError("models.err_no_config", spec=spec)
    if not names & set(_WEIGHT_FILES):
        raise UserModelError("models.err_no_weights", spec=spec)
    if not names & set(_TOKENIZER_FILES):
        raise UserModelError("models.err_no_tokenizer", spec=spec)
    return path.resolve()


def model_kind(config) -> str | None:
    """"causal", "encoder", or None (an encoder-decoder or a family this app cannot show)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES, MODEL_MAPPING_NAMES,
    )

    if getattr(config, "is_encoder_decoder", False):
        return None
    model_type = getattr(config, "model_type", None)
    architectures = getattr(config, "architectures", None) or []
    writes = model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    reads = model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    if writes and reads:  # BERT-like families can be either: the saved head and flags decide
        decoder_head = any(name.endswith(("ForCausalLM", "LMHeadModel")) for name in architectures)
        return "causal" if getattr(config, "is_decoder", False) or decoder_head else "encoder"
    if writes:
        return "causal"
    if reads or model_type in MODEL_MAPPING_NAMES:
        return "encoder"
    return None


def _hub_access(online: bool):
    return hub_access(online, ONLINE_TIMEOUT_S)


def _check_hub_id(spec: str, online: bool) -> None:
    """Offline: the id must be in the local cache. Online: the hub must know it (one quick request)."""
    from huggingface_hub import try_to_load_from_cache

    if not _HUB_ID.match(spec) or ".." in spec or "--" in spec:
        raise UserModelError("models.err_bad_id", spec=spec)
    if not online:
        cached = try_to_load_from_cache(spec, "config.json")
        if not isinstance(cached, str):
            raise UserModelError("models.err_not_cached_offline", spec=spec)
        return
    try:
        probe_hub(spec, ONLINE_TIMEOUT_S)
    except HubLookupError as error:
        if error.reason == "not_found":
            raise UserModelError("models.err_not_found_online", spec=spec) from error
        raise UserModelError("models.err_no_network", seconds=ONLINE_TIMEOUT_S) from error


def _count_parameters(config, kind: str) -> int:
    """Parameters of the model the config describes, counted on the meta device (no memory)."""
    from transformers import AutoModel, AutoModelForCausalLM

    auto = AutoModelForCausalLM if kind == "causal" else AutoModel
    with torch.device("meta"):
        skeleton = auto.from_config(config, trust_remote_code=False)
    return sum(p.numel() for p in skeleton.parameters())


def load_user_model(spec: str, *, allow_online: bool = False, max_parameters: int = MAX_PARAMETERS,
                    device: str | torch.device = "cpu") -> UserModel:
    """Load a hub id (from the local cache, or downloaded when ``allow_online``) or a local
    folder; float32, eval mode, eager attention. Raises ``UserModelError`` on any failure."""
    spec = (spec or "").strip()
    if not spec:
        raise UserModelError("models.err_empty")
    local = looks_like_path(spec)
    online = allow_online and not local
    source = str(check_model_folder(spec)) if local else spec
    with _hub_access(online):
        if not local:
            _check_hub_id(spec, online)
        return _load(spec, source, local=local, online=online, max_parameters=max_parameters, device=device)


def _load(spec: str, source: str, *, local: bool, online: bool, max_parameters: int, device) -> UserModel:
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # the core never prints; pages show their own spinner
    only_local = not online
    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False, local_files_only=only_local)
    except ValueError as error:
        # Unknown families, and those that would need the model's own code.
        key = "models.err_remote_code" if "trust_remote_code" in str(error) else "models.err_unknown_family"
        raise UserModelError(key, spec=spec) from error
    except Exception as error:
        raise UserModelError("models.err_load_failed", spec=spec, reason=type(error).__name__) from error
    kind = model_kind(config)
    if kind is None:
        raise UserModelError("models.err_unsupported", spec=spec, model_type=getattr(config, "model_type", "?"))
    try:
        parameters = _count_parameters(config, kind)
    except Exception as error:
        raise UserModelError("models.err_unsupported", spec=spec, model_type=config.model_type) from error
    if parameters > max_parameters:
        raise UserModelError("models.err_too_large", spec=spec, millions=round(parameters / 1e6),
                             limit=round(max_parameters / 1e6))
    auto = AutoModelForCausalLM if kind == "causal" else AutoModel
    has_safetensors = not local or any((Path(source) / name).exists() for name in _WEIGHT_FILES[:2])
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, local_files_only=only_local)
    except Exception as error:
        raise UserModelError("models.err_no_tokenizer", spec=spec) from error
    try:
        model = auto.from_pretrained(
            source, config=config, trust_remote_code=False, local_files_only=only_local,
            attn_implementation="eager", dtype=torch.float32,
            # Local folders: safetensors when present; otherwise transformers' torch.load path,
            # which uses weights_only=True. Hub ids: safetensors preferred, .bin as a fallback.
            use_safetensors=True if local and has_safetensors else None,
        )
    except Exception as error:
        raise UserModelError("models.err_load_failed", spec=spec, reason=type(error).__name__) from error
    model = model.to(device).eval()
    model.requires_grad_(False)
    return UserModel(spec=spec, kind=kind, model=model, tokenizer=tokenizer, parameters=parameters)
