"""Sampling page: every control moves; the numbers shown are the lab's; odd input gets messages."""

import pytest

from components.i18n import translate
from components.text import escape_markdown
from models.labs.sampling import (
    Settings,
    continuations,
    draw_samples,
    prompt_logits,
    sampling_view,
)
from models.pretrained.tiny_gpt import TinyGPTModel
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/sampling.py"
SHORT = {"sampling_new_tokens": 5}  # short continuations keep the test fast


@pytest.fixture(scope="module")
def tiny_2024():
    from components.loaders import load_tiny_gpt

    bundle = load_tiny_gpt("2024")
    return TinyGPTModel(bundle.model, bundle.tokenizer, name="tiny-gpt-2024")


def metric(at, index):
    return at.metric[index].value


def test_every_control(lang, tiny_2024):
    at = open_page(PAGE, lang, **SHORT)
    logits = prompt_logits(tiny_2024, "The history of").logits
    view = sampling_view(logits, Settings(0.8, None, 0.8))
    assert metric(at, 0).startswith(f"{view.kept_count:,}")
    assert metric(at, 2).startswith(f"{view.raw_entropy:.2f}")
    at.slider(key="sampling_temperature").set_value(0.5).run()
    at.slider(key="sampling_top_k").set_value(10).run()
    at.slider(key="sampling_top_p").set_value(0.95).run()
    assert_clean(at)
    view = sampling_view(logits, Settings(0.5, 10, 0.95))
    assert metric(at, 0).startswith(f"{view.kept_count:,}")
    assert metric(at, 3).startswith(f"{view.adjusted_entropy:.2f}")
    at.select_slider(key="sampling_draws").set_value(10000).run()
    at.number_input(key="sampling_seed").set_value(5).run()
    assert_clean(at)
    draws = draw_samples(view, 10000, 5)
    assert metric(at, 5) == f"{draws.total_variation:.3f}" and metric(at, 4) == f"{draws.distinct:,}"
    at.multiselect(key="sampling_temperatures").set_value([0.3, 1.0]).run()
    at.slider(key="sampling_new_tokens").set_value(4).run()
    at.checkbox(key="sampling_use_filters").check().run()
    assert_clean(at)
    # the text shown is the core's: 4 tokens per temperature, written one row at a time here
    shown = [m.value for m in at.markdown]
    for temperature in (0.3, 1.0):
        row = continuations(tiny_2024, prompt_logits(tiny_2024, "The history of").ids, [temperature], 4, 10, 0.95, 5)
        assert any(value.endswith(f"**{escape_markdown(' '.join(row[0].text.split()))}**") for value in shown)
    at.button(key="sampling_regenerate").click().run()
    assert_clean(at)
    assert at.success, "same seed, same settings: the same text"
    at.multiselect(key="sampling_temperatures").set_value([]).run()
    assert_clean(at)
    assert translate("sampling.no_temperatures", lang) in [i.value for i in at.info]
    at.radio(key="sampling_model").set_value("2017").run()
    assert_clean(at)
    at.radio(key="sampling_model").set_value("user").run()
    assert_clean(at)


@pytest.mark.parametrize("temperature,top_k,top_p,level", [
    (1.0, 0, 0.0, "error"),  # top-p 0 keeps nothing
    (0.0, 20, 1.0, "info"),  # greedy ignores top-k
    (0.0, 0, 0.5, "info"),  # greedy ignores top-p
    (1.0, 1, 1.0, "info"),  # top-k 1 is greedy
])
def test_impossible_or_pointless_combinations_say_so(temperature, top_k, top_p, level):
    at = open_page(PAGE, **SHORT)
    at.slider(key="sampling_temperature").set_value(temperature).run()
    at.slider(key="sampling_top_k").set_value(top_k).run()
    at.slider(key="sampling_top_p").set_value(top_p).run()
    assert_clean(at)
    assert getattr(at, level), f"expected a {level} message"
    if level == "error":
        assert "sampling_draws" not in [s.key for s in at.select_slider]  # nothing to draw from


def test_greedy_draws_are_one_token():
    at = open_page(PAGE, **SHORT)
    at.slider(key="sampling_temperature").set_value(0.0).run()
    assert_clean(at)
    assert metric(at, 4) == "1"


@pytest.mark.parametrize("text", ["", "   ", "🐱🐶🐭", "我们的历史很长", "<script>alert(1)</script> **x** $y$",
                                  "a\x00b\x07c", "x" * 20000])
def test_odd_prompts(text):
    at = open_page(PAGE, **SHORT)
    at.text_input(key="sampling_prompt").input(text).run()
    assert_clean(at)
    assert at.metric, "every prompt, even an empty one, gets a distribution"
    if not text:
        assert translate("sampling.prompt_empty_start", "en") in [i.value for i in at.info]
    if len(text) > 1000:
        assert any("1,000" in w.value for w in at.warning)


def test_a_user_supplied_causal_model(gpt2_folder):
    from transformers import AutoModelForCausalLM

    at = open_page(PAGE, sampling_model="user", **SHORT)
    assert translate("sampling.user_model_needed", "en") in [i.value for i in at.info]
    at.text_input(key="sampling_user_model_spec").input(str(gpt2_folder)).run()
    at.button(key="sampling_user_model_load").click().run()
    assert_clean(at)
    assert translate("sampling.user_model_needed", "en") not in [i.value for i in at.info]
    model = AutoModelForCausalLM.from_pretrained(gpt2_folder).eval()
    import torch

    with torch.no_grad():
        logits = model(torch.tensor([[437, 2017, 277]])).logits[0, -1]  # "The history of"
    view = sampling_view(logits, Settings(0.8, None, 0.8))
    assert metric(at, 0).startswith(f"{view.kept_count:,}")
    at.button(key="sampling_regenerate").click().run()
    assert_clean(at)
    assert at.success
