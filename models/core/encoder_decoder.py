"""The 2017 Transformer as it was built: an encoder, a decoder, and cross-attention between them.

A translator reads the whole source sentence first, then writes the translation one word at
a time. The model has one part for each job:

* the **encoder** is a stack of ordinary blocks (models.core.blocks, 2017 style) whose
  self-attention is bidirectional: every source word hears every other source word;
* the **decoder** is a stack of :class:`DecoderBlock`: masked (causal) self-attention over
  the words written so far, then **cross-attention**, where each target position asks a
  question (query) and the encoder's outputs answer it (keys and values), then the FFN;
* a linear head turns each decoder output into scores over the target vocabulary.

Cross-attention is the whole difference from a GPT block: queries come from one sequence
(the translation being written), keys and values from another (the source). Its weights,
one row per target word and one column per source word, show which source word the
decoder looked at while writing each target word: an alignment.

Padding: sentences of different lengths share a batch, so the source is padded; a boolean
``source_mask`` (B, S), True = real word, keeps every query from attending to the padding.

Shapes: B batch, S source tokens, T target tokens, C width, H heads, D head size, V vocab.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.core.attention import AttentionDetails, MultiHeadAttention, attention, fast_attention, merge_heads, split_heads
from models.core.blocks import Block, BlockConfig, FeedForward, make_norm
from models.core.positional import sinusoidal


class CrossAttention(nn.Module):
    """Multi-head attention whose queries come from ``x`` and keys / values from ``memory``."""

    def __init__(self, n_embd: int, n_heads: int, bias: bool = True):
        super().__init__()
        if n_embd % n_heads:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.w_q = nn.Linear(n_embd, n_embd, bias=bias)
        self.w_k = nn.Linear(n_embd, n_embd, bias=bias)
        self.w_v = nn.Linear(n_embd, n_embd, bias=bias)
        self.w_o = nn.Linear(n_embd, n_embd, bias=bias)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, *, memory_mask: torch.Tensor | None = None,
                need_weights: bool = False) -> tuple[torch.Tensor, AttentionDetails | None]:
        """x (B, T, C) asks, memory (B, S, C) answers -> (output (B, T, C), details or None).

        memory_mask: bool (B, S), True = a real source token that may be attended to.
        """
        q = split_heads(self.w_q(x), self.n_heads)  # (B, H, T, D): the target asks
        k = split_heads(self.w_k(memory), self.n_heads)  # (B, H, S, D): the source's index cards
        v = split_heads(self.w_v(memory), self.n_heads)  # (B, H, S, D): the source's content
        mask = None if memory_mask is None else memory_mask[:, None, None, :]  # (B, 1, 1, S)
        if need_weights:
            out, weights = attention(q, k, v, mask)  # weights (B, H, T, S)
            details = AttentionDetails(q=q, k=k, v=v, weights=weights)
        else:
            out, details = fast_attention(q, k, v, mask), None
        return self.w_o(merge_heads(out)), details


class DecoderBlock(nn.Module):
    """Masked self-attention, cross-attention, FFN; each post-norm (2017): norm(x + sublayer(x))."""

    def __init__(self, config: BlockConfig):
        super().__init__()
        self.self_attn = MultiHeadAttention(config.n_embd, config.n_head, bias=config.bias)
        self.norm_self = make_norm(config.norm, config.n_embd, config.norm_eps, config.bias)
        self.cross = CrossAttention(config.n_embd, config.n_head, bias=config.bias)
        self.norm_cross = make_norm(config.norm, config.n_embd, config.norm_eps, config.bias)
        self.ffn = FeedForward(config.n_embd, config.ffn_hidden, config.ffn, bias=config.bias)
        self.norm_ffn = make_norm(config.norm, config.n_embd, config.norm_eps, config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None,
                need_weights: bool = False):
        """x (B, T, C), memory (B, S, C) -> (x (B, T, C), self details, cross details)."""
        heard, self_details = self.self_attn(x, causal=True, need_weights=need_weights)  # no peeking ahead
        x = self.norm_self(x + self.dropout(heard))
        looked_up, cross_details = self.cross(x, memory, memory_mask=memory_mask, need_weights=need_weights)
        x = self.norm_cross(x + self.dropout(looked_up))
        x = self.norm_ffn(x + self.dropout(self.ffn(x)))
        return x, self_details, cross_details


@dataclass(frozen=True)
class EncoderDecoderConfig:
    """The shape of a tiny 2017 translator. Defaults fit a word-level toy language pair."""

    source_vocab: int
    target_vocab: int
    n_embd: int = 128  # width of every token vector
    n_head: int = 4  # heads in each of the three attentions
    n_encoder_layers: int = 2
    n_decoder_layers: int = 2
    ffn_hidden: int = 256  # the FFN widens to this and back
    max_len: int = 64  # longest sentence (source or target, specials included) it can hold
    dropout: float = 0.0
    pad_id: int = 0  # the padding token in both vocabularies

    def to_dict(self) -> dict:
        return asdict(self)

    def block_config(self) -> BlockConfig:
        return BlockConfig.style_2017(self.n_embd, self.n_head, ffn_hidden=self.ffn_hidden, dropout=self.dropout)


@dataclass
class EncoderDecoderTrace:
    """Everything one teacher-forced pass computed, for pages that draw it.

    encoder_self: per layer (B, H, S, S); decoder_self: per layer (B, H, T, T), zero above the
    diagonal; cross: per layer (B, H, T, S), target rows and source columns; logits (B, T, V).
    """

    encoder_self: list[torch.Tensor]
    decoder_self: list[torch.Tensor]
    cross: list[torch.Tensor]
    memory: torch.Tensor
    logits: torch.Tensor


class EncoderDecoder(nn.Module):
    """Source ids (B, S) and the target so far (B, T) -> scores for every next target word."""

    def __init__(self, config: EncoderDecoderConfig):
        super().__init__()
        self.config = config
        block = config.block_config()
        self.source_embed = nn.Embedding(config.source_vocab, config.n_embd)
        self.target_embed = nn.Embedding(config.target_vocab, config.n_embd)
        self.encoder = nn.ModuleList(Block(block) for _ in range(config.n_encoder_layers))
        self.decoder = nn.ModuleList(DecoderBlock(block) for _ in range(config.n_decoder_layers))
        self.head = nn.Linear(config.n_embd, config.target_vocab)
        self.dropout = nn.Dropout(config.dropout)
        self.register_buffer("positions", sinusoidal(config.max_len, config.n_embd), persistent=False)
        for table in (self.source_embed, self.target_embed):  # see embed(): unit-size token vectors
            nn.init.normal_(table.weight, mean=0.0, std=config.n_embd ** -0.5)

    def embed(self, table: nn.Embedding, ids: torch.Tensor) -> torch.Tensor:
        """Token vectors scaled by sqrt(C) (as in the paper) plus the sinusoidal positions.

        The tables start with entries of size 1/sqrt(C), as in the paper's reference code, so
        after the scaling a token vector's entries are about 1, the size of the positions' sines
        and cosines. (With torch's default N(0, 1) tables they would be sqrt(C) = 8 times larger
        and drown the positions: a model trained that way reads word order badly and fails on
        long sentences.)
        """
        if ids.size(1) > self.config.max_len:
            raise ValueError(f"at most {self.config.max_len} tokens, got {ids.size(1)}")
        x = table(ids) * math.sqrt(self.config.n_embd) + self.positions[: ids.size(1)]  # (B, L, C)
        return self.dropout(x)

    def encode(self, source: torch.Tensor, need_weights: bool = False):
        """source (B, S) -> (memory (B, S, C), source_mask (B, S), per-layer self weights)."""
        source_mask = source != self.config.pad_id  # (B, S) True = a real word
        x = self.embed(self.source_embed, source)
        weights = []
        for block in self.encoder:  # bidirectional: no causal mask, only the padding is hidden
            x, details = block(x, mask=source_mask[:, None, None, :], need_weights=need_weights)
            if details is not None:
                weights.append(details.weights)
        return x, source_mask, weights

    def decode(self, target: torch.Tensor, memory: torch.Tensor, source_mask: torch.Tensor,
               need_weights: bool = False):
        """target so far (B, T) -> (logits (B, T, V), self weights, cross weights)."""
        x = self.embed(self.target_embed, target)
        self_weights, cross_weights = [], []
        for block in self.decoder:
            x, self_details, cross_details = block(x, memory, source_mask, need_weights=need_weights)
            if need_weights:
                self_weights.append(self_details.weights)
                cross_weights.append(cross_details.weights)
        return self.head(x), self_weights, cross_weights

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, V); position t predicts target word t + 1."""
        memory, source_mask, _ = self.encode(source)
        logits, _, _ = self.decode(target, memory, source_mask)
        return logits

    @torch.no_grad()
    def trace(self, source: torch.Tensor, target: torch.Tensor) -> EncoderDecoderTrace:
        """The three kinds of attention weights for one (source, target-so-far) pair."""
        memory, source_mask, encoder_self = self.encode(source, need_weights=True)
        logits, decoder_self, cross = self.decode(target, memory, source_mask, need_weights=True)
        return EncoderDecoderTrace(encoder_self, decoder_self, cross, memory, logits)
