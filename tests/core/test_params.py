"""Parameter counts equal the published totals and transformers' own models (built on the meta device)."""

import dataclasses

import pytest
import torch
from transformers import (
    BertConfig,
    BertModel,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    OpenAIGPTConfig,
    OpenAIGPTLMHeadModel,
)

from models.core.gpt import GPT, GPTConfig
from models.core.params import (
    PRESETS,
    count_parameters,
    flops_per_token,
    kv_cache_bytes_per_token,
    shape_of,
    with_kv_heads,
)

PUBLISHED = {
    "GPT-1": 116_534_784,
    "BERT-base": 109_482_240,
    "GPT-2 small": 124_439_808,
    "GPT-3 175B": 174_604_259_328,
    "Llama-3-8B": 8_030_261_248,
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_presets_equal_published_totals(name):
    parts = count_parameters(PRESETS[name])
    assert parts["total"] == PUBLISHED[name]
    assert parts["total"] == sum(value for key, value in parts.items() if key != "total")


def count_on_meta(build) -> int:
    """Build a transformers model without allocating memory and count its parameters."""
    with torch.device("meta"):
        model = build()
    return sum(p.numel() for p in model.parameters())  # tied weights are listed once


def test_cross_check_against_transformers_models():
    assert count_on_meta(lambda: GPT2LMHeadModel(GPT2Config())) == PUBLISHED["GPT-2 small"]
    assert count_on_meta(lambda: BertModel(BertConfig())) == PUBLISHED["BERT-base"]
    assert count_on_meta(lambda: OpenAIGPTLMHeadModel(OpenAIGPTConfig())) == PUBLISHED["GPT-1"]
    llama = LlamaConfig(
        vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192, tie_word_embeddings=False,
    )
    assert count_on_meta(lambda: LlamaForCausalLM(llama)) == PUBLISHED["Llama-3-8B"]


def test_gpt3_with_gpt2_layout_in_transformers():
    gpt3 = GPT2Config(n_positions=2048, n_embd=12288, n_layer=96, n_head=96)
    assert count_on_meta(lambda: GPT2LMHeadModel(gpt3)) == PUBLISHED["GPT-3 175B"]


@pytest.mark.parametrize("style", ["style_2017", "style_2024"])
def test_shape_of_our_gpt_matches_its_real_count(style):
    config = getattr(GPTConfig, style)(vocab_size=97, block_size=40, n_layer=3, n_head=4, n_embd=32)
    assert count_parameters(shape_of(config))["total"] == GPT(config).num_parameters()
    untied = GPTConfig(vocab_size=97, block_size=40, n_layer=2, n_head=4, n_embd=32, tie_embeddings=False)
    assert count_parameters(shape_of(untied))["total"] == GPT(untied).num_parameters()


def test_positions_show_in_the_breakdown():
    gpt2, llama = count_parameters(PRESETS["GPT-2 small"]), count_parameters(PRESETS["Llama-3-8B"])
    assert gpt2["positions"] == 1024 * 768 and llama["positions"] == 0
    longer = count_parameters(dataclasses.replace(PRESETS["GPT-2 small"], context=2048))
    assert longer["total"] - gpt2["total"] == 1024 * 768  # only learned positions grow with context


def test_kv_cache_and_grouped_query_attention():
    llama = PRESETS["Llama-3-8B"]
    assert kv_cache_bytes_per_token(llama) == 2 * 32 * 8 * 128 * 2  # 128 KiB per token in fp16
    mha, mqa = with_kv_heads(llama, 32), with_kv_heads(llama, 1)
    assert kv_cache_bytes_per_token(mha) == 4 * kv_cache_bytes_per_token(llama) == 32 * kv_cache_bytes_per_token(mqa)
    assert count_parameters(mha)["attention"] > count_parameters(llama)["attention"] > count_parameters(mqa)["attention"]
    with pytest.raises(ValueError, match="divide"):
        with_kv_heads(llama, 5)


def test_flops_grow_only_in_attention_scores():
    gpt2 = PRESETS["GPT-2 small"]
    short, long = flops_per_token(gpt2, 100), flops_per_token(gpt2, 1000)
    assert short["ffn"] == long["ffn"] == 2 * 12 * 2 * 768 * 3072
    assert long["attention_scores"] == 10 * short["attention_scores"]
    non_embedding = count_parameters(gpt2)["total"] - count_parameters(gpt2)["embeddings"] - count_parameters(gpt2)["positions"]
    # the rule of thumb: about 2 FLOPs per weight per token, plus the context-dependent scores
    weights_only = short["total"] - short["attention_scores"]
    assert abs(weights_only - 2 * (non_embedding + 50257 * 768)) / weights_only < 0.01


def test_llama_with_full_multi_head_attention_has_about_a_tenth_more():
    """kv_cache.variants_explain states this change; it is W_K and W_V growing from 8 to 32 heads."""
    from models.core.params import parameter_change

    llama = PRESETS["Llama-3-8B"]
    extra = 32 * 2 * 4096 * (32 - 8) * 128  # layers x (W_K, W_V) x d x extra K/V columns
    assert parameter_change(llama, 32) == pytest.approx(extra / 8_030_261_248)
    assert 0.09 < parameter_change(llama, 32) < 0.11
    assert parameter_change(llama, 8) == 0


def test_gpt1_worked_example_of_the_calculator():
    """The calculator's sentence for GPT-1: 12 blocks of about 7.1M + about 31M of token table +
    0.39M of positions = 117M; no block alone holds tens of millions."""
    from models.core.params import preset_breakdown

    parts = preset_breakdown("GPT-1")
    assert parts.per_block == 4 * 768 * 768 + 4 * 768 + 2 * 768 * 3072 + 3072 + 768 + 2 * 2 * 768 == 7_087_872
    assert (parts.n_layer, parts.embeddings, parts.positions, parts.rest) == (12, 40478 * 768, 512 * 768, 0)
    assert parts.total == 12 * parts.per_block + parts.embeddings + parts.positions == 116_534_784
    llama = preset_breakdown("Llama-3-8B")
    assert llama.rest == 128256 * 4096 + 4096  # the untied head and the final norm
