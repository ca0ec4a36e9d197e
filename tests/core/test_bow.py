"""Bag-of-words vectorizer: counts, weightings, similarity, and the lost word order."""

import math

import numpy as np
import pytest

from models.text.bow import WEIGHTINGS, bag_of_words, cosine_similarity, tokenize, weight


def test_tokenize_options():
    assert tokenize("My cat, is CUTE!") == ["my", "cat", "is", "cute"]
    assert tokenize("My cat, is CUTE!", lowercase=False, strip_punctuation=False) == ["My", "cat,", "is", "CUTE!"]
    assert tokenize("我的猫很可爱") == ["我", "的", "猫", "很", "可", "爱"]
    assert tokenize("我的猫很可爱", split_cjk=False) == ["我的猫很可爱"]
    assert tokenize("") == []
    assert tokenize("🐱 cat") == ["🐱", "cat"]


def test_counts_and_vocabulary_ids():
    bow = bag_of_words(["the cat the dog", "a dog"], "count")
    assert bow.vocabulary == ["a", "cat", "dog", "the"]
    np.testing.assert_array_equal(bow.counts, [[0, 1, 1, 2], [1, 0, 1, 0]])
    np.testing.assert_array_equal(bow.document_frequency, [1, 1, 2, 1])


def test_word_order_is_lost():
    bow = bag_of_words(["dog bites man", "man bites dog"], "count")
    np.testing.assert_array_equal(bow.vectors[0], bow.vectors[1])
    assert bow.similarity[0, 1] == pytest.approx(1.0)


def test_binary_and_frequency():
    counts = np.array([[2.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(weight(counts, "binary"), [[1, 0, 1], [0, 0, 0]])
    np.testing.assert_allclose(weight(counts, "frequency"), [[2 / 3, 0, 1 / 3], [0, 0, 0]])


def test_tfidf_by_hand():
    # two documents: "a b" and "a"; df(a) = 2, df(b) = 1
    bow = bag_of_words(["a b", "a"], "tfidf")
    idf_a = math.log(3 / 3) + 1
    idf_b = math.log(3 / 2) + 1
    first = np.array([idf_a, idf_b]) / math.hypot(idf_a, idf_b)
    np.testing.assert_allclose(bow.vectors[0], first)
    np.testing.assert_allclose(bow.vectors[1], [1.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(bow.vectors, axis=1), 1.0)


def test_cosine_similarity_properties():
    rng = np.random.default_rng(0)
    vectors = rng.random((5, 7))
    vectors[2] = 0.0
    similarity = cosine_similarity(vectors)
    np.testing.assert_allclose(similarity, similarity.T)
    assert np.all(similarity[2] == 0.0)
    for i in (0, 1, 3, 4):
        assert similarity[i, i] == pytest.approx(1.0)
    a, b = vectors[0], vectors[1]
    assert similarity[0, 1] == pytest.approx(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_every_weighting_handles_empty_sentences(weighting):
    bow = bag_of_words(["", "!!!", "cat"], weighting)
    assert bow.vectors.shape == (3, 1)
    assert np.all(np.isfinite(bow.similarity))


def test_unknown_weighting():
    with pytest.raises(ValueError, match="unknown weighting"):
        weight(np.zeros((1, 1)), "bm25")
