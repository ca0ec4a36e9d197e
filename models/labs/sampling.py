"""The sampling page's experiments: from a prompt to the next-token distribution, and drawing from it.

The language-model head turns the last position's hidden state into one score (logit)
per vocabulary token; softmax makes them probabilities. ``models.core.sampling`` reshapes that
distribution with temperature, top-k and top-p; this module adds what the page shows
around it: the top tokens before and after, the nucleus cut, many seeded draws compared
with the exact probabilities, and whole continuations at several temperatures.

A model is used through ``models.pretrained.interface.LanguageModel``, so the bundled tiny
GPT and a user-supplied Hugging Face causal model look the same to the page. Every random draw
takes a seed: the same seed and the same settings give the same tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from models.core.sampling import SamplingView, sample
from models.pretrained.interface import LanguageModel

MAX_PROMPT_TOKENS = 128  # the prompt is cut to its last tokens beyond this
MAX_DRAWS = 100_000
MAX_NEW_TOKENS = 64


# -- checking the knobs ---------------------------------------------------------------


@dataclass(frozen=True)
class SettingsIssue:
    """A remark about a combination of knobs; ``key`` names its message in the locale file."""

    level: str  # "error": cannot sample; "warning": changed; "info": has no effect
    key: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """The knobs as the core takes them: top_k None = off, top_p None = off."""

    temperature: float
    top_k: int | None
    top_p: float | None


def check_combination(temperature: float, top_k: int, top_p: float, vocab_size: int
                      ) -> tuple[Settings | None, list[SettingsIssue]]:
    """Slider values (top_k 0 = off, top_p 1 = off) -> settings to use, and remarks.

    None instead of settings means nothing can be sampled with this combination.
    """
    issues = []
    if temperature < 0:
        return None, [SettingsIssue("error", "temperature_negative", {"value": temperature})]
    if top_p <= 0:
        return None, [SettingsIssue("error", "top_p_zero")]
    if top_p > 1:
        return None, [SettingsIssue("error", "top_p_above_one", {"value": top_p})]
    if top_k < 0:
        return None, [SettingsIssue("error", "top_k_negative", {"value": top_k})]
    if top_k > vocab_size:
        issues.append(SettingsIssue("warning", "top_k_clamped", {"k": top_k, "vocab": vocab_size}))
        top_k = vocab_size
    if temperature == 0 and (top_k or top_p < 1):
        issues.append(SettingsIssue("info", "greedy_ignores_filters"))
    elif top_k == 1:
        issues.append(SettingsIssue("info", "top_k_one_is_greedy"))
    return Settings(float(temperature), int(top_k) or None, float(top_p) if top_p < 1 else None), issues


# -- the distribution -------------------------------------------------------------------


@dataclass
class PromptLogits:
    """The prompt as the model read it, and the scores for the token after it."""

    ids: list[int]
    tokens: list[str]
    logits: torch.Tensor  # (V,)
    cut: int  # prompt tokens dropped from the front to fit MAX_PROMPT_TOKENS
    from_start_token: bool  # the prompt was empty: the model starts from its start token


def prompt_logits(model: LanguageModel, text: str, max_tokens: int = MAX_PROMPT_TOKENS) -> PromptLogits | None:
    """Tokenise ``text`` (keeping its last ``max_tokens`` tokens) and score the next token.

    Empty text starts from the model's start-of-text token; None if the model has none.
    """
    ids = model.encode(text) if text else []
    from_start = not ids
    if from_start:
        ids = model.start_ids()
        if not ids:
            return None
    limit = min(max_tokens, model.context)
    cut = max(0, len(ids) - limit)
    ids = ids[cut:]
    return PromptLogits(ids, [model.token_text(i) for i in ids], model.next_token_logits(ids), cut, from_start)


def sampling_view(logits: torch.Tensor, settings: Settings) -> SamplingView:
    return SamplingView.from_logits(logits, settings.temperature, settings.top_k, settings.top_p)


@dataclass
class TopTokens:
    """The most likely tokens after temperature, with their probabilities before and after filtering."""

    ids: list[int]
    raw: list[float]  # softmax(logits), temperature 1
    scaled: list[float]  # softmax(logits / T)
    adjusted: list[float]  # what is sampled from (0 for removed tokens)
    kept: list[bool]
    cumulative: list[float]  # running sum of ``scaled`` down the ranking
    kept_count: int
    nucleus_cut: int | None  # the first ``nucleus_cut`` ranked tokens form the nucleus


def top_tokens(view: SamplingView, n: int = 20) -> TopTokens:
    """The first ``n`` tokens of the ranking (most likely first)."""
    order = view.order[:n]
    cumulative = view.scaled_probs[view.order].cumsum(0)[:n]
    return TopTokens(
        ids=order.tolist(),
        raw=view.raw_probs[order].tolist(),
        scaled=view.scaled_probs[order].tolist(),
        adjusted=view.adjusted_probs[order].tolist(),
        kept=view.kept[order].tolist(),
        cumulative=cumulative.tolist(),
        kept_count=view.kept_count,
        nucleus_cut=view.nucleus_cut,
    )


def cumulative_mass(view: SamplingView, n: int = 100) -> list[float]:
    """Probability (after temperature) covered by the top 1, 2, ..., n tokens."""
    return view.scaled_probs[view.order].cumsum(0)[:n].tolist()


# -- drawing ------------------------------------------------------------------------------


@dataclass
class DrawResult:
    """``n`` seeded draws from the adjusted distribution, tallied per token."""

    n: int
    counts: np.ndarray  # (V,) how often each token came up
    ids: list[int]  # tokens shown: the most likely ones that can be drawn
    frequency: list[float]  # counts / n for ``ids``
    exact: list[float]  # the adjusted probability of ``ids``
    other_frequency: float  # share of draws outside ``ids``
    other_exact: float
    distinct: int  # how many different tokens were drawn
    total_variation: float  # half the L1 distance between frequencies and probabilities (all V)


def draw_samples(view: SamplingView, n: int, seed: int, show: int = 20) -> DrawResult:
    """Draw ``n`` tokens with a generator seeded by ``seed``; compare counts with probabilities."""
    if not 1 <= n <= MAX_DRAWS:
        raise ValueError(f"draw between 1 and {MAX_DRAWS} samples, got {n}")
    probs = view.adjusted_probs.float()
    generator = torch.Generator(device=probs.device).manual_seed(seed)
    draws = sample(probs, generator, num_samples=n)  # (n,)
    counts = torch.bincount(draws, minlength=probs.numel()).numpy()
    frequency = counts / n
    exact = probs.numpy().astype(np.float64)
    ids = [i for i in view.adjusted_probs.argsort(descending=True, stable=True)[:show].tolist() if exact[i] > 0]
    shown = np.zeros(len(exact), dtype=bool)
    shown[ids] = True
    return DrawResult(
        n=n,
        counts=counts,
        ids=ids,
        frequency=frequency[ids].tolist(),
        exact=exact[ids].tolist(),
        other_frequency=float(frequency[~shown].sum()),
        other_exact=float(exact[~shown].sum()),
        distinct=int((counts > 0).sum()),
        total_variation=float(0.5 * np.abs(frequency - exact).sum()),
    )


@dataclass
class Continuation:
    """Tokens written after the prompt at one temperature."""

    temperature: float
    ids: list[int]
    text: str
    pieces: list[str]  # each token's own text


def continuations(model: LanguageModel, prompt_ids: list[int], temperatures: list[float], new_tokens: int,
                  top_k: int | None, top_p: float | None, seed: int) -> list[Continuation]:
    """One continuation per temperature, written together (one forward pass per position);
    each row's generator starts from ``seed``."""
    if not 1 <= new_tokens <= MAX_NEW_TOKENS:
        raise ValueError(f"write between 1 and {MAX_NEW_TOKENS} tokens, got {new_tokens}")
    room = model.context - new_tokens
    rows = model.generate_rows(prompt_ids[-room:], new_tokens, list(temperatures), top_k, top_p, seed)
    return [Continuation(temperature, ids, model.decode(ids), [model.token_text(i) for i in ids])
            for temperature, ids in zip(temperatures, rows)]


def first_tokens(model: LanguageModel, written: list[Continuation], temperatures: list[float],
                 n: int) -> list[Continuation]:
    """The continuations at ``temperatures`` cut to their first ``n`` tokens.

    Each token depends only on the tokens before it and on the generator's draws so far,
    so the first n tokens of a longer seeded continuation are the n-token continuation.
    """
    by_temperature = {c.temperature: c for c in written}
    shorter = []
    for temperature in temperatures:
        ids = by_temperature[temperature].ids[:n]
        shorter.append(Continuation(temperature, ids, model.decode(ids), by_temperature[temperature].pieces[:n]))
    return shorter
