"""A person's own encoder-decoder (Marian, T5, BART, ...): translate, then show its cross-attention.

models.pretrained.user_model loads readers and writers and refuses encoder-decoders; this
module is the encoder-decoder's door, with the same care: nothing downloads unless asked,
no model code is ever run (``trust_remote_code=False``), a folder is checked by file names
before anything is read, and every failure is a ``UserModelError`` with a locale key.

``translate`` writes the output greedily, then runs the model once more over its own output
(teacher forcing) with ``output_attentions=True`` to get every layer's cross-attention:
(L, H, T, S), one row per target token, one column per source token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from models.pretrained.hub import hub_access
from models.pretrained.user_model import UserModelError, check_model_folder, looks_like_path, readable_tokens

MAX_PARAMETERS = 600_000_000
MAX_SOURCE_TOKENS = 64
MAX_NEW_TOKENS = 64
ONLINE_TIMEOUT_S = 8
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


@dataclass(frozen=True)
class Seq2SeqRun:
    source_tokens: list[str]
    target_tokens: list[str]  # the decoder's inputs: its start token, then what it wrote
    cross: np.ndarray  # (L, H, T, S) float32
    translation: str
    truncated: bool


@dataclass(frozen=True)
class Seq2SeqModel:
    spec: str
    model: object = field(repr=False)
    tokenizer: object = field(repr=False)
    parameters: int = 0
    kind: str = "encoder_decoder"  # what the model picker checks and names

    @property
    def n_layers(self) -> int:
        config = self.model.config
        return int(getattr(config, "decoder_layers", None) or getattr(config, "num_decoder_layers", None)
                   or config.num_hidden_layers)

    @property
    def n_heads(self) -> int:
        config = self.model.config
        return int(getattr(config, "decoder_attention_heads", None) or config.num_attention_heads)

    @torch.inference_mode()
    def translate(self, text: str, prefix: str = "") -> Seq2SeqRun:
        """``prefix`` is prepended for T5-style models ("translate English to German: ")."""
        encoded = self.tokenizer(prefix + text, return_tensors="pt", truncation=True, max_length=MAX_SOURCE_TOKENS)
        full_length = len(self.tokenizer(prefix + text)["input_ids"])
        if encoded["input_ids"].size(1) == 0:
            raise UserModelError("models.err_no_tokens")
        written = self.model.generate(**encoded, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=1)
        decoder_input = written[:, :-1] if written.size(1) > 1 else written  # row t writes token t + 1
        output = self.model(**encoded, decoder_input_ids=decoder_input, output_attentions=True)
        if not output.cross_attentions or output.cross_attentions[0] is None:
            raise UserModelError("models.err_no_attentions")
        cross = torch.stack([layer[0] for layer in output.cross_attentions]).float().numpy()  # (L, H, T, S)
        return Seq2SeqRun(
            source_tokens=readable_tokens(self.tokenizer, encoded["input_ids"][0].tolist()),
            target_tokens=readable_tokens(self.tokenizer, decoder_input[0].tolist()),
            cross=cross, translation=self.tokenizer.decode(written[0], skip_special_tokens=True),
            truncated=full_length > encoded["input_ids"].size(1))


def _check_hub_id(spec: str, online: bool) -> None:
    from huggingface_hub import try_to_load_from_cache

    if not _HUB_ID.match(spec) or ".." in spec or "--" in spec:
        raise UserModelError("models.err_bad_id", spec=spec)
    if not online and not isinstance(try_to_load_from_cache(spec, "config.json"), str):
        raise UserModelError("models.err_not_cached_offline", spec=spec)


def load_seq2seq_model(spec: str, *, allow_online: bool = False, max_parameters: int = MAX_PARAMETERS) -> Seq2SeqModel:
    """A hub id (cache only unless ``allow_online``) or a local folder of an encoder-decoder."""
    spec = (spec or "").strip()
    if not spec:
        raise UserModelError("models.err_empty")
    local = looks_like_path(spec)
    online = allow_online and not local
    source = str(check_model_folder(spec)) if local else spec
    with hub_access(online, ONLINE_TIMEOUT_S):
        if not local:
            _check_hub_id(spec, online)
        return _load(spec, source, online=online, local=local, max_parameters=max_parameters)


def _load(spec: str, source: str, *, online: bool, local: bool, max_parameters: int) -> Seq2SeqModel:
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

    only_local = not online
    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False, local_files_only=only_local)
    except ValueError as error:
        raise UserModelError("models.err_unknown_family", spec=spec) from error
    except Exception as error:
        raise UserModelError("models.err_load_failed", spec=spec, reason=type(error).__name__) from error
    if not getattr(config, "is_encoder_decoder", False):
        raise UserModelError("translator.err_not_encoder_decoder", spec=spec,
                             model_type=getattr(config, "model_type", "?"))
    try:
        with torch.device("meta"):
            parameters = sum(p.numel() for p in AutoModelForSeq2SeqLM.from_config(config).parameters())
    except Exception as error:
        raise UserModelError("models.err_unsupported", spec=spec, model_type=config.model_type) from error
    if parameters > max_parameters:
        raise UserModelError("models.err_too_large", spec=spec, millions=round(parameters / 1e6),
                             limit=round(max_parameters / 1e6))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, local_files_only=only_local)
    except Exception as error:
        raise UserModelError("models.err_no_tokenizer", spec=spec) from error
    has_safetensors = local and any((Path(source) / n).exists()
                                    for n in ("model.safetensors", "model.safetensors.index.json"))
    try:
        model = AutoModelForSeq2SeqLM.from_pretrained(
            source, config=config, trust_remote_code=False, local_files_only=only_local,
            attn_implementation="eager", dtype=torch.float32, use_safetensors=True if has_safetensors else None)
    except Exception as error:
        raise UserModelError("models.err_load_failed", spec=spec, reason=type(error).__name__) from error
    model.eval().requires_grad_(False)
    return Seq2SeqModel(spec=spec, model=model, tokenizer=tokenizer, parameters=parameters)
