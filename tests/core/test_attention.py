"""Attention: explicit steps == PyTorch's fused kernel == nn.MultiheadAttention."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.core import masks
from models.core.attention import (
    MultiHeadAttention,
    additive_mask,
    attention,
    fast_attention,
    merge_heads,
    repeat_kv,
    scores,
    softmax_weights,
    split_heads,
    weighted_sum,
)
from models.core.kv_cache import KVCache

T = 13


def every_mask(T, device="cpu"):
    return {
        "none": None,
        "causal": masks.causal(T, device=device),
        "sliding_window": masks.sliding_window(T, 4, device=device),
        "sliding_window_bidirectional": masks.sliding_window(T, 3, causal=False, device=device),
        "dilated": masks.dilated(T, 3, 2, device=device),
        "strided": masks.strided(T, 4, device=device),
        "fixed": masks.fixed(T, 4, device=device),
        "global_local": masks.global_local(T, 2, 2, device=device),
        "bigbird": masks.bigbird(T, 2, 1, 2, seed=3, device=device),
        "padding": masks.padding([T, 5], T, device=device)[:, None],  # (B, 1, T, T)
    }


@pytest.mark.parametrize("kind", list(every_mask(T)))
def test_explicit_equals_sdpa_for_every_mask(kind, device):
    q, k, v = (torch.randn(2, 3, T, 8, device=device) for _ in range(3))
    mask = every_mask(T, device)[kind]
    out, weights = attention(q, k, v, mask)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fast_attention(q, k, v, mask), reference, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, T, device=device))
    if mask is not None:
        assert (weights[~mask.expand_as(weights)] == 0).all()  # exactly zero, not just small


def test_steps_compose_to_attention():
    q, k, v = (torch.randn(1, 2, 5, 4) for _ in range(3))
    mask = masks.causal(5)
    step_by_step = weighted_sum(softmax_weights(scores(q, k), mask), v)
    torch.testing.assert_close(step_by_step, attention(q, k, v, mask)[0])
    torch.testing.assert_close(scores(q, k), q @ k.transpose(-1, -2) / 2.0)


def test_additive_mask_is_zero_or_minus_infinity():
    mask = masks.causal(3)
    additive = additive_mask(mask, torch.float32)
    assert (additive[mask] == 0).all() and torch.isneginf(additive[~mask]).all()


def test_split_and_merge_heads_are_inverse():
    x = torch.randn(2, 7, 12)
    heads = split_heads(x, 3)
    assert heads.shape == (2, 3, 7, 4)
    torch.testing.assert_close(heads[:, 1], x[..., 4:8])  # head 1 owns features 4..7
    torch.testing.assert_close(merge_heads(heads), x)


def test_repeat_kv_matches_repeat_interleave():
    kv = torch.randn(2, 3, 5, 4)
    torch.testing.assert_close(repeat_kv(kv, 4), kv.repeat_interleave(4, dim=1))
    assert repeat_kv(kv, 1) is kv


@pytest.mark.parametrize("use_mask", [False, True])
def test_multi_head_equals_nn_multihead_attention(use_mask):
    C, H = 16, 4
    ours = MultiHeadAttention(C, H).eval()
    reference = nn.MultiheadAttention(C, H, batch_first=True).eval()
    with torch.no_grad():
        reference.in_proj_weight.copy_(torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight]))
        reference.in_proj_bias.copy_(torch.cat([ours.w_q.bias, ours.w_k.bias, ours.w_v.bias]))
        reference.out_proj.weight.copy_(ours.w_o.weight)
        reference.out_proj.bias.copy_(ours.w_o.bias)
    x = torch.randn(2, 9, C)
    mask = masks.sliding_window(9, 3) if use_mask else None
    # nn.MultiheadAttention's boolean mask means the opposite: True = NOT allowed.
    expected, expected_weights = reference(
        x, x, x, attn_mask=None if mask is None else ~mask, need_weights=True, average_attn_weights=False
    )
    fast, _ = ours(x, mask=mask)
    explicit, details = ours(x, mask=mask, need_weights=True)
    torch.testing.assert_close(fast, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(explicit, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(details.weights, expected_weights, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("n_kv_heads", [4, 2, 1])
def test_grouped_query_fast_equals_explicit(n_kv_heads):
    module = MultiHeadAttention(16, 4, n_kv_heads, bias=False)
    assert module.w_k.out_features == n_kv_heads * 4
    x = torch.randn(2, 6, 16)
    fast, _ = module(x, causal=True)
    explicit, details = module(x, causal=True, need_weights=True)
    torch.testing.assert_close(fast, explicit, atol=1e-6, rtol=1e-5)
    assert details.k.shape == (2, n_kv_heads, 6, 4)
    assert (details.weights.triu(1) == 0).all()


def test_grouped_query_equals_multi_head_with_repeated_weights():
    """GQA is MHA whose K/V weights are shared within each group of query heads."""
    gqa = MultiHeadAttention(16, 4, 2, bias=False)
    mha = MultiHeadAttention(16, 4, 4, bias=False)
    with torch.no_grad():
        mha.w_q.weight.copy_(gqa.w_q.weight)
        mha.w_o.weight.copy_(gqa.w_o.weight)
        for name in ("w_k", "w_v"):
            per_head = getattr(gqa, name).weight.view(2, 4, 16)  # (H_kv, D, C)
            getattr(mha, name).weight.copy_(per_head.repeat_interleave(2, dim=0).reshape(16, 16))
    x = torch.randn(1, 5, 16)
    torch.testing.assert_close(gqa(x, causal=True)[0], mha(x, causal=True)[0], atol=1e-6, rtol=1e-5)


def test_causal_with_cache_in_chunks_equals_one_pass(device):
    module = MultiHeadAttention(16, 4, 2).to(device)
    x = torch.randn(2, 10, 16, device=device)
    full, _ = module(x, causal=True)
    for need_weights in (False, True):
        cache = KVCache(1, 2, 2, 10, 4, device=device)
        pieces = []
        for start, end in [(0, 4), (4, 5), (5, 10)]:
            out, _ = module(x[:, start:end], causal=True, cache=cache, need_weights=need_weights)
            cache.advance(end - start)
            pieces.append(out)
        torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-5, rtol=1e-5)
