"""Sparse lab: patterns equal models.core.masks, counts and reach agree with brute force, block-sparse
timing rows carry equal outputs, and a pattern inside the GPT behaves as the mask says."""

import math
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.core import masks
from models.core.gpt import GPT, GPTConfig
from models.labs.sparse import (PATTERNS, PatternSettings, _PatternedGPT, apply_to_gpt, block_occupancy,
                               build_pattern, gpt_mask, greedy_continuation, is_causal, layers_to_full_reach,
                               pattern_costs, pattern_view, reach_by_layer, time_patterns)


def test_patterns_are_the_core_masks():
    s = PatternSettings(length=40, window=5, stride=3, n_global=2, n_random=3, seed=7)
    expected = {
        "full": torch.ones(40, 40, dtype=torch.bool),
        "causal": masks.causal(40),
        "sliding_window": masks.sliding_window(40, 5),
        "dilated": masks.dilated(40, 5, 3),
        "strided": masks.strided(40, 3),
        "fixed": masks.fixed(40, 3),
        "global_local": masks.global_local(40, 5, 2),
        "bigbird": masks.bigbird(40, 5, 2, 3, 7),
    }
    for pattern in PATTERNS:
        mask = build_pattern(PatternSettings(pattern, 40, 5, 3, 2, 3, 7))
        assert torch.equal(mask, expected[pattern]), pattern
        assert mask.diagonal().all(), "every token sees itself"
    assert torch.equal(build_pattern(s, 12), masks.bigbird(12, 5, 2, 3, 7))


def test_impossible_slider_values_are_clamped_and_named():
    clamped, changed = PatternSettings("bigbird", 8, window=30, n_global=20, n_random=9).clamped()
    assert (clamped.window, clamped.n_global, clamped.n_random) == (8, 8, 8)
    assert set(changed) == {"window", "n_global", "n_random"}
    _, changed = PatternSettings("strided", 8, window=30, stride=3).clamped()
    assert changed == [], "the window does not matter to the strided pattern"
    assert build_pattern(PatternSettings("global_local", 8, window=30, n_global=20)).all()


def test_costs_count_pairs_and_tiles():
    mask = masks.sliding_window(64, 4)
    costs = pattern_costs(mask, head_dim=8, n_heads=2, block=16)
    assert costs.pairs == int(mask.sum()) == 64 * 4 - 6
    assert costs.density == pytest.approx(masks.density(mask))
    assert costs.flops / costs.full_flops == pytest.approx(costs.density)
    assert costs.score_bytes == costs.pairs * 4 * 2
    # a band of width 4 touches the diagonal tiles and the ones just left of them
    assert costs.block_density == pytest.approx((4 + 3) / 16)
    full = pattern_costs(torch.ones(10, 10, dtype=torch.bool), block=4)
    assert full.density == 1.0 and full.block_density == 1.0


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 40), block=st.integers(1, 12), seed=st.integers(0, 1000))
def test_block_occupancy_matches_a_loop(T, block, seed):
    mask = torch.rand(T, T, generator=torch.Generator().manual_seed(seed)) < 0.1
    tiles = block_occupancy(mask, block)
    n = math.ceil(T / block)
    for a in range(n):
        for b in range(n):
            assert tiles[a, b] == mask[a * block:(a + 1) * block, b * block:(b + 1) * block].any()


@pytest.mark.parametrize("pattern", PATTERNS)
def test_reach_matches_the_receptive_field(pattern):
    mask = build_pattern(PatternSettings(pattern, 33, window=3, stride=4, n_global=1, n_random=1))
    counts = reach_by_layer(mask, 5)
    for layers in range(6):
        assert np.array_equal(counts[layers], masks.receptive_field(mask, layers).sum(dim=1).numpy())
    assert (np.diff(counts, axis=0) >= 0).all(), "reach never shrinks"


@settings(max_examples=30, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), T=st.integers(1, 30), window=st.integers(1, 6),
       stride=st.integers(1, 6), n_global=st.integers(0, 3))
def test_layers_to_full_reach_matches_brute_force(pattern, T, window, stride, n_global):
    mask = build_pattern(PatternSettings(pattern, T, window, stride, n_global, n_random=1))
    target = masks.causal(T) if is_causal(mask) else torch.ones(T, T, dtype=torch.bool)
    brute = next((k for k in range(T + 2) if bool((masks.receptive_field(mask, k) | ~target).all())), None)
    assert layers_to_full_reach(mask) == brute


def test_sliding_window_reach_grows_by_window_minus_one():
    T, w = 100, 5
    mask = masks.sliding_window(T, w)
    assert layers_to_full_reach(mask) == math.ceil((T - 1) / (w - 1))
    assert list(reach_by_layer(mask, 3)[:, -1]) == [1, 5, 9, 13]
    assert layers_to_full_reach(masks.dilated(T, 4, 3)) is None, "a dilated window never reaches off its grid"


def test_pattern_view_is_consistent():
    view = pattern_view(PatternSettings("global_local", 24, window=3, n_global=1), max_layers=3)
    assert view.mask.shape == (24, 24) and view.mask.dtype == bool
    assert not view.causal
    assert view.layers_to_full == 2, "via the global token: one hop there, one hop back"
    assert set(view.gallery) == set(PATTERNS)
    assert view.reach.shape == (4, 24)


def test_timing_rows_on_tiny_sizes():
    calls = []
    rows = time_patterns(PatternSettings("sliding_window", window=8), (32, 64), "cpu", n_heads=2, head_dim=8,
                         block=16, repeats=1, progress=lambda done, T: calls.append((done, T)))
    assert [r.length for r in rows] == [32, 64]
    assert calls == [(0.5, 32), (1.0, 64)]
    for row in rows:
        assert row.max_abs_difference < 1e-5, "block-sparse must equal dense masked attention"
        assert row.dense_ms > 0 and row.block_sparse_ms > 0 and row.flex_ms is None
        assert 0 < row.density <= row.block_density <= 1


def test_flex_timing_stays_within_its_budget(monkeypatch):
    """A cold FlexAttention compiles per length (and once to check it compiles); past the budget the
    remaining lengths are skipped (and say so), within it every length is timed."""
    from models.core import sparse

    monkeypatch.setattr(sparse, "flex_available", lambda device="cpu": True)
    monkeypatch.setattr(sparse, "flex_block_mask", lambda mask, block_size=128: None)
    monkeypatch.setattr(sparse, "flex_attention", lambda q, k, v, block_mask=None: time.sleep(0.05) or q)
    settings = PatternSettings("sliding_window", window=8)
    options = dict(n_heads=2, head_dim=8, block=16, repeats=1, with_flex=True)
    tight = time_patterns(settings, (32, 64, 96), "cpu", flex_budget_s=0.2, **options)
    assert tight[0].flex_ms is not None and not tight[0].flex_skipped
    assert [row.flex_skipped for row in tight[1:]] == [True, True]
    assert all(row.flex_ms is None and row.dense_ms > 0 for row in tight[1:])
    roomy = time_patterns(settings, (32, 64, 96), "cpu", flex_budget_s=60, **options)
    assert all(row.flex_ms is not None and not row.flex_skipped for row in roomy)
    monkeypatch.setattr(sparse, "flex_available", lambda device="cpu": time.sleep(0.25) or True)  # a cold check
    cold = time_patterns(settings, (32, 64, 96), "cpu", flex_budget_s=0.2, **options)
    assert all(row.flex_skipped and row.flex_ms is None and row.block_sparse_ms > 0 for row in cold)


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    config = GPTConfig.style_2024(vocab_size=50, block_size=32, n_layer=2, n_head=4, n_embd=32)
    return GPT(config).eval()


def test_greedy_continuation_without_pattern_equals_generate(tiny_model):
    prompt = [1, 2, 3, 4, 5]
    ours = greedy_continuation(tiny_model, prompt, 40)  # longer than block_size: cropping too
    reference = tiny_model.generate(torch.tensor([prompt]), 40, use_cache=False, temperature=0.0)[0, 5:].tolist()
    assert ours == reference
    full_causal = masks.causal(32)
    assert greedy_continuation(tiny_model, prompt, 12, full_causal) == reference[:12]


def test_patterned_model_uses_the_mask(tiny_model):
    idx = torch.randint(0, 50, (2, 20), generator=torch.Generator().manual_seed(1))
    plain, _ = tiny_model(idx)
    same, _ = _PatternedGPT(tiny_model, masks.causal(32))(idx)
    torch.testing.assert_close(same, plain)
    windowed, _ = _PatternedGPT(tiny_model, masks.sliding_window(32, 2))(idx)
    assert torch.allclose(windowed[:, :2], plain[:, :2], atol=1e-5), "the first two tokens see the same keys"
    assert not torch.allclose(windowed[:, 5:], plain[:, 5:])


def test_gpt_mask_never_looks_ahead():
    mask = gpt_mask(PatternSettings("bigbird", window=3, n_global=2, n_random=2), 32)
    assert is_causal(mask) and mask.diagonal().all()
    assert torch.equal(gpt_mask(PatternSettings("full"), 16), masks.causal(16))


def test_apply_to_gpt_full_pattern_changes_nothing(tiny_model):
    heldout = np.random.default_rng(0).integers(0, 50, size=400).astype(np.uint16)
    steps = []
    same = apply_to_gpt(tiny_model, heldout, PatternSettings("full"), [1, 2, 3], max_windows=3, max_new_tokens=5,
                        progress=steps.append)
    assert same.full_perplexity == pytest.approx(same.pattern_perplexity, rel=1e-6)
    assert same.full_continuation == same.pattern_continuation
    assert same.tokens_scored == 3 * 32 and same.density == pytest.approx(1.0)
    assert steps[-1] == 1.0
    narrow = apply_to_gpt(tiny_model, heldout, PatternSettings("sliding_window", window=1), [1, 2, 3],
                          max_windows=3, max_new_tokens=5)
    assert narrow.pattern_perplexity != pytest.approx(narrow.full_perplexity, rel=1e-4)
    assert narrow.full_perplexity == pytest.approx(same.full_perplexity)
    assert not tiny_model.training, "evaluating must not switch the shared model into training mode"


def test_apply_to_gpt_keeps_dropout_off():
    torch.manual_seed(0)
    model = GPT(GPTConfig.style_2017(vocab_size=30, block_size=16, n_layer=1, n_head=2, n_embd=16,
                                     dropout=0.5)).eval()
    heldout = np.random.default_rng(1).integers(0, 30, size=100).astype(np.uint16)
    first = apply_to_gpt(model, heldout, PatternSettings("full"), [1, 2], max_windows=2, max_new_tokens=6)
    second = apply_to_gpt(model, heldout, PatternSettings("full"), [1, 2], max_windows=2, max_new_tokens=6)
    assert first == second and not model.training
