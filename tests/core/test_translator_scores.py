"""The bundled translators: the recorded held-out scores are recomputed on a bounded subset and
must match; what the issue asks of them holds; decoding strategies behave."""

import json

import numpy as np
import pytest
import torch

from models.pretrained import translator as bundle_module
from models.pretrained import translator_training as training
from models.text.parallel import BOS, TRAIN_MAX_WORDS

ASSETS = bundle_module.ASSET_DIR


@pytest.fixture(scope="module")
def bundle():
    torch.set_num_threads(2)
    return bundle_module.load_translators()


@pytest.fixture(scope="module")
def heldout():
    return bundle_module.load_heldout()


def test_files_are_small_and_safetensors():
    total = sum((ASSETS / name / "model.safetensors").stat().st_size for name in bundle_module.MODEL_NAMES)
    assert total <= 10 * 1024 * 1024
    assert not list(ASSETS.rglob("*.pt")) and not list(ASSETS.rglob("*.bin"))


@pytest.mark.parametrize("name", bundle_module.MODEL_NAMES)
def test_subset_scores_match_the_recorded_ones(bundle, heldout, name):
    recorded = bundle.scores["models"][name]["subset"]
    subset = [heldout[i] for i in bundle.scores["subset_indices"]]
    assert len(subset) == recorded["pairs"] and 0 < len(subset) <= 40
    hypotheses = training.translate_all(bundle.models[name], subset, bundle.source_index, bundle.target_vocab)
    again = bundle_module.score_translations(subset, hypotheses)["all"]
    assert again["exact_match"] == pytest.approx(recorded["exact_match"], abs=1e-9)
    assert again["bleu"] == pytest.approx(recorded["bleu"], abs=1e-6)
    assert again["chrf"] == pytest.approx(recorded["chrf"], abs=1e-6)


def test_subset_alignment_matches_the_recorded_one(bundle, heldout):
    recorded = bundle.scores["models"]["transformer"]["subset_alignment"]
    subset = [heldout[i] for i in bundle.scores["subset_indices"]]
    target_index = {w: i for i, w in enumerate(bundle.target_vocab)}
    again = training.cross_attention_alignment(bundle.models["transformer"], subset, bundle.source_index, target_index)
    np.testing.assert_allclose(again["per_head"], recorded["per_head"], atol=1e-9)
    assert again["all_heads_average"] == pytest.approx(recorded["all_heads_average"], abs=1e-9)


def test_transformer_reaches_ninety_percent_exact_match(bundle):
    assert bundle.scores["models"]["transformer"]["train_range"]["exact_match"] >= 0.90


def test_attention_beats_the_bottleneck_on_long_sentences(bundle):
    models = bundle.scores["models"]
    longest = f"26-{TRAIN_MAX_WORDS}"
    attention, bottleneck = (models[n]["by_length"][longest] for n in ("gru_attention", "gru_bottleneck"))
    assert attention["exact_match"] > bottleneck["exact_match"] + 0.2
    assert attention["chrf"] > bottleneck["chrf"]
    alignment = models["transformer"]["alignment"]
    best = alignment["best_head"]
    assert best["accuracy"] == max(map(max, alignment["per_head"]))
    assert alignment["per_head"][best["layer"]][best["head"]] == best["accuracy"]
    assert 0 < alignment["all_heads_average"] <= 1  # averaging the weights first can beat every single head


def test_alignment_accuracy_counts_the_strongest_source_word():
    weights = np.zeros((1, 2, 3, 4))  # one layer, two heads, three target words, four source tokens
    weights[0, 0, [0, 1, 2], [2, 0, 1]] = 1.0  # head 0 looks at 2, 0, 1
    weights[0, 1, :, 3] = 1.0  # head 1 always at the last token
    accuracy = bundle_module.alignment_accuracy([weights], [(2, 0, -1)])
    np.testing.assert_allclose(accuracy, [[1.0, 0.0, 1.0]])  # the -1 row is not scored


def test_decoding_strategies(bundle, heldout):
    model = bundle.models["transformer"]
    pair = heldout[bundle.scores["subset_indices"][3]]
    ids = bundle_module.encode_source(list(pair.source), bundle.source_index)
    greedy = bundle_module.decode_steps(model, ids, 80, "greedy")
    batch = bundle_module.greedy_batch(model, torch.tensor([ids]))[0]
    assert greedy.finished and list(greedy.prefix[1:-1]) == batch
    first = bundle_module.decode_steps(model, ids, 1, "greedy")
    assert first.prefix == greedy.prefix[:2] and first.candidates[0][0] == greedy.prefix[2]
    assert abs(sum(p for _, p in first.candidates)) <= 1 + 1e-6
    beam = bundle_module.decode_steps(model, ids, 80, "beam", beam=3)
    assert beam.finished and len(beam.beams) == 3 and beam.beams[0][1] >= greedy_log_prob(model, ids, greedy.prefix) - 1e-4
    sampled = [bundle_module.decode_steps(model, ids, 80, "sample", temperature=1.5, seed=s).prefix for s in (0, 0, 1)]
    assert sampled[0] == sampled[1] and sampled[0][0] == BOS


def greedy_log_prob(model, ids, prefix) -> float:
    with torch.no_grad():
        logits = model(torch.tensor([ids]), torch.tensor([list(prefix[:-1])]))
    log_probs = torch.log_softmax(logits[0], dim=-1)
    return float(sum(log_probs[t, token] for t, token in enumerate(prefix[1:])))


def test_logs_record_threads_and_wall_time():
    for name in bundle_module.MODEL_NAMES:
        log = json.loads((ASSETS / name / "train_log.json").read_text())
        assert log["threads"] >= 1 and log["wall_time_s"] > 0 and log["history"]
        assert log["history"][-1]["train_loss"] < log["history"][0]["train_loss"]
