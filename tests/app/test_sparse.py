"""Sparse attention page: every control moves in both languages; the numbers shown are the core's."""

from models.labs.sparse import PATTERNS, PatternSettings, build_pattern, layers_to_full_reach, pattern_costs
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/sparse.py"
TINY_LENGTHS = (32, 64)  # test-only timing sizes: the real list goes up to 2,048 (CPU) or 16,384 (GPU)


def metric(at, index):
    return at.metric[index].value


def test_every_control(lang):
    at = open_page(PAGE, lang, sparse_timing_lengths=TINY_LENGTHS)
    for pattern in PATTERNS:
        at.selectbox(key="sparse_pattern").set_value(pattern).run()
        assert_clean(at)
    at.selectbox(key="sparse_pattern").set_value("strided").run()
    at.slider(key="sparse_stride").set_value(3).run()
    assert_clean(at)
    at.selectbox(key="sparse_pattern").set_value("bigbird").run()
    for key, value in (("sparse_length", 48), ("sparse_window", 6), ("sparse_n_global", 1),
                       ("sparse_n_random", 3), ("sparse_layers", 3), ("sparse_query", 10)):
        at.slider(key=key).set_value(value).run()
        assert_clean(at)
    at.number_input(key="sparse_seed").set_value(5).run()
    assert_clean(at)
    at.checkbox(key="sparse_with_flex").check().run()
    at.checkbox(key="sparse_with_flex").uncheck().run()
    at.button(key="sparse_timing_button").click().run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert list(table.iloc[:, 0]) == list(TINY_LENGTHS)
    at.radio(key="sparse_gpt_style").set_value("2017").run()
    at.text_input(key="sparse_gpt_prompt").input("Paris is").run()
    assert_clean(at)


def test_shown_numbers_are_the_cores():
    at = open_page(PAGE)
    at.selectbox(key="sparse_pattern").set_value("sliding_window").run()
    at.slider(key="sparse_length").set_value(40).run()
    at.slider(key="sparse_window").set_value(5).run()
    mask = build_pattern(PatternSettings("sliding_window", 40, window=5))
    costs = pattern_costs(mask)
    assert metric(at, 0) == f"{costs.density:.1%}"
    assert metric(at, 1) == f"{costs.keys_per_query:.1f}"
    assert metric(at, 3) == f"{costs.block_density:.1%}"
    at.slider(key="sparse_layers").set_value(2).run()
    assert metric(at, 4) == "9", "two layers of a 5-wide window reach 1 + 2 * 4 tokens"
    assert any(str(layers_to_full_reach(mask)) in s.value for s in at.success)


def test_impossible_combination_gets_a_message(lang):
    at = open_page(PAGE, lang)
    at.slider(key="sparse_window").set_value(64).run()
    at.slider(key="sparse_n_global").set_value(16).run()
    at.slider(key="sparse_length").set_value(8).run()
    assert_clean(at)
    assert len(at.warning) == 2
    assert metric(at, 0) == "100.0%"


def test_shorter_text_moves_the_query_back():
    at = open_page(PAGE)
    at.slider(key="sparse_query").set_value(60).run()
    at.slider(key="sparse_length").set_value(16).run()
    assert_clean(at)
    assert at.slider(key="sparse_query").value == 15


def test_pattern_on_the_tiny_gpt():
    at = open_page(PAGE)
    at.selectbox(key="sparse_pattern").set_value("full").run()
    at.button(key="sparse_gpt_button").click().run()
    assert_clean(at)
    full, pattern = metric(at, 5), metric(at, 6)
    assert full == pattern, "full attention combined with causal is the model's own mask"
    assert float(full) > 1
    assert at.code[0].value == at.code[1].value
    at.selectbox(key="sparse_pattern").set_value("sliding_window").run()
    at.slider(key="sparse_window").set_value(1).run()
    at.button(key="sparse_gpt_button").click().run()
    assert_clean(at)
    assert float(metric(at, 6)) > float(metric(at, 5)), "seeing only itself, the model loses its context"


def _drawn_mask(at, key):
    """The (T, T) bool mask a chart draws: its first trace holds the kept cells, the second the others."""
    import base64
    import json

    import numpy as np

    for element in at.get("plotly_chart"):
        if element.proto.id.endswith(f"-{key}"):
            layers = []
            for trace in json.loads(element.proto.spec)["data"]:
                z = trace["z"]
                shape = [int(n) for n in str(z["shape"]).split(",")]
                layers.append(np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape))
            kept, hidden = layers
            assert not np.any(np.isnan(kept) == np.isnan(hidden)), "every cell is drawn by exactly one trace"
            return ~np.isnan(kept), len(element.proto.spec.encode("utf-8"))
    raise AssertionError(f"no chart {key}")


def test_masks_drawn_are_the_cores_and_stay_under_1mb(lang):
    """At the longest length, in both languages, the mask charts are the core's masks cell for cell,
    and no chart on the page sends more than 1 MB."""
    import numpy as np

    from models.core.masks import receptive_field

    at = open_page(PAGE, lang)
    at.slider(key="sparse_length").set_value(256).run()
    at.slider(key="sparse_layers").set_value(3).run()
    assert_clean(at)
    mask = build_pattern(PatternSettings("bigbird", 256))
    drawn, _ = _drawn_mask(at, "sparse_mask_chart")
    np.testing.assert_array_equal(drawn, mask.numpy())
    reach, _ = _drawn_mask(at, "sparse_reach_mask_chart")
    np.testing.assert_array_equal(reach, receptive_field(mask, 3).numpy())
    sizes = [len(element.proto.spec.encode("utf-8")) for element in at.get("plotly_chart")]
    assert max(sizes) < 1_000_000, sizes
