"""Disk caches (word2vec corpus, trained spaces and scores; tokenizer corpus and trained tokenizers):
written atomically, so a crash while writing leaves neither a file at the final path nor a stray
temporary file; and a damaged file (garbage, empty, cut in half, the wrong shape, an old format) is
noticed and rebuilt, never raised to the page."""

from __future__ import annotations

import json
import random
import types
from pathlib import Path

import numpy as np
import pytest

from models.labs import reader as reader_lab
from models.text import disk_cache
from models.text import tokenization as T
from models.text import word2vec as w2v
from models.text.word2vec import AnalogyScore, PairScore, QualityScores, Word2VecParams

TINY = Word2VecParams(vector_size=8, window=2, architecture="cbow", epochs=1, min_count=2)


def documents(texts: list[str]) -> list:
    return [types.SimpleNamespace(text=text) for text in texts]


def sample_text(words: int, seed: int = 0) -> str:
    """Made-up words in lines: enough different letter pairs for a few hundred BPE merges."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 7)))
                  for _ in range(600)]
    picked = [rng.choice(vocabulary) for _ in range(words)]
    return "\n".join(" ".join(picked[i:i + 12]) for i in range(0, words, 12))


@pytest.fixture()
def w2v_corpus(monkeypatch):
    """word2vec's corpus read from two small made-up documents instead of the Wikipedia dump."""
    import models.text.corpus

    texts = ["The cat sat on the mat.\nThe dog sat on the log.", "A cat and a dog.\n\nThe end, the cat."]
    monkeypatch.setattr(models.text.corpus, "wiki_documents", lambda: documents(texts[:1]))
    monkeypatch.setattr(models.text.corpus, "lee_documents", lambda: documents(texts[1:]))
    return [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "the", "log"],
            ["a", "cat", "and", "a", "dog"], ["the", "end", "the", "cat"]]


@pytest.fixture()
def small_sentences(monkeypatch):
    sentences = [sample_text(60, seed).replace("\n", " ").split() for seed in range(80)]
    monkeypatch.setattr(w2v, "corpus_sentences", lambda cache_dir=None: sentences)
    return sentences


@pytest.fixture()
def token_corpus(tmp_path):
    """A tokenizer cache folder holding a small valid training text."""
    (tmp_path / f"corpus-v{T.CACHE_VERSION}.json").write_text(
        json.dumps({"train": sample_text(6000), "heldout": sample_text(300, seed=1)}), encoding="utf-8")
    return tmp_path


def damaged(original: bytes, how: str) -> bytes:
    if how == "garbage":
        return b"\xff\xfe\x00 not what was written \x80\x81" * 3
    if how == "empty":
        return b""
    if how == "half":
        return original[: len(original) // 2]
    raise ValueError(how)


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# -- crashes while writing ---------------------------------------------------------------------------


def crash_mid_write(monkeypatch):
    """Every text or archive write puts half its data down, then fails as a full disk would."""
    original_write_text = Path.write_text

    def half_then_fail(self, data, *args, **kwargs):
        original_write_text(self, data[: len(data) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    def savez_half(stream, **arrays):
        stream.write(b"PK\x03\x04 half an archive")
        raise OSError(28, "No space left on device")

    class HalfStream:
        def __init__(self, handle, *args, **kwargs):
            self.stream = open(handle, *args, **kwargs)  # noqa: SIM115 - closed in __exit__

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, text):
            self.stream.write(text[: len(text) // 2])
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_fail)
    monkeypatch.setattr(np, "savez", savez_half)
    monkeypatch.setattr(disk_cache.os, "fdopen", HalfStream)


def crash_before_rename(monkeypatch):
    def fail(*args):
        raise OSError("killed before the rename")

    monkeypatch.setattr(disk_cache.os, "replace", fail)  # the os module: both caches use it


STORIES = [[f"story {s} sentence {i}." for i in range(3)] for s in range(6)]


def fake_embed(texts):
    """Unit vectors that depend only on each text (a stand-in for MiniLM)."""
    rows = [np.random.default_rng(sum(map(ord, text))).normal(size=8) for text in texts]
    return np.array([row / np.linalg.norm(row) for row in rows])


def reader_pairs(folder, embed=fake_embed):
    return reader_lab.stored_next_vs_random(embed, lambda: STORIES, "six stories", n_pairs=4, seed=3, cache_dir=folder)


READER_PAIRS = f"pairs-v{reader_lab.CACHE_VERSION}-{reader_lab.content_key('pairs', '', 'six stories', 4, 3)}.npz"

WRITERS = {
    "word2vec corpus": (lambda folder: w2v.corpus_sentences(folder), f"corpus-v{w2v.CACHE_VERSION}.txt"),
    "word2vec space": (lambda folder: w2v.train_word2vec(TINY, cache_dir=folder), TINY.cache_name()),
    "word2vec scores": (lambda folder: w2v.cached_quality_scores(None, "k", folder), f"scores-v{w2v.CACHE_VERSION}-k-r30000.json"),
    "tokenizer corpus": (lambda folder: T._training_texts(folder), f"corpus-v{T.CACHE_VERSION}.json"),
    "trained tokenizer": (lambda folder: T.trained_tokenizer("bpe", 400, folder), "bpe-400-v1.json"),
    "reader sentence pairs": (reader_pairs, READER_PAIRS),
}


@pytest.mark.parametrize("crash", [crash_mid_write, crash_before_rename], ids=["mid-write", "before-rename"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_crash_while_writing_leaves_nothing_behind(writer, crash, tmp_path, monkeypatch, w2v_corpus):
    import models.text.corpus

    write, name = WRITERS[writer]
    folder = tmp_path / "cache"
    monkeypatch.setattr(w2v, "quality_scores", lambda *args: some_scores())
    monkeypatch.setattr(models.text.corpus, "load_corpus", lambda: types.SimpleNamespace(
        train=documents([sample_text(200)]), heldout=documents([sample_text(50, 1)])))
    if writer == "word2vec space":
        sentences = [sample_text(60, seed).split() for seed in range(40)]
        monkeypatch.setattr(w2v, "corpus_sentences", lambda cache_dir=None: sentences)
    if writer == "trained tokenizer":
        folder.mkdir()
        (folder / f"corpus-v{T.CACHE_VERSION}.json").write_text(
            json.dumps({"train": sample_text(3000), "heldout": "x y"}), encoding="utf-8")
    before = set(leftovers(folder)) if folder.exists() else set()
    with monkeypatch.context() as patch:
        crash(patch)
        with pytest.raises(OSError):
            write(folder)
    assert not (folder / name).exists()
    assert set(leftovers(folder)) == before  # no temporary file left
    write(folder)  # and with the disk healthy again it is written in full
    assert (folder / name).is_file() and set(leftovers(folder)) == before | {name}


def some_scores(spearman: float = 0.5) -> QualityScores:
    return QualityScores(PairScore(spearman, 3, 4), PairScore(float("nan"), 1, 4), AnalogyScore(1, 2, 5))


# -- word2vec ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["garbage", "empty", "half", "no end line", "lines dropped", "blank word"])
def test_word2vec_corpus_damage_is_rebuilt(how, tmp_path, w2v_corpus):
    expected = w2v.corpus_sentences(tmp_path)
    assert expected == w2v_corpus
    path = tmp_path / f"corpus-v{w2v.CACHE_VERSION}.txt"
    good = path.read_text(encoding="utf-8")
    assert good.endswith(f"{w2v.CORPUS_END} {len(expected)}\n")
    if how == "no end line":  # the format before the end line was added
        path.write_text("\n".join(" ".join(s) for s in expected) + "\n", encoding="utf-8")
    elif how == "lines dropped":
        lines = good.splitlines()
        path.write_text("\n".join(lines[:1] + lines[-1:]) + "\n", encoding="utf-8")
    elif how == "blank word":
        path.write_text(good.replace("the cat", "the  cat", 1), encoding="utf-8")
    else:
        path.write_bytes(damaged(good.encode(), how))
    assert w2v.corpus_sentences(tmp_path) == expected
    assert path.read_text(encoding="utf-8") == good and leftovers(tmp_path) == [path.name]


def rewrite_npz(path: Path, **changes) -> None:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    arrays = {name: value for name, value in arrays.items() if value is not None}
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)


@pytest.mark.parametrize("how", ["empty", "half", "wrong shape", "no vectors", "not finite", "repeated words",
                                 "other version", "facts not json"])
def test_word2vec_space_damage_is_rebuilt(how, tmp_path, small_sentences):
    good = w2v.train_word2vec(TINY, cache_dir=tmp_path)
    path = tmp_path / TINY.cache_name()
    vectors = good.space.vectors
    if how in ("empty", "half"):
        path.write_bytes(damaged(path.read_bytes(), how))
    elif how == "wrong shape":
        rewrite_npz(path, vectors=vectors[:, :-1])
    elif how == "no vectors":
        rewrite_npz(path, vectors=None)
    elif how == "not finite":
        rewrite_npz(path, vectors=np.where(np.arange(vectors.size).reshape(vectors.shape) == 3, np.nan, vectors))
    elif how == "repeated words":
        rewrite_npz(path, words=np.array([good.space.words[0]] * len(good.space.words)))
    elif how == "other version":
        facts = {"params": {**TINY.__dict__, "vector_size": 9}, "train_seconds": 1.0, "corpus_words": 5}
        rewrite_npz(path, facts=np.array(json.dumps(facts)))
    else:
        rewrite_npz(path, facts=np.array("{ not json"))
    rebuilt = w2v.train_word2vec(TINY, cache_dir=tmp_path)
    assert not rebuilt.from_disk and rebuilt.space.words == good.space.words
    assert w2v.train_word2vec(TINY, cache_dir=tmp_path).from_disk
    assert leftovers(tmp_path) == [TINY.cache_name()]


SCORE_DAMAGE = {
    "garbage": None, "empty": None, "half": None,
    "a list": [],
    "missing part": {"wordsim": {"spearman": 0.5, "used": 3, "total": 4}},
    "extra field": {"wordsim": {"spearman": 0.5, "used": 3, "total": 4, "x": 1},
                    "simlex": {"spearman": 0.5, "used": 3, "total": 4},
                    "analogies": {"correct": 1, "answered": 2, "total": 5}},
    "text for numbers": {"wordsim": {"spearman": "high", "used": "3", "total": 4},
                         "simlex": {"spearman": 0.5, "used": 3, "total": 4},
                         "analogies": {"correct": 1, "answered": 2, "total": 5}},
    "impossible counts": {"wordsim": {"spearman": 0.5, "used": 9, "total": 4},
                          "simlex": {"spearman": 0.5, "used": 3, "total": 4},
                          "analogies": {"correct": 3, "answered": 2, "total": -5}},
    "correlation out of range": {"wordsim": {"spearman": 7.0, "used": 3, "total": 4},
                                 "simlex": {"spearman": 0.5, "used": 3, "total": 4},
                                 "analogies": {"correct": 1, "answered": 2, "total": 5}},
}


@pytest.mark.parametrize("how", list(SCORE_DAMAGE))
def test_word2vec_scores_damage_is_recomputed(how, tmp_path, monkeypatch):
    computed = []
    monkeypatch.setattr(w2v, "quality_scores", lambda *args: computed.append(1) or some_scores())
    first = w2v.cached_quality_scores(None, "k", tmp_path)
    assert repr(w2v.cached_quality_scores(None, "k", tmp_path)) == repr(first)  # nan != nan, so as text
    assert len(computed) == 1  # read back from disk
    path = tmp_path / f"scores-v{w2v.CACHE_VERSION}-k-r30000.json"
    good = path.read_bytes()
    if SCORE_DAMAGE[how] is None:
        path.write_bytes(damaged(good, how))
    else:
        path.write_text(json.dumps(SCORE_DAMAGE[how]), encoding="utf-8")
    again = w2v.cached_quality_scores(None, "k", tmp_path)
    assert len(computed) == 2 and repr(again) == repr(first)
    assert path.read_bytes() == good and leftovers(tmp_path) == [path.name]


# -- tokenizers --------------------------------------------------------------------------------------


TEXT_DAMAGE = {"garbage": None, "empty": None, "half": None, "a list": ["train", "heldout"],
               "numbers": {"train": 5, "heldout": "x"}, "blank texts": {"train": " ", "heldout": ""},
               "missing part": {"train": "some text"}}


@pytest.mark.parametrize("how", list(TEXT_DAMAGE))
def test_tokenizer_corpus_damage_is_rebuilt(how, tmp_path, monkeypatch):
    import models.text.corpus

    corpus = types.SimpleNamespace(train=documents(["first document", "second document"]),
                                   heldout=documents(["held out"]))
    monkeypatch.setattr(models.text.corpus, "load_corpus", lambda: corpus)
    T._training_texts.cache_clear()
    train, heldout = T.training_texts(tmp_path)
    assert sorted(train.split("\n")) == ["first document", "second document"] and heldout == "held out"
    path = tmp_path / f"corpus-v{T.CACHE_VERSION}.json"
    good = path.read_bytes()
    if TEXT_DAMAGE[how] is None:
        path.write_bytes(damaged(good, how))
    else:
        path.write_text(json.dumps(TEXT_DAMAGE[how]), encoding="utf-8")
    T._training_texts.cache_clear()  # what a fresh server process would do
    assert T.training_texts(tmp_path) == (train, heldout)
    assert path.read_bytes() == good and leftovers(tmp_path) == [path.name]
    T._training_texts.cache_clear()


@pytest.mark.parametrize("how", ["garbage", "empty", "half", "json of another shape", "another kind",
                                 "bigger vocabulary"])
def test_trained_tokenizer_damage_is_rebuilt(how, token_corpus):
    folder = token_corpus
    first = T.trained_tokenizer("bpe", 400, folder)
    path = folder / f"bpe-400-v{T.CACHE_VERSION}.json"
    good_ids = first.encode("abc def ghij").ids
    if how == "json of another shape":
        path.write_text(json.dumps({"model": [1, 2, 3]}), encoding="utf-8")
    elif how == "another kind":
        path.write_text(T.trained_tokenizer("unigram", 400, folder).to_str(), encoding="utf-8")
    elif how == "bigger vocabulary":
        bigger = T.trained_tokenizer("bpe", 800, folder)
        assert bigger.get_vocab_size() > 400
        path.write_text(bigger.to_str(), encoding="utf-8")
    else:
        path.write_bytes(damaged(path.read_bytes(), how))
    again = T.trained_tokenizer("bpe", 400, folder)
    assert again.encode("abc def ghij").ids == good_ids and again.get_vocab_size() == first.get_vocab_size()
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["model"]["type"] == "BPE" and len(stored["model"]["vocab"]) == first.get_vocab_size()
    assert not [name for name in leftovers(folder) if name.endswith(".tmp")]


# -- the reader page's measurements -----------------------------------------------------------------


@pytest.mark.parametrize("how", ["garbage", "empty", "half", "other shapes", "not finite", "missing array"])
def test_reader_measurement_damage_is_recomputed(how, tmp_path):
    calls = []

    def counting_embed(texts):
        calls.append(len(texts))
        return fake_embed(texts)

    first = reader_pairs(tmp_path, counting_embed)
    direct = reader_lab.next_vs_random(fake_embed, STORIES, 4, 3)
    np.testing.assert_array_equal(first.true_next, direct.true_next)
    np.testing.assert_array_equal(first.random, direct.random)
    computed = len(calls)
    again = reader_pairs(tmp_path, counting_embed)
    assert len(calls) == computed  # read back from disk, MiniLM not asked
    np.testing.assert_array_equal(again.random, first.random)
    path = tmp_path / READER_PAIRS
    good = path.read_bytes()
    if how in ("garbage", "empty", "half"):
        path.write_bytes(damaged(good, how))
    else:
        arrays = {"other shapes": {"true_next": np.zeros(3), "random": np.zeros(3)},
                  "not finite": {"true_next": np.full(4, np.nan), "random": np.zeros(4)},
                  "missing array": {"true_next": np.zeros(4)}}[how]
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
    recomputed = reader_pairs(tmp_path, counting_embed)
    assert len(calls) == 2 * computed
    np.testing.assert_array_equal(recomputed.true_next, first.true_next)
    assert path.read_bytes() == good and leftovers(tmp_path) == [READER_PAIRS]


def test_reader_measurements_are_kept_per_seed_and_corpus(tmp_path):
    def pairs(seed, corpus):
        return reader_lab.stored_next_vs_random(fake_embed, lambda: STORIES, corpus, n_pairs=4, seed=seed, cache_dir=tmp_path)

    assert not np.array_equal(pairs(1, "a").random, pairs(2, "a").random)
    pairs(1, "b")
    assert len(leftovers(tmp_path)) == 3


# -- the blocks page's deep stacks ------------------------------------------------------------------

from models.labs import blocks as blocks_lab  # noqa: E402


def counting_placements(monkeypatch) -> list:
    calls, real = [], blocks_lab.both_placements

    def counted(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(blocks_lab, "both_placements", counted)
    return calls


@pytest.mark.parametrize("how", ["garbage", "empty", "half", "other depth", "not finite", "missing array"])
def test_depth_norms_are_kept_on_disk_and_a_damaged_file_is_computed_again(tmp_path, monkeypatch, how):
    calls = counting_placements(monkeypatch)
    first = blocks_lab.stored_placements(4, "rmsnorm", "gpt2", 3, tmp_path)
    assert first == blocks_lab.both_placements(4, "rmsnorm", "gpt2", 3)  # the same numbers as computing them
    assert blocks_lab.stored_placements(4, "rmsnorm", "gpt2", 3, tmp_path) == first and len(calls) == 2
    [name] = leftovers(tmp_path)
    path = tmp_path / name
    good = path.read_bytes()
    if how in ("garbage", "empty", "half"):
        path.write_bytes(damaged(good, how))
    else:
        with np.load(path) as stored:
            arrays = {key: stored[key] for key in stored.files}
        if how == "other depth":
            arrays["pre_gradient_norm"] = arrays["pre_gradient_norm"][:2]
        elif how == "not finite":
            arrays["post_activation_rms"][0] = np.nan
        else:
            del arrays["loss"]
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
    assert blocks_lab.stored_placements(4, "rmsnorm", "gpt2", 3, tmp_path) == first and len(calls) == 3
    assert path.read_bytes() == good and leftovers(tmp_path) == [name]


def test_depth_grid_is_filled_once_per_seed(tmp_path, monkeypatch):
    monkeypatch.setattr(blocks_lab, "DEPTHS", range(2, 5, 2))
    calls = counting_placements(monkeypatch)
    assert blocks_lab.fill_depth_grid(5, tmp_path) == 2 * len(blocks_lab.NORMS) * len(blocks_lab.INITS)
    assert blocks_lab.fill_depth_grid(5, tmp_path) == 0 and len(calls) == 8
    assert len(leftovers(tmp_path)) == 8
    assert blocks_lab.stored_placements(4, "layernorm", "xavier", 6, tmp_path) is not None  # another seed: its own file
    assert len(leftovers(tmp_path)) == 9
