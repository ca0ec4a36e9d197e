"""KV-cache page: every control moves; the numbers shown are the lab's; odd prompts get messages."""

import pytest

from components.i18n import translate
from models.labs.kv_cache import BYTES_PER_VALUE, large_config, max_new_tokens, preset_variants
from models.pretrained.tiny_gpt import load_tokenizer
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/kv_cache.py"
FEW = {"kv_cache_new_tokens": 3}  # tiny runs keep the test fast


def stored(at):
    return at.session_state["kv_cache_result"]["result"]


def test_every_control(lang):
    at = open_page(PAGE, lang, **FEW)
    assert translate("kv_cache.press_run", lang) in [i.value for i in at.info]
    at.selectbox(key="kv_cache_device").set_value("cpu").run()
    at.button(key="kv_cache_run").click().run()
    assert_clean(at)
    result = stored(at)
    assert result.identical and len(result.with_cache.tokens) == 3
    metrics = {m.label: m.value for m in at.metric}
    assert f"{result.speedup:.1f}" in list(metrics.values())[0]
    assert f"{result.total_with:.3f}" in list(metrics.values())[1]
    assert f"{result.with_cache.cache_bytes[-1] / 1024:,.1f} KiB" == list(metrics.values())[3]
    assert at.success
    other = "zh" if lang == "en" else "en"
    at.sidebar.radio(key="lang").set_value(other).run()
    assert_clean(at)
    assert not at.warning, "switching the language does not make the result stale"
    at.sidebar.radio(key="lang").set_value(lang).run()
    at.text_input(key="kv_cache_prompt").input("In the early years,").run()
    assert_clean(at)
    assert at.warning, "a result measured with other settings is marked as such"
    at.radio(key="kv_cache_model").set_value("2017").run()
    at.slider(key="kv_cache_new_tokens").set_value(2).run()
    at.button(key="kv_cache_run").click().run()
    assert_clean(at)
    assert len(stored(at).with_cache.tokens) == 2 and not at.warning
    at.radio(key="kv_cache_model").set_value("large").run()
    at.select_slider(key="kv_cache_layers").set_value(4).run()
    at.select_slider(key="kv_cache_width").set_value(256).run()
    at.button(key="kv_cache_run").click().run()
    assert_clean(at)
    assert stored(at).bytes_per_token == 2 * 4 * 4 * 64 * 4  # 4 layers, 4 heads of 64, float32
    for dtype in BYTES_PER_VALUE:
        at.selectbox(key="kv_cache_dtype").set_value(dtype).run()
        assert_clean(at)
    at.select_slider(key="kv_cache_context").set_value(2048).run()
    at.toggle(key="kv_cache_log").set_value(False).run()
    assert_clean(at)
    table = at.dataframe[0].value
    expected = preset_variants(2048, BYTES_PER_VALUE["int8"])
    assert table.iloc[:, -1].tolist() == pytest.approx([v.bytes_for_context / 2**30 for v in expected])


def test_large_model_caps_the_tokens_with_a_message():
    at = open_page(PAGE, kv_cache_model="large", kv_cache_new_tokens=256)
    limit = max_new_tokens(large_config(12, 768), len(load_tokenizer().encode("The history of").ids))
    assert 0 < limit < 256
    assert any(f"{limit}" in w.value and "256" in w.value for w in at.warning)


@pytest.mark.parametrize("text", ["", "   ", "🐱🐶🐭", "我们的历史", "<script>alert(1)</script> **x**", "a\x00b\x07c"])
def test_odd_prompts(text):
    at = open_page(PAGE, **FEW)
    at.text_input(key="kv_cache_prompt").input(text).run()
    assert_clean(at)
    if not text.strip():
        assert translate("kv_cache.prompt_empty", "en") in [i.value for i in at.info]
    else:
        at.button(key="kv_cache_run").click().run()
        assert_clean(at)
        assert stored(at).identical


def test_a_huge_prompt_is_capped_and_leaves_no_room(lang):
    at = open_page(PAGE, lang, **FEW)
    at.text_input(key="kv_cache_prompt").input("词" * 20000).run()
    assert_clean(at)
    assert len(at.warning) >= 2  # the text was cut, and it still fills the context
    assert "kv_cache_run" not in [button.key for button in at.button]


def test_the_notice_and_variants_state_the_core_numbers(lang):
    from models.core.params import PRESETS, count_parameters, kv_cache_bytes_per_token, with_kv_heads

    at = open_page(PAGE, lang)
    llama = PRESETS["Llama-3-8B"]
    mha = with_kv_heads(llama, 32)
    notice = at.info[-1].value
    assert f"{kv_cache_bytes_per_token(mha) * 8192 / 2**30:,.1f} GiB" in notice  # 4.0 GiB
    assert f"{kv_cache_bytes_per_token(llama) * 8192 / 2**30:,.1f} GiB" in notice  # 1.0 GiB
    change = count_parameters(mha)["total"] / count_parameters(llama)["total"] - 1
    assert f"{change:+.1%}" in " ".join(m.value for m in at.markdown)
