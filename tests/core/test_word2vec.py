"""word2vec training, disk cache and the benchmark scores, cross-checked against gensim's own evaluators."""

import numpy as np
import pytest

import models.text.word2vec as w2v
from models.text.embedding_space import WordSpace
from models.text.word2vec import (
    ANALOGY_FILE, SIMLEX_FILE, WORDSIM_FILE, Word2VecParams, evaluate_analogies, evaluate_pairs,
    gensim_data_file, read_analogies, read_word_pairs, train_word2vec,
)

SMALL = Word2VecParams(vector_size=8, window=2, architecture="cbow", epochs=2, min_count=3)


def keyed(space: WordSpace):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=space.dimension)
    kv.add_vectors(list(space.words), space.vectors)
    return kv


def test_evaluation_files_read_completely():
    assert len(read_word_pairs(gensim_data_file(WORDSIM_FILE))) == 353
    assert len(read_word_pairs(gensim_data_file(SIMLEX_FILE))) == 999
    questions = read_analogies(gensim_data_file(ANALOGY_FILE))
    assert len(questions) == 19544 and questions[0] == ("athens", "greece", "baghdad", "iraq")


@pytest.mark.parametrize("name", [WORDSIM_FILE, SIMLEX_FILE])
def test_pair_scores_equal_gensim(name):
    pairs = read_word_pairs(gensim_data_file(name))
    words = sorted({w for a, b, _ in pairs for w in (a, b)})
    words = words[: int(len(words) * 0.8)]  # leave some pairs out of vocabulary
    space = WordSpace(tuple(words), np.random.default_rng(1).standard_normal((len(words), 12)).astype(np.float32))
    ours = evaluate_pairs(space, pairs)
    _pearson, (spearman, _p), oov_percent = keyed(space).evaluate_word_pairs(str(gensim_data_file(name)))
    assert ours.spearman == pytest.approx(spearman, abs=1e-9)
    assert 100 * (1 - ours.coverage) == pytest.approx(oov_percent, abs=1e-9)


def test_analogy_accuracy_equals_gensim():
    questions = read_analogies(gensim_data_file(ANALOGY_FILE))
    rng = np.random.default_rng(2)
    words = list(dict.fromkeys(w for q in questions for w in q))
    vectors = {w: rng.standard_normal(24) for w in words}
    offset = rng.standard_normal(24)  # plant capital -> country, so some answers are right
    for a, b, _c, _d in questions[:500]:
        vectors[b] = vectors[a] + offset + 0.3 * rng.standard_normal(24)
    space = WordSpace(tuple(words), np.stack([vectors[w] for w in words]).astype(np.float32))
    restrict = 600  # fewer than the vocabulary, so coverage < 1
    ours = evaluate_analogies(space, questions, restrict_vocab=restrict)
    score, sections = keyed(space).evaluate_word_analogies(str(gensim_data_file(ANALOGY_FILE)), restrict_vocab=restrict)
    total = sections[-1]
    assert ours.correct == len(total["correct"]) > 50
    assert ours.answered == len(total["correct"]) + len(total["incorrect"])
    assert ours.accuracy == pytest.approx(score)
    assert 0 < ours.coverage < 1


@pytest.fixture()
def small_corpus(monkeypatch):
    from models.text.corpus import lee_documents
    from models.text.embedding_space import tokenize_words

    sentences = [tokenize_words(doc.text) for doc in lee_documents()[:150]]
    monkeypatch.setattr(w2v, "corpus_sentences", lambda cache_dir=None: sentences)
    return sentences


def test_train_caches_on_disk_and_reloads_identically(tmp_path, small_corpus):
    fractions = []
    first = train_word2vec(SMALL, progress=fractions.append, cache_dir=tmp_path)
    assert not first.from_disk and first.train_seconds > 0
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0) and len(fractions) >= SMALL.epochs
    assert first.space.vectors.shape == (len(first.space.words), SMALL.vector_size)
    assert first.corpus_words == sum(map(len, small_corpus))
    second = train_word2vec(SMALL, cache_dir=tmp_path)
    assert second.from_disk and second.space.words == first.space.words
    np.testing.assert_array_equal(second.space.vectors, first.space.vectors)
    assert sorted(p.name for p in tmp_path.iterdir()) == [SMALL.cache_name()]  # no temporary files left


def test_training_twice_draws_the_same_space(tmp_path, small_corpus):
    """Two processes (server replicas, test workers) that train the same parameters show the same
    neighbours: the CI run where one worker read a space the other had trained failed on this."""
    first = train_word2vec(SMALL, cache_dir=tmp_path / "one")
    second = train_word2vec(SMALL, cache_dir=tmp_path / "two")
    assert not second.from_disk and second.space.words == first.space.words
    np.testing.assert_array_equal(second.space.vectors, first.space.vectors)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_params"])
def test_damaged_cache_is_rebuilt(tmp_path, small_corpus, damage):
    path = tmp_path / SMALL.cache_name()
    good = train_word2vec(SMALL, cache_dir=tmp_path)
    if damage == "garbage":
        path.write_bytes(b"not a numpy archive")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    else:  # a valid file written for other parameters, under this name
        other = Word2VecParams(vector_size=4, window=2, architecture="cbow", epochs=1, min_count=3)
        path.write_bytes((tmp_path / train_word2vec(other, cache_dir=tmp_path).params.cache_name()).read_bytes())
    rebuilt = train_word2vec(SMALL, cache_dir=tmp_path)
    assert not rebuilt.from_disk and rebuilt.space.words == good.space.words
    assert train_word2vec(SMALL, cache_dir=tmp_path).from_disk


def test_params_are_validated():
    with pytest.raises(ValueError):
        Word2VecParams(architecture="glove")
    with pytest.raises(ValueError):
        Word2VecParams(epochs=0)
    assert Word2VecParams().cache_name() != Word2VecParams(window=4).cache_name()


def test_corpus_is_the_gensim_sample(tmp_path):
    sentences = w2v.corpus_sentences(w2v.CACHE_DIR)
    words = sum(map(len, sentences))
    assert 400_000 < words < 700_000
    assert all(word == word.lower() and word.replace("'", "").isalpha() for s in sentences[:200] for word in s)


def test_scores_are_cached_on_disk(tmp_path, monkeypatch):
    words = tuple(sorted({w for a, b, _ in read_word_pairs(gensim_data_file(WORDSIM_FILE)) for w in (a, b)}))
    space = WordSpace(words, np.random.default_rng(3).standard_normal((len(words), 6)).astype(np.float32))
    first = w2v.cached_quality_scores(space, "test", cache_dir=tmp_path)
    assert first.wordsim.coverage == 1.0 and first.analogies.answered < first.analogies.total
    monkeypatch.setattr(w2v, "quality_scores", lambda *args: pytest.fail("should come from disk"))
    assert w2v.cached_quality_scores(space, "test", cache_dir=tmp_path) == first


def test_training_work_is_capped_by_lowering_epochs():
    from models.text.word2vec import MAX_TRAINING_WORK, epoch_work, within_budget

    default = Word2VecParams()
    assert within_budget(default) == default and epoch_work(default) == 1.0
    largest = Word2VecParams(vector_size=300, window=10, architecture="skipgram", epochs=20, min_count=1, seed=7)
    capped = within_budget(largest)
    assert capped == Word2VecParams(300, 10, "skipgram", capped.epochs, 1, 7) and 1 <= capped.epochs < 20
    assert capped.epochs * epoch_work(capped) <= MAX_TRAINING_WORK < (capped.epochs + 1) * epoch_work(capped)
    assert within_budget(Word2VecParams(vector_size=25, window=1, architecture="cbow", epochs=20)).epochs == 20
    assert within_budget(largest, budget=0.1).epochs == 1  # never below one epoch
