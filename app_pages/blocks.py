"""2017 vs 2024 block: the five changes one at a time, measured rather than asserted."""

import streamlit as st

from components.calculator import calculator
from components.figure_cache import cached_figure
from components.figures.blocks import (BlockDrawing, block_diagrams, changed_parts, drawing_labels, line_figure,
                                       parameter_breakdown, rope_rotation_figure)
from components.figures.shared import heatmap
from components.i18n import current_language, option_labels, t, translate
from components.layout import next_page_link, page_header, what_to_notice
from components.units import format_bytes, format_count
from components.settings import current_seed
from components.tiny_models import tiny_models
from models.labs import blocks as lab

KEY = "blocks"
SWITCHES = ("norm_placement", "norm", "positions", "kv_group", "ffn", "bias")
SWITCH_OPTIONS = {"norm_placement": ("post", "pre"), "norm": ("layernorm", "rmsnorm"),
                  "positions": ("sinusoidal", "learned", "rope"), "ffn": ("relu", "swiglu")}
PARTS = ("embedding", "positions", "attention", "ffn", "norms")
HEAD_DIMS = (16, 32, 64, 128)


def tr(name: str, /, **values) -> str:
    return t(f"{KEY}.{name}", **values)


def chart(figure, name: str, column=st) -> None:
    column.plotly_chart(figure, key=f"{KEY}_{name}_chart")


def change(new: float, old: float, digits: int = 1) -> str:
    return f"{lab.relative_change(new, old):+.{digits}%}"


# -- 1. the two blocks ------------------------------------------------------------------------


def set_style(style: str) -> None:
    """Button callback: put every switch of the page to a whole style."""
    for name in SWITCHES:
        st.session_state[f"{KEY}_{name}"] = getattr(lab.BlockChoices.style(style), name)


def switch_controls(n_head: int) -> lab.BlockChoices:
    start = lab.BlockChoices.style_2024()  # the widgets' own defaults too: a link leaves out what equals them
    for name in SWITCHES:
        st.session_state.setdefault(f"{KEY}_{name}", getattr(start, name))
    groups, group_key = lab.kv_group_options(n_head), f"{KEY}_kv_group"
    if st.session_state[group_key] not in groups:  # another size has other head counts
        st.session_state[group_key] = min(groups, key=lambda g: abs(g - st.session_state[group_key]))
    for column, style in zip(st.columns(2), lab.STYLES):
        column.button(tr(f"all_{style}"), key=f"{KEY}_all_{style}", on_click=set_style, args=(style,), width="stretch")
    values = {name: st.radio(tr(f"switch_{name}"), SWITCH_OPTIONS[name], SWITCH_OPTIONS[name].index(getattr(start, name)),
                             key=f"{KEY}_{name}", bind="query-params", horizontal=True,
                             format_func=option_labels(f"{KEY}.{name}_"), help=tr(f"switch_{name}_help"))
              for name in ("norm_placement", "norm", "positions")}
    values["kv_group"] = st.select_slider(
        tr("switch_kv_group"), groups, min(groups, key=lambda g: abs(g - start.kv_group)), key=group_key, bind="query-params", help=tr("switch_kv_group_help"),
        format_func=lambda g, lang=current_language(): translate(f"{KEY}.kv_group_option", lang, kv=n_head // g, group=g))
    values["ffn"] = st.radio(tr("switch_ffn"), SWITCH_OPTIONS["ffn"], SWITCH_OPTIONS["ffn"].index(start.ffn), key=f"{KEY}_ffn", bind="query-params", horizontal=True,
                             format_func=option_labels(f"{KEY}.ffn_"), help=tr("switch_ffn_help"))
    st.page_link("app_pages/inside_block.py", label=tr("ffn_link"), icon=":material/hub:")
    values["bias"] = st.toggle(tr("switch_bias"), start.bias, key=f"{KEY}_bias", bind="query-params", help=tr("switch_bias_help"))
    return lab.BlockChoices(**values)


def right_title(choices: lab.BlockChoices) -> str:
    same = [style for style in lab.STYLES if choices == lab.BlockChoices.style(style)]
    return tr({"2024": "title_2024", "2017": "title_same_2017"}[same[0]] if same else "title_mix")


@st.fragment
def two_blocks() -> None:
    st.subheader(tr("blocks_title"))
    st.markdown(tr("blocks_intro"))
    size = st.selectbox(tr("size"), lab.SIZES, key=f"{KEY}_size", bind="query-params", format_func=option_labels(f"{KEY}.size_"),
                        help=tr("size_help"))
    shape = lab.size_spec(size).shape
    control_column, diagram_column = st.columns([1, 2])
    with control_column:
        choices = switch_controls(shape.n_head)
    original = lab.BlockChoices.style_2017()
    before, after = lab.block_stats(size, original), lab.block_stats(size, choices)
    diagram_column.plotly_chart(cached_figure(
        block_diagrams, BlockDrawing(tr("title_2017"), "post", drawing_labels(tr, before, original)),
        BlockDrawing(right_title(choices), choices.norm_placement, drawing_labels(tr, after, choices),
                     changed_parts(choices.changed_from(original))),
        legend=tr("diagram_legend")), key=f"{KEY}_diagram_chart", config={"displayModeBar": False})
    columns = st.columns(4)
    columns[0].metric(tr("metric_parameters"), format_count(after.total), delta=change(after.total, before.total),
                      delta_color="off", help=tr("metric_parameters_help", n=f"{after.total:,}",
                                                 original=f"{before.total:,}"))
    columns[1].metric(tr("metric_per_block"), format_count(after.per_block),
                      delta=change(after.per_block, before.per_block), delta_color="off")
    columns[2].metric(tr("metric_kv_token"), format_bytes(after.kv_bytes_per_token), delta_color="off",
                      delta=change(after.kv_bytes_per_token, before.kv_bytes_per_token, 0),
                      help=tr("metric_kv_token_help"))
    columns[3].metric(tr("metric_kv_context", n=f"{shape.context:,}"), format_bytes(after.kv_bytes_per_token * shape.context))
    chart(cached_figure(parameter_breakdown, [tr(f"part_name_{part}") for part in PARTS],
                        {tr("bar_2017"): [getattr(before, part) for part in PARTS],
                         tr("bar_yours"): [getattr(after, part) for part in PARTS]},
                        x_title=tr("parameters_axis")), "breakdown")


# -- 2. deep stacks at initialisation ---------------------------------------------------------

# room for the slider's whole grid of one seed (24 depths x 2 norms x 2 inits); on disk as well, and
# deploy/prewarm.py computes the default seed's grid into the image
measure_depth = st.cache_data(max_entries=128, show_spinner=False)(lab.stored_placements)


@st.fragment
def deep_stack() -> None:
    st.subheader(tr("depth_title"))
    st.markdown(tr("depth_intro"))
    depth_column, norm_column, init_column = st.columns(3)
    n_layer = depth_column.slider(tr("depth_layers"), lab.DEPTHS.start, lab.DEPTHS[-1], 24, step=lab.DEPTHS.step,
                                  key=f"{KEY}_depth_layers", bind="query-params")
    norm = norm_column.radio(tr("depth_norm"), lab.NORMS, key=f"{KEY}_depth_norm", bind="query-params", horizontal=True,
                             format_func=option_labels(f"{KEY}.norm_"))
    init = init_column.radio(tr("depth_init"), lab.INITS, key=f"{KEY}_depth_init", bind="query-params", horizontal=True,
                             format_func=option_labels(f"{KEY}.init_"), help=tr("depth_init_help"))
    with st.spinner(tr("depth_running")):
        norms = measure_depth(n_layer, norm, init, current_seed())
    layers, names = list(range(1, n_layer + 1)), {p: tr(f"norm_placement_{p}") for p in norms}
    left, right = st.columns(2)
    chart(cached_figure(line_figure, layers, {names[p]: norms[p].activation_rms for p in names},
                        title=tr("depth_activation_title"), x_title=tr("layer_axis"), y_title=tr("activation_axis")),
          "activation", left)
    chart(cached_figure(line_figure, layers, {names[p]: norms[p].gradient_norm for p in names}, log_y=True,
                        title=tr("depth_gradient_title"), x_title=tr("layer_axis"), y_title=tr("gradient_axis")),
          "gradient", right)
    columns = st.columns(4)
    columns[0].metric(tr("metric_ratio"), f"{lab.last_layer_gradient_ratio(norms['post'], norms['pre']):.2f}×",
                      help=tr("metric_ratio_help"))
    columns[1].metric(tr("metric_sqrt_depth"), f"{n_layer ** 0.5:.2f}")
    for column, placement in zip(columns[2:], ("post", "pre")):
        column.metric(tr("metric_spread", name=tr(f"placement_short_{placement}")),
                      f"{lab.gradient_spread(norms[placement]):.2f}×", help=tr("metric_spread_help"))
    st.caption(tr("depth_caption", loss=norms["post"].loss))


# -- 3. positions ------------------------------------------------------------------------------

position_pictures = st.cache_data(max_entries=64, show_spinner=False)(lab.position_pictures)


@st.fragment
def positions() -> None:
    st.subheader(tr("rope_title"))
    st.markdown(tr("rope_intro"))
    length_column, dim_column, pair_column = st.columns(3)
    seq_len = length_column.slider(tr("rope_length"), 4, 64, 24, key=f"{KEY}_rope_length", bind="query-params")
    head_dim = dim_column.select_slider(tr("rope_head_dim"), HEAD_DIMS, value=32, key=f"{KEY}_rope_head_dim", bind="query-params")
    pair_key = f"{KEY}_rope_pair"
    st.session_state[pair_key] = min(st.session_state.get(pair_key, 2), head_dim // 2 - 1)  # fewer pairs in a small head
    pair = pair_column.slider(tr("rope_pair"), 0, head_dim // 2 - 1, min(2, head_dim // 2 - 1), key=pair_key, bind="query-params", help=tr("rope_pair_help"))
    pictures = position_pictures(seq_len, head_dim, pair, current_seed())
    rotation_column, scores_column = st.columns(2)
    rotation_column.markdown(tr("rope_rotation_text"))
    pair_names = [tr("rope_pair_name", i=p, degrees=f"{d:.1f}")
                  for p, d in zip(pictures.rotation.pairs, pictures.rotation.degrees_per_position)]
    chart(cached_figure(rope_rotation_figure, pictures.rotation.points, pair_names, position_label=tr("position"),
                        x_title=tr("rope_first"), y_title=tr("rope_second")), "rotation", rotation_column)
    method = scores_column.radio(tr("scores_method"), ("rope", "sinusoidal"), key=f"{KEY}_scores_method", bind="query-params",
                                 horizontal=True, format_func=option_labels(f"{KEY}.scores_method_"))
    scores = pictures.scores[method]
    chart(cached_figure(heatmap, scores.scores, colorscale="RdBu", annotate=False, height=380, value_format=".3f",
                        zmin=-scores.limit, zmax=scores.limit, hover_name=tr("score"), x_title=tr("key_position"),
                        y_title=tr("query_position")), "scores", scores_column)
    scores_column.metric(tr("metric_diagonal"), f"{scores.diagonal_spread:.2g}", help=tr("metric_diagonal_help"))
    st.markdown(tr("sinusoidal_text"))
    chart(cached_figure(heatmap, pictures.table, colorscale="RdBu", zmin=-1, zmax=1, annotate=False, height=320,
                        hover_name=tr("value"), x_title=tr("dimension"), y_title=tr("position")), "sinusoidal")


page_header(KEY)
two_blocks()
deep_stack()
positions()
tiny_models(KEY)
calculator(KEY)
effects, deep = lab.switch_effects(), measure_depth(24, "layernorm", "xavier", current_seed())
what_to_notice(KEY, group=effects.group, n_head=effects.n_head, gqa=f"{effects.gqa_change:+.1%}",
               mqa=f"{effects.mqa_change:+.1%}", **{f"all_{size}": f"{c:+.1%}" for size, c in effects.all_changes.items()},
               ratio=f"{lab.last_layer_gradient_ratio(deep['post'], deep['pre']):.1f}", sqrt=f"{24 ** 0.5:.1f}")
next_page_link(KEY)
