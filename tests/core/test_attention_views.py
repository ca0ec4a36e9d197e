"""Attention views: checked shapes, averages and renormalised rows that still sum to 1,
the strongest links, a light all-heads grid, weights equal to a hand computation
from MiniLM's own projection matrices, and long texts joined into words and sentences."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from components.figures.attention import all_heads_grid, head_view
from models.labs.attention import (AVERAGE, MAX_TOKENS, AttentionStack, cap_ids, default_query, from_model_run,
                                    head_matrix, hide_tokens, pooled_grid, run_tiny_gpt, shown_grid, shown_matrix,
                                    stack_attentions, token_limit, top_links, visible_keys)
from models.core.gpt import GPT, GPTConfig


def random_weights(L=2, H=3, T=6, seed=0, causal=False):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(L, H, T, T))
    if causal:
        scores = np.where(np.tril(np.ones((T, T))) > 0, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)


def test_stack_accepts_batched_layers_and_explains_mistakes():
    layers = [torch.softmax(torch.randn(1, 2, 4, 4), -1) for _ in range(3)]
    assert stack_attentions(layers, list("abcd")).shape == (3, 2, 4, 4)
    with pytest.raises(ValueError, match="4 tokens but 3"):
        stack_attentions(layers, list("abc"))
    with pytest.raises(ValueError, match="one text at a time"):
        stack_attentions([torch.rand(2, 2, 4, 4)], list("abcd"))
    with pytest.raises(ValueError, match="output_attentions"):
        stack_attentions([], [])


def test_head_average_is_a_distribution():
    weights = random_weights()
    average = head_matrix(weights, 1, AVERAGE)
    np.testing.assert_allclose(average, weights[1].mean(axis=0))
    np.testing.assert_allclose(average.sum(axis=1), 1, rtol=1e-5)
    with pytest.raises(ValueError, match="layers"):
        head_matrix(weights, 2, 0)


@settings(max_examples=40, deadline=None)
@given(T=st.integers(2, 12), seed=st.integers(0, 10_000), data=st.data())
def test_hidden_tokens_leave_rows_that_sum_to_one(T, seed, data):
    matrix = random_weights(1, 1, T, seed)[0, 0]
    hidden = np.array(data.draw(st.lists(st.booleans(), min_size=T, max_size=T)))
    part, kept = hide_tokens(matrix, hidden)
    assert list(kept) == [i for i in range(T) if not hidden[i]]
    if len(kept):
        np.testing.assert_allclose(part.sum(axis=1), 1, rtol=1e-5)
        # same as renormalising by hand, one row at a time
        for r, i in enumerate(kept):
            expected = matrix[i, kept] / matrix[i, kept].sum()
            np.testing.assert_allclose(part[r], expected, rtol=1e-5)


def test_a_row_with_all_weight_on_hidden_tokens_stays_zero():
    matrix = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    part, kept = hide_tokens(matrix, np.array([True, False, False]))
    np.testing.assert_allclose(part, [[1.0, 0.0], [0.375, 0.625]])
    raw, _ = hide_tokens(matrix, np.array([False, False, True]), renormalise=False)
    np.testing.assert_allclose(raw, matrix[:2, :2])


def test_top_links_are_the_largest_weights():
    row = np.array([0.1, 0.4, 0.0, 0.3, 0.2])
    assert top_links(row, 3) == [(1, 0.4), (3, pytest.approx(0.3)), (4, 0.2)]
    assert top_links(row, 10, min_weight=0.25) == [(1, 0.4), (3, pytest.approx(0.3))]
    assert all(j != 2 for j, _ in top_links(row, 5)), "zero weight is not a link"


def test_pooling_keeps_block_means_and_small_inputs():
    weights = random_weights(2, 2, 10)
    same, per_cell = pooled_grid(weights, 32)
    assert per_cell == 1 and same is weights
    pooled, per_cell = pooled_grid(random_weights(1, 1, 64), 16)
    assert pooled.shape == (1, 1, 16, 16) and per_cell == 4
    original = random_weights(1, 1, 64)
    np.testing.assert_allclose(pooled_grid(original, 16)[0][0, 0, 0, 0], original[0, 0, :4, :4].mean(), rtol=1e-5)
    np.testing.assert_allclose(pooled_grid(original, 16)[0].mean(), original.mean(), rtol=1e-5)


def test_all_heads_grid_payload_stays_small():
    stack = AttentionStack(["t"] * MAX_TOKENS, list(range(MAX_TOKENS)), random_weights(6, 12, MAX_TOKENS),
                           np.zeros(MAX_TOKENS, dtype=bool), False)
    pooled, _ = shown_grid(stack, hide_special=False)
    fig = all_heads_grid(pooled, layer_label="L{n}", head_label="H{n}", hover_template="{layer}/{head}: ",
                         colour_title="w")
    assert len(fig.data) == 1, "all 72 maps tiled into one trace"
    assert len(fig.to_json()) < 1_000_000


def test_all_heads_grid_tiles_every_head_where_its_labels_say():
    pooled = random_weights(2, 3, 4)
    fig = all_heads_grid(pooled, layer_label="L{n}", head_label="H{n}", hover_template="{layer}/{head}: ",
                         colour_title="w", selected=(1, 2))
    z, owner = np.asarray(fig.data[0].z, dtype=float), np.asarray(fig.data[0].customdata)
    assert z.shape == (2 * 5 - 1, 3 * 5 - 1)
    for layer in range(2):
        for head in range(3):
            block = z[layer * 5:layer * 5 + 4, head * 5:head * 5 + 4]
            np.testing.assert_allclose(block, np.round(pooled[layer, head], 3), atol=1e-6)
            assert (owner[layer * 5:layer * 5 + 4, head * 5:head * 5 + 4] == [layer + 1, head + 1]).all()  # shown from 1
    assert np.isnan(z[4]).all() and np.isnan(z[:, 4]).all(), "gaps between the maps"
    assert list(fig.layout.xaxis.ticktext) == ["H1", "H2", "H3"] and list(fig.layout.yaxis.ticktext) == ["L1", "L2"]
    assert "%{customdata[0]}/%{customdata[1]}" in fig.data[0].hovertemplate
    assert len(fig.layout.shapes) == 1


def test_head_view_draws_one_line_per_link():
    row = np.array([0.1, 0.6, 0.3])
    fig = head_view(["a", "b", "c"], row, 2, top_links(row, 2), query_side="q", key_side="k", hover_name="w")
    lines = [trace for trace in fig.data if trace.mode == "lines"]
    assert len(lines) == 2
    assert max(line.line.width for line in lines) > min(line.line.width for line in lines)


def test_default_query_and_visible_keys():
    assert default_query(["[CLS]", "the", "cat", " It", "sat", "[SEP]"]) == 3
    assert default_query(["a", "b"]) == 1, "no 'it': the last one"
    assert visible_keys(3, 1, causal=True) == [True, True, False]
    assert visible_keys(3, 1, causal=False) == [True, True, True]


def test_cap_ids():
    assert cap_ids(list(range(700))) == (list(range(MAX_TOKENS)), 700 - MAX_TOKENS)
    assert cap_ids([1, 2]) == ([1, 2], 0)


def test_tiny_gpt_view_is_causal_and_capped_at_its_context():
    torch.manual_seed(0)
    context = 160
    model = GPT(GPTConfig.style_2017(vocab_size=40, block_size=context, n_layer=2, n_head=2, n_embd=16)).eval()
    ids = [i % 40 for i in range(200)]
    stack = run_tiny_gpt(model, [str(i) for i in ids], ids, [i == 0 for i in ids])
    assert stack.weights.shape == (2, 2, context, context) and stack.dropped == 200 - context and stack.total == 200
    assert stack.causal and np.allclose(np.triu(stack.weights, 1), 0)
    np.testing.assert_allclose(stack.weights.sum(-1), 1, rtol=1e-5)
    reference = model.trace(torch.tensor([ids[:context]])).attentions[1][0, 1].numpy()
    np.testing.assert_allclose(head_matrix(stack.weights, 1, 1), reference, rtol=1e-6)
    matrix, units = shown_matrix(stack, 0, AVERAGE, hide_special=True)
    assert len(units) == matrix.shape[0] == context - sum(1 for i in ids[:context] if i == 0)


def test_token_limit_says_what_sets_it():
    assert MAX_TOKENS == 512
    assert token_limit(512) == (512, "model"), "MiniLM: its 512 positions"
    assert token_limit(256) == (256, "model"), "the tiny GPT: its context"
    assert token_limit(2048) == (MAX_TOKENS, "page"), "a user model with a long context: the page's cap"


@pytest.fixture(scope="module")
def minilm():
    from models.pretrained.minilm import load_minilm

    return load_minilm()


def test_minilm_weights_equal_a_hand_computation(minilm):
    stack = from_model_run(minilm.run("The dog chased the cat because it was hungry."))
    assert stack.tokens[0] == "[CLS]" and stack.tokens[-1] == "[SEP]"
    assert stack.special[0] and stack.special[-1] and not stack.special[1:-1].any()
    assert stack.weights.shape[:2] == (6, 12) and not stack.causal and stack.dropped == 0
    # Layer 0 by hand: embeddings -> W_Q, W_K of the first layer -> softmax(q k^T / sqrt(d)).
    model = minilm.model
    with torch.no_grad():
        x = model.embeddings(input_ids=torch.tensor([stack.ids]))[0]  # (T, 384)
        attention = model.encoder.layer[0].attention.self
        d = 384 // 12
        q = attention.query(x).view(-1, 12, d).transpose(0, 1)  # (12, T, d)
        k = attention.key(x).view(-1, 12, d).transpose(0, 1)
        by_hand = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1).numpy()
    np.testing.assert_allclose(stack.weights[0], by_hand, atol=1e-5)


def test_minilm_long_text_is_capped(minilm):
    stack = from_model_run(minilm.run("word " * 600, MAX_TOKENS))
    assert len(stack.ids) == MAX_TOKENS == minilm.context and stack.dropped == 602 - MAX_TOKENS
    assert not stack.causal and stack.tokens[-1] == "[SEP]"


def test_from_model_run_explains_mismatched_flags():
    from types import SimpleNamespace

    run = SimpleNamespace(tokens=["a", "b"], ids=[1, 2], special=[False], attentions=random_weights(1, 1, 2),
                          is_causal=False, total_tokens=2)
    with pytest.raises(ValueError, match="one per token"):
        from_model_run(run)
