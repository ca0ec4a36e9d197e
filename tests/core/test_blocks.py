"""Blocks: the 2017 block == nn.TransformerEncoderLayer, the 2024 block == Llama's decoder layer."""

import itertools

import pytest
import torch
from torch import nn
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding

from models.core import masks
from models.core.blocks import Block, Block2017, Block2024, BlockConfig, RMSNorm, default_ffn_hidden
from models.core.positional import rope_cos_sin


def test_rmsnorm_equals_torch_rmsnorm():
    ours, reference = RMSNorm(12, eps=1e-5), nn.RMSNorm(12, eps=1e-5)
    with torch.no_grad():
        ours.weight.uniform_(0.5, 1.5)
        reference.weight.copy_(ours.weight)
    x = torch.randn(3, 5, 12) * 4
    torch.testing.assert_close(ours(x), reference(x))


def test_block2017_equals_transformer_encoder_layer():
    C, H, hidden = 16, 4, 40
    ours = Block2017(C, H, ffn_hidden=hidden).eval()
    reference = nn.TransformerEncoderLayer(
        C, H, dim_feedforward=hidden, dropout=0.0, activation="relu", batch_first=True, norm_first=False
    ).eval()
    attn = ours.attn
    with torch.no_grad():
        reference.self_attn.in_proj_weight.copy_(torch.cat([attn.w_q.weight, attn.w_k.weight, attn.w_v.weight]))
        reference.self_attn.in_proj_bias.copy_(torch.cat([attn.w_q.bias, attn.w_k.bias, attn.w_v.bias]))
        reference.self_attn.out_proj.weight.copy_(attn.w_o.weight)
        reference.self_attn.out_proj.bias.copy_(attn.w_o.bias)
        reference.linear1.weight.copy_(ours.ffn.w_up.weight)
        reference.linear1.bias.copy_(ours.ffn.w_up.bias)
        reference.linear2.weight.copy_(ours.ffn.w_down.weight)
        reference.linear2.bias.copy_(ours.ffn.w_down.bias)
        for our_norm, their_norm in [(ours.norm_attn, reference.norm1), (ours.norm_ffn, reference.norm2)]:
            our_norm.weight.uniform_(0.5, 1.5)
            our_norm.bias.uniform_(-0.5, 0.5)
            their_norm.weight.copy_(our_norm.weight)
            their_norm.bias.copy_(our_norm.bias)
    x = torch.randn(2, 7, C)
    expected = reference(x)
    torch.testing.assert_close(ours(x)[0], expected, atol=1e-5, rtol=1e-5)  # encoder: no mask
    torch.testing.assert_close(ours(x, need_weights=True)[0], expected, atol=1e-5, rtol=1e-5)


def test_block2024_equals_llama_decoder_layer():
    C, H, H_kv, hidden, theta = 32, 4, 2, 96, 500.0
    config = LlamaConfig(
        hidden_size=C, num_attention_heads=H, num_key_value_heads=H_kv, intermediate_size=hidden,
        rms_norm_eps=1e-5, attn_implementation="eager",
        rope_parameters={"rope_type": "default", "rope_theta": theta},
    )
    reference = LlamaDecoderLayer(config, layer_idx=0).eval()
    ours = Block2024(C, H, n_kv_head=H_kv, ffn_hidden=hidden, rope_theta=theta).eval()
    pairs = {
        "attn.w_q": "self_attn.q_proj", "attn.w_k": "self_attn.k_proj", "attn.w_v": "self_attn.v_proj",
        "attn.w_o": "self_attn.o_proj", "ffn.w_gate": "mlp.gate_proj", "ffn.w_up": "mlp.up_proj",
        "ffn.w_down": "mlp.down_proj", "norm_attn": "input_layernorm", "norm_ffn": "post_attention_layernorm",
    }
    with torch.no_grad():
        for name, param in reference.named_parameters():
            param.normal_(0.0, 0.1 if "proj" in name else 1.0)
        for our_name, their_name in pairs.items():
            ours.get_submodule(our_name).weight.copy_(reference.get_submodule(their_name).weight)

    T = 9
    x = torch.randn(2, T, C)
    positions = torch.arange(T)[None].expand(2, T)
    cos_sin = LlamaRotaryEmbedding(config)(x, positions)
    additive_causal = torch.full((T, T), float("-inf")).triu(1)[None, None]  # written independently of ours
    expected = reference(x, attention_mask=additive_causal, position_ids=positions, position_embeddings=cos_sin)
    rope = rope_cos_sin(torch.arange(T), C // H, theta)
    torch.testing.assert_close(ours(x, causal=True, rope=rope)[0], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours(x, causal=True, need_weights=True)[0], expected, atol=1e-5, rtol=1e-5)


def test_presets():
    old, new = BlockConfig.style_2017(64, 4), BlockConfig.style_2024(64, 4)
    assert (old.norm_placement, old.norm, old.ffn, old.n_kv_head, old.bias) == ("post", "layernorm", "relu", 4, True)
    assert (new.norm_placement, new.norm, new.ffn, new.n_kv_head, new.bias) == ("pre", "rmsnorm", "swiglu", 2, False)
    assert old.ffn_hidden == 256 and new.ffn_hidden == 192  # 8/3 * 64 = 170.7 -> multiple of 32
    assert BlockConfig.style_2017(64, 4, ffn="swiglu").ffn_hidden == default_ffn_hidden(64, "swiglu")
    with pytest.raises(ValueError, match="norm must be one of"):
        BlockConfig(16, 2, norm="batchnorm")
    with pytest.raises(ValueError, match="divisible"):
        BlockConfig(16, 4, n_kv_head=3)
    with pytest.raises(ValueError, match="even"):
        BlockConfig(12, 4, positions="rope")


CHOICES = list(itertools.product(["post", "pre"], ["layernorm", "rmsnorm"], ["sinusoidal", "learned", "rope"],
                                 [4, 2, 1], ["relu", "gelu", "swiglu"], [True, False]))


@pytest.mark.parametrize("placement,norm,positions,n_kv_head,ffn,bias", CHOICES[::5])
def test_every_switch_combination_runs_and_paths_agree(placement, norm, positions, n_kv_head, ffn, bias):
    config = BlockConfig(16, 4, n_kv_head, placement, norm, positions, ffn, bias=bias)
    block = Block(config).eval()
    x = torch.randn(2, 6, 16)
    fast, _ = block(x, causal=True)
    explicit, details = block(x, causal=True, need_weights=True)
    torch.testing.assert_close(fast, explicit, atol=1e-5, rtol=1e-5)
    assert details.weights.shape == (2, 4, 6, 6)
    assert (getattr(block.norm_attn, "bias", None) is not None) == (bias and norm == "layernorm")
    assert (block.attn.w_q.bias is not None) == bias
    assert (block.ffn.w_gate is not None) == (ffn == "swiglu")


def test_block_with_pattern_mask():
    block = Block2024(16, 4).eval()
    x = torch.randn(1, 8, 16)
    window = masks.sliding_window(8, 3)
    _, details = block(x, mask=window, need_weights=True)
    assert (details.weights[0, :, ~window] == 0).all()
