"""Reader page: every control moves; the guesses drawn are the lab's; long inputs and special-token
blanks get their messages; the fine-tuning part trains and classifies."""

import pytest

from components.loaders import load_fill_mask
from models.labs import reader as lab
from tests.app.conftest import assert_clean, open_page
from tests.app.test_qkv import chart

PAGE = "app_pages/reader.py"


@pytest.fixture(scope="module", autouse=True)
def bundled_head():
    from models.pretrained.minilm_mlm import ASSET_DIR

    if not (ASSET_DIR / "scores.json").exists():
        pytest.skip("assets/mlm not trained (python -m models.train mlm)")


def warnings(at) -> list[str]:
    return [str(w.value) for w in at.warning]


def test_every_control(lang):
    at = open_page(PAGE, lang, timeout=900)
    reader = load_fill_mask()
    assert len(at.metric) == 2 and len(at.warning) == int(lab.quality_note(reader.scores["heldout"]) is not None)
    at.multiselect(key="reader_chips").set_value([2]).run()
    assert_clean(at)
    at.slider(key="reader_top_k").set_value(8).run()
    assert_clean(at)
    at.text_input(key="reader_recipe_sentence").input("我的猫很可爱 <b>bold</b> 😀").run()
    assert_clean(at)
    at.number_input(key="reader_recipe_seed").set_value(42).run()
    assert_clean(at)
    at.text_input(key="reader_pair_first").input("It rained all day.").run()
    at.text_input(key="reader_pair_second").input("The match was cancelled.").run()
    assert_clean(at)
    at.text_area(key="reader_examples_positive").input("I love it.\nGreat food.").run()
    at.text_area(key="reader_examples_negative").input("I hate it.").run()
    assert_clean(at)
    at.text_input(key="reader_test").input("Great, I love the food.").run()
    assert_clean(at)
    assert len(at.metric) == 2
    at.text_area(key="reader_examples_negative").input("").run()
    assert_clean(at)
    assert at.info and not at.metric  # a label without examples: a message, no classifier
    at.text_input(key="reader_sentence").input("A sentence with no blank.").run()
    assert_clean(at)
    assert any(("[MASK]" in w) for w in warnings(at))


def test_guesses_drawn_are_the_labs():
    at = open_page(PAGE, timeout=900)
    at.multiselect(key="reader_chips").set_value([2]).run()
    assert_clean(at)
    reader = load_fill_mask()
    result = lab.fill_in(reader, lab.read_sentence(reader.tokenizer, "The dog chased the [MASK] because it was hungry."),
                         [2], 5)
    for blank in result.blanks:
        data = chart(at, f"reader_guess_chart_{blank.position}")["data"]
        for trace, view in zip(data, lab.VIEWS):
            assert trace["x"] == pytest.approx([g.probability for g in blank.guesses[view]])
    assert any("dog" in str(c.value) for c in at.caption)


def test_long_input_and_special_blank_get_messages(lang):
    at = open_page(PAGE, lang, timeout=900)
    at.multiselect(key="reader_chips").set_value([0]).run()  # [CLS]
    assert_clean(at)
    assert any("CLS" in w and "“" in w for w in warnings(at))  # the marker's name, markdown-escaped
    at.text_input(key="reader_sentence").input("word " * 700 + "[MASK]").run()
    assert_clean(at)
    assert any("512" in w and "703" in w for w in warnings(at))
    at.text_input(key="reader_pair_first").input("猫" * 600).run()
    assert_clean(at)
    assert sum("512" in w for w in warnings(at)) == 2
