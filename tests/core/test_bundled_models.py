"""The models that ship with the app load offline, compute finite numbers, and still score
what their logs and eval.json say they scored."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from models.core.evaluate import heldout_nll, target_tokens, unigram_nll
from models.pretrained.tiny_gpt import ASSET_DIR, STYLES, load_tiny_gpt, read_eval
from models.text.corpus import encode_documents
from models.pretrained.tokens import token_bytes, token_text
from models.train import TrainConfig, model_config, sha256_of

MAX_FILE_BYTES = 12_000_000
MAX_PARAMETERS = 6_000_000


@pytest.fixture(scope="module")
def evaluation() -> dict:
    report = read_eval()
    assert report, "assets/tinygpt/eval.json is missing: run `python -m models.train evaluate`"
    return report


@pytest.fixture(scope="module")
def bundles() -> dict:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    return {style: load_tiny_gpt(style) for style in STYLES}


@pytest.fixture(scope="module")
def heldout_ids(bundles) -> np.ndarray:
    """The held-out stream rebuilt from the raw corpus with the bundled tokenizer."""
    from models.text.corpus import load_corpus

    corpus = load_corpus()
    return encode_documents(bundles["2024"].tokenizer, [doc.text for doc in corpus.heldout])


@pytest.mark.parametrize("style", STYLES)
def test_checkpoint_files_are_small_fp16_safetensors(style):
    from safetensors import safe_open

    path = ASSET_DIR / style / "model.safetensors"
    assert path.stat().st_size <= MAX_FILE_BYTES
    with safe_open(str(path), framework="pt") as weights:
        assert {weights.get_slice(name).get_dtype() for name in weights.keys()} == {"F16"}
        assert "lm_head.weight" not in weights.keys()  # tied to the embedding table, stored once


@pytest.mark.parametrize("style", STYLES)
def test_bundled_tiny_gpt_loads_and_gives_finite_logits(bundles, style):
    bundle = bundles[style]
    model = bundle.model
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert next(model.parameters()).dtype == torch.float32
    assert bundle.parameter_count <= MAX_PARAMETERS
    logits = bundle.next_token_logits(bundle.encode("The history of"))
    assert logits.shape == (bundle.vocab_size,) and torch.isfinite(logits).all()
    assert bundle.token_strings(bundle.encode("The city is")) == ["The", " city", " is"]


def test_the_two_styles_differ_only_in_the_block_design(bundles):
    old, new = bundles["2017"].config, bundles["2024"].config
    assert (old.norm, old.norm_placement, old.positions, old.ffn) == ("layernorm", "post", "sinusoidal", "relu")
    assert (new.norm, new.norm_placement, new.positions, new.ffn) == ("rmsnorm", "pre", "rope", "swiglu")
    assert old.n_kv_head == old.n_head and new.n_kv_head < new.n_head
    for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd", "tie_embeddings"):
        assert getattr(old, name) == getattr(new, name), name
    for style, config in (("2017", old), ("2024", new)):
        assert config == model_config(style, config.vocab_size, config.dropout)  # what the script trains


def test_training_logs_share_one_budget(bundles):
    logs = {style: bundles[style].train_log for style in STYLES}
    assert logs["2017"]["train_config"] == logs["2024"]["train_config"]
    assert logs["2017"]["data"] == logs["2024"]["data"]
    assert TrainConfig(**logs["2024"]["train_config"]) == TrainConfig()  # the defaults reproduce them
    for log in logs.values():
        steps = log["train_config"]["steps"]
        assert log["history"][-1]["step"] == steps
        assert all(np.isfinite([e["train_loss"], e["heldout_loss"]]).all() for e in log["history"])
        assert log["history"][-1]["heldout_loss"] < log["history"][0]["heldout_loss"] - 1.0


def test_heldout_split_and_tokenizer_are_reproduced(heldout_ids, evaluation, bundles):
    assert len(heldout_ids) == evaluation["heldout"]["tokens"]
    assert sha256_of(heldout_ids) == evaluation["heldout"]["sha256"]
    assert sha256_of(heldout_ids) == bundles["2024"].train_log["data"]["heldout_sha256"]


@pytest.mark.parametrize("style", STYLES)
def test_heldout_loss_on_the_logged_subset_matches(bundles, heldout_ids, evaluation, style):
    recorded = evaluation["models"][style]
    windows = evaluation["subset"]["windows"]
    bundle = bundles[style]
    loss, count = heldout_nll(bundle.model, heldout_ids, bundle.config.block_size, max_windows=windows)
    assert count == recorded["subset_tokens_scored"]
    assert loss == pytest.approx(recorded["subset_loss"], abs=2e-3)
    # The full held-out value in eval.json (float32, CPU) agrees with the training log (bf16, GPU).
    assert recorded["heldout_loss"] == pytest.approx(bundle.train_log["history"][-1]["heldout_loss"], abs=0.02)


def test_models_beat_the_unigram_baseline(evaluation):
    unigram = evaluation["unigram"]["heldout_perplexity"]
    for style in STYLES:
        assert evaluation["models"][style]["heldout_perplexity"] < unigram / 5


def test_unigram_baseline_arithmetic():
    train = np.array([0, 0, 1, 2])
    # counts 2, 1, 1, 0 over 4 tokens, add-one over a vocabulary of 4: probabilities 3/8, 2/8, 2/8, 1/8
    assert unigram_nll(train, np.array([0, 3]), vocab_size=4) == pytest.approx(-(np.log(3 / 8) + np.log(1 / 8)) / 2)
    assert target_tokens(np.arange(10), block_size=4).tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_recorded_greedy_continuation_is_reproduced(bundles, evaluation):
    sample = evaluation["models"]["2024"]["samples"][0]
    bundle = bundles["2024"]
    text = sample["prompt"] + bundle.continue_text(sample["prompt"], evaluation["sampling"]["new_tokens"], temperature=0.0)
    assert text == sample["greedy"]


def test_token_text_shows_real_characters(bundles):
    tokenizer = bundles["2017"].tokenizer
    text = "Hello, 世界! naïve café 🙂\n\ttabs"
    pieces = tokenizer.encode(text).tokens
    assert b"".join(token_bytes(piece) for piece in pieces) == text.encode("utf-8")
    assert token_text("Ġthe") == " the" and token_text("Ċ") == "\n"
    assert token_text("<|endoftext|>") == "<|endoftext|>"
    assert "\\x" in token_text(tokenizer.encode("世").tokens[0])  # part of a character: bytes shown


def test_minilm_loads_offline_with_attentions():
    from models.pretrained.minilm import load_minilm

    minilm = load_minilm()
    run = minilm.run("The bank of the river was muddy.")
    T = len(run.ids)
    assert run.tokens[0] == "[CLS]" and run.tokens[-1] == "[SEP]" and "bank" in run.tokens
    assert run.hidden_states.shape == (7, T, 384) and np.isfinite(run.hidden_states).all()
    assert run.attentions.shape == (6, 12, T, T)
    np.testing.assert_allclose(run.attentions.sum(-1), 1.0, atol=1e-5)
    assert not run.is_causal and run.next_token_logits is None and not run.truncated
    long = minilm.run("word " * 300, max_tokens=128)
    assert long.truncated and len(long.ids) == 128 and long.total_tokens == 302
    assert minilm.embedding_table.shape == (30522, 384) and len(minilm.vocab) == 30522
    assert minilm.vocab[minilm.tokenizer.convert_tokens_to_ids("bank")] == "bank"
    # Contextual: "bank" gets a different last-layer vector next to "money" than next to "river".
    money = minilm.run("I put money in the bank.")
    river_vec = run.hidden_states[-1][run.tokens.index("bank")]
    money_vec = money.hidden_states[-1][money.tokens.index("bank")]
    assert not np.allclose(river_vec, money_vec)
    vectors = minilm.sentence_embeddings(["A cat sat on the mat.", "A kitten sat on a rug.", "Stock prices fell."])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_docs_state_the_measured_perplexities(evaluation):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "MODELS.md").read_text(encoding="utf-8")
    for style in STYLES:
        assert f"{evaluation['models'][style]['heldout_perplexity']:.1f}" in docs
    assert f"{evaluation['unigram']['heldout_perplexity']:.1f}" in docs
