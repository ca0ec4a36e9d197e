"""Position information: how a Transformer knows word order.

Attention by itself treats its input as a bag of tokens: shuffle the tokens and every
output is shuffled the same way. Three ways to tell the model where each token sits:

* ``sinusoidal`` (2017): a fixed table of sines and cosines at different wavelengths,
  added to the token embeddings at the model input.
* ``learned`` (GPT-1/2, BERT): one trainable vector per position, also added at the
  input. Simple, but it cannot go past the longest position it was trained with, and it
  costs ``block_size * n_embd`` parameters.
* ``RoPE`` (rotary, Llama): nothing is added; instead every query and key is rotated by
  an angle proportional to its position. The dot product of a rotated query and key
  then depends only on how far apart they are: relative position for free.

The RoPE functions follow the convention of ``transformers``' Llama code: the head
dimension is split into two halves, and pair (x[i], x[i + D/2]) is rotated together.
"""

from __future__ import annotations

import torch
from torch import nn


def sinusoidal(T: int, d: int, *, base: float = 10000.0, device=None) -> torch.Tensor:
    """The 2017 table, shape (T, d): even columns sin(pos / base^(2i/d)), odd columns cos."""
    position = torch.arange(T, dtype=torch.float32, device=device)[:, None]  # (T, 1)
    pair_index = torch.arange(0, d, 2, dtype=torch.float32, device=device)  # (ceil(d/2),)
    frequency = base ** (-pair_index / d)  # slow waves for later pairs
    angle = position * frequency  # (T, ceil(d/2))
    table = torch.empty(T, d, device=device)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d // 2])
    return table


def learned(max_len: int, d: int) -> nn.Embedding:
    """A trainable table: row p is the vector added to the token at position p."""
    return nn.Embedding(max_len, d)


def rope_frequencies(head_dim: int, theta: float = 10000.0, device=None) -> torch.Tensor:
    """Rotation speed of each of the head_dim/2 pairs: theta^(-2i/head_dim), shape (head_dim/2,)."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head dimension, got {head_dim}")
    pair_index = torch.arange(0, head_dim, 2, dtype=torch.float32, device=device)
    return 1.0 / (theta ** (pair_index / head_dim))


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosines and sines of the rotation angles for the given positions.

    ``positions`` is (T,) or (B, T) integer positions; the result is two float32 tensors
    of shape (..., T, head_dim): the angle of pair i is repeated in columns i and
    i + head_dim/2, matching :func:`rotate_half`.
    """
    frequency = rope_frequencies(head_dim, theta, device=positions.device)  # (D/2,)
    angle = positions[..., None].float() * frequency  # (..., T, D/2)
    angle = torch.cat((angle, angle), dim=-1)  # (..., T, D)
    return angle.cos(), angle.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last axis: a 90 degree turn per pair."""
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rope(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate queries and keys (B, H, T, D) by their positions' angles.

    ``cos``/``sin`` are (T, D) or (B, T, D) from :func:`rope_cos_sin`; x * cos +
    rotate_half(x) * sin is the 2D rotation of every pair written without a loop.
    """
    if cos.dim() == 3:  # (B, T, D) -> (B, 1, T, D): the same angle for every head
        cos, sin = cos[:, None], sin[:, None]
    cos, sin = cos.to(q.dtype), sin.to(q.dtype)
    q_rotated = q * cos + rotate_half(q) * sin
    k_rotated = k * cos + rotate_half(k) * sin
    return q_rotated, k_rotated
