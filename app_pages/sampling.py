"""Sampling: the next-token distribution of a causal model, reshaped by temperature, top-k and top-p."""

import streamlit as st

from components.chips import token_chips
from components.figure_cache import cached_figure
from components.i18n import option_labels, t
from components.layout import next_page_link, page_header, section_header, what_to_notice
from components.figures.sampling import cumulative_curve, distribution_bars, sample_histogram
from components.settings import current_seed, follow_sidebar
from components.text import capped_text, chart_label, escape_markdown, unique_labels
from components.units import count_text
from components.widgets import metric_row
from components.loaders import load_tiny_gpt
from components.model_picker import user_model_picker
from models.labs.sampling import (
    Settings,
    check_combination,
    continuations,
    cumulative_mass,
    draw_samples,
    first_tokens,
    prompt_logits,
    sampling_view,
    top_tokens,
)
from models.core.sampling import written_length

LONGEST_CONTINUATION = 48  # the length slider's maximum

KEY = "sampling"
DEFAULT_PROMPT = "The history of"
MODELS = ("2024", "2017", "user")
SHOWN_TOKENS = 20
CUMULATIVE_RANKS = 100
DRAW_COUNTS = (10, 100, 1000, 10000, 100000)
TEMPERATURES = (0.0, 0.3, 0.7, 1.0, 1.5, 2.0)


def user_model():
    """The person's own causal model from the shared picker; the tiny GPT until one is loaded."""
    loaded = user_model_picker(KEY, kinds=("causal",))
    if loaded is None:
        st.info(t(f"{KEY}.user_model_needed"))
        return load_tiny_gpt("2024")
    return loaded


def choose_model():
    """The chosen model (a ``models.pretrained.interface.LanguageModel``)."""
    choice = st.radio(t(f"{KEY}.model_label"), MODELS, key=f"{KEY}_model", bind="query-params", horizontal=True,
                      format_func=option_labels(f"{KEY}.model_"), help=t(f"{KEY}.model_help"))
    return user_model() if choice == "user" else load_tiny_gpt(choice)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_logits(model_name: str, text: str, _model):
    return prompt_logits(_model, text)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_continuations(model_name: str, ids: tuple[int, ...], length: int, top_k, top_p, seed: int, _model):
    """Every temperature at once, ``length`` tokens (written_length): other picks reuse this run."""
    return continuations(_model, list(ids), list(TEMPERATURES), length, top_k, top_p, seed)


def token_labels(model, ids):
    return unique_labels([chart_label(model.token_text(i), 14) for i in ids])


def show_messages(issues):
    show = {"error": st.error, "warning": st.warning, "info": st.info}
    for issue in issues:
        show[issue.level](t(f"{KEY}.issue_{issue.key}", **issue.values))


def knobs(vocab_size):
    st.subheader(t(f"{KEY}.knobs_title"))
    left, middle, right, seed_column = st.columns([3, 3, 3, 2])
    temperature = left.slider(t(f"{KEY}.temperature"), 0.0, 2.0, 0.8, 0.05, key=f"{KEY}_temperature", bind="query-params",
                              help=t(f"{KEY}.temperature_help"))
    top_k = middle.slider(t(f"{KEY}.top_k"), 0, 200, 0, 1, key=f"{KEY}_top_k", bind="query-params", help=t(f"{KEY}.top_k_help"))
    top_p = right.slider(t(f"{KEY}.top_p"), 0.0, 1.0, 0.8, 0.01, key=f"{KEY}_top_p", bind="query-params", help=t(f"{KEY}.top_p_help"))
    follow_sidebar(f"{KEY}_seed", current_seed())
    seed_column.number_input(t(f"{KEY}.seed"), 0, 2**31 - 1, current_seed(), step=1, key=f"{KEY}_seed", bind="query-params", help=t(f"{KEY}.seed_help"))
    settings, issues = check_combination(temperature, top_k, top_p, vocab_size)
    show_messages(issues)
    return settings


def show_distribution(model, view):
    top = top_tokens(view, SHOWN_TOKENS)
    metric_row((t(f"{KEY}.metric_kept"), t(f"{KEY}.metric_kept_value", n=top.kept_count, vocab=model.vocab_size),
                {"help": t(f"{KEY}.metric_kept_help")}),
               (t(f"{KEY}.metric_mass"), f"{view.kept_mass:.1%}", {"help": t(f"{KEY}.metric_mass_help")}),
               (t(f"{KEY}.metric_entropy_raw"), t(f"{KEY}.entropy_value", nats=view.raw_entropy),
                {"help": t(f"{KEY}.entropy_help")}),
               (t(f"{KEY}.metric_entropy_adjusted"), t(f"{KEY}.entropy_value", nats=view.adjusted_entropy),
                {"delta": f"{view.adjusted_entropy - view.raw_entropy:+.2f}", "delta_color": "off",
                 "help": t(f"{KEY}.entropy_help")}))
    st.markdown(t(f"{KEY}.bars_explain"))
    bars_column, curve_column = st.columns([3, 2])
    with bars_column:
        st.plotly_chart(cached_figure(
            distribution_bars, token_labels(model, top.ids), top.raw, top.adjusted, top.kept,
            title=t(f"{KEY}.bars_title"),
            raw_name=t(f"{KEY}.raw_name"), adjusted_name=t(f"{KEY}.adjusted_name"),
            y_title=t(f"{KEY}.probability_axis"), cut_after=top.nucleus_cut, cut_label=t(f"{KEY}.cut_label"),
        ), key=f"{KEY}_bars_chart")
        if top.nucleus_cut is not None and top.nucleus_cut > SHOWN_TOKENS:
            st.caption(t(f"{KEY}.cut_beyond", n=top.nucleus_cut, shown=SHOWN_TOKENS))
    with curve_column:
        p = st.session_state[f"{KEY}_top_p"]
        st.plotly_chart(cached_figure(
            cumulative_curve, cumulative_mass(view, CUMULATIVE_RANKS), title=t(f"{KEY}.cumulative_title"),
            x_title=t(f"{KEY}.rank_axis"), y_title=t(f"{KEY}.cumulative_axis"),
            top_p=p if top.nucleus_cut is not None else None, top_p_label=t(f"{KEY}.top_p_line", p=p),
            cut=top.nucleus_cut, cut_label=t(f"{KEY}.nucleus_size", n=top.nucleus_cut), height=400,
        ), key=f"{KEY}_cumulative_chart")
        st.caption(t(f"{KEY}.cumulative_explain"))


@st.fragment
def draws_section(model, view, greedy):
    section_header(KEY, "draws")
    n = st.select_slider(t(f"{KEY}.draws_n"), DRAW_COUNTS, value=1000, key=f"{KEY}_draws", bind="query-params")
    result = draw_samples(view, n, int(st.session_state[f"{KEY}_seed"]), SHOWN_TOKENS)
    chart_column, metric_column = st.columns([4, 1])
    chart_column.plotly_chart(cached_figure(
        sample_histogram, token_labels(model, result.ids), result.frequency, result.exact,
        title=t(f"{KEY}.histogram_title", n=n),
        sampled_name=t(f"{KEY}.sampled_name"), exact_name=t(f"{KEY}.exact_name"), y_title=t(f"{KEY}.share_axis"),
    ), key=f"{KEY}_histogram_chart")
    metric_column.metric(t(f"{KEY}.metric_distinct"), count_text(result.distinct))
    metric_column.metric(t(f"{KEY}.metric_tv"), f"{result.total_variation:.3f}", help=t(f"{KEY}.tv_help"))
    st.caption(t(f"{KEY}.draws_other", freq=result.other_frequency, exact=result.other_exact))
    if greedy:
        st.caption(t(f"{KEY}.greedy_draws"))


@st.fragment
def continuations_section(model, prompt, settings):
    section_header(KEY, "continuations")
    pick_column, length_column, filter_column = st.columns([3, 2, 2])
    temperatures = pick_column.multiselect(t(f"{KEY}.temperatures"), TEMPERATURES, default=[0.0, 0.7, 1.5],
                                           key=f"{KEY}_temperatures", bind="query-params", placeholder=t("common.choose_placeholder"))
    new_tokens = length_column.slider(t(f"{KEY}.new_tokens"), 4, 48, 20, key=f"{KEY}_new_tokens", bind="query-params")
    use_filters = filter_column.checkbox(t(f"{KEY}.use_filters"), key=f"{KEY}_use_filters", bind="query-params")
    if not temperatures:
        st.info(t(f"{KEY}.no_temperatures"))
        return
    top_k = settings.top_k if use_filters and settings else None
    top_p = settings.top_p if use_filters and settings else None
    seed = int(st.session_state[f"{KEY}_seed"])
    # the slider's longest, written once: every length is then a cut of one cached run (48 = the slider's max)
    request = (tuple(prompt.ids), written_length(LONGEST_CONTINUATION), top_k, top_p, seed)
    written = first_tokens(model, cached_continuations(model.name, *request, _model=model), sorted(temperatures),
                           new_tokens)
    st.caption(t(f"{KEY}.continuation_settings", seed=seed, top_k=top_k or t(f"{KEY}.off"),
                 top_p=top_p or t(f"{KEY}.off")))
    prompt_text = escape_markdown(model.decode(prompt.ids))
    for column, result in zip(st.columns(len(written)), written):
        with column, st.container(border=True):
            heading = (t(f"{KEY}.greedy_heading") if result.temperature == 0
                       else t(f"{KEY}.continuation_heading", t=f"{result.temperature:g}"))
            st.markdown(f"**{heading}**")
            shown = escape_markdown(" ".join(result.text.split()))
            st.markdown(f"{prompt_text} **{shown}**" if shown else t(f"{KEY}.empty_continuation"))
    if st.button(t(f"{KEY}.regenerate"), key=f"{KEY}_regenerate", icon=":material/replay:"):
        # written again from scratch, exactly new_tokens long: the same text as the first n of the cached run
        again = first_tokens(model, continuations(model, list(prompt.ids), list(TEMPERATURES), new_tokens, top_k,
                                                  top_p, seed), sorted(temperatures), new_tokens)
        same = [a.ids for a in again] == [w.ids for w in written]
        (st.success if same else st.error)(t(f"{KEY}.regenerate_{'same' if same else 'different'}", seed=seed))


page_header(KEY)
model_column, prompt_column = st.columns([1, 2])
with model_column:
    model = choose_model()
with prompt_column:
    text = capped_text(t(f"{KEY}.prompt_label"), DEFAULT_PROMPT, f"{KEY}_prompt", area=False, max_chars=1000,
                       help=t(f"{KEY}.prompt_help"))

prompt = cached_logits(model.name, text, _model=model)
if prompt is None:
    st.info(t(f"{KEY}.prompt_empty_no_start"))
else:
    if prompt.from_start_token:
        st.info(t(f"{KEY}.prompt_empty_start"))
    if prompt.cut:
        st.warning(t(f"{KEY}.prompt_cut", total=len(prompt.ids) + prompt.cut, n=len(prompt.ids)))
    st.caption(t(f"{KEY}.prompt_tokens", n=len(prompt.ids)))
    token_chips(prompt.tokens, prompt.ids)
    settings = knobs(model.vocab_size)
    view = sampling_view(prompt.logits, settings or Settings(1.0, None, None))  # raw only
    show_distribution(model, view)
    if settings is not None:
        draws_section(model, view, settings.temperature == 0)
    continuations_section(model, prompt, settings)
what_to_notice(KEY)
next_page_link(KEY)
