"""The KV-cache page's experiments: the same greedy generation with and without a cache.

Without a cache, producing token t means running the model over all t tokens again, so
each step is slower than the one before. With a cache (models.core.kv_cache.KVCache), each
step feeds only the newest token and reuses the stored keys and values of the others:
the per-token cost stays nearly flat, and the cache grows by a fixed number of bytes per
token. Both loops below are greedy (argmax), so they must write exactly the same tokens.

Timings are wall-clock seconds per new token, taken after ``models.core.device.synchronize``
so that on a GPU they measure finished work rather than queued kernels.

The larger random-weight model shows the scaling more clearly than the tiny bundled one;
its size and the number of tokens are bounded by an estimate of the work the uncached run
does, so one run stays in the range of seconds on a laptop CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from models.core.device import synchronize
from models.core.gpt import GPT, GPTConfig
from models.core.params import PRESETS, ModelShape, count_parameters, kv_cache_bytes_per_token, shape_of, with_kv_heads
from models.core.seeding import seeded

# The larger random-weight model: GPT-2-style (pre-LayerNorm, learned positions, GELU).
LARGE_VOCAB = 8192
LARGE_BLOCK_SIZE = 1024
LARGE_LAYERS = (4, 8, 12)
LARGE_WIDTHS = (256, 512, 768)
HEAD_DIM = 64
# Work limit for one uncached run, in multiply-adds of the weight matrices (2 FLOPs each).
# About 2.5e11 multiply-adds is a few seconds on a laptop CPU and well under a second on a GPU.
MAX_UNCACHED_MACS = 2.5e11
BYTES_PER_VALUE = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}

ProgressCallback = Callable[[int, int], None]


def large_config(n_layer: int = 12, n_embd: int = 768) -> GPTConfig:
    """A GPT-2-style configuration with random weights; head size 64 as in GPT-2."""
    if n_layer < 1 or n_embd < HEAD_DIM or n_embd % HEAD_DIM:
        raise ValueError(f"need n_layer >= 1 and n_embd a multiple of {HEAD_DIM}, got {n_layer} x {n_embd}")
    return GPTConfig(vocab_size=LARGE_VOCAB, block_size=LARGE_BLOCK_SIZE, n_layer=n_layer,
                     n_head=n_embd // HEAD_DIM, n_embd=n_embd)


def random_model(config: GPTConfig, seed: int = 0, device: torch.device | str = "cpu") -> GPT:
    """A GPT with the core's initialisation, seeded, in eval mode on ``device``."""
    with seeded(seed):  # the global generator, locked: sessions building at once get the same weights per seed
        model = GPT(config)
    return model.to(device).eval()


def macs_per_token(config: GPTConfig) -> int:
    """Multiply-adds of the weight matrices for one token (attention scores excluded)."""
    C, L = config.n_embd, config.n_layer
    kv_width = config.n_kv_head * config.head_dim
    attention = C * C * 2 + C * kv_width * 2  # w_q, w_o and w_k, w_v
    ffn = C * config.ffn_hidden * (3 if config.ffn == "swiglu" else 2)
    return L * (attention + ffn) + C * config.vocab_size  # + lm_head


def uncached_macs(config: GPTConfig, prompt_length: int, new_tokens: int) -> float:
    """Work of the uncached loop: step s reruns all prompt_length + s tokens."""
    tokens_processed = sum(prompt_length + step for step in range(new_tokens))
    return float(macs_per_token(config)) * tokens_processed


def max_new_tokens(config: GPTConfig, prompt_length: int, budget_macs: float = MAX_UNCACHED_MACS) -> int:
    """The most tokens to generate so the context fits and the uncached run stays in budget."""
    room = config.block_size - prompt_length
    per_token = macs_per_token(config)
    # sum_{s < n} (P + s) = n P + n (n - 1) / 2 <= budget / per_token: solve for n.
    limit = budget_macs / per_token
    p = prompt_length
    n = int((-(2 * p - 1) + np.sqrt((2 * p - 1) ** 2 + 8 * limit)) / 2)
    return max(0, min(room, n))


@dataclass
class GenerationTiming:
    """One greedy run: the tokens it wrote and the seconds each new token took."""

    tokens: list[int]  # the new tokens only
    seconds: list[float]  # per new token; the first includes reading the prompt
    cache_bytes: list[int]  # K/V bytes stored after each step (0 without a cache)


@dataclass
class CacheComparison:
    """Everything the KV-cache page draws for one prompt and token count."""

    device: str
    prompt_length: int
    positions: list[int]  # context length that produced each new token
    with_cache: GenerationTiming
    without_cache: GenerationTiming
    bytes_per_token: int  # K + V bytes one position adds to the cache (all layers)

    @property
    def cumulative_with(self) -> list[float]:
        return np.cumsum(self.with_cache.seconds).tolist()

    @property
    def cumulative_without(self) -> list[float]:
        return np.cumsum(self.without_cache.seconds).tolist()

    @property
    def total_with(self) -> float:
        return float(sum(self.with_cache.seconds))

    @property
    def total_without(self) -> float:
        return float(sum(self.without_cache.seconds))

    @property
    def speedup(self) -> float:
        """How many times faster the cached run was, end to end."""
        return self.total_without / self.total_with if self.total_with > 0 else float("nan")

    @property
    def identical(self) -> bool:
        return self.with_cache.tokens == self.without_cache.tokens

    @property
    def first_difference(self) -> int | None:
        """Index of the first new token where the two runs differ (None when identical)."""
        for index, (a, b) in enumerate(zip(self.with_cache.tokens, self.without_cache.tokens)):
            if a != b:
                return index
        return None


def _check_lengths(model: GPT, prompt: torch.Tensor, new_tokens: int) -> None:
    if prompt.dim() != 2 or prompt.size(0) != 1 or prompt.size(1) < 1:
        raise ValueError(f"prompt must be token ids of shape (1, T) with T >= 1, got {tuple(prompt.shape)}")
    if new_tokens < 1:
        raise ValueError(f"generate at least one token, got {new_tokens}")
    total = prompt.size(1) + new_tokens
    if total > model.config.block_size:
        raise ValueError(f"prompt ({prompt.size(1)}) + new tokens ({new_tokens}) = {total} exceeds the "
                         f"model's context of {model.config.block_size}; generate fewer tokens")


@torch.inference_mode()
def greedy_with_cache(model: GPT, prompt: torch.Tensor, new_tokens: int,
                      progress: ProgressCallback | None = None) -> GenerationTiming:
    """Prefill the prompt into a KV cache, then feed one token per step."""
    _check_lengths(model, prompt, new_tokens)
    device = prompt.device
    cache = model.new_cache(1, prompt.size(1) + new_tokens)
    tokens, seconds, cache_bytes = [], [], []
    feed = prompt  # (1, T) on the first step, then (1, 1)
    for step in range(new_tokens):
        synchronize(device)
        start = time.perf_counter()
        logits, cache = model(feed, cache)  # (1, T_fed, V)
        next_id = logits[:, -1].argmax(dim=-1, keepdim=True)  # (1, 1)
        token = int(next_id)  # waits for the device, like printing the token would
        synchronize(device)
        seconds.append(time.perf_counter() - start)
        tokens.append(token)
        cache_bytes.append(cache.used_bytes)
        feed = next_id
        if progress is not None:
            progress(step + 1, new_tokens)
    return GenerationTiming(tokens, seconds, cache_bytes)


@torch.inference_mode()
def greedy_without_cache(model: GPT, prompt: torch.Tensor, new_tokens: int,
                         progress: ProgressCallback | None = None) -> GenerationTiming:
    """Every step runs the model over the whole sequence so far and keeps only the last scores."""
    _check_lengths(model, prompt, new_tokens)
    device = prompt.device
    sequence = torch.empty(1, prompt.size(1) + new_tokens, dtype=prompt.dtype, device=device)
    sequence[:, : prompt.size(1)] = prompt
    tokens, seconds = [], []
    for step in range(new_tokens):
        end = prompt.size(1) + step
        synchronize(device)
        start = time.perf_counter()
        logits, _ = model(sequence[:, :end])  # (1, end, V): all positions recomputed
        next_id = logits[:, -1].argmax(dim=-1)  # (1,)
        token = int(next_id)
        synchronize(device)
        seconds.append(time.perf_counter() - start)
        tokens.append(token)
        sequence[:, end] = next_id
        if progress is not None:
            progress(step + 1, new_tokens)
    return GenerationTiming(tokens, seconds, [0] * new_tokens)


@torch.inference_mode()
def _warm_up(model: GPT, prompt: torch.Tensor) -> None:
    """One short pass of each kind, so one-off allocations are not timed."""
    model(prompt)
    cache = model.new_cache(1, prompt.size(1) + 1)
    model(prompt, cache)
    model(prompt[:, -1:], cache)
    synchronize(prompt.device)


def compare_generation(model: GPT, prompt_ids: list[int], new_tokens: int,
                       progress: ProgressCallback | None = None) -> CacheComparison:
    """Greedy generation of ``new_tokens`` tokens with and without a KV cache, timed.

    ``progress(done, total)`` is called after every step of both runs (total = 2 x new_tokens).
    """
    device = model.wte.weight.device
    prompt = torch.tensor([prompt_ids], dtype=torch.long, device=device)  # (1, T)
    _check_lengths(model, prompt, new_tokens)
    _warm_up(model, prompt)
    total = 2 * new_tokens

    def first_half(done: int, _: int) -> None:
        if progress is not None:
            progress(done, total)

    def second_half(done: int, _: int) -> None:
        if progress is not None:
            progress(new_tokens + done, total)

    with_cache = greedy_with_cache(model, prompt, new_tokens, first_half)
    without_cache = greedy_without_cache(model, prompt, new_tokens, second_half)
    cache = model.new_cache(1, 1)
    return CacheComparison(
        device=str(device),
        prompt_length=len(prompt_ids),
        positions=[len(prompt_ids) + step for step in range(new_tokens)],
        with_cache=with_cache,
        without_cache=without_cache,
        bytes_per_token=cache.bytes_per_token,
    )


# -- cache size: multi-head vs grouped-query vs multi-query attention ------------------


DECODER_PRESETS = ("GPT-1", "GPT-2 small", "GPT-3 175B", "Llama-3-8B")  # models that generate, so cache


@dataclass(frozen=True)
class KVVariant:
    """One choice of K/V heads for a model, and what it costs to cache."""

    model: str
    variant: str  # "mha", "gqa" or "mqa"
    n_kv_head: int
    published: bool  # the model was built this way
    bytes_per_token: int
    bytes_for_context: int


def gqa_heads(n_head: int, published_kv_heads: int) -> int:
    """The grouped-query head count to show: the model's own when it uses GQA, else n_head / 4."""
    if 1 < published_kv_heads < n_head:
        return published_kv_heads
    for group in (4, 2, 3):
        if n_head % group == 0 and n_head // group > 1:
            return n_head // group
    return 1


def attention_variants(shape: ModelShape, context: int, bytes_per_value: int = 2) -> list[KVVariant]:
    """Cache size with every query head its own K/V (MHA), groups sharing (GQA), all sharing one (MQA)."""
    if context < 1:
        raise ValueError(f"context must be at least 1 token, got {context}")
    heads = {"mha": shape.n_head, "gqa": gqa_heads(shape.n_head, shape.n_kv_head), "mqa": 1}
    variants = []
    for variant, n_kv_head in heads.items():
        per_token = kv_cache_bytes_per_token(with_kv_heads(shape, n_kv_head), bytes_per_value)
        variants.append(KVVariant(shape.name, variant, n_kv_head, n_kv_head == shape.n_kv_head,
                                  per_token, per_token * context))
    return variants


def preset_variants(context: int, bytes_per_value: int = 2,
                    names: tuple[str, ...] = DECODER_PRESETS) -> list[KVVariant]:
    """MHA / GQA / MQA cache sizes for the published decoder presets of models.core.params."""
    return [variant for name in names for variant in attention_variants(PRESETS[name], context, bytes_per_value)]


def parameter_count(config) -> int:
    """Every parameter of a model with this ``GPTConfig``, from the calculator in models.core.params."""
    return count_parameters(shape_of(config))["total"]
