"""2017 vs 2024 block: the five changes one at a time, measured rather than asserted."""

import streamlit as st

from components.figures.blocks import (
    BlockDrawing,
    block_diagrams,
    changed_parts,
    line_figure,
    parameter_breakdown,
    rope_rotation_figure,
)
from components.figure_cache import cached_figure
from components.figures.shared import bars, heatmap
from components.i18n import current_language, option_labels, t, translate
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_tiny_gpt
from components.settings import current_seed
from components.text import capped_text, escape_markdown
from models.labs import blocks as lab

KEY = "blocks"
SWITCHES = ("norm_placement", "norm", "positions", "kv_group", "ffn", "bias")
SWITCH_OPTIONS = {"norm_placement": ("post", "pre"), "norm": ("layernorm", "rmsnorm"),
                  "positions": ("sinusoidal", "learned", "rope"), "ffn": ("relu", "swiglu")}
PARTS = ("embedding", "positions", "attention", "ffn", "norms")
DEPTH_NORMS = ("layernorm", "rmsnorm")
HEAD_DIMS = (16, 32, 64, 128)
DEFAULT_PROMPT = "The city is"
MAX_PROMPT = 500
STYLE_COLOURS = ("#e8590c", "#e8590c", "#3b6fd8", "#3b6fd8")  # 2017 train, held-out; 2024 train, held-out
CONTEXTS = tuple(2**n for n in range(7, 18))  # 128 .. 131,072 tokens


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024


def format_count(n: float) -> str:
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:,.2f}{unit}"
    return f"{n:,.0f}"


# -- 1. the two blocks ------------------------------------------------------------------------


def set_style(choices: lab.BlockChoices) -> None:
    """Button callback: put every switch of the page to a whole style."""
    for name in SWITCHES:
        st.session_state[f"{KEY}_{name}"] = getattr(choices, name)


def switch_radio(name: str) -> str:
    return st.radio(t(f"{KEY}.switch_{name}"), SWITCH_OPTIONS[name], key=f"{KEY}_{name}", horizontal=True,
                    format_func=option_labels(f"{KEY}.{name}_"), help=t(f"{KEY}.switch_{name}_help"))


def switch_controls(n_head: int) -> lab.BlockChoices:
    defaults = lab.BlockChoices.style_2024()
    for name in SWITCHES:
        st.session_state.setdefault(f"{KEY}_{name}", getattr(defaults, name))
    groups = lab.kv_group_options(n_head)
    if st.session_state[f"{KEY}_kv_group"] not in groups:  # another size has other head counts
        st.session_state[f"{KEY}_kv_group"] = min(groups, key=lambda g: abs(g - st.session_state[f"{KEY}_kv_group"]))
    left, right = st.columns(2)
    left.button(t(f"{KEY}.all_2017"), key=f"{KEY}_all_2017", on_click=set_style, args=(lab.BlockChoices.style_2017(),),
                width="stretch")
    right.button(t(f"{KEY}.all_2024"), key=f"{KEY}_all_2024", on_click=set_style, args=(lab.BlockChoices.style_2024(),),
                 width="stretch")
    values = {}
    for name in ("norm_placement", "norm", "positions"):
        values[name] = switch_radio(name)
    values["kv_group"] = st.select_slider(
        t(f"{KEY}.switch_kv_group"), groups, key=f"{KEY}_kv_group", help=t(f"{KEY}.switch_kv_group_help"),
        format_func=lambda g, lang=current_language(): translate(f"{KEY}.kv_group_option", lang, kv=n_head // g, group=g))
    values["ffn"] = switch_radio("ffn")
    values["bias"] = st.toggle(t(f"{KEY}.switch_bias"), key=f"{KEY}_bias", help=t(f"{KEY}.switch_bias_help"))
    return lab.BlockChoices(**values)


def drawing_labels(stats: lab.BlockStats, choices: lab.BlockChoices) -> dict:
    kind = "mha" if stats.n_kv_head == stats.n_head else "mqa" if stats.n_kv_head == 1 else "gqa"
    attention = t(f"{KEY}.part_attention_{kind}", heads=stats.n_head, kv=stats.n_kv_head)
    if choices.positions == "rope":
        attention += "<br>" + t(f"{KEY}.part_rope")
    norm = t(f"{KEY}.norm_{choices.norm}")
    return {
        "embedding": t(f"{KEY}.part_embedding"),
        "positions": None if choices.positions == "rope" else t(f"{KEY}.part_positions_{choices.positions}"),
        "norm": norm, "final_norm": t(f"{KEY}.part_final_norm", norm=norm), "attention": attention,
        "ffn": t(f"{KEY}.part_ffn_{choices.ffn}", width=stats.ffn_hidden),
        "head": t(f"{KEY}.part_head"), "residual": t(f"{KEY}.part_residual"),
        "repeat": t(f"{KEY}.part_repeat", n=stats.n_layer),
    }


def right_title(choices: lab.BlockChoices) -> str:
    if choices == lab.BlockChoices.style_2024():
        return t(f"{KEY}.title_2024")
    if choices == lab.BlockChoices.style_2017():
        return t(f"{KEY}.title_same_2017")
    return t(f"{KEY}.title_mix")


@st.fragment
def two_blocks() -> None:
    st.subheader(t(f"{KEY}.blocks_title"))
    st.markdown(t(f"{KEY}.blocks_intro"))
    size = st.selectbox(t(f"{KEY}.size"), lab.SIZES, key=f"{KEY}_size",
                        format_func=option_labels(f"{KEY}.size_"), help=t(f"{KEY}.size_help"))
    control_column, diagram_column = st.columns([1, 2])
    with control_column:
        shape = lab.size_spec(size).shape
        choices = switch_controls(shape.n_head)
    original = lab.BlockChoices.style_2017()
    before, after = lab.block_stats(size, original), lab.block_stats(size, choices)
    with diagram_column:
        st.plotly_chart(cached_figure(
            block_diagrams, BlockDrawing(t(f"{KEY}.title_2017"), "post", drawing_labels(before, original)),
            BlockDrawing(right_title(choices), choices.norm_placement, drawing_labels(after, choices),
                         changed_parts(choices.changed_from(original))),
            legend=t(f"{KEY}.diagram_legend")), key=f"{KEY}_diagram_chart", config={"displayModeBar": False})
    context = shape.context
    columns = st.columns(4)
    columns[0].metric(t(f"{KEY}.metric_parameters"), format_count(after.total),
                      delta=f"{(after.total - before.total) / before.total:+.1%}", delta_color="off",
                      help=t(f"{KEY}.metric_parameters_help", n=f"{after.total:,}", original=f"{before.total:,}"))
    columns[1].metric(t(f"{KEY}.metric_per_block"), format_count(after.per_block),
                      delta=f"{(after.per_block - before.per_block) / before.per_block:+.1%}", delta_color="off")
    columns[2].metric(t(f"{KEY}.metric_kv_token"), format_bytes(after.kv_bytes_per_token),
                      delta=f"{(after.kv_bytes_per_token - before.kv_bytes_per_token) / before.kv_bytes_per_token:+.0%}",
                      delta_color="off", help=t(f"{KEY}.metric_kv_token_help"))
    columns[3].metric(t(f"{KEY}.metric_kv_context", n=f"{context:,}"), format_bytes(after.kv_bytes_per_token * context))
    st.plotly_chart(cached_figure(
        parameter_breakdown, [t(f"{KEY}.part_name_{part}") for part in PARTS],
        {t(f"{KEY}.bar_2017"): [getattr(before, part) for part in PARTS],
         t(f"{KEY}.bar_yours"): [getattr(after, part) for part in PARTS]},
        x_title=t(f"{KEY}.parameters_axis")), key=f"{KEY}_breakdown_chart")


# -- 2. deep stacks at initialisation ---------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def measure_depth(n_layer: int, norm: str, init: str, seed: int):
    return {placement: lab.depth_norms(placement, n_layer, norm=norm, init=init, seed=seed)
            for placement in ("post", "pre")}


@st.fragment
def deep_stack() -> None:
    st.subheader(t(f"{KEY}.depth_title"))
    st.markdown(t(f"{KEY}.depth_intro"))
    depth_column, norm_column, init_column = st.columns(3)
    n_layer = depth_column.slider(t(f"{KEY}.depth_layers"), 2, 48, 24, step=2, key=f"{KEY}_depth_layers")
    norm = norm_column.radio(t(f"{KEY}.depth_norm"), DEPTH_NORMS, key=f"{KEY}_depth_norm", horizontal=True,
                             format_func=option_labels(f"{KEY}.norm_"))
    init = init_column.radio(t(f"{KEY}.depth_init"), lab.INITS, key=f"{KEY}_depth_init", horizontal=True,
                             format_func=option_labels(f"{KEY}.init_"), help=t(f"{KEY}.depth_init_help"))
    with st.spinner(t(f"{KEY}.depth_running")):
        norms = measure_depth(n_layer, norm, init, current_seed())
    post, pre = norms["post"], norms["pre"]
    layers = list(range(1, n_layer + 1))
    names = {placement: t(f"{KEY}.norm_placement_{placement}") for placement in ("post", "pre")}
    left, right = st.columns(2)
    left.plotly_chart(cached_figure(line_figure, layers, {names[p]: norms[p].activation_rms for p in names},
                                    title=t(f"{KEY}.depth_activation_title"), x_title=t(f"{KEY}.layer_axis"),
                                    y_title=t(f"{KEY}.activation_axis")), key=f"{KEY}_activation_chart")
    right.plotly_chart(cached_figure(line_figure, layers, {names[p]: norms[p].gradient_norm for p in names},
                                     log_y=True, title=t(f"{KEY}.depth_gradient_title"),
                                     x_title=t(f"{KEY}.layer_axis"), y_title=t(f"{KEY}.gradient_axis")),
                       key=f"{KEY}_gradient_chart")
    ratio_column, sqrt_column, post_column, pre_column = st.columns(4)
    ratio_column.metric(t(f"{KEY}.metric_ratio"), f"{lab.last_layer_gradient_ratio(post, pre):.2f}×",
                        help=t(f"{KEY}.metric_ratio_help"))
    sqrt_column.metric(t(f"{KEY}.metric_sqrt_depth"), f"{n_layer ** 0.5:.2f}")
    for column, placement in ((post_column, "post"), (pre_column, "pre")):
        column.metric(t(f"{KEY}.metric_spread", name=t(f"{KEY}.placement_short_{placement}")),
                      f"{lab.gradient_spread(norms[placement]):.2f}×", help=t(f"{KEY}.metric_spread_help"))
    st.caption(t(f"{KEY}.depth_caption", loss=post.loss))


# -- 3. positions ------------------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def position_pictures(seq_len: int, head_dim: int, pair: int, seed: int):
    pairs = sorted({0, pair})
    return (lab.rope_rotation(seq_len, head_dim, pairs), lab.relative_scores(seq_len, head_dim, "rope", seed=seed),
            lab.relative_scores(seq_len, head_dim, "sinusoidal", seed=seed), lab.sinusoidal_table(seq_len, head_dim))


@st.fragment
def positions() -> None:
    st.subheader(t(f"{KEY}.rope_title"))
    st.markdown(t(f"{KEY}.rope_intro"))
    length_column, dim_column, pair_column = st.columns(3)
    seq_len = length_column.slider(t(f"{KEY}.rope_length"), 4, 64, 24, key=f"{KEY}_rope_length")
    head_dim = dim_column.select_slider(t(f"{KEY}.rope_head_dim"), HEAD_DIMS, value=32, key=f"{KEY}_rope_head_dim")
    pair_key = f"{KEY}_rope_pair"
    st.session_state.setdefault(pair_key, 2)
    if st.session_state[pair_key] > head_dim // 2 - 1:  # a smaller head has fewer pairs
        st.session_state[pair_key] = head_dim // 2 - 1
    pair = pair_column.slider(t(f"{KEY}.rope_pair"), 0, head_dim // 2 - 1, key=pair_key, help=t(f"{KEY}.rope_pair_help"))
    rotation, rope_scores, added_scores, table = position_pictures(seq_len, head_dim, pair, current_seed())
    rotation_column, scores_column = st.columns(2)
    with rotation_column:
        st.markdown(t(f"{KEY}.rope_rotation_text"))
        pair_names = [t(f"{KEY}.rope_pair_name", i=p, degrees=f"{d:.1f}")
                      for p, d in zip(rotation.pairs, rotation.degrees_per_position)]
        st.plotly_chart(cached_figure(rope_rotation_figure, rotation.points, pair_names,
                                      position_label=t(f"{KEY}.position"), x_title=t(f"{KEY}.rope_first"),
                                      y_title=t(f"{KEY}.rope_second")), key=f"{KEY}_rotation_chart")
    with scores_column:
        method = st.radio(t(f"{KEY}.scores_method"), ("rope", "sinusoidal"), key=f"{KEY}_scores_method",
                          horizontal=True, format_func=option_labels(f"{KEY}.scores_method_"))
        scores = rope_scores if method == "rope" else added_scores
        st.plotly_chart(cached_figure(heatmap, scores.scores, colorscale="RdBu", annotate=False, height=380,
                                      value_format=".3f", zmin=-scores.limit, zmax=scores.limit,
                                      hover_name=t(f"{KEY}.score"), x_title=t(f"{KEY}.key_position"),
                                      y_title=t(f"{KEY}.query_position")), key=f"{KEY}_scores_chart")
        st.metric(t(f"{KEY}.metric_diagonal"), f"{scores.diagonal_spread:.2g}", help=t(f"{KEY}.metric_diagonal_help"))
    st.markdown(t(f"{KEY}.sinusoidal_text"))
    st.plotly_chart(cached_figure(heatmap, table, colorscale="RdBu", zmin=-1, zmax=1, annotate=False, height=320,
                                  hover_name=t(f"{KEY}.value"), x_title=t(f"{KEY}.dimension"),
                                  y_title=t(f"{KEY}.position")), key=f"{KEY}_sinusoidal_chart")


# -- 4. the two bundled models -------------------------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def written(prompt: str, length: int, seed: int) -> dict:
    """Both models, greedy and sampled, ``length`` tokens (lab.written_length): switching the
    decoding or moving the length nearby reuses this run instead of writing again."""
    return {style: lab.write_both(load_tiny_gpt(style), prompt, length, seed=seed) for style in lab.STYLES}


@st.fragment
def tiny_models() -> None:
    st.subheader(t(f"{KEY}.tiny_title"))
    st.markdown(t(f"{KEY}.tiny_intro"))
    curves, report = lab.training_curves(), lab.heldout_report()
    if curves is None or report is None:
        st.info(t(f"{KEY}.tiny_missing"))
        return
    series = {}
    for style in lab.STYLES:
        series[t(f"{KEY}.curve_train", style=style)] = curves[style].train_loss
        series[t(f"{KEY}.curve_heldout", style=style)] = curves[style].heldout_loss
    loss_column, perplexity_column = st.columns([3, 2])
    loss_column.plotly_chart(cached_figure(line_figure, curves["2017"].steps, series, title=t(f"{KEY}.loss_title"),
                                           x_title=t(f"{KEY}.step_axis"), y_title=t(f"{KEY}.loss_axis"),
                                           dashed=[t(f"{KEY}.curve_train", style=s) for s in lab.STYLES],
                                           colours=STYLE_COLOURS),
                             key=f"{KEY}_loss_chart")
    labels = [t(f"{KEY}.model_name", style=style) for style in lab.STYLES] + [t(f"{KEY}.unigram")]
    values = [report.perplexity[style] for style in lab.STYLES] + [report.unigram_perplexity]
    perplexity_column.plotly_chart(cached_figure(bars, labels, {t(f"{KEY}.perplexity"): values}, value_format=".1f",
                                                 title=t(f"{KEY}.perplexity_title"),
                                                 y_title=t(f"{KEY}.perplexity_axis"), height=340),
                                   key=f"{KEY}_perplexity_chart")
    columns = st.columns(2)
    for column, style in zip(columns, lab.STYLES):
        column.metric(t(f"{KEY}.model_name", style=style), f"{report.perplexity[style]:.1f}",
                      help=t(f"{KEY}.perplexity_help", tokens=f"{report.tokens_scored:,}"))
        column.caption(t(f"{KEY}.model_caption", params=f"{report.parameters[style]:,}",
                         seconds=curves[style].wall_time_s, device=curves[style].device))
    prompt_column, length_column, mode_column = st.columns([3, 1.2, 1.5])
    with prompt_column:
        prompt = capped_text(t(f"{KEY}.prompt"), DEFAULT_PROMPT, f"{KEY}_prompt", area=False, max_chars=MAX_PROMPT)
    max_new_tokens = length_column.slider(t(f"{KEY}.new_tokens"), 5, 60, 30, key=f"{KEY}_new_tokens")
    sampled = mode_column.radio(t(f"{KEY}.decoding"), (False, True), index=1, key=f"{KEY}_decoding",
                                format_func=option_labels(f"{KEY}.decoding_"))
    with st.spinner(t(f"{KEY}.writing")):
        runs = written(prompt, lab.written_length(max_new_tokens), current_seed())
    if runs["2017"] is None:
        st.info(t("common.empty_text"))
        return
    if runs["2024"].prompt_cut:  # both models share one tokenizer and one context length, so both cut the same
        bundle = load_tiny_gpt("2024")
        st.caption(t(f"{KEY}.prompt_cut", cut=runs["2024"].prompt_cut, kept=lab.prompt_room(bundle),
                     context=bundle.config.block_size))
    for column, style in zip(st.columns(2), lab.STYLES):
        text = runs[style].text(load_tiny_gpt(style), max_new_tokens, sampled=sampled)
        with column, st.container(border=True):
            st.markdown(f"**{t(f'{KEY}.model_name', style=style)}**")
            st.markdown(f"**{escape_markdown(prompt)}**{escape_markdown(text)}")


# -- 5. calculator -------------------------------------------------------------------------------


@st.fragment
def calculator() -> None:
    st.subheader(t(f"{KEY}.calc_title"))
    st.markdown(t(f"{KEY}.calc_intro"))
    names = list(lab.params.PRESETS)
    preset_column, context_column, bytes_column = st.columns([2, 2, 1])
    name = preset_column.selectbox(t(f"{KEY}.calc_preset"), names, index=names.index("Llama-3-8B"),
                                   key=f"{KEY}_calc_preset")
    context = context_column.select_slider(t(f"{KEY}.calc_context"), CONTEXTS, value=8192, key=f"{KEY}_calc_context",
                                           format_func=lambda c: f"{c:,}")
    bytes_per_value = bytes_column.radio(t(f"{KEY}.calc_bytes"), (2, 1, 4), key=f"{KEY}_calc_bytes",
                                         format_func=option_labels(f"{KEY}.calc_bytes_"))
    costs = lab.preset_costs(name, context, list(CONTEXTS), bytes_per_value)
    at_context = CONTEXTS.index(context)
    columns = st.columns(4)
    columns[0].metric(t(f"{KEY}.metric_parameters"), format_count(costs.parameters),
                      help=t(f"{KEY}.calc_parameters_help", n=f"{costs.parameters:,}"))
    columns[1].metric(t(f"{KEY}.metric_kv_token"), format_bytes(costs.kv_bytes_per_token))
    columns[2].metric(t(f"{KEY}.metric_kv_context", n=f"{context:,}"), format_bytes(costs.kv_bytes))
    columns[3].metric(t(f"{KEY}.calc_flops", n=f"{context:,}"),
                      format_count(costs.flops_fixed[at_context] + costs.flops_attention[at_context]),
                      help=t(f"{KEY}.calc_flops_help"))
    left, right = st.columns(2)
    growth = {preset: lab.preset_context_growth(preset, list(CONTEXTS)) for preset in names}
    left.plotly_chart(cached_figure(line_figure, CONTEXTS, growth, title=t(f"{KEY}.calc_params_chart"),
                                    x_title=t(f"{KEY}.calc_context_axis"), y_title=t(f"{KEY}.calc_growth_axis"),
                                    log_x=True), key=f"{KEY}_calc_params_chart")
    right.plotly_chart(cached_figure(line_figure, CONTEXTS, {t(f"{KEY}.calc_flops_fixed"): costs.flops_fixed,
                                                             t(f"{KEY}.calc_flops_attention"): costs.flops_attention},
                                     title=t(f"{KEY}.calc_flops_chart", name=name),
                                     x_title=t(f"{KEY}.calc_context_axis"), y_title=t(f"{KEY}.calc_flops_axis"),
                                     log_x=True, log_y=True),
                       key=f"{KEY}_calc_flops_chart")


page_header(KEY)
two_blocks()
deep_stack()
positions()
tiny_models()
calculator()
what_to_notice(KEY)
next_page_link(KEY)
