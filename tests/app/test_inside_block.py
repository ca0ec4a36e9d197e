"""Inside-a-block page: every control moves; the charts show the lab's numbers; the proof and the lens hold."""

import json

import numpy as np
import pytest

from components.loaders import load_tiny_gpt
from models.labs import inside_block as lab
from tests.app.conftest import assert_clean, open_page
from tests.app.test_qkv import chart

PAGE = "app_pages/inside_block.py"
PROMPT = "The dog chased the cat because it was hungry."


@pytest.fixture(autouse=True)
def _no_minilm_warm_up(monkeypatch):
    """No background import of transformers while a test here imports it (two threads importing
    the same package at once can see it half initialised)."""
    from components import loaders

    monkeypatch.setenv(loaders.WARM_UP_VARIABLE, "0")


def test_every_control(lang):
    at = open_page(PAGE, lang)
    assert at.success, "the per-position proof holds for the default edit"
    at.selectbox(key="inside_block_token").set_value(3).run()
    assert_clean(at)
    at.selectbox(key="inside_block_layer").set_value(5).run()
    assert_clean(at)
    at.selectbox(key="inside_block_change").set_value(1).run()
    assert_clean(at)
    at.text_input(key="inside_block_replacement").input(" cow").run()
    assert_clean(at)
    assert at.success
    at.slider(key="inside_block_n_experts").set_value(4).run()
    at.slider(key="inside_block_top_k").set_value(3).run()
    assert_clean(at)
    at.slider(key="inside_block_n_experts").set_value(1).run()
    assert_clean(at)
    at.radio(key="inside_block_model").set_value("2017").run()
    assert_clean(at)
    assert at.success
    at.text_input(key="inside_block_prompt").input("我的猫 🐱 <b>hi</b>").run()
    assert_clean(at)
    at.text_input(key="inside_block_prompt").input("").run()
    assert_clean(at)
    assert at.info


def test_calculator_shows_mixtral_by_default():
    at = open_page(PAGE)
    shown = {metric.label: metric.value for metric in at.metric}
    assert shown["Total (stored)"] == "46.7B" and shown["Active per token"] == "12.9B"


def test_charts_show_the_labs_numbers_and_the_lens_is_exact():
    at = open_page(PAGE)
    at.selectbox(key="inside_block_token").set_value(4).run()
    at.selectbox(key="inside_block_layer").set_value(2).run()
    at.selectbox(key="inside_block_change").set_value(1).run()
    assert_clean(at)
    model = load_tiny_gpt("2024").model
    ids = load_tiny_gpt("2024").encode(PROMPT)
    view = lab.ffn_on_token(model, ids, 4, 2)
    hidden = chart(at, "inside_block_hidden_chart")["data"]
    np.testing.assert_allclose(hidden[2]["y"], view.hidden, rtol=1e-5, atol=1e-6)
    proof = lab.position_proof(model, ids, 1, load_tiny_gpt("2024").encode(" man")[0], 2)
    bars = chart(at, "inside_block_proof_chart")["data"]
    np.testing.assert_allclose(bars[0]["y"], proof.attention_delta, rtol=1e-6)
    assert bars[1]["y"][1] > 0 and all(v == 0 for i, v in enumerate(bars[1]["y"]) if i != 1)
    assert any("0" in caption.value and "lens" in caption.value for caption in at.caption)


def test_a_users_causal_lm_shows_its_own_ffn(tmp_path):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from models.pretrained.tiny_gpt import ASSET_DIR

    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(vocab_size=4096, n_positions=64, n_embd=32, n_layer=2, n_head=2,
                               bos_token_id=0, eos_token_id=0)).save_pretrained(tmp_path)
    PreTrainedTokenizerFast(tokenizer_file=str(ASSET_DIR / "tokenizer.json"), eos_token="<|endoftext|>",
                            bos_token="<|endoftext|>").save_pretrained(tmp_path)
    at = open_page(PAGE)
    at.text_input(key="inside_block_user_model_spec").input(str(tmp_path)).run()
    at.button(key="inside_block_user_model_load").click().run()
    assert_clean(at)
    assert len(chart(at, "inside_block_hidden_chart")["data"][0]["y"]) == 128  # GPT-2's 4 x 32 hidden units
    at.selectbox(key="inside_block_user_layer").set_value(1).run()
    at.selectbox(key="inside_block_user_token").set_value(0).run()
    assert_clean(at)
    assert len(chart(at, "inside_block_input_chart")["data"][0]["y"]) == 32
