"""Tokens as a page shows them: the byte-level alphabet, the end-of-text token, the token to point at.

A byte-level BPE token is stored as text in which every byte has been swapped for a
printable stand-in character (a space becomes "Ġ", a newline "Ċ"). ``token_text`` undoes
that, so a page can show the real characters a token stands for.
"""

from __future__ import annotations

from functools import lru_cache

END_OF_TEXT = "<|endoftext|>"  # the tiny GPTs' one special token: it separates documents in a stream


@lru_cache(maxsize=1)
def _stand_in_to_byte() -> dict[str, int]:
    """The byte-level alphabet: which printable character stands for which byte.

    Bytes that are already visible, non-space characters (``!``..``~``, ``¡``..``¬``,
    ``®``..``ÿ``) stand for themselves; the remaining 68 bytes (controls, space, a few
    Latin-1 gaps) are given the code points 256, 257, ... in byte order.
    """
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {chr(byte): byte for byte in visible}
    next_code_point = 256
    for byte in range(256):
        if byte not in visible:
            table[chr(next_code_point)] = byte
            next_code_point += 1
    return table


def token_bytes(token: str) -> bytes:
    """The raw bytes a byte-level token stands for (special tokens are returned as UTF-8)."""
    table = _stand_in_to_byte()
    if not all(ch in table for ch in token):
        return token.encode("utf-8")
    return bytes(table[ch] for ch in token)


def token_text(token: str) -> str:
    """A byte-level token as readable text: "Ġthe" -> " the". A token that holds only part of a
    multi-byte character (common for Chinese or emoji) shows its bytes, e.g. "\\xe4\\xb8"."""
    raw = token_bytes(token)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="backslashreplace")


def default_token(tokens: list[str], preferred: str = "it") -> int:
    """Index of the first token that reads ``preferred`` (spaces and case ignored), else the last."""
    for index, token in enumerate(tokens):
        if token.strip().lower() == preferred:
            return index
    return max(len(tokens) - 1, 0)


def encode_in_place(tokens: list[str], position: int, word: str, encode) -> list[int]:
    """The ids of ``word`` written where ``tokens[position]`` stands: it takes over that token's leading
    space, so replacing " it" by "she" gives " she" (what a writer would type), not "she"."""
    spaced = tokens[position].startswith(" ") and not word.startswith(" ")
    return encode(" " + word if spaced and word else word)
