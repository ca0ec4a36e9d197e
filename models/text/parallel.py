"""A parallel corpus English -> German, generated from a small written-down grammar.

Why generated: no licensed German corpus ships with our packages, and a grammar we wrote
knows the *true* word alignment of every pair (which English word each German word
translates), the ground truth for measuring what cross-attention looks at.

What makes it a translation task and not a word-for-word lookup:

* **agreement**: German articles, adjectives and relative pronouns follow the noun's gender
  (der Hund, die Katze, das Kind) and case (subject "der Hund", object "den Hund", after
  "mit" "dem Hund"); verbs follow number ("the dog sees" -> "sieht", "the dogs see" -> "sehen");
* **word order**: after a fronted adverb the verb comes second ("today the dog sees the cat"
  -> "heute sieht der Hund die Katze"); in subordinate clauses after "because" / "that" /
  "while" the verb goes to the end ("weil der Mann das Pferd füttert"); relative clauses
  ("the dog that sees the cat sleeps" -> "der Hund , der die Katze sieht , schläft");
* **length**: from 3 words ("the dog sleeps") to over 40, with clauses inside clauses.

Grammar (English side; brackets are optional, each choice drawn at random):

    sentence := [adverb] main ["and" main] [subordinator sub] "."
    main     := subject verb [object] ["with" noun_phrase]
    subject  := noun_phrase ["that" verb [object] ["with" noun_phrase]]   (a relative clause)
    sub      := subject verb [object] ["with" noun_phrase]  |  noun_phrase says "that" sub
    noun_phrase := "the" [adjective] noun      (singular or plural)

Every German token carries the index of the English token it translates, or -1 for the
commas German puts around clauses (they translate no English word).

Tokens are lower-case words; ``tokenize`` splits typed text the same way. The split into
training and held-out pairs is by English sentence: a held-out source never occurs in
training. Training pairs have at most ``TRAIN_MAX_WORDS`` English words; the held-out set
also has longer ones, to see what happens past the training range.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = range(4)
TRAIN_MAX_WORDS = 30  # English words, the full stop not counted
HELDOUT_MAX_WORDS = 40

# noun: English singular, English plural, gender, German singular, plural, dative plural
NOUNS = [
    ("dog", "dogs", "m", "hund", "hunde", "hunden"),
    ("cat", "cats", "f", "katze", "katzen", "katzen"),
    ("child", "children", "n", "kind", "kinder", "kindern"),
    ("man", "men", "m", "mann", "männer", "männern"),
    ("woman", "women", "f", "frau", "frauen", "frauen"),
    ("horse", "horses", "n", "pferd", "pferde", "pferden"),
    ("teacher", "teachers", "m", "lehrer", "lehrer", "lehrern"),
    ("bird", "birds", "m", "vogel", "vögel", "vögeln"),
    ("girl", "girls", "n", "mädchen", "mädchen", "mädchen"),
    ("mouse", "mice", "f", "maus", "mäuse", "mäusen"),
    ("friend", "friends", "m", "freund", "freunde", "freunden"),
    ("sister", "sisters", "f", "schwester", "schwestern", "schwestern"),
    ("doctor", "doctors", "m", "arzt", "ärzte", "ärzten"),
    ("sheep", "sheep", "n", "schaf", "schafe", "schafen"),
]
ADJECTIVES = [("big", "groß"), ("small", "klein"), ("old", "alt"), ("young", "jung"),
              ("fast", "schnell"), ("clever", "klug"), ("loud", "laut"), ("tired", "müd")]
# verb: English 3rd singular, plural, German 3rd singular, plural
TRANSITIVE = [("sees", "see", "sieht", "sehen"), ("likes", "like", "mag", "mögen"),
              ("feeds", "feed", "füttert", "füttern"), ("visits", "visit", "besucht", "besuchen"),
              ("finds", "find", "findet", "finden"), ("hears", "hear", "hört", "hören"),
              ("watches", "watch", "beobachtet", "beobachten"), ("calls", "call", "ruft", "rufen")]
INTRANSITIVE = [("sleeps", "sleep", "schläft", "schlafen"), ("runs", "run", "läuft", "laufen"),
                ("laughs", "laugh", "lacht", "lachen"), ("waits", "wait", "wartet", "warten"),
                ("sings", "sing", "singt", "singen")]
SAYS = ("says", "say", "sagt", "sagen")
ADVERBS = [("today", "heute"), ("now", "jetzt"), ("often", "oft"), ("sometimes", "manchmal")]
SUBORDINATORS = [("because", "weil"), ("while", "während"), ("when", "wenn")]
# definite article (and relative pronoun) by case and gender / plural
ARTICLE = {"nom": {"m": "der", "f": "die", "n": "das", "pl": "die"},
           "acc": {"m": "den", "f": "die", "n": "das", "pl": "die"},
           "dat": {"m": "dem", "f": "der", "n": "dem", "pl": "den"}}
# adjective ending after a definite article (weak declension)
ADJECTIVE_ENDING = {"nom": {"m": "e", "f": "e", "n": "e", "pl": "en"},
                    "acc": {"m": "en", "f": "e", "n": "e", "pl": "en"},
                    "dat": {"m": "en", "f": "en", "n": "en", "pl": "en"}}


@dataclass(frozen=True)
class Pair:
    """One sentence pair. ``alignment[j]`` is the index in ``source`` of the English word that
    German word ``j`` translates, or -1 (a comma German adds)."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    alignment: tuple[int, ...]


class Phrase:
    """English words and German words (each pointing at an English word of this phrase or -1)."""

    def __init__(self, english: list[str] | None = None, german: list[tuple[str, int]] | None = None):
        self.english = english or []
        self.german = german or []


def word(english: str, german: str) -> Phrase:
    return Phrase([english], [(german, 0)])


def comma() -> Phrase:
    return Phrase([], [(",", -1)])


def join(english_order: list[Phrase], german_order: list[Phrase]) -> Phrase:
    """Put phrases together: English in one order, German in another (the same phrases,
    plus German-only ones such as commas); alignment indices are shifted accordingly."""
    offsets, english = {}, []
    for phrase in english_order:
        offsets[id(phrase)] = len(english)
        english.extend(phrase.english)
    german = []
    for phrase in german_order:
        shift = offsets.get(id(phrase), 0)
        german.extend((token, index + shift if index >= 0 else -1) for token, index in phrase.german)
    return Phrase(english, german)


def noun_phrase(rng: random.Random, case: str) -> tuple[Phrase, str]:
    """"the [adjective] noun" in a German case; returns the phrase and its gender / "pl"."""
    en_sg, en_pl, gender, de_sg, de_pl, de_dat_pl = rng.choice(NOUNS)
    plural = rng.random() < 0.35
    key = "pl" if plural else gender
    noun = word(en_pl if plural else en_sg, (de_dat_pl if case == "dat" else de_pl) if plural else de_sg)
    parts = [word("the", ARTICLE[case][key])]
    if rng.random() < 0.4:
        en_adj, de_adj = rng.choice(ADJECTIVES)
        parts.append(word(en_adj, de_adj + ADJECTIVE_ENDING[case][key]))
    parts.append(noun)
    return join(parts, parts), key


def verb_phrase(rng: random.Random, number: str, depth: int):
    """Verb, optional object and optional "with" phrase, kept apart so German can reorder.

    Returns (verb, rest): ``rest`` is the object and "with ..." in the same order in both languages.
    """
    transitive = rng.random() < 0.6
    en_sg, en_pl, de_sg, de_pl = rng.choice(TRANSITIVE if transitive else INTRANSITIVE)
    verb = word(en_sg if number != "pl" else en_pl, de_sg if number != "pl" else de_pl)
    rest = []
    if transitive:
        rest.append(noun_phrase(rng, "acc")[0])
    if rng.random() < 0.3 + 0.1 * depth:
        rest.append(_with_phrase(rng))
    return verb, rest


def _with_phrase(rng: random.Random) -> Phrase:
    preposition, (phrase, _) = word("with", "mit"), noun_phrase(rng, "dat")
    return join([preposition, phrase], [preposition, phrase])


def subject(rng: random.Random, allow_relative: bool) -> tuple[Phrase, str, bool]:
    """The subject noun phrase, sometimes with a relative clause "that ..." (German: ", der ... verb")."""
    phrase, key = noun_phrase(rng, "nom")
    if not (allow_relative and rng.random() < 0.35):
        return phrase, key, False
    pronoun = word("that", ARTICLE["nom"][key])
    verb, rest = verb_phrase(rng, key, depth=1)
    clause = join([phrase, pronoun, verb, *rest], [phrase, comma(), pronoun, *rest, verb])
    return clause, key, True


def main_clause(rng: random.Random, fronted: Phrase | None) -> Phrase:
    """subject verb rest; with a fronted adverb German puts the verb before the subject (verb second)."""
    subj, key, relative = subject(rng, allow_relative=True)
    verb, rest = verb_phrase(rng, key, depth=0)
    closing = [comma()] if relative else []  # German closes the relative clause with a comma
    if fronted is None:
        return join([subj, verb, *rest], [subj, *closing, verb, *rest])
    return join([fronted, subj, verb, *rest], [fronted, verb, subj, *closing, *rest])


def sub_clause(rng: random.Random, depth: int = 0) -> Phrase:
    """A subordinate clause: the German verb goes to the end ("weil der Hund die Katze sieht")."""
    subj, key, _ = subject(rng, allow_relative=False)
    if depth < 2 and rng.random() < 0.25:  # "the man says that ...": a clause inside a clause
        says = word(SAYS[0] if key != "pl" else SAYS[1], SAYS[2] if key != "pl" else SAYS[3])
        that, inner = word("that", "dass"), sub_clause(rng, depth + 1)
        # "sagt" ends its own clause; the "dass" clause follows after a comma
        return join([subj, says, that, inner], [subj, says, comma(), that, inner])
    verb, rest = verb_phrase(rng, key, depth=1)
    return join([subj, verb, *rest], [subj, *rest, verb])


def sentence(rng: random.Random) -> Pair:
    parts_en, parts_de = [], []
    fronted = word(*rng.choice(ADVERBS)) if rng.random() < 0.3 else None
    first = main_clause(rng, fronted)
    parts_en.append(first)
    parts_de.append(first)
    if rng.random() < 0.35:
        conj, second = word("and", "und"), main_clause(rng, None)
        parts_en += [conj, second]
        parts_de += [conj, second]
    if rng.random() < 0.5:
        subordinator, clause = word(*rng.choice(SUBORDINATORS)), sub_clause(rng)
        parts_en += [subordinator, clause]
        parts_de += [comma(), subordinator, clause]
    stop = word(".", ".")
    whole = join(parts_en + [stop], parts_de + [stop])
    german = tidy_commas(whole.german)
    return Pair(tuple(whole.english), tuple(token for token, _ in german), tuple(index for _, index in german))


def tidy_commas(german: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """A clause that ends where another begins would get two commas, one before "." is not
    written: keep one comma between clauses and none before the full stop."""
    tidy = []
    for token, index in german:
        if token in (",", ".") and tidy and tidy[-1][0] == ",":
            tidy.pop()
        tidy.append((token, index))
    return tidy


def n_words(pair: Pair) -> int:
    """Length of a pair: its English words, the full stop not counted."""
    return len(pair.source) - 1


@dataclass(frozen=True)
class ParallelCorpus:
    train: tuple[Pair, ...]
    heldout: tuple[Pair, ...]
    source_vocab: tuple[str, ...]  # index = id; the specials first
    target_vocab: tuple[str, ...]


def vocabularies() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every word the grammar can produce, English and German, after the special tokens."""
    english = {"the", "that", "with", "and", "."} | {SAYS[0], SAYS[1]}
    german = {",", ".", "mit", "und", "dass", SAYS[2], SAYS[3]}
    german |= {article for by_key in ARTICLE.values() for article in by_key.values()}
    for en_sg, en_pl, _, de_sg, de_pl, de_dat in NOUNS:
        english |= {en_sg, en_pl}
        german |= {de_sg, de_pl, de_dat}
    for en_adj, de_adj in ADJECTIVES:
        english.add(en_adj)
        german |= {de_adj + ending for by_key in ADJECTIVE_ENDING.values() for ending in by_key.values()}
    for en_sg, en_pl, de_sg, de_pl in TRANSITIVE + INTRANSITIVE:
        english |= {en_sg, en_pl}
        german |= {de_sg, de_pl}
    for en, de in ADVERBS + SUBORDINATORS:
        english.add(en)
        german.add(de)
    return SPECIALS + tuple(sorted(english)), SPECIALS + tuple(sorted(german))


def generate(n_train: int = 20000, n_heldout_per_length: int = 40, seed: int = 0,
             max_words: int = HELDOUT_MAX_WORDS) -> ParallelCorpus:
    """Sentences drawn until every English length from 3 to the maximum has its share.

    Lengths are balanced: training has about the same number of pairs of every length
    3..TRAIN_MAX_WORDS, the held-out set ``n_heldout_per_length`` of every length 3..max_words
    (the shortest lengths have few distinct sentences, so they get fewer: drawing stops once
    20,000 draws in a row kept nothing). Held-out English sentences are never in training.
    """
    rng = random.Random(seed)
    lengths = range(3, max_words + 1)
    train_max = min(TRAIN_MAX_WORDS, max_words)
    train_quota = {n: n_train // (train_max - 2) for n in range(3, train_max + 1)}
    heldout_quota = {n: n_heldout_per_length for n in lengths}
    train, heldout, seen = [], [], set()
    since_new = 0  # draws since a pair was last kept: short lengths run out of distinct sentences
    while since_new < 20_000 and (any(train_quota.values()) or any(heldout_quota.values())):
        pair = sentence(rng)
        n = n_words(pair)
        since_new += 1
        if n not in heldout_quota or pair.source in seen:
            continue
        seen.add(pair.source)
        if heldout_quota[n] and (rng.random() < 0.2 or not train_quota.get(n)):
            heldout_quota[n] -= 1
            heldout.append(pair)
            since_new = 0
        elif train_quota.get(n):
            train_quota[n] -= 1
            train.append(pair)
            since_new = 0
    source_vocab, target_vocab = vocabularies()
    return ParallelCorpus(tuple(train), tuple(heldout), source_vocab, target_vocab)


_WORD = re.compile(r"[^\W\d_]+|[.,]|\S", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Typed English -> the corpus's tokens: lower case, words and "." / "," apart."""
    return _WORD.findall(text.lower())
