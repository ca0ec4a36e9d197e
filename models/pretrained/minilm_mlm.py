"""MiniLM as a fill-in-the-blank reader: its layers plus a masked-language-model (MLM) head.

BERT-style readers are pretrained by hiding words and guessing them from both sides. The
bundled MiniLM (all-MiniLM-L6-v2) was tuned for sentence vectors and ships no MLM head, so
the project trains one (``python -m models.train mlm``): the embeddings stay exactly
MiniLM's, frozen; a copy of its layers (all six by default, ``MlmConfig.trained_layers``) is
trained together with a small head whose output matrix is MiniLM's own (frozen)
token-embedding table, tied as in BERT. Only the trained layers and the head are stored
(``assets/mlm/``, fp16); the rest is read from the installed MiniLM package, so the attention
pages keep the original model untouched.

The masking recipe lives here too (``mask_tokens``), so the page shows exactly the recipe
the model was trained with: pick 15% of the ordinary tokens; of those, 80% become [MASK],
10% a random token, 10% stay as they were; the loss is computed on the picked ones only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from models.pretrained.minilm import TABLE_KEY, WEIGHTS_FILE, minilm_path

ASSET_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "mlm"
HEAD_FILE = "mlm_head.safetensors"
MAX_POSITIONS = 512  # MiniLM's learned position table has 512 rows
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = 0, 100, 101, 102, 103
FIRST_WORD_ID = 999  # ids below are [PAD], [unusedN], [UNK], [CLS], [SEP], [MASK]: never guessed, never drawn
MASK_RATE = 0.15
SPLIT = (0.8, 0.1, 0.1)  # of the picked tokens: [MASK], a random token, unchanged
KEEP, MASKED, RANDOM, UNCHANGED = 0, 1, 2, 3  # what mask_tokens did to each position


@dataclass(frozen=True)
class MlmConfig:
    """Which MiniLM layers are trained; everything else is MiniLM's own shape."""

    n_layers: int = 6
    n_heads: int = 12
    hidden: int = 384
    trained_layers: int = 6  # counted from the top; all six: frozen lower layers make a weak reader (docs/MODELS.md 2b)
    eps: float = 1e-12
    dropout: float = 0.1  # inside the trained layers and head, training only

    @property
    def frozen_layers(self) -> int:
        return self.n_layers - self.trained_layers


# ---------------------------------------------------------------------------------------------
# The masking recipe


def mask_tokens(ids: torch.Tensor, generator: torch.Generator, rate: float = MASK_RATE,
                split: tuple[float, float, float] = SPLIT, vocab_size: int = 30522,
                candidates: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's recipe on a (B, T) batch of ids -> (new ids, what happened to each position).

    In every row, ``max(1, round(rate * n))`` of its n ordinary tokens are picked at random
    (special tokens and padding are never picked); each picked one becomes [MASK] with
    probability split[0], a random ordinary token with split[1], and stays with split[2].
    ``candidates`` (B, T) bool may narrow where picks can fall. Deterministic for a generator state.
    """
    ids = ids.clone()
    ordinary = ids >= FIRST_WORD_ID
    if candidates is not None:
        ordinary &= candidates
    counts = ordinary.sum(1)  # (B,)
    picks = torch.clamp(torch.round(counts.float() * rate), min=1).long() * (counts > 0)
    scores = torch.rand(ids.shape, generator=generator).masked_fill(~ordinary, 2.0)
    rank = scores.argsort(1).argsort(1)  # 0 = the lowest score in the row
    picked = rank < picks.unsqueeze(1)  # (B, T)
    draw = torch.rand(ids.shape, generator=generator)
    to_mask = picked & (draw < split[0])
    to_random = picked & (draw >= split[0]) & (draw < split[0] + split[1])
    random_ids = torch.randint(FIRST_WORD_ID, vocab_size, ids.shape, generator=generator)
    ids[to_mask] = MASK_ID
    ids[to_random] = random_ids[to_random]
    action = torch.full(ids.shape, KEEP, dtype=torch.long)
    action[picked] = UNCHANGED
    action[to_mask] = MASKED
    action[to_random] = RANDOM
    return ids, action


# ---------------------------------------------------------------------------------------------
# The model: MiniLM's BERT layers, batched, with an attention mask for padding


class BertLayer(nn.Module):
    """One post-norm BERT layer, named like MiniLM's weights (``attention.self.query`` ...)."""

    def __init__(self, cfg: MlmConfig):
        super().__init__()
        width = cfg.hidden
        self.n_heads, self.eps, self.dropout = cfg.n_heads, cfg.eps, cfg.dropout
        self.query, self.key, self.value = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)
        self.attention_out = nn.Linear(width, width)
        self.attention_norm = nn.LayerNorm(width, eps=cfg.eps)
        self.intermediate = nn.Linear(width, 4 * width)
        self.output = nn.Linear(4 * width, width)
        self.output_norm = nn.LayerNorm(width, eps=cfg.eps)

    # our name -> MiniLM's name under encoder.layer.N.
    NAMES = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
             "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}

    def load_minilm(self, weights: dict[str, torch.Tensor], layer: int) -> None:
        with torch.no_grad():
            for ours, theirs in self.NAMES.items():
                module = getattr(self, ours)
                module.weight.copy_(weights[f"encoder.layer.{layer}.{theirs}.weight"])
                module.bias.copy_(weights[f"encoder.layer.{layer}.{theirs}.bias"])

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor | None) -> torch.Tensor:
        batch, tokens, width = x.shape
        q, k, v = (proj(x).view(batch, tokens, self.n_heads, -1).transpose(1, 2)
                   for proj in (self.query, self.key, self.value))  # each (B, H, T, d)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, H, T, T)
        if additive_mask is not None:
            scores = scores + additive_mask  # (B, 1, 1, T): -inf-like on padding columns
        weights = torch.softmax(scores, dim=-1)
        drop = self.dropout if self.training else 0.0
        mixed = (nn.functional.dropout(weights, drop, self.training) @ v).transpose(1, 2).reshape(batch, tokens, width)
        x = self.attention_norm(x + nn.functional.dropout(self.attention_out(mixed), drop, self.training))
        inner = nn.functional.gelu(self.intermediate(x))
        return self.output_norm(x + nn.functional.dropout(self.output(inner), drop, self.training))


class MlmReader(nn.Module):
    """Embeddings (and any lower layers not trained) from MiniLM, frozen; trained layers; an MLM head.

    The head is BERT's: dense -> GELU -> LayerNorm, then scores against every row of the
    token-embedding table (tied, frozen) plus a per-token bias.
    """

    def __init__(self, minilm_weights: dict[str, torch.Tensor], cfg: MlmConfig = MlmConfig()):
        super().__init__()
        self.cfg = cfg
        frozen = {name: tensor.float() for name, tensor in minilm_weights.items()
                  if name.startswith("embeddings.") and name != "embeddings.position_ids"}
        for name, tensor in frozen.items():
            self.register_buffer(name.replace(".", "__"), tensor, persistent=False)
        self.layers = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.n_layers))
        for index, layer in enumerate(self.layers):
            layer.load_minilm(minilm_weights, index)
            if index < cfg.frozen_layers:
                layer.requires_grad_(False)
        self.head_dense = nn.Linear(cfg.hidden, cfg.hidden)
        self.head_norm = nn.LayerNorm(cfg.hidden, eps=cfg.eps)
        self.head_bias = nn.Parameter(torch.zeros(self.table.shape[0]))

    @property
    def table(self) -> torch.Tensor:
        return getattr(self, TABLE_KEY.replace(".", "__"))

    def _embed(self, ids: torch.Tensor, segments: torch.Tensor | None) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        segments = torch.zeros_like(ids) if segments is None else segments
        x = (self.table[ids] + self.embeddings__position_embeddings__weight[positions]
             + self.embeddings__token_type_embeddings__weight[segments])  # (B, T, 384)
        return nn.functional.layer_norm(x, x.shape[-1:], self.embeddings__LayerNorm__weight,
                                        self.embeddings__LayerNorm__bias, self.cfg.eps)

    @staticmethod
    def _additive(attention_mask: torch.Tensor | None) -> torch.Tensor | None:
        if attention_mask is None:
            return None
        additive = torch.zeros(attention_mask.shape, dtype=torch.float32, device=attention_mask.device)
        return additive.masked_fill(~attention_mask, -1e9)[:, None, None, :]  # (B, 1, 1, T)

    def hidden(self, ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
               segments: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, 384): the last layer's token vectors; ``attention_mask`` True = a real token.
        Frozen layers (``cfg.frozen_layers``; none by default) have no trainable weights, so no gradient reaches them."""
        additive = self._additive(attention_mask)
        x = self._embed(ids, segments)
        for layer in self.layers:
            x = layer(x, additive)
        return x

    def head(self, vectors: torch.Tensor) -> torch.Tensor:
        """(..., 384) -> (..., vocab) scores; special and unused pieces can never win."""
        h = self.head_norm(nn.functional.gelu(self.head_dense(vectors)))
        if self.training:
            h = nn.functional.dropout(h, self.cfg.dropout, True)
        logits = h @ self.table.T + self.head_bias
        return logits.index_fill(-1, torch.arange(FIRST_WORD_ID, device=logits.device), float("-inf"))

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Only what training changed: the trained layers and the head (what ``assets/mlm`` stores)."""
        return {name: tensor for name, tensor in self.state_dict().items()
                if not name.startswith("layers.") or int(name.split(".")[1]) >= self.cfg.frozen_layers}

    @torch.inference_mode()
    def fill(self, ids: list[int], segments: list[int] | None = None) -> torch.Tensor:
        """One sentence's ids ([CLS] ... [SEP]) -> (T, vocab) probabilities at every position."""
        ids_tensor = torch.tensor([ids])
        segment_tensor = None if segments is None else torch.tensor([segments])
        return torch.softmax(self.head(self.hidden(ids_tensor, segments=segment_tensor))[0], dim=-1)


def read_tokenizer(folder: Path | None = None):
    """MiniLM's WordPiece tokenizer (``tokenizers``), never padding or cutting: callers check lengths."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str((folder or minilm_path()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def read_minilm_weights(folder: Path | None = None) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str((folder or minilm_path()) / WEIGHTS_FILE))


def load_minilm_mlm(asset_dir: Path = ASSET_DIR, folder: Path | None = None) -> MlmReader:
    """MiniLM's frozen part from the installed package + the trained part from ``asset_dir``
    (safetensors, fp16 on disk, float32 in memory); eval mode, never changed afterwards."""
    from safetensors.torch import load_file

    config = json.loads((asset_dir / "config.json").read_text(encoding="utf-8"))
    model = MlmReader(read_minilm_weights(folder), MlmConfig(**config))
    trained = {name: tensor.float() for name, tensor in load_file(str(asset_dir / HEAD_FILE)).items()}
    missing, unexpected = model.load_state_dict(trained, strict=False)
    expected_missing = set(model.state_dict()) - set(model.trained_state())
    if unexpected or set(missing) != expected_missing:
        raise ValueError(f"{asset_dir / HEAD_FILE} does not match the MLM reader: "
                         f"missing {sorted(set(missing) - expected_missing)}, unexpected {unexpected}")
    return model.eval().requires_grad_(False)


@dataclass(frozen=True, eq=False)
class FillMask:
    """What a page needs to fill blanks: the model, its tokenizer, the vocabulary and the
    recorded held-out scores (``scores.json``, written by ``python -m models.train mlm``)."""

    model: MlmReader
    tokenizer: object
    vocab: list[str]
    scores: dict


def load_fill_mask(asset_dir: Path = ASSET_DIR) -> FillMask:
    from models.pretrained.minilm import read_vocab

    scores = json.loads((asset_dir / "scores.json").read_text(encoding="utf-8"))
    return FillMask(load_minilm_mlm(asset_dir), read_tokenizer(), read_vocab(), scores)


@dataclass(frozen=True)
class Guess:
    token: str
    probability: float


def top_guesses(probabilities: torch.Tensor, vocab: list[str], k: int) -> list[Guess]:
    """The k most likely pieces of one position's (vocab,) probabilities."""
    values, indices = probabilities.topk(k)
    return [Guess(vocab[i], float(p)) for p, i in zip(values.tolist(), indices.tolist())]

