"""blocks_lab: counts equal the real modules and published totals; RoPE equals transformers' Llama code;
the deep-stack measurement is seeded and shows the post-norm vs pre-norm gap."""

import itertools
import json
import math

import numpy as np
import pytest
import torch

from models.labs import blocks as lab
from models.core.gpt import GPT, GPTConfig
from models.core.kv_cache import KVCache

SMALL = dict(vocab_size=50, block_size=16, n_layer=2, n_head=4, n_embd=32)


def built_parameters(config: GPTConfig) -> dict[str, int]:
    with torch.device("meta"):
        model = GPT(config)
    parts = {"total": model.num_parameters(), "per_block": sum(p.numel() for p in model.blocks[0].parameters())}
    parts["attention"] = sum(p.numel() for n, p in model.named_parameters() if ".attn." in n)
    parts["ffn"] = sum(p.numel() for n, p in model.named_parameters() if ".ffn." in n)
    return parts


@pytest.mark.parametrize("placement, norm, positions, ffn, bias",
                         list(itertools.product(("post", "pre"), ("layernorm", "rmsnorm"), ("sinusoidal", "learned", "rope"),
                                                ("relu", "swiglu"), (True, False))))
def test_counts_equal_the_modules_the_core_builds(placement, norm, positions, ffn, bias):
    for n_kv_head in (4, 2, 1):
        config = GPTConfig(**SMALL, n_kv_head=n_kv_head, norm_placement=placement, norm=norm, positions=positions,
                           ffn=ffn, bias=bias)
        stats = lab.count_parameters(config)
        built = built_parameters(config)
        assert stats.total == built["total"]
        assert stats.per_block == built["per_block"]
        assert stats.attention == built["attention"] and stats.ffn == built["ffn"]
        assert stats.total == stats.embedding + stats.positions + stats.attention + stats.ffn + stats.norms
        cache = KVCache(config.n_layer, 1, n_kv_head, 4, config.head_dim, dtype=lab.KV_DTYPE)
        assert stats.kv_bytes_per_token == cache.bytes_per_token


def test_published_totals():
    # GPT-2 small (tied embeddings, learned positions): 124,439,808 as transformers reports it
    assert lab.count_parameters(GPTConfig()).total == 124_439_808
    # Llama-3-8B: 8,030,261,248 parameters; GQA with 8 K/V heads, SwiGLU width 14336, untied head
    llama = GPTConfig(vocab_size=128256, block_size=8192, n_layer=32, n_head=32, n_kv_head=8, n_embd=4096,
                      ffn_hidden=14336, norm="rmsnorm", norm_placement="pre", positions="rope", ffn="swiglu",
                      bias=False, tie_embeddings=False)
    stats = lab.count_parameters(llama)
    assert stats.total == 8_030_261_248
    assert stats.kv_bytes_per_token == 2 * 32 * 8 * 128 * 2  # 128 KiB per token in 16-bit


def test_counts_match_transformers_gpt2_and_llama_on_meta():
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    with torch.device("meta"):
        gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_embd=32, n_layer=2, n_head=4))
        llama = LlamaForCausalLM(LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=96, num_hidden_layers=2,
                                             num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True))
    ours_gpt2 = GPTConfig(**SMALL)
    ours_llama = GPTConfig(**SMALL, n_kv_head=2, ffn_hidden=96, norm="rmsnorm", norm_placement="pre", positions="rope",
                           ffn="swiglu", bias=False)
    assert lab.count_parameters(ours_gpt2).total == gpt2.num_parameters()
    assert lab.count_parameters(ours_llama).total == llama.num_parameters()


def test_switches_and_sizes():
    assert lab.BlockChoices.style_2024().changed_from(lab.BlockChoices.style_2017()) == set(lab.BlockChoices.__dataclass_fields__)
    assert lab.kv_group_options(12) == [1, 2, 3, 4, 6, 12]
    mha = lab.block_stats("llama3_8b", lab.BlockChoices(kv_group=1))
    gqa = lab.block_stats("llama3_8b", lab.BlockChoices(kv_group=4))
    assert mha.kv_bytes_per_token == 4 * gqa.kv_bytes_per_token
    assert gqa.n_kv_head == 8
    with pytest.raises(ValueError, match="must divide"):
        lab.gpt_config("gpt2_small", lab.BlockChoices(kv_group=5))
    # SwiGLU at 8/3 width keeps the FFN about the size of the 4x ReLU one
    relu = lab.block_stats("gpt2_small", lab.BlockChoices(ffn="relu"))
    swiglu = lab.block_stats("gpt2_small", lab.BlockChoices(ffn="swiglu"))
    assert abs(swiglu.ffn / relu.ffn - 1) < 0.01


def test_context_changes_parameters_only_with_learned_positions():
    contexts = [128, 1024, 8192]
    learned = GPTConfig(**{**SMALL, "block_size": 8}, positions="learned")
    rope = GPTConfig(**{**SMALL, "block_size": 8}, positions="rope")
    counts = lab.parameters_by_context(learned, contexts)
    assert np.diff(counts).tolist() == [(1024 - 128) * 32, (8192 - 1024) * 32]
    assert len(set(lab.parameters_by_context(rope, contexts))) == 1


def test_depth_norms_are_seeded_and_show_the_gap():
    post = lab.depth_norms("post", 24)
    pre = lab.depth_norms("pre", 24)
    again = lab.depth_norms("post", 24)
    assert post == again
    assert len(post.gradient_norm) == len(pre.activation_rms) == 24
    assert abs(post.loss - pre.loss) < 0.5 and abs(post.loss - math.log(256)) < 1.0
    # post-norm outputs come straight out of a LayerNorm (weight 1, bias 0): RMS 1
    assert np.allclose(post.activation_rms, 1.0, atol=1e-3)
    # pre-norm's residual stream grows with depth when every block adds a full-size update
    assert pre.activation_rms[-1] > 2.5 * pre.activation_rms[0]
    # theory: the last layer's gradient is about sqrt(L) larger with post-norm
    ratio = lab.last_layer_gradient_ratio(post, pre)
    assert 2.0 < ratio < 10.0
    # pre-norm's gradients shrink smoothly from the bottom layer up
    assert pre.gradient_norm[0] > pre.gradient_norm[-1]
    assert lab.gradient_spread(pre) >= 1.0
    assert torch.get_num_threads() == 1  # conftest's setting was restored


def test_depth_norms_gradients_equal_autograd_reference():
    """The per-block norm equals torch's own total-norm helper on the same gradients."""
    config = GPTConfig.style_2017(vocab_size=32, block_size=8, n_layer=3, n_head=2, n_embd=16)
    result = lab._depth_norms(config, "xavier", batch_size=2, seed=5)
    torch.manual_seed(5)
    model = GPT(config).train()
    lab.initialise(model, "xavier")
    tokens = torch.randint(0, 32, (2, 9), generator=torch.Generator().manual_seed(5))
    logits, _ = model(tokens[:, :-1])
    torch.nn.functional.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten()).backward()
    expected = [float(torch.nn.utils.get_total_norm([p.grad for p in block.parameters()])) for block in model.blocks]
    assert np.allclose(result.gradient_norm, expected, rtol=1e-5)


def test_gpt2_init_hides_most_of_the_gap():
    post = lab.depth_norms("post", 24, init="gpt2")
    pre = lab.depth_norms("pre", 24, init="gpt2")
    assert lab.last_layer_gradient_ratio(post, pre) < 2.0
    with pytest.raises(ValueError):
        lab.depth_norms("pre", 2, init="nope")


def test_rope_rotation_equals_transformers_llama():
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    head_dim, n_positions, pairs = 16, 10, [0, 3, 7]
    result = lab.rope_rotation(n_positions, head_dim, pairs)
    # transformers' convention: inv_freq = 1 / theta^(2i/D), angles repeated over both halves
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, head_dim, 2).float() / head_dim))
    angles = torch.arange(n_positions).float()[:, None] * inv_freq[None]
    emb = torch.cat((angles, angles), dim=-1)[None]  # (1, T, D)
    query = torch.zeros(1, 1, n_positions, head_dim)
    query[..., : head_dim // 2] = 1.0
    rotated, _ = apply_rotary_pos_emb(query, query, emb.cos(), emb.sin())
    for index, pair in enumerate(pairs):
        expected = torch.stack([rotated[0, 0, :, pair], rotated[0, 0, :, pair + head_dim // 2]], dim=-1).numpy()
        assert np.allclose(result.points[index], expected, atol=1e-6)
        assert result.frequencies[index] == pytest.approx(float(inv_freq[pair]))
    assert np.allclose(np.linalg.norm(result.points, axis=-1), 1.0, atol=1e-6)
    with pytest.raises(ValueError):
        lab.rope_rotation(4, 8, [4])


def test_rope_scores_depend_only_on_distance():
    rope = lab.relative_scores(40, 32, "rope", seed=3)
    added = lab.relative_scores(40, 32, "sinusoidal", seed=3)
    assert rope.diagonal_spread < 1e-4
    assert np.allclose(rope.scores[1:, 1:], rope.scores[:-1, :-1], atol=1e-4)
    assert added.diagonal_spread > 0.1
    # at distance 0 the rotation cancels: the score is the plain content score
    content_q, content_k = torch.randn(2, 32, generator=torch.Generator().manual_seed(3))
    assert rope.scores[5, 5] == pytest.approx(float(content_q @ content_k) / math.sqrt(32), abs=1e-4)
    with pytest.raises(ValueError):
        lab.relative_scores(4, 8, "alibi")


def test_sinusoidal_table_equals_the_paper_formula():
    table = lab.sinusoidal_table(12, 8)
    position = np.arange(12)[:, None]
    i = np.arange(4)[None]
    assert np.allclose(table[:, 0::2], np.sin(position / 10000 ** (2 * i / 8)), atol=1e-6)
    assert np.allclose(table[:, 1::2], np.cos(position / 10000 ** (2 * i / 8)), atol=1e-6)


def write_fake_assets(folder, with_eval=True):
    for style, offset in (("2017", 0.3), ("2024", 0.0)):
        (folder / style).mkdir(parents=True)
        history = [{"step": s, "train_loss": 6 - s / 100 + offset, "heldout_loss": 6.1 - s / 100 + offset}
                   for s in (100, 200, 300)]
        log = {"parameters": 1000 + int(offset * 10), "wall_time_s": 12.5, "device": "cpu", "history": history}
        (folder / style / "train_log.json").write_text(json.dumps(log))
    if with_eval:
        models = {style: {"heldout_perplexity": math.exp(loss), "heldout_loss": loss, "parameters": 1000,
                          "heldout_tokens_scored": 777} for style, loss in (("2017", 3.4), ("2024", 3.2))}
        (folder / "eval.json").write_text(json.dumps({"models": models, "unigram": {"heldout_perplexity": 400.0}}))


def test_logs_are_read_and_missing_files_give_none(tmp_path):
    assert lab.training_curves(tmp_path) is None and lab.heldout_report(tmp_path) is None
    write_fake_assets(tmp_path, with_eval=False)
    curves = lab.training_curves(tmp_path)
    assert curves["2024"].steps == [100, 200, 300]
    assert curves["2017"].heldout_loss[0] == pytest.approx(6.1 - 1 + 0.3)
    assert lab.heldout_report(tmp_path) is None
    (tmp_path / "eval.json").unlink(missing_ok=True)
    write_fake_assets(tmp_path / "again")
    report = lab.heldout_report(tmp_path / "again")
    assert report.perplexity["2024"] == pytest.approx(math.exp(3.2))
    assert report.unigram_perplexity == 400.0 and report.tokens_scored == 777


def test_bundled_logs_are_consistent_when_present():
    curves, report = lab.training_curves(), lab.heldout_report()
    if curves is None or report is None:
        pytest.skip("the tiny models have not been trained yet")
    for style in lab.STYLES:
        assert curves[style].steps == sorted(curves[style].steps)
        assert report.perplexity[style] < report.unigram_perplexity
    assert curves["2017"].steps == curves["2024"].steps  # same budget


def test_preset_calculator_numbers():
    from models.core import params

    contexts = [512, 1024, 2048]
    growth = params.preset_context_growth("GPT-2 small", contexts)
    assert growth[1] == 0.0
    assert growth[2] == pytest.approx(100 * 1024 * 768 / 124_439_808)
    assert growth[0] < 0
    assert params.preset_context_growth("Llama-3-8B", contexts) == [0.0, 0.0, 0.0]
    costs = params.preset_costs("Llama-3-8B", 8192, contexts, bytes_per_value=2)
    assert costs.parameters == 8_030_261_248
    assert costs.kv_bytes == 8192 * 131072  # 128 KiB per token
    flops = params.flops_per_token(params.PRESETS["Llama-3-8B"], 2048)
    assert costs.flops_fixed[2] + costs.flops_attention[2] == flops["total"]
    assert costs.flops_attention[2] == 2 * costs.flops_attention[1]  # linear in the context


def test_relative_scores_limit():
    scores = lab.relative_scores(8, 16, "sinusoidal")
    assert scores.limit == pytest.approx(np.abs(scores.scores).max())


@pytest.fixture(scope="module")
def bundles():
    if lab.training_curves() is None:
        pytest.skip("the tiny models have not been trained yet")
    from models.pretrained.tiny_gpt import load_tiny_gpt

    return {style: load_tiny_gpt(style) for style in lab.STYLES}


def test_continuations_are_the_models_own_and_seeded(bundles):
    bundle = bundles["2024"]
    greedy = lab.continuation(bundle, "The city is", 6, sampled=False, seed=0)
    ids = bundle.encode("The city is")
    expected = bundle.decode(bundle.generate_ids(ids, 6, temperature=0.0)[len(ids):])
    assert greedy == expected
    first = lab.continuation(bundle, "The city is", 6, sampled=True, seed=3)
    assert first == lab.continuation(bundle, "The city is", 6, sampled=True, seed=3)
    assert lab.continuation(bundle, "", 6, sampled=True, seed=3) is None
    assert isinstance(lab.continuation(bundles["2017"], "城市 🐱 <b>", 4, sampled=False, seed=0), str)


def test_rope_degrees_per_position():
    rotation = lab.rope_rotation(3, 8, [0, 1])
    assert rotation.degrees_per_position[0] == pytest.approx(180 / math.pi)  # pair 0 turns 1 radian per step
    assert rotation.degrees_per_position[1] == pytest.approx(180 / math.pi * 10000 ** (-2 / 8))


@pytest.mark.parametrize("prompt", ["The city is", "Water", "word " * 300])  # the last runs past the context
def test_both_ways_written_together_match_one_row_at_a_time(bundles, prompt):
    """write_both (greedy and sampled rows in one batch) against GPT.generate (one row per call)
    on the prompt's last prompt_room tokens."""
    for style, bundle in bundles.items():
        written = lab.write_both(bundle, prompt, 12, seed=5)
        kept = bundle.encode(prompt)[-lab.prompt_room(bundle):]
        greedy = bundle.generate_ids(kept, 12, temperature=0.0)[len(kept):]
        sampled = bundle.generate_ids(kept, 12, **lab.SAMPLED, generator=torch.Generator().manual_seed(5))[len(kept):]
        assert written.greedy == greedy, style
        assert written.sampled == sampled, style
        assert written.prompt_cut == len(bundle.encode(prompt)) - len(kept), style


def test_short_prompts_are_not_cut_and_match_continue_text(bundles):
    bundle = bundles["2024"]
    written = lab.write_both(bundle, "The city is", 12, seed=5)
    assert written.prompt_cut == 0
    assert written.text(bundle, 12, sampled=False) == bundle.continue_text("The city is", 12, temperature=0.0)


def test_a_prompt_past_the_context_is_cut_so_the_run_fits_the_cache(bundles):
    bundle = bundles["2017"]
    room = lab.prompt_room(bundle)
    assert room + lab.written_length(lab.MAX_NEW_TOKENS) == bundle.config.block_size
    prompt = "注意力 🙂 " * 200
    written = lab.write_both(bundle, prompt, lab.written_length(lab.MAX_NEW_TOKENS), seed=1)
    assert written.prompt_cut == len(bundle.encode(prompt)) - room > 0
    assert len(written.greedy) == len(written.sampled) == lab.written_length(lab.MAX_NEW_TOKENS)


def test_a_longer_run_begins_with_the_shorter_one(bundles):
    bundle = bundles["2017"]
    longer = lab.write_both(bundle, "The city is", lab.written_length(11), seed=2)
    for sampled in (False, True):
        assert longer.text(bundle, 11, sampled=sampled) == lab.continuation(bundle, "The city is", 11,
                                                                            sampled=sampled, seed=2)
    assert [lab.written_length(n) for n in (5, 8, 9, 30, 31, 32, 60)] == [8, 8, 16, 32, 32, 32, 64]


def test_one_source_for_the_two_styles():
    """The page's switches, BlockConfig and GPTConfig all come from models.core.blocks.STYLES."""
    from models.core.blocks import STYLES, BlockConfig

    for style in lab.STYLES:
        choices = lab.BlockChoices.style(style)
        block = getattr(BlockConfig, f"style_{style}")(256, 8)
        config = getattr(GPTConfig, f"style_{style}")(n_head=8, n_embd=256)
        for name, value in STYLES[style].items():
            assert getattr(choices, name) == getattr(block, name) == getattr(config, name) == value
        assert 8 // choices.kv_group == block.n_kv_head == config.n_kv_head
    assert set(lab.BlockChoices.__dataclass_fields__) == set(STYLES["2024"]) | {"kv_group"}


@pytest.mark.parametrize("style", lab.STYLES)
def test_all_of_a_style_at_tiny_is_the_bundled_model(style):
    """The "Tiny" size with every switch at one style is the bundled model: same shape, and the
    parameter count its training log wrote (counted by the trainer from the real modules)."""
    config = lab.gpt_config("tiny", lab.BlockChoices.style(style))
    bundled = lab.bundled_config(style)
    shape_fields = [f for f in bundled.to_dict() if f != "dropout"]
    assert {f: getattr(config, f) for f in shape_fields} == {f: getattr(bundled, f) for f in shape_fields}
    log = json.loads((lab.ASSET_DIR / style / "train_log.json").read_text(encoding="utf-8"))
    assert lab.block_stats("tiny", lab.BlockChoices.style(style)).total == log["parameters"]


def test_llama_size_at_all_2024_is_llama_3_8b():
    from models.core.params import PRESETS, count_parameters

    stats = lab.block_stats("llama3_8b", lab.BlockChoices.style_2024())
    assert stats.total == count_parameters(PRESETS["Llama-3-8B"])["total"] == 8_030_261_248
    assert (stats.n_kv_head, stats.ffn_hidden) == (8, 14336)


def test_switch_effects_are_what_the_counts_say():
    effects = lab.switch_effects()
    mha = lab.block_stats("llama3_8b", lab.BlockChoices(kv_group=1)).total
    gqa = lab.block_stats("llama3_8b", lab.BlockChoices()).total
    mqa = lab.block_stats("llama3_8b", lab.BlockChoices(kv_group=32)).total
    assert effects.gqa_change == pytest.approx((gqa - mha) / mha) and effects.gqa_change < -0.05
    assert effects.mqa_change == pytest.approx((mqa - mha) / mha) and effects.mqa_change < effects.gqa_change
    assert mha - gqa == 32 * 2 * 4096 * (4096 - 1024)  # W_K and W_V lose 3 of every 4 columns
    for size in lab.SIZES:
        old = lab.block_stats(size, lab.BlockChoices.style_2017()).total
        new = lab.block_stats(size, lab.BlockChoices.style_2024()).total
        assert effects.all_changes[size] == pytest.approx(new / old - 1)
