"""The tokenizers page's byte-piece table: pieces back to their bytes, bytes joined back to the characters
they spell, never a U+FFFD replacement character; a missing vocabulary is a reason, not an exception."""

import pytest

from models.labs import tokenizers as lab
from models.text import frontier_tokenizers as ft
from models.text import tokenization as tk

BYTE_LEVEL = ("cl100k_base", "o200k_base", "bpe", "unigram", "tiny_gpt")


def test_piece_bytes():
    assert lab.piece_bytes(" <0xE9><0xB8>") == b" \xe9\xb8"
    assert lab.piece_bytes("<0x9F>") == b"\x9f"
    assert lab.piece_bytes("猫 cat") == "猫 cat".encode()
    assert lab.piece_bytes("<0xZZ>") == b"<0xZZ>"  # not a byte piece: taken as the text it is


@pytest.mark.parametrize("kind", BYTE_LEVEL)
@pytest.mark.parametrize("example", ["course", "emoji", "zh"])
def test_byte_rows_join_back_and_never_show_a_replacement_character(kind, example):
    text = tk.EXAMPLE_TEXTS[example]
    rows = lab.byte_piece_rows([(kind, tk.tokenize(kind, text))], per_tokenizer=100)
    for row in rows:
        assert not any("\ufffd" in value for value in [*row["pieces"], row["joined"]])
        joined = row["joined"].strip()  # Unigram adds a space (▁) in front of the text
        assert joined and "<0x" not in joined and joined in text
        assert bytes.fromhex(" ".join(row["bytes"])).decode("utf-8") == row["joined"]
        assert [lab.piece_bytes(piece).hex(" ").upper() for piece in row["pieces"]] == row["bytes"]
        assert len(row["ids"]) == len(row["pieces"]) >= 2


def test_gpt4_cuts_the_course_texts_bird_into_three_byte_pieces():
    rows = lab.byte_piece_rows([("GPT-4", tk.tokenize("cl100k_base", tk.EXAMPLE_TEXTS["course"]))], per_tokenizer=10)
    bird = next(row for row in rows if row["joined"] == " 鸟")
    assert bird["bytes"] == ["20 E9", "B8", "9F"] and bird["pieces"] == [" <0xE9>", "<0xB8>", "<0x9F>"]
    assert bird["ids"] == ft.encoding("cl100k_base").encode_ordinary(" 鸟")


def test_no_rows_for_text_that_is_cut_at_whole_characters():
    assert lab.byte_piece_rows([("GPT-4", tk.tokenize("cl100k_base", "hello world"))]) == []


def test_frontier_problems(monkeypatch):
    assert lab.frontier_problems(list(tk.KINDS)) == {}

    def missing(name):
        raise ft.FrontierTokenizerError("missing", name)

    monkeypatch.setattr(ft, "encoding", missing)
    assert lab.frontier_problems(["bytes", "o200k_base"]) == {"o200k_base": "missing"}
