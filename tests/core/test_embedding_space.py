"""Embedding-space maths, cross-checked against gensim, scipy and scikit-learn; MiniLM read from
its files (table, vocabulary, encoder) cross-checked against the transformers model."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from models.text.embedding_space import (
    WordSpace, analogy, attribute_axis, contextual_word_vectors, cosine_matrix, nearest_neighbours,
    nearest_neighbours_of_many, pca, sentence_vectors, static_word_similarity, table_space, tokenize_words,
    word_token_positions,
)

RNG = np.random.default_rng(0)
WORDS = tuple(f"w{i}" for i in range(200))


@pytest.fixture(scope="module")
def space():
    return WordSpace(WORDS, RNG.standard_normal((len(WORDS), 16)).astype(np.float32), name="random")


@pytest.fixture(scope="module")
def keyed_vectors(space):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=space.dimension)
    kv.add_vectors(list(space.words), space.vectors)
    return kv


def test_cosine_matrix_equals_scipy():
    vectors = RNG.standard_normal((7, 5))
    np.testing.assert_allclose(cosine_matrix(vectors), 1 - cdist(vectors, vectors, "cosine"), atol=1e-12)


def test_cosine_matrix_zero_vector_is_zero_not_nan():
    matrix = cosine_matrix(np.array([[0.0, 0.0], [1.0, 0.0]]))
    assert np.isfinite(matrix).all() and matrix[0, 1] == 0


def test_nearest_neighbours_equal_gensim(space, keyed_vectors):
    for word in ("w0", "w17", "w199"):
        ours = nearest_neighbours(space, word, k=8)
        theirs = keyed_vectors.most_similar(word, topn=8)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_neighbours_of_many_equal_one_by_one(space):
    words = ["w3", "zzz", "w0", "w3", "w150"]  # an unknown word and a repeat among them
    for k in (0, 1, 7, 199, 500):
        together = nearest_neighbours_of_many(space, words, k)
        alone = [nearest_neighbours(space, word, k) for word in words]
        assert [[w for w, _ in found] for found in together] == [[w for w, _ in found] for found in alone]
        for a, b in zip(together, alone):
            np.testing.assert_allclose([s for _, s in a], [s for _, s in b], rtol=1e-6, atol=1e-7)
    assert len(nearest_neighbours_of_many(space, ["w1"], 500)[0]) == len(space.words) - 1
    assert nearest_neighbours_of_many(space, [], 5) == []


def test_neighbours_of_many_skip_a_zero_vector():
    vectors = RNG.standard_normal((4, 3)).astype(np.float32)
    vectors[1] = 0
    zero = WordSpace(("a", "b", "c", "d"), vectors)
    assert nearest_neighbours_of_many(zero, ["b", "a"], 2) == [nearest_neighbours(zero, "b", 2), nearest_neighbours(zero, "a", 2)]
    assert nearest_neighbours_of_many(zero, ["b"], 2) == [[]]


def test_analogy_equals_gensim_and_excludes_inputs(space, keyed_vectors):
    for a, b, c in (("w1", "w2", "w3"), ("w10", "w50", "w120")):
        ours = [w for w, _ in analogy(space, a, b, c, k=6)]
        theirs = [w for w, _ in keyed_vectors.most_similar(positive=[a, c], negative=[b], topn=6)]
        assert ours == theirs
        assert not {a, b, c} & set(ours)


def test_analogy_finds_a_planted_relation():
    vectors = RNG.standard_normal((6, 32)).astype(np.float32)
    words = ("king", "man", "woman", "queen", "apple", "car")
    offset = vectors[2] - vectors[1]
    vectors[3] = vectors[0] + offset + 0.01 * RNG.standard_normal(32)
    assert analogy(WordSpace(words, vectors), "king", "man", "woman", k=1)[0][0] == "queen"


def test_out_of_vocabulary_gives_empty_results(space):
    assert nearest_neighbours(space, "zzz") == []
    assert analogy(space, "w1", "zzz", "w2") == []
    assert static_word_similarity(space, ["a", "b"], "zzz") is None


@pytest.mark.parametrize("shape", [(30, 10), (12, 40), (60, 384)])  # more points than dimensions, and fewer
def test_pca_equals_scikit_learn(shape):
    decomposition = pytest.importorskip("sklearn.decomposition")
    vectors = RNG.standard_normal(shape)
    for n in (2, 3):
        ours = pca(vectors, n)
        reference = decomposition.PCA(n_components=n, svd_solver="full").fit(vectors)
        theirs = reference.transform(vectors)
        np.testing.assert_allclose(np.abs(ours.coordinates), np.abs(theirs), atol=1e-9)
        np.testing.assert_allclose(ours.explained, reference.explained_variance_ratio_, atol=1e-9)


def test_pca_with_too_few_points_is_zeros():
    assert pca(np.ones((1, 4)), 3).coordinates.shape == (1, 3)
    assert not pca(np.ones((1, 4)), 3).coordinates.any()
    two = pca(RNG.standard_normal((2, 4)), 3)
    assert two.coordinates.shape == (2, 3)
    np.testing.assert_allclose(two.coordinates[:, 1:], 0, atol=1e-9)
    assert two.explained[0] == pytest.approx(1.0)


def test_attribute_axis_places_words_by_the_planted_direction():
    words = ("cat", "dog", "apple", "pear", "tiger", "plum", "stone")
    vectors = np.zeros((7, 3), dtype=np.float32)
    vectors[:, 0] = [-1, -1, 1, 1, -0.8, 0.9, 0.0]  # animal (-) <-> fruit (+)
    vectors[:, 1] = 1.0
    result = attribute_axis(WordSpace(words, vectors), ["cat", "dog"], ["apple", "pear"], ["tiger", "plum", "stone", "xyz"])
    assert result.words == ["tiger", "plum", "stone"] and result.missing == ["xyz"]
    tiger, plum, stone = result.positions
    assert tiger < 0 < plum and abs(stone) < 1e-6
    assert (result.left_positions < 0).all() and (result.right_positions > 0).all()
    same = attribute_axis(WordSpace(words, vectors), ["cat"], ["cat"], ["cat", "dog"])
    assert not same.positions.any() and len(same.left_positions) == len(same.right_positions) == 1
    assert attribute_axis(WordSpace(words, vectors), ["nope"], ["apple"], ["cat"]) is None


def test_sentence_vectors_average_and_lose_order():
    space = WordSpace(("dog", "bites", "man"), RNG.standard_normal((3, 4)).astype(np.float32))
    result = sentence_vectors(space, ["dog bites man", "Man bites dog!", "man unknown", "!!!"])
    np.testing.assert_allclose(result.vectors[0], space.vectors.mean(axis=0), rtol=1e-6)
    assert result.similarity[0, 1] == pytest.approx(1.0)
    assert result.missing[2] == ["unknown"] and result.used[3] == []
    assert not result.vectors[3].any() and result.similarity[3, 0] == 0


def test_tokenize_words():
    assert tokenize_words("Don't PANIC: 42 dogs, 猫!") == ["don't", "panic", "dogs", "猫"]


def test_static_similarity_is_all_ones(space):
    np.testing.assert_allclose(static_word_similarity(space, ["x", "y", "z"], "w5"), np.ones((3, 3)), atol=1e-6)


def test_word_token_positions():
    # "the riverbank bank" tokenised as [CLS] the river ##bank bank [SEP]
    offsets = [(0, 0), (0, 3), (4, 9), (9, 13), (14, 18), (0, 0)]
    assert word_token_positions(offsets, "the riverbank bank", "bank") == [4]
    assert word_token_positions(offsets, "the riverbank bank", "riverbank") == [2, 3]
    assert word_token_positions(offsets, "the riverbank bank", "money") == []


def test_table_space_keeps_whole_words_only():
    vocabulary = {"[PAD]": 0, "[unused1]": 1, "the": 2, "##s": 3, "king": 4, "a": 5, "x": 6, "42": 7, "queen": 8}
    matrix = np.arange(9 * 2, dtype=np.float32).reshape(9, 2)
    table = table_space(matrix, vocabulary)
    assert table.words == ("the", "king", "a", "queen")
    np.testing.assert_array_equal(table.vectors[1], matrix[4])


@pytest.fixture(scope="module")
def minilm():
    from models.pretrained.minilm import load_minilm

    return load_minilm()


@pytest.fixture(scope="module")
def encoder():
    from models.pretrained.minilm import load_bert_encoder

    return load_bert_encoder()


def test_table_and_vocabulary_read_from_the_files_equal_the_transformers_model(minilm):
    from models.pretrained.minilm import read_embedding_table, read_vocab

    table = read_embedding_table()
    np.testing.assert_array_equal(table, minilm.model.get_input_embeddings().weight.detach().numpy())
    assert table.dtype == np.float32 and read_vocab() == minilm.vocab
    ours = table_space(table, {piece: i for i, piece in enumerate(read_vocab())})
    theirs = table_space(minilm.embedding_table, minilm.tokenizer.get_vocab())
    assert ours.words == theirs.words and len(ours.words) > 20000
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)


def test_neighbours_of_many_equal_one_by_one_in_minilm(encoder):
    from models.pretrained.minilm import read_embedding_table, read_vocab

    table = table_space(read_embedding_table(), {piece: i for i, piece in enumerate(read_vocab())})
    words = "dog horse france china one two king queen apple coffee bank river".split()
    together = nearest_neighbours_of_many(table, words, 5)
    alone = [nearest_neighbours(table, word, 5) for word in words]
    assert [[w for w, _ in found] for found in together] == [[w for w, _ in found] for found in alone]
    np.testing.assert_allclose([s for found in together for _, s in found], [s for found in alone for _, s in found],
                               rtol=1e-6)


SENTENCES = ["We sat on the river bank.", "The muddy bank of the stream.", "She put money in the bank.",
             "The bank approved the loan.", "No such word here."]


def test_bert_encoder_equals_the_transformers_model(minilm, encoder):
    import torch

    for text in SENTENCES[:2] + ["Don't PANIC: 42 dogs, 猫! café", "", "riverbank " * 80]:
        ids, offsets = encoder.encode(text, max_tokens=64)
        expected = minilm.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=64)
        assert ids == expected["input_ids"] and offsets == [tuple(span) for span in expected["offset_mapping"]]
        with torch.no_grad():
            output = minilm.model(input_ids=torch.tensor([ids]), output_hidden_states=True)
        theirs = torch.stack(output.hidden_states)[:, 0].numpy()
        ours = encoder.hidden_states(ids)
        assert ours.shape == theirs.shape == (7, len(ids), 384)
        np.testing.assert_allclose(ours, theirs, atol=2e-5)
    assert len(encoder.encode("riverbank " * 80, max_tokens=64)[0]) == 64


def test_contextual_vectors_match_the_encoder_and_separate_senses(minilm, encoder):
    import torch

    model, tokenizer = minilm.model, minilm.tokenizer
    result = contextual_word_vectors(encoder.offsets_and_states, SENTENCES, "bank")
    assert result.skipped == ["No such word here."]
    layers = model.config.num_hidden_layers + 1
    assert result.vectors.shape == (layers, 4, model.config.hidden_size)
    encoded = tokenizer(SENTENCES[2], return_tensors="pt")
    with torch.no_grad():
        last = model(**encoded).last_hidden_state[0]
    position = encoded.input_ids[0].tolist().index(tokenizer.convert_tokens_to_ids("bank"))
    np.testing.assert_allclose(result.vectors[-1, 2], last[position].numpy(), atol=1e-5)
    last_layer = result.similarity[-1]
    same_sense = (last_layer[0, 1] + last_layer[2, 3]) / 2
    other_sense = last_layer[:2, 2:].mean()
    assert same_sense > other_sense
    assert (result.similarity[-1] < 0.999).sum() > 0  # contextual: not all identical
    np.testing.assert_allclose(np.diagonal(result.similarity, axis1=1, axis2=2), 1.0, atol=1e-6)


def test_contextual_vectors_average_a_split_word(encoder):
    sentence = "The riverbank flooded."
    offsets, states = encoder.offsets_and_states(sentence)
    positions = word_token_positions(offsets, sentence, "riverbank")
    assert len(positions) == 2  # "river", "##bank"
    result = contextual_word_vectors(encoder.offsets_and_states, [sentence, sentence], "riverbank")
    np.testing.assert_allclose(result.vectors[:, 0], states[:, positions].mean(axis=1), rtol=1e-6)


def test_layer_summaries():
    from models.text.embedding_space import ContextualVectors

    similarity = np.array([[[1, 0.8, 0.6], [0.8, 1, 0.4], [0.6, 0.4, 1]]] * 2, dtype=float)
    summary = ContextualVectors(["a", "b", "c"], [], np.zeros((2, 3, 1)), similarity)
    np.testing.assert_allclose(summary.mean_by_layer, [0.6, 0.6])
    np.testing.assert_allclose(summary.lowest_by_layer, [0.4, 0.4])


def test_word_from_pieces_averages_the_course_example_against_the_transformers_model(minilm, encoder):
    import torch

    from models.text.embedding_space import word_from_pieces

    result = word_from_pieces(encoder.offsets_and_states, "vocalization", ["voice", "organization", "zzqx"])
    assert result.pieces == ["vocal", "ization"]  # the course's split
    encoded = minilm.tokenizer("vocalization", return_tensors="pt")
    with torch.no_grad():
        last = minilm.model(**encoded).last_hidden_state[0].numpy()
    np.testing.assert_allclose(result.piece_vectors, last[1:-1], atol=2e-5)  # [CLS] and [SEP] left out
    np.testing.assert_allclose(result.vector, last[1:-1].mean(axis=0), atol=2e-5)
    assert result.others == ["voice", "organization", "zzqx"]  # a made-up word still has pieces
    voice = last_layer_mean(minilm, "voice")
    expected = voice @ result.vector / (np.linalg.norm(voice) * np.linalg.norm(result.vector))
    np.testing.assert_allclose(result.word_similarity[0], expected, atol=1e-5)
    assert result.piece_similarity.shape == (2, 3)


def last_layer_mean(minilm, word):
    import torch

    encoded = minilm.tokenizer(word, return_tensors="pt")
    with torch.no_grad():
        return minilm.model(**encoded).last_hidden_state[0, 1:-1].numpy().mean(axis=0)


def test_word_from_pieces_with_nothing_to_compare_or_no_piece(encoder):
    from models.text.embedding_space import word_from_pieces

    assert word_from_pieces(encoder.offsets_and_states, "", ["voice"]) is None
    alone = word_from_pieces(encoder.offsets_and_states, "tokenization", [])
    assert alone.pieces == ["token", "ization"] and alone.others == [] and alone.piece_similarity.shape == (2, 0)


def test_the_pieces_story_the_page_tells(encoder):
    """The page's text: at the embedding output the suffix alone resembles none of the words and the mean
    follows "vocal"; by the last layer the suffix has moved towards "voice"."""
    from models.text.embedding_space import word_from_pieces

    others = "voice singing speech organization table".split()
    first, last = (word_from_pieces(encoder.offsets_and_states, "vocalization", others, layer) for layer in (0, -1))
    vocal, ization = first.piece_similarity
    assert ization.max() < 0.2 < vocal.max()
    assert others[int(first.word_similarity.argmax())] == others[int(vocal.argmax())] == "voice"
    assert last.piece_similarity[1][0] > first.piece_similarity[1][0] + 0.3
    assert others[int(last.word_similarity.argmax())] == "voice"
