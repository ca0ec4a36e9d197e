"""Sparse attention patterns as a lab: build one from slider values, count what it saves,
watch its reach grow layer by layer, time it, and try it on the tiny GPT.

Full attention lets every token look at every other token: T * T scores, so doubling the
text quadruples the work. A sparse pattern keeps only some (query, key) pairs. This file
answers the questions a person asks about such a pattern:

- ``build_pattern``       the boolean mask (True = may attend) from models.core.masks
- ``pattern_costs``       how many pairs survive (density), and the memory and FLOPs of the
                          scores compared with full attention, also counted in whole blocks
                          as a block-sparse kernel really computes them
- ``reach_by_layer``      how many tokens each query can hear from after k stacked layers
- ``time_patterns``       measured time of dense masked attention vs block-sparse (and
                          FlexAttention where it compiles) for growing lengths
- ``apply_to_gpt``        held-out perplexity and a greedy continuation of the tiny GPT
                          when its causal mask is replaced by the pattern (combined with
                          "no peeking ahead": the GPT is a writer)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from models.core import masks
from models.core.device import synchronize

PATTERNS = ("full", "causal", "sliding_window", "dilated", "strided", "fixed", "global_local", "bigbird")
# Which slider each pattern listens to; the page greys out the others.
PATTERN_USES = {
    "full": (),
    "causal": (),
    "sliding_window": ("window",),
    "dilated": ("window", "stride"),
    "strided": ("stride",),
    "fixed": ("stride",),
    "global_local": ("window", "n_global"),
    "bigbird": ("window", "n_global", "n_random", "seed"),
}
BYTES_PER_SCORE = 4  # float32
TIMING_LENGTHS_CPU = (256, 512, 1024, 2048)
TIMING_LENGTHS_GPU = (512, 1024, 2048, 4096, 8192, 16384)
# FlexAttention compiles one kernel per length the first time (15-30 s each on a busy 2-core CPU,
# and once more for the check that it compiles at all). A timing run starts FlexAttention at a
# length only while its flex time so far (that check included), plus the last length's, stays
# within this budget; later lengths are left for the next run (compiled kernels are kept, so each
# run gets further and a warm run times them all). One run is thus at most about one compile over.
FLEX_BUDGET_S = 15.0


@dataclass(frozen=True)
class PatternSettings:
    """Slider values. ``stride`` is the dilation (dilated), the stride (strided) or the block (fixed)."""

    pattern: str = "bigbird"
    length: int = 64
    window: int = 4
    stride: int = 4
    n_global: int = 2
    n_random: int = 2
    seed: int = 0

    def clamped(self) -> tuple[PatternSettings, list[str]]:
        """Settings that make sense for this length, and the names of those that had to change.

        A window longer than the text, more global tokens or random keys than tokens: the
        pattern is still built, from the largest values that exist.
        """
        changed = []
        values = {}
        for name, low, high in (("window", 1, self.length), ("stride", 1, self.length),
                                ("n_global", 0, self.length), ("n_random", 0, self.length)):
            value = getattr(self, name)
            fixed = min(max(value, low), high)
            if fixed != value and name in PATTERN_USES.get(self.pattern, ()):
                changed.append(name)
            values[name] = fixed
        return PatternSettings(self.pattern, self.length, seed=self.seed, **values), changed


def build_pattern(settings: PatternSettings, length: int | None = None, device=None) -> torch.Tensor:
    """The (T, T) bool mask for the settings; ``length`` overrides the settings' length.

    Each pattern keeps the direction of the paper it comes from (see models.core.masks):
    full, global + local and BigBird look both ways, the others only back.
    """
    T = length or settings.length
    s, _ = PatternSettings(settings.pattern, T, settings.window, settings.stride, settings.n_global,
                           settings.n_random, settings.seed).clamped()
    if s.pattern == "full":
        return torch.ones(T, T, dtype=torch.bool, device=device)
    if s.pattern == "causal":
        return masks.causal(T, device=device)
    if s.pattern == "sliding_window":
        return masks.sliding_window(T, s.window, device=device)
    if s.pattern == "dilated":
        return masks.dilated(T, s.window, s.stride, device=device)
    if s.pattern == "strided":
        return masks.strided(T, s.stride, device=device)
    if s.pattern == "fixed":
        return masks.fixed(T, s.stride, device=device)
    if s.pattern == "global_local":
        return masks.global_local(T, s.window, s.n_global, device=device)
    if s.pattern == "bigbird":
        return masks.bigbird(T, s.window, s.n_global, s.n_random, s.seed, device=device)
    raise ValueError(f"unknown pattern {s.pattern!r}; choose one of {PATTERNS}")


def is_causal(mask: torch.Tensor) -> bool:
    """True when no query looks ahead (nothing above the diagonal)."""
    return not bool(mask.triu(diagonal=1).any())


# -- what a pattern costs ----------------------------------------------------------------


@dataclass(frozen=True)
class PatternCosts:
    length: int
    pairs: int  # (query, key) pairs computed
    full_pairs: int  # T * T
    density: float  # pairs / full_pairs
    score_bytes: int  # memory of the score matrix if only kept pairs are stored (float32)
    full_score_bytes: int
    flops: int  # multiply-adds * 2 for q.k and for the weighted sum of v, all heads
    full_flops: int
    block: int  # block size of the block-sparse count
    block_density: float  # fraction of (block x block) tiles that hold at least one kept pair
    keys_per_query: float  # mean number of keys each query reads


def block_occupancy(mask: torch.Tensor, block: int) -> torch.Tensor:
    """(ceil(T/b), ceil(T/b)) bool: which tiles of the mask hold at least one True."""
    T = mask.shape[-1]
    n = math.ceil(T / block)
    padded = torch.zeros(n * block, n * block, dtype=torch.bool, device=mask.device)
    padded[:T, :T] = mask
    return padded.view(n, block, n, block).any(dim=3).any(dim=1)  # (n, n)


def pattern_costs(mask: torch.Tensor, head_dim: int = 64, n_heads: int = 12, block: int = 16) -> PatternCosts:
    """Counts for one mask: pairs kept, score memory and attention FLOPs vs full attention.

    FLOPs per kept pair and head: 2 * D for q.k plus 2 * D for adding its share of v.
    """
    T = mask.shape[-1]
    pairs = int(mask.sum().item())
    full = T * T
    per_pair = 4 * head_dim * n_heads
    return PatternCosts(
        length=T, pairs=pairs, full_pairs=full, density=pairs / full,
        score_bytes=pairs * BYTES_PER_SCORE * n_heads, full_score_bytes=full * BYTES_PER_SCORE * n_heads,
        flops=pairs * per_pair, full_flops=full * per_pair, block=block,
        block_density=float(block_occupancy(mask, block).float().mean().item()),
        keys_per_query=pairs / T,
    )


def all_pattern_densities(settings: PatternSettings, lengths: tuple[int, ...]) -> dict[str, list[float]]:
    """Density of every pattern (same window / stride / ...) at each length: full stays 1,
    causal stays about 1/2, the sparse ones fall like 1/T."""
    result = {}
    for pattern in PATTERNS:
        template = PatternSettings(pattern, settings.length, settings.window, settings.stride,
                                   settings.n_global, settings.n_random, settings.seed)
        result[pattern] = [masks.density(build_pattern(template, T)) for T in lengths]
    return result


# -- reach through layers ------------------------------------------------------------------


def reach_by_layer(mask: torch.Tensor, max_layers: int) -> np.ndarray:
    """(max_layers + 1, T): how many tokens query i can draw on after k layers (k = 0..max).

    Row 0 is the token alone; each layer lets information hop once along the pattern.
    """
    T = mask.shape[-1]
    step = mask.float()
    reach = torch.eye(T, device=mask.device)
    counts = [reach.sum(dim=1)]
    for _ in range(max_layers):
        reach = ((reach @ step) > 0).float()  # one more hop: boolean matrix product
        counts.append(reach.sum(dim=1))
    return torch.stack(counts).cpu().numpy().astype(int)


def layers_to_full_reach(mask: torch.Tensor, max_layers: int = 256) -> int | None:
    """Fewest layers after which every query can draw on every token it could ever reach
    (all of them bidirectionally, all earlier ones causally); None if more than max_layers.

    Found by doubling (reach after 1, 2, 4, ... layers by squaring) and then binary lifting,
    so it takes about 2 log2(T) boolean matrix products instead of one per layer.
    """
    T = mask.shape[-1]
    target = masks.causal(T, device=mask.device) if is_causal(mask) else torch.ones(T, T, dtype=torch.bool,
                                                                                    device=mask.device)

    def covers(reach: torch.Tensor) -> bool:
        return bool((reach | ~target).all())

    def compose(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a.float() @ b.float()) > 0  # (T, T) reach through a, then through b

    if T == 1 or covers(torch.eye(T, dtype=torch.bool, device=mask.device)):
        return 0
    powers = [mask]  # powers[j] = reach after 2**j layers
    while not covers(powers[-1]):
        if 2 ** len(powers) > 2 * max_layers:
            return None
        powers.append(compose(powers[-1], powers[-1]))
    reach, layers = torch.eye(T, dtype=torch.bool, device=mask.device), 0
    for j in range(len(powers) - 1, -1, -1):
        candidate = compose(reach, powers[j])
        if not covers(candidate):
            reach, layers = candidate, layers + 2 ** j
    layers += 1
    return layers if layers <= max_layers else None


# -- measured time -----------------------------------------------------------------------


@dataclass(frozen=True)
class TimingRow:
    length: int
    density: float
    block_density: float  # share of the score matrix the block-sparse kernel really computes
    dense_ms: float
    block_sparse_ms: float
    flex_ms: float | None
    max_abs_difference: float  # block-sparse vs dense output: should be ~1e-6
    flex_skipped: bool = False  # FlexAttention was asked for but left out by the time budget


def timing_series(rows: list[TimingRow]) -> dict[str, list[float | None]]:
    """Milliseconds per kernel, keyed "dense", "block_sparse" and, when it was timed, "flex"."""
    series = {"dense": [r.dense_ms for r in rows], "block_sparse": [r.block_sparse_ms for r in rows]}
    if any(r.flex_ms is not None for r in rows):
        series["flex"] = [r.flex_ms for r in rows]
    return series


def timing_table(rows: list[TimingRow]) -> dict[str, list]:
    """The timing table's columns in order, keyed like their headings in the locale file."""
    return {
        "length": [r.length for r in rows],
        "density": [f"{r.density:.1%}" for r in rows],
        "block_density": [f"{r.block_density:.1%}" for r in rows],
        **{name: [None if v is None else round(v, 2) for v in values] for name, values in timing_series(rows).items()},
        "speedup": [round(r.dense_ms / r.block_sparse_ms, 2) for r in rows],
        "max_difference": [f"{r.max_abs_difference:.1e}" for r in rows],
    }


def _median_ms(run: Callable[[], torch.Tensor], device: torch.device, repeats: int) -> float:
    run()  # warm-up: kernels chosen, memory allocated
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        run()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def time_patterns(
    settings: PatternSettings,
    lengths: tuple[int, ...],
    device: torch.device | str = "cpu",
    *,
    n_heads: int = 4,
    head_dim: int = 32,
    block: int = 64,
    repeats: int = 3,
    with_flex: bool = False,
    progress: Callable[[float, int], None] | None = None,
    flex_budget_s: float | None = None,
) -> list[TimingRow]:
    """Dense masked attention vs block-sparse attention for each length, same random q, k, v.

    Dense computes all T * T scores and then hides the masked ones; block-sparse skips tiles
    with no kept pair. ``progress(fraction_done, length)`` is called after each length.
    FlexAttention (``with_flex``) is timed only within ``flex_budget_s`` (default
    ``FLEX_BUDGET_S``); lengths past it have ``flex_skipped``.
    """
    from models.core import sparse
    from models.core.attention import fast_attention

    device = torch.device(device)
    started = time.perf_counter()
    flex_here = with_flex and sparse.flex_available(device.type)  # compiles once per process
    flex_spent = flex_last = time.perf_counter() - started  # seconds on FlexAttention; on the last step
    flex_budget_s = FLEX_BUDGET_S if flex_budget_s is None else flex_budget_s
    generator = torch.Generator().manual_seed(settings.seed)
    rows = []
    for index, T in enumerate(lengths):
        mask = build_pattern(settings, T, device=device)
        q, k, v = (torch.randn(1, n_heads, T, head_dim, generator=generator).to(device) for _ in range(3))
        # The tile list depends only on the pattern, so like a model would, build it once.
        layout = sparse.block_layout(mask, block)
        dense_out = fast_attention(q, k, v, mask)
        sparse_out = sparse.block_sparse_attention(q, k, v, layout=layout)
        difference = float((dense_out - sparse_out).abs().max().item())
        dense_ms = _median_ms(lambda: fast_attention(q, k, v, mask), device, repeats)
        sparse_ms = _median_ms(lambda: sparse.block_sparse_attention(q, k, v, layout=layout), device, repeats)
        flex_ms = None
        flex_skipped = flex_here and flex_spent + flex_last > flex_budget_s
        if flex_here and not flex_skipped:
            started = time.perf_counter()
            block_mask = sparse.flex_block_mask(mask, max(block, 128))
            if sparse.flex_attention(q, k, v, block_mask=block_mask) is not None:
                flex_ms = _median_ms(lambda: sparse.flex_attention(q, k, v, block_mask=block_mask), device, repeats)
            flex_last = time.perf_counter() - started
            flex_spent += flex_last
        rows.append(TimingRow(T, masks.density(mask), layout.computed_fraction, dense_ms, sparse_ms, flex_ms,
                              difference, flex_skipped))
        if progress is not None:
            progress((index + 1) / len(lengths), T)
    return rows


# -- the pattern inside the tiny GPT -------------------------------------------------------


class _PatternedGPT(torch.nn.Module):
    """The tiny GPT with its causal mask replaced by ``mask`` (already combined with causal)."""

    def __init__(self, model: torch.nn.Module, mask: torch.Tensor):
        super().__init__()
        self.model = model
        self.mask = mask
        # Mirror the model's mode: evaluation helpers restore the wrapper's mode afterwards,
        # and a fresh Module starts in training mode (dropout on).
        self.train(model.training)

    def forward(self, idx: torch.Tensor):
        T = idx.size(1)
        return self.model(idx, mask=self.mask[:T, :T])


def gpt_mask(settings: PatternSettings, block_size: int, device=None) -> torch.Tensor:
    """The pattern at the model's context length, with "no peeking ahead" added: a writer
    must never see the token it is asked to predict."""
    pattern = build_pattern(settings, block_size, device=device)
    return pattern & masks.causal(block_size, device=device)


@torch.inference_mode()
def greedy_continuation(model, ids: list[int], max_new_tokens: int, mask: torch.Tensor | None = None) -> list[int]:
    """Greedy decoding without a cache, every step under ``mask`` (None = the model's causal mask).

    The context is cropped to the model's block_size, and the mask is sliced to match.
    """
    device = next(model.parameters()).device
    block_size = model.config.block_size
    out = list(ids)
    for _ in range(max_new_tokens):
        context = torch.tensor([out[-block_size:]], dtype=torch.long, device=device)  # (1, T)
        T = context.size(1)
        logits, _ = model(context, mask=None if mask is None else mask[:T, :T])
        out.append(int(logits[0, -1].argmax().item()))
    return out[len(ids):]


def heldout_stream(tokenizer, max_tokens: int) -> np.ndarray:
    """The first ``max_tokens`` of the held-out token stream the tiny GPTs were scored on:
    the held-out documents (never trained on) encoded the way the training script encodes them."""
    from models.text.corpus import encode_documents, load_corpus

    return encode_documents(tokenizer, [doc.text for doc in load_corpus().heldout])[:max_tokens]


@dataclass(frozen=True)
class GPTComparison:
    full_perplexity: float
    pattern_perplexity: float
    tokens_scored: int
    density: float  # of the combined (pattern & causal) mask at block_size, over the causal half
    full_continuation: list[int]
    pattern_continuation: list[int]


def apply_to_gpt(
    model,
    heldout_ids: np.ndarray,
    settings: PatternSettings,
    prompt_ids: list[int],
    *,
    max_windows: int = 8,
    max_new_tokens: int = 24,
    progress: Callable[[float], None] | None = None,
) -> GPTComparison:
    """Held-out perplexity (first ``max_windows`` windows) and greedy continuations, full causal
    attention vs the pattern. The model is not retrained: this shows what the pattern takes away."""
    from models.core.evaluate import heldout_nll, perplexity

    device = next(model.parameters()).device
    block_size = model.config.block_size
    mask = gpt_mask(settings, block_size, device=device)
    steps = 4
    # The baseline goes through the same explicit-mask path, so any difference comes from
    # the pattern and not from a different kernel's rounding (which can flip a near-tie in
    # greedy decoding).
    causal_mask = masks.causal(block_size, device=device)
    full_nll, count = heldout_nll(_PatternedGPT(model, causal_mask), heldout_ids, block_size, max_windows=max_windows)
    if progress:
        progress(1 / steps)
    pattern_nll, _ = heldout_nll(_PatternedGPT(model, mask), heldout_ids, block_size, max_windows=max_windows)
    if progress:
        progress(2 / steps)
    full_text = greedy_continuation(model, prompt_ids, max_new_tokens, causal_mask)
    if progress:
        progress(3 / steps)
    pattern_text = greedy_continuation(model, prompt_ids, max_new_tokens, mask)
    if progress:
        progress(1.0)
    causal_pairs = block_size * (block_size + 1) / 2
    return GPTComparison(perplexity(full_nll), perplexity(pattern_nll), count, float(mask.sum().item() / causal_pairs),
                         full_text, pattern_text)


# -- everything the pattern section of a page draws, as numpy ---------------------------------


@dataclass(frozen=True)
class PatternView:
    settings: PatternSettings  # after clamping
    adjusted: tuple[str, ...]  # slider names that were clamped to fit the length
    mask: np.ndarray  # (T, T) bool
    causal: bool
    costs: PatternCosts
    gallery: dict[str, np.ndarray]  # every pattern at min(T, gallery_length), same settings
    reach: np.ndarray  # (max_layers + 1, T) tokens reachable per query after k layers
    layers_to_full: int | None


def pattern_view(settings: PatternSettings, *, max_layers: int = 8, gallery_length: int = 48,
                 head_dim: int = 64, n_heads: int = 12, block: int = 16) -> PatternView:
    clamped, adjusted = settings.clamped()
    mask = build_pattern(clamped)
    small = min(clamped.length, gallery_length)
    gallery = {name: build_pattern(PatternSettings(name, small, clamped.window, clamped.stride, clamped.n_global,
                                                   clamped.n_random, clamped.seed)).numpy()
               for name in PATTERNS}
    return PatternView(
        settings=clamped, adjusted=tuple(adjusted), mask=mask.numpy(), causal=is_causal(mask),
        costs=pattern_costs(mask, head_dim=head_dim, n_heads=n_heads, block=block), gallery=gallery,
        reach=reach_by_layer(mask, max_layers), layers_to_full=layers_to_full_reach(mask),
    )


def reach_mask(settings: PatternSettings, layers: int) -> np.ndarray:
    """(T, T) bool: which tokens can influence which after ``layers`` layers of the pattern."""
    clamped, _ = settings.clamped()
    return masks.receptive_field(build_pattern(clamped), layers).numpy()


HELDOUT_TOKENS = 20_000  # the held-out stream the page scores patterns on
HELDOUT_WINDOWS = 8  # 8 x 256 = 2,048 scored tokens: a few seconds on a laptop CPU
NEW_TOKENS = 24  # greedy continuation length, full attention vs the pattern


def compare_on_model(model, heldout_ids: np.ndarray, settings: PatternSettings, prompt: str, *,
                     max_windows: int = HELDOUT_WINDOWS, max_new_tokens: int = NEW_TOKENS,
                     progress: Callable[[float], None] | None = None
                     ) -> tuple[GPTComparison, str, str]:
    """``apply_to_gpt`` on a bundled model (``models.pretrained.tiny_gpt.TinyGPTModel``) and a prompt's text
    (its last ``context`` tokens; the end-of-text token when it has none): the comparison, and the two
    continuations as text."""
    prompt_ids = model.encode(prompt)[-model.context:] or [model.end_of_text_id]
    result = apply_to_gpt(model.model, heldout_ids, settings, prompt_ids, max_windows=max_windows,
                          max_new_tokens=max_new_tokens, progress=progress)
    return result, model.decode(result.full_continuation), model.decode(result.pattern_continuation)
