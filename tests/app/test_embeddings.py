"""Word-embeddings page: every control moves; the numbers shown are the core's; odd input gets a message."""

import json

import numpy as np

from models.text.embedding_space import nearest_neighbours
from models.text.word2vec import Word2VecParams, train_word2vec
from tests.app.conftest import assert_clean, open_page

PAGE = "app_pages/embeddings.py"
KEY = "embeddings"
# A cheap model for the "train" button: CBOW, one epoch, few words.
QUICK = dict(vector_size=25, window=2, architecture="cbow", epochs=1, min_count=20)


def test_every_control(lang):
    at = open_page(PAGE, lang, timeout=600)
    for value in ("minilm", "word2vec"):
        at.radio(key=f"{KEY}_space").set_value(value).run()
        assert_clean(at)
    at.multiselect(key=f"{KEY}_groups").set_value(["numbers", "countries"]).run()
    at.text_input(key=f"{KEY}_own_words").input("bank river money").run()
    at.slider(key=f"{KEY}_neighbours").set_value(2).run()
    at.radio(key=f"{KEY}_dims").set_value(3).run()
    assert_clean(at)
    at.text_input(key=f"{KEY}_neighbour_word").input("two").run()
    at.slider(key=f"{KEY}_neighbour_count").set_value(5).run()
    for key, word in (("a", "paris"), ("b", "france"), ("c", "germany")):
        at.text_input(key=f"{KEY}_analogy_{key}").input(word).run()
    assert_clean(at)
    for preset in ("small_big", "man_woman", "animal_fruit"):
        at.selectbox(key=f"{KEY}_axis_preset").set_value(preset).run()
        assert_clean(at)
    assert at.text_input(key=f"{KEY}_axis_left").value.startswith("dog")
    for key in ("left", "right", "words"):
        at.text_input(key=f"{KEY}_axis_{key}").input("big small city").run()
        assert_clean(at)
    at.text_area(key=f"{KEY}_sentences").input("one two three\nfour five six").run()
    at.text_input(key=f"{KEY}_pieces_word").input("tokenization").run()
    at.text_input(key=f"{KEY}_pieces_others").input("token organization").run()
    at.slider(key=f"{KEY}_pieces_layer").set_value(0).run()
    assert_clean(at)
    at.text_area(key=f"{KEY}_context_sentences").input("The river bank flooded.\nThe bank lent money.").run()
    at.text_input(key=f"{KEY}_context_word").input("bank").run()
    at.slider(key=f"{KEY}_layer").set_value(0).run()
    assert_clean(at)
    at.select_slider(key=f"{KEY}_vector_size").set_value(QUICK["vector_size"])
    at.slider(key=f"{KEY}_window").set_value(QUICK["window"])
    at.radio(key=f"{KEY}_architecture").set_value(QUICK["architecture"])
    at.slider(key=f"{KEY}_epochs").set_value(QUICK["epochs"])
    at.slider(key=f"{KEY}_min_count").set_value(QUICK["min_count"])
    at.button(key=f"{KEY}_train").click().run()
    assert_clean(at)
    assert at.session_state[f"{KEY}_params"] == tuple(Word2VecParams(**QUICK, seed=0).__dict__.values())
    assert "25" in at.caption[0].value and str(len(train_word2vec(Word2VecParams(**QUICK)).space.words)) in \
        at.caption[0].value.replace(",", "")


def charts(at) -> dict:
    """Plotly figures the page sent, by element id (which contains the chart's key)."""
    return {chart.proto.id: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def values(data) -> np.ndarray:
    """A figure array as numpy: Plotly sends numpy arrays as {"dtype", "bdata" (base64), "shape"}."""
    if isinstance(data, dict):
        import base64

        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        return flat.reshape([int(n) for n in str(data.get("shape", len(flat))).split(",")])
    return np.asarray(data, dtype=float)


def chart(at, name) -> dict:
    return next(spec for element_id, spec in charts(at).items() if f"{KEY}_{name}" in element_id)


def test_shown_numbers_are_the_cores():
    at = open_page(PAGE, timeout=600)
    space = train_word2vec(Word2VecParams()).space
    trace = chart(at, "neighbours_chart")["data"][0]
    labels, scores = trace["y"], values(trace["x"])
    expected = nearest_neighbours(space, "france", 8)
    assert labels == [w for w, _ in expected]
    np.testing.assert_allclose(scores, [s for _, s in expected], rtol=1e-6)
    at.radio(key=f"{KEY}_space").set_value("minilm").run()
    labels = chart(at, "analogy_chart")["data"][0]["y"]
    assert "queen" in labels[:3]
    assert {"king", "man", "woman"}.isdisjoint(labels)
    table = at.dataframe[0].value
    assert len(table) == 2 and np.isfinite(table.iloc[:, 3].astype(float)).all()


def test_scores_table_and_static_vs_contextual():
    at = open_page(PAGE, timeout=600)
    np.testing.assert_allclose(values(chart(at, "static_chart")["data"][0]["z"]), 1.0, atol=1e-6)
    contextual = values(chart(at, "contextual_chart")["data"][0]["z"])
    assert contextual.shape == (6, 6) and contextual.min() < 0.95
    # river sentences (0-2) are more alike than river vs money (3-5) at the last layer
    assert contextual[:3, :3].mean() > contextual[:3, 3:].mean()


def test_word_from_pieces_shows_the_cores_numbers():
    from models.pretrained.minilm import load_bert_encoder
    from models.text.embedding_space import word_from_pieces

    at = open_page(PAGE, timeout=600)
    expected = word_from_pieces(load_bert_encoder().offsets_and_states, "vocalization",
                                "voice singing speech organization table".split())
    traces = chart(at, "pieces_chart")["data"]
    assert [trace["x"] for trace in traces] == [expected.others] * 3
    np.testing.assert_allclose(values(traces[0]["y"]), expected.word_similarity, rtol=1e-5)
    np.testing.assert_allclose(np.stack([values(trace["y"]) for trace in traces[1:]]), expected.piece_similarity,
                               rtol=1e-5)
    assert "vocal" in traces[1]["name"] and "ization" in traces[2]["name"]
    at.text_input(key=f"{KEY}_pieces_others").input("").run()
    assert at.info


ODD_INPUTS = ["", "   ", "🐱🐶🐭" * 30, "<script>alert(1)</script> <b>dog</b>", "a\x00b\x07c", "你好 世界", "x" * 20000]


def test_odd_input_gets_a_message_not_a_traceback():
    at = open_page(PAGE, timeout=600)
    for text in ODD_INPUTS:
        for key in ("own_words", "neighbour_word", "analogy_a", "axis_left", "context_word", "pieces_word", "pieces_others"):
            at.text_input(key=f"{KEY}_{key}").input(text).run()
            assert_clean(at)
        for key in ("sentences", "context_sentences"):
            at.text_area(key=f"{KEY}_{key}").input(text).run()
            assert_clean(at)
        assert at.info or at.warning, repr(text[:20])
    assert any("20,000" in w.value for w in at.warning)  # the long text is capped, and the page says so


def test_out_of_vocabulary_is_reported(lang):
    at = open_page(PAGE, lang, timeout=600)
    at.text_input(key=f"{KEY}_neighbour_word").input("zyxwvut").run()
    assert any("zyxwvut" in w.value for w in at.warning)
    at.text_input(key=f"{KEY}_own_words").input("qqqq").run()
    assert any("qqqq" in c.value for c in at.caption)
    at.multiselect(key=f"{KEY}_groups").set_value([]).run()
    at.text_input(key=f"{KEY}_own_words").input("").run()
    assert at.info
    at.text_input(key=f"{KEY}_context_word").input("zyxwvut").run()
    assert at.info


FRESH_VISIT = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=600)
at.run()
at.switch_page("app_pages/embeddings.py")
at.run()
assert not at.exception, at.exception
print("transformers" in sys.modules, len(at.get("plotly_chart")))
"""


def test_the_page_draws_everything_without_importing_transformers():
    """MiniLM's table and encoder are read from its files: importing transformers' BERT alone takes
    seconds, which kept this page's first visit over budget."""
    import os
    import subprocess
    import sys

    from tests.app.conftest import APP, REPO

    done = subprocess.run([sys.executable, "-c", FRESH_VISIT, APP], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["False", "9"]  # every chart, the contextual ones included
