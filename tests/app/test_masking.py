"""Masking page: every control moves; the drawn weights are models.core.attention's; the proof shows exact zeros."""

import numpy as np
import pytest
import torch

from components.loaders import load_tiny_gpt
from models.core.attention import attention, repeat_kv
from models.labs.masking import edit_proof, replace_token
from models.core.masks import causal
from tests.app.conftest import assert_clean, open_page
from tests.app.test_qkv import chart

PAGE = "app_pages/masking.py"
SENTENCE = "The dog chased the cat because it was hungry."


def test_every_control(lang):
    at = open_page(PAGE, lang)
    assert at.success, "the proof holds for the default edit"
    for key, value in (("masking_both_layer", 5), ("masking_both_head", 7), ("masking_edit_position", 12),
                       ("masking_query", 2), ("masking_padding_layer", 3), ("masking_padding_head", 1)):
        at.selectbox(key=key).set_value(value).run()
        assert_clean(at)
    at.text_input(key="masking_replacement").input("tired").run()
    assert_clean(at)
    at.checkbox(key="masking_padding_causal").check().run()
    assert_clean(at)
    at.text_input(key="masking_first").input("我的猫很可爱。").run()
    at.text_input(key="masking_second").input("Hi").run()
    assert_clean(at)
    at.radio(key="masking_model").set_value("2024").run()
    assert_clean(at)
    assert at.success
    at.text_input(key="masking_sentence").input("A short one.").run()
    assert_clean(at)
    assert at.selectbox(key="masking_edit_position").value < 4  # reset to a position of the new sentence


@pytest.mark.parametrize("style", ["2017", "2024"])
def test_drawn_weights_are_models_attention(style):
    """Layer 1: q, k, v from the model's own trace, weights recomputed with models.core.attention."""
    at = open_page(PAGE)
    at.radio(key="masking_model").set_value(style)
    at.selectbox(key="masking_both_head").set_value(5).run()
    assert_clean(at)
    bundle = load_tiny_gpt(style)
    ids = bundle.encode(SENTENCE)
    trace = bundle.model.trace(torch.tensor([ids]))
    q, k, v = trace.queries[0], trace.keys[0], trace.values[0]  # layer 1: the same input for both masks
    n_rep = q.size(1) // k.size(1)
    k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)
    _, writer = attention(q, k, v, causal(len(ids)))
    _, reader = attention(q, k, v)
    np.testing.assert_allclose(chart(at, "masking_writer_weights_chart")["data"][0]["z"], writer[0, 5].numpy(),
                               atol=1e-4)
    np.testing.assert_allclose(chart(at, "masking_reader_weights_chart")["data"][0]["z"], reader[0, 5].numpy(),
                               atol=1e-4)
    mask = chart(at, "masking_writer_mask_chart")["data"][0]["z"]
    assert np.array_equal(mask, causal(len(ids)).numpy().astype(float))


def test_proof_numbers_are_the_cores_and_exactly_zero_before_the_edit(lang):
    at = open_page(PAGE, lang)
    at.selectbox(key="masking_edit_position").set_value(9).run()
    at.text_input(key="masking_replacement").input("she").run()
    assert_clean(at)
    bundle = load_tiny_gpt("2017")
    ids = bundle.encode(SENTENCE)
    edited = replace_token(ids, 9, bundle.encode(" she"))
    proof = edit_proof(bundle.model, ids, edited, bundle.end_of_text_id)
    bars = chart(at, "masking_delta_chart")["data"]
    np.testing.assert_allclose(bars[0]["y"], proof.causal_delta, rtol=1e-6)
    np.testing.assert_allclose(bars[1]["y"], proof.full_delta, rtol=1e-6)
    assert (np.asarray(bars[0]["y"][:9]) == 0).all()
    assert (np.asarray(bars[1]["y"][:9]) > 0).all()
    assert at.success and str(9) in at.success[0].value


def test_padding_is_invisible_to_real_tokens():
    at = open_page(PAGE)
    at.checkbox(key="masking_padding_causal").check().run()
    for row in (0, 1):
        weights = chart(at, f"masking_padding_weights_{row}_chart")["data"][0]["z"]
        mask = chart(at, f"masking_padding_mask_{row}_chart")["data"][0]["z"]
        assert (weights[mask == 0] == 0).all()
    bundle = load_tiny_gpt("2017")
    short = len(bundle.encode("It was hungry."))
    weights = chart(at, "masking_padding_weights_1_chart")["data"][0]["z"]
    assert (weights[:short, short:] == 0).all()  # real queries never look at [PAD]


def test_messages_for_edits_that_prove_nothing():
    at = open_page(PAGE)
    at.selectbox(key="masking_edit_position").set_value(0).run()
    at.text_input(key="masking_replacement").input("A").run()
    assert_clean(at)
    assert at.info  # nothing before the first position
    at.text_input(key="masking_replacement").input("The").run()
    assert_clean(at)
    assert not at.get("plotly_chart") or not any(
        e.proto.id.endswith("-masking_delta_chart") for e in at.get("plotly_chart"))  # same tokens: no chart
    at.text_input(key="masking_replacement").input("").run()  # deleting the token
    assert_clean(at)


ODD_INPUTS = ["", "   ", "🐱🐶🐭", "<b>hi</b><script>alert(1)</script>", "a\x00b\x07c", "我的猫很可爱，因为它饿了。",
              "x " * 10_000]


def test_odd_input_gets_a_message_not_a_traceback():
    at = open_page(PAGE)
    for text in ODD_INPUTS:
        at.text_input(key="masking_sentence").input(text).run()
        assert_clean(at)
        if not text.strip():
            assert at.info
        if len(text) > 500:
            assert len(at.warning) == 2  # cut to 500 characters, then to 32 tokens
        if "\x00" in text:
            assert any("2" in warning.value for warning in at.warning)  # two control characters removed


def test_empty_padding_sentence_says_so(lang):
    at = open_page(PAGE, lang)
    at.text_input(key="masking_second").input("").run()
    assert_clean(at)
    assert at.info
