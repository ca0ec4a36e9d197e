"""The generated English -> German corpus: reproducible, split cleanly, its alignments true,
and German grammar (agreement, verb second, verb last) where the grammar promises it."""

import pytest

from models.text import parallel
from models.text.parallel import ARTICLE, NOUNS, TRANSITIVE, INTRANSITIVE, generate, n_words, sentence


@pytest.fixture(scope="module")
def corpus():
    return generate(n_train=700, n_heldout_per_length=2, seed=3, max_words=22)


def lexicon() -> set[tuple[str, str]]:
    """Every (English word, German word) pair the tables allow."""
    pairs = {("the", a) for by_key in ARTICLE.values() for a in by_key.values()}
    pairs |= {("that", a) for a in ARTICLE["nom"].values()} | {("that", "dass")}
    pairs |= {("with", "mit"), ("and", "und"), (".", ".")}
    for en_sg, en_pl, _, de_sg, de_pl, de_dat in NOUNS:
        pairs |= {(en_sg, de_sg), (en_pl, de_pl), (en_pl, de_dat)}
    for en_adj, de_adj in parallel.ADJECTIVES:
        pairs |= {(en_adj, de_adj + e) for e in ("e", "en")}
    for en_sg, en_pl, de_sg, de_pl in TRANSITIVE + INTRANSITIVE + [parallel.SAYS]:
        pairs |= {(en_sg, de_sg), (en_pl, de_pl)}
    pairs |= set(parallel.ADVERBS) | set(parallel.SUBORDINATORS)
    return pairs


def test_same_seed_same_corpus_and_a_clean_split(corpus):
    again = generate(n_train=700, n_heldout_per_length=2, seed=3, max_words=22)
    assert again == corpus
    assert generate(n_train=700, n_heldout_per_length=2, seed=4, max_words=22) != corpus
    assert not {p.source for p in corpus.train} & {p.source for p in corpus.heldout}
    lengths = {n_words(p) for p in corpus.heldout}
    assert lengths == set(range(3, 23))


def test_every_alignment_points_at_the_word_it_translates(corpus):
    allowed = lexicon()
    for pair in corpus.train + corpus.heldout:
        assert len(pair.alignment) == len(pair.target)
        for german, index in zip(pair.target, pair.alignment):
            if german == ",":
                assert index == -1
            else:
                assert (pair.source[index], german) in allowed, (pair, german)
        aligned = [i for i in pair.alignment if i >= 0]
        assert sorted(aligned) == list(range(len(pair.source)))  # every English word translated once


def test_vocabularies_cover_the_corpus(corpus):
    assert {w for p in corpus.train for w in p.source} <= set(corpus.source_vocab)
    assert {w for p in corpus.train for w in p.target} <= set(corpus.target_vocab)


def test_german_word_order_and_agreement():
    rng = __import__("random").Random(0)
    pairs = [sentence(rng) for _ in range(3000)]
    verbs = {v for verb in TRANSITIVE + INTRANSITIVE for v in verb[2:]}
    saw_verb_last = saw_verb_second = saw_reordering = False
    for pair in pairs:
        target = list(pair.target)
        if pair.source[0] in dict(parallel.ADVERBS):  # verb second: adverb, verb, subject
            assert target[1] in verbs
            saw_verb_second = True
        if "weil" in target and "dass" not in target:
            clause_end = target.index(".")
            assert target[clause_end - 1] in verbs  # the verb closes the "weil" clause
            saw_verb_last = True
        if list(pair.alignment) != sorted(pair.alignment):
            saw_reordering = True
    assert saw_verb_last and saw_verb_second and saw_reordering
    assert max(len(p.source) for p in pairs) > 31  # 30+ words happen
    plural = next(p for p in pairs if p.source[:3] == ("the", "dogs", "see"))
    assert plural.target[:3] == ("die", "hunde", "sehen")


def test_tokenize_matches_the_corpus():
    assert parallel.tokenize("Today the Dog sleeps.") == ["today", "the", "dog", "sleeps", "."]
