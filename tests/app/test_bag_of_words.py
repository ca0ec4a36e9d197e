"""Bag-of-words page: every control moves; the numbers shown are the vectorizer's."""

import pytest

from models.text.bow import WEIGHTINGS
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/bag_of_words.py"


def test_every_control(lang):
    at = open_page(PAGE, lang)
    for weighting in WEIGHTINGS:
        at.radio(key="bag_of_words_weighting").set_value(weighting).run()
        assert_clean(at)
    for key in ("bag_of_words_lowercase", "bag_of_words_punctuation", "bag_of_words_split_cjk"):
        at.checkbox(key=key).uncheck().run()
        assert_clean(at)
        at.checkbox(key=key).check().run()
    at.text_area(key="bag_of_words_sentences").input("the cat\nthe dog\n我的猫很可爱").run()
    assert_clean(at)
    at.text_input(key="bag_of_words_order_first").input("the cat sat").run()
    at.text_input(key="bag_of_words_order_second").input("sat the cat").run()
    assert_clean(at)
    assert at.metric[0].value == "1.000"
    assert at.success, "identical vectors should be announced"


def test_word_order_demo_shows_identical_vectors():
    at = open_page(PAGE)
    assert at.metric[0].value == "1.000"
    at.text_input(key="bag_of_words_order_second").input("man bites cat").run()
    assert float(at.metric[0].value) < 1.0
    assert at.warning


@pytest.mark.parametrize("text", ["", "   \n  ", "!!! ???", "🐱🐶🐭" * 50, "<b>hi</b> <script>x</script>",
                                  "a\x00b\x07c", "词" * 5000, "x " * 3000])
def test_odd_input_gets_a_message_not_a_traceback(text):
    at = open_page(PAGE)
    at.text_area(key="bag_of_words_sentences").input(text).run()
    assert_clean(at)


def test_long_text_is_capped_with_a_message():
    at = open_page(PAGE)
    at.text_area(key="bag_of_words_sentences").input("word " * 1000).run()
    assert any("5,000" in w.value for w in at.warning)


def test_too_many_sentences():
    at = open_page(PAGE)
    at.text_area(key="bag_of_words_sentences").input("\n".join(f"s{i} cat" for i in range(20))).run()
    assert any("12" in w.value for w in at.warning)


def test_empty_text_says_so(lang):
    at = open_page(PAGE, lang)
    at.text_area(key="bag_of_words_sentences").input("").run()
    assert at.info
