"""Bag-of-words: a sentence becomes a vector of word counts, and word order is lost.

The vocabulary is every distinct word (whitespace split) across the sentences, sorted,
so word ids are stable. Four weightings show the classic variants:

- binary:    1 if the word occurs in the sentence, else 0
- count:     how many times it occurs
- frequency: count divided by the sentence length (rows sum to 1)
- tfidf:     count x inverse document frequency, idf = ln((1 + n) / (1 + df)) + 1, rows scaled
             to unit length (the smoothed variant most libraries use)

Cosine similarity compares two vectors by angle: 1 means the same direction.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass

import numpy as np

WEIGHTINGS = ("binary", "count", "frequency", "tfidf")
_PUNCTUATION = re.compile(rf"[{re.escape(string.punctuation)}\u3000-\u303f\uff00-\uff0f\uff1a-\uff20]")
# CJK ideographs: a language written without spaces, so each character can count as a word.
_CJK = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def tokenize(sentence: str, *, lowercase: bool = True, strip_punctuation: bool = True,
             split_cjk: bool = True) -> list[str]:
    """Split a sentence into words on whitespace (after the chosen clean-ups)."""
    if lowercase:
        sentence = sentence.lower()
    if strip_punctuation:
        sentence = _PUNCTUATION.sub(" ", sentence)
    if split_cjk:
        sentence = _CJK.sub(r" \1 ", sentence)
    return sentence.split()


def build_vocabulary(tokenized: list[list[str]]) -> list[str]:
    """Every distinct word, sorted; a word's id is its position in this list."""
    return sorted({word for words in tokenized for word in words})


def count_matrix(tokenized: list[list[str]], vocabulary: list[str]) -> np.ndarray:
    """(sentences, vocabulary) matrix of raw counts."""
    index = {word: i for i, word in enumerate(vocabulary)}
    counts = np.zeros((len(tokenized), len(vocabulary)), dtype=np.float64)
    for row, words in enumerate(tokenized):
        for word, n in Counter(words).items():
            counts[row, index[word]] = n
    return counts


def inverse_document_frequency(counts: np.ndarray) -> np.ndarray:
    """Smoothed idf per word: rare words weigh more than words every sentence has."""
    n_documents = counts.shape[0]
    document_frequency = (counts > 0).sum(axis=0)
    return np.log((1 + n_documents) / (1 + document_frequency)) + 1.0


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def weight(counts: np.ndarray, weighting: str) -> np.ndarray:
    """Turn raw counts into the chosen weighting (see the module docstring)."""
    if weighting == "binary":
        return (counts > 0).astype(np.float64)
    if weighting == "count":
        return counts.copy()
    if weighting == "frequency":
        lengths = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, lengths, out=np.zeros_like(counts), where=lengths > 0)
    if weighting == "tfidf":
        return _unit_rows(counts * inverse_document_frequency(counts))
    raise ValueError(f"unknown weighting {weighting!r}; choose one of {WEIGHTINGS}")


def cosine_similarity(vectors: np.ndarray) -> np.ndarray:
    """(n, n) cosine similarity between rows; an all-zero row has similarity 0 with everything."""
    unit = _unit_rows(vectors)
    return np.clip(unit @ unit.T, -1.0, 1.0)


@dataclass(frozen=True)
class BagOfWords:
    """Everything the bag-of-words page shows, computed in one place."""

    tokenized: list[list[str]]
    vocabulary: list[str]
    counts: np.ndarray  # (sentences, vocabulary)
    vectors: np.ndarray  # (sentences, vocabulary), weighted
    similarity: np.ndarray  # (sentences, sentences)

    @property
    def document_frequency(self) -> np.ndarray:
        return (self.counts > 0).sum(axis=0)


def bag_of_words(sentences: list[str], weighting: str = "count", *, lowercase: bool = True,
                 strip_punctuation: bool = True, split_cjk: bool = True) -> BagOfWords:
    tokenized = [tokenize(s, lowercase=lowercase, strip_punctuation=strip_punctuation, split_cjk=split_cjk)
                 for s in sentences]
    vocabulary = build_vocabulary(tokenized)
    counts = count_matrix(tokenized, vocabulary)
    vectors = weight(counts, weighting)
    return BagOfWords(tokenized, vocabulary, counts, vectors, cosine_similarity(vectors))
