"""Overview page: the live pipeline on the bundled 2024-style tiny GPT, and its buttons."""

import pytest

from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/overview.py"


def added(at):
    return at.session_state["overview_added"]


def test_buttons_run_the_autoregressive_loop(lang):
    at = open_page(PAGE, lang)
    assert added(at) == []
    at.button(key="overview_add_greedy").click().run()
    assert_clean(at)
    assert len(added(at)) == 1
    at.button(key="overview_add_sampled").click().run()
    assert_clean(at)
    assert len(added(at)) == 2
    at.button(key="overview_reset").click().run()
    assert_clean(at)
    assert added(at) == []


def test_greedy_token_is_the_top_bar_and_the_core_argmax():
    from components.loaders import load_tiny_gpt
    from models.labs.overview import next_token_view

    at = open_page(PAGE)
    bundle = load_tiny_gpt("2024")
    ids = bundle.encode("The history of")
    view = next_token_view(bundle.model, ids, top=10)
    at.button(key="overview_add_greedy").click().run()
    assert added(at) == [view.top_ids[0]]
    assert view.top_probs == sorted(view.top_probs, reverse=True)
    text = at.code[0].value
    assert text.startswith("The history of") and len(text) > len("The history of")


def test_seeded_sample_repeats():
    first = open_page(PAGE, seed=3)
    first.button(key="overview_add_sampled").click().run()
    second = open_page(PAGE, seed=3)
    second.button(key="overview_add_sampled").click().run()
    assert added(first) == added(second)


def test_a_new_prompt_starts_over():
    at = open_page(PAGE)
    at.button(key="overview_add_greedy").click().run()
    at.text_input(key="overview_prompt").input("The city is").run()
    assert_clean(at)
    assert added(at) == []
    assert at.code[0].value == "The city is"


@pytest.mark.parametrize("text", ["", "   ", "猫" * 400, "🙂" * 50, "<script>alert(1)</script>", "a\x00\x1b[31mb"])
def test_odd_prompts(text):
    at = open_page(PAGE)
    at.text_input(key="overview_prompt").input(text).run()
    assert_clean(at)


def test_cached_chart_dicts_send_what_a_fresh_figure_sends():
    """The pages keep charts as validated dicts (figure_spec) and rebuild them without validating
    (figure_from_spec): what reaches the browser must be the same JSON as the figure built fresh,
    the default template included."""
    import json
    import pickle

    import numpy as np
    import plotly.io as pio
    import plotly.tools

    from components.figures.shared import bars, figure_from_spec, figure_spec, heatmap, timeline

    def sent(figure):  # what st.plotly_chart serialises
        return json.loads(pio.to_json(plotly.tools.return_figure_from_figure_or_data(figure, True), validate=False))

    figures = [heatmap(np.arange(12.0).reshape(3, 4), title="t", colorscale="RdBu", zmid=0.0),
               bars(["a", "b"], {"p": [0.25, 0.75]}, horizontal=True, y_title="p"),
               timeline([1954, 2017], ["bag of words", "Transformer"], ["counts", "attention"])]
    for figure in figures:
        spec = pickle.loads(pickle.dumps(figure_spec(figure)))  # as st.cache_data stores and returns it
        assert "template" not in spec["layout"]
        rebuilt = figure_from_spec(spec)
        assert sent(rebuilt) == sent(figure)
        assert sent(rebuilt)["layout"]["template"] == sent(figure)["layout"]["template"]
