"""One way to use every model a page can run: the bundled tiny GPTs, MiniLM, a person's Hugging Face model.

A page asks a model for the same few things whatever it is:

- ``encode`` / ``decode``: text to token ids and back; ``token_text`` / ``token_strings``: what
  each id stands for, as readable text;
- ``next_token_logits(ids)``: the scores for the token after ``ids`` (writers only);
- ``generate_rows``: several seeded continuations at once, one per temperature (writers only);
- ``run(text)``: one text through the model, every layer's hidden states and attention weights
  (a :class:`ModelRun`).

``models.pretrained.tiny_gpt.TinyGPTModel`` (our own GPT), ``models.pretrained.user_model.TransformersModel``
(any ``transformers`` model, which ``UserModel`` and ``minilm.MiniLM`` are) implement it.
Models are inference only and shared between sessions: callers never change them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MAX_TOKENS = 128  # ``run`` cuts a longer text to this many tokens


@dataclass(frozen=True)
class ModelRun:
    """One text through one model.

    tokens:  the tokenizer's pieces as readable text, special tokens included
             ([CLS]/[SEP] for BERT; byte-level marks like "Ġ" turned back into spaces)
    ids:     their ids
    special: True where the tokenizer added the token itself ([CLS], [SEP], <s>, ...)
    hidden_states: (L + 1, T, D) float32: the embeddings, then every layer's output
    attentions:    (L, H, T, T) float32: row = query token, column = key token
    next_token_logits: (vocab,) float32 scores for the token after the text (causal only)
    truncated / total_tokens: whether the text was cut to ``max_tokens``, and its full length
    """

    tokens: list[str]
    ids: list[int]
    special: list[bool]
    hidden_states: np.ndarray
    attentions: np.ndarray
    is_causal: bool
    next_token_logits: np.ndarray | None
    truncated: bool
    total_tokens: int


class LanguageModel:
    """What a page needs from a model. ``name`` is stable for one model, so pages key caches on it."""

    name: str
    vocab_size: int
    context: int  # longest sequence the model reads
    is_causal: bool  # a writer (looks back only) rather than a reader

    @property
    def n_layers(self) -> int:
        raise NotImplementedError

    @property
    def n_heads(self) -> int:
        raise NotImplementedError

    def encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def token_text(self, token_id: int) -> str:
        """What one token stands for, as readable text (may be part of a character)."""
        raise NotImplementedError

    def token_strings(self, ids: list[int]) -> list[str]:
        return [self.token_text(int(i)) for i in ids]

    def start_ids(self) -> list[int]:
        """Token ids a model can start from when the prompt is empty (none: cannot)."""
        return []

    def next_token_logits(self, ids: list[int]) -> torch.Tensor:
        """Scores (V,) for the token after ``ids``, float32 on the CPU."""
        raise NotImplementedError

    def generate_rows(self, ids: list[int], new_tokens: int, temperatures: list[float], top_k: int | None,
                      top_p: float | None, seed: int) -> list[list[int]]:
        """``new_tokens`` new ids after ``ids`` for each temperature, all rows through the model
        together; every row draws one token at a time from its own generator seeded by ``seed``."""
        raise NotImplementedError

    def run(self, text: str, max_tokens: int = MAX_TOKENS) -> ModelRun:
        raise NotImplementedError
