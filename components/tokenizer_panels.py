"""Panels of the Tokenizers page: tokenizers trained on first use with a progress bar, characters cut between
their bytes, BPE learned merge by merge, and what a vocabulary size costs in sequence length and embedding
parameters."""

import pandas as pd
import streamlit as st

from components.chips import token_chips
from components.figure_cache import cached_figure
from components.figures.tokenizers import merge_curve, vocab_tradeoff
from components.i18n import t
from components.layout import section_header
from components.text import capped_text, escape_markdown, visible_whitespace
from components.units import millions
from components.widgets import progress_bar
from models.labs.tokenizers import byte_piece_rows, by_kind, merge_columns, merge_counts, tokens_per_size, tradeoff_row
from models.text import tokenization as tk

KEY = "tokenizers"
MAX_BPE_TEXT = 400
D_MODELS = (64, 128, 256, 512, 768, 1024, 2048, 4096)
CONTEXTS = (128, 512, 1024, 2048, 4096, 8192)


@st.cache_data(max_entries=32, show_spinner=False)
def merge_trace(text: str) -> tk.MergeTrace:
    return tk.bpe_merge_steps(text)


@st.cache_data(max_entries=32, show_spinner=False)
def tradeoff_points(text: str) -> list[tk.TradeoffPoint]:
    return tk.vocab_tradeoff(text)


def kind_name(kind: str) -> str:
    return t(f"{KEY}.kind_{kind}")


def train_with_progress(pairs: list[tuple[str, int]]) -> None:
    """Train missing tokenizers (first visit only; then they load from disk) with a progress bar."""
    with progress_bar(t(f"{KEY}.preparing_corpus")) as bar:
        tk.training_texts()

        def report(done, total, kind, size):
            bar.progress(done / total, text=t(f"{KEY}.trained_one", name=kind_name(kind), size=size, done=done,
                                              total=total))

        bar.progress(0.05, text=t(f"{KEY}.training", n=len(pairs)))
        tk.train_all(pairs, report)


def byte_pieces_section(results: list[tuple[str, tk.Tokenized]]) -> None:
    """Characters that byte-level tokenizers cut between bytes: the pieces, their bytes, and the text joined back."""
    section_header(KEY, "bytes")
    rows = byte_piece_rows(results)
    if not rows:
        st.caption(t(f"{KEY}.bytes_none"))
        return
    columns = {
        "tokenizer": [row["tokenizer"] for row in rows],
        "pieces": [" + ".join(visible_whitespace(piece) for piece in row["pieces"]) for row in rows],
        "ids": [", ".join(str(token_id) for token_id in row["ids"]) for row in rows],
        "bytes": [" + ".join(row["bytes"]) for row in rows],
        "joined": [visible_whitespace(row["joined"]) for row in rows],
    }
    st.dataframe(pd.DataFrame({t(f"{KEY}.col_{name}"): values for name, values in columns.items()}),
                 hide_index=True, key=f"{KEY}_bytes_table")


@st.fragment
def bpe_step_through() -> None:
    section_header(KEY, "bpe", "intro")
    text = capped_text(t(f"{KEY}.bpe_text"), tk.BPE_EXAMPLE, f"{KEY}_bpe_text", area=False, max_chars=MAX_BPE_TEXT,
                       help=t(f"{KEY}.bpe_text_help", n=MAX_BPE_TEXT))
    trace = merge_trace(text)
    if not trace.initial:
        st.info(t("common.empty_text"))
        return
    if not trace.steps:
        st.info(t(f"{KEY}.bpe_no_merges"))
        token_chips(trace.initial)
        return
    default_step = min(5, len(trace.steps))
    if st.session_state.get(f"{KEY}_bpe_step", default_step) not in range(len(trace.steps) + 1):
        st.session_state[f"{KEY}_bpe_step"] = default_step  # a new text with fewer merges than the step kept
    step = st.slider(t(f"{KEY}.bpe_step"), 0, len(trace.steps), default_step, key=f"{KEY}_bpe_step",
                     bind="query-params")
    tokens = trace.tokens_at(step)
    if step == 0:
        st.markdown(t(f"{KEY}.bpe_step_zero", n=len(trace.alphabet)))
    else:
        merge = trace.steps[step - 1]
        left, right, new = (escape_markdown(visible_whitespace(piece)) for piece in (*merge.pair, merge.token))
        st.markdown(t(f"{KEY}.bpe_step_info", step=step, left=left, right=right, token=new, count=merge.count))
    st.markdown(t(f"{KEY}.bpe_tokens_now", tokens=len(tokens), chars=len(trace.initial)))
    token_chips(tokens)
    chart_column, table_column = st.columns([3, 2])
    with chart_column:
        st.plotly_chart(cached_figure(merge_curve, merge_counts(trace), step, title=t(f"{KEY}.bpe_curve_title"),
                                      x_title=t(f"{KEY}.bpe_axis_merges"), y_title=t(f"{KEY}.bpe_axis_tokens"),
                                      current_name=t(f"{KEY}.bpe_current")),
                        key=f"{KEY}_bpe_chart")
    with table_column:
        st.dataframe(pd.DataFrame({t(f"{KEY}.col_{name}"): values
                                   for name, values in merge_columns(trace.steps[:step], visible_whitespace).items()}),
                     hide_index=True, height=300, key=f"{KEY}_bpe_table")
    st.caption(t(f"{KEY}.bpe_rules"))


@st.fragment
def tradeoff_section(text: str) -> None:
    section_header(KEY, "tradeoff", "intro")
    missing = tk.missing_tokenizers()
    if missing:
        st.info(t(f"{KEY}.tradeoff_missing", n=len(missing)))
        if not st.button(t(f"{KEY}.tradeoff_train"), key=f"{KEY}_tradeoff_train", icon=":material/model_training:"):
            return
        train_with_progress(missing)
    d_column, context_column = st.columns(2)
    d_model = d_column.select_slider(t(f"{KEY}.d_model"), D_MODELS, value=768, key=f"{KEY}_d_model", bind="query-params",
                                     help=t(f"{KEY}.d_model_help"))
    context = context_column.select_slider(t(f"{KEY}.context"), CONTEXTS, value=1024, key=f"{KEY}_context", bind="query-params",
                                           help=t(f"{KEY}.context_help"))
    points = tradeoff_points(text)
    sizes = list(tk.VOCAB_SIZES)
    kinds = by_kind(points)
    tokens = {kind_name(kind): tokens_per_size(series, on_text=bool(text.strip())) for kind, series in kinds.items()}
    tokens_title = (t(f"{KEY}.tradeoff_tokens_title") if text.strip()
                    else t(f"{KEY}.tradeoff_heldout_title", n=points[0].heldout_chars))
    parameters = [millions(tk.embedding_parameters(size, d_model)) for size in sizes]
    st.plotly_chart(cached_figure(
        vocab_tradeoff, sizes, tokens, parameters, tokens_title=tokens_title,
        parameters_title=t(f"{KEY}.tradeoff_params_title", d=d_model), x_title=t(f"{KEY}.axis_vocab"),
        tokens_axis=t(f"{KEY}.col_tokens"), parameters_axis=t(f"{KEY}.axis_params"),
        parameters_name=t(f"{KEY}.axis_params"),
    ), key=f"{KEY}_tradeoff_chart")
    rows = [{t(f"{KEY}.col_tokenizer"): kind_name(kind),
             **{t(f"{KEY}.col_{name}", n=context): value for name, value in tradeoff_row(point, context, d_model).items()}}
            for kind, series in kinds.items() for point in series]
    localized = st.column_config.NumberColumn(format="localized")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{KEY}_tradeoff_table",
                 column_config={t(f"{KEY}.col_context_chars", n=context): localized,
                                t(f"{KEY}.col_params"): localized, t(f"{KEY}.col_vocab"): localized})
    st.markdown(t(f"{KEY}.tradeoff_explain"))
