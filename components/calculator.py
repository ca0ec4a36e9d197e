"""The parameter and memory calculator for published models (models.core.params.PRESETS): parameters,
KV cache and FLOPs per new token at a chosen context, where the parameters sit, and why context costs
compute (n² scores) but parameters only with a learned position table. A page draws it with
``calculator(key)``; its strings are ``<key>.calc_*`` in that page's locale file."""

from __future__ import annotations

import streamlit as st

from components.figure_cache import cached_figure
from components.figures.blocks import line_figure
from components.i18n import option_labels, t
from components.units import format_bytes, format_count
from models.core import params

CONTEXTS = tuple(2**n for n in range(7, 18))  # 128 .. 131,072 tokens


@st.fragment
def calculator(key: str, default: str = "Llama-3-8B", default_context: int = 8192) -> None:
    def tr(name: str, /, **values) -> str:
        return t(f"{key}.{name}", **values)

    st.subheader(tr("calc_title"))
    st.markdown(tr("calc_intro"))
    names = list(params.PRESETS)
    preset_column, context_column, bytes_column = st.columns([2, 2, 1])
    name = preset_column.selectbox(tr("calc_preset"), names, index=names.index(default), key=f"{key}_calc_preset", bind="query-params")
    context = context_column.select_slider(tr("calc_context"), CONTEXTS, value=default_context,
                                           key=f"{key}_calc_context", bind="query-params", format_func=lambda c: f"{c:,}")
    bytes_per_value = bytes_column.radio(tr("calc_bytes"), (2, 1, 4), key=f"{key}_calc_bytes", bind="query-params",
                                         format_func=option_labels(f"{key}.calc_bytes_"))
    costs, parts = params.preset_costs(name, context, list(CONTEXTS), bytes_per_value), params.preset_breakdown(name)
    at = CONTEXTS.index(context)
    columns = st.columns(4)
    columns[0].metric(tr("metric_parameters"), format_count(costs.parameters),
                      help=tr("calc_parameters_help", n=f"{costs.parameters:,}"))
    columns[1].metric(tr("metric_kv_token"), format_bytes(costs.kv_bytes_per_token))
    columns[2].metric(tr("metric_kv_context", n=f"{context:,}"), format_bytes(costs.kv_bytes))
    columns[3].metric(tr("calc_flops", n=f"{context:,}"), format_count(costs.flops_fixed[at] + costs.flops_attention[at]),
                      help=tr("calc_flops_help"))
    st.markdown(tr("calc_breakdown", name=name, layers=parts.n_layer, per_block=format_count(parts.per_block),
                   embeddings=format_count(parts.embeddings), positions=format_count(parts.positions),
                   rest=format_count(parts.rest), total=format_count(parts.total),
                   share=f"{parts.per_block / parts.total:.1%}", table_share=f"{parts.embeddings / parts.total:.1%}"))
    st.markdown(tr("calc_scores", context=f"{context:,}", scores=f"{context * context:,}",
                   double=f"{4 * context * context:,}"))
    left, right = st.columns(2)
    left.plotly_chart(cached_figure(line_figure, CONTEXTS, params.every_preset_context_growth(list(CONTEXTS)),
                                    title=tr("calc_params_chart"), x_title=tr("calc_context_axis"),
                                    y_title=tr("calc_growth_axis"), log_x=True), key=f"{key}_calc_params_chart")
    right.plotly_chart(cached_figure(line_figure, CONTEXTS, {tr("calc_flops_fixed"): costs.flops_fixed,
                                                             tr("calc_flops_attention"): costs.flops_attention},
                                     title=tr("calc_flops_chart", name=name), x_title=tr("calc_context_axis"),
                                     y_title=tr("calc_flops_axis"), log_x=True, log_y=True),
                       key=f"{key}_calc_flops_chart")
