"""How a reader (BERT) learns: fill in the blank, the masking recipe, sentence pairs, fine-tuning.

A reader is pretrained on plain text by hiding words and guessing them from the words on
both sides (masked language modelling), then reused for a task with a few labelled
examples (fine-tuning). This lab computes what the reader page shows:

* ``fill_in``: MiniLM with its trained MLM head guesses every blank, once with the whole
  sentence in view and once each with the words to the right, or to the left, hidden from
  attention, so the page can show that both sides matter;
* ``masking_recipe`` / ``recipe_shares``: BERT's 15% / 80-10-10 recipe on the user's sentence
  (the same ``mask_tokens`` the head was trained with);
* ``sentence_pair`` and ``next_vs_random``: the ``[CLS] A [SEP] B [SEP]`` input with segment
  ids, and how similar MiniLM finds true next sentences versus random ones (a similarity,
  not next-sentence prediction: MiniLM has no NSP head);
* ``train_classifier`` / ``few_shot_curve``: a logistic-regression classifier trained on
  sentence vectors, MiniLM's or bag-of-words', with 4 to 32 labelled examples per label.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.pretrained.minilm_mlm import (FIRST_WORD_ID, MASK_ID, MAX_POSITIONS, FillMask, Guess,
                                          mask_tokens, top_guesses)
from models.text import bow
from models.text import disk_cache

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "assets" / "reader" / "reviews.json"
# The sentence-pair and few-shot measurements embed a few hundred fixed sentences with MiniLM
# (8-14 s on one core): kept on disk per seed, like the word2vec and tokenizer caches.
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "reader"
CACHE_VERSION = 1
MAX_MASKS = 8  # blanks filled at once: each costs two more runs (left / right hidden)
VIEWS = ("both", "left", "right")  # what the model may see: both sides, only the left, only the right
_TYPED_MASK = re.compile(r"\[\s*mask\s*\]", re.IGNORECASE)


def content_key(*parts) -> str:
    """A short digest of what a stored measurement was computed from (texts, labels, settings)."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()[:16]


def stored_arrays(name: str, key: str, shapes: dict[str, tuple[int, ...]],
                  compute: Callable[[], dict[str, np.ndarray]], cache_dir: Path | None = None) -> dict[str, np.ndarray]:
    """``disk_cache.stored_arrays`` at ``<cache>/<name>-v<version>-<key>.npz``."""
    return disk_cache.stored_arrays(disk_cache.cache_folder(cache_dir, CACHE_DIR) / f"{name}-v{CACHE_VERSION}-{key}.npz",
                                    shapes, compute)


class ReaderInputError(ValueError):
    """Input the page explains instead of computing: ``key`` names a string in reader.json."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(f"{key} {values}")


# ---------------------------------------------------------------------------------------------
# Fill in the blank


@dataclass(frozen=True)
class Sentence:
    tokens: list[str]  # WordPiece pieces, [CLS] and [SEP] included
    ids: list[int]
    special: list[bool]  # [CLS], [SEP], [PAD], [UNK] and friends: never a word to guess
    typed_masks: list[int]  # positions where the person typed [MASK]

    @property
    def ordinary(self) -> int:
        """How many tokens are words or word pieces (the ones the recipe may pick)."""
        return sum(i >= FIRST_WORD_ID for i in self.ids)


def read_sentence(tokenizer, text: str, limit: int = MAX_POSITIONS) -> Sentence:
    """WordPiece pieces of ``text`` ("[mask]" in any case counts as [MASK]); an input longer
    than MiniLM's ``limit`` positions raises ``too_long`` rather than being cut silently."""
    encoding = tokenizer.encode(_TYPED_MASK.sub("[MASK]", text))
    ids = list(encoding.ids)
    if len(ids) > limit:
        raise ReaderInputError("err_too_long", n=len(ids), limit=limit)
    return Sentence(list(encoding.tokens), ids, [i < FIRST_WORD_ID and i != MASK_ID for i in ids],
                    [index for index, i in enumerate(ids) if i == MASK_ID])


@dataclass(frozen=True)
class Blank:
    position: int
    true_token: str | None  # the hidden word when a chip was masked; None for a typed [MASK]
    guesses: dict[str, list[Guess]]  # view -> the top guesses
    true_probability: dict[str, float]  # view -> the hidden word's probability (when known)


@dataclass(frozen=True)
class FillResult:
    tokens: list[str]  # as the model reads them: chosen chips replaced by [MASK]
    blanks: list[Blank]


def blank_positions(sentence: Sentence, chosen: Sequence[int]) -> list[int]:
    """The typed [MASK]s plus the chosen chips; a special token cannot be a blank."""
    for position in chosen:
        if sentence.special[position]:
            raise ReaderInputError("err_special", token=sentence.tokens[position])
    positions = sorted(set(sentence.typed_masks) | set(chosen))
    if not positions:
        raise ReaderInputError("err_no_mask")
    if len(positions) > MAX_MASKS:
        raise ReaderInputError("err_too_many_masks", n=len(positions), limit=MAX_MASKS)
    return positions


def view_mask(length: int, position: int, view: str, special: Sequence[bool]) -> list[bool]:
    """Which tokens attention may read for one blank: all, or all but the words right / left of it
    (the [CLS] / [SEP] markers always stay)."""
    if view == "both":
        return [True] * length
    keep_left = view == "left"
    return [special[i] or (i <= position if keep_left else i >= position) for i in range(length)]


def barely_beats_unigram(scores: dict, margin: float = 0.10) -> bool:
    """Whether the recorded top-5 accuracy is within ``margin`` of always guessing the most
    frequent pieces: then the page says plainly that the head is undertrained."""
    return scores["top5"] < scores["unigram_top5"] + margin


TARGET_TOP5 = 0.45  # issue 19's target for the held-out top-5 accuracy


def quality_note(scores: dict) -> str | None:
    """Which warning the page adds under the recorded scores: ``undertrained`` when the head
    barely beats the unigram guess, ``weak`` when it beats it but misses the target, else none."""
    if barely_beats_unigram(scores):
        return "undertrained"
    return "weak" if scores["top5"] < TARGET_TOP5 else None


@torch.inference_mode()
def fill_in(reader: FillMask, sentence: Sentence, chosen: Sequence[int] = (), k: int = 5) -> FillResult:
    """Top-k guesses for every blank, seeing both sides, only the left, and only the right."""
    positions = blank_positions(sentence, chosen)
    ids = [MASK_ID if i in positions else token for i, token in enumerate(sentence.ids)]
    rows = [("both", None)] + [(view, p) for p in positions for view in VIEWS[1:]]
    attention = torch.tensor([view_mask(len(ids), p if p is not None else 0, view, sentence.special)
                              for view, p in rows])  # (R, T)
    batch = torch.tensor([ids] * len(rows))
    probabilities = torch.softmax(reader.model.head(reader.model.hidden(batch, attention)), dim=-1)  # (R, T, V)
    blanks = []
    for position in positions:
        typed = position in sentence.typed_masks
        per_view = {"both": probabilities[0, position]}
        for row, (view, p) in enumerate(rows):
            if p == position:
                per_view[view] = probabilities[row, position]
        blanks.append(Blank(
            position=position,
            true_token=None if typed else sentence.tokens[position],
            guesses={view: top_guesses(p, reader.vocab, k) for view, p in per_view.items()},
            true_probability={} if typed else {view: float(p[sentence.ids[position]]) for view, p in per_view.items()},
        ))
    return FillResult(["[MASK]" if i in positions else token for i, token in enumerate(sentence.tokens)], blanks)


# ---------------------------------------------------------------------------------------------
# The masking recipe


@dataclass(frozen=True)
class Recipe:
    tokens: list[str]  # after the recipe: what the model reads
    actions: list[int]  # per position: KEEP, MASKED, RANDOM or UNCHANGED (minilm_mlm's codes)

    @property
    def picked(self) -> list[int]:
        return [i for i, action in enumerate(self.actions) if action]


def masking_recipe(sentence: Sentence, vocab: list[str], seed: int) -> Recipe:
    """BERT's recipe once on the sentence, seeded: which tokens are picked and what each becomes."""
    masked, action = mask_tokens(torch.tensor([sentence.ids]), torch.Generator().manual_seed(seed))
    return Recipe([vocab[i] for i in masked[0].tolist()], action[0].tolist())


def recipe_shares(sentence: Sentence, seed: int, runs: int = 1000) -> dict[str, float]:
    """The recipe ``runs`` times on the sentence: the share of ordinary tokens picked, and how the
    picked ones split into [MASK] / random / unchanged."""
    ids = torch.tensor([sentence.ids] * runs)
    _, action = mask_tokens(ids, torch.Generator().manual_seed(seed))
    picked = int((action > 0).sum())
    ordinary = int((ids >= FIRST_WORD_ID).sum())
    return {"picked": picked / max(ordinary, 1),
            **{name: int((action == code).sum()) / max(picked, 1) for code, name in
               ((1, "masked"), (2, "random"), (3, "unchanged"))}}


# ---------------------------------------------------------------------------------------------
# Sentence pairs


@dataclass(frozen=True)
class Pair:
    tokens: list[str]
    ids: list[int]
    segments: list[int]  # 0 for [CLS] A [SEP], 1 for B [SEP]


def sentence_pair(tokenizer, first: str, second: str, limit: int = MAX_POSITIONS) -> Pair:
    """``[CLS] A [SEP] B [SEP]`` with segment ids, as BERT was fed sentence pairs."""
    encoding = tokenizer.encode(first, second)
    if len(encoding.ids) > limit:
        raise ReaderInputError("err_too_long", n=len(encoding.ids), limit=limit)
    return Pair(list(encoding.tokens), list(encoding.ids), list(encoding.type_ids))


def lee_stories() -> list[list[str]]:
    """The Lee corpus (300 short news stories, bundled with gensim) as lists of sentences; one-sentence stories left out."""
    from models.text.corpus import lee_documents, split_sentences

    return [sentences for doc in lee_documents() if len(sentences := split_sentences(doc.text)) > 1]


def story_pairs(stories: Sequence[Sequence[str]], n_pairs: int, seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``n_pairs`` (sentence, its real next sentence) and as many (sentence, a sentence from
    another story), drawn with a seeded generator."""
    generator = np.random.default_rng(seed)
    candidates = [(s, i) for s, story in enumerate(stories) for i in range(len(story) - 1)]
    chosen = generator.choice(len(candidates), size=min(n_pairs, len(candidates)), replace=False)
    true_pairs, random_pairs = [], []
    for index in chosen:
        story, i = candidates[index]
        other = int(generator.integers(len(stories) - 1))
        other += other >= story  # any story but this one
        true_pairs.append((stories[story][i], stories[story][i + 1]))
        random_pairs.append((stories[story][i], stories[other][int(generator.integers(len(stories[other])))]))
    return true_pairs, random_pairs


@dataclass(frozen=True)
class PairScores:
    true_next: np.ndarray  # (N,) cosine similarity of each sentence with its real next sentence
    random: np.ndarray  # (N,) ... with a random sentence from another story

    @property
    def true_wins(self) -> float:
        """How often the real next sentence is the more similar of the two."""
        return float((self.true_next > self.random).mean())


def pair_similarity(embed: Callable[[list[str]], np.ndarray], first: str, second: str) -> float:
    """Cosine similarity of two sentences: the dot product of their unit vectors from ``embed``."""
    vectors = embed([first, second])
    return float(vectors[0] @ vectors[1])


def next_vs_random(embed: Callable[[list[str]], np.ndarray], stories: Sequence[Sequence[str]],
                   n_pairs: int = 80, seed: int = 0) -> PairScores:
    """Sentence similarity (unit vectors from ``embed``) for true next sentences vs random ones."""
    true_pairs, random_pairs = story_pairs(stories, n_pairs, seed)
    firsts = embed([a for a, _ in true_pairs])
    return PairScores((firsts * embed([b for _, b in true_pairs])).sum(1),
                      (firsts * embed([b for _, b in random_pairs])).sum(1))


def stored_next_vs_random(embed: Callable[[list[str]], np.ndarray], load_stories: Callable[[], Sequence[Sequence[str]]],
                          corpus: str, n_pairs: int = 80, seed: int = 0, model: str = "",
                          cache_dir: Path | None = None) -> PairScores:
    """``next_vs_random`` kept on disk per seed, ``corpus`` (a name that changes with the stories:
    reading them imports gensim, a second, so they are loaded only when the file is missing) and
    ``model`` (a name for the embedder)."""
    key = content_key("pairs", model, corpus, n_pairs, seed)
    arrays = stored_arrays("pairs", key, {"true_next": (n_pairs,), "random": (n_pairs,)},
                           lambda: vars(next_vs_random(embed, load_stories(), n_pairs, seed)), cache_dir)
    return PairScores(arrays["true_next"], arrays["random"])


def lee_corpus_name() -> str:
    """The Lee stories' name for ``stored_next_vs_random``: they ship inside gensim's package."""
    from importlib.metadata import version

    return f"gensim-{version('gensim')}-lee_background"


# ---------------------------------------------------------------------------------------------
# Fine-tuning with a few labelled examples


def bow_vectors(train_texts: Sequence[str], texts: Sequence[str]) -> np.ndarray:
    """Bag-of-words counts over the training examples' vocabulary, rows scaled to unit length
    (a word never seen in training counts for nothing)."""
    vocabulary = bow.build_vocabulary([bow.tokenize(text) for text in train_texts])
    known = set(vocabulary)
    counts = bow.count_matrix([[word for word in bow.tokenize(text) if word in known] for text in texts],
                              vocabulary).astype(np.float32)
    norms = np.linalg.norm(counts, axis=1, keepdims=True)
    return counts / np.where(norms == 0, 1, norms)


@dataclass(frozen=True)
class Classifier:
    weights: np.ndarray  # (features, labels)
    bias: np.ndarray  # (labels,)
    losses: list[float]  # training loss per step

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weights + self.bias
        logits = logits - logits.max(1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(1, keepdims=True)

    def accuracy(self, features: np.ndarray, labels: Sequence[int]) -> float:
        return float((self.probabilities(features).argmax(1) == np.asarray(labels)).mean())


def train_classifier(features: np.ndarray, labels: Sequence[int], n_labels: int, seed: int = 0,
                     steps: int = 100, lr: float = 0.5, weight_decay: float = 1e-3,
                     on_progress: Callable[[float], None] | None = None) -> Classifier:
    """Logistic regression (one linear layer, softmax) by full-batch gradient descent; the start
    weights come from ``seed``, so the same seed gives the same classifier."""
    x = torch.from_numpy(np.asarray(features, dtype=np.float32))
    y = torch.tensor(list(labels), dtype=torch.long)
    generator = torch.Generator().manual_seed(seed)
    weights = (torch.randn(x.shape[1], n_labels, generator=generator) * 0.01).requires_grad_()
    bias = torch.zeros(n_labels, requires_grad=True)
    optimizer = torch.optim.SGD([weights, bias], lr=lr, momentum=0.9)
    losses = []
    for step in range(steps):
        loss = torch.nn.functional.cross_entropy(x @ weights + bias, y) + weight_decay * (weights ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        if on_progress is not None and (step + 1) % 20 == 0:
            on_progress((step + 1) / steps)
    return Classifier(weights.detach().numpy(), bias.detach().numpy(), losses)


def train_both(vectors: dict[str, np.ndarray], labels: Sequence[int], n_labels: int, seed: int,
               on_progress: Callable[[float], None] | None = None) -> dict[str, Classifier]:
    """The same classifier trained on each kind of vector (name -> (examples, features))."""
    report = (lambda share: None) if on_progress is None else on_progress
    return {name: train_classifier(features, labels, n_labels, seed,
                                   on_progress=lambda f, i=i: report((i + f) / len(vectors)))
            for i, (name, features) in enumerate(vectors.items())}


@dataclass(frozen=True)
class LabelledSet:
    labels: list[str]
    pool: list[tuple[str, int]]  # examples may be drawn from these
    heldout: list[tuple[str, int]]  # only ever scored


def read_examples(path: Path = EXAMPLES) -> dict:
    """The bundled labelled set: short opinions written for this project (see its "what" field)."""
    return json.loads(path.read_text(encoding="utf-8"))


def labelled_set(data: dict) -> LabelledSet:
    """The bundled set (assets/reader/reviews.json as a dict) split into pool and held-out."""
    labels, size = list(data["labels"]), int(data["pool_per_label"])
    pool = [(text, index) for index, label in enumerate(labels) for text in data["sentences"][label][:size]]
    heldout = [(text, index) for index, label in enumerate(labels) for text in data["sentences"][label][size:]]
    return LabelledSet(labels, pool, heldout)


def examples_from_lines(blocks: Sequence[str], limit: int = 64) -> tuple[list[str], list[int]]:
    """One text block per label, one example per non-empty line (at most ``limit`` per label)
    -> the examples and their label numbers."""
    texts, labels = [], []
    for label, block in enumerate(blocks):
        lines = [line.strip() for line in block.split("\n") if line.strip()][:limit]
        texts.extend(lines)
        labels.extend([label] * len(lines))
    return texts, labels


def draw_examples(pool: Sequence[tuple[str, int]], per_label: int, n_labels: int, seed: int) -> list[int]:
    """Indices of ``per_label`` pool examples of every label, drawn with a seeded generator."""
    generator = np.random.default_rng(seed)
    chosen = []
    for label in range(n_labels):
        members = [i for i, (_, y) in enumerate(pool) if y == label]
        chosen.extend(int(i) for i in generator.choice(members, size=min(per_label, len(members)), replace=False))
    return chosen


def few_shot_curve(data: LabelledSet, embed: Callable[[list[str]], np.ndarray], sizes=(4, 8, 16, 32),
                   seeds: int = 5, first_seed: int = 0,
                   on_progress: Callable[[float], None] | None = None) -> dict[str, np.ndarray]:
    """Held-out accuracy (seeds, sizes) of the same classifier on MiniLM vectors and on
    bag-of-words vectors; seed ``first_seed + i`` draws run i's examples and start weights."""
    pool_texts, heldout_texts = [t for t, _ in data.pool], [t for t, _ in data.heldout]
    pool_vectors, heldout_vectors = embed(pool_texts), embed(heldout_texts)
    heldout_labels = [y for _, y in data.heldout]
    n = len(data.labels)
    scores = {"minilm": np.zeros((seeds, len(sizes))), "bow": np.zeros((seeds, len(sizes)))}
    for run, seed in enumerate(range(first_seed, first_seed + seeds)):
        for column, size in enumerate(sizes):
            chosen = draw_examples(data.pool, size, n, seed)
            labels = [data.pool[i][1] for i in chosen]
            minilm = train_classifier(pool_vectors[chosen], labels, n, seed)
            scores["minilm"][run, column] = minilm.accuracy(heldout_vectors, heldout_labels)
            chosen_texts = [pool_texts[i] for i in chosen]
            words = train_classifier(bow_vectors(chosen_texts, chosen_texts), labels, n, seed)
            scores["bow"][run, column] = words.accuracy(bow_vectors(chosen_texts, heldout_texts), heldout_labels)
        if on_progress is not None:
            on_progress((run + 1) / seeds)
    return scores



def stored_few_shot_curve(data: LabelledSet, embed: Callable[[list[str]], np.ndarray], sizes=(4, 8, 16, 32),
                          seeds: int = 5, first_seed: int = 0, model: str = "",
                          cache_dir: Path | None = None) -> dict[str, np.ndarray]:
    """``few_shot_curve`` kept on disk per labelled set, sizes, seeds and ``model``."""
    key = content_key("few-shot", model, list(sizes), seeds, first_seed, data.labels, data.pool, data.heldout)
    shape = (seeds, len(sizes))
    return stored_arrays("few_shot", key, {"minilm": shape, "bow": shape},
                         lambda: few_shot_curve(data, embed, sizes, seeds, first_seed), cache_dir)
