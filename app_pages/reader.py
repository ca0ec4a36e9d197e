"""Reader: how BERT learns, by filling in masked words and reading sentence pairs, and why a few labels then suffice."""

import streamlit as st

from components.chips import token_chips
from components.figures.reader import few_shot_lines, guess_panels, input_rows, recipe_shares, similarity_histograms
from components.i18n import t
from components.layout import next_page_link, page_header, what_to_notice
from components.loaders import load_fill_mask, load_minilm
from components.settings import current_seed
from components.text import capped_text, chart_label, escape_markdown, visible_whitespace
from models.labs import reader as lab
from models.pretrained.minilm import NAME as MINILM_NAME

KEY = "reader"
DEFAULT_SENTENCE = "The dog chased the [MASK] because it was hungry."
DEFAULT_PAIR = ("The dog chased the cat around the garden.", "The frightened cat escaped up a tall tree.")
DEFAULT_TEST = "The waiter was polite and the noodles were delicious."
RECIPE_SENTENCE = "Many tasks only need a model that understands the text it is given."
SIZES = (4, 8, 16, 32)
NOT_PICKED, MASKED, RANDOM, UNCHANGED, BLANK = 6, 0, 4, 1, 2  # chip colours: gray, blue, red, green, orange


@st.cache_data(show_spinner=False, max_entries=256)
def embed(texts):
    """MiniLM's sentence vectors, kept per list of texts: every student's rerun of the page asks for
    the same pair and test sentence again."""
    return load_minilm().sentence_embeddings(list(texts))


@st.cache_data(show_spinner=False, max_entries=2)
def examples():
    return lab.labelled_set(lab.read_examples())


@st.cache_data(show_spinner=False, max_entries=32)
def filled(text: str, chosen: tuple[int, ...], k: int):
    reader = load_fill_mask()
    return lab.fill_in(reader, lab.read_sentence(reader.tokenizer, text), chosen, k)


@st.cache_data(show_spinner=False, max_entries=2)
def story_similarities(seed: int):
    return lab.stored_next_vs_random(embed, lab.lee_stories, lab.lee_corpus_name(), seed=seed, model=MINILM_NAME)


@st.cache_data(show_spinner=False, max_entries=2)
def curve(seed: int):
    return lab.stored_few_shot_curve(examples(), embed, SIZES, first_seed=seed, model=MINILM_NAME)


def explain_error(error: lab.ReaderInputError):
    values = {name: escape_markdown(value) if isinstance(value, str) else value for name, value in error.values.items()}
    st.warning(t(f"{KEY}.{error.key}", **values), icon=":material/info:")


@st.fragment
def fill_section(reader):
    st.subheader(t(f"{KEY}.fill_title"))
    st.markdown(t(f"{KEY}.fill_explain"))
    text = capped_text(t(f"{KEY}.sentence_label"), DEFAULT_SENTENCE, f"{KEY}_sentence", area=False, max_chars=4000)
    try:
        sentence = lab.read_sentence(reader.tokenizer, text)
    except lab.ReaderInputError as error:
        return explain_error(error)
    if st.session_state.get(f"{KEY}_chips_for") != tuple(sentence.ids):
        st.session_state[f"{KEY}_chips_for"] = tuple(sentence.ids)
        st.session_state[f"{KEY}_chips"] = []
    left, right = st.columns([3, 1])
    chosen = left.multiselect(t(f"{KEY}.chips_label"), range(len(sentence.ids)), key=f"{KEY}_chips", bind="query-params",
                              format_func=lambda i: f"{i}: {visible_whitespace(sentence.tokens[i])}",
                              help=t(f"{KEY}.chips_help"), placeholder=t("common.choose_placeholder"))
    k = right.slider(t(f"{KEY}.top_k"), 3, 10, 5, key=f"{KEY}_top_k", bind="query-params")
    try:
        result = filled(text, tuple(sorted(chosen)), k)
    except lab.ReaderInputError as error:
        token_chips(sentence.tokens, sentence.ids)
        return explain_error(error)
    token_chips(result.tokens, colour_by=[BLANK if token == "[MASK]" else NOT_PICKED for token in result.tokens])
    for blank in result.blanks:
        panels = [(t(f"{KEY}.view_{view}"), [chart_label(g.token, 16) for g in blank.guesses[view]],
                   [g.probability for g in blank.guesses[view]]) for view in lab.VIEWS]
        st.plotly_chart(guess_panels(panels, title=t(f"{KEY}.guess_title", position=blank.position),
                                     x_title=t(f"{KEY}.probability"), height=120 + 28 * k),
                        key=f"{KEY}_guess_chart_{blank.position}")
        if blank.true_token is not None:
            st.caption(t(f"{KEY}.true_word", word=escape_markdown(blank.true_token), **blank.true_probability))
    st.caption(t(f"{KEY}.honest", **reader.scores["heldout"]))
    if note := lab.quality_note(reader.scores["heldout"]):
        st.warning(t(f"{KEY}.{note}", target=lab.TARGET_TOP5, **reader.scores["heldout"]), icon=":material/warning:")


@st.fragment
def recipe_section(reader):
    st.subheader(t(f"{KEY}.recipe_title"))
    st.markdown(t(f"{KEY}.recipe_explain"))
    text_column, seed_column = st.columns([3, 1])
    with text_column:
        text = capped_text(t(f"{KEY}.recipe_sentence"), RECIPE_SENTENCE, f"{KEY}_recipe_sentence", area=False, max_chars=4000)
    seed = seed_column.number_input(t(f"{KEY}.recipe_seed"), 0, 2**31 - 1, current_seed(), key=f"{KEY}_recipe_seed", bind="query-params")
    try:
        sentence = lab.read_sentence(reader.tokenizer, text)
    except lab.ReaderInputError as error:
        return explain_error(error)
    recipe = lab.masking_recipe(sentence, reader.vocab, int(seed))
    colours = (NOT_PICKED, MASKED, RANDOM, UNCHANGED)
    st.markdown(t(f"{KEY}.recipe_before"))
    token_chips(sentence.tokens, colour_by=[colours[a] if a else NOT_PICKED for a in recipe.actions])
    st.markdown(t(f"{KEY}.recipe_after"))
    token_chips(recipe.tokens, colour_by=[colours[a] for a in recipe.actions])
    st.caption(t(f"{KEY}.recipe_legend", picked=len(recipe.picked), n=sentence.ordinary))
    shares = lab.recipe_shares(sentence, int(seed))
    st.plotly_chart(recipe_shares([t(f"{KEY}.share_{name}") for name in shares], list(shares.values()),
                                  [0.15, 0.8, 0.1, 0.1], title=t(f"{KEY}.shares_title"),
                                  measured_name=t(f"{KEY}.measured"), target_name=t(f"{KEY}.recipe")),
                    key=f"{KEY}_shares_chart")
    st.markdown(t(f"{KEY}.recipe_why"))


@st.fragment
def pair_section(reader):
    st.subheader(t(f"{KEY}.pair_title"))
    st.markdown(t(f"{KEY}.pair_explain"))
    first_column, second_column = st.columns(2)
    with first_column:
        first = capped_text(t(f"{KEY}.pair_first"), DEFAULT_PAIR[0], f"{KEY}_pair_first", area=False, max_chars=4000)
    with second_column:
        second = capped_text(t(f"{KEY}.pair_second"), DEFAULT_PAIR[1], f"{KEY}_pair_second", area=False, max_chars=4000)
    try:
        pair = lab.sentence_pair(reader.tokenizer, first, second)
    except lab.ReaderInputError as error:
        return explain_error(error)
    token_chips(pair.tokens, colour_by=[MASKED if s == 0 else UNCHANGED for s in pair.segments])
    shown = min(len(pair.tokens), 48)
    st.plotly_chart(input_rows([chart_label(tok, 10) + "\u200b" * i for i, tok in enumerate(pair.tokens[:shown])],
                               {t(f"{KEY}.row_segment"): pair.segments[:shown], t(f"{KEY}.row_position"): range(shown)},
                               title=t(f"{KEY}.rows_title")), key=f"{KEY}_rows_chart")
    with st.spinner(t(f"{KEY}.measuring")):
        own, stories = lab.pair_similarity(embed, first, second), story_similarities(current_seed())
    st.plotly_chart(similarity_histograms({t(f"{KEY}.true_next"): stories.true_next, t(f"{KEY}.random_next"): stories.random},
                                          title=t(f"{KEY}.similarity_title"), x_title=t(f"{KEY}.similarity"),
                                          y_title=t(f"{KEY}.pairs"), marker=own, marker_text=t(f"{KEY}.your_pair")),
                    key=f"{KEY}_similarity_chart")
    st.caption(t(f"{KEY}.similarity_facts", own=own, wins=stories.true_wins, n=len(stories.true_next),
                 true=float(stories.true_next.mean()), random=float(stories.random.mean())))
    st.markdown(t(f"{KEY}.nsp_note"))


@st.fragment
def finetune_section():
    st.subheader(t(f"{KEY}.tune_title"))
    st.markdown(t(f"{KEY}.tune_explain"))
    data = examples()
    blocks = []
    for index, (column, label) in enumerate(zip(st.columns(len(data.labels)), data.labels)):
        with column:
            blocks.append(capped_text(t(f"{KEY}.examples_{label}"), "\n".join([x for x, y in data.pool if y == index][:4]),
                                      f"{KEY}_examples_{label}", height=150, max_chars=4000))
    test = capped_text(t(f"{KEY}.test_sentence"), DEFAULT_TEST, f"{KEY}_test", area=False, max_chars=500)
    texts, labels = lab.examples_from_lines(blocks)
    if len(set(labels)) < len(data.labels) or not test.strip():
        return st.info(t(f"{KEY}.need_examples"))
    store = st.session_state.setdefault(f"{KEY}_trained", {})
    asked = (tuple(texts), tuple(labels), current_seed())
    if asked not in store:
        bar = st.progress(0.0, text=t(f"{KEY}.training"))
        store.clear()
        store[asked] = lab.train_both({"minilm": embed(texts), "bow": lab.bow_vectors(texts, texts)}, labels,
                                      len(data.labels), current_seed(), lambda f: bar.progress(f, text=t(f"{KEY}.training")))
        bar.empty()
    trained, features = store[asked], {"minilm": embed([test]), "bow": lab.bow_vectors(texts, [test])}
    for column, name in zip(st.columns(2), features):
        probabilities = trained[name].probabilities(features[name])[0]
        best = int(probabilities.argmax())
        column.metric(t(f"{KEY}.features_{name}"), t(f"{KEY}.label_{data.labels[best]}"),
                      t(f"{KEY}.confidence", p=float(probabilities[best])), delta_color="off")
    st.caption(t(f"{KEY}.trained_facts", n=len(texts), steps=len(trained["minilm"].losses),
                 loss=trained["minilm"].losses[-1], bow_loss=trained["bow"].losses[-1]))
    with st.spinner(t(f"{KEY}.measuring")):
        scores = curve(current_seed())
    named = {t(f"{KEY}.features_{name}"): values for name, values in scores.items()}
    st.plotly_chart(few_shot_lines(SIZES, named, title=t(f"{KEY}.curve_title", n=len(data.heldout)),
                                   x_title=t(f"{KEY}.per_label"), y_title=t(f"{KEY}.accuracy"),
                                   chance=1 / len(data.labels), chance_text=t(f"{KEY}.chance")),
                    key=f"{KEY}_curve_chart")
    st.caption(t(f"{KEY}.curve_facts", minilm4=float(scores["minilm"][:, 0].mean()), bow4=float(scores["bow"][:, 0].mean()),
                 minilm32=float(scores["minilm"][:, -1].mean()), bow32=float(scores["bow"][:, -1].mean())))


page_header(KEY)
try:
    fill_mask = load_fill_mask()
except FileNotFoundError:
    fill_mask = None
    st.error(t(f"{KEY}.model_missing"))
if fill_mask is not None:
    fill_section(fill_mask)
    recipe_section(fill_mask)
    pair_section(fill_mask)
finetune_section()
what_to_notice(KEY)
next_page_link(KEY)
