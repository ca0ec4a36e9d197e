"""Long texts on the attention page: tokens joined into words and sentences (the rule the page
states), weights between those units whose rows still sum to 1, the identity when every word is
one token, the zoomed close-up, and the two-product grid equal to the step-by-step one."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.labs.attention import (MAX_TOKENS, AttentionStack, aggregate, block_names, from_model_run, pooled_grid,
                                    shown_grid, shown_matrix, shown_units, shown_weights, text_units, zoom)


def random_weights(L=2, H=3, T=6, seed=0, causal=False):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(L, H, T, T))
    if causal:
        scores = np.where(np.tril(np.ones((T, T))) > 0, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)


WORDPIECE = ["[CLS]", "the", "un", "##happy", "cat", "sat", ".", "it", "'", "s", "我", "的", "猫", "。", "[SEP]"]
WORDPIECE_SPECIAL = [True] + [False] * 13 + [True]


def test_wordpiece_pieces_join_and_chinese_characters_stay_words():
    units = text_units(WORDPIECE, WORDPIECE_SPECIAL, "word")
    assert units.texts == ["[CLS]", "the", "unhappy", "cat", "sat", ".", "it", "'", "s", "我", "的", "猫", "。", "[SEP]"]
    assert list(units.edges) == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    assert list(units.special) == [True] + [False] * 12 + [True]
    assert list(units.of_token()) == [0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]


def test_sentences_end_at_their_marks_and_special_tokens_stand_alone():
    units = text_units(WORDPIECE, WORDPIECE_SPECIAL, "sentence")
    assert units.texts == ["[CLS]", "the unhappy cat sat.", "it's我的猫。", "[SEP]"]
    assert list(units.edges) == [0, 1, 7, 14, 15]


def test_byte_level_pieces_join_into_words_and_cut_characters_into_characters():
    # the tiny GPT's readable tokens: spaces lead a word; "猫" (e7 8c ab) cut into two tokens
    tokens = ["The", " animal", " didn", "'t", " cross", ".", "\n", " It", " was", "\\xe7\\x8c", "\\xab", "的", "ing"]
    units = text_units(tokens, [False] * len(tokens), "word")
    assert units.texts == ["The", " animal", " didn", "'t", " cross", ".", "\n", " It", " was", "猫", "的", "ing"]
    sentences = text_units(tokens, [False] * len(tokens), "sentence")
    assert sentences.texts == ["The animal didn't cross.", "\n", " It was猫的ing"]


def test_chinese_with_no_spaces_cut_into_bytes_comes_back_as_characters():
    from models.pretrained.tiny_gpt import load_tiny_gpt

    bundle = load_tiny_gpt("2024")
    text = "老师说：它很安静。"
    ids = bundle.encode(text)
    tokens = bundle.token_strings(ids)
    assert len(tokens) > len(text), "the tiny GPT cuts these characters into bytes"
    units = text_units(tokens, [False] * len(tokens), "word")
    assert "".join(units.texts) == text and units.texts == list(text), "one word per character, no bytes left"
    assert text_units(tokens, [False] * len(tokens), "sentence").texts == [text]


def test_a_byte_level_piece_between_letters_joins_the_word():
    tokens = ["<|endoftext|>", " un", "happ", "iness", " is", " here"]
    units = text_units(tokens, [True] + [False] * 5, "word")
    assert units.texts == ["<|endoftext|>", " unhappiness", " is", " here"]


def test_token_units_are_the_tokens_and_unknown_units_are_refused():
    units = text_units(WORDPIECE, WORDPIECE_SPECIAL, "token")
    assert units.texts == WORDPIECE and list(units.edges) == list(range(len(WORDPIECE) + 1))
    with pytest.raises(ValueError, match="unknown unit"):
        text_units(WORDPIECE, WORDPIECE_SPECIAL, "paragraph")


@settings(max_examples=40, deadline=None)
@given(T=st.integers(1, 14), seed=st.integers(0, 10_000), data=st.data())
def test_aggregated_rows_still_sum_to_one(T, seed, data):
    weights = random_weights(2, 2, T, seed)
    cuts = sorted(data.draw(st.sets(st.integers(1, T - 1), max_size=T - 1)) if T > 1 else [])
    edges = np.array([0, *cuts, T])
    joined = aggregate(weights, edges)
    assert joined.shape == (2, 2, len(edges) - 1, len(edges) - 1)
    np.testing.assert_allclose(joined.sum(axis=-1), 1, rtol=1e-5)
    # by hand: sum over the key unit's tokens, mean over the query unit's tokens
    a, b = 0, len(edges) - 2
    expected = weights[1, 0, edges[a]:edges[a + 1], edges[b]:edges[b + 1]].sum(axis=1).mean()
    np.testing.assert_allclose(joined[1, 0, a, b], expected, rtol=1e-5)


def test_one_token_per_word_leaves_the_weights_unchanged():
    tokens = ["[CLS]", "dogs", "bark", "at", "cats", "[SEP]"]
    weights = random_weights(2, 3, len(tokens))
    stack = AttentionStack(tokens, list(range(6)), weights, np.array([1, 0, 0, 0, 0, 1], bool), False)
    for hide in (True, False):
        token_matrix, token_units = shown_matrix(stack, 1, 2, hide, "token")
        word_matrix, word_units = shown_matrix(stack, 1, 2, hide, "word")
        np.testing.assert_array_equal(word_matrix, token_matrix)
        assert word_units.texts == token_units.texts


def test_a_writer_stays_causal_between_words():
    tokens = ["<|endoftext|>", " un", "happ", "iness", " is", " here", "."]
    weights = random_weights(1, 2, len(tokens), causal=True)
    stack = AttentionStack(tokens, list(range(7)), weights, np.array([1, 0, 0, 0, 0, 0, 0], bool), True)
    matrix, units = shown_matrix(stack, 0, 1, True, "word")
    assert units.texts == [" unhappiness", " is", " here", "."]
    assert np.allclose(np.triu(matrix, 1), 0), "no word hears a later word"
    np.testing.assert_allclose(matrix.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("unit", ["token", "word", "sentence"])
@pytest.mark.parametrize("hide", [True, False])
def test_the_fast_grid_equals_hiding_joining_and_pooling_step_by_step(unit, hide):
    tokens = (["[CLS]"] + ["the", "un", "##happy", "cat", "sat", "."] * 12 + ["[SEP]"])
    special = np.array([True] + [False] * 72 + [True])
    stack = AttentionStack(tokens, list(range(74)), random_weights(2, 3, 74, seed=3), special, False)
    fast, per_cell = shown_grid(stack, hide, 8, unit)
    slow, slow_per_cell = pooled_grid(shown_weights(stack, stack.weights, hide, unit), 8)
    assert per_cell == slow_per_cell and fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, atol=1e-6)


def test_only_special_tokens_leave_an_empty_grid():
    stack = AttentionStack(["[CLS]", "[SEP]"], [0, 1], random_weights(1, 1, 2), np.array([True, True]), False)
    pooled, _ = shown_grid(stack, True, 32, "word")
    assert pooled.shape == (1, 1, 0, 0) and len(shown_units(stack, True, "word")) == 0


def test_zoom_is_exact_up_to_its_side_and_block_means_beyond():
    matrix = random_weights(1, 1, 300, seed=1)[0, 0]
    part, edges = zoom(matrix, 10, 74, 128)
    np.testing.assert_array_equal(part, matrix[10:74, 10:74])
    assert list(edges) == list(range(10, 75))
    pooled, edges = zoom(matrix, 0, 300, 100)
    assert pooled.shape == (100, 100) and edges[0] == 0 and edges[-1] == 300
    np.testing.assert_allclose(pooled[0, 1], matrix[edges[0]:edges[1], edges[1]:edges[2]].mean(), rtol=1e-5)
    assert block_names([str(n) for n in range(300)], edges)[:2] == ["1–3", "4–6"]
    assert block_names(["a", "b", "c"], np.array([0, 1, 3])) == ["a", "2–3"]
    with pytest.raises(ValueError, match="outside"):
        zoom(matrix, 5, 301, 128)


@pytest.fixture(scope="module")
def minilm():
    from models.pretrained.minilm import load_minilm

    return load_minilm()


def test_minilm_at_512_tokens_by_words_and_sentences(minilm):
    text = "Unbelievably, the tokenizer splits uncommon words into pieces. " * 60
    stack = from_model_run(minilm.run(text, MAX_TOKENS))
    assert len(stack.ids) == MAX_TOKENS and stack.dropped > 0 and stack.weights.shape == (6, 12, 512, 512)
    words = shown_units(stack, True, "word")
    assert "unbelievably" in words.texts and "uncommon" in words.texts and len(words) < 510
    matrix, _ = shown_matrix(stack, 2, 5, True, "word")
    np.testing.assert_allclose(matrix.sum(axis=1), 1, rtol=1e-4)
    sentences, _ = shown_matrix(stack, 2, 5, True, "sentence")
    np.testing.assert_allclose(sentences.sum(axis=1), 1, rtol=1e-4)
    pooled, per_cell = shown_grid(stack, True, 32, "token")
    assert pooled.shape == (6, 12, 32, 32) and per_cell == 16
