"""Turning the model's scores into the next token: temperature, top-k, top-p.

The model outputs one score (logit) per vocabulary token. Softmax makes them
probabilities; then three knobs reshape the distribution before we draw from it:

* temperature: divide the logits by T. T < 1 sharpens (more predictable), T > 1
  flattens (more surprising), and T = 0 means "always take the top token" (greedy).
* top-k: keep only the k highest-scoring tokens. Tokens tied with the k-th score are
  kept too, so a tie can keep more than k.
* top-p (nucleus): keep the smallest set of most likely tokens whose probability adds
  up to at least p; the most likely token is always kept.

They are applied in this order, as ``transformers`` does (TemperatureLogitsWarper,
then TopKLogitsWarper, then TopPLogitsWarper, each keeping at least one token), and
with the same arithmetic, so the kept sets agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def check_settings(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Reject settings that have no meaning, with a message a page can show as is."""
    if temperature < 0:
        raise ValueError(f"temperature must be 0 (greedy) or positive, got {temperature}")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 0):
        raise ValueError(f"top_k must be a whole number >= 1 (or 0/None for no limit), got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(
            f"top_p must be greater than 0 and at most 1, got {top_p}; "
            "top_p = 0 would keep no token at all (for greedy decoding use temperature 0)"
        )


def _top_k_keep(scores: torch.Tensor, top_k: int) -> torch.Tensor:
    """True for tokens scoring at least as high as the k-th best."""
    k = min(top_k, scores.size(-1))
    kth_best = scores.topk(k, dim=-1).values[..., -1:]  # (..., 1)
    return scores >= kth_best


def _top_p_keep(scores: torch.Tensor, top_p: float) -> torch.Tensor:
    """True for the nucleus: the most likely tokens whose probability reaches top_p.

    Walking from the least likely token up, a token is dropped while the probability
    mass from the bottom up to and including it stays <= 1 - top_p.
    """
    ascending, order = torch.sort(scores, descending=False)
    mass_from_bottom = ascending.softmax(dim=-1).cumsum(dim=-1)  # (..., V)
    drop_sorted = mass_from_bottom <= 1 - top_p
    drop_sorted[..., -1] = False  # the most likely token always stays
    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
    return ~drop


def _filter_keep(scores: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Top-k, then top-p on temperature-scaled scores: bool (..., V) of survivors."""
    keep = torch.ones_like(scores, dtype=torch.bool)
    if top_k:
        keep = _top_k_keep(scores, top_k)
        scores = scores.masked_fill(~keep, float("-inf"))  # top-p sees only the top-k survivors
    if top_p is not None and top_p < 1:
        keep = keep & _top_p_keep(scores, top_p)
    return keep


def kept_tokens(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """Bool (..., V): which tokens can still be drawn after temperature, top-k and top-p."""
    check_settings(temperature, top_k, top_p)
    if temperature == 0:
        greedy = logits.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(logits, dtype=torch.bool).scatter_(-1, greedy, True)
    return _filter_keep(logits.float() / temperature, top_k, top_p)


def next_token_probs(
    logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> torch.Tensor:
    """Probabilities (..., V) to draw the next token from; removed tokens get exactly 0.

    ``temperature=0`` returns a one-hot on the highest logit (greedy decoding).
    ``top_k`` None or 0 and ``top_p`` None or 1 switch those filters off.
    """
    if temperature == 0:
        return kept_tokens(logits, temperature, top_k, top_p).float()
    check_settings(temperature, top_k, top_p)
    scores = logits.float() / temperature
    if top_k or (top_p is not None and top_p < 1):
        scores = scores.masked_fill(~_filter_keep(scores, top_k, top_p), float("-inf"))
    return scores.softmax(dim=-1)


def sample(probs: torch.Tensor, generator: torch.Generator | None = None, num_samples: int = 1) -> torch.Tensor:
    """Draw token ids from probs (..., V): (..., num_samples), with replacement.

    The same seeded ``generator`` (on the probs' device) gives the same draws.
    """
    flat = probs.reshape(-1, probs.size(-1))  # (N, V)
    # One draw "without replacement" is the same as one draw with it, and PyTorch's
    # kernel for it is far faster on large vocabularies.
    with_replacement = num_samples > 1
    draws = torch.multinomial(flat, num_samples, replacement=with_replacement, generator=generator)  # (N, num_samples)
    return draws.view(*probs.shape[:-1], num_samples)


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Uncertainty in nats, -sum p log p over the last axis (0 log 0 counts as 0)."""
    return -torch.special.xlogy(probs, probs).sum(dim=-1)


@dataclass
class SamplingView:
    """Everything the sampling page draws for one next-token distribution (V,)."""

    raw_probs: torch.Tensor  # softmax(logits): temperature 1, nothing removed
    scaled_probs: torch.Tensor  # softmax(logits / temperature), before top-k / top-p
    adjusted_probs: torch.Tensor  # what is really sampled from
    kept: torch.Tensor  # bool, the token survived top-k and top-p
    kept_count: int  # size of the kept set
    order: torch.Tensor  # token ids from most to least likely after temperature
    nucleus_cut: int | None  # order[:nucleus_cut] is the nucleus; None when top_p is off
    kept_mass: float  # share of scaled probability the kept set covers
    raw_entropy: float  # nats
    adjusted_entropy: float  # nats

    @classmethod
    def from_logits(
        cls, logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
    ) -> SamplingView:
        """Compute the view for one position's logits (V,)."""
        if logits.dim() != 1:
            raise ValueError(f"SamplingView needs the logits of one position, shape (V,); got {tuple(logits.shape)}")
        logits = logits.float()
        adjusted = next_token_probs(logits, temperature, top_k, top_p)
        kept = kept_tokens(logits, temperature, top_k, top_p)
        scaled = adjusted if temperature == 0 else (logits / temperature).softmax(dim=-1)
        kept_count = int(kept.sum())
        raw = logits.softmax(dim=-1)
        return cls(
            raw_probs=raw,
            scaled_probs=scaled,
            adjusted_probs=adjusted,
            kept=kept,
            kept_count=kept_count,
            order=scaled.argsort(descending=True, stable=True),
            nucleus_cut=kept_count if top_p is not None and top_p < 1 and temperature > 0 else None,
            kept_mass=float(scaled[kept].sum()),
            raw_entropy=float(entropy(raw)),
            adjusted_entropy=float(entropy(adjusted)),
        )


WRITE_STEP = 8  # pages write continuations in lengths that are multiples of this


def written_length(new_tokens: int) -> int:
    """How many tokens to write so that ``new_tokens`` and its neighbours share one run:
    ``new_tokens`` rounded up to a multiple of WRITE_STEP. A seeded continuation's first n
    tokens are the n-token continuation, so the sampling and blocks pages write the rounded
    length once and cut it, and moving a length slider by one does not run the model again."""
    return -(-new_tokens // WRITE_STEP) * WRITE_STEP
