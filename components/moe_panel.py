"""The mixture-of-experts part of the Inside a block page: the trained MoE layer's routing of the
prompt, its measured perplexity beside the dense FFN, and a total vs active parameter calculator."""

import streamlit as st

from components.figure_cache import cached_figure
from components.figures import inside_block as figures
from components.i18n import t
from components.loaders import load_tiny_moe
from components.text import chart_label, unique_labels
from models.labs import inside_block as lab

KEY = "inside_block"


@st.cache_data(max_entries=64, show_spinner=False)
def routing(ids):
    return lab.moe_routing(load_tiny_moe().model, list(ids), load_tiny_moe().config["layer"])


def moe_section(bundle, text):
    st.subheader(t(f"{KEY}.moe_title"))
    st.markdown(t(f"{KEY}.moe_explain"))
    built = load_tiny_moe()
    if built is None:
        st.warning(t(f"{KEY}.moe_missing"))
    else:
        config, train_log, counts = built.config, built.train_log, built.parameters
        ids = bundle.encode(text)[: lab.MAX_TOKENS]
        st.markdown(t(f"{KEY}.moe_setup", layer=config["layer"] + 1, experts=config["n_experts"], k=config["top_k"],
                      hidden=config["expert_hidden"], dense=config["dense_hidden"], total=counts["total"],
                      active=counts["active"], dense_params=counts["dense"]))
        scores = train_log["scores"]
        for column, name in zip(st.columns(4), ("dense", "moe", "split_untrained", "no_ffn")):
            column.metric(t(f"{KEY}.ppl_{name}"), f"{scores[name]['heldout_perplexity']:.2f}")
        st.caption(t(f"{KEY}.moe_trained", minutes=train_log["train_wall_time_s"] / 60, threads=train_log["threads"],
                     tokens=scores["moe"]["heldout_tokens_scored"]))
        if ids:
            result = routing(tuple(ids))
            labels = unique_labels([chart_label(token, 10) for token in bundle.token_strings(ids)])
            left, right = st.columns([3, 2])
            left.plotly_chart(cached_figure(figures.routing_map, labels, result.probs, result.experts, result.weights,
                                            title=t(f"{KEY}.routing_title"), expert_label=t(f"{KEY}.expert")),
                              key=f"{KEY}_routing_chart")
            right.plotly_chart(cached_figure(figures.load_bars, result.load, 1 / result.n_experts,
                                             title=t(f"{KEY}.load_title"), expert_label=t(f"{KEY}.expert"),
                                             even_text=t(f"{KEY}.even_load")), key=f"{KEY}_load_chart")
    calculator()


@st.fragment
def calculator():
    st.markdown(f"**{t(f'{KEY}.calculator_title')}**")
    st.caption(t(f"{KEY}.calculator_explain"))
    left, right = st.columns(2)
    experts = left.slider(t(f"{KEY}.n_experts"), 1, 64, 8, key=f"{KEY}_n_experts", bind="query-params")
    st.session_state[f"{KEY}_top_k"] = min(st.session_state.get(f"{KEY}_top_k", 2), experts)
    top_k = right.slider(t(f"{KEY}.top_k"), 1, max(experts, 2), min(2, experts), key=f"{KEY}_top_k", bind="query-params", disabled=experts == 1)
    counts = lab.mixtral_calculator(experts, top_k)
    for column, name in zip(st.columns(3), ("total", "active", "dense")):
        column.metric(t(f"{KEY}.{name}_params"), t(f"{KEY}.billions", n=counts[name] / 1e9))
    st.caption(t(f"{KEY}.calculator_note", total=counts["total"], active=counts["active"]))
