"""The KV-cache lab: both greedy loops write the core's tokens; byte counts match real caches."""

import pytest
import torch
from torch import nn

from models.core.gpt import GPT, GPTConfig
from models.core.kv_cache import KVCache
from models.labs.kv_cache import (
    MAX_UNCACHED_MACS,
    attention_variants,
    compare_generation,
    greedy_with_cache,
    gqa_heads,
    large_config,
    macs_per_token,
    max_new_tokens,
    random_model,
    preset_variants,
    uncached_macs,
)
from models.core.params import PRESETS, kv_cache_bytes_per_token, shape_of

PROMPT = [5, 17, 42, 7]


def small_config(**overrides):
    values = dict(vocab_size=300, block_size=48, n_layer=2, n_head=4, n_embd=32)
    return GPTConfig(**{**values, **overrides})


@pytest.mark.parametrize("config", [small_config(), GPTConfig.style_2024(vocab_size=300, block_size=48, n_layer=2,
                                                                            n_head=4, n_embd=32, n_kv_head=2),
                                    GPTConfig.style_2017(vocab_size=300, block_size=48, n_layer=2, n_head=4, n_embd=32)],
                         ids=["gpt2", "2024", "2017"])
def test_both_loops_write_what_the_core_generates(config, device):
    model = random_model(config, seed=1, device=device)
    calls = []
    result = compare_generation(model, PROMPT, 20, progress=lambda done, total: calls.append((done, total)))
    prompt = torch.tensor([PROMPT], device=device)
    reference_cached = model.generate(prompt, 20, use_cache=True, temperature=0)[0, 4:].tolist()
    reference_full = model.generate(prompt, 20, use_cache=False, temperature=0)[0, 4:].tolist()
    assert result.with_cache.tokens == reference_cached
    assert result.without_cache.tokens == reference_full
    assert result.identical and result.first_difference is None
    assert calls == [(i, 40) for i in range(1, 41)]
    assert result.positions == list(range(4, 24))
    assert len(result.with_cache.seconds) == len(result.without_cache.seconds) == 20
    assert all(s > 0 for s in result.with_cache.seconds + result.without_cache.seconds)
    assert result.cumulative_with[-1] == pytest.approx(result.total_with)
    assert result.speedup == pytest.approx(result.total_without / result.total_with)
    assert result.device == str(device) or result.device.startswith(device.type)


def test_cache_bytes_grow_by_a_fixed_amount_per_token():
    config = GPTConfig.style_2024(vocab_size=300, block_size=48, n_layer=3, n_head=4, n_embd=32, n_kv_head=2)
    model = random_model(config)
    result = compare_generation(model, PROMPT, 6)
    per_token = 2 * 3 * 2 * 8 * 4  # K and V, 3 layers, 2 K/V heads, head size 8, float32
    assert result.bytes_per_token == per_token == kv_cache_bytes_per_token(shape_of(config), 4)
    # after step s the cache holds the prompt and the first s generated tokens
    assert result.with_cache.cache_bytes == [(4 + s) * per_token for s in range(6)]
    assert result.without_cache.cache_bytes == [0] * 6


def test_lengths_beyond_the_context_are_refused():
    model = random_model(small_config())
    with pytest.raises(ValueError, match="context"):
        compare_generation(model, PROMPT, 45)
    with pytest.raises(ValueError):
        greedy_with_cache(model, torch.tensor([PROMPT]), 0)


def test_a_near_tie_can_make_the_runs_differ_and_is_reported():
    model = random_model(small_config())
    result = compare_generation(model, PROMPT, 5)
    result.without_cache.tokens = result.without_cache.tokens[:2] + [-1] * 3
    assert not result.identical and result.first_difference == 2


def test_work_estimate_counts_every_weight_matrix_once():
    for config in (large_config(4, 256), GPTConfig.style_2024(vocab_size=500, n_layer=3, n_head=8, n_embd=128,
                                                              n_kv_head=2, block_size=32)):
        model = GPT(config)
        matrices = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
        assert macs_per_token(config) == matrices  # lm_head is tied but still multiplied
    config = large_config(12, 768)
    assert uncached_macs(config, 4, 3) == macs_per_token(config) * (4 + 5 + 6)


def test_token_limit_keeps_the_uncached_run_within_budget():
    for layers, width in ((4, 256), (8, 512), (12, 768)):
        config = large_config(layers, width)
        for prompt_length in (1, 4, 60):
            n = max_new_tokens(config, prompt_length)
            assert 0 < n <= config.block_size - prompt_length
            assert uncached_macs(config, prompt_length, n) <= MAX_UNCACHED_MACS
            if n < config.block_size - prompt_length:
                assert uncached_macs(config, prompt_length, n + 1) > MAX_UNCACHED_MACS
    assert max_new_tokens(small_config(), 48) == 0  # no room left


def test_large_config_is_gpt2_small_at_12_x_768():
    config = large_config(12, 768)
    assert (config.n_layer, config.n_head, config.n_embd, config.head_dim) == (12, 12, 768, 64)
    with pytest.raises(ValueError):
        large_config(12, 700)


def test_kv_bytes_equal_a_transformers_llama_cache():
    """A reference nobody here wrote: the DynamicCache of transformers' Llama after a forward pass."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                         num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(config).eval()
    T = 11
    with torch.no_grad():
        cache = model(torch.arange(T)[None], use_cache=True).past_key_values
    total = sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
    assert total == 2 * 3 * 2 * 8 * 4 * T  # K and V, 3 layers, 2 K/V heads, head size 8, float32
    ours = KVCache(n_layer=3, batch_size=1, n_kv_head=2, max_len=T, head_dim=8)
    assert ours.nbytes == total


def test_llama_3_8b_cache_sizes():
    # 32 layers, 32 query heads, 8 K/V heads, head size 128, 16-bit numbers
    variants = {v.variant: v for v in attention_variants(PRESETS["Llama-3-8B"], context=8192)}
    assert variants["gqa"].n_kv_head == 8 and variants["mha"].n_kv_head == 32 and variants["mqa"].n_kv_head == 1
    assert variants["gqa"].published and not variants["mha"].published
    assert variants["gqa"].bytes_per_token == 128 * 1024  # 128 KiB per token
    assert variants["gqa"].bytes_for_context == 2**30  # 1 GiB for 8,192 tokens
    assert variants["mha"].bytes_for_context == 4 * 2**30
    assert variants["mha"].bytes_per_token == 32 * variants["mqa"].bytes_per_token


def test_gpt2_small_cache_and_the_presets_table():
    # GPT-2 small: 12 layers x 12 heads x 64, MHA as published: 36 KiB per token in 16-bit numbers
    rows = preset_variants(1024)
    gpt2 = {v.variant: v for v in rows if v.model == "GPT-2 small"}
    assert gpt2["mha"].published and gpt2["mha"].bytes_per_token == 2 * 12 * 12 * 64 * 2
    assert gpt2["gqa"].n_kv_head == 3
    assert len(rows) == 12 and sum(v.published for v in rows) == 4
    assert preset_variants(1024, 4)[0].bytes_per_token == 2 * rows[0].bytes_per_token


def test_gqa_head_count_for_models_published_with_mha():
    assert gqa_heads(12, 12) == 3  # show 4 query heads per K/V head
    assert gqa_heads(96, 96) == 24
    assert gqa_heads(32, 8) == 8  # published GQA is kept
    with pytest.raises(ValueError):
        attention_variants(PRESETS["GPT-1"], context=0)
