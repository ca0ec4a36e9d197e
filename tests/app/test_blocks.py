"""2017 vs 2024 block page: every control moves, in both languages; the numbers shown are the core's."""

import json

import pytest

from components.text import escape_markdown
from models.labs import blocks as lab
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/blocks.py"
KEY = "blocks"


TRAINED = lab.training_curves() is not None and lab.heldout_report() is not None


def greedy(prompt: str, n: int) -> list[str]:
    from models.pretrained.tiny_gpt import load_tiny_gpt

    return [lab.continuation(load_tiny_gpt(style), prompt, n, sampled=False, seed=0) for style in lab.STYLES]


def sampled(prompt: str, n: int) -> list[str]:
    from components.settings import DEFAULT_SEED
    from models.pretrained.tiny_gpt import load_tiny_gpt

    return [lab.continuation(load_tiny_gpt(style), prompt, n, sampled=True, seed=DEFAULT_SEED) for style in lab.STYLES]


def chart(at, key: str) -> dict:
    """The Plotly spec a chart sent."""
    return json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")).proto.spec)


def continuation_texts(at) -> list[str]:
    """The two continuation boxes: the markdown right after each model's name."""
    texts = [m.value for m in at.markdown]
    from components.i18n import translate

    titles = {f"**{translate('blocks.model_name', lang, style=style)}**" for style in lab.STYLES for lang in ("en", "zh")}
    return [texts[i + 1] for i, text in enumerate(texts) if text in titles]


def millions(n: int) -> str:
    return f"{n / 1e9:,.2f}B" if n >= 1e9 else f"{n / 1e6:,.2f}M"


def metric(at, index):
    return at.metric[index].value


def current_choices(at) -> lab.BlockChoices:
    return lab.BlockChoices(**{name: at.session_state[f"{KEY}_{name}"]
                               for name in ("norm_placement", "norm", "positions", "kv_group", "ffn", "bias")})


def check_defaults(at) -> None:
    stats = lab.block_stats("tiny", lab.BlockChoices.style_2024())
    assert metric(at, 0) == millions(stats.total)
    assert metric(at, 2) == f"{stats.kv_bytes_per_token / 1024:,.1f} KiB"
    post, pre = lab.depth_norms("post", 24), lab.depth_norms("pre", 24)
    assert metric(at, 4) == f"{lab.last_layer_gradient_ratio(post, pre):.2f}×"
    assert float(metric(at, 8)) < 1e-4  # RoPE: only the distance matters
    if TRAINED:
        report = lab.heldout_report()
        assert [metric(at, 9), metric(at, 10)] == [f"{report.perplexity[s]:.1f}" for s in lab.STYLES]


def test_every_control(lang):
    at = open_page(PAGE, lang)
    check_defaults(at)
    for size in lab.SIZES:
        at.selectbox(key=f"{KEY}_size").set_value(size).run()
        assert_clean(at)
        assert metric(at, 0) == millions(lab.block_stats(size, current_choices(at)).total)
    at.selectbox(key=f"{KEY}_size").set_value("gpt2_small").run()
    at.button(key=f"{KEY}_all_2017").click().run()
    assert_clean(at)
    assert current_choices(at) == lab.BlockChoices.style_2017()
    assert metric(at, 0) == millions(lab.block_stats("gpt2_small", lab.BlockChoices.style_2017()).total)
    for name, value in (("norm_placement", "pre"), ("norm", "rmsnorm"), ("positions", "learned"),
                        ("positions", "rope"), ("ffn", "swiglu")):
        at.radio(key=f"{KEY}_{name}").set_value(value).run()
        assert_clean(at)
        assert metric(at, 0) == millions(lab.block_stats("gpt2_small", current_choices(at)).total)
    for group in (3, 12):
        at.select_slider(key=f"{KEY}_kv_group").set_value(group).run()
        assert_clean(at)
        stats = lab.block_stats("gpt2_small", current_choices(at))
        assert stats.n_kv_head == 12 // group
    at.toggle(key=f"{KEY}_bias").set_value(False).run()
    assert_clean(at)
    at.button(key=f"{KEY}_all_2024").click().run()
    assert_clean(at)
    assert current_choices(at) == lab.BlockChoices.style_2024()

    at.slider(key=f"{KEY}_depth_layers").set_value(6).run()
    assert_clean(at)
    at.radio(key=f"{KEY}_depth_norm").set_value("rmsnorm").run()
    assert_clean(at)
    at.radio(key=f"{KEY}_depth_init").set_value("gpt2").run()
    assert_clean(at)
    post = lab.depth_norms("post", 6, norm="rmsnorm", init="gpt2")
    pre = lab.depth_norms("pre", 6, norm="rmsnorm", init="gpt2")
    assert metric(at, 4) == f"{lab.last_layer_gradient_ratio(post, pre):.2f}×"
    # the charts follow the controls (built once per input, never left stale)
    assert [trace["y"] for trace in chart(at, f"{KEY}_gradient_chart")["data"]] == [post.gradient_norm, pre.gradient_norm]

    at.slider(key=f"{KEY}_rope_length").set_value(12).run()
    assert_clean(at)
    at.select_slider(key=f"{KEY}_rope_head_dim").set_value(64).run()
    at.slider(key=f"{KEY}_rope_pair").set_value(20).run()
    assert_clean(at)
    at.radio(key=f"{KEY}_scores_method").set_value("sinusoidal").run()
    assert_clean(at)
    expected = lab.relative_scores(12, 64, "sinusoidal").diagonal_spread
    assert metric(at, 8) == f"{expected:.2g}"
    assert chart(at, f"{KEY}_scores_chart")["data"][0]["z"]["shape"] == "12, 12"

    if TRAINED:
        at.slider(key=f"{KEY}_new_tokens").set_value(5).run()
        assert_clean(at)
        at.radio(key=f"{KEY}_decoding").set_value(False).run()
        assert_clean(at)
        at.text_input(key=f"{KEY}_prompt").input("Water").run()
        assert_clean(at)
        assert continuation_texts(at) == [f"**Water**{escape_markdown(text)}" for text in greedy("Water", 5)]
        at.radio(key=f"{KEY}_decoding").set_value(True).run()  # the same run serves both decodings
        assert_clean(at)
        assert continuation_texts(at) == [f"**Water**{escape_markdown(text)}" for text in sampled("Water", 5)]

    at.selectbox(key=f"{KEY}_calc_preset").set_value("GPT-2 small").run()
    assert_clean(at)
    at.select_slider(key=f"{KEY}_calc_context").set_value(2048).run()
    assert_clean(at)
    at.radio(key=f"{KEY}_calc_bytes").set_value(4).run()
    assert_clean(at)
    costs = lab.params.preset_costs("GPT-2 small", 2048, [2048], bytes_per_value=4)
    values = [m.value for m in at.metric]
    assert values[-4] == f"{costs.parameters / 1e6:,.2f}M"
    assert values[-3] == f"{costs.kv_bytes_per_token / 1024:,.1f} KiB"
    assert values[-2] == f"{costs.kv_bytes / 1024 ** 2:,.1f} MiB"


def test_impossible_combinations_are_adjusted_not_errors():
    at = open_page(PAGE)
    at.selectbox(key=f"{KEY}_size").set_value("gpt2_small").run()
    at.select_slider(key=f"{KEY}_kv_group").set_value(3).run()
    at.selectbox(key=f"{KEY}_size").set_value("tiny").run()  # 8 heads: a group of 3 does not exist
    assert_clean(at)
    assert at.session_state[f"{KEY}_kv_group"] in lab.kv_group_options(8)
    at.select_slider(key=f"{KEY}_rope_head_dim").set_value(128).run()
    at.slider(key=f"{KEY}_rope_pair").set_value(60).run()
    at.select_slider(key=f"{KEY}_rope_head_dim").set_value(16).run()  # only 8 pairs now
    assert_clean(at)
    assert at.slider(key=f"{KEY}_rope_pair").value == 7


@pytest.mark.skipif(not TRAINED, reason="the tiny models have not been trained yet")
def test_odd_prompts_get_a_message_not_a_traceback():
    at = open_page(PAGE)
    at.slider(key=f"{KEY}_new_tokens").set_value(5).run()
    for text in ("", "   ", "🐱🐶🐭" * 20, "城市的历史", "a\x00b\x07c", "<b>hi</b><script>alert(1)</script>", "x" * 20_000):
        at.text_input(key=f"{KEY}_prompt").input(text).run()
        assert_clean(at)
        if not text:
            assert any(info.value == t_empty() for info in at.info)
        if len(text) > 500:
            assert any("20,000" in warning.value for warning in at.warning)
        if "\x00" in text:
            assert any("2" in warning.value for warning in at.warning)
        if "<script>" in text:
            assert any("\\<script\\>" in markdown.value for markdown in at.markdown)


def t_empty() -> str:
    from components.i18n import translate

    return translate("common.empty_text", "en")


@pytest.mark.skipif(not TRAINED, reason="the tiny models have not been trained yet")
def test_a_prompt_past_the_context_is_cut_with_a_note(lang):
    from components.i18n import translate
    from components.loaders import load_tiny_gpt

    bundle = load_tiny_gpt("2024")
    at = open_page(PAGE, lang)
    at.slider(key=f"{KEY}_new_tokens").set_value(5).run()
    note = translate(f"{KEY}.prompt_cut", lang, cut=0, kept=0, context=0).split("0")[0]
    assert not any(caption.value.startswith(note) for caption in at.caption)  # the default prompt fits
    prompt = "城市的历史很长。" * 40  # about 3 byte-level tokens per character: past the 256-token context
    at.text_input(key=f"{KEY}_prompt").input(prompt).run()
    assert_clean(at)
    cut = len(bundle.encode(prompt)) - lab.prompt_room(bundle)
    expected = translate(f"{KEY}.prompt_cut", lang, cut=cut, kept=lab.prompt_room(bundle),
                         context=bundle.config.block_size)
    assert cut > 0 and expected in [caption.value for caption in at.caption]


def test_the_notice_and_calculator_state_the_core_numbers(lang):
    """Every percentage the notice states is the lab's count, recomputed here from block_stats."""
    at = open_page(PAGE, lang)
    notice = at.info[-1].value
    mha = lab.block_stats("llama3_8b", lab.BlockChoices(kv_group=1)).total
    for group in (4, 32):
        other = lab.block_stats("llama3_8b", lab.BlockChoices(kv_group=group)).total
        assert f"{(other - mha) / mha:+.1%}" in notice
    for size in lab.SIZES:
        old = lab.block_stats(size, lab.BlockChoices.style_2017()).total
        new = lab.block_stats(size, lab.BlockChoices.style_2024()).total
        assert f"{new / old - 1:+.1%}" in notice
    ratio = lab.last_layer_gradient_ratio(lab.depth_norms("post", 24), lab.depth_norms("pre", 24))
    assert f"{ratio:.1f}×" in notice or f"{ratio:.1f} 倍" in notice
    at.selectbox(key=f"{KEY}_calc_preset").set_value("GPT-1").run()
    at.select_slider(key=f"{KEY}_calc_context").set_value(512).run()
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert "12 " in text and "116.53M" in text and "262,144" in text  # 12 blocks, GPT-1's total, 512²


def test_all_2024_at_tiny_shows_the_bundled_model(lang):
    at = open_page(PAGE, lang)
    at.button(key=f"{KEY}_all_2024").click().run()
    log = json.loads((lab.ASSET_DIR / "2024" / "train_log.json").read_text(encoding="utf-8"))
    assert metric(at, 0) == millions(log["parameters"])
    at.selectbox(key=f"{KEY}_size").set_value("llama3_8b").run()
    assert_clean(at)
    assert metric(at, 0) == "8.03B"
