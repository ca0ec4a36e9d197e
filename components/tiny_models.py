"""The two bundled tiny GPTs side by side, trained on the same data and budget, one from 2017 blocks
and one from 2024 blocks: how they trained (loss curves, held-out perplexity against a no-context
baseline) and what each writes after the same prompt. ``tiny_models(key)`` draws it with the strings
``<key>.*`` of that page's locale file."""

from __future__ import annotations

import streamlit as st

from components.figure_cache import cached_figure
from components.figures.blocks import line_figure
from components.figures.shared import bars
from components.i18n import option_labels, t
from components.loaders import load_tiny_gpt
from components.settings import current_seed
from components.text import capped_text, escape_markdown
from models.labs import blocks as lab

DEFAULT_PROMPT = "The city is"
STYLE_COLOURS = ("#e8590c", "#e8590c", "#3b6fd8", "#3b6fd8")  # 2017 train, held-out; 2024 train, held-out


@st.cache_data(max_entries=64, show_spinner=False)
def written(prompt: str, length: int, seed: int) -> dict:
    """Both models, greedy and sampled, ``length`` tokens (lab.written_length): switching the
    decoding or moving the length reuses this run (written at the slider's longest) instead of writing again."""
    return {style: lab.write_both(load_tiny_gpt(style), prompt, length, seed=seed) for style in lab.STYLES}


@st.fragment
def tiny_models(key: str) -> None:
    def tr(name: str, /, **values) -> str:
        return t(f"{key}.{name}", **values)

    def chart(figure, name: str, column) -> None:
        column.plotly_chart(figure, key=f"{key}_{name}_chart")

    st.subheader(tr("tiny_title"))
    st.markdown(tr("tiny_intro"))
    curves, report = lab.training_curves(), lab.heldout_report()
    if curves is None or report is None:
        st.info(tr("tiny_missing"))
        return
    series = {tr(f"curve_{kind}", style=s): getattr(curves[s], f"{kind}_loss") for s in lab.STYLES
              for kind in ("train", "heldout")}
    loss_column, perplexity_column = st.columns([3, 2])
    chart(cached_figure(line_figure, curves["2017"].steps, series, title=tr("loss_title"), x_title=tr("step_axis"),
                        y_title=tr("loss_axis"), dashed=[tr("curve_train", style=s) for s in lab.STYLES],
                        colours=STYLE_COLOURS), "loss", loss_column)
    chart(cached_figure(bars, [tr("model_name", style=s) for s in lab.STYLES] + [tr("unigram")],
                        {tr("perplexity"): [report.perplexity[s] for s in lab.STYLES] + [report.unigram_perplexity]},
                        value_format=".1f", title=tr("perplexity_title"), y_title=tr("perplexity_axis"), height=340),
          "perplexity", perplexity_column)
    for column, style in zip(st.columns(2), lab.STYLES):
        column.metric(tr("model_name", style=style), f"{report.perplexity[style]:.1f}",
                      help=tr("perplexity_help", tokens=f"{report.tokens_scored:,}"))
        column.caption(tr("model_caption", params=f"{report.parameters[style]:,}", seconds=curves[style].wall_time_s,
                          device=curves[style].device))
    prompt_column, length_column, mode_column = st.columns([3, 1.2, 1.5])
    with prompt_column:
        prompt = capped_text(tr("prompt"), DEFAULT_PROMPT, f"{key}_prompt", area=False, max_chars=500)
    max_new_tokens = length_column.slider(tr("new_tokens"), 5, lab.MAX_NEW_TOKENS, 30, key=f"{key}_new_tokens", bind="query-params")
    sampled = mode_column.radio(tr("decoding"), (False, True), index=1, key=f"{key}_decoding", bind="query-params",
                                format_func=option_labels(f"{key}.decoding_"))
    with st.spinner(tr("writing")):
        runs = written(prompt, lab.written_length(lab.MAX_NEW_TOKENS), current_seed())  # every length: a cut of one run
    if runs["2017"] is None:
        st.info(t("common.empty_text"))
        return
    if runs["2024"].prompt_cut:  # both models share one tokenizer and one context length, so both cut the same
        bundle = load_tiny_gpt("2024")
        st.caption(tr("prompt_cut", cut=runs["2024"].prompt_cut, kept=lab.prompt_room(bundle),
                      context=bundle.config.block_size))
    for column, style in zip(st.columns(2), lab.STYLES):
        with column, st.container(border=True):
            st.markdown(f"**{tr('model_name', style=style)}**")
            st.markdown(f"**{escape_markdown(prompt)}**"
                        f"{escape_markdown(runs[style].text(load_tiny_gpt(style), max_new_tokens, sampled=sampled))}")
