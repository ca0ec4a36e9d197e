"""A decoder-only language model (GPT): tokens in, next-token scores out.

The whole pipeline, bottom-up:

1. token embedding ``wte``: each token id becomes a vector of n_embd numbers
2. positions: a sinusoidal or learned vector added per position (RoPE instead rotates
   q and k inside every attention layer)
3. n_layer blocks (models.core.blocks), each with a causal mask: token t never sees t+1..
4. a final norm (pre-norm models only; post-norm blocks already end with one)
5. ``lm_head``: one score per vocabulary token. Its weight is the embedding table
   itself (tied): "which token am I close to" is read out with the same vectors.

``GPT.generate`` repeats: run the model, take the last position's scores, pick a token
(models.core.sampling), append it. With a KV cache (models.core.kv_cache) each step only feeds
the newest token.

One config class covers a 2017-style model (``GPTConfig.style_2017``), a GPT-2-style one
(the defaults: GPT-2 small) and a 2024 Llama-style one (``GPTConfig.style_2024``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from models.core.attention import AttentionDetails
from models.core.blocks import Block, BlockConfig, default_ffn_hidden, make_norm, style_settings
from models.core.device import synchronize
from models.core.kv_cache import KVCache
from models.core.positional import learned, rope_cos_sin, sinusoidal
from models.core.sampling import check_settings, next_token_probs, sample


@dataclass(frozen=True)
class GPTConfig:
    """Every size and switch of the model; saved as config.json next to the weights.

    The defaults are GPT-2 small. None fields are filled in when the config is made,
    so a saved config always states the real numbers.
    """

    vocab_size: int = 50257  # tokens the tokenizer knows; one embedding row each
    block_size: int = 1024  # longest context: position tables and KV cache stop here
    n_layer: int = 12  # blocks stacked
    n_head: int = 12  # query heads per attention layer
    n_kv_head: int | None = None  # key/value heads: None = n_head (MHA); fewer = GQA; 1 = MQA
    n_embd: int = 768  # width of every token vector (d_model)
    ffn_hidden: int | None = None  # None: 4 * n_embd, or 8/3 * n_embd (multiple of 32) for SwiGLU
    norm: str = "layernorm"  # "layernorm" or "rmsnorm"
    norm_placement: str = "pre"  # "pre" (GPT-2 on: stable deep stacks) or "post" (2017)
    positions: str = "learned"  # "learned" (GPT-2), "sinusoidal" (2017) or "rope" (Llama)
    ffn: str = "gelu"  # "relu" (2017), "gelu" (GPT-2, tanh approximation) or "swiglu" (Llama)
    bias: bool = True  # biases in Linear and LayerNorm; Llama drops them
    tie_embeddings: bool = True  # lm_head reuses wte's weight: fewer parameters, works as well
    dropout: float = 0.0  # on embeddings and sub-layer outputs while training; 0 = off
    rope_theta: float = 10000.0  # RoPE base frequency (Llama 3 uses 500000 for long contexts)
    norm_eps: float = 1e-5  # keeps norms from dividing by 0

    def __post_init__(self):
        if self.n_kv_head is None:
            object.__setattr__(self, "n_kv_head", self.n_head)
        if self.ffn_hidden is None:
            object.__setattr__(self, "ffn_hidden", default_ffn_hidden(self.n_embd, self.ffn))
        self.block_config()  # validates the choices and head counts early

    @classmethod
    def style_2017(cls, **overrides) -> GPTConfig:
        """Post-norm LayerNorm, sinusoidal positions, multi-head attention, ReLU, biases."""
        n_head = overrides.get("n_head", cls.n_head)
        return cls(**{**style_settings("2017", n_head), **overrides})

    @classmethod
    def style_2024(cls, **overrides) -> GPTConfig:
        """Pre-norm RMSNorm, RoPE, grouped-query attention, SwiGLU, no biases (Llama 3)."""
        n_head = overrides.get("n_head", cls.n_head)
        return cls(**{**style_settings("2024", n_head), **overrides})

    def block_config(self) -> BlockConfig:
        return BlockConfig(
            n_embd=self.n_embd, n_head=self.n_head, n_kv_head=self.n_kv_head,
            norm_placement=self.norm_placement, norm=self.norm, positions=self.positions,
            ffn=self.ffn, ffn_hidden=self.ffn_hidden, bias=self.bias, norm_eps=self.norm_eps,
            dropout=self.dropout, rope_theta=self.rope_theta,
        )

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> GPTConfig:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"config has fields GPTConfig does not know: {unknown}; known fields: {sorted(known)}")
        return cls(**values)


@dataclass
class GPTTrace:
    """Every intermediate of one forward pass, for the pages that draw them.

    hidden_states[i] is the output of block i (the input to block i + 1).
    """

    tokens: torch.Tensor  # (B, T) token ids
    token_embeddings: torch.Tensor  # (B, T, C) wte rows (times sqrt(C) with sinusoidal positions)
    position_embeddings: torch.Tensor | None  # (T, C) added at the input; None with RoPE
    input_embeddings: torch.Tensor  # (B, T, C) what enters block 0
    hidden_states: list[torch.Tensor]  # n_layer x (B, T, C)
    attentions: list[torch.Tensor]  # n_layer x (B, H, T, T) attention weights
    queries: list[torch.Tensor]  # n_layer x (B, H, T, D), after RoPE where used
    keys: list[torch.Tensor]  # n_layer x (B, H_kv, T, D)
    values: list[torch.Tensor]  # n_layer x (B, H_kv, T, D)
    final_hidden: torch.Tensor  # (B, T, C) what lm_head reads
    logits: torch.Tensor  # (B, T, vocab_size)


class GPT(nn.Module):
    """Decoder-only language model: wte (+ positions) -> blocks -> final norm -> lm_head."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        C = config.n_embd
        self.wte = nn.Embedding(config.vocab_size, C)
        self.wpe = learned(config.block_size, C) if config.positions == "learned" else None
        # Fixed tables are computed once for every position up to block_size; they are
        # not weights, so they are not saved (persistent=False) and follow .to(device).
        if config.positions == "sinusoidal":
            self.register_buffer("sinusoid", sinusoidal(config.block_size, C), persistent=False)
        if config.positions == "rope":
            cos, sin = rope_cos_sin(torch.arange(config.block_size), config.head_dim, config.rope_theta)
            self.register_buffer("rope_cos", cos, persistent=False)  # (block_size, D)
            self.register_buffer("rope_sin", sin, persistent=False)
        # The 2017 paper scales token embeddings by sqrt(d_model) so they are not drowned
        # by the sine table, whose values reach +-1.
        self.embedding_scale = math.sqrt(C) if config.positions == "sinusoidal" else 1.0
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config.block_config()) for _ in range(config.n_layer))
        self.norm_f = make_norm(config.norm, C, config.norm_eps, config.bias) if config.norm_placement == "pre" else None
        self.lm_head = nn.Linear(C, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.wte.weight
        self._init_weights()

    def _init_weights(self) -> None:
        """nanoGPT/GPT-2 init: N(0, 0.02) everywhere, zero biases, and the two projections
        that write into the residual stream (w_o, w_down) shrunk by 1/sqrt(2 * n_layer)
        so the stream's variance does not grow with depth."""
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for block in self.blocks:
            nn.init.normal_(block.attn.w_o.weight, mean=0.0, std=residual_std)
            nn.init.normal_(block.ffn.w_down.weight, mean=0.0, std=residual_std)

    def num_parameters(self) -> int:
        """Trainable numbers; the tied embedding / lm_head matrix counts once."""
        return sum(p.numel() for p in self.parameters())

    # -- forward -------------------------------------------------------------------

    def _embed(self, idx: torch.Tensor, start: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Token vectors (B, T, C) and the position part (T, C) or None (RoPE)."""
        T = idx.size(1)
        tokens = self.wte(idx)  # (B, T, C)
        if self.embedding_scale != 1.0:
            tokens = tokens * self.embedding_scale
        if self.wpe is not None:
            return tokens, self.wpe.weight[start : start + T]  # (T, C): rows of the position table
        if self.config.positions == "sinusoidal":
            return tokens, self.sinusoid[start : start + T]  # (T, C)
        return tokens, None

    def _run(
        self,
        idx: torch.Tensor,
        cache: KVCache | None = None,
        mask: torch.Tensor | None = None,
        trace: GPTTrace | None = None,
    ) -> torch.Tensor:
        """Embeddings and blocks; returns the hidden states (B, T, C) lm_head reads."""
        T = idx.size(1)
        start = cache.length if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(
                f"{start + T} positions exceed block_size {self.config.block_size}; crop the input "
                "(generate() does this for you without a cache)"
            )
        tokens, positions = self._embed(idx, start)
        x = self.dropout(tokens if positions is None else tokens + positions)  # (B, T, C)

        rope = None
        if self.config.positions == "rope":
            rope = (self.rope_cos[start : start + T], self.rope_sin[start : start + T])  # (T, D) each
        causal = mask is None  # a given pattern replaces the causal mask
        if mask is not None:
            if mask.size(-1) < start + T or mask.size(-2) < start + T:
                raise ValueError(f"mask {tuple(mask.shape)} must cover all {start + T} positions")
            mask = mask[..., start : start + T, : start + T]  # rows: new queries; columns: all keys
            if mask.dim() == 3:  # (B, T, S) -> (B, 1, T, S), the same pattern for every head
                mask = mask[:, None]

        if trace is not None:
            trace.token_embeddings, trace.position_embeddings, trace.input_embeddings = tokens, positions, x
        for layer, block in enumerate(self.blocks):
            x, details = block(
                x, mask=mask, causal=causal, rope=rope, cache=cache, layer=layer, need_weights=trace is not None
            )
            if trace is not None:
                _record_layer(trace, x, details)
        if cache is not None:
            cache.advance(T)  # once per forward, after the last layer
        return x if self.norm_f is None else self.norm_f(x)

    def forward(
        self, idx: torch.Tensor, cache: KVCache | None = None, *, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, KVCache | None]:
        """Token ids (B, T) -> (logits (B, T, vocab_size), cache).

        cache: the new tokens' K/V are appended and they sit at positions cache.length..
        mask:  bool "may attend" pattern (L, L) or (B, L, L) over absolute positions,
               L >= cache length + T, replacing the causal mask (e.g. a sparse pattern).
        """
        hidden = self._run(idx, cache, mask)
        return self.lm_head(hidden), cache

    @torch.no_grad()
    def trace(self, idx: torch.Tensor, mask: torch.Tensor | None = None) -> GPTTrace:
        """One forward pass that keeps every intermediate (explicit attention path).

        Call it on a model in eval mode so dropout does not disturb the numbers.
        """
        record = GPTTrace(
            tokens=idx, token_embeddings=None, position_embeddings=None, input_embeddings=None,
            hidden_states=[], attentions=[], queries=[], keys=[], values=[], final_hidden=None, logits=None,
        )
        record.final_hidden = self._run(idx, mask=mask, trace=record)
        record.logits = self.lm_head(record.final_hidden)
        return record

    # -- generation ----------------------------------------------------------------

    def new_cache(
        self, batch_size: int, max_len: int | None = None, device=None, dtype: torch.dtype | None = None
    ) -> KVCache:
        """An empty KV cache for this model; max_len defaults to block_size."""
        c = self.config
        return KVCache(
            n_layer=c.n_layer, batch_size=batch_size, n_kv_head=c.n_kv_head,
            max_len=min(max_len or c.block_size, c.block_size), head_dim=c.head_dim,
            device=device or self.wte.weight.device, dtype=dtype or self.wte.weight.dtype,
        )

    @torch.inference_mode()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        use_cache: bool = True,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        generator: torch.Generator | None = None,
        on_token: Callable[[int, torch.Tensor], None] | None = None,
    ) -> torch.Tensor:
        """Extend idx (B, T) by max_new_tokens tokens: returns (B, T + max_new_tokens).

        Without a cache every step reruns the whole context, cropped to the last
        block_size tokens. With a cache every step feeds only the newest token; once the
        cache is full, generation carries on the cropped way, so both modes always
        produce the same tokens. ``on_token(step, token_ids)`` is called after each new
        token, with token_ids of shape (B,).
        """
        check_settings(temperature, top_k, top_p)

        def pick(logits: torch.Tensor) -> torch.Tensor:
            if temperature == 0:
                return logits.argmax(dim=-1)  # greedy: no randomness, no softmax needed
            return sample(next_token_probs(logits, temperature, top_k, top_p), generator)[:, 0]  # (B,)

        return self._decode(idx, max_new_tokens, use_cache, pick, on_token)

    @torch.inference_mode()
    def generate_rows(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperatures: Sequence[float],
        top_k: int | None = None,
        top_p: float | None = None,
        generators: Sequence[torch.Generator | None] | None = None,
    ) -> torch.Tensor:
        """One prompt idx (1, T), several sampling settings at once: returns (R, max_new_tokens),
        row r written with ``temperatures[r]`` and its own ``generators[r]`` (R = len(temperatures)).

        All rows go through the model together, one forward pass per position instead of one
        per row and position. Each row draws from its own generator exactly as ``generate``
        draws for a single row, so row r holds the tokens ``generate(idx, n, temperature=
        temperatures[r], top_k, top_p, generator=generators[r])`` writes, as long as the
        batched matrix products round the scores as the single-row ones do (they can differ
        by about 1e-6; a token changes only if that tips a tie or a draw's boundary). The same
        rows with the same seeds always give the same tokens.
        """
        if idx.size(0) != 1:
            raise ValueError(f"generate_rows continues one prompt (1, T), got {tuple(idx.shape)}")
        generators = list(generators) if generators is not None else [None] * len(temperatures)
        if len(generators) != len(temperatures):
            raise ValueError(f"{len(temperatures)} temperatures but {len(generators)} generators")
        for temperature in temperatures:
            check_settings(temperature, top_k, top_p)

        def pick(logits: torch.Tensor) -> torch.Tensor:
            tokens = []
            for row, (temperature, generator) in enumerate(zip(temperatures, generators)):
                row_logits = logits[row : row + 1]  # (1, vocab), as generate sees a single row
                if temperature == 0:
                    tokens.append(row_logits.argmax(dim=-1))
                else:
                    tokens.append(sample(next_token_probs(row_logits, temperature, top_k, top_p), generator)[:, 0])
            return torch.cat(tokens)  # (R,)

        rows = idx.expand(len(temperatures), -1)  # (R, T): the same prompt in every row
        return self._decode(rows, max_new_tokens, True, pick)[:, idx.size(1) :]

    def _decode(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        use_cache: bool,
        pick: Callable[[torch.Tensor], torch.Tensor],
        on_token: Callable[[int, torch.Tensor], None] | None = None,
    ) -> torch.Tensor:
        """The generation loop: ``pick`` turns the last position's scores (B, vocab) into
        the next token ids (B,); returns idx extended to (B, T + max_new_tokens)."""
        B, T = idx.shape
        out = torch.empty(B, T + max_new_tokens, dtype=idx.dtype, device=idx.device)
        out[:, :T] = idx
        cache = self.new_cache(B, T + max_new_tokens) if use_cache else None
        fed = 0  # tokens of out[] already inside the cache
        for step in range(max_new_tokens):
            end = T + step
            if cache is not None and end <= cache.max_len:
                hidden = self._run(out[:, fed:end], cache)  # only the tokens not yet cached
                fed = end
            else:
                cache = None  # full (or never made): recompute over the last block_size tokens
                hidden = self._run(out[:, max(0, end - self.config.block_size) : end])
            token_ids = pick(self.lm_head(hidden[:, -1]))  # (B,): only the last position matters
            out[:, end] = token_ids
            if on_token is not None:
                on_token(step, token_ids)
        return out

    # -- saving and loading --------------------------------------------------------

    def save_pretrained(self, path: str | Path, dtype: torch.dtype = torch.float16) -> None:
        """Write config.json and model.safetensors (weights cast to ``dtype``) into ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        tensors = {name: t.detach().to("cpu", dtype).contiguous() for name, t in self.state_dict().items()}
        if self.config.tie_embeddings:
            del tensors["lm_head.weight"]  # the same matrix as wte.weight; stored once
        (path / "config.json").write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        save_file(tensors, str(path / "model.safetensors"), metadata={"format": "pt"})

    @classmethod
    def from_pretrained_dir(cls, path: str | Path, device=None) -> GPT:
        """Load a directory written by save_pretrained; weights become float32. Eval mode."""
        path = Path(path)
        config = GPTConfig.from_dict(json.loads((path / "config.json").read_text()))
        model = cls(config)
        tensors = {name: t.float() for name, t in load_file(str(path / "model.safetensors")).items()}
        if config.tie_embeddings:
            tensors.setdefault("lm_head.weight", tensors["wte.weight"])
        model.load_state_dict(tensors, strict=True)
        return model.to(device or "cpu").eval()


def _record_layer(trace: GPTTrace, hidden: torch.Tensor, details: AttentionDetails) -> None:
    trace.hidden_states.append(hidden)
    trace.attentions.append(details.weights)
    trace.queries.append(details.q)
    trace.keys.append(details.k)
    trace.values.append(details.v)


def to_gpt2_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    """Our weights under transformers' GPT2LMHeadModel names (for a GPT-2-shaped model:
    learned positions, pre-norm LayerNorm, GELU, biases). GPT-2 fuses W_Q, W_K, W_V into
    one ``c_attn`` and stores every Linear transposed (its Conv1D computes x @ W)."""
    state = {
        "transformer.wte.weight": model.wte.weight,
        "transformer.wpe.weight": model.wpe.weight,
        "transformer.ln_f.weight": model.norm_f.weight,
        "transformer.ln_f.bias": model.norm_f.bias,
        "lm_head.weight": model.lm_head.weight,
    }
    for i, block in enumerate(model.blocks):
        prefix, attn, ffn = f"transformer.h.{i}.", block.attn, block.ffn
        state.update({
            prefix + "ln_1.weight": block.norm_attn.weight, prefix + "ln_1.bias": block.norm_attn.bias,
            prefix + "ln_2.weight": block.norm_ffn.weight, prefix + "ln_2.bias": block.norm_ffn.bias,
            prefix + "attn.c_attn.weight": torch.cat([attn.w_q.weight, attn.w_k.weight, attn.w_v.weight]).T,
            prefix + "attn.c_attn.bias": torch.cat([attn.w_q.bias, attn.w_k.bias, attn.w_v.bias]),
            prefix + "attn.c_proj.weight": attn.w_o.weight.T, prefix + "attn.c_proj.bias": attn.w_o.bias,
            prefix + "mlp.c_fc.weight": ffn.w_up.weight.T, prefix + "mlp.c_fc.bias": ffn.w_up.bias,
            prefix + "mlp.c_proj.weight": ffn.w_down.weight.T, prefix + "mlp.c_proj.bias": ffn.w_down.bias,
        })
    return {name: tensor.detach().contiguous() for name, tensor in state.items()}


def time_per_token(
    model: GPT, idx: torch.Tensor, max_new_tokens: int, use_cache: bool = True, **sampling
) -> tuple[torch.Tensor, list[float]]:
    """Generate and measure: (tokens, seconds each new token took). The first token's
    time includes reading the prompt (the "prefill")."""
    device = idx.device
    stamps = []

    def stamp(step: int, token_ids: torch.Tensor) -> None:
        synchronize(device)
        stamps.append(time.perf_counter())

    synchronize(device)
    start = time.perf_counter()
    tokens = model.generate(idx, max_new_tokens, use_cache=use_cache, on_token=stamp, **sampling)
    previous = [start] + stamps[:-1]
    return tokens, [now - before for now, before in zip(stamps, previous)]
