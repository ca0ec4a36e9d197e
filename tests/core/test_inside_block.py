"""Inside a block: the walk is the model's own forward, the lens ends at the model's logits, the FFN
works position by position (exactly), parameter shares and Mixtral's totals, the MoE layer and its
recorded held-out perplexity."""

import math

import numpy as np
import pytest
import torch

from models.core.blocks import FeedForward
from models.core.moe import MIXTRAL_8X7B, MoEFeedForward, Routing, expert_load, load_balancing_loss, moe_parameter_count
from models.core.params import PRESETS, count_parameters
from models.labs import inside_block as lab
from models.pretrained.tiny_gpt import load_tiny_gpt

PROMPT = "The dog chased the cat because it was hungry."
STYLES = ("2017", "2024")


@pytest.fixture(scope="module")
def bundles():
    return {style: load_tiny_gpt(style) for style in STYLES}


@pytest.mark.parametrize("style", STYLES)
def test_walk_and_lens_give_the_models_own_logits(bundles, style):
    bundle = bundles[style]
    ids = bundle.encode(PROMPT)
    reference, _ = bundle.model(torch.tensor([ids]))
    assert torch.equal(lab.walk(bundle.model, ids).logits, reference[0])
    for position in (0, len(ids) - 1):
        view = lab.logit_lens(bundle.model, ids, position)
        assert view.lens_logits.shape[0] == bundle.config.n_layer + 1
        assert torch.equal(view.lens_logits[-1], reference[0, position]), "the lens at the last layer is the model"
        assert view.final_id == int(reference[0, position].argmax()) and view.final_rank[-1] == 1
        assert not torch.equal(view.lens_logits[-2], reference[0, position]), "earlier layers differ"


@pytest.mark.parametrize("style", STYLES)
def test_ffn_is_position_by_position_and_attention_is_not(bundles, style):
    bundle = bundles[style]
    ids = bundle.encode(PROMPT)
    changed = 3
    for layer in (0, bundle.config.n_layer - 1):
        proof = lab.position_proof(bundle.model, ids, changed, bundle.encode(" bird")[0], layer)
        assert proof.ffn_delta[changed] > 0 and proof.attention_delta[changed] > 0
        assert np.all(np.delete(proof.ffn_delta, changed) == 0.0), "bit for bit identical elsewhere"
        assert proof.ffn_elsewhere == 0.0
        assert np.all(proof.attention_delta[changed + 1:] > 0), "every later word heard the change"
        assert np.all(proof.attention_delta[:changed] == 0.0), "causal: earlier words did not"


@pytest.mark.parametrize("style", STYLES)
def test_ffn_view_recomputes_the_ffn(bundles, style):
    bundle = bundles[style]
    ids = bundle.encode(PROMPT)
    view = lab.ffn_on_token(bundle.model, ids, 5, 2)
    ffn = bundle.model.blocks[2].ffn
    with torch.no_grad():
        expected = ffn(torch.from_numpy(view.input)).numpy()
    np.testing.assert_allclose(view.output, expected, atol=1e-6)
    assert 0 < view.firing_share < 1 and view.n_hidden == bundle.config.ffn_hidden
    assert view.firing_share == pytest.approx(float(np.mean(view.pre_activation > 0)))
    assert (view.up is not None) == (style == "2024")


def test_parameter_shares_equal_models_params(bundles):
    table = lab.parameter_shares({style: bundles[style].config for style in STYLES})
    for name in lab.PRESET_NAMES:
        parts = count_parameters(PRESETS[name])
        assert table[name]["total"] == parts["total"]
        assert table[name]["block_ffn"] * PRESETS[name].n_layer == parts["ffn"]
        assert table[name]["embeddings"] + table[name]["attention"] + table[name]["ffn"] + table[name]["norms"] \
            == parts["total"]
    assert table["GPT-2 small"]["total"] == 124_439_808 and table["Llama-3-8B"]["total"] == 8_030_261_248
    for style in STYLES:
        assert table[style]["total"] == bundles[style].model.num_parameters()
        ffn = sum(p.numel() for p in bundles[style].model.blocks[0].ffn.parameters())
        assert table[style]["block_ffn"] == ffn
    # FFN about 2/3 of a block in every preset
    assert all(0.6 < table[n]["block_ffn"] / (table[n]["block_ffn"] + table[n]["block_attention"]) < 0.85
               for n in lab.PRESET_NAMES)


def test_mixtral_total_and_active_match_the_published_numbers():
    counts = lab.mixtral_calculator(8, 2)
    assert round(counts["total"] / 1e9, 1) == 46.7
    assert round(counts["active"] / 1e9, 1) == 12.9
    one = moe_parameter_count(MIXTRAL_8X7B, 1, 1)
    assert one["dense"] == count_parameters(MIXTRAL_8X7B)["total"]
    assert one["total"] == one["active"] == one["dense"] + one["router"]
    with pytest.raises(ValueError):
        moe_parameter_count(MIXTRAL_8X7B, 4, 5)


@pytest.mark.parametrize("kind", ["relu", "swiglu"])
def test_experts_cut_from_a_dense_ffn_add_back_to_it(kind):
    dense = FeedForward(16, 32, kind, bias=kind == "relu")
    torch.nn.init.normal_(dense.w_down.bias if kind == "relu" else dense.w_down.weight)
    moe = MoEFeedForward.from_dense(dense, n_experts=4, top_k=4)
    torch.nn.init.zeros_(moe.router.weight)  # equal scores: every expert weighted 1/4
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        torch.testing.assert_close(moe(x), dense(x), atol=1e-5, rtol=1e-5)
        top2 = MoEFeedForward.from_dense(dense, n_experts=4, top_k=2)
        y, routing = top2.mix(x)
    assert routing.experts.shape == (10, 2) and torch.allclose(routing.weights.sum(-1), torch.ones(10))
    assert not torch.allclose(y, dense(x).detach(), atol=1e-3), "top-2 of 4 drops half the hidden units"


def test_load_balancing_loss_is_one_when_even_and_large_when_not():
    n, experts = 8, 4
    even = Routing(probs=torch.full((n, experts), 0.25), experts=torch.arange(n).remainder(experts)[:, None],
                   weights=torch.ones(n, 1))
    assert load_balancing_loss(even, experts).item() == pytest.approx(1.0)
    one = Routing(probs=torch.eye(experts)[[0] * n], experts=torch.zeros(n, 1, dtype=torch.long),
                  weights=torch.ones(n, 1))
    assert load_balancing_loss(one, experts).item() == pytest.approx(experts)
    assert expert_load(one, experts).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_trained_moe_perplexity_reproduces_on_the_subset(bundles):
    from models.core.evaluate import heldout_nll
    from models.pretrained.tiny_moe import MOE_DIR, corpus_ids, load_moe, sha256_of, swapped_model

    if not (MOE_DIR / "moe.safetensors").exists():
        pytest.skip("assets/moe not built")
    moe, config, train_log = load_moe()
    dense = bundles[config["style"]].model
    _, heldout = corpus_ids(bundles[config["style"]].tokenizer)
    assert sha256_of(heldout) == train_log["heldout"]["sha256"]
    windows = train_log["heldout"]["subset_windows"]
    scores = train_log["scores"]
    for name, model in (("dense", dense), ("moe", swapped_model(dense, moe, config["layer"]))):
        nll, count = heldout_nll(model, heldout, dense.config.block_size, max_windows=windows, batch_size=8)
        assert count == scores[name]["subset_tokens_scored"]
        assert math.exp(nll) == pytest.approx(scores[name]["subset_perplexity"], rel=1e-4)
    assert scores["moe"]["heldout_perplexity"] < scores["split_untrained"]["heldout_perplexity"], "training helped"
    assert train_log["threads"] <= 2 and train_log["wall_time_s"] < 20 * 60 * 3
    routing = lab.moe_routing(swapped_model(dense, moe, config["layer"]), bundles["2024"].encode(PROMPT),
                              config["layer"])
    assert routing.experts.shape[1] == config["top_k"] and routing.load.sum() == pytest.approx(1.0)


def test_docs_state_the_recorded_moe_perplexities():
    from pathlib import Path

    from models.pretrained.tiny_moe import MOE_DIR

    if not (MOE_DIR / "train_log.json").exists():
        pytest.skip("assets/moe not built")
    import json

    scores = json.loads((MOE_DIR / "train_log.json").read_text())["scores"]
    docs = (Path(__file__).resolve().parents[2] / "docs" / "MODELS.md").read_text()
    for name in ("dense", "moe", "split_untrained", "no_ffn"):
        assert f"{scores[name]['heldout_perplexity']:.2f}" in docs
