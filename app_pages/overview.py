"""Overview: the whole pipeline on the bundled tiny GPT, the history, and the three families."""

import streamlit as st

from components.figures import heatmap, timeline
from components.i18n import t
from components.layout import next_page_link, page_header, what_to_notice

KEY = "overview"
MILESTONES = (  # (year, locale suffix)
    (1954, "bow"),
    (2013, "word2vec"),
    (2014, "seq2seq"),
    (2017, "transformer"),
    (2018, "bert_gpt1"),
    (2019, "gpt2"),
    (2020, "gpt3"),
    (2024, "llama3"),
)
FAMILIES = ("encoder", "decoder", "encoder_decoder")


@st.cache_data(show_spinner=False)
def family_views():
    from models.pipeline import family_attention_views

    return family_attention_views(n_source=5, n_target=4)


def show_timeline():
    st.subheader(t(f"{KEY}.timeline_title"))
    st.plotly_chart(
        timeline([year for year, _ in MILESTONES],
                 [t(f"{KEY}.milestone_{name}") for _, name in MILESTONES],
                 [t(f"{KEY}.milestone_{name}_detail") for _, name in MILESTONES]),
        key=f"{KEY}_timeline_chart",
    )


def show_families():
    st.subheader(t(f"{KEY}.families_title"))
    st.markdown(t(f"{KEY}.families_intro"))
    views = family_views()
    for column, family in zip(st.columns(3), FAMILIES):
        view = views[family]
        with column, st.container(border=True):
            st.markdown(f"**{t(f'{KEY}.family_{family}')}**")
            st.markdown(t(f"{KEY}.family_{family}_text"))
            st.plotly_chart(
                heatmap(view.allowed.astype(float), view.key_labels, view.query_labels, zmin=0, zmax=1,
                        colorscale=[[0, "#f1f3f6"], [1, "#3b6fd8"]], annotate=False, height=260, show_scale=False,
                        hover_name=t(f"{KEY}.may_attend"), value_format=".0f",
                        x_title=t(f"{KEY}.keys_axis"), y_title=t(f"{KEY}.queries_axis")),
                key=f"{KEY}_family_{family}_chart",
            )


page_header(KEY)
show_timeline()
show_families()
what_to_notice(KEY)
next_page_link(KEY)
