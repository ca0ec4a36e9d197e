"""GPT-4's and GPT-4o's tokenizers, offline: ids equal to the ones OpenAI publishes, nothing fetched
from the network (sockets blocked while the vocabularies load, and again inside a network
namespace), byte pieces shown as bytes and joined back, never as U+FFFD."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from models.text import frontier_tokenizers as ft

REPO = Path(__file__).resolve().parents[2]

# Token ids as OpenAI's cookbook "How to count tokens with tiktoken" prints them (and "hello world",
# 2 tokens in both, as tiktoken's own tests and every online tokenizer viewer show it).
REFERENCE = [
    ("hello world", [15339, 1917], [24912, 2375]),
    ("tiktoken is great!", [83, 1609, 5963, 374, 2294, 0], [83, 8251, 2488, 382, 2212, 0]),
    ("antidisestablishmentarianism", [519, 85342, 34500, 479, 8997, 2191], [493, 129901, 376, 160388, 21203, 2367]),
    ("2 + 2 = 4", [17, 489, 220, 17, 284, 220, 19], [17, 659, 220, 17, 314, 220, 19]),
    ("お誕生日おめでとう", [33334, 45918, 243, 21990, 9080, 33334, 62004, 16556, 78699],
     [8930, 9697, 243, 128225, 8930, 17693, 4344, 48669]),
]
COURSE_TEXT = "CAPITALIZATION 🦙🎉 我爱自然语言处理。\nfor i in range(3):\n\tif i:\n\t\tprint(i)\n12.0*50=600"


class NetworkUsed(AssertionError):
    pass


@pytest.fixture(scope="module", autouse=True)
def no_network():
    """Every socket refuses to open while this file runs, and the vocabularies are read again
    (once) under that rule."""
    def refuse(*args, **kwargs):
        raise NetworkUsed("a tokenizer tried to open a network connection")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "socket", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setenv("TIKTOKEN_CACHE_DIR", "/nonexistent-tiktoken-cache")
        ft.encoding.cache_clear()
        yield
    ft.encoding.cache_clear()


def test_sockets_are_blocked():
    with pytest.raises(NetworkUsed):
        socket.create_connection(("127.0.0.1", 9))


@pytest.mark.parametrize("text, cl100k, o200k", REFERENCE)
def test_ids_equal_the_published_ones(text, cl100k, o200k):
    assert ft.frontier_tokenize("cl100k_base", text).ids == cl100k
    assert ft.frontier_tokenize("o200k_base", text).ids == o200k


def test_vocabulary_sizes():
    # tiktoken's n_vocab: the highest id plus one (100,256 / 199,998 merged pieces plus special tokens)
    assert ft.frontier_tokenize("cl100k_base", "a").vocab_size == 100277
    assert ft.frontier_tokenize("o200k_base", "a").vocab_size == 200019


def test_pattern_and_special_tokens_equal_tiktokens_own(monkeypatch):
    """tiktoken's built-in definitions, fed our (hash-checked) vocabulary instead of a download,
    must describe the same encoding: same published hash, same cut pattern, same special tokens."""
    from tiktoken_ext import openai_public

    def local_file(url, expected_hash):
        name = url.rsplit("/", 1)[-1].removesuffix(".tiktoken")
        assert expected_hash == ft.ENCODINGS[name].sha256
        return ft.read_ranks(ft.vocabulary_path(name), expected_hash)

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", local_file)
    for name, spec in ft.ENCODINGS.items():
        builtin = getattr(openai_public, name)()
        assert builtin["pat_str"] == spec.pattern
        assert builtin["special_tokens"] == dict(spec.special_tokens)


def test_byte_pieces_are_bytes_and_join_back():
    result = ft.frontier_tokenize("o200k_base", "お誕生日")
    # "誕" is three UTF-8 bytes, cut two + one: both pieces shown as bytes, grouped with the character
    assert ("誕", ["<0xE8><0xAA>", "<0x95>"]) in result.byte_groups
    first = result.tokens.index("<0xE8><0xAA>")
    assert result.groups[first] == result.groups[first + 1]
    assert ft.join_pieces("o200k_base", result.ids[first:first + 2]) == "誕"


@pytest.mark.parametrize("name", ft.KINDS)
def test_course_text_has_no_replacement_character(name):
    result = ft.frontier_tokenize(name, COURSE_TEXT)
    assert not any("\ufffd" in token for token in result.tokens)
    assert "".join(result.tokens).count("<0x") > 0  # the emoji are cut between bytes
    for characters, pieces in result.byte_groups:
        assert "\ufffd" not in characters and characters in COURSE_TEXT
    assert ft.join_pieces(name, result.ids) == COURSE_TEXT
    assert result.n_chars == len(COURSE_TEXT)


@pytest.mark.parametrize("name", ft.KINDS)
def test_numbers_are_cut_in_runs_of_three_digits(name):
    assert ft.frontier_tokenize(name, "12.0*50=600").tokens == ["12", ".", "0", "*", "50", "=", "600"]
    assert ft.frontier_tokenize(name, "1234567").tokens == ["123", "456", "7"]


def test_o200k_splits_at_a_change_of_case_and_cl100k_does_not():
    assert ft.frontier_tokenize("o200k_base", "HelloWorld").tokens == ["Hello", "World"]
    assert "".join(ft.frontier_tokenize("cl100k_base", "HelloWorld").tokens) == "HelloWorld"
    # the cut itself: cl100k keeps a run of letters in one piece before merging
    import regex

    assert regex.findall(ft.ENCODINGS["cl100k_base"].pattern, "HelloWorld") == ["HelloWorld"]
    assert regex.findall(ft.ENCODINGS["o200k_base"].pattern, "HelloWorld") == ["Hello", "World"]


@pytest.mark.parametrize("name", ft.KINDS)
def test_awkward_text(name):
    assert ft.frontier_tokenize(name, "").ids == []
    special = ft.frontier_tokenize(name, "<|endoftext|>")
    assert dict(ft.ENCODINGS[name].special_tokens)["<|endoftext|>"] not in special.ids  # plain text, no error
    lone = ft.frontier_tokenize(name, "a\ud800b")  # a lone surrogate cannot be UTF-8: it becomes U+FFFD
    assert ft.join_pieces(name, lone.ids) == "a\ufffdb"
    spans = ft.frontier_tokenize(name, "👩‍💻 x").groups
    assert len(spans) == ft.frontier_tokenize(name, "👩‍💻 x").n_tokens


def test_character_spans():
    text = "a誕"
    pieces = ["a".encode(), "誕".encode()[:2], "誕".encode()[2:]]
    assert ft.character_spans(text, pieces) == [(0, 1), (1, 2), (1, 2)]


def test_damaged_or_missing_vocabulary(tmp_path, monkeypatch):
    good = ft.vocabulary_path("cl100k_base")
    damaged = tmp_path / "cl100k_base.tiktoken.gz"
    shutil.copy(good, damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(ft.FrontierTokenizerError) as caught:
        ft.read_ranks(damaged, ft.ENCODINGS["cl100k_base"].sha256)
    assert caught.value.reason == "damaged"
    with pytest.raises(ft.FrontierTokenizerError) as caught:
        ft.read_ranks(good, "0" * 64)
    assert caught.value.reason == "damaged"
    monkeypatch.setattr(ft.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ft.FrontierTokenizerError) as caught:
        ft.vocabulary_path("cl100k_base")
    assert caught.value.reason == "missing"
    with pytest.raises(ValueError):
        ft.encoding("p50k_base")


def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0


def test_inside_a_network_namespace():
    """A fresh interpreter with only loopback (no route anywhere) loads both vocabularies and gets
    the published ids."""
    if not _unshare_works():
        if os.environ.get("CI") == "true":
            pytest.fail("unshare -n is not permitted here; CI must run this test")
        pytest.skip("unshare -n is not permitted on this machine")
    script = (
        "import socket\n"
        "from models.text import frontier_tokenizers as ft\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=2); print('REACHABLE')\n"
        "except OSError:\n"
        "    pass\n"
        "print(ft.frontier_tokenize('cl100k_base', 'hello world').ids, ft.frontier_tokenize('o200k_base', 'hello world').ids)\n"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": "/nonexistent-tiktoken-cache"}
    done = subprocess.run(["unshare", "-n", sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "REACHABLE" not in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[15339, 1917] [24912, 2375]"
