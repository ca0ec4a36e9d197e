"""The reader lab: clear errors for long inputs and special-token blanks, one-sided views that really
ignore the other side, segment ids equal to transformers' tokenizer, a classifier deterministic per seed."""

import json
from pathlib import Path

import numpy as np
import pytest

from models.labs import reader as lab
from models.pretrained.minilm_mlm import MAX_POSITIONS, read_tokenizer

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "The dog chased the [MASK] because it was hungry."


@pytest.fixture(scope="module")
def tokenizer():
    return read_tokenizer()


@pytest.fixture(scope="module")
def fill_mask():
    from models.pretrained.minilm_mlm import ASSET_DIR, load_fill_mask

    if not (ASSET_DIR / "scores.json").exists():
        pytest.skip("assets/mlm not trained (python -m models.train mlm)")
    return load_fill_mask()


def test_input_past_the_position_limit_gets_a_clear_error(tokenizer):
    ok = lab.read_sentence(tokenizer, "word " * (MAX_POSITIONS - 2))
    assert len(ok.ids) == MAX_POSITIONS
    with pytest.raises(lab.ReaderInputError) as error:
        lab.read_sentence(tokenizer, "word " * (MAX_POSITIONS - 1))
    assert error.value.key == "err_too_long" and error.value.values == {"n": MAX_POSITIONS + 1, "limit": MAX_POSITIONS}
    with pytest.raises(lab.ReaderInputError, match="err_too_long"):
        lab.sentence_pair(tokenizer, "word " * 300, "word " * 300)
    with pytest.raises(lab.ReaderInputError, match="err_too_long"):
        lab.read_sentence(tokenizer, "猫" * 600)  # one piece per character


def test_a_blank_on_a_special_token_gets_a_clear_error(tokenizer):
    sentence = lab.read_sentence(tokenizer, "the [mask] sat on the mat [CLS] 😀")
    assert sentence.typed_masks == [2]  # [mask] in any case counts
    for position, token in ((0, "[CLS]"), (len(sentence.ids) - 1, "[SEP]"), (7, "[CLS]"), (8, "[UNK]")):
        with pytest.raises(lab.ReaderInputError) as error:
            lab.blank_positions(sentence, [position])
        assert error.value.key == "err_special" and error.value.values == {"token": token}
    assert lab.blank_positions(sentence, [3]) == [2, 3]
    with pytest.raises(lab.ReaderInputError, match="err_no_mask"):
        lab.blank_positions(lab.read_sentence(tokenizer, "no blank here"), [])
    with pytest.raises(lab.ReaderInputError, match="err_too_many_masks"):
        lab.blank_positions(lab.read_sentence(tokenizer, "[MASK] " * (lab.MAX_MASKS + 1)), [])


def test_one_sided_views_ignore_the_other_side(fill_mask):
    """Only-left guesses do not move when the words on the right change, and vice versa; both-sides ones do."""
    tokenizer = fill_mask.tokenizer
    base = lab.fill_in(fill_mask, lab.read_sentence(tokenizer, SENTENCE), k=10).blanks[0]
    right_changed = lab.fill_in(fill_mask, lab.read_sentence(
        tokenizer, "The dog chased the [MASK] because it was tired."), k=10).blanks[0]
    left_changed = lab.fill_in(fill_mask, lab.read_sentence(
        tokenizer, "The boy chased the [MASK] because it was hungry."), k=10).blanks[0]

    def probabilities(blank, view):
        return np.array([g.probability for g in blank.guesses[view]]), [g.token for g in blank.guesses[view]]

    for changed, same_view, moved_view in ((right_changed, "left", "right"), (left_changed, "right", "left")):
        p, tokens = probabilities(base, same_view)
        q, other_tokens = probabilities(changed, same_view)
        assert tokens == other_tokens
        np.testing.assert_allclose(p, q, atol=1e-6)
        assert not np.allclose(probabilities(base, "both")[0], probabilities(changed, "both")[0], atol=1e-4)
        assert not np.allclose(probabilities(base, moved_view)[0], probabilities(changed, moved_view)[0], atol=1e-4)


def test_hidden_chip_reports_the_true_pieces_probability(fill_mask):
    sentence = lab.read_sentence(fill_mask.tokenizer, "The cat sat on the mat.")
    blank = lab.fill_in(fill_mask, sentence, [2]).blanks[0]
    assert blank.true_token == "cat"
    probabilities = fill_mask.model.fill([m if i != 2 else 103 for i, m in enumerate(sentence.ids)])
    assert blank.true_probability["both"] == pytest.approx(float(probabilities[2, sentence.ids[2]]), rel=1e-5)
    assert [g.probability for g in blank.guesses["both"]] == sorted((g.probability for g in blank.guesses["both"]),
                                                                    reverse=True)


def test_segment_ids_match_transformers(tokenizer):
    from transformers import AutoTokenizer

    from models.pretrained.minilm import minilm_path

    reference = AutoTokenizer.from_pretrained(str(minilm_path()))("The dog ran.", "It was hungry at night.")
    pair = lab.sentence_pair(tokenizer, "The dog ran.", "It was hungry at night.")
    assert pair.ids == reference["input_ids"] and pair.segments == reference["token_type_ids"]
    assert pair.tokens[0] == "[CLS]" and pair.tokens.count("[SEP]") == 2


def test_recipe_shares_on_a_sentence(tokenizer):
    sentence = lab.read_sentence(tokenizer, "Many tasks only need a model that understands the text it is given.")
    shares = lab.recipe_shares(sentence, seed=0, runs=2000)
    assert shares["picked"] == pytest.approx(round(0.15 * sentence.ordinary) / sentence.ordinary)
    assert shares["masked"] == pytest.approx(0.8, abs=0.03)
    assert shares["random"] == pytest.approx(0.1, abs=0.02) and shares["unchanged"] == pytest.approx(0.1, abs=0.02)
    recipe = lab.masking_recipe(sentence, [str(i) for i in range(30522)], seed=5)
    assert recipe.picked == lab.masking_recipe(sentence, [str(i) for i in range(30522)], seed=5).picked


def test_pair_similarity_is_the_cosine_of_the_two_unit_vectors():
    vectors = {"a": np.array([0.6, 0.8, 0.0]), "b": np.array([0.0, 1.0, 0.0]), "c": np.array([0.0, 0.0, 1.0])}
    asked = []

    def embed(texts):
        asked.append(list(texts))
        return np.stack([vectors[text] for text in texts])

    assert lab.pair_similarity(embed, "a", "b") == pytest.approx(0.8)
    assert lab.pair_similarity(embed, "b", "a") == pytest.approx(0.8)
    assert lab.pair_similarity(embed, "a", "c") == 0.0
    assert lab.pair_similarity(embed, "a", "a") == pytest.approx(1.0)
    assert asked[0] == ["a", "b"]  # one call for both sentences
    assert isinstance(lab.pair_similarity(embed, "a", "b"), float)


def test_story_pairs_are_real_next_sentences_and_other_stories():
    stories = [[f"s{s} sentence {i}" for i in range(4)] for s in range(6)]
    true_pairs, random_pairs = lab.story_pairs(stories, 10, seed=1)
    assert len(true_pairs) == len(random_pairs) == 10
    for (a, b), (a2, c) in zip(true_pairs, random_pairs):
        story, index = a.split()[0], int(a.split()[-1])
        assert b == f"{story} sentence {index + 1}" and a2 == a and not c.startswith(story + " ")
    assert lab.story_pairs(stories, 10, seed=1) == (true_pairs, random_pairs)


def test_classifier_is_deterministic_per_seed():
    generator = np.random.default_rng(0)
    features = generator.normal(size=(20, 8)).astype(np.float32)
    labels = [0] * 10 + [1] * 10
    first = lab.train_classifier(features, labels, 2, seed=7)
    again = lab.train_classifier(features, labels, 2, seed=7)
    other = lab.train_classifier(features, labels, 2, seed=8)
    assert np.array_equal(first.weights, again.weights) and first.losses == again.losses
    assert not np.array_equal(first.weights, other.weights)
    assert first.losses[-1] < first.losses[0]
    progress = []
    lab.train_classifier(features, labels, 2, seed=7, on_progress=progress.append)
    assert progress[-1] == 1.0 and progress == sorted(progress)


def test_bow_vectors_use_only_training_words():
    vectors = lab.bow_vectors(["good food", "bad food"], ["good good", "unknown words"])
    assert np.allclose(np.linalg.norm(vectors[0]), 1) and not vectors[1].any()


def test_few_shot_curve_on_the_bundled_set():
    """Deterministic, one run per seed and size; a fake embedding (bag-of-words itself) keeps it fast."""
    data = lab.labelled_set(json.loads((REPO / "assets" / "reader" / "reviews.json").read_text(encoding="utf-8")))
    assert len(data.pool) == 64 and len(data.heldout) == 32
    assert not {text for text, _ in data.pool} & {text for text, _ in data.heldout}
    pool_texts = [text for text, _ in data.pool]

    def embed(texts):
        return lab.bow_vectors(pool_texts, texts)

    first = lab.few_shot_curve(data, embed, sizes=(4, 32), seeds=2)
    again = lab.few_shot_curve(data, embed, sizes=(4, 32), seeds=2)
    assert first["minilm"].shape == (2, 2)
    assert all(np.array_equal(first[name], again[name]) for name in first)
