"""Q/K/V lab: its numbers are models.core.attention's, equal PyTorch's nn.MultiheadAttention, and the tiny GPT's own trace."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from models.core.gpt import GPT, GPTConfig
from models.labs.qkv import (
    MAX_TOKENS,
    project,
    random_attention,
    random_lab,
    split_words,
    tiny_gpt_lab,
    tiny_gpt_tokens,
    word_vectors,
)
from models.pretrained.tokens import default_token

SENTENCE = "The dog chased the cat because it was hungry."


def test_split_words_keeps_punctuation_cjk_and_emoji_apart():
    words, total = split_words(SENTENCE)
    assert words == ["The", "dog", "chased", "the", "cat", "because", "it", "was", "hungry", "."]
    assert total == 10
    assert split_words("我的猫🐱 <b>")[0] == ["我", "的", "猫", "🐱", "<", "b", ">"]
    assert split_words("")[0] == [] and split_words("  \n ")[0] == []
    words, total = split_words("w " * 100)
    assert len(words) == MAX_TOKENS and total == 100


def test_equal_words_get_equal_vectors_and_the_seed_decides():
    vectors = word_vectors(["The", "cat", "the"], 16, seed=3)
    torch.testing.assert_close(vectors[0], vectors[2])
    assert not torch.equal(vectors[0], vectors[1])
    torch.testing.assert_close(word_vectors(["cat"], 16, seed=3), vectors[1:2])
    assert not torch.equal(word_vectors(["cat"], 16, seed=4), vectors[1:2])


@pytest.mark.parametrize("width,heads", [(8, 1), (8, 2), (32, 4), (64, 8)])
@pytest.mark.parametrize("causal", [True, False])
def test_random_lab_equals_pytorch_multihead_attention(width, heads, causal):
    words, _ = split_words(SENTENCE)
    lab = random_lab(words, width, heads, seed=1, causal=causal)
    layer = random_attention(width, heads, seed=1)
    reference = nn.MultiheadAttention(width, heads, bias=False, batch_first=True)
    with torch.no_grad():
        reference.in_proj_weight.copy_(torch.cat([layer.w_q.weight, layer.w_k.weight, layer.w_v.weight]))
        reference.out_proj.weight.copy_(layer.w_o.weight)
    x = word_vectors(words, width, seed=1)[None]
    T = len(words)
    forbidden = torch.ones(T, T, dtype=torch.bool).triu(1) if causal else None  # nn.MHA: True = may NOT attend
    out, weights = reference(x, x, x, attn_mask=forbidden, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(lab.output, out[0].detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(lab.weights, weights[0].detach().numpy(), atol=1e-6)


def test_every_step_is_what_the_formulas_say():
    words, _ = split_words(SENTENCE)
    lab = random_lab(words, 16, 2, seed=0, causal=True)
    D = lab.head_dim
    for head in range(lab.n_heads):
        q, k, v = lab.q[head], lab.k[lab.kv_head(head)], lab.v[lab.kv_head(head)]
        np.testing.assert_allclose(lab.scores[head], q @ k.T / math.sqrt(D), rtol=1e-5, atol=1e-5)
        masked = np.where(lab.mask, lab.scores[head], -np.inf)
        expected = np.exp(masked - masked.max(-1, keepdims=True))
        np.testing.assert_allclose(lab.weights[head], expected / expected.sum(-1, keepdims=True), atol=1e-6)
        np.testing.assert_allclose(lab.head_outputs[head], lab.weights[head] @ v, atol=1e-5)
        for token in range(len(words)):
            np.testing.assert_allclose(lab.contributions(head, token).sum(0), lab.head_outputs[head, token],
                                       atol=1e-5)
            assert lab.weighted_sum_table(head, token).shape == (len(words) + 1, D)
    np.testing.assert_allclose(lab.q, (lab.x @ lab.w_q).reshape(len(words), 2, D).transpose(1, 0, 2), atol=1e-5)
    np.testing.assert_allclose(lab.joined_heads("q"), lab.x @ lab.w_q, atol=1e-5)
    np.testing.assert_allclose(lab.output, lab.concat @ lab.w_o, atol=1e-5)
    np.testing.assert_allclose(lab.weights.sum(-1), 1.0, atol=1e-6)
    assert (lab.weights[:, ~lab.mask] == 0).all()  # exactly zero above the diagonal


def test_no_projection_uses_the_raw_vectors():
    words, _ = split_words(SENTENCE)
    lab = random_lab(words, 8, 2, seed=0, causal=False, no_projection=True)
    assert lab.n_heads == 1 and not lab.projected and lab.w_q is None
    np.testing.assert_allclose(lab.q[0], lab.x)
    np.testing.assert_allclose(lab.output, lab.concat)
    # A vector agrees most with itself (and its copies): "The" and "the" share one vector.
    best = lab.weights[0].argmax(-1)
    for index, word in enumerate(words):
        assert words[best[index]].lower() == word.lower()


def test_project_refuses_empty_or_mismatched_input():
    layer = random_attention(8, 2, seed=0)
    with pytest.raises(ValueError):
        project(layer, torch.zeros(0, 8), [], causal=True)
    with pytest.raises(ValueError):
        project(layer, torch.zeros(3, 8), ["a"], causal=True)
    with pytest.raises(ValueError):
        random_attention(12, 2, seed=0)


def test_default_token_is_it():
    assert default_token(["The", " it", "."]) == 1
    assert default_token(["a", "b"]) == 1
    assert default_token([]) == 0


def small_gpt(style):
    make = GPTConfig.style_2017 if style == "2017" else GPTConfig.style_2024
    extra = {} if style == "2017" else {"n_kv_head": 2}
    return GPT(make(vocab_size=64, block_size=32, n_layer=2, n_head=4, n_embd=32, **extra)).eval()


@pytest.mark.parametrize("style", ["2017", "2024"])
def test_tiny_gpt_lab_equals_the_models_own_first_layer(style):
    model = small_gpt(style)
    ids = [5, 9, 2, 33, 9, 17]
    lab = tiny_gpt_lab(model, ids, [str(i) for i in ids])
    trace = model.trace(torch.tensor([ids]))
    np.testing.assert_allclose(lab.q, trace.queries[0][0].numpy(), atol=1e-6)
    np.testing.assert_allclose(lab.k, trace.keys[0][0].numpy(), atol=1e-6)
    np.testing.assert_allclose(lab.v, trace.values[0][0].numpy(), atol=1e-6)
    np.testing.assert_allclose(lab.weights, trace.attentions[0][0].numpy(), atol=1e-6)
    assert lab.rope == (style == "2024")
    assert lab.has_bias == (style == "2017")
    if style == "2024":  # grouped-query attention: 4 query heads share 2 K/V heads
        assert (lab.n_heads, lab.n_kv_heads) == (4, 2)
        assert [lab.kv_head(h) for h in range(4)] == [0, 0, 1, 1]
        assert lab.w_k.shape == (32, 16) and lab.w_q.shape == (32, 32)
    block = model.blocks[0]
    x = trace.input_embeddings if style == "2017" else block.norm_attn(trace.input_embeddings)
    rope = (model.rope_cos[: len(ids)], model.rope_sin[: len(ids)]) if style == "2024" else None
    with torch.no_grad():
        out, _ = block.attn(x, causal=True, rope=rope)  # the fused fast path
    np.testing.assert_allclose(lab.output, out[0].numpy(), atol=1e-5)


def test_tiny_gpt_tokens_reads_byte_level_tokens():
    from models.pretrained.tiny_gpt import load_tokenizer

    tokenizer = load_tokenizer()
    ids, texts, total = tiny_gpt_tokens(tokenizer, SENTENCE)
    assert "".join(texts) == SENTENCE and total == len(ids)
    ids, texts, total = tiny_gpt_tokens(tokenizer, " dog" * 100)
    assert len(ids) == MAX_TOKENS and total == len(tokenizer.encode(" dog" * 100).ids) > MAX_TOKENS
    assert tiny_gpt_tokens(tokenizer, "") == ([], [], 0)


def test_minilm_projections_are_the_models_own_and_it_finds_its_noun():
    """MiniLM's layer through the core's attention equals transformers' weights, and the head the
    lab picks gives "dog" more than "cat" (and "animal" over "street" in the other classic)."""
    import numpy as np

    from models.labs import qkv as lab
    from models.pretrained.minilm import load_bert_encoder, load_minilm

    encoder, model = load_bert_encoder(), load_minilm()
    ids, tokens, _ = lab.minilm_tokens(encoder, lab.REFERENT_SENTENCE)
    run = model.run(lab.REFERENT_SENTENCE)
    assert tokens == list(run.tokens)
    for layer in (0, 3, 5):
        chosen, plain = lab.minilm_labs(encoder, ids, tokens, layer)
        np.testing.assert_allclose(chosen.weights, np.asarray(run.attentions[layer]), atol=1e-5)
        assert plain.n_heads == 1 and chosen.head_weights(2)[0].shape == (384, 32)
    found = lab.referent_head(encoder)
    it, dog, cat = (tokens.index(word) for word in lab.REFERENT_WORDS)
    row = np.asarray(run.attentions[found.layer])[found.head, it]
    assert row[dog] > row[cat] and found.noun_weight == pytest.approx(float(row[dog]), abs=1e-5)
    every_margin = np.asarray(run.attentions)[:, :, it, dog] - np.asarray(run.attentions)[:, :, it, cat]
    assert found.noun_weight - found.other_weight == pytest.approx(every_margin.max(), abs=1e-5)
    animal = lab.referent_head(encoder, "The animal didn't cross the street because it was too tired.",
                               ("it", "animal", "street"))
    assert animal.noun_weight > 0.5 > animal.other_weight
