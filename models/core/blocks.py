"""One Transformer block, and how it changed between 2017 and 2024.

A block is two sub-layers, each wrapped in a residual connection ("add") and a
normalisation ("norm"):

    attention: tokens exchange information (every word hears the others)
    feed-forward (FFN): each token digests what it heard, on its own

The 2017 block (Vaswani et al.) and a 2024 Llama-3-style block differ in five
independent choices, each a field of :class:`BlockConfig` so a page can flip one at a time:

=============== ================================= ==========================================
choice          2017                              2024
=============== ================================= ==========================================
norm placement  post: norm(x + sublayer(x))       pre: x + sublayer(norm(x))
norm kind       LayerNorm (centre and scale)      RMSNorm (scale only, computed in float32)
positions       sinusoidal, added at model input  RoPE, rotates q and k inside attention
attention       multi-head (n_kv_head = n_head)   grouped-query (fewer K/V heads)
FFN             ReLU, 4x wide                     SwiGLU (gated), about 8/3x wide
bias            on                                off
=============== ================================= ==========================================

Pre-norm keeps a clean residual path from input to output, which is why deep stacks of
it train without the warm-up tricks post-norm needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.core.attention import AttentionDetails, MultiHeadAttention
from models.core.positional import rope_cos_sin

NORM_PLACEMENTS = ("post", "pre")
NORM_KINDS = ("layernorm", "rmsnorm")
POSITION_KINDS = ("sinusoidal", "learned", "rope")
FFN_KINDS = ("relu", "gelu", "swiglu")

# The two designs, written once: BlockConfig.style_*, GPTConfig.style_* and the blocks page's
# switches (models.labs.blocks.BlockChoices) all read them from here.
STYLES: dict[str, dict] = {
    "2017": dict(norm_placement="post", norm="layernorm", positions="sinusoidal", ffn="relu", bias=True),
    "2024": dict(norm_placement="pre", norm="rmsnorm", positions="rope", ffn="swiglu", bias=False),
}
# Query heads per K/V head: 1 = multi-head attention (2017); Llama-3-8B groups 32 query heads
# over 8 K/V heads, and the bundled tiny 2024 model 8 over 2: four per group.
KV_GROUPS: dict[str, int] = {"2017": 1, "2024": 4}


def default_ffn_hidden(n_embd: int, ffn: str) -> int:
    """FFN width: 4 * n_embd; for SwiGLU 8/3 * n_embd rounded up to a multiple of 32.

    SwiGLU has three weight matrices instead of two, so 2/3 of the width keeps the
    parameter count the same (3 * 8/3 = 2 * 4).
    """
    if ffn == "swiglu":
        return 32 * math.ceil(8 * n_embd / 3 / 32)
    return 4 * n_embd


def _choose(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


@dataclass(frozen=True)
class BlockConfig:
    """Every switch of one block. See the table in the module docstring."""

    n_embd: int  # width of the residual stream (d_model)
    n_head: int  # query heads; head size is n_embd / n_head
    n_kv_head: int | None = None  # key/value heads: None = n_head (MHA), fewer = GQA, 1 = MQA
    norm_placement: str = "post"  # "post" (2017) or "pre" (GPT-2 onwards)
    norm: str = "layernorm"  # "layernorm" or "rmsnorm"
    positions: str = "sinusoidal"  # only "rope" changes the block: q, k rotated inside attention
    ffn: str = "relu"  # "relu", "gelu" (tanh approximation, as GPT-2) or "swiglu"
    ffn_hidden: int | None = None  # None: default_ffn_hidden(n_embd, ffn)
    bias: bool = True  # biases in every Linear and LayerNorm
    norm_eps: float = 1e-5  # added to the variance so we never divide by 0
    dropout: float = 0.0  # on each sub-layer output before the residual add (2017 paper)
    rope_theta: float = 10000.0  # RoPE base: larger = slower rotations = longer contexts

    def __post_init__(self):
        _choose("norm_placement", self.norm_placement, NORM_PLACEMENTS)
        _choose("norm", self.norm, NORM_KINDS)
        _choose("positions", self.positions, POSITION_KINDS)
        _choose("ffn", self.ffn, FFN_KINDS)
        if self.n_kv_head is None:
            object.__setattr__(self, "n_kv_head", self.n_head)
        if self.ffn_hidden is None:
            object.__setattr__(self, "ffn_hidden", default_ffn_hidden(self.n_embd, self.ffn))
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if self.n_head % self.n_kv_head:
            raise ValueError(f"n_head ({self.n_head}) must be divisible by n_kv_head ({self.n_kv_head})")
        if self.positions == "rope" and self.head_dim % 2:
            raise ValueError(f"RoPE rotates pairs of numbers, so the head size must be even, got {self.head_dim}")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @classmethod
    def style_2017(cls, n_embd: int, n_head: int, **overrides) -> BlockConfig:
        """Post-norm LayerNorm, multi-head attention, ReLU FFN, biases (Vaswani et al. 2017)."""
        return cls(n_embd, n_head, **{**style_settings("2017", n_head), **overrides})

    @classmethod
    def style_2024(cls, n_embd: int, n_head: int, **overrides) -> BlockConfig:
        """Pre-norm RMSNorm, RoPE, grouped-query attention, SwiGLU, no biases (Llama 3)."""
        return cls(n_embd, n_head, **{**style_settings("2024", n_head), **overrides})


def kv_heads(style: str, n_head: int) -> int:
    """K/V heads of a ``style`` block with ``n_head`` query heads: the style's group size
    (KV_GROUPS), made smaller where it would not divide n_head or would leave fewer than two
    K/V heads (a tiny model with 4 heads keeps 2 groups to look at)."""
    group = KV_GROUPS[style]
    while group > 1 and (n_head % group or n_head // group < 2):
        group -= 1
    return n_head // group


def style_settings(style: str, n_head: int) -> dict:
    """Every switch of ``style`` ("2017" or "2024") for a block with ``n_head`` query heads."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {tuple(STYLES)}, got {style!r}")
    return {**STYLES[style], "n_kv_head": kv_heads(style, n_head)}


class RMSNorm(nn.Module):
    """Root-mean-square norm: x / sqrt(mean(x^2) + eps) * weight. No mean subtraction,
    no bias; computed in float32 (as Llama does) so half-precision inputs do not overflow."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


def make_norm(kind: str, dim: int, eps: float, bias: bool) -> nn.Module:
    """LayerNorm (optionally without bias) or RMSNorm."""
    if kind == "rmsnorm":
        return RMSNorm(dim, eps)
    return nn.LayerNorm(dim, eps=eps, bias=bias)


class FeedForward(nn.Module):
    """Position-wise FFN: widen, apply a non-linearity, narrow back.

    relu / gelu:  w_down(act(w_up(x)))
    swiglu:       w_down(silu(w_gate(x)) * w_up(x))   the gate decides, per feature,
                                                      how much of w_up(x) passes
    """

    def __init__(self, n_embd: int, hidden: int, kind: str = "relu", bias: bool = True):
        super().__init__()
        _choose("ffn", kind, FFN_KINDS)
        self.kind = kind
        self.w_up = nn.Linear(n_embd, hidden, bias=bias)
        self.w_gate = nn.Linear(n_embd, hidden, bias=bias) if kind == "swiglu" else None
        self.w_down = nn.Linear(hidden, n_embd, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "swiglu":
            hidden = F.silu(self.w_gate(x)) * self.w_up(x)
        elif self.kind == "gelu":
            hidden = F.gelu(self.w_up(x), approximate="tanh")
        else:
            hidden = F.relu(self.w_up(x))
        return self.w_down(hidden)  # (B, T, C)


class Block(nn.Module):
    """One Transformer block; every difference between 2017 and 2024 is a config switch."""

    def __init__(self, config: BlockConfig):
        super().__init__()
        self.config = config
        self.norm_attn = make_norm(config.norm, config.n_embd, config.norm_eps, config.bias)
        self.attn = MultiHeadAttention(config.n_embd, config.n_head, config.n_kv_head, bias=config.bias)
        self.norm_ffn = make_norm(config.norm, config.n_embd, config.norm_eps, config.bias)
        self.ffn = FeedForward(config.n_embd, config.ffn_hidden, config.ffn, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

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
        """x (B, T, C) -> (x (B, T, C), attention details or None).

        Arguments as in MultiHeadAttention.forward. With RoPE and no ``rope`` given, the
        block computes cos/sin itself for positions 0.. (after the cache's tokens).
        """
        if self.config.positions == "rope" and rope is None:
            start = cache.length if cache is not None else 0
            positions = torch.arange(start, start + x.size(1), device=x.device)
            rope = rope_cos_sin(positions, self.config.head_dim, self.config.rope_theta)
        attend = dict(mask=mask, causal=causal, rope=rope, cache=cache, layer=layer, need_weights=need_weights)

        if self.config.norm_placement == "pre":
            heard, details = self.attn(self.norm_attn(x), **attend)
            x = x + self.dropout(heard)
            x = x + self.dropout(self.ffn(self.norm_ffn(x)))
        else:
            heard, details = self.attn(x, **attend)
            x = self.norm_attn(x + self.dropout(heard))
            x = self.norm_ffn(x + self.dropout(self.ffn(x)))
        return x, details


class Block2017(Block):
    """The original block: post-norm LayerNorm, multi-head attention, ReLU FFN, biases.
    Positions are sinusoidal and added at the model input, so the block never sees them."""

    def __init__(self, n_embd: int, n_head: int, **overrides):
        super().__init__(BlockConfig.style_2017(n_embd, n_head, **overrides))


class Block2024(Block):
    """A Llama-3-style block: pre-norm RMSNorm, RoPE, grouped-query attention, SwiGLU, no biases."""

    def __init__(self, n_embd: int, n_head: int, **overrides):
        super().__init__(BlockConfig.style_2024(n_embd, n_head, **overrides))
