"""KV cache: greedy generation timed with and without the cache, and how big the cache gets."""

import pandas as pd
import streamlit as st

from components.busy import heavy_run
from components.i18n import option_labels, t
from components.figures.kv_cache import cache_bytes_line, timing_lines, variant_bars
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_random_gpt, load_tiny_gpt, load_tiny_gpt_tokenizer
from components.settings import current_device, follow_sidebar
from components.text import capped_text, escape_markdown
from components.units import count_text, format_bytes, gib, kib, kib_text, millions
from components.widgets import progress_bar, run_button
from components.figure_cache import cached_figure
from models.core.device import available_devices
from models.core.params import PRESETS, count_parameters, parameter_change, shape_of
from models.labs.kv_cache import (
    BYTES_PER_VALUE,
    LARGE_LAYERS,
    LARGE_WIDTHS,
    compare_generation,
    large_config,
    max_new_tokens,
    parameter_count,
    preset_variants,
)

KEY = "kv_cache"
DEFAULT_PROMPT = "The history of"
MODELS = ("2024", "2017", "large")
CONTEXTS = (512, 1024, 2048, 4096, 8192, 32768, 131072)
VARIANTS = ("mha", "gqa", "mqa")
RESULT = f"{KEY}_result"


def choose_model(device: str):
    """(config, a function that returns the model, an id for it); the large model is built only when run."""
    choice = st.radio(t(f"{KEY}.model_label"), MODELS, key=f"{KEY}_model", bind="query-params", horizontal=True,
                      format_func=option_labels(f"{KEY}.model_"), help=t(f"{KEY}.model_help"))
    if choice != "large":
        config = load_tiny_gpt(choice, device).model.config
        st.caption(t(f"{KEY}.tiny_caption", layers=config.n_layer, width=config.n_embd, heads=config.n_head,
                     kv_heads=config.n_kv_head, context=config.block_size, params=millions(parameter_count(config))))
        return config, lambda: load_tiny_gpt(choice, device).model, (choice,)
    left, right = st.columns(2)
    layers = left.select_slider(t(f"{KEY}.layers"), LARGE_LAYERS, value=12, key=f"{KEY}_layers", bind="query-params")
    width = right.select_slider(t(f"{KEY}.width"), LARGE_WIDTHS, value=768, key=f"{KEY}_width", bind="query-params")
    config = large_config(layers, width)
    st.caption(t(f"{KEY}.large_caption", layers=layers, width=width, heads=config.n_head, vocab=config.vocab_size,
                 params=millions(parameter_count(config))))
    return config, lambda: load_random_gpt(layers, width, device), (choice, layers, width)


def run_controls():
    st.subheader(t(f"{KEY}.run_title"))
    st.markdown(t(f"{KEY}.run_explain"))
    devices = available_devices()
    sidebar_device = current_device().type if current_device().type in devices else "cpu"
    follow_sidebar(f"{KEY}_device", sidebar_device)
    model_column, prompt_column, device_column = st.columns([3, 3, 1])
    with device_column:
        device = st.selectbox(t(f"{KEY}.device_label"), devices, devices.index(sidebar_device), key=f"{KEY}_device", bind="query-params", help=t(f"{KEY}.device_help"))
    with model_column:
        config, get_model, model_id = choose_model(device)
    with prompt_column:
        text = capped_text(t(f"{KEY}.prompt_label"), DEFAULT_PROMPT, f"{KEY}_prompt", area=False, max_chars=1000)
        asked = st.slider(t(f"{KEY}.new_tokens"), 1, 256, 128, key=f"{KEY}_new_tokens", bind="query-params",
                          help=t(f"{KEY}.new_tokens_help"))
    ids = load_tiny_gpt_tokenizer().encode(text).ids if text.strip() else []
    if not ids:
        st.info(t(f"{KEY}.prompt_empty"))
        return None
    limit = max_new_tokens(config, len(ids))
    if limit == 0:
        st.warning(t(f"{KEY}.no_room"))
        return None
    if asked > limit:
        st.warning(t(f"{KEY}.tokens_capped", asked=asked, n=limit, context=config.block_size))
    return get_model, model_id, ids, min(asked, limit), device


def describe(request) -> str:
    """The settings of a run in words, in the current language."""
    model_id, ids, new_tokens, device = request
    name = t(f"{KEY}.model_{model_id[0]}") + (f" ({model_id[1]} x {model_id[2]})" if len(model_id) == 3 else "")
    return t(f"{KEY}.result_settings", model=name, tokens=new_tokens, prompt=len(ids), device=device)


def measure(get_model, ids, new_tokens) -> dict:
    with progress_bar(t(f"{KEY}.progress", done=0, total=2 * new_tokens)) as bar:
        def progress(done, total):
            if done == total or done % 4 == 0:
                bar.progress(done / total, text=t(f"{KEY}.progress", done=done, total=total))

        model = get_model()
        with heavy_run():  # explicit runs take turns: one per two cores, the others see a queued note
            result = compare_generation(model, ids, new_tokens, progress)
    return {"result": result, "decodable": model.config.vocab_size == load_tiny_gpt_tokenizer().get_vocab_size()}


def run(get_model, model_id, ids, new_tokens, device):
    stored = run_button(t(f"{KEY}.run_button"), f"{KEY}_run", RESULT, (model_id, tuple(ids), new_tokens, device),
                        lambda: measure(get_model, ids, new_tokens), type="primary", icon=":material/timer:")
    if stored is None:
        st.info(t(f"{KEY}.press_run"))
        return
    if stored["stale"]:
        st.warning(t(f"{KEY}.stale_result", settings=describe(stored["request"])))
    show_result(stored)


def show_result(stored):
    result = stored["result"]
    st.caption(describe(stored["request"]))
    metrics = st.columns(4)
    metrics[0].metric(t(f"{KEY}.metric_speedup"), t(f"{KEY}.metric_speedup_value", x=result.speedup))
    metrics[1].metric(t(f"{KEY}.metric_with"), t(f"{KEY}.seconds_value", s=result.total_with))
    metrics[2].metric(t(f"{KEY}.metric_without"), t(f"{KEY}.seconds_value", s=result.total_without))
    metrics[3].metric(t(f"{KEY}.metric_cache"), kib_text(result.with_cache.cache_bytes[-1]),
                      help=t(f"{KEY}.metric_cache_help"))
    names = dict(with_name=t(f"{KEY}.with_name"), without_name=t(f"{KEY}.without_name"),
                 x_title=t(f"{KEY}.position_axis"))
    left, right = st.columns(2)
    for column, name, with_cache, without_cache in (
            (left, "latency", result.with_cache.seconds, result.without_cache.seconds),
            (right, "cumulative", result.cumulative_with, result.cumulative_without)):
        column.plotly_chart(cached_figure(timing_lines, result.positions, with_cache, without_cache,
                                          title=t(f"{KEY}.{name}_title"), y_title=t(f"{KEY}.{name}_axis"), **names),
                            key=f"{KEY}_{name}_chart")
    st.caption(t(f"{KEY}.first_token_note"))
    chart_column, output_column = st.columns(2)
    chart_column.plotly_chart(cached_figure(cache_bytes_line, result.positions, result.with_cache.cache_bytes,
                                            title=t(f"{KEY}.cache_title"), x_title=t(f"{KEY}.position_axis"),
                                            y_title=t(f"{KEY}.cache_axis")), key=f"{KEY}_cache_chart")
    chart_column.caption(t(f"{KEY}.bytes_per_token", bytes=result.bytes_per_token))
    with output_column:
        show_outputs(result, stored["decodable"])


def show_outputs(result, decodable):
    if result.identical:
        st.success(t(f"{KEY}.identical", n=len(result.with_cache.tokens)), icon=":material/equal:")
    else:
        st.warning(t(f"{KEY}.different", index=result.first_difference + 1))
    for title, tokens in ((t(f"{KEY}.output_with"), result.with_cache.tokens),
                          (t(f"{KEY}.output_without"), result.without_cache.tokens)):
        with st.container(border=True):
            st.markdown(f"**{title}**")
            st.markdown(escape_markdown(load_tiny_gpt_tokenizer().decode(tokens)) if decodable
                        else f"`{' '.join(map(str, tokens))}`")


@st.fragment
def variants_section():
    st.subheader(t(f"{KEY}.variants_title"))
    llama = PRESETS["Llama-3-8B"]
    st.markdown(t(f"{KEY}.variants_explain", mha_change=f"{parameter_change(llama, llama.n_head):+.1%}"))
    context_column, dtype_column, scale_column = st.columns([3, 2, 1])
    context = context_column.select_slider(t(f"{KEY}.context_label"), CONTEXTS, value=8192, key=f"{KEY}_context", bind="query-params",
                                           format_func=count_text)
    dtype = dtype_column.selectbox(t(f"{KEY}.dtype_label"), tuple(BYTES_PER_VALUE), index=1, key=f"{KEY}_dtype", bind="query-params",
                                   format_func=option_labels(f"{KEY}.dtype_"))
    log_y = scale_column.toggle(t(f"{KEY}.log_scale"), value=True, key=f"{KEY}_log", bind="query-params")
    rows = preset_variants(context, BYTES_PER_VALUE[dtype])
    models = list(dict.fromkeys(row.model for row in rows))
    series = {t(f"{KEY}.variant_{v}"): [gib(row.bytes_for_context) for row in rows if row.variant == v]
              for v in VARIANTS}
    chart_column, table_column = st.columns([1, 1])
    chart_column.plotly_chart(cached_figure(variant_bars, models, series,
                                            title=t(f"{KEY}.variants_chart_title", context=context),
                                            y_title=t(f"{KEY}.gib_axis"), log_y=log_y, value_format=",.3f"),
                              key=f"{KEY}_variants_chart")
    table = pd.DataFrame({
        t(f"{KEY}.col_model"): [row.model for row in rows],
        t(f"{KEY}.col_variant"): [("● " if row.published else "") + row.variant.upper() for row in rows],
        t(f"{KEY}.col_kv_heads"): [row.n_kv_head for row in rows],
        t(f"{KEY}.col_per_token"): [kib(row.bytes_per_token) for row in rows],
        t(f"{KEY}.col_context"): [gib(row.bytes_for_context) for row in rows],
    })
    table_column.dataframe(table, hide_index=True, height=460, key=f"{KEY}_variants_table",
                           column_config={t(f"{KEY}.col_per_token"): st.column_config.NumberColumn(format="%.1f"),
                                          t(f"{KEY}.col_context"): st.column_config.NumberColumn(format="%.3f")})
    table_column.caption(t(f"{KEY}.table_caption"))


page_header(KEY)
chosen = run_controls()
if chosen is not None:
    run(*chosen)
variants_section()
llama_rows = {row.variant: row for row in preset_variants(8192, 2) if row.model == "Llama-3-8B"}
what_to_notice(KEY, context=f"{8192:,}", kv=llama_rows["gqa"].n_kv_head,
               **{f"{v}_bytes": format_bytes(llama_rows[v].bytes_for_context) for v in ("mha", "gqa")})
next_page_link(KEY)
