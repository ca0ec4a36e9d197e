"""Translator page: every control in both languages, the step-by-step decode, bad sentences,
and the own-model box (a tiny random Marian folder, and a GPT-2 folder that it must refuse)."""

import pytest

from components.i18n import translate
from components.loaders import load_translators
from models.labs import translator as lab
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/translator.py"


def chart_ids(at) -> list[str]:
    return [str(chart.proto.id) for chart in at.get("plotly_chart")]


def chips_text(at) -> str:
    return next(m.value for m in at.markdown if "background[" in m.value)


def test_every_control(lang):
    at = open_page(PAGE, lang, timeout=300)
    assert any("translator_cross_chart" in c for c in chart_ids(at))
    for metric in ("bleu", "chrf", "exact_match"):
        at.radio(key="translator_metric").set_value(metric).run()
        assert_clean(at)
    before = chips_text(at)
    at.button(key="translator_next").click().run()
    assert_clean(at)
    assert at.session_state["translator_steps"] == 1 and chips_text(at) != before
    at.button(key="translator_next").click().run()
    assert at.session_state["translator_steps"] == 2
    at.button(key="translator_finish").click().run()
    assert_clean(at)
    assert at.success  # <eos> written (or, for an untrained model, the length limit)
    at.button(key="translator_reset").click().run()
    assert at.session_state["translator_steps"] == 0
    for strategy in ("beam", "sample", "greedy"):
        at.radio(key="translator_strategy").set_value(strategy).run()
        at.button(key="translator_next").click().run()
        assert_clean(at)
    at.radio(key="translator_strategy").set_value("beam").run()
    at.slider(key="translator_beam").set_value(4).run()
    at.button(key="translator_finish").click().run()
    assert_clean(at)
    at.radio(key="translator_strategy").set_value("sample").run()
    at.slider(key="translator_temperature").set_value(1.5).run()
    at.button(key="translator_next").click().run()
    assert_clean(at)
    at.selectbox(key="translator_layer").set_value(1).run()
    at.selectbox(key="translator_head").set_value(2).run()
    assert_clean(at)
    # Layers and heads are counted from 1, as on every page (the glossary's rule)
    assert at.selectbox(key="translator_layer").options == ["1", "2"]
    assert at.selectbox(key="translator_head").options[1:] == ["1", "2", "3", "4"]
    best = lab.alignment_summary(load_translators())
    said = translate("translator.alignment_text", lang, best=100 * best.best_accuracy, layer=best.best_layer + 1,
                     head=best.best_head + 1, average=100 * best.all_heads_average, gru=100 * best.gru_attention)
    assert said in [md.value for md in at.markdown]


@pytest.mark.parametrize("text, message", [
    ("the dog eats the pizza .", "unknown_words"),
    ("", None),
    ("<b>the</b> 🐶 狗 dog\x07 sleeps", "unknown_words"),
    (" ".join(["the dog sleeps and"] * 15) + " the cat sleeps", "too_long"),
])
def test_bad_sentences_get_a_message(text, message):
    at = open_page(PAGE, "en", timeout=300)
    at.text_input(key="translator_sentence").input(text).run()
    assert_clean(at)
    if message is None:
        assert at.info
    else:
        warnings = " ".join(w.value for w in at.warning)
        assert translate(f"translator.{message}", "en").split("{")[0][:20] in warnings
    if message == "unknown_words":
        assert "pizza" in " ".join(w.value for w in at.warning) or "狗" in " ".join(w.value for w in at.warning)
    assert not any("translator_cross_chart" in c for c in chart_ids(at))


@pytest.fixture(scope="module")
def marian_folder(tmp_path_factory):
    """A tiny randomly initialised Marian model with a small word-level tokenizer."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("marian")
    words = ["<pad>", "</s>", "<unk>"] + "the dog that sees cat sleeps . der hund schläft".split()
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    config = MarianConfig(vocab_size=len(words), d_model=16, encoder_layers=1, decoder_layers=2,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=64, pad_token_id=0, eos_token_id=1,
                          decoder_start_token_id=0, forced_eos_token_id=1)
    MarianMTModel(config).save_pretrained(folder)
    return folder


def load_own(at, folder):
    at.text_input(key="translator_own_user_model_spec").input(str(folder)).run()
    at.button(key="translator_own_user_model_load").click().run()
    assert_clean(at)
    return at


def test_own_encoder_decoder_draws_cross_attention(marian_folder):
    at = load_own(open_page(PAGE, "zh", timeout=300), marian_folder)
    assert any("translator_own_chart" in c for c in chart_ids(at)), [e.value for e in at.error]
    at.selectbox(key="translator_own_head").set_value(1).run()
    at.selectbox(key="translator_own_layer").set_value(0).run()
    at.text_input(key="translator_own_text").input("the cat sleeps .").run()
    assert_clean(at)


def test_own_model_that_is_not_an_encoder_decoder_is_refused(gpt2_folder):
    at = load_own(open_page(PAGE, "en", timeout=300), gpt2_folder)
    assert any("cross-attention" in e.value for e in at.error)
    assert not any("translator_own_chart" in c for c in chart_ids(at))
    at = load_own(open_page(PAGE, "en", timeout=300), "no-such-user/no-such-model")
    assert at.error
