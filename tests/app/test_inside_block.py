"""Inside-a-block page: every control moves; the charts show the lab's numbers; the proof and the lens hold."""

import json

import numpy as np

from components.loaders import load_tiny_gpt
from models.labs import inside_block as lab
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/inside_block.py"
PROMPT = "The dog chased the cat because it was hungry."


def chart(at, key):
    return json.loads(at.get("plotly_chart")[[c.proto.id for c in at.get("plotly_chart")].index(
        next(c.proto.id for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id))].proto.spec)


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
