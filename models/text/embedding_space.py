"""Word embedding spaces: every word is a point, and directions carry meaning.

A *space* is just a vocabulary and a matrix with one row per word. It can come from
word2vec trained in the app or from a pretrained model's token-embedding table; every
function here works on either, with plain numpy (the contextual part is handed an encoder).

- cosine similarity compares directions: 1 = same direction, 0 = unrelated, -1 = opposite
- nearest neighbours: the words whose vectors point the most the same way
- analogy a - b + c: "king - man + woman" lands near "queen" when the space has learnt
  a consistent man -> woman direction; the three input words are never the answer
- attribute axis: the direction from one word set's mean to another's (animal -> fruit);
  projecting a word on it shows how much of that property the space gives it
- PCA: the 2 or 3 directions along which the chosen words spread the most, for a picture
- sentence vector: the average of its words' vectors (order is lost, as in bag-of-words)
- static vs contextual: word2vec has one vector per word; a Transformer gives a word a
  different vector in every sentence, and the difference grows layer by layer
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True, eq=False)
class WordSpace:
    """A vocabulary (most frequent first where known) and one vector per word, shape (V, D)."""

    words: tuple[str, ...]
    vectors: np.ndarray  # (V, D) float32
    name: str = ""
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(f"vectors must be (len(words), D); got {self.vectors.shape} for {len(self.words)} words")

    @cached_property
    def index(self) -> dict[str, int]:
        return {word: i for i, word in enumerate(self.words)}

    @cached_property
    def unit(self) -> np.ndarray:
        """Rows scaled to length 1 (a zero row stays zero), so a dot product is a cosine."""
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return (self.vectors / np.where(norms == 0, 1, norms)).astype(np.float32)

    @property
    def dimension(self) -> int:
        return self.vectors.shape[1]

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def split_known(self, words) -> tuple[list[str], list[str]]:
        """(in-vocabulary words, out-of-vocabulary words), order kept, duplicates dropped."""
        known, missing = [], []
        for word in dict.fromkeys(words):
            (known if word in self.index else missing).append(word)
        return known, missing


def tokenize_words(text: str) -> list[str]:
    """Lower-case words made of letters (an apostrophe inside is kept: "don't")."""
    return _WORD.findall(text.lower())


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, N) pairwise cosine similarities; a zero vector is 0 against everything."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1, norms)
    return np.clip(unit @ unit.T, -1.0, 1.0)


def nearest_to_vector(space: WordSpace, vector: np.ndarray, k: int = 10,
                      exclude: tuple[str, ...] = ()) -> list[tuple[str, float]]:
    """The k words whose vectors have the highest cosine with ``vector`` (excluded words skipped)."""
    norm = np.linalg.norm(vector)
    if norm == 0:
        return []
    scores = space.unit @ (vector / norm).astype(np.float32)  # (V,)
    for word in exclude:
        if word in space.index:
            scores[space.index[word]] = -np.inf
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(space.words[i], float(scores[i])) for i in top]


def nearest_neighbours(space: WordSpace, word: str, k: int = 10) -> list[tuple[str, float]]:
    """The k nearest words to ``word`` by cosine, the word itself left out; [] when it is unknown."""
    if word not in space.index:
        return []
    return nearest_to_vector(space, space.vectors[space.index[word]], k, exclude=(word,))


def nearest_neighbours_of_many(space: WordSpace, words: list[str], k: int = 10) -> list[list[tuple[str, float]]]:
    """``nearest_neighbours`` of every word at once: one (n, D) x (D, V) product instead of n
    passes over the vocabulary. The same words in the same order ([] for an unknown word)."""
    rows = [space.index.get(word) for word in words]
    known = [row for row in rows if row is not None]
    k = min(k, len(space.words) - 1)
    if k <= 0 or not known:
        return [[] for _ in words]
    vectors = space.vectors[known]
    norms = np.array([[np.linalg.norm(vector)] for vector in vectors])  # row by row, as nearest_neighbours does
    queries = (vectors / np.where(norms == 0, 1, norms).astype(vectors.dtype)).astype(np.float32)
    scores = queries @ space.unit.T  # (n, V)
    scores[np.arange(len(known)), known] = -np.inf  # a word is not its own neighbour
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    found = {}
    for query, (row, candidates) in enumerate(zip(known, top)):
        ordered = candidates[np.argsort(-scores[query, candidates], kind="stable")]
        found[row] = [] if norms[query, 0] == 0 else [(space.words[i], float(scores[query, i])) for i in ordered]
    return [found.get(row, []) for row in rows]


def analogy(space: WordSpace, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
    """Answers to "a - b + c" (king - man + woman), the three inputs excluded.

    Built from unit vectors, as in Mikolov et al.'s evaluation, so a long vector cannot
    dominate the sum. [] when one of the words is out of vocabulary.
    """
    if any(word not in space.index for word in (a, b, c)):
        return []
    unit, index = space.unit, space.index
    target = unit[index[a]] - unit[index[b]] + unit[index[c]]
    return nearest_to_vector(space, target, k, exclude=(a, b, c))


@dataclass(frozen=True)
class Projection:
    coordinates: np.ndarray  # (N, n_components)
    explained: np.ndarray  # (n_components,) share of the variance each axis keeps


def pca(vectors: np.ndarray, n_components: int = 2) -> Projection:
    """Project rows onto their top principal directions (centred; signs fixed for stability).

    With fewer points than components the missing axes are zero. The directions are the top
    eigenvectors of the smaller of (points x points) and (dimensions x dimensions) products of
    the centred rows: the same axes an SVD gives, without LAPACK's SVD, whose threads can stall
    for a second on a busy machine.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    n_points, n_dims = vectors.shape
    centred = vectors - vectors.mean(axis=0, keepdims=True)
    coordinates = np.zeros((n_points, n_components))
    explained = np.zeros(n_components)
    if n_points < 2:
        return Projection(coordinates, explained)
    kept = min(n_components, n_points, n_dims)
    if n_points <= n_dims:
        values, u = np.linalg.eigh(centred @ centred.T)  # ascending; u: left singular vectors
        values, u = np.clip(values[::-1][:kept], 0, None), u[:, ::-1][:, :kept]
        values = np.where(values > values[0] * 1e-12, values, 0)  # rounding noise of an empty axis is 0
        projected = u * np.sqrt(values)
        loadings = u.T @ centred  # (kept, D): each axis's direction, times its length
    else:
        values, v = np.linalg.eigh(centred.T @ centred)  # v: the directions themselves
        values, loadings = np.clip(values[::-1][:kept], 0, None), v[:, ::-1][:, :kept].T
        projected = centred @ loadings.T
    # Make each axis's largest-magnitude loading positive, so the picture does not flip.
    signs = np.sign(loadings[np.arange(kept), np.abs(loadings).argmax(axis=1)])
    signs[signs == 0] = 1
    coordinates[:, :kept] = projected * signs
    total = float((centred**2).sum())
    if total > 0:
        explained[:kept] = values / total
    return Projection(coordinates, explained)


@dataclass(frozen=True)
class AxisResult:
    words: list[str]  # words placed on the axis
    positions: np.ndarray  # (N,) cosine of each word with the axis: < 0 towards left, > 0 towards right
    left_used: list[str]
    right_used: list[str]
    missing: list[str]  # every word (poles and words) not in the vocabulary
    left_positions: np.ndarray  # (len(left_used),) where the pole words themselves fall
    right_positions: np.ndarray  # (len(right_used),)


def attribute_axis(space: WordSpace, left: list[str], right: list[str], words: list[str]) -> AxisResult | None:
    """Place ``words`` on the direction from the mean of ``left`` to the mean of ``right``.

    None when either pole has no known word (there is no axis to draw).
    """
    left_used, left_missing = space.split_known(left)
    right_used, right_missing = space.split_known(right)
    placed, words_missing = space.split_known(words)
    missing = list(dict.fromkeys(left_missing + right_missing + words_missing))
    if not left_used or not right_used:
        return None
    unit, index = space.unit, space.index
    direction = unit[[index[w] for w in right_used]].mean(axis=0) - unit[[index[w] for w in left_used]].mean(axis=0)
    norm = np.linalg.norm(direction)
    axis = direction / norm if norm else direction

    def place(words: list[str]) -> np.ndarray:
        return (unit[[index[w] for w in words]] @ axis).astype(np.float64) if words else np.zeros(0)

    return AxisResult(placed, place(placed), left_used, right_used, missing, place(left_used), place(right_used))


@dataclass(frozen=True)
class SentenceVectors:
    vectors: np.ndarray  # (S, D) average word vector per sentence (zeros when no word is known)
    used: list[list[str]]  # the in-vocabulary words each average was taken over
    missing: list[list[str]]  # the words each sentence had that the space does not know
    similarity: np.ndarray  # (S, S) cosine between sentence vectors


def sentence_vectors(space: WordSpace, sentences: list[str]) -> SentenceVectors:
    """Each sentence -> the mean of its known words' vectors; pairwise cosine between them."""
    vectors = np.zeros((len(sentences), space.dimension), dtype=np.float64)
    used, missing = [], []
    for row, sentence in enumerate(sentences):
        words = tokenize_words(sentence)
        known = [w for w in words if w in space.index]
        used.append(known)
        missing.append([w for w in dict.fromkeys(words) if w not in space.index])
        if known:
            vectors[row] = space.vectors[[space.index[w] for w in known]].mean(axis=0)
    return SentenceVectors(vectors, used, missing, cosine_matrix(vectors))


# --- static vs contextual ------------------------------------------------------------------

def word_token_positions(offsets: list[tuple[int, int]], sentence: str, word: str) -> list[int]:
    """Token positions that cover the first whole-word occurrence of ``word`` (case-insensitive).

    ``offsets`` are a tokenizer's character spans per token ((0, 0) for special tokens).
    """
    match = re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", sentence.lower())
    if not match:
        return []
    start, end = match.span()
    return [i for i, (s, e) in enumerate(offsets) if e > s and s < end and e > start]


@dataclass(frozen=True)
class ContextualVectors:
    sentences: list[str]  # sentences that contain the word
    skipped: list[str]  # sentences without the word (or empty)
    vectors: np.ndarray  # (layers + 1, S, D): embedding output, then each layer's output
    similarity: np.ndarray  # (layers + 1, S, S) cosine between the word's vectors in the sentences

    @property
    def mean_by_layer(self) -> np.ndarray:
        """(layers + 1,) mean cosine over pairs of different sentences (1.0 would mean one vector)."""
        count = self.similarity.shape[-1]
        if count < 2:
            return np.ones(self.similarity.shape[0])
        off_diagonal = ~np.eye(count, dtype=bool)
        return self.similarity[:, off_diagonal].mean(axis=1)

    @property
    def lowest_by_layer(self) -> np.ndarray:
        """(layers + 1,) the least similar pair of sentences at each layer."""
        if self.similarity.shape[-1] < 2:
            return np.ones(self.similarity.shape[0])
        return self.similarity.min(axis=(1, 2))


def contextual_word_vectors(encode, sentences: list[str], word: str) -> ContextualVectors:
    """The vector of ``word`` in each sentence at every layer of a BERT-style encoder.

    ``encode(sentence)`` returns each token's character span ((0, 0) for special tokens) and
    the encoder's hidden states, (layers + 1, T, D) (``models.pretrained.minilm.BertEncoder.offsets_and_states``).
    A word split into several WordPiece tokens is represented by the mean of its pieces.
    Layer 0 is the embedding output (token + position + segment, normalised), so even there
    the same word differs slightly by position; the layers after it mix in the context.
    """
    kept, skipped, per_sentence = [], [], []
    for sentence in sentences:
        offsets, states = encode(sentence)
        positions = word_token_positions(offsets, sentence, word)
        if not positions:
            skipped.append(sentence)
            continue
        per_sentence.append(np.asarray(states, dtype=np.float32)[:, positions].mean(axis=1))  # (layers + 1, D)
        kept.append(sentence)
    if not per_sentence:
        return ContextualVectors([], skipped, np.zeros((0, 0, 0)), np.zeros((0, 0, 0)))
    vectors = np.stack(per_sentence, axis=1)  # (layers + 1, S, D)
    similarity = np.stack([cosine_matrix(layer) for layer in vectors])
    return ContextualVectors(kept, skipped, vectors, similarity)


@dataclass(frozen=True)
class WordFromPieces:
    """A word the tokenizer splits, made whole again by averaging its pieces' vectors."""

    word: str
    pieces: list[str]  # the word's pieces as written in it ("vocal", "ization")
    layer: int  # which hidden state: 0 the embedding output, then each layer's output (-1 the last)
    piece_vectors: np.ndarray  # (P, D) each piece's vector at that layer
    vector: np.ndarray  # (D,) their mean: the word's vector
    others: list[str]  # words to compare with, each also the mean of its own pieces
    word_similarity: np.ndarray  # (O,) cosine between the word's mean vector and each other word
    piece_similarity: np.ndarray  # (P, O) cosine between each piece alone and each other word


def word_pieces_and_vectors(encode, word: str, layer: int = -1) -> tuple[list[str], np.ndarray]:
    """The pieces of ``word`` encoded on its own and their vectors at ``layer`` (special tokens left out).

    ``encode`` is ``BertEncoder.offsets_and_states``-shaped: character spans and (layers + 1, T, D)."""
    offsets, states = encode(word)
    positions = [i for i, (start, end) in enumerate(offsets) if end > start]
    pieces = [word[offsets[i][0]:offsets[i][1]] for i in positions]
    return pieces, np.asarray(states, dtype=np.float32)[layer, positions]


def word_from_pieces(encode, word: str, others: list[str], layer: int = -1) -> WordFromPieces | None:
    """Average the vectors of a word's sub-word pieces at ``layer`` into one word vector, and compare it
    (and each piece alone) with other words made the same way. None when the word has no piece at all."""
    pieces, piece_vectors = word_pieces_and_vectors(encode, word, layer)
    if not pieces:
        return None
    vector = piece_vectors.mean(axis=0)
    kept, other_vectors = [], []
    for other in others:
        other_pieces, vectors = word_pieces_and_vectors(encode, other, layer)
        if other_pieces:
            kept.append(other)
            other_vectors.append(vectors.mean(axis=0))
    if not other_vectors:
        return WordFromPieces(word, pieces, layer, piece_vectors, vector, [], np.zeros(0), np.zeros((len(pieces), 0)))
    targets = np.stack(other_vectors)
    word_similarity = np.array([cosine(vector, target) for target in targets])
    piece_similarity = np.array([[cosine(piece, target) for target in targets] for piece in piece_vectors])
    return WordFromPieces(word, pieces, layer, piece_vectors, vector, kept, word_similarity, piece_similarity)


def static_word_similarity(space: WordSpace, sentences: list[str], word: str) -> np.ndarray | None:
    """A static space gives ``word`` one vector whatever the sentence: an all-ones (S, S) matrix.

    Computed, not assumed: the word's vector is looked up once per sentence and compared.
    None when the word is out of vocabulary.
    """
    if word not in space.index:
        return None
    vectors = np.stack([space.vectors[space.index[word]] for _ in sentences]) if sentences else np.zeros((0, 1))
    return cosine_matrix(vectors)


def table_space(embedding_matrix: np.ndarray, vocabulary: dict[str, int], name: str = "") -> WordSpace:
    """A WordPiece token-embedding table as a word space, whole-word entries only.

    Kept: lower-case alphabetic tokens that start a word (no "##" continuation pieces, no
    [CLS]/[unused] specials), at least two characters long, or the single letters "a"/"i".
    Words the vocabulary splits into pieces (for example rare words) are not in this space.
    """
    by_id = sorted(vocabulary.items(), key=lambda item: item[1])
    words, rows = [], []
    for token, token_id in by_id:
        if token.isascii() and token.isalpha() and token.islower() and (len(token) > 1 or token in ("a", "i")):
            words.append(token)
            rows.append(token_id)
    vectors = np.asarray(embedding_matrix, dtype=np.float32)[rows]
    return WordSpace(tuple(words), vectors, name=name, notes={"table_size": len(vocabulary)})
