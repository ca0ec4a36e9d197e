"""Q/K/V page: every control moves, and the numbers it draws are models.core.attention's."""

import base64
import json
import math

import numpy as np
import pytest
import torch

from models.core.attention import attention, merge_heads, split_heads
from models.core.masks import causal
from models.labs.qkv import random_attention, split_words, word_vectors
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/qkv.py"
SENTENCE = "The dog chased the cat because it was hungry."


def decode(value):
    """Plotly sends NumPy arrays as {"dtype", "bdata" (base64), "shape"}; plain lists as they are."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    return np.asarray(value, dtype=float)


def chart(at, key: str) -> dict:
    """The Plotly figure the page sent for the chart with this key, arrays decoded."""
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            figure = json.loads(element.proto.spec)
            for trace in figure["data"]:
                for name in ("x", "y", "z"):
                    if name in trace and (isinstance(trace[name], dict) or name == "z"
                                          or not isinstance(trace[name][0], str)):
                        trace[name] = decode(trace[name])
            return figure
    raise AssertionError(f"no chart {key}; charts: {[e.proto.id for e in at.get('plotly_chart')]}")


def reference(width, heads, seed, is_causal):
    """Q, K, V and attention straight from models.core.attention, not through the page's lab."""
    words, _ = split_words(SENTENCE)
    layer = random_attention(width, heads, seed)
    x = word_vectors(words, width, seed)[None]  # (1, T, C)
    with torch.no_grad():
        q, k, v = (split_heads(linear(x), heads) for linear in (layer.w_q, layer.w_k, layer.w_v))
        out, weights = attention(q, k, v, causal(len(words)) if is_causal else None)
        output = layer.w_o(merge_heads(out))
    return words, q[0].numpy(), k[0].numpy(), weights[0].numpy(), output[0].numpy()


def open_random(lang="en"):
    """The page with the random source (it opens on MiniLM)."""
    at = open_page(PAGE, lang)
    at.radio(key="qkv_source").set_value("random").run()
    assert_clean(at)
    return at


def test_every_control(lang):
    at = open_random(lang)
    assert at.selectbox(key="qkv_token").value == 6  # "it"
    for width in (16, 64, 8):
        at.select_slider(key="qkv_width").set_value(width).run()
        assert_clean(at)
    for heads in (1, 8, 4):
        at.select_slider(key="qkv_heads").set_value(heads).run()
        assert_clean(at)
    at.selectbox(key="qkv_head").set_value(3).run()
    assert_clean(at)
    at.selectbox(key="qkv_token").set_value(1).run()
    assert_clean(at)
    at.checkbox(key="qkv_causal").uncheck().run()
    assert_clean(at)
    at.toggle(key="qkv_no_projection").set_value(True).run()
    assert_clean(at)
    assert at.info, "the no-projection note is shown"
    at.toggle(key="qkv_no_projection").set_value(False).run()
    at.text_input(key="qkv_sentence").input("我的猫很可爱，它饿了。").run()
    assert_clean(at)
    assert at.selectbox(key="qkv_head").value in range(4)  # reset to a valid head after Q = K = V = X had one


@pytest.mark.parametrize("width,heads,is_causal", [(8, 2, True), (32, 4, False)])
def test_displayed_numbers_are_models_attention(width, heads, is_causal):
    at = open_random()
    at.select_slider(key="qkv_width").set_value(width)
    at.select_slider(key="qkv_heads").set_value(heads)
    at.checkbox(key="qkv_causal").set_value(is_causal)
    at.selectbox(key="qkv_head").set_value(1).run()
    assert_clean(at)
    words, q, k, weights, output = reference(width, heads, seed=0, is_causal=is_causal)
    token, head = words.index("it"), 1
    bars = chart(at, "qkv_bars_chart")["data"]
    scores = q[head, token] @ k[head].T / math.sqrt(width // heads)
    allowed = np.arange(len(words)) <= token if is_causal else np.ones(len(words), bool)
    np.testing.assert_allclose(np.array(bars[0]["y"])[allowed], scores[allowed], atol=1e-5)
    np.testing.assert_allclose(bars[1]["y"], weights[head, token], atol=1e-6)
    grid = chart(at, "qkv_heads_chart")["data"]
    for h in range(heads):
        np.testing.assert_allclose(grid[h]["z"], weights[h], atol=1e-4)  # figures round to 4 decimals
    concat_and_output = chart(at, "qkv_concat_chart")["data"]
    np.testing.assert_allclose(concat_and_output[1]["z"], output, atol=1e-4)
    assert any(f"{weights[head, token].sum():.6f}" in caption.value for caption in at.caption)


def test_no_projection_means_q_equals_x():
    at = open_random()
    at.toggle(key="qkv_no_projection").set_value(True).run()
    words, _ = split_words(SENTENCE)
    x = word_vectors(words, 8, 0)
    with torch.no_grad():
        _, weights = attention(x, x, x, causal(len(words)))
    np.testing.assert_allclose(chart(at, "qkv_compare_chart")["data"][1]["y"], weights[6].numpy(), atol=1e-6)
    np.testing.assert_allclose(chart(at, "qkv_bars_chart")["data"][1]["y"], weights[6].numpy(), atol=1e-6)


ODD_INPUTS = ["", "   ", "🐱🐶🐭", "<b>hi</b><script>alert(1)</script>", "a\x00b\x07c", "我的猫很可爱", "x " * 10_000]


def test_odd_input_gets_a_message_not_a_traceback():
    at = open_random()
    for text in ODD_INPUTS:
        at.text_input(key="qkv_sentence").input(text).run()
        assert_clean(at)
        if not split_words(text)[0]:
            assert at.info
        else:
            assert at.get("plotly_chart")


@pytest.mark.parametrize("source", ["minilm", "random"])
def test_empty_and_long_text_say_so(lang, source):
    at = open_page(PAGE, lang)
    at.radio(key="qkv_source").set_value(source).run()
    at.text_input(key="qkv_sentence").input("").run()
    assert at.info and not at.get("plotly_chart")
    at.text_input(key="qkv_sentence").input("word " * 4000).run()
    assert len(at.warning) == 2  # cut to 500 characters, then to 24 tokens
    assert_clean(at)


@pytest.mark.parametrize("style", ["2017", "2024"])
def test_tiny_gpt_first_layer_is_the_models_own(style, lang):
    from components.loaders import load_tiny_gpt

    at = open_page(PAGE, lang)
    at.radio(key="qkv_source").set_value(style).run()
    assert_clean(at)
    bundle = load_tiny_gpt(style)
    ids = bundle.encode(SENTENCE)
    trace = bundle.model.trace(torch.tensor([ids]))
    grid = chart(at, "qkv_heads_chart")["data"]
    assert len(grid) == bundle.config.n_head
    for head, trace_weights in enumerate(trace.attentions[0][0].numpy()):
        np.testing.assert_allclose(grid[head]["z"], trace_weights, atol=1e-4)
    gqa_shown = any("Grouped-query" in m.value or "分组查询" in m.value for m in at.markdown)
    assert gqa_shown == (bundle.config.n_kv_head < bundle.config.n_head)
    at.toggle(key="qkv_no_projection").set_value(True).run()
    assert_clean(at)
    at.selectbox(key="qkv_token").set_value(0).run()
    assert_clean(at)


@pytest.mark.parametrize("source", ["random", "2017", "2024"])
def test_charts_stay_under_1mb_and_large_weights_are_block_means(source):
    """No chart sends more than 1 MB; a weight matrix wider than 128 is drawn as its 2 x 2 block
    means (of the core's own matrices), a smaller one cell by cell."""
    from components.loaders import load_tiny_gpt
    from models.labs.qkv import tiny_gpt_labs, tiny_gpt_tokens

    at = open_page(PAGE)
    at.radio(key="qkv_source").set_value(source).run()
    if source == "random":
        at.select_slider(key="qkv_width").set_value(64)
    at.run()
    assert_clean(at)
    sizes = {element.proto.id: len(element.proto.spec.encode("utf-8")) for element in at.get("plotly_chart")}
    assert len(sizes) >= 8 and max(sizes.values()) < 1_000_000, sizes
    if source == "random":
        layer = random_attention(64, 2, 0)
        matrices = [linear.weight.detach().numpy().T for linear in (layer.w_q, layer.w_k, layer.w_v, layer.w_o)]
        expected = matrices
    else:  # wider than 128: W_Q, W_K, W_V of the chosen head (head 1) exact, W_O as 2 x 2 block means
        bundle = load_tiny_gpt(source)
        ids, tokens, _ = tiny_gpt_tokens(bundle.tokenizer, SENTENCE)
        lab, _ = tiny_gpt_labs(bundle.model, ids, tokens)
        matrices = [*lab.head_weights(0), lab.w_o]
        assert max(lab.w_q.shape) == 256 and matrices[0].shape == (256, lab.head_dim)
        expected = [*matrices[:3], lab.w_o.reshape(128, 2, 128, 2).mean(axis=(1, 3))]
        assert any("2 × 2" in caption.value for caption in at.caption)
    drawn = chart(at, "qkv_weights_chart")["data"] + chart(at, "qkv_wo_chart")["data"]
    for trace, matrix, values in zip(drawn, matrices, expected):
        assert np.shape(trace["z"]) == values.shape
        np.testing.assert_allclose(trace["z"], values, atol=1e-4)
        assert len(trace["y"]) == values.shape[0] and len(trace["x"]) == values.shape[1]
        if values.shape != matrix.shape:
            assert trace["y"][:2] == ["0–1", "2–3"] and "(2 × 2)" in trace["hovertemplate"]


def test_opens_on_minilm_where_it_finds_its_noun(lang):
    """The default: MiniLM's real weights, the head the lab finds, and "it" giving "dog" more weight
    than "cat", checked against transformers' own attention weights for the same layer and head."""
    from models.labs.qkv import referent_head
    from models.pretrained.minilm import load_bert_encoder, load_minilm

    at = open_page(PAGE, lang)
    assert at.radio(key="qkv_source").value == "minilm" and not at.checkbox(key="qkv_causal").value
    found = referent_head(load_bert_encoder())
    assert (at.select_slider(key="qkv_layer").value, at.selectbox(key="qkv_head").value) == (found.layer, found.head)
    run = load_minilm().run(SENTENCE)
    tokens = list(run.tokens)
    it, dog, cat = (tokens.index(word) for word in ("it", "dog", "cat"))
    assert at.selectbox(key="qkv_token").value == it
    weights = chart(at, "qkv_bars_chart")["data"][1]["y"]
    np.testing.assert_allclose(weights, np.asarray(run.attentions[found.layer])[found.head, it], atol=1e-5)
    assert weights[dog] > weights[cat]
    assert f"{found.noun_weight:.2f}" in at.info[-1].value
    q_columns = chart(at, "qkv_weights_chart")["data"][0]["z"]
    assert np.shape(q_columns) == (384, 32)  # the chosen head's W_Q columns, exact
    for layer in range(6):
        at.select_slider(key="qkv_layer").set_value(layer).run()
        assert_clean(at)
    at.toggle(key="qkv_no_projection").set_value(True).run()
    assert_clean(at)
    at.radio(key="qkv_source").set_value("2024").run()
    assert_clean(at)
    assert at.checkbox(key="qkv_causal").value  # the tiny GPT opens causal, as it was trained
