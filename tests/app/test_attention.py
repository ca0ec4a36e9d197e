"""Attention heatmaps page: every control in both languages; the heatmap holds the core's numbers;
a user-supplied model goes through the shared picker."""

import numpy as np
import pytest

from components.i18n import translate
from models.labs.attention import AVERAGE, MAX_TOKENS, from_model_run, shown_matrix
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/attention.py"
SHORT = "The cat sat because it was tired."


def chart_data(at, name):
    """The first trace of the chart whose key contains ``name``, from the chart's JSON spec."""
    import json

    chart = next(c for c in at.get("plotly_chart") if name in str(c.proto.id))
    return json.loads(chart.proto.spec)["data"][0]


def as_array(value):
    """A plotly array (a list, or typed binary data for numpy arrays) as numpy."""
    import base64

    if isinstance(value, dict):
        shape = [int(n) for n in str(value["shape"]).split(",")] if "shape" in value else -1
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape).astype(float)
    return np.array(value, dtype=float)


def heatmap_values(at):
    """The z values of the close-up heatmap."""
    return as_array(chart_data(at, "heatmap_chart")["z"])


def test_every_control(lang):
    at = open_page(PAGE, lang)
    at.text_area(key="attention_text").input(SHORT).run()
    assert_clean(at)
    for model in ("tiny_gpt_2024", "tiny_gpt_2017", "minilm"):
        at.radio(key="attention_model").set_value(model).run()
        assert_clean(at)
    before = heatmap_values(at)
    at.slider(key="attention_layer").set_value(5).run()
    assert not np.array_equal(heatmap_values(at), before), "the layer slider changes the close-up"
    at.selectbox(key="attention_head").set_value(3).run()
    lines_before = chart_data(at, "lines_chart")
    at.selectbox(key="attention_query").set_value(2).run()
    assert chart_data(at, "lines_chart") != lines_before, "following another token moves the lines"
    at.number_input(key="attention_top_k").set_value(2).run()
    assert_clean(at)
    assert sum(1 for trace in at.get("plotly_chart") if "lines_chart" in str(trace.proto.id)) == 1
    at.checkbox(key="attention_hide_special").uncheck().run()
    assert_clean(at)
    at.radio(key="attention_model").set_value("user").run()
    assert_clean(at)
    assert translate("attention.user_hint", lang) in [i.value for i in at.info], "MiniLM stands in"
    assert len(at.get("plotly_chart")) == 3
    at.text_input(key="attention_user_model_spec").input("/no/such/folder").run()
    at.button(key="attention_user_model_load").click().run()
    assert_clean(at)
    assert at.error and len(at.get("plotly_chart")) == 3, "a clear message; the bundled model stays"


def test_a_user_supplied_model_through_the_picker(gpt2_folder):
    from components.loaders import load_user_model

    at = open_page(PAGE, attention_model="user")
    at.text_area(key="attention_text").input(SHORT).run()
    at.slider(key="attention_layer").set_value(6).run()  # layers shown from 1; on MiniLM, which stands in; the GPT-2 has 2 layers
    at.text_input(key="attention_user_model_spec").input(str(gpt2_folder)).run()
    at.button(key="attention_user_model_load").click().run()
    assert_clean(at)
    assert at.success and translate("attention.user_hint", "en") not in [i.value for i in at.info]
    at.slider(key="attention_layer").set_value(2).run()  # index 1
    at.selectbox(key="attention_head").set_value(1).run()
    assert_clean(at)
    stack = from_model_run(load_user_model(str(gpt2_folder)).run(SHORT))
    assert stack.causal
    expected, _ = shown_matrix(stack, 1, 1, hide_special=True)
    np.testing.assert_allclose(heatmap_values(at), expected, atol=1e-6)
    at.text_area(key="attention_text").input("word " * 300).run()
    assert_clean(at)
    assert any("64" in w.value for w in at.warning), "capped at the model's 64 positions"
    at.button(key="attention_user_model_clear").click().run()
    assert_clean(at)
    assert translate("attention.user_hint", "en") in [i.value for i in at.info]


@pytest.mark.parametrize("hide", [True, False])
def test_heatmap_values_equal_the_core(hide):
    at = open_page(PAGE)
    at.radio(key="attention_model").set_value("tiny_gpt_2024").run()
    at.text_area(key="attention_text").input(SHORT).run()
    at.checkbox(key="attention_hide_special").set_value(hide).run()
    at.slider(key="attention_layer").set_value(2).run()  # index 1
    at.selectbox(key="attention_head").set_value(AVERAGE).run()
    from models.labs.attention import run_tiny_gpt
    from models.pretrained.tiny_gpt import load_tiny_gpt

    bundle = load_tiny_gpt("2024")
    ids = bundle.encode(SHORT)
    stack = run_tiny_gpt(bundle.model, bundle.token_strings(ids), ids, [i == bundle.end_of_text_id for i in ids])
    expected, _ = shown_matrix(stack, 1, AVERAGE, hide)
    np.testing.assert_allclose(heatmap_values(at), expected, atol=1e-6)


def test_minilm_heatmap_and_grid_equal_the_core():
    from models.labs.attention import shown_grid
    from models.pretrained.minilm import load_minilm

    at = open_page(PAGE)
    at.text_area(key="attention_text").input(SHORT).run()
    at.slider(key="attention_layer").set_value(4).run()  # index 3
    at.selectbox(key="attention_head").set_value(7).run()
    stack = from_model_run(load_minilm().run(SHORT))
    expected, _ = shown_matrix(stack, 3, 7, hide_special=True)
    np.testing.assert_allclose(heatmap_values(at), expected, atol=1e-6)
    pooled, _ = shown_grid(stack, hide_special=True)
    grid = as_array(chart_data(at, "grid_chart")["z"])
    side = pooled.shape[-1] + 1
    np.testing.assert_allclose(grid[3 * side:3 * side + side - 1, 7 * side:7 * side + side - 1],
                               np.round(pooled[3, 7], 3), atol=1e-6)


def test_odd_input():
    at = open_page(PAGE)
    for model in ("minilm", "tiny_gpt_2024"):
        at.radio(key="attention_model").set_value(model).run()
        for text in ("", "🐱🐶🐭" * 5, "<b>hi</b> <script>alert(1)</script>", "a\x00b\x07c", "我的猫很可爱，因为它很安静。"):
            at.text_area(key="attention_text").input(text).run()
            assert_clean(at)
    at.text_area(key="attention_text").input("").run()
    assert at.info


def test_long_text_is_capped_with_a_message(lang):
    at = open_page(PAGE, lang)
    at.text_area(key="attention_text").input("word " * 4000).run()
    assert_clean(at)
    assert any(str(MAX_TOKENS) in w.value for w in at.warning)


def test_minilm_warm_up_starts_once_per_server(monkeypatch):
    from components import loaders

    monkeypatch.delenv(loaders.WARM_UP_VARIABLE, raising=False)
    monkeypatch.setattr(loaders, "_warm_up_timer", None)
    calls = []
    monkeypatch.setattr(loaders, "_warm_up", lambda: calls.append("loaded"))
    assert loaders.warm_up_later(0.0) is True
    assert loaders.warm_up_later(0.0) is False  # a second session does not start another
    loaders._warm_up_timer.join(10)
    assert calls == ["loaded"]


def test_minilm_warm_up_can_be_turned_off(monkeypatch):
    from components import loaders

    monkeypatch.setenv(loaders.WARM_UP_VARIABLE, "0")
    monkeypatch.setattr(loaders, "_warm_up_timer", None)
    assert loaders.warm_up_later(0.0) is False
    assert loaders._warm_up_timer is None


def test_minilm_warm_up_fills_the_cache_the_page_reads(monkeypatch):
    import models.pretrained.minilm
    from components import loaders

    loaders._warm_up()

    def no_second_load(*args, **kwargs):
        raise AssertionError("MiniLM was loaded again")

    monkeypatch.setattr(models.pretrained.minilm, "load_minilm", no_second_load)
    assert isinstance(loaders.load_minilm(), models.pretrained.minilm.MiniLM)  # what the page calls


LONG = "Unbelievably, the tokenizer splits uncommon words into pieces, and it keeps going. " * 40


def chart_sizes(at):
    return [len(chart.proto.spec.encode("utf-8")) for chart in at.get("plotly_chart")]


def test_a_512_token_text_with_every_new_control(lang):
    from components.loaders import load_minilm
    from models.labs.attention import text_units, zoom

    at = open_page(PAGE, lang)
    at.text_area(key="attention_text").input(LONG).run()
    assert_clean(at)
    stack = from_model_run(load_minilm().run(LONG, MAX_TOKENS))
    assert len(stack.ids) == MAX_TOKENS and stack.dropped > 0
    warning = next(w.value for w in at.warning if f"{stack.total:,}" in w.value)
    assert str(MAX_TOKENS) in warning and f"{stack.dropped:,}" in warning, "what was cut, with the counts"
    assert len(at.get("plotly_chart")) == 3, "close-up, lines and the all-heads grid, also at 512 tokens"
    assert max(chart_sizes(at)) < 1_000_000
    at.slider(key="attention_layer").set_value(2).run()
    at.selectbox(key="attention_head").set_value(4).run()
    assert at.slider(key="attention_range").value == (1, 64), "a long text starts on its first 64 rows"
    expected, _ = shown_matrix(stack, 1, 4, hide_special=True)
    np.testing.assert_allclose(heatmap_values(at), expected[:64, :64], atol=1e-6)
    at.slider(key="attention_range").set_value((101, 160)).run()
    np.testing.assert_allclose(heatmap_values(at), expected[100:160, 100:160], atol=1e-6)
    at.slider(key="attention_range").set_value((1, 510)).run()  # wider than 128: block means
    assert_clean(at)
    np.testing.assert_allclose(heatmap_values(at), zoom(expected, 0, 510, 128)[0], atol=1e-6)
    assert translate("attention.closeup_pooled", lang, n=4, side=128) in [c.value for c in at.caption]
    for unit in ("word", "sentence"):
        at.radio(key="attention_unit").set_value(unit).run()
        assert_clean(at)
        units = text_units(stack.tokens, stack.special, unit)  # special tokens counted, like the tokens
        assert translate(f"attention.unit_rule_{unit}", lang, tokens=MAX_TOKENS, units=len(units)) in \
            [c.value for c in at.caption], "the rule and the computed counts on the page"
        expected, _ = shown_matrix(stack, 1, 4, True, unit)
        shown = heatmap_values(at)
        np.testing.assert_allclose(shown, expected[:shown.shape[0], :shown.shape[1]], atol=1e-6)
        assert len(at.get("plotly_chart")) == 3 and max(chart_sizes(at)) < 1_000_000
    at.selectbox(key="attention_query").set_value(3).run()
    at.number_input(key="attention_top_k").set_value(8).run()
    assert_clean(at)
    at.radio(key="attention_model").set_value("tiny_gpt_2024").run()
    assert_clean(at)
    from components.loaders import load_tiny_gpt

    total = len(load_tiny_gpt("2024").encode(LONG))
    assert any(f"{total:,}" in w.value and "256" in w.value for w in at.warning), "the tiny GPT's 256-token context"
    assert len(at.get("plotly_chart")) == 3
