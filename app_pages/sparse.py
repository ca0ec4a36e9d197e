"""Sparse attention: which pairs a pattern keeps, what that saves, how far tokens still reach,
how fast it really runs, and what the tiny GPT makes of it."""

import pandas as pd
import streamlit as st

from components.figures.shared import figure_from_spec, figure_spec
from components.busy import heavy_run
from components.i18n import current_language, option_labels, t, translate
from components.loaders import load_tiny_gpt
from components.layout import next_page_link, page_header, what_to_notice
from components.settings import current_device, current_seed, follow_sidebar
from components.figures.sparse import mask_figure, pattern_gallery, reach_figure, timing_figure
from components.text import capped_text
from models.labs.sparse import (FLEX_BUDGET_S, PATTERN_USES, PATTERNS, TIMING_LENGTHS_CPU, TIMING_LENGTHS_GPU,
                               PatternSettings, pattern_view, reach_mask)

KEY = "sparse"
MAX_LAYERS = 8
TIMING_BLOCK = 64
HELDOUT_TOKENS = 20_000
HELDOUT_WINDOWS = 8  # 8 x 256 = 2,048 scored tokens: a few seconds on a laptop CPU
NEW_TOKENS = 24
DEFAULT_PROMPT = "The history of the city"


@st.cache_data(max_entries=64, show_spinner=False)
def view_for(settings: PatternSettings):
    return pattern_view(settings, max_layers=MAX_LAYERS)


@st.cache_data(max_entries=64, show_spinner=False)
def reach_for(settings: PatternSettings, layers: int):
    return reach_mask(settings, layers)


@st.cache_data(max_entries=32, show_spinner=False)  # up to ~0.5 MB each at T = 256
def mask_chart(settings: PatternSettings, lang: str) -> dict:
    """The chosen pattern's mask, built once per settings and language."""
    view = view_for(settings)
    name = translate(f"{KEY}.pattern_{view.settings.pattern}", lang)
    return figure_spec(mask_figure(view.mask, title=translate(f"{KEY}.mask_title", lang, pattern=name),
                                   x_title=translate(f"{KEY}.key_axis", lang),
                                   y_title=translate(f"{KEY}.query_axis", lang),
                                   hover_yes=translate(f"{KEY}.may_attend", lang),
                                   hover_no=translate(f"{KEY}.hidden", lang)))


@st.cache_data(max_entries=64, show_spinner=False)
def gallery_chart(settings: PatternSettings, lang: str) -> dict:
    """Every pattern at the same settings, built once per settings and language."""
    view = view_for(settings)
    return figure_spec(pattern_gallery(view.gallery, {name: translate(f"{KEY}.pattern_{name}", lang)
                                                      for name in PATTERNS}, selected=view.settings.pattern))


@st.cache_data(max_entries=32, show_spinner=False)  # up to ~0.5 MB each at T = 256
def reach_mask_chart(settings: PatternSettings, layers: int, query: int, lang: str) -> dict:
    """Who reaches whom after ``layers`` layers, ``query``'s row outlined."""
    return figure_spec(mask_figure(reach_for(settings, layers),
                                   title=translate(f"{KEY}.reach_mask_title", lang, k=layers),
                                   x_title=translate(f"{KEY}.key_axis", lang),
                                   y_title=translate(f"{KEY}.query_axis", lang),
                                   hover_yes=translate(f"{KEY}.reachable", lang),
                                   hover_no=translate(f"{KEY}.unreachable", lang), height=420, highlight_row=query))


@st.cache_data(max_entries=64, show_spinner=False)
def reach_line_chart(settings: PatternSettings, query: int, lang: str) -> dict:
    """How many tokens ``query`` hears from after each number of layers."""
    view = view_for(settings)
    return figure_spec(reach_figure(view.reach, query, view.settings.length,
                                    title=translate(f"{KEY}.reach_line_title", lang, i=query),
                                    x_title=translate(f"{KEY}.layers_axis", lang),
                                    y_title=translate(f"{KEY}.tokens_axis", lang),
                                    series_name=translate(f"{KEY}.reach_series", lang),
                                    everything_name=translate(f"{KEY}.reach_ceiling", lang), causal=view.causal))


def pattern_controls() -> PatternSettings:
    pattern = st.selectbox(t(f"{KEY}.pattern"), PATTERNS, index=PATTERNS.index("bigbird"), key=f"{KEY}_pattern",
                           format_func=option_labels(f"{KEY}.pattern_"))
    st.caption(t(f"{KEY}.about_{pattern}"))
    uses = PATTERN_USES[pattern]
    length = st.slider(t(f"{KEY}.length"), 8, 256, 64, step=8, key=f"{KEY}_length")
    window = st.slider(t(f"{KEY}.window"), 1, 64, 4, key=f"{KEY}_window", disabled="window" not in uses)
    stride = st.slider(t(f"{KEY}.stride"), 1, 32, 4, key=f"{KEY}_stride", disabled="stride" not in uses,
                       help=t(f"{KEY}.stride_help"))
    n_global = st.slider(t(f"{KEY}.n_global"), 0, 16, 2, key=f"{KEY}_n_global", disabled="n_global" not in uses)
    n_random = st.slider(t(f"{KEY}.n_random"), 0, 8, 2, key=f"{KEY}_n_random", disabled="n_random" not in uses)
    follow_sidebar(f"{KEY}_seed", current_seed())
    seed = st.number_input(t(f"{KEY}.seed"), 0, 2**31 - 1, key=f"{KEY}_seed",
                           disabled="seed" not in uses)
    return PatternSettings(pattern, length, window, stride, n_global, n_random, int(seed))


def show_pattern(settings, view):
    costs = view.costs
    for name in view.adjusted:
        st.warning(t(f"{KEY}.clamped_{name}", n=view.settings.length), icon=":material/tune:")
    st.plotly_chart(figure_from_spec(mask_chart(settings, current_language())), key=f"{KEY}_mask_chart")
    columns = st.columns(4)
    columns[0].metric(t(f"{KEY}.density"), f"{costs.density:.1%}", help=t(f"{KEY}.density_help"))
    columns[1].metric(t(f"{KEY}.keys_per_query"), f"{costs.keys_per_query:.1f}", help=t(f"{KEY}.keys_help"))
    columns[2].metric(t(f"{KEY}.saved"), f"{1 - costs.density:.1%}", help=t(f"{KEY}.saved_help"))
    columns[3].metric(t(f"{KEY}.block_density", b=costs.block), f"{costs.block_density:.1%}",
                      help=t(f"{KEY}.block_density_help"))
    st.caption(t(f"{KEY}.costs_caption", mem=costs.score_bytes / 1024, full_mem=costs.full_score_bytes / 1024,
                 flops=costs.flops / 1e6, full_flops=costs.full_flops / 1e6, T=costs.length))


def show_reach(settings, view):
    st.subheader(t(f"{KEY}.reach_title"))
    st.markdown(t(f"{KEY}.reach_intro"))
    T = view.settings.length
    left, right = st.columns(2)
    with left:
        layers = st.slider(t(f"{KEY}.layers"), 1, MAX_LAYERS, 2, key=f"{KEY}_layers")
        if st.session_state.get(f"{KEY}_query", T) > T - 1:  # first visit, or the sequence got shorter
            st.session_state[f"{KEY}_query"] = T - 1
        query = st.slider(t(f"{KEY}.query"), 0, T - 1, key=f"{KEY}_query")
        st.plotly_chart(figure_from_spec(reach_mask_chart(settings, layers, query, current_language())),
                        key=f"{KEY}_reach_mask_chart")
    with right:
        st.plotly_chart(figure_from_spec(reach_line_chart(settings, query, current_language())),
                        key=f"{KEY}_reach_line_chart")
        st.metric(t(f"{KEY}.reach_now", k=layers, i=query), int(view.reach[layers, query]))
        if view.layers_to_full is None:
            st.info(t(f"{KEY}.never_full"))
        else:
            st.success(t(f"{KEY}.full_after", k=view.layers_to_full))


@st.fragment
def timing_section(settings):
    st.subheader(t(f"{KEY}.timing_title"))
    st.markdown(t(f"{KEY}.timing_intro"))
    device = current_device()
    lengths = st.session_state.get(f"{KEY}_timing_lengths") or (
        TIMING_LENGTHS_GPU if device.type == "cuda" else TIMING_LENGTHS_CPU)
    with_flex = st.checkbox(t(f"{KEY}.with_flex"), value=device.type == "cuda", key=f"{KEY}_with_flex",
                            help=t(f"{KEY}.with_flex_help"))
    if st.button(t(f"{KEY}.timing_button", device=device.type, lengths=", ".join(map(str, lengths))),
                 key=f"{KEY}_timing_button", icon=":material/timer:"):
        from models.labs.sparse import time_patterns

        bar = st.progress(0.0, text=t(f"{KEY}.timing_running"))
        with heavy_run():  # timings take turns, so each one measures the cores it is given
            rows = time_patterns(settings.clamped()[0], tuple(lengths), device, block=TIMING_BLOCK, with_flex=with_flex,
                                 progress=lambda done, T: bar.progress(done, text=t(f"{KEY}.timing_done_length", T=T)))
        bar.empty()
        st.session_state[f"{KEY}_timing_rows"] = (settings, device.type, rows)
    stored = st.session_state.get(f"{KEY}_timing_rows")
    if not stored:
        st.caption(t(f"{KEY}.timing_hint"))
        return
    measured_settings, device_name, rows = stored
    if measured_settings != settings:
        st.caption(t(f"{KEY}.timing_stale"))
    series = {t(f"{KEY}.dense"): [r.dense_ms for r in rows], t(f"{KEY}.block_sparse"): [r.block_sparse_ms for r in rows]}
    if any(r.flex_ms is not None for r in rows):
        series[t(f"{KEY}.flex")] = [r.flex_ms for r in rows]
    st.plotly_chart(timing_figure([r.length for r in rows], series, title=t(f"{KEY}.timing_chart", device=device_name),
                                  x_title=t(f"{KEY}.length"), y_title=t(f"{KEY}.ms")), key=f"{KEY}_timing_chart")
    table = pd.DataFrame({
        t(f"{KEY}.length"): [r.length for r in rows],
        t(f"{KEY}.density"): [f"{r.density:.1%}" for r in rows],
        t(f"{KEY}.block_density", b=TIMING_BLOCK): [f"{r.block_density:.1%}" for r in rows],
        **{name: [None if v is None else round(v, 2) for v in values] for name, values in series.items()},
        t(f"{KEY}.speedup"): [round(r.dense_ms / r.block_sparse_ms, 2) for r in rows],
        t(f"{KEY}.max_difference"): [f"{r.max_abs_difference:.1e}" for r in rows],
    })
    st.dataframe(table, hide_index=True, key=f"{KEY}_timing_table")
    skipped = [r.length for r in rows if r.flex_skipped]
    if skipped:
        st.info(t(f"{KEY}.flex_capped", lengths=", ".join(map(str, skipped)), seconds=FLEX_BUDGET_S))
    last = rows[-1]
    st.markdown(t(f"{KEY}.timing_summary", T=last.length, dense=last.dense_ms, sparse=last.block_sparse_ms,
                  speedup=last.dense_ms / last.block_sparse_ms, density=last.block_density))


@st.cache_data(max_entries=2, show_spinner=False)
def heldout_ids(style: str):
    from models.labs.sparse import heldout_stream

    return heldout_stream(load_tiny_gpt(style).tokenizer, HELDOUT_TOKENS)


@st.cache_data(max_entries=32, show_spinner=False)
def compare_on_gpt(style: str, settings: PatternSettings, prompt: str, _progress):
    from models.labs.sparse import apply_to_gpt

    bundle = load_tiny_gpt(style)
    prompt_ids = bundle.encode(prompt)[-bundle.config.block_size:] or [bundle.end_of_text_id]
    result = apply_to_gpt(bundle.model, heldout_ids(style), settings, prompt_ids, max_windows=HELDOUT_WINDOWS,
                          max_new_tokens=NEW_TOKENS, progress=_progress)
    return result, bundle.decode(result.full_continuation), bundle.decode(result.pattern_continuation)


def gpt_section(settings):
    st.subheader(t(f"{KEY}.gpt_title"))
    st.markdown(t(f"{KEY}.gpt_intro"))
    left, right = st.columns([1, 2])
    with left:
        style = st.radio(t(f"{KEY}.gpt_model"), ("2024", "2017"), key=f"{KEY}_gpt_style", horizontal=True,
                         format_func=option_labels(f"{KEY}.gpt_model_"))
    with right:
        prompt = capped_text(t(f"{KEY}.gpt_prompt"), DEFAULT_PROMPT, f"{KEY}_gpt_prompt", area=False, max_chars=500)
    clamped = settings.clamped()[0]
    st.caption(t(f"{KEY}.gpt_caption", windows=HELDOUT_WINDOWS, n=NEW_TOKENS))
    if st.button(t(f"{KEY}.gpt_button", pattern=t(f"{KEY}.pattern_{clamped.pattern}")), key=f"{KEY}_gpt_button",
                 icon=":material/play_arrow:"):
        bar = st.progress(0.0, text=t(f"{KEY}.gpt_running"))
        try:
            with heavy_run():
                outcome = compare_on_gpt(style, clamped, prompt, lambda done: bar.progress(done))
        except FileNotFoundError:
            outcome = None
            st.error(t(f"{KEY}.gpt_missing"))
        bar.empty()
        st.session_state[f"{KEY}_gpt_result"] = (style, clamped, prompt, outcome) if outcome else None
    stored = st.session_state.get(f"{KEY}_gpt_result")
    if not stored:
        st.caption(t(f"{KEY}.gpt_hint"))
        return
    style_used, settings_used, prompt_used, (result, full_text, pattern_text) = stored
    if (style_used, settings_used, prompt_used) != (style, clamped, prompt):
        st.caption(t(f"{KEY}.gpt_stale"))
    columns = st.columns(3)
    columns[0].metric(t(f"{KEY}.ppl_full"), f"{result.full_perplexity:.1f}")
    columns[1].metric(t(f"{KEY}.ppl_pattern"), f"{result.pattern_perplexity:.1f}",
                      delta=f"{result.pattern_perplexity - result.full_perplexity:+.1f}", delta_color="inverse")
    columns[2].metric(t(f"{KEY}.gpt_density"), f"{result.density:.1%}", help=t(f"{KEY}.gpt_density_help"))
    st.caption(t(f"{KEY}.ppl_caption", n=result.tokens_scored))
    full_column, pattern_column = st.columns(2)
    with full_column:
        st.markdown(f"**{t(f'{KEY}.continuation_full')}**")
        st.code(prompt_used + full_text, language=None, wrap_lines=True)
    with pattern_column:
        st.markdown(f"**{t(f'{KEY}.continuation_pattern', pattern=t(f'{KEY}.pattern_{settings_used.pattern}'))}**")
        st.code(prompt_used + pattern_text, language=None, wrap_lines=True)
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
st.plotly_chart(figure_from_spec(gallery_chart(settings, current_language())), key=f"{KEY}_gallery_chart")
show_reach(settings, view)
timing_section(settings)
gpt_section(settings)
what_to_notice(KEY)
next_page_link(KEY)
