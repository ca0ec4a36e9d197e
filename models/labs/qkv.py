"""Q, K and V step by step: one sentence through one attention layer, every number kept.

Each token's vector x is projected three ways:

    q = x W_Q   the question the token asks ("who here tells me what I refer to?")
    k = x W_K   the index card it offers to the others' questions
    v = x W_V   the content it hands over to whoever finds its card relevant

Then, per head, the three steps of models.core.attention: scores q . k / sqrt(D), the
softmax (with the causal mask if asked), and the weighted sum of the value rows. The
heads' outputs are placed side by side (concat) and mixed by W_O.

Two sources of vectors and weights, computed by the same code path:

* ``random_attention`` + ``word_vectors``: a seeded, untrained layer at a small width
  that a person can read number by number; equal words get equal vectors.
* ``tiny_gpt_first_layer``: the bundled tiny GPT's real first attention layer and the
  vectors it really reads (embeddings with positions, normalised first in a pre-norm
  block; RoPE rotates q and k). In the 2024 model several query heads share one K/V head
  (grouped-query attention), so W_K and W_V are narrower than W_Q.

``project`` returns a :class:`QKVLab` whose arrays are exactly the outputs of
models.core.attention's functions; ``no_projection=True`` skips the projections (Q = K = V = X,
one head over the whole vector, no W_O) to show what the projections add.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from models.core.attention import (
    MultiHeadAttention,
    merge_heads,
    repeat_kv,
    scores,
    softmax_weights,
    split_heads,
    weighted_sum,
)
from models.core.masks import causal as causal_mask
from models.core.positional import apply_rope

MAX_TOKENS = 24  # more than this is unreadable as numbers; the page says when it cuts
WIDTHS = tuple(range(8, 65, 8))  # d_model choices for the random layer
HEAD_COUNTS = (1, 2, 4, 8)  # every one divides every width above

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_WORD_PATTERN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def split_words(text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[str], int]:
    """Words, single punctuation marks / emoji, and single CJK characters, in order.

    Returns (the first ``max_tokens`` tokens, how many there were in all).
    """
    words = _WORD_PATTERN.findall(text or "")
    return words[:max_tokens], len(words)


def word_vectors(words: list[str], width: int, seed: int) -> torch.Tensor:
    """One seeded random vector N(0, 1) per word, the same for equal words (case ignored): (T, width).

    No position information is added: this layer sees the sentence as a bag of words.
    """
    rows = []
    for word in words:
        generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(word.lower().encode("utf-8")))
        rows.append(torch.randn(width, generator=generator))
    if not rows:
        return torch.zeros(0, width)
    return torch.stack(rows)  # (T, width)


def random_attention(width: int, n_heads: int, seed: int) -> MultiHeadAttention:
    """An untrained attention layer without biases, weights N(0, 1/width) from ``seed``.

    With that scale q, k and v have roughly unit-size entries, so the scores spread
    over a readable range instead of saturating the softmax.
    """
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {WIDTHS}, got {width}")
    if n_heads not in HEAD_COUNTS:
        raise ValueError(f"n_heads must be one of {HEAD_COUNTS}, got {n_heads}")
    layer = MultiHeadAttention(width, n_heads, bias=False)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for linear in (layer.w_q, layer.w_k, layer.w_v, layer.w_o):
            linear.weight.copy_(torch.randn(linear.weight.shape, generator=generator) / width**0.5)
    return layer.eval()


@dataclass(frozen=True)
class FirstLayer:
    """What the tiny GPT's first attention layer reads, and the layer itself."""

    attention: MultiHeadAttention
    x: torch.Tensor  # (T, C) the vectors W_Q, W_K, W_V multiply
    rope: tuple[torch.Tensor, torch.Tensor] | None  # (cos, sin), each (T, D), or None


@torch.no_grad()
def tiny_gpt_first_layer(model, ids: list[int]) -> FirstLayer:
    """The first block's attention and its real input for these token ids.

    The input is the embedding (token + position, as the model adds them); a pre-norm
    block normalises it before attention, a post-norm block uses it as it is.
    """
    device = model.wte.weight.device
    idx = torch.tensor([ids], dtype=torch.long, device=device)  # (1, T)
    trace = model.trace(idx)
    block = model.blocks[0]
    x = trace.input_embeddings
    if block.config.norm_placement == "pre":
        x = block.norm_attn(x)
    rope = None
    if model.config.positions == "rope":
        T = len(ids)
        rope = (model.rope_cos[:T], model.rope_sin[:T])
    return FirstLayer(attention=block.attn, x=x[0], rope=rope)


@dataclass(frozen=True)
class QKVLab:
    """Every intermediate of one attention layer on one sentence (NumPy, float32).

    Weight matrices are shown the way the text writes them, x @ W: (C_in, C_out).
    Q is (H, T, D); K and V are (H_kv, T, D); head h reads K/V head ``kv_head(h)``.
    """

    tokens: list[str]
    x: np.ndarray  # (T, C)
    w_q: np.ndarray | None  # (C, H * D); None without projections
    w_k: np.ndarray | None  # (C, H_kv * D)
    w_v: np.ndarray | None  # (C, H_kv * D)
    w_o: np.ndarray | None  # (H * D, C)
    has_bias: bool  # the projections add a bias vector after the matrix product
    q: np.ndarray  # (H, T, D), after RoPE where the model uses it
    k: np.ndarray  # (H_kv, T, D)
    v: np.ndarray  # (H_kv, T, D)
    scores: np.ndarray  # (H, T, T) q . k / sqrt(D), before the mask
    mask: np.ndarray  # (T, T) bool, True = may attend
    weights: np.ndarray  # (H, T, T) softmax of the masked scores; rows sum to 1
    head_outputs: np.ndarray  # (H, T, D) weighted sums of value rows
    concat: np.ndarray  # (T, H * D) heads side by side
    output: np.ndarray  # (T, C) concat @ W_O (+ bias); = concat without projections
    projected: bool
    rope: bool

    @property
    def n_heads(self) -> int:
        return self.q.shape[0]

    @property
    def n_kv_heads(self) -> int:
        return self.k.shape[0]

    @property
    def head_dim(self) -> int:
        return self.q.shape[-1]

    @property
    def width(self) -> int:
        return self.x.shape[-1]

    def joined_heads(self, name: str) -> np.ndarray:
        """Q, K or V (``name`` "q", "k", "v") with the heads side by side: (T, heads * D)."""
        per_head = {"q": self.q, "k": self.k, "v": self.v}[name]
        return per_head.transpose(1, 0, 2).reshape(per_head.shape[1], -1)

    def kv_head(self, head: int) -> int:
        """Which K/V head query head ``head`` reads (grouped-query attention shares them)."""
        return head // (self.n_heads // self.n_kv_heads)

    def head_weights(self, head: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The columns of W_Q, W_K and W_V that query head ``head`` uses: each (C, D)."""
        D, kv = self.head_dim, self.kv_head(head)
        return self.w_q[:, head * D:(head + 1) * D], self.w_k[:, kv * D:(kv + 1) * D], self.w_v[:, kv * D:(kv + 1) * D]

    def contributions(self, head: int, token: int) -> np.ndarray:
        """Step 2 spelled out: row j is weight[token, j] * v_j, shape (T, D); their sum is the output."""
        return self.weights[head, token][:, None] * self.v[self.kv_head(head)]

    def weighted_sum_table(self, head: int, token: int) -> np.ndarray:
        """The contributions with the head's output for ``token`` below them: (T + 1, D)."""
        return np.vstack([self.contributions(head, token), self.head_outputs[head, token][None]])


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


@torch.no_grad()
def project(
    layer: MultiHeadAttention,
    x: torch.Tensor,
    tokens: list[str],
    *,
    causal: bool,
    rope: tuple[torch.Tensor, torch.Tensor] | None = None,
    no_projection: bool = False,
) -> QKVLab:
    """Run ``x`` (T, C) through ``layer`` one step at a time with models.core.attention's functions."""
    T, C = x.shape
    if T != len(tokens):
        raise ValueError(f"{len(tokens)} tokens but {T} vectors")
    if T == 0:
        raise ValueError("no tokens: nothing to attend to")
    batch = x[None]  # (1, T, C)
    if no_projection:
        q = k = v = batch[:, None]  # (1, 1, T, C): one head that reads the whole vector
    else:
        q = split_heads(layer.w_q(batch), layer.n_heads)  # (1, H, T, D)
        k = split_heads(layer.w_k(batch), layer.n_kv_heads)  # (1, H_kv, T, D)
        v = split_heads(layer.w_v(batch), layer.n_kv_heads)  # (1, H_kv, T, D)
        if rope is not None:
            q, k = apply_rope(q, k, *rope)
    n_rep = q.size(1) // k.size(1)
    mask = causal_mask(T, device=x.device) if causal else torch.ones(T, T, dtype=torch.bool, device=x.device)
    raw_scores = scores(q, repeat_kv(k, n_rep))  # (1, H, T, T)
    weights = softmax_weights(raw_scores, mask)  # (1, H, T, T)
    head_outputs = weighted_sum(weights, repeat_kv(v, n_rep))  # (1, H, T, D)
    concat = merge_heads(head_outputs)  # (1, T, H * D)
    output = concat if no_projection else layer.w_o(concat)  # (1, T, C)

    def matrix(linear):  # nn.Linear keeps (C_out, C_in); the page shows x @ W
        return None if no_projection else _numpy(linear.weight.T)

    return QKVLab(
        tokens=list(tokens),
        x=_numpy(x),
        w_q=matrix(layer.w_q),
        w_k=matrix(layer.w_k),
        w_v=matrix(layer.w_v),
        w_o=matrix(layer.w_o),
        has_bias=not no_projection and layer.w_q.bias is not None,
        q=_numpy(q[0]),
        k=_numpy(k[0]),
        v=_numpy(v[0]),
        scores=_numpy(raw_scores[0]),
        mask=mask.cpu().numpy(),
        weights=_numpy(weights[0]),
        head_outputs=_numpy(head_outputs[0]),
        concat=_numpy(concat[0]),
        output=_numpy(output[0]),
        projected=not no_projection,
        rope=rope is not None and not no_projection,
    )


def random_lab(words: list[str], width: int, n_heads: int, seed: int, *, causal: bool,
               no_projection: bool = False) -> QKVLab:
    """The seeded small layer on seeded word vectors."""
    return project(random_attention(width, n_heads, seed), word_vectors(words, width, seed), words,
                   causal=causal, no_projection=no_projection)


def tiny_gpt_lab(model, ids: list[int], tokens: list[str], *, causal: bool = True,
                 no_projection: bool = False) -> QKVLab:
    """The tiny GPT's first attention layer on its real input (causal, as it was trained)."""
    return tiny_gpt_labs(model, ids, tokens, causal=causal, no_projection=no_projection)[0]


def tiny_gpt_labs(model, ids: list[int], tokens: list[str], *, causal: bool = True,
                  no_projection: bool = False) -> tuple[QKVLab, QKVLab]:
    """(the lab as asked, the same input with Q = K = V = X) from one pass through the model."""
    first = tiny_gpt_first_layer(model, ids)
    chosen = project(first.attention, first.x, tokens, causal=causal, rope=first.rope, no_projection=no_projection)
    plain = project(first.attention, first.x, tokens, causal=causal, rope=first.rope, no_projection=True)
    return chosen, plain


def tiny_gpt_tokens(tokenizer, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[int], list[str], int]:
    """Token ids and their readable texts for the tiny GPT, cut at ``max_tokens``.

    Returns (ids, texts, total number of tokens before the cut).
    """
    from models.pretrained.tokens import token_text

    encoding = tokenizer.encode(text or "")
    ids = list(encoding.ids)
    kept = ids[:max_tokens]
    return kept, [token_text(tokenizer.id_to_token(i)) for i in kept], len(ids)


# -- MiniLM: a real pretrained encoder's projections ----------------------------------------------

REFERENT_SENTENCE = "The dog chased the cat because it was hungry."
REFERENT_WORDS = ("it", "dog", "cat")  # the pronoun, its noun, the other noun


def minilm_attention(encoder, layer: int) -> MultiHeadAttention:
    """Layer ``layer`` of MiniLM's self-attention (a models.pretrained.minilm.BertEncoder) as the core's
    MultiHeadAttention: W_Q, W_K, W_V and W_O with their biases copied from the bundled weights."""
    if not 0 <= layer < encoder.n_layers:
        raise ValueError(f"layer must lie in 0..{encoder.n_layers - 1}, got {layer}")
    width = encoder.weights["embeddings.word_embeddings.weight"].shape[1]
    attention = MultiHeadAttention(width, encoder.n_heads, bias=True)
    prefix = f"encoder.layer.{layer}.attention."
    names = {"w_q": "self.query", "w_k": "self.key", "w_v": "self.value", "w_o": "output.dense"}
    with torch.no_grad():
        for ours, theirs in names.items():
            getattr(attention, ours).weight.copy_(encoder.weights[f"{prefix}{theirs}.weight"])
            getattr(attention, ours).bias.copy_(encoder.weights[f"{prefix}{theirs}.bias"])
    return attention.eval()


def minilm_tokens(encoder, text: str, max_tokens: int = MAX_TOKENS) -> tuple[list[int], list[str], int]:
    """MiniLM's ids and WordPiece pieces ([CLS] ... [SEP]) cut at ``max_tokens``; and the total."""
    total = len(encoder.tokenizer.encode(text or "").ids)
    ids, _ = encoder.encode(text or "", max_tokens)
    return ids, [encoder.tokenizer.id_to_token(i) for i in ids], total


def minilm_labs(encoder, ids: list[int], tokens: list[str], layer: int, *, causal: bool = False,
                no_projection: bool = False) -> tuple[QKVLab, QKVLab]:
    """(the lab as asked, the same input with Q = K = V = X) for MiniLM's layer ``layer``: its input
    is the previous layer's output (layer 0 reads the embedding output), as in the real model."""
    x = torch.from_numpy(encoder.hidden_states(ids)[layer])  # (T, 384): what this layer reads
    attention = minilm_attention(encoder, layer)
    return (project(attention, x, tokens, causal=causal, no_projection=no_projection),
            project(attention, x, tokens, causal=causal, no_projection=True))


def word_index(tokens: list[str], word: str) -> int:
    """Index of the first token that is ``word`` (case ignored); ValueError when none is."""
    for index, token in enumerate(tokens):
        if token.strip().lower() == word:
            return index
    raise ValueError(f"{word!r} is not one of the tokens {tokens}")


@dataclass(frozen=True)
class ReferentHead:
    """The head whose "it" listens most to its own noun rather than the other one."""

    layer: int
    head: int
    noun_weight: float  # weight from the pronoun to its noun
    other_weight: float  # weight from the pronoun to the other noun


def referent_head(encoder, sentence: str = REFERENT_SENTENCE, words: tuple[str, str, str] = REFERENT_WORDS) -> ReferentHead:
    """Search every layer and head of MiniLM for the largest (weight to the noun - weight to the other
    noun) from the pronoun, computed with the same projections the page draws."""
    pronoun, noun, other = words
    ids, tokens, _ = minilm_tokens(encoder, sentence)
    at = {name: word_index(tokens, name) for name in words}
    best = None
    for layer in range(encoder.n_layers):
        weights = minilm_labs(encoder, ids, tokens, layer)[0].weights[:, at[pronoun]]  # (H, T)
        for head, row in enumerate(weights):
            candidate = ReferentHead(layer, head, float(row[at[noun]]), float(row[at[other]]))
            if best is None or candidate.noun_weight - candidate.other_weight > best.noun_weight - best.other_weight:
                best = candidate
    return best


def sentence_labs(source: str, text: str, *, model=None, width: int = 8, heads: int = 2, layer: int = 0, seed: int = 0,
                  causal: bool = True, no_projection: bool = False) -> tuple[QKVLab | None, QKVLab | None, int]:
    """(the lab as asked, the same input with Q = K = V = X, tokens before the cut) for one source:
    "random" (seeded layer of ``width`` and ``heads``), "minilm" (``model`` a BertEncoder, layer
    ``layer``) or "2017" / "2024" (``model`` a bundled TinyGPT). (None, None, 0) without tokens."""
    if source == "random":
        words, total = split_words(text)
        if not words:
            return None, None, 0
        return (random_lab(words, width, heads, seed, causal=causal, no_projection=no_projection),
                random_lab(words, width, heads, seed, causal=causal, no_projection=True), total)
    if source == "minilm":
        ids, tokens, total = minilm_tokens(model, text)
        if total <= 2:  # only [CLS] and [SEP]
            return None, None, 0
        return (*minilm_labs(model, ids, tokens, layer, causal=causal, no_projection=no_projection), total)
    ids, tokens, total = tiny_gpt_tokens(model.tokenizer, text)
    if not ids:
        return None, None, 0
    return (*tiny_gpt_labs(model.model, ids, tokens, causal=causal, no_projection=no_projection), total)
