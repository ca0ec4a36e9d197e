"""The GPT model: equals transformers' GPT-2 on copied weights, caches correctly, saves and loads."""

import json

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from models.core import masks
from models.core.gpt import GPT, GPTConfig, time_per_token, to_gpt2_state_dict
from models.core.kv_cache import KVCache

TINY = dict(vocab_size=61, block_size=24, n_layer=2, n_head=4, n_embd=32)
STYLES = {
    "2017": GPTConfig.style_2017(**TINY),
    "gpt2": GPTConfig(**TINY),
    "2024": GPTConfig.style_2024(**TINY),
}


def tiny(style, device="cpu"):
    return GPT(STYLES[style]).to(device).eval()


def test_gpt2_shaped_model_equals_transformers_gpt2():
    ours = tiny("gpt2")
    with torch.no_grad():  # move biases and norms away from their zero/one init
        for name, param in ours.named_parameters():
            if name.endswith("bias") or "norm" in name:
                param.add_(torch.randn_like(param) * 0.1)
    c = ours.config
    reference = GPT2LMHeadModel(GPT2Config(
        vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head,
        activation_function="gelu_pytorch_tanh", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=c.norm_eps, tie_word_embeddings=True,
    )).eval()
    missing, unexpected = reference.load_state_dict(to_gpt2_state_dict(ours), strict=False)
    assert not unexpected and all(name.endswith("attn.bias") or name.endswith("masked_bias") for name in missing)
    idx = torch.randint(0, c.vocab_size, (2, 11))
    with torch.no_grad():
        expected = reference(idx).logits
    torch.testing.assert_close(ours(idx)[0], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours.trace(idx).logits, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("style", list(STYLES))
def test_incremental_decoding_with_cache_equals_full_forward(style, device):
    model = tiny(style, device)
    idx = torch.randint(0, 61, (2, 20), device=device)
    with torch.no_grad():
        full, _ = model(idx)
        cache = model.new_cache(2, 20)
        pieces = [model(idx[:, :7], cache)[0]] + [model(idx[:, t : t + 1], cache)[0] for t in range(7, 20)]
    assert cache.length == 20
    torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("style", list(STYLES))
def test_greedy_generation_is_identical_with_and_without_cache(style, device):
    model = tiny(style, device)
    prompt = torch.randint(0, 61, (2, 5), device=device)
    with_cache = model.generate(prompt, 30, use_cache=True, temperature=0)  # runs past block_size 24
    without_cache = model.generate(prompt, 30, use_cache=False, temperature=0)
    assert with_cache.shape == (2, 35)
    assert torch.equal(with_cache, without_cache)
    assert torch.equal(with_cache[:, :5], prompt)


def test_seeded_sampling_generation_repeats_and_reports_each_token():
    model = tiny("2024")
    prompt = torch.zeros(1, 1, dtype=torch.long)
    seen = []
    first = model.generate(prompt, 8, temperature=1.2, top_k=10, top_p=0.9,
                           generator=torch.Generator().manual_seed(7), on_token=lambda step, ids: seen.append(step))
    again = model.generate(prompt, 8, temperature=1.2, top_k=10, top_p=0.9, generator=torch.Generator().manual_seed(7))
    assert torch.equal(first, again) and seen == list(range(8))
    with pytest.raises(ValueError, match="top_p"):
        model.generate(prompt, 2, top_p=0.0)


def test_time_per_token_gives_one_time_per_token():
    tokens, seconds = time_per_token(tiny("2017"), torch.zeros(1, 3, dtype=torch.long), 5, temperature=0)
    assert tokens.shape == (1, 8) and len(seconds) == 5 and all(s > 0 for s in seconds)


@pytest.mark.parametrize("style", list(STYLES))
def test_trace_records_every_step(style):
    model = tiny(style)
    idx = torch.randint(0, 61, (1, 9))
    trace = model.trace(idx)
    c = model.config
    assert len(trace.hidden_states) == len(trace.attentions) == c.n_layer
    assert trace.attentions[0].shape == (1, c.n_head, 9, 9)
    assert trace.keys[0].shape == (1, c.n_kv_head, 9, c.head_dim)
    assert (trace.position_embeddings is None) == (c.positions == "rope")
    torch.testing.assert_close(trace.logits, model(idx)[0], atol=1e-5, rtol=1e-5)
    for weights in trace.attentions:
        torch.testing.assert_close(weights.sum(-1), torch.ones(1, c.n_head, 9))
        assert (weights.triu(1) == 0).all()  # causal: exactly zero above the diagonal


def test_causal_model_never_looks_ahead():
    model = tiny("2024")
    idx = torch.randint(0, 61, (1, 12))
    changed = idx.clone()
    changed[0, 8] = (idx[0, 8] + 1) % 61
    before, after = model(idx)[0], model(changed)[0]
    assert torch.equal(before[:, :8], after[:, :8])
    assert not torch.allclose(before[:, 8:], after[:, 8:])


def test_pattern_mask_replaces_causal_mask_and_works_with_a_cache():
    model = tiny("gpt2")
    idx = torch.randint(0, 61, (1, 16))
    with torch.no_grad():
        torch.testing.assert_close(model(idx, mask=masks.causal(16))[0], model(idx)[0], atol=1e-6, rtol=1e-5)
        window = masks.sliding_window(24, 3)  # covers block_size; rows/columns picked per position
        full, _ = model(idx, mask=window)
        assert not torch.allclose(full, model(idx)[0])
        cache = model.new_cache(1)
        pieces = [model(idx[:, :10], cache, mask=window)[0], model(idx[:, 10:], cache, mask=window)[0]]
        torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-5, rtol=1e-5)
        trace = model.trace(idx, mask=window[:16, :16])
        assert (trace.attentions[1][0, :, ~window[:16, :16]] == 0).all()
        padded = masks.padding([16, 9], 16) & masks.causal(16)  # (B, T, T)
        logits, _ = model(torch.cat([idx, idx]), mask=padded)
        torch.testing.assert_close(logits[1, :9], logits[0, :9], atol=1e-5, rtol=1e-5)


def test_too_long_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="block_size"):
        tiny("gpt2")(torch.zeros(1, 25, dtype=torch.long))


@pytest.mark.parametrize("style", list(STYLES))
def test_save_and_load_round_trip(style, tmp_path):
    model = tiny(style)
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["n_kv_head"] == model.config.n_kv_head and config["ffn_hidden"] == model.config.ffn_hidden
    loaded = GPT.from_pretrained_dir(tmp_path)
    assert loaded.config == model.config and not loaded.training
    assert loaded.wte.weight.dtype == torch.float32
    assert loaded.lm_head.weight is loaded.wte.weight  # still tied after loading
    idx = torch.randint(0, 61, (1, 10))
    torch.testing.assert_close(loaded(idx)[0], model(idx)[0], atol=2e-3, rtol=2e-3)  # fp16 on disk
    model.save_pretrained(tmp_path / "fp32", dtype=torch.float32)
    torch.testing.assert_close(GPT.from_pretrained_dir(tmp_path / "fp32")(idx)[0], model(idx)[0])


def test_untied_model_saves_its_own_head(tmp_path):
    model = GPT(GPTConfig.style_2024(**TINY, tie_embeddings=False))
    assert model.lm_head.weight is not model.wte.weight
    model.save_pretrained(tmp_path, dtype=torch.float32)
    loaded = GPT.from_pretrained_dir(tmp_path)
    torch.testing.assert_close(loaded.lm_head.weight, model.lm_head.weight)


def test_config_presets_and_dict_round_trip():
    old, new = GPTConfig.style_2017(n_head=8), GPTConfig.style_2024(n_head=8, n_embd=512)
    assert (old.positions, old.norm_placement, old.ffn, old.ffn_hidden) == ("sinusoidal", "post", "relu", 3072)
    assert (new.positions, new.norm, new.n_kv_head, new.ffn_hidden, new.bias) == ("rope", "rmsnorm", 2, 1376, False)
    assert GPTConfig.from_dict(new.to_dict()) == new
    with pytest.raises(ValueError, match="does not know"):
        GPTConfig.from_dict({**new.to_dict(), "colour": "blue"})
    with pytest.raises(ValueError):
        GPTConfig(positions="alibi")


def test_parameter_count_of_gpt2_small_and_init():
    with torch.device("meta"):
        assert GPT(GPTConfig()).num_parameters() == 124_439_808
    model = GPT(GPTConfig(**{**TINY, "n_layer": 8}))
    assert abs(model.wte.weight.std().item() - 0.02) < 0.002
    assert abs(model.blocks[0].attn.w_o.weight.std().item() - 0.02 / 4) < 0.001  # 0.02 / sqrt(2 * 8)


def test_kv_cache_bookkeeping():
    cache = KVCache(n_layer=3, batch_size=2, n_kv_head=2, max_len=10, head_dim=4, device="cpu", dtype=torch.float32)
    assert cache.nbytes == 2 * 3 * 2 * 2 * 10 * 4 * 4 and cache.used_bytes == 0
    k = torch.randn(2, 2, 6, 4)
    for layer in range(3):
        k_all, v_all = cache.update(layer, k, k + 1)
        assert k_all.shape == (2, 2, 6, 4) and torch.equal(v_all, k + 1)
    assert cache.length == 0  # update never moves length ...
    cache.advance(6)  # ... advance does, once per forward
    assert cache.length == 6 and cache.used_bytes == cache.nbytes * 6 // 10
    k_all, _ = cache.update(0, k[:, :, :2], k[:, :, :2])
    assert torch.equal(k_all[:, :, :6], k) and k_all.shape[2] == 8
    with pytest.raises(ValueError, match="full"):
        cache.update(0, k, k)
    cache.reset()
    assert cache.length == 0


def test_gqa_model_cache_is_smaller():
    mha = GPT(GPTConfig(**TINY)).new_cache(1)
    gqa = GPT(GPTConfig.style_2024(**TINY, n_kv_head=1)).new_cache(1)
    assert mha.nbytes == 4 * gqa.nbytes
