"""Attention heatmaps page: every control in both languages; the heatmap holds the core's numbers."""

import numpy as np
import pytest

from models.attention_views import AVERAGE, MAX_TOKENS, shown_matrix
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/attention.py"
SHORT = "The cat sat because it was tired."


def heatmap_values(at):
    """The z values of the close-up heatmap, from the chart's JSON spec."""
    import base64
    import json

    chart = next(c for c in at.get("plotly_chart") if "heatmap_chart" in str(c.proto.id))
    z = json.loads(chart.proto.spec)["data"][0]["z"]
    if isinstance(z, dict):  # plotly sends numpy arrays as typed binary data
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape([int(n) for n in str(z["shape"]).split(",")]).astype(float)
    return np.array(z, dtype=float)


def test_every_control(lang):
    at = open_page(PAGE, lang)
    at.text_area(key="attention_text").input(SHORT).run()
    assert_clean(at)
    for model in ("tiny_gpt_2024", "tiny_gpt_2017", "minilm"):
        at.radio(key="attention_model").set_value(model).run()
        assert_clean(at)
    at.slider(key="attention_layer").set_value(4).run()
    at.selectbox(key="attention_head").set_value(3).run()
    at.selectbox(key="attention_query").set_value(2).run()
    at.number_input(key="attention_top_k").set_value(2).run()
    assert_clean(at)
    at.checkbox(key="attention_hide_special").uncheck().run()
    assert_clean(at)
    at.radio(key="attention_model").set_value("user").run()
    assert at.info, "no model typed yet: a hint, not an error"
    at.text_input(key="attention_user_model").input("/no/such/folder").run()
    assert_clean(at)
    assert at.error


@pytest.mark.parametrize("hide", [True, False])
def test_heatmap_values_equal_the_core(hide):
    at = open_page(PAGE)
    at.radio(key="attention_model").set_value("tiny_gpt_2024").run()
    at.text_area(key="attention_text").input(SHORT).run()
    at.checkbox(key="attention_hide_special").set_value(hide).run()
    at.slider(key="attention_layer").set_value(1).run()
    at.selectbox(key="attention_head").set_value(AVERAGE).run()
    from models.attention_views import run_tiny_gpt
    from models.tiny_gpt import load_tiny_gpt

    bundle = load_tiny_gpt("2024")
    ids = bundle.encode(SHORT)
    stack = run_tiny_gpt(bundle.model, bundle.token_strings(ids), ids, [i == bundle.end_of_text_id for i in ids])
    expected, _ = shown_matrix(stack, 1, AVERAGE, hide)
    np.testing.assert_allclose(heatmap_values(at), expected, atol=1e-6)


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
