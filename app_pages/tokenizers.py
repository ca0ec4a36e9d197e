"""Tokenizers: the same text cut seven ways, BPE learned merge by merge, and what vocabulary size costs."""

import pandas as pd
import streamlit as st

from components.chips import token_chips
from components.figure_cache import cached_figure
from components.figures.tokenizers import token_count_bars
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, section_header, what_to_notice
from components.loaders import load_user_tokenizer
from components.text import capped_text, chart_label, escape_markdown, visible_whitespace
from components.tokenizer_panels import (bpe_step_through, byte_pieces_section, kind_name, tradeoff_section,
                                         train_with_progress)
from components.widgets import run_button
from models.labs.tokenizers import chip_colours, comparison_columns, frontier_problems, show_invisible
from models.text import tokenization as tk

KEY = "tokenizers"
MAX_TEXT = 5000
MAX_CHIPS = 300
USER_STATE = f"{KEY}_user_loaded"  # {"spec", "download", "error"} after the Load button


@st.cache_data(max_entries=256, show_spinner=False)
def tokenized(kind: str, text: str, vocab_size: int) -> tk.Tokenized:
    return tk.tokenize(kind, text, vocab_size)


def set_example(name: str) -> None:
    st.session_state[f"{KEY}_text"] = tk.EXAMPLE_TEXTS[name]


def show_tokens(result: tk.Tokenized, name: str) -> None:
    """One tokenizer's card: name, what it is, counts, chips, notes on unknown and byte pieces."""
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(name)}**")
        st.caption(t(f"{KEY}.about_{result.kind}"))
        st.markdown(t(f"{KEY}.stats", tokens=result.n_tokens, ratio=result.chars_per_token, vocab=result.vocab_size))
        token_chips([show_invisible(token) for token in result.tokens[:MAX_CHIPS]], result.ids[:MAX_CHIPS],
                    colour_by=chip_colours(result)[:MAX_CHIPS], max_chips=MAX_CHIPS)
        if result.n_tokens > MAX_CHIPS:
            st.caption(t("common.more_chips", n=result.n_tokens - MAX_CHIPS))
        if result.n_unknown:
            st.warning(t(f"{KEY}.unknown_count", n=result.n_unknown), icon=":material/help:")
        if result.byte_groups:
            shown = [f"{escape_markdown(visible_whitespace(chars))} = {escape_markdown(' '.join(pieces))}"
                     for chars, pieces in result.byte_groups[:3]]
            st.caption(t(f"{KEY}.byte_note", examples=" · ".join(shown)))


def text_controls() -> tuple[str, int, list[str]]:
    st.markdown(t(f"{KEY}.examples"))
    for column, name in zip(st.columns(len(tk.EXAMPLE_TEXTS)), tk.EXAMPLE_TEXTS):
        column.button(t(f"{KEY}.example_{name}"), key=f"{KEY}_example_{name}", on_click=set_example, args=(name,),
                      width="stretch")
    text_column, option_column = st.columns([3, 2])
    with text_column:
        text = capped_text(t(f"{KEY}.text_label"), tk.EXAMPLE_TEXTS["en"], f"{KEY}_text", max_chars=MAX_TEXT, height=130,
                           help=t(f"{KEY}.text_help", n=MAX_TEXT))
    with option_column:
        vocab_size = st.select_slider(t(f"{KEY}.vocab_size"), tk.VOCAB_SIZES, value=tk.DEFAULT_VOCAB_SIZE,
                                      key=f"{KEY}_vocab_size", bind="query-params", help=t(f"{KEY}.vocab_size_help"))
    kinds = st.multiselect(t(f"{KEY}.shown"), tk.KINDS, default=list(tk.KINDS), key=f"{KEY}_shown", bind="query-params",
                           format_func=option_labels(f"{KEY}.kind_"), placeholder=t("common.choose_placeholder"))
    return text, vocab_size, kinds


def try_loading(spec: str, download: bool) -> dict:
    """What the Load button found: the spec, the download choice and an error reason (None when it loads)."""
    if not spec:
        return {"spec": spec, "download": download, "error": "empty"}
    try:
        load_user_tokenizer(spec, download)
    except tk.UserTokenizerError as error:
        return {"spec": spec, "download": download, "error": error.reason}
    return {"spec": spec, "download": download, "error": None}


def user_section(text: str) -> tk.Tokenized | None:
    """An optional tokenizer from a local folder or a Hugging Face id; offline unless the user opts in."""
    with st.expander(t(f"{KEY}.user_title"), icon=":material/folder_open:"):
        st.markdown(t(f"{KEY}.user_intro"))
        spec_column, download_column, button_column = st.columns([3, 2, 1], vertical_alignment="bottom")
        spec = spec_column.text_input(t(f"{KEY}.user_spec"), key=f"{KEY}_user_spec", max_chars=300,
                                      placeholder=t(f"{KEY}.user_spec_placeholder"), help=t(f"{KEY}.user_spec_help"))
        download = download_column.checkbox(t(f"{KEY}.user_download"), key=f"{KEY}_user_download",
                                            help=t(f"{KEY}.user_download_help"))
        state = run_button(t(f"{KEY}.user_load"), f"{KEY}_user_load", USER_STATE, (spec.strip(), download),
                           lambda: try_loading(spec.strip(), download), where=button_column)
        if not state:
            return None
        if state["error"]:
            st.error(t(f"{KEY}.user_error_{state['error']}", spec=escape_markdown(state["spec"])))
            return None
        result = tk.user_tokenize(load_user_tokenizer(state["spec"], state["download"]), text)
        show_tokens(result, t(f"{KEY}.user_name", spec=state["spec"]))
        return result


def comparison(text: str, results: list[tuple[str, tk.Tokenized]]) -> None:
    section_header(KEY, "compare")
    st.caption(t(f"{KEY}.text_size", chars=results[0][1].n_chars, bytes=len(text.encode("utf-8"))))
    names = [name for name, _ in results]
    table_column, chart_column = st.columns([5, 4])
    with table_column:
        columns = comparison_columns([r for _, r in results])
        st.dataframe(pd.DataFrame({t(f"{KEY}.col_tokenizer"): names,
                                   **{t(f"{KEY}.col_{name}"): values for name, values in columns.items()}}),
                     hide_index=True, key=f"{KEY}_compare_table",
                     column_config={t(f"{KEY}.col_vocab"): st.column_config.NumberColumn(format="localized")})
    with chart_column:
        st.plotly_chart(cached_figure(
            token_count_bars,
            [chart_label(name, 30, show_whitespace=False) for name in names], [r.n_tokens for _, r in results],
            [r.chars_per_token for _, r in results], title=t(f"{KEY}.chart_title"), x_title=t(f"{KEY}.col_tokens"),
            hover_tokens=t(f"{KEY}.col_tokens"), hover_ratio=t(f"{KEY}.col_ratio"),
        ), key=f"{KEY}_compare_chart")


page_header(KEY)
text, vocab_size, kinds = text_controls()
missing = tk.missing_tokenizers(sizes=(vocab_size,), kinds=[k for k in tk.TRAINED_KINDS if k in kinds])
if missing or ("whitespace" in kinds and not tk.corpus_ready()):
    train_with_progress(missing)
for kind, reason in frontier_problems(kinds).items():
    st.warning(t(f"{KEY}.frontier_{reason}", name=kind_name(kind)), icon=":material/error:")
    kinds = [k for k in kinds if k != kind]
results = [(kind_name(kind), tokenized(kind, text, vocab_size)) for kind in kinds] if text else []
if not text:
    st.info(t(f"{KEY}.empty_text"))
elif not kinds:
    st.info(t(f"{KEY}.none_selected"))
for row_start in range(0, len(results), 2):
    for column, (name, result) in zip(st.columns(2), results[row_start:row_start + 2]):
        with column:
            show_tokens(result, name)
user_result = user_section(text) if text else None
if user_result is not None:
    results.append((t(f"{KEY}.user_name", spec=st.session_state[USER_STATE]["spec"]), user_result))
if results:
    comparison(text, results)
    byte_pieces_section(results)
bpe_step_through()
tradeoff_section(text)
what_to_notice(KEY)
next_page_link(KEY)
