"""word2vec trained here, on text that ships with gensim, and scored the way the papers do.

word2vec (Mikolov et al., 2013) learns a vector per word by predicting words from their
neighbours: skip-gram predicts the context from a word, CBOW predicts a word from the
average of its context. Words used in similar contexts end up with similar vectors.

The corpus is the English Wikipedia sample and the Lee news corpus from gensim's test
data (about half a million words, read with ``models.text.corpus``), so training takes seconds
and needs no network. A trained space is kept on disk under ``.cache/word2vec/`` as a
plain ``.npz`` (words + vectors + facts), written to a temporary file and renamed into
place, so a crash never leaves half a file; a file that does not load or fails its
checks is thrown away and the model retrained. The same holds for the corpus text (its
last line counts the lines before it, so a cut file is noticed) and the quality scores.
Functions take ``cache_dir``; left out, the module's ``CACHE_DIR`` is read at call time.

Quality is measured by us on the evaluation files in gensim's test data:

- WordSim-353 and SimLex-999: Spearman rank correlation between the cosine of each word
  pair and the human score, over the pairs whose words the space knows (coverage)
- Google analogy set (questions-words.txt): "a b c d" is right when d is the nearest word
  to b - a + c among the ``restrict_vocab`` most frequent words, a, b, c excluded;
  accuracy over the questions whose four words are all in that vocabulary (coverage)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from models.text.disk_cache import atomic_write, cache_folder
from models.text.embedding_space import WordSpace, tokenize_words

CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "word2vec"
CACHE_VERSION = 2  # 2: one worker thread, so a space is the same in every process
ARCHITECTURES = ("skipgram", "cbow")
WORDSIM_FILE = "wordsim353.tsv"
SIMLEX_FILE = "simlex999.txt"
ANALOGY_FILE = "questions-words.txt"
CORPUS_END = "<end-of-corpus>"  # last line of the cached corpus text, with the count of lines before it
RESTRICT_VOCAB = 30000
# Training work, in skip-gram epochs at 100 dimensions and window 5 over the whole corpus (a few
# seconds each on a 2-core CPU). At the sliders' far ends (300 dimensions, window 10, 20 epochs,
# minimum count 1) one training took 166 s on a busy 2-core machine; allowing twice the work of
# the default 5 epochs keeps any training at about twice the default's time.
MAX_TRAINING_WORK = 10.0

Progress = Callable[[float], None]


@dataclass(frozen=True)
class Word2VecParams:
    vector_size: int = 100  # length of each word vector
    window: int = 5  # how many words on each side count as context
    architecture: str = "skipgram"  # "skipgram" (better for rare words) or "cbow" (faster)
    epochs: int = 5  # passes over the corpus
    min_count: int = 5  # words seen fewer times are dropped (too few examples to learn from)
    seed: int = 0

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, not {self.architecture!r}")
        if not (self.vector_size >= 2 and self.window >= 1 and self.epochs >= 1 and self.min_count >= 1):
            raise ValueError(f"vector_size >= 2, window >= 1, epochs >= 1 and min_count >= 1 are needed: {self}")

    def cache_name(self) -> str:
        return (f"w2v-v{CACHE_VERSION}-{self.architecture}-d{self.vector_size}-w{self.window}"
                f"-e{self.epochs}-m{self.min_count}-s{self.seed}.npz")


def epoch_work(params: Word2VecParams) -> float:
    """One epoch's work in the units of ``MAX_TRAINING_WORK``. Measured with gensim: an epoch takes
    about sqrt(vector_size / 100) * sqrt(window / 5) times as long, CBOW about half of skip-gram."""
    return math.sqrt(params.vector_size / 100) * math.sqrt(params.window / 5) * (
        1.0 if params.architecture == "skipgram" else 0.5)


def within_budget(params: Word2VecParams, budget: float | None = None) -> Word2VecParams:
    """The same settings, with fewer epochs (at least one) where all of them would exceed ``budget``
    (default: the module's ``MAX_TRAINING_WORK``, read at call time)."""
    most = max(1, math.floor((MAX_TRAINING_WORK if budget is None else budget) / epoch_work(params)))
    return params if params.epochs <= most else replace(params, epochs=most)


@dataclass(frozen=True)
class TrainedWord2Vec:
    space: WordSpace
    params: Word2VecParams
    train_seconds: float  # wall-clock time of the training itself (when it was trained)
    corpus_words: int  # running words in the corpus
    from_disk: bool  # True when this call loaded it from the disk cache


def gensim_data_file(name: str) -> Path:
    from models.text.corpus import gensim_test_data_dir

    return gensim_test_data_dir() / name


def _read_corpus(path: Path) -> list[list[str]] | None:
    """The cached word lists, or None when the file is missing, unreadable, cut short or altered."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 3 or lines[-1] != "" or lines[-2] != f"{CORPUS_END} {len(lines) - 2}":
        return None
    sentences = [line.split(" ") for line in lines[:-2]]
    return sentences if all(all(sentence) for sentence in sentences) else None


def corpus_sentences(cache_dir: Path | None = None) -> list[list[str]]:
    """Wikipedia sample + Lee corpus as lists of lower-case words, one list per paragraph.

    Reading the Wikipedia dump takes seconds, so the word lists are cached as a text file.
    """
    path = cache_folder(cache_dir, CACHE_DIR) / f"corpus-v{CACHE_VERSION}.txt"
    cached = _read_corpus(path)
    if cached is not None:
        return cached
    from models.text.corpus import lee_documents, wiki_documents

    sentences = []
    for document in wiki_documents() + lee_documents():
        for paragraph in document.text.split("\n"):
            words = tokenize_words(paragraph)
            if words:
                sentences.append(words)
    lines = [" ".join(sentence) for sentence in sentences] + [f"{CORPUS_END} {len(sentences)}"]
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))
    return sentences


def _save(path: Path, trained: TrainedWord2Vec) -> None:
    facts = {"params": asdict(trained.params), "train_seconds": trained.train_seconds,
             "corpus_words": trained.corpus_words}

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as stream:
            np.savez(stream, words=np.array(trained.space.words), vectors=trained.space.vectors,
                     facts=np.array(json.dumps(facts)))

    atomic_write(path, write)


def _load(path: Path, params: Word2VecParams) -> TrainedWord2Vec | None:
    """The cached model, or None when the file is missing, unreadable or inconsistent."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            words = tuple(str(w) for w in data["words"])
            vectors = np.asarray(data["vectors"], dtype=np.float32)
            facts = json.loads(str(data["facts"]))
        ok = (facts["params"] == asdict(params) and vectors.shape == (len(words), params.vector_size)
              and len(words) > 0 and len(set(words)) == len(words) and bool(np.isfinite(vectors).all()))
        if not ok:
            return None
        space = WordSpace(words, vectors, name="word2vec")
        return TrainedWord2Vec(space, params, float(facts["train_seconds"]), int(facts["corpus_words"]), True)
    except Exception:  # a damaged file can fail in many ways (zip, json, keys, shapes); all mean "rebuild"
        return None


def cached_on_disk(params: Word2VecParams, cache_dir: Path | None = None) -> bool:
    """Whether a trained file for these parameters exists (it is still checked when loaded)."""
    return (cache_folder(cache_dir, CACHE_DIR) / params.cache_name()).exists()


def train_word2vec(params: Word2VecParams = Word2VecParams(), progress: Progress | None = None,
                   cache_dir: Path | None = None, workers: int = 1) -> TrainedWord2Vec:
    """Train (or load from the disk cache) a word2vec space; ``progress(fraction)`` after each epoch.

    One worker thread by default: gensim is only reproducible with one (threads race for the shared
    vectors), and two processes that train the same parameters must draw the same space (server
    replicas behind a proxy, parallel test workers); the default space takes about 10 s either way."""
    cache_dir = cache_folder(cache_dir, CACHE_DIR)
    path = cache_dir / params.cache_name()
    cached = _load(path, params)
    if cached is not None:
        if progress:
            progress(1.0)
        return cached
    if path.exists():
        path.unlink()  # damaged: rebuild
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    sentences = corpus_sentences(cache_dir)
    if progress:
        progress(0.05)

    class EpochProgress(CallbackAny2Vec):
        def __init__(self):
            self.done = 0

        def on_epoch_end(self, model):
            self.done += 1
            if progress:
                progress(0.1 + 0.9 * self.done / params.epochs)

    started = time.perf_counter()
    model = Word2Vec(sentences, vector_size=params.vector_size, window=params.window,
                     sg=1 if params.architecture == "skipgram" else 0, epochs=params.epochs,
                     min_count=params.min_count, seed=params.seed, workers=workers,
                     callbacks=[EpochProgress()])
    seconds = time.perf_counter() - started
    space = WordSpace(tuple(model.wv.index_to_key), np.asarray(model.wv.vectors, dtype=np.float32), name="word2vec")
    trained = TrainedWord2Vec(space, params, seconds, sum(len(s) for s in sentences), False)
    _save(path, trained)
    return trained


# --- evaluation -----------------------------------------------------------------------------

def read_word_pairs(path: Path) -> list[tuple[str, str, float]]:
    """Tab-separated "word1 word2 score" lines; '#' lines are comments; words lower-cased."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        first, second, score = line.split("\t")[:3]
        pairs.append((first.lower(), second.lower(), float(score)))
    return pairs


def read_analogies(path: Path) -> list[tuple[str, str, str, str]]:
    """The Google analogy questions "a b c d" (section lines start with ':'), lower-cased."""
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(":"):
            continue
        a, b, c, d = line.lower().split()
        questions.append((a, b, c, d))
    return questions


@dataclass(frozen=True)
class PairScore:
    spearman: float  # nan when fewer than two pairs are covered
    used: int
    total: int

    @property
    def coverage(self) -> float:
        return self.used / self.total if self.total else 0.0


@dataclass(frozen=True)
class AnalogyScore:
    correct: int
    answered: int  # questions whose four words are all in the restricted vocabulary
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else float("nan")

    @property
    def coverage(self) -> float:
        return self.answered / self.total if self.total else 0.0


def evaluate_pairs(space: WordSpace, pairs: list[tuple[str, str, float]]) -> PairScore:
    """Spearman correlation of cosine similarity with the human scores, known pairs only."""
    from scipy.stats import spearmanr

    unit, index = space.unit, space.index
    model_scores, human_scores = [], []
    for first, second, human in pairs:
        if first in index and second in index:
            model_scores.append(float(unit[index[first]] @ unit[index[second]]))
            human_scores.append(human)
    if len(model_scores) < 2:
        return PairScore(float("nan"), len(model_scores), len(pairs))
    return PairScore(float(spearmanr(model_scores, human_scores).statistic), len(model_scores), len(pairs))


def evaluate_analogies(space: WordSpace, questions: list[tuple[str, str, str, str]],
                       restrict_vocab: int = RESTRICT_VOCAB, batch: int = 512) -> AnalogyScore:
    """Accuracy of b - a + c == d among the first ``restrict_vocab`` words, a, b, c excluded."""
    allowed = space.unit[:restrict_vocab]  # (R, D)
    index = {word: i for word, i in space.index.items() if i < restrict_vocab}
    covered = [q for q in questions if all(word in index for word in q)]
    ids = np.array([[index[word] for word in q] for q in covered], dtype=np.int64).reshape(-1, 4)
    correct = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]  # (B, 4): a, b, c, d
        targets = allowed[chunk[:, 1]] - allowed[chunk[:, 0]] + allowed[chunk[:, 2]]  # (B, D)
        targets /= np.maximum(np.linalg.norm(targets, axis=1, keepdims=True), 1e-12)
        scores = targets @ allowed.T  # (B, R)
        rows = np.arange(len(chunk))[:, None]
        scores[rows, chunk[:, :3]] = -np.inf
        correct += int((scores.argmax(axis=1) == chunk[:, 3]).sum())
    return AnalogyScore(correct, len(covered), len(questions))


@dataclass(frozen=True)
class QualityScores:
    wordsim: PairScore
    simlex: PairScore
    analogies: AnalogyScore


def quality_scores(space: WordSpace, restrict_vocab: int = RESTRICT_VOCAB) -> QualityScores:
    """All three benchmarks on one space (a few seconds at most for a 30k-word vocabulary)."""
    return QualityScores(
        evaluate_pairs(space, read_word_pairs(gensim_data_file(WORDSIM_FILE))),
        evaluate_pairs(space, read_word_pairs(gensim_data_file(SIMLEX_FILE))),
        evaluate_analogies(space, read_analogies(gensim_data_file(ANALOGY_FILE)), restrict_vocab),
    )


def _read_scores(path: Path) -> QualityScores | None:
    """Scores from disk, or None unless the file holds exactly the expected fields as numbers."""
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
        pairs = [PairScore(**facts[name]) for name in ("wordsim", "simlex")]
        analogies = AnalogyScore(**facts["analogies"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    counts = [p.used for p in pairs] + [p.total for p in pairs] + [analogies.correct, analogies.answered,
                                                                   analogies.total]
    counts_ok = all(type(count) is int and count >= 0 for count in counts)
    spearman_ok = all(type(p.spearman) is float and (np.isnan(p.spearman) or -1 <= p.spearman <= 1) for p in pairs)
    if not (counts_ok and spearman_ok and analogies.correct <= analogies.answered <= analogies.total
            and all(p.used <= p.total for p in pairs)):
        return None
    return QualityScores(pairs[0], pairs[1], analogies)


def cached_quality_scores(space: WordSpace, cache_key: str, cache_dir: Path | None = None,
                          restrict_vocab: int = RESTRICT_VOCAB) -> QualityScores:
    """``quality_scores`` kept on disk as JSON under ``cache_key`` (recomputed when unreadable or altered)."""
    path = cache_folder(cache_dir, CACHE_DIR) / f"scores-v{CACHE_VERSION}-{cache_key}-r{restrict_vocab}.json"
    cached = _read_scores(path)
    if cached is not None:
        return cached
    scores = quality_scores(space, restrict_vocab)
    text = json.dumps({name: asdict(getattr(scores, name)) for name in ("wordsim", "simlex", "analogies")})
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return scores
