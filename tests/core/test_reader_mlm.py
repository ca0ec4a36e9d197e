"""MiniLM's fill-in-the-blank reader: the masking recipe's proportions, the frozen part equal to
MiniLM, the bundled head's recorded held-out accuracy reproduced on a bounded subset."""

import json

import numpy as np
import pytest
import torch

from models.pretrained.minilm import load_bert_encoder
from models.pretrained.minilm_mlm import (ASSET_DIR, CLS_ID, FIRST_WORD_ID, KEEP, MASK_ID, MASKED, RANDOM, SEP_ID,
                                          UNCHANGED, MlmConfig, MlmReader, load_minilm_mlm, mask_tokens,
                                          read_minilm_weights)

ROW = [CLS_ID] + list(range(2000, 2040)) + [SEP_ID]  # 40 ordinary pieces between the markers


def test_recipe_proportions_hold_over_many_seeds():
    """1,000 seeds: exactly round(15% of 40) = 6 picks per row, none on a marker; the picks split
    80 / 10 / 10 within four standard deviations of a binomial draw."""
    counts = {MASKED: 0, RANDOM: 0, UNCHANGED: 0}
    ids = torch.tensor([ROW])
    for seed in range(1000):
        new_ids, action = mask_tokens(ids, torch.Generator().manual_seed(seed))
        assert int((action != KEEP).sum()) == 6
        assert action[0, 0] == KEEP and action[0, -1] == KEEP
        assert (new_ids[action == MASKED] == MASK_ID).all()
        assert (new_ids[action == UNCHANGED] == ids[action == UNCHANGED]).all()
        assert (new_ids[action == KEEP] == ids[action == KEEP]).all()
        assert (new_ids[action == RANDOM] >= FIRST_WORD_ID).all()
        for code in counts:
            counts[code] += int((action == code).sum())
    picks = sum(counts.values())
    for code, share in ((MASKED, 0.8), (RANDOM, 0.1), (UNCHANGED, 0.1)):
        sigma = np.sqrt(share * (1 - share) / picks)
        assert abs(counts[code] / picks - share) < 4 * sigma, (code, counts[code] / picks)


def test_recipe_is_seeded_and_skips_specials_and_padding():
    ids = torch.tensor([ROW, [CLS_ID, 2001, 2002, SEP_ID] + [0] * 38])
    first = mask_tokens(ids, torch.Generator().manual_seed(3))
    again = mask_tokens(ids, torch.Generator().manual_seed(3))
    other = mask_tokens(ids, torch.Generator().manual_seed(4))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[1], other[1])
    assert int((first[1][1] != KEEP).sum()) == 1  # two ordinary pieces: round(0.3) -> at least one
    assert (first[1][1, 3:] == KEEP).all()  # [SEP] and padding never picked


def test_untrained_reader_is_exactly_minilm():
    """Before training, the reader's layers are MiniLM's: same last hidden states as BertEncoder,
    also for a padded row (padding removed from attention)."""
    encoder = load_bert_encoder()
    reader = MlmReader(read_minilm_weights(), MlmConfig()).eval()
    ids, _ = encoder.encode("The river bank was flooded after the storm.")
    expected = encoder.hidden_states(ids)[-1]
    padded = torch.tensor([ids + [0] * 5])
    with torch.no_grad():
        np.testing.assert_allclose(reader.hidden(torch.tensor([ids]))[0].numpy(), expected, atol=1e-5)
        np.testing.assert_allclose(reader.hidden(padded, padded != 0)[0, :len(ids)].numpy(), expected, atol=1e-5)


def test_training_batch_is_the_recipe_masked_afresh_at_every_step():
    """Training's batches: each step's chunks are masked by the recipe with a generator seeded by
    the step, so a resumed run repeats them exactly and two steps never share a mask."""
    from models.pretrained.mlm_training import MlmTrainConfig, batch_of, training_batch

    generator = np.random.default_rng(0)
    chunks = [np.array([CLS_ID, *generator.integers(2000, 8000, 18), SEP_ID]) for _ in range(6)]
    cfg = MlmTrainConfig(batch_size=3)
    masked, attention, truth, action = training_batch(0, chunks, cfg)
    again = training_batch(0, chunks, cfg, {})
    assert all(torch.equal(a, b) for a, b in zip((masked, attention, truth, action), again))
    assert masked.shape == (3, 20) and bool(attention.all())
    rows = [next(i for i, c in enumerate(chunks) if truth[row].tolist() == c.tolist()) for row in range(3)]
    ids, _ = batch_of([chunks[r] for r in rows])
    expected, expected_action = mask_tokens(ids, torch.Generator().manual_seed(0))  # seed 0, step 0
    assert torch.equal(masked, expected) and torch.equal(action, expected_action)
    assert int((action != KEEP).sum()) == 3 * 3  # round(15% of 18) per chunk
    seen = {tuple(training_batch(step, chunks, cfg)[3].flatten().tolist()) for step in range(4)}
    assert len(seen) == 4  # a fresh mask at every step
    second_pass = {tuple(row) for step in (2, 3) for row in training_batch(step, chunks, cfg)[2].tolist()}
    assert second_pass == {tuple(c.tolist()) for c in chunks}  # steps 2-3 are the second pass over all six


@pytest.fixture(scope="module")
def bundled():
    if not (ASSET_DIR / "scores.json").exists():
        pytest.skip("assets/mlm not trained (python -m models.train mlm)")
    return load_minilm_mlm(), json.loads((ASSET_DIR / "scores.json").read_text(encoding="utf-8"))


def test_bundled_files_hold_only_the_trained_part(bundled):
    from safetensors import safe_open

    model, _ = bundled
    with safe_open(str(ASSET_DIR / "mlm_head.safetensors"), framework="pt") as stored:
        names = set(stored.keys())
        assert all(stored.get_tensor(name).dtype == torch.float16 for name in names)
    assert names == set(model.trained_state())
    assert not any(name.startswith(f"layers.{i}.") for i in range(model.cfg.frozen_layers) for name in names)
    assert (ASSET_DIR / "mlm_head.safetensors").stat().st_size < 23_000_000  # six layers and the head in fp16


def test_recorded_accuracy_reproduces_on_the_bounded_subset(bundled):
    """The first SUBSET_CHUNKS held-out chunks, scored again from the fp16 file: the same counts."""
    from models.pretrained.mlm_training import DATA_DIR, SUBSET_CHUNKS, document_chunks, load_chunks, score

    model, scores = bundled
    if (DATA_DIR / "heldout.npz").exists():
        heldout = load_chunks(DATA_DIR / "heldout.npz")[:SUBSET_CHUNKS]
    else:  # a fresh checkout: rebuild the held-out chunks from the corpus
        from models.text.corpus import load_corpus

        heldout = [np.array(c) for c in document_chunks([d.text for d in load_corpus().heldout])][:SUBSET_CHUNKS]
    from models.pretrained.minilm import read_vocab

    vocab = read_vocab()
    unigram_top = np.array([vocab.index(token) for token in scores["unigram_tokens"]])
    again = score(model, heldout, unigram_top)
    recorded = scores["subset"]
    assert again["masked_tokens"] == recorded["masked_tokens"] > 300
    for name in ("top1", "top5", "unigram_top1", "unigram_top5"):
        assert again[name] == pytest.approx(recorded[name], abs=1.5 / recorded["masked_tokens"]), name
    assert again["loss"] == pytest.approx(recorded["loss"], rel=1e-3)
    assert again["top5"] > again["unigram_top5"]


def test_recorded_scores_reach_the_target(bundled):
    _, scores = bundled
    heldout = scores["heldout"]
    assert heldout["masked_tokens"] > 4000
    assert heldout["top5"] >= 0.45 and heldout["top1"] > 2 * heldout["unigram_top1"]


def test_page_warns_when_the_head_barely_beats_the_unigram_guess(bundled):
    from models.labs.reader import barely_beats_unigram

    _, scores = bundled
    assert barely_beats_unigram({"top5": 0.20, "unigram_top5": 0.19})
    assert not barely_beats_unigram({"top5": 0.45, "unigram_top5": 0.19})
    assert barely_beats_unigram(scores["heldout"]) == (scores["heldout"]["top5"] < scores["heldout"]["unigram_top5"] + 0.1)


def test_quality_note_follows_the_recorded_scores(bundled):
    from models.labs.reader import TARGET_TOP5, quality_note

    _, scores = bundled
    assert quality_note({"top5": 0.20, "unigram_top5": 0.19}) == "undertrained"
    assert quality_note({"top5": 0.35, "unigram_top5": 0.19}) == "weak"
    assert quality_note({"top5": 0.50, "unigram_top5": 0.19}) is None
    heldout = scores["heldout"]
    expected = ("undertrained" if heldout["top5"] < heldout["unigram_top5"] + 0.1
                else "weak" if heldout["top5"] < TARGET_TOP5 else None)
    assert quality_note(heldout) == expected
