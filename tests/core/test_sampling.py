"""Sampling: the same kept sets and probabilities as transformers' logits warpers."""

import math

import pytest
import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from models.core.sampling import SamplingView, entropy, kept_tokens, next_token_probs, sample

SETTINGS = [
    (1.0, None, None), (0.7, None, None), (1.8, None, None),
    (1.0, 5, None), (0.5, 1, None), (1.0, 40, None), (1.3, 200, None),
    (1.0, None, 0.9), (0.8, None, 0.5), (1.0, None, 0.01), (2.0, None, 0.99),
    (1.0, 20, 0.8), (0.6, 3, 0.95), (1.5, 50, 0.3),
]


def transformers_probs(logits, temperature, top_k, top_p):
    scores = TemperatureLogitsWarper(float(temperature))(None, logits)
    if top_k is not None:
        scores = TopKLogitsWarper(top_k)(None, scores)
    if top_p is not None:
        scores = TopPLogitsWarper(top_p)(None, scores)
    return scores.softmax(dim=-1)


@pytest.mark.parametrize("temperature,top_k,top_p", SETTINGS)
def test_equals_transformers_warpers(temperature, top_k, top_p):
    logits = torch.randn(8, 100) * 3
    expected = transformers_probs(logits, temperature, top_k, top_p)
    ours = next_token_probs(logits, temperature, top_k, top_p)
    assert torch.equal(ours > 0, expected > 0)  # the very same kept sets
    torch.testing.assert_close(ours, expected)
    assert torch.equal(kept_tokens(logits, temperature, top_k, top_p), expected > 0)


def test_top_k_keeps_ties_like_transformers():
    logits = torch.tensor([[3.0, 1.0, 2.0, 2.0, 2.0, 0.0]])
    ours = next_token_probs(logits, top_k=2)
    assert torch.equal(ours > 0, transformers_probs(logits, 1.0, 2, None) > 0)
    assert (ours > 0).sum() == 4  # the top token plus all three tied at the 2nd-best score


def test_top_p_with_ties_and_tiny_p_keeps_at_least_one():
    logits = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]])
    for top_p in (0.001, 0.3, 0.6):
        ours = next_token_probs(logits, top_p=top_p)
        assert torch.equal(ours > 0, transformers_probs(logits, 1.0, None, top_p) > 0)
        assert (ours > 0).sum() >= 1


def test_top_k_1_and_temperature_0_are_argmax():
    logits = torch.randn(5, 30)
    argmax_one_hot = torch.nn.functional.one_hot(logits.argmax(-1), 30).float()
    assert torch.equal(next_token_probs(logits, top_k=1), argmax_one_hot)
    assert torch.equal(next_token_probs(logits, temperature=0), argmax_one_hot)


def test_seeded_draws_repeat():
    probs = next_token_probs(torch.randn(3, 50))
    first = sample(probs, torch.Generator().manual_seed(1), num_samples=20)
    again = sample(probs, torch.Generator().manual_seed(1), num_samples=20)
    assert first.shape == (3, 20) and torch.equal(first, again)
    one = sample(probs[0], torch.Generator().manual_seed(2))
    assert one.shape == (1,) and torch.equal(one, sample(probs[0], torch.Generator().manual_seed(2)))


def test_many_draws_follow_the_probabilities():
    probs = torch.tensor([0.5, 0.3, 0.2, 0.0])
    draws = sample(probs, torch.Generator().manual_seed(0), num_samples=20000)
    frequencies = torch.bincount(draws, minlength=4).float() / 20000
    torch.testing.assert_close(frequencies, probs, atol=0.015, rtol=0)


@pytest.mark.parametrize("bad", [dict(top_p=0.0), dict(top_p=1.5), dict(temperature=-0.1), dict(top_k=-2)])
def test_meaningless_settings_raise_a_clear_error(bad):
    with pytest.raises(ValueError, match="must be"):
        next_token_probs(torch.randn(10), **bad)


def test_filters_switch_off():
    logits = torch.randn(2, 40)
    plain = logits.softmax(-1)
    torch.testing.assert_close(next_token_probs(logits, top_k=0, top_p=1.0), plain)
    torch.testing.assert_close(next_token_probs(logits, top_k=None, top_p=None), plain)


def test_entropy():
    assert math.isclose(entropy(torch.full((8,), 1 / 8)).item(), math.log(8), rel_tol=1e-6)
    assert entropy(torch.tensor([1.0, 0.0, 0.0])).item() == 0.0


def test_sampling_view_agrees_with_the_functions():
    logits = torch.randn(60) * 2
    view = SamplingView.from_logits(logits, temperature=0.8, top_k=20, top_p=0.7)
    torch.testing.assert_close(view.adjusted_probs, next_token_probs(logits, 0.8, 20, 0.7))
    torch.testing.assert_close(view.raw_probs, logits.softmax(-1))
    torch.testing.assert_close(view.scaled_probs, (logits / 0.8).softmax(-1))
    assert view.kept_count == int((view.adjusted_probs > 0).sum()) == view.nucleus_cut
    assert set(view.order[: view.kept_count].tolist()) == set(torch.nonzero(view.kept).flatten().tolist())
    assert 0.0 < view.kept_mass <= 1.0
    assert SamplingView.from_logits(logits, top_p=0.7).kept_mass >= 0.7  # the nucleus reaches p
    assert view.adjusted_entropy < view.raw_entropy
    greedy = SamplingView.from_logits(logits, temperature=0)
    assert greedy.kept_count == 1 and greedy.nucleus_cut is None and greedy.adjusted_entropy == 0.0
    with pytest.raises(ValueError, match="one position"):
        SamplingView.from_logits(torch.randn(2, 60))
