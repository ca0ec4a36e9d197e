"""The tokenizers page's experiments, as the tables and chips it shows.

The tokenizers themselves (whitespace, characters, bytes, WordPiece, GPT-4's and GPT-4o's, BPE,
Unigram, the tiny GPT's, a person's own) and the BPE step-through live in ``models.text.tokenization``
and ``models.text.frontier_tokenizers``; this module turns their results into chip colours, readable
pieces and table columns keyed like their headings in the locale file (``col_<key>``).
"""

from __future__ import annotations

import re
import unicodedata

from models.text import frontier_tokenizers as ft
from models.text import tokenization as tk

CHIP_CYCLE = (0, 1, 2, 3, 5)  # chip colours for ordinary tokens; 4 (red) is kept for unknown ones
UNKNOWN_TOKENS = {tk.UNKNOWN, tk.UNIGRAM_UNKNOWN}


def show_invisible(token: str) -> str:
    """Invisible format characters (zero-width joiner, variation selectors) written as their code point,
    so a chip that holds only one of them is not an empty box."""
    return "".join(f"U+{ord(ch):04X}" if unicodedata.category(ch) == "Cf" or 0xFE00 <= ord(ch) <= 0xFE0F else ch
                   for ch in token)


def chip_colours(result: tk.Tokenized) -> list[int]:
    """One colour per token: the word it came from picks a colour from CHIP_CYCLE; unknown tokens are red."""
    return [4 if token in UNKNOWN_TOKENS and result.n_unknown else CHIP_CYCLE[group % len(CHIP_CYCLE)]
            for token, group in zip(result.tokens, result.groups)]


def frontier_problems(kinds: list[str]) -> dict[str, str]:
    """Which of GPT-4's / GPT-4o's tokenizers among ``kinds`` cannot be read, and why ("missing" or
    "damaged" vocabulary file); the others are loaded (once per process)."""
    problems = {}
    for kind in kinds:
        if kind in tk.FRONTIER_KINDS:
            try:
                ft.encoding(kind)
            except ft.FrontierTokenizerError as error:
                problems[kind] = error.reason
    return problems


_HEX_BYTE = re.compile(r"<0x([0-9A-F]{2})>")


def piece_bytes(piece: str) -> bytes:
    """A readable piece back to its bytes: ``<0xE9>`` is that one byte, any other character its UTF-8."""
    raw, position = bytearray(), 0
    for match in _HEX_BYTE.finditer(piece):
        raw += piece[position:match.start()].encode("utf-8") + bytes([int(match.group(1), 16)])
        position = match.end()
    return bytes(raw + piece[position:].encode("utf-8"))


def byte_piece_rows(results: list[tuple[str, tk.Tokenized]], per_tokenizer: int = 3) -> list[dict]:
    """Characters that a tokenizer cut between their bytes (the first ``per_tokenizer`` of each): the
    pieces as the chips show them, their ids, each piece's bytes in hex, and the text the bytes spell
    once joined. Joined bytes that still are no whole character stay ``<0x..>``, never U+FFFD."""
    rows = []
    for name, result in results:
        groups: dict[int, list[tuple[str, int]]] = {}
        for token, token_id, group in zip(result.tokens, result.ids, result.groups):
            groups.setdefault(group, []).append((token, token_id))
        cut = [pieces for pieces in groups.values()
               if len(pieces) > 1 and any(tk.is_partial_piece(piece) for piece, _ in pieces)]
        for pieces in cut[:per_tokenizer]:
            raw = [piece_bytes(piece) for piece, _ in pieces]
            rows.append({
                "tokenizer": name,
                "pieces": [piece for piece, _ in pieces],
                "ids": [token_id for _, token_id in pieces],
                "bytes": [piece.hex(" ").upper() for piece in raw],
                "joined": tk.readable_bytes(b"".join(raw)),
            })
    return rows


def comparison_columns(results: list[tk.Tokenized]) -> dict[str, list]:
    """The comparison table after the tokenizer names: vocabulary, tokens, characters per token, unknown."""
    return {
        "vocab": [r.vocab_size for r in results],
        "tokens": [r.n_tokens for r in results],
        "ratio": [round(r.chars_per_token, 2) for r in results],
        "unknown": [r.n_unknown for r in results],
    }


def merge_columns(steps: list[tk.MergeStep], visible) -> dict[str, list]:
    """The merges done so far, one row each; ``visible`` shows a piece's whitespace."""
    return {
        "step": list(range(1, len(steps) + 1)),
        "pair": [" + ".join(visible(p) for p in s.pair) for s in steps],
        "new_token": [visible(s.token) for s in steps],
        "count": [s.count for s in steps],
    }


def merge_counts(trace: tk.MergeTrace) -> list[int]:
    """How many tokens the text is after 0, 1, ..., all merges."""
    return [len(trace.tokens_at(i)) for i in range(len(trace.steps) + 1)]


def by_kind(points: list[tk.TradeoffPoint]) -> dict[str, list[tk.TradeoffPoint]]:
    """The trade-off points of each trained kind, in vocabulary-size order."""
    return {kind: [p for p in points if p.kind == kind] for kind in tk.TRAINED_KINDS}


def tradeoff_row(point: tk.TradeoffPoint, context: int, d_model: int) -> dict[str, object]:
    """One trained tokenizer's line of the trade-off table (after its name)."""
    return {
        "vocab": point.actual_vocab_size,
        "tokens": point.text_tokens,
        "heldout_ratio": round(point.heldout_chars_per_token, 2),
        "context_chars": tk.characters_in_context(context, point.heldout_chars_per_token),
        "params": tk.embedding_parameters(point.actual_vocab_size, d_model),
    }


def tokens_per_size(points: list[tk.TradeoffPoint], on_text: bool) -> list[int]:
    """Token counts at each vocabulary size: of the reader's text, or (``on_text`` False) of the held-out sample."""
    return [p.text_tokens if on_text else p.heldout_tokens for p in points]
