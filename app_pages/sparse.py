"""Sparse attention: which pairs a pattern keeps, what it saves, how far tokens reach, its speed, the tiny GPT on it."""

import pandas as pd
import streamlit as st

from components.busy import heavy_run
from components.figure_cache import cached_figure
from components.i18n import option_labels, t
from components.loaders import load_tiny_gpt
from components.layout import next_page_link, page_header, section_header, what_to_notice
from components.settings import current_device, current_seed, follow_sidebar
from components.figures.sparse import mask_figure, pattern_gallery, reach_figure, timing_figure
from components.text import capped_text
from components.units import kib, millions
from components.widgets import keep_in_range, metric_row, progress_bar, run_button
from models.labs.sparse import (FLEX_BUDGET_S, HELDOUT_TOKENS, HELDOUT_WINDOWS, NEW_TOKENS, PATTERN_USES, PATTERNS,
                               TIMING_LENGTHS_CPU, TIMING_LENGTHS_GPU, PatternSettings, compare_on_model, heldout_stream,
                               pattern_view, reach_mask, time_patterns, timing_series, timing_table)

KEY = "sparse"
MAX_LAYERS = 8
TIMING_BLOCK = 64
DEFAULT_PROMPT = "The history of the city"


@st.cache_data(max_entries=64, show_spinner=False)
def view_for(settings: PatternSettings):
    return pattern_view(settings, max_layers=MAX_LAYERS)


@st.cache_data(max_entries=64, show_spinner=False)
def reach_for(settings: PatternSettings, layers: int):
    return reach_mask(settings, layers)


def pattern_controls() -> PatternSettings:
    pattern = st.selectbox(t(f"{KEY}.pattern"), PATTERNS, index=PATTERNS.index("bigbird"), key=f"{KEY}_pattern", bind="query-params",
                           format_func=option_labels(f"{KEY}.pattern_"))
    st.caption(t(f"{KEY}.about_{pattern}"))
    uses = PATTERN_USES[pattern]
    length = st.slider(t(f"{KEY}.length"), 8, 256, 64, step=8, key=f"{KEY}_length", bind="query-params")
    window = st.slider(t(f"{KEY}.window"), 1, 64, 4, key=f"{KEY}_window", bind="query-params", disabled="window" not in uses)
    stride = st.slider(t(f"{KEY}.stride"), 1, 32, 4, key=f"{KEY}_stride", bind="query-params", disabled="stride" not in uses,
                       help=t(f"{KEY}.stride_help"))
    n_global = st.slider(t(f"{KEY}.n_global"), 0, 16, 2, key=f"{KEY}_n_global", bind="query-params", disabled="n_global" not in uses)
    n_random = st.slider(t(f"{KEY}.n_random"), 0, 8, 2, key=f"{KEY}_n_random", bind="query-params", disabled="n_random" not in uses)
    follow_sidebar(f"{KEY}_seed", current_seed())
    seed = st.number_input(t(f"{KEY}.seed"), 0, 2**31 - 1, current_seed(), key=f"{KEY}_seed", bind="query-params",
                           disabled="seed" not in uses)
    return PatternSettings(pattern, length, window, stride, n_global, n_random, int(seed))


def show_pattern(settings, view):
    costs = view.costs
    for name in view.adjusted:
        st.warning(t(f"{KEY}.clamped_{name}", n=view.settings.length), icon=":material/tune:")
    name = t(f"{KEY}.pattern_{view.settings.pattern}")
    st.plotly_chart(cached_figure(mask_figure, view.mask, title=t(f"{KEY}.mask_title", pattern=name),
                                  x_title=t(f"{KEY}.key_axis"), y_title=t(f"{KEY}.query_axis"),
                                  hover_yes=t(f"{KEY}.may_attend"), hover_no=t(f"{KEY}.hidden")), key=f"{KEY}_mask_chart")
    metric_row((t(f"{KEY}.density"), f"{costs.density:.1%}", {"help": t(f"{KEY}.density_help")}),
               (t(f"{KEY}.keys_per_query"), f"{costs.keys_per_query:.1f}", {"help": t(f"{KEY}.keys_help")}),
               (t(f"{KEY}.saved"), f"{1 - costs.density:.1%}", {"help": t(f"{KEY}.saved_help")}),
               (t(f"{KEY}.block_density", b=costs.block), f"{costs.block_density:.1%}",
                {"help": t(f"{KEY}.block_density_help")}))
    st.caption(t(f"{KEY}.costs_caption", mem=kib(costs.score_bytes), full_mem=kib(costs.full_score_bytes),
                 flops=millions(costs.flops), full_flops=millions(costs.full_flops), T=costs.length))


@st.fragment  # layers and query rerun only this section: the mask and the gallery above stay
def show_reach(settings, view):
    section_header(KEY, "reach", "intro")
    T = view.settings.length
    left, right = st.columns(2)
    with left:
        layers = st.slider(t(f"{KEY}.layers"), 1, MAX_LAYERS, 2, key=f"{KEY}_layers", bind="query-params")
        keep_in_range(f"{KEY}_query", T, T - 1)  # first visit, or the sequence got shorter
        query = st.slider(t(f"{KEY}.query"), 0, T - 1, T - 1, key=f"{KEY}_query", bind="query-params")
        st.plotly_chart(cached_figure(mask_figure, reach_for(settings, layers),
                                      title=t(f"{KEY}.reach_mask_title", k=layers), x_title=t(f"{KEY}.key_axis"),
                                      y_title=t(f"{KEY}.query_axis"), hover_yes=t(f"{KEY}.reachable"),
                                      hover_no=t(f"{KEY}.unreachable"), height=420, highlight_row=query),
                        key=f"{KEY}_reach_mask_chart")
    with right:
        st.plotly_chart(cached_figure(reach_figure, view.reach, query, T, title=t(f"{KEY}.reach_line_title", i=query),
                                      x_title=t(f"{KEY}.layers_axis"), y_title=t(f"{KEY}.tokens_axis"),
                                      series_name=t(f"{KEY}.reach_series"), everything_name=t(f"{KEY}.reach_ceiling"),
                                      causal=view.causal),
                        key=f"{KEY}_reach_line_chart")
        st.metric(t(f"{KEY}.reach_now", k=layers, i=query), int(view.reach[layers, query]))
        if view.layers_to_full is None:
            st.info(t(f"{KEY}.never_full"))
        else:
            st.success(t(f"{KEY}.full_after", k=view.layers_to_full))


@st.fragment
def timing_section(settings):
    section_header(KEY, "timing", "intro")
    device = current_device()
    lengths = st.session_state.get(f"{KEY}_timing_lengths") or (
        TIMING_LENGTHS_GPU if device.type == "cuda" else TIMING_LENGTHS_CPU)
    with_flex = st.checkbox(t(f"{KEY}.with_flex"), value=device.type == "cuda", key=f"{KEY}_with_flex", bind="query-params",
                            help=t(f"{KEY}.with_flex_help"))

    def measure():
        with progress_bar(t(f"{KEY}.timing_running")) as bar, heavy_run():  # timings take turns: each gets its cores
            return {"device": device.type, "rows": time_patterns(
                settings.clamped()[0], tuple(lengths), device, block=TIMING_BLOCK, with_flex=with_flex,
                progress=lambda done, T: bar.progress(done, text=t(f"{KEY}.timing_done_length", T=T)))}

    stored = run_button(t(f"{KEY}.timing_button", device=device.type, lengths=", ".join(map(str, lengths))),
                        f"{KEY}_timing_button", f"{KEY}_timing_rows", settings, measure, icon=":material/timer:")
    if not stored:
        st.caption(t(f"{KEY}.timing_hint"))
        return
    device_name, rows = stored["device"], stored["rows"]
    if stored["stale"]:
        st.caption(t(f"{KEY}.timing_stale"))
    series = {t(f"{KEY}.{name}"): values for name, values in timing_series(rows).items()}
    st.plotly_chart(cached_figure(timing_figure, [r.length for r in rows], series,
                                  title=t(f"{KEY}.timing_chart", device=device_name), x_title=t(f"{KEY}.length"),
                                  y_title=t(f"{KEY}.ms")), key=f"{KEY}_timing_chart")
    table = pd.DataFrame({t(f"{KEY}.{name}", b=TIMING_BLOCK): values for name, values in timing_table(rows).items()})
    st.dataframe(table, hide_index=True, key=f"{KEY}_timing_table")
    skipped = [r.length for r in rows if r.flex_skipped]
    if skipped:
        st.info(t(f"{KEY}.flex_capped", lengths=", ".join(map(str, skipped)), seconds=FLEX_BUDGET_S))
    last = rows[-1]
    st.markdown(t(f"{KEY}.timing_summary", T=last.length, dense=last.dense_ms, sparse=last.block_sparse_ms,
                  speedup=last.dense_ms / last.block_sparse_ms, density=last.block_density))


@st.cache_data(max_entries=2, show_spinner=False)
def heldout_ids(style: str):
    return heldout_stream(load_tiny_gpt(style).tokenizer, HELDOUT_TOKENS)


@st.cache_data(max_entries=32, show_spinner=False)
def compare_on_gpt(style: str, settings: PatternSettings, prompt: str, _progress):
    return compare_on_model(load_tiny_gpt(style), heldout_ids(style), settings, prompt, progress=_progress)


@st.fragment
def gpt_section(settings):
    section_header(KEY, "gpt", "intro")
    left, right = st.columns([1, 2])
    style = left.radio(t(f"{KEY}.gpt_model"), ("2024", "2017"), key=f"{KEY}_gpt_style", bind="query-params", horizontal=True,
                       format_func=option_labels(f"{KEY}.gpt_model_"))
    with right:
        prompt = capped_text(t(f"{KEY}.gpt_prompt"), DEFAULT_PROMPT, f"{KEY}_gpt_prompt", area=False, max_chars=500)
    clamped = settings.clamped()[0]
    st.caption(t(f"{KEY}.gpt_caption", windows=HELDOUT_WINDOWS, n=NEW_TOKENS))

    def compare():
        with progress_bar(t(f"{KEY}.gpt_running")) as bar:
            try:
                with heavy_run():
                    return {"outcome": compare_on_gpt(style, clamped, prompt, lambda done: bar.progress(done))}
            except FileNotFoundError:
                st.error(t(f"{KEY}.gpt_missing"))

    stored = run_button(t(f"{KEY}.gpt_button", pattern=t(f"{KEY}.pattern_{clamped.pattern}")), f"{KEY}_gpt_button",
                        f"{KEY}_gpt_result", (style, clamped, prompt), compare, icon=":material/play_arrow:")
    if not stored:
        st.caption(t(f"{KEY}.gpt_hint"))
        return
    (_, settings_used, prompt_used), (result, full_text, pattern_text) = stored["request"], stored["outcome"]
    if stored["stale"]:
        st.caption(t(f"{KEY}.gpt_stale"))
    metric_row((t(f"{KEY}.ppl_full"), f"{result.full_perplexity:.1f}"),
               (t(f"{KEY}.ppl_pattern"), f"{result.pattern_perplexity:.1f}", {
                   "delta": f"{result.pattern_perplexity - result.full_perplexity:+.1f}", "delta_color": "inverse"}),
               (t(f"{KEY}.gpt_density"), f"{result.density:.1%}", {"help": t(f"{KEY}.gpt_density_help")}))
    st.caption(t(f"{KEY}.ppl_caption", n=result.tokens_scored))
    pattern_name = t(f"{KEY}.pattern_{settings_used.pattern}")
    for column, title, written in zip(st.columns(2), (t(f"{KEY}.continuation_full"),
                                                      t(f"{KEY}.continuation_pattern", pattern=pattern_name)),
                                      (full_text, pattern_text)):
        column.markdown(f"**{title}**")
        column.code(prompt_used + written, language=None, wrap_lines=True)
    if full_text == pattern_text:
        st.info(t(f"{KEY}.same_text"))


page_header(KEY)
control_column, figure_column = st.columns([1, 2])
with control_column:
    settings = pattern_controls()
view = view_for(settings)
with figure_column:
    show_pattern(settings, view)
st.subheader(t(f"{KEY}.gallery_title"))
st.caption(t(f"{KEY}.gallery_caption", T=min(view.settings.length, 48)))
st.plotly_chart(cached_figure(pattern_gallery, view.gallery, {name: t(f"{KEY}.pattern_{name}") for name in PATTERNS},
                              selected=view.settings.pattern), key=f"{KEY}_gallery_chart")
show_reach(settings, view)
timing_section(settings)
gpt_section(settings)
what_to_notice(KEY)
next_page_link(KEY)
