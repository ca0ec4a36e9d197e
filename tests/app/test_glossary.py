"""One glossary: every Chinese locale string uses its terms, and the sidebar shows it."""

import json
import re
from pathlib import Path

import pytest

from components.i18n import LOCALE_DIR, translate
from tests.app.conftest import open_page

# retired variant -> the glossary's term (a regex where a plain string would also match the term)
RETIRED = {
    "迷你 GPT": "小型 GPT", "小 GPT": "小型 GPT", "微型 GPT": "小型 GPT", "迷你": "小型",
    r"(?<!阅)读者": "阅读者", "输出层": "语言模型头", "开头文字": "提示词", "前馈层": "前馈网络",
    r"(?<!\{)nats": "奈特", r"(?<![模分滑])块": "模块 (a Transformer block) / 分块 (a tile) / 方格 (an averaged cell)",
    "百万个参数": "M（百万）个参数", "刚好达到 p": "至少达到 p",
}


def chinese_strings():
    for path in sorted((LOCALE_DIR / "zh").glob("*.json")):
        if path.stem != "glossary":  # the glossary names the English terms beside the Chinese ones
            for key, text in json.loads(path.read_text(encoding="utf-8")).items():
                yield f"{path.stem}.{key}", text


@pytest.mark.parametrize("variant", RETIRED)
def test_no_retired_variant_appears(variant):
    hits = [f"{key}: …{text[max(0, m.start() - 10):m.end() + 10]}…" for key, text in chinese_strings()
            for m in re.finditer(variant, text)]
    assert not hits, f"use {RETIRED[variant]!r} instead of {variant!r}: {hits}"


def test_the_rule_catches_a_retired_variant():
    """The check itself can fail: each rule finds its own example."""
    for variant, example in (("迷你 GPT", "两个迷你 GPT"), (r"(?<!阅)读者", "BERT 是读者"),
                             (r"(?<![模分滑])块", "2017 年的块"), (r"(?<!\{)nats", "2.1 nats")):
        assert re.search(variant, example)
    for allowed in ("阅读者", "Transformer 模块", "分块稀疏", "滑块"):
        assert not re.search(r"(?<!阅)读者|(?<![模分滑])块", allowed)


def test_glossary_terms_are_the_ones_pages_use():
    for term in ("小型 GPT", "模块", "阅读者", "语言模型头", "提示词", "前馈网络", "奈特", "自回归"):
        assert term in " ".join(translate(f"glossary.{k}", "zh") for k in json.loads(
            (LOCALE_DIR / "zh" / "glossary.json").read_text(encoding="utf-8")))
    used = " ".join(text for _, text in chinese_strings())
    for term in ("小型 GPT", "模块", "阅读者", "语言模型头", "提示词", "前馈网络", "奈特"):
        assert term in used


def test_the_blocks_page_is_named_by_its_title_in_the_overview():
    for lang in ("en", "zh"):
        assert translate("blocks.nav_title", lang) in translate("overview.milestone_llama3_detail", lang)


def test_sidebar_shows_the_glossary(lang):
    at = open_page("app_pages/overview.py", lang)
    expander = next(e for e in at.sidebar.expander if e.label == translate("glossary.title", lang))
    text = " ".join(m.value for m in expander.markdown)
    assert translate("glossary.term_tiny_gpt", lang) in text and translate("glossary.term_numbering", lang) in text
