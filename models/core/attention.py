"""Scaled dot-product attention, step by step, then multi-head and grouped-query.

Every token asks a question (its query q), offers an index card (its key k) and has
some content to hand over (its value v). Attention answers each question in three steps,
each a small function below so a page can show it:

1. ``scores(q, k)``             relevance of every key to every query: q . k / sqrt(d)
2. ``softmax_weights(s, mask)`` hide forbidden pairs, turn each row into weights summing to 1
3. ``weighted_sum(w, v)``       each query's output is the weighted mix of the values

``attention(q, k, v, mask)`` is the three steps together and also returns the weights.
``fast_attention`` computes the same output with PyTorch's fused kernel
(``F.scaled_dot_product_attention``), which never builds the full weight matrix; the
model uses it whenever nobody asked to look at the weights.

Masks are boolean, True = may attend (see models.core.masks). :func:`additive_mask` is the
only place that turns one into numbers: 0 where allowed, -inf where not, so that
softmax gives exactly 0 weight to forbidden keys.

Shapes: B batch, H query heads, H_kv key/value heads, T query tokens, S key tokens,
D head dimension, C = H * D model width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.core.masks import causal as causal_mask
from models.core.positional import apply_rope


# -- the three steps ------------------------------------------------------------------


def scores(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Step 1: how well each query matches each key, q . k / sqrt(D): (..., T, S).

    Dividing by sqrt(D) keeps the scores' spread independent of the head size, so the
    softmax does not saturate into a one-hot for large D.
    """
    return q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (..., T, D) @ (..., D, S)


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """True/False "may attend" -> 0/-inf, ready to add to scores. The only such conversion."""
    zeros = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return zeros.masked_fill(~mask, float("-inf"))


def softmax_weights(scores: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Step 2: forbidden pairs get -inf, then softmax over keys: each row sums to 1."""
    if mask is not None:
        scores = scores + additive_mask(mask, scores.dtype)
    return torch.softmax(scores, dim=-1)


def weighted_sum(weights: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Step 3: each output row is sum_j weights[i, j] * v[j]: (..., T, S) @ (..., S, D)."""
    return weights @ v


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Explicit attention: returns (output (..., T, D), weights (..., T, S)).

    ``mask`` is bool "may attend", broadcastable to (..., T, S); None = everyone sees everyone.
    """
    weights = softmax_weights(scores(q, k), mask)
    return weighted_sum(weights, v), weights


def fast_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    is_causal: bool = False,
) -> torch.Tensor:
    """The same output as :func:`attention` through PyTorch's fused kernel.

    ``k`` and ``v`` may have fewer heads than ``q`` (grouped-query attention); the kernel
    shares them without copying. ``is_causal`` (square inputs only) is the fast way to
    say ``mask=causal(T)``.
    """
    return F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=is_causal, enable_gqa=k.size(-3) != q.size(-3)
    )


# -- heads --------------------------------------------------------------------------


def split_heads(x: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(B, T, H * D) -> (B, H, T, D): each head gets its own slice of the features."""
    B, T, C = x.shape
    return x.view(B, T, n_heads, C // n_heads).transpose(1, 2)  # (B, H, T, D)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, T, D) -> (B, T, H * D): the heads' outputs side by side (concat)."""
    B, H, T, D = x.shape
    return x.transpose(1, 2).reshape(B, T, H * D)  # (B, T, C)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """(B, H_kv, S, D) -> (B, H_kv * n_rep, S, D): each K/V head serves n_rep query heads.

    Head h of the result is K/V head h // n_rep, the grouping of grouped-query attention.
    """
    if n_rep == 1:
        return x
    B, H_kv, S, D = x.shape
    expanded = x[:, :, None].expand(B, H_kv, n_rep, S, D)  # (B, H_kv, n_rep, S, D), no copy
    return expanded.reshape(B, H_kv * n_rep, S, D)


@dataclass
class AttentionDetails:
    """What one attention layer computed, for pages that draw it.

    ``q`` is (B, H, T, D); ``k``/``v`` are (B, H_kv, S, D) as stored (after RoPE,
    including cached tokens, before sharing across groups); ``weights`` is (B, H, T, S).
    """

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    weights: torch.Tensor


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate W_Q, W_K, W_V and W_O.

    ``n_kv_heads`` < ``n_heads`` gives grouped-query attention (GQA): groups of query
    heads share one key/value head, so the KV cache shrinks by n_heads / n_kv_heads;
    ``n_kv_heads == 1`` is multi-query attention (MQA).
    """

    def __init__(self, n_embd: int, n_heads: int, n_kv_heads: int | None = None, bias: bool = True):
        super().__init__()
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        if n_embd % n_heads:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_heads ({n_heads})")
        if n_heads % n_kv_heads:
            raise ValueError(f"n_heads ({n_heads}) must be divisible by n_kv_heads ({n_kv_heads})")
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads
        self.head_dim = n_embd // n_heads
        kv_width = n_kv_heads * self.head_dim
        self.w_q = nn.Linear(n_embd, n_embd, bias=bias)
        self.w_k = nn.Linear(n_embd, kv_width, bias=bias)
        self.w_v = nn.Linear(n_embd, kv_width, bias=bias)
        self.w_o = nn.Linear(n_embd, n_embd, bias=bias)

    def forward(
        self,
        x: torch.Tensor,
        *,
        mask: torch.Tensor | None = None,
        causal: bool = False,
        rope: tuple[torch.Tensor, torch.Tensor] | None = None,
        cache=None,
        layer: int = 0,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, AttentionDetails | None]:
        """x (B, T, C) -> (output (B, T, C), details or None).

        mask:   bool (T, S) "may attend" pattern, or None for no restriction.
        causal: also hide the future; with a cache, query i sits at position S - T + i.
        rope:   (cos, sin) for these T positions when rotary embeddings are used.
        cache:  a models.core.kv_cache.KVCache; this layer's new K/V are appended to it.
        need_weights: use the explicit path and return q, k, v and the weights.
        """
        q = split_heads(self.w_q(x), self.n_heads)  # (B, H, T, D)
        k = split_heads(self.w_k(x), self.n_kv_heads)  # (B, H_kv, T, D)
        v = split_heads(self.w_v(x), self.n_kv_heads)  # (B, H_kv, T, D)
        if rope is not None:
            q, k = apply_rope(q, k, *rope)
        if cache is not None:
            k, v = cache.update(layer, k, v)  # (B, H_kv, S, D), S = cached + T
        T, S = q.size(-2), k.size(-2)

        if need_weights:
            if causal:
                mask = self._with_causal(mask, T, S, x.device)
            n_rep = self.n_heads // self.n_kv_heads
            out, weights = attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep), mask)
            details = AttentionDetails(q=q, k=k, v=v, weights=weights)
        else:
            # A single new token (decoding with a cache) may see every key: nothing to
            # hide. For a square block the fused kernel has a flag for "causal";
            # otherwise the mask is spelled out.
            hides_future = causal and T > 1
            use_flag = hides_future and mask is None and T == S
            if hides_future and not use_flag:
                mask = self._with_causal(mask, T, S, x.device)
            out = fast_attention(q, k, v, mask, is_causal=use_flag)
            details = None
        return self.w_o(merge_heads(out)), details  # (B, T, C)

    @staticmethod
    def _with_causal(mask: torch.Tensor | None, T: int, S: int, device) -> torch.Tensor:
        """Combine a pattern with "no peeking ahead" for T queries over S keys."""
        no_future = causal_mask(T, n_past=S - T, device=device)  # (T, S)
        return no_future if mask is None else mask & no_future
