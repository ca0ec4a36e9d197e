"""Positions: the 2017 sine table, learned tables, and RoPE in transformers' Llama convention."""

import math

import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

from models.core.positional import apply_rope, learned, rope_cos_sin, rotate_half, sinusoidal


def test_sinusoidal_follows_the_2017_formula():
    table = sinusoidal(50, 16)
    assert table.shape == (50, 16)
    for pos, i in [(0, 0), (7, 2), (49, 7)]:
        angle = pos / 10000 ** (2 * i / 16)
        assert math.isclose(table[pos, 2 * i].item(), math.sin(angle), abs_tol=1e-5)
        assert math.isclose(table[pos, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-5)


def test_learned_is_one_trainable_row_per_position():
    table = learned(32, 8)
    assert table.weight.shape == (32, 8) and table.weight.requires_grad


def llama_rotary(head_dim, theta):
    config = LlamaConfig(
        hidden_size=head_dim * 4, num_attention_heads=4, num_key_value_heads=2,
        rope_parameters={"rope_type": "default", "rope_theta": theta},
    )
    return LlamaRotaryEmbedding(config)


def test_rope_cos_sin_equals_llama_rotary_embedding():
    positions = torch.tensor([[0, 1, 2, 9, 100]])
    cos, sin = rope_cos_sin(positions, 16, theta=500.0)
    expected_cos, expected_sin = llama_rotary(16, 500.0)(torch.zeros(1, dtype=torch.float32), positions)
    torch.testing.assert_close(cos, expected_cos)
    torch.testing.assert_close(sin, expected_sin)


def test_apply_rope_equals_llama_apply_rotary_pos_emb():
    q, k = torch.randn(2, 4, 6, 16), torch.randn(2, 2, 6, 16)
    positions = torch.arange(3, 9)[None].expand(2, 6)
    cos, sin = llama_rotary(16, 10000.0)(q, positions)  # (B, T, D)
    expected_q, expected_k = apply_rotary_pos_emb(q, k, cos, sin)
    ours_q, ours_k = apply_rope(q, k, *rope_cos_sin(positions, 16))
    torch.testing.assert_close(ours_q, expected_q)
    torch.testing.assert_close(ours_k, expected_k)
    ours_q_2d, _ = apply_rope(q, k, *rope_cos_sin(torch.arange(3, 9), 16))  # (T, D) form
    torch.testing.assert_close(ours_q_2d, expected_q)


def test_rope_scores_depend_only_on_distance():
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(query_pos, key_pos):
        cq, sq = rope_cos_sin(torch.tensor([query_pos]), 8)
        ck, sk = rope_cos_sin(torch.tensor([key_pos]), 8)
        rotated_q, _ = apply_rope(q, q, cq, sq)
        _, rotated_k = apply_rope(k, k, ck, sk)
        return (rotated_q * rotated_k).sum().item()

    assert math.isclose(score(5, 2), score(105, 102), rel_tol=1e-4, abs_tol=1e-5)
    assert not math.isclose(score(5, 2), score(5, 4), rel_tol=1e-3)


def test_rotate_half_turns_each_pair_by_90_degrees():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])  # pairs (1, 3) and (2, 4)
    assert rotate_half(x).tolist() == [-3.0, -4.0, 1.0, 2.0]
    assert rotate_half(rotate_half(x)).tolist() == (-x).tolist()
