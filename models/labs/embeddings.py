"""The word-embeddings page's experiments: what to put on the map, the score table, words on an axis.

The spaces themselves (word2vec trained here, MiniLM's token table) and the measures
(neighbours, analogies, attribute axes, sentence vectors, contextual vectors) live in
``models.text``; this module holds the page's word lists and turns those results into the rows
and points the page draws.
"""

from __future__ import annotations

from functools import partial

from models.text.embedding_space import (AxisResult, WordSpace, analogy, nearest_neighbours, nearest_neighbours_of_many,
                                         pca)

GROUPS = {
    "animals": "dog horse cow lion bird fish sheep wolf bear elephant",
    "countries": "france germany china japan india russia italy spain egypt canada",
    "numbers": "one two three four five six seven eight nine ten",
    "royalty": "king queen prince princess emperor kingdom crown royal duke monarch",
    "fruit": "apple orange banana grape lemon fruit wine sugar coffee tea",
}
AXES = {  # preset: (left pole, right pole, words to place)
    "animal_fruit": ("dog horse cow lion sheep", "apple orange banana grape fruit", "wolf bear pig wine coffee rice"),
    "small_big": ("small tiny little", "big large huge", "mouse ant village elephant whale city"),
    "man_woman": ("man he his boy father", "woman she her girl mother", "king queen prince princess actor actress"),
}
DEFAULT_SENTENCES = ("The dog chased the horse across the field.\nA wolf attacked the sheep near the farm.\n"
                     "Stock markets fell sharply today.\nShares dropped on the exchange.")
BANK_SENTENCES = ("We walked along the bank of the river.\nThe boat drifted toward the muddy bank.\n"
                  "Fish hid near the grassy bank of the stream.\nShe deposited her money at the bank.\n"
                  "The bank raised its interest rates.\nHe asked the bank for a loan.")
MAX_WORDS = 20
MAX_SENTENCES = 8
MAX_CONTEXT_TOKENS = 64
PIECES_WORD = "vocalization"  # the course's example: WordPiece cuts it into "vocal" + "ization"
PIECES_OTHERS = "voice singing speech organization table"
MAP_NEIGHBOURS_OF = 60  # the map adds neighbours of its first 60 words


def map_words(space: WordSpace, groups: tuple[str, ...], own_words: tuple[str, ...], neighbours: int, dims: int):
    """The words of the chosen ``groups`` and the reader's own, each tagged with its group (own words
    are group ``len(groups)``), plus ``neighbours`` nearest neighbours of the first MAP_NEIGHBOURS_OF
    (group ``len(groups) + 1``), projected to ``dims`` dimensions with PCA.

    Returns (words, group of each word, the PCA result or None when there are no words, unknown words).
    """
    words, group_of, missing = [], [], []
    for group, text in enumerate([GROUPS[g] for g in groups] + [" ".join(own_words)]):
        known, unknown = space.split_known(text.split())
        missing += unknown
        for word in known:
            if word not in words:
                words.append(word)
                group_of.append(group)
    for found in nearest_neighbours_of_many(space, words[:MAP_NEIGHBOURS_OF], neighbours):
        for near, _ in found:
            if near not in words:
                words.append(near)
                group_of.append(len(groups) + 1)
    result = pca(space.vectors[[space.index[w] for w in words]], dims) if words else None
    return words, group_of, result, missing


def quality_row(space: WordSpace, score) -> dict[str, object]:
    """One space's line of the score table (``score`` a ``models.text.word2vec.QualityScores``),
    keyed like the column headings in the locale file (``col_<key>``)."""
    return {
        "vocabulary": len(space.words),
        "dimensions": space.dimension,
        "wordsim": round(score.wordsim.spearman, 3),
        "wordsim_coverage": f"{score.wordsim.coverage:.0%}",
        "simlex": round(score.simlex.spearman, 3),
        "simlex_coverage": f"{score.simlex.coverage:.0%}",
        "analogy": f"{score.analogies.accuracy:.1%}",
        "analogy_coverage": f"{score.analogies.coverage:.0%}",
    }


def axis_points(result: AxisResult) -> tuple[list[str], list[int], list[float]]:
    """Every word the axis chart shows, in order (left pole, right pole, placed words), with its kind
    (0 left pole, 1 right pole, 2 placed) and its position on the axis."""
    words = result.left_used + result.right_used + result.words
    kinds = [0] * len(result.left_used) + [1] * len(result.right_used) + [2] * len(result.words)
    return words, kinds, [*result.left_positions, *result.right_positions, *result.positions]


def lines_of(text: str, limit: int = MAX_SENTENCES) -> list[str]:
    """The non-empty lines of ``text``, stripped, at most ``limit``."""
    return [line.strip() for line in text.splitlines() if line.strip()][:limit]


MEASURES = {  # what the page asks of one space, by name: measure(space, *arguments)
    "map": map_words,  # (groups, own words, neighbours, dimensions)
    "neighbours": nearest_neighbours,  # (word, k)
    "analogy": partial(analogy, k=8),  # (a, b, c): a - b + c
}
