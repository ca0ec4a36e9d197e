"""Masking lab: with the causal mask a later edit leaves earlier outputs bit-for-bit unchanged; padding is invisible."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from models.core import masks
from models.core.gpt import GPT, GPTConfig
from models.labs.masking import compare_masks, edit_proof, first_difference, padding_batch

PAD = 0


def small_gpt(style):
    torch.manual_seed(0)
    make = GPTConfig.style_2017 if style == "2017" else GPTConfig.style_2024
    extra = {} if style == "2017" else {"n_kv_head": 2}
    return GPT(make(vocab_size=64, block_size=32, n_layer=3, n_head=4, n_embd=32, **extra)).eval()


@pytest.fixture(params=["2017", "2024"])
def model(request):
    return small_gpt(request.param)


def test_first_difference():
    assert first_difference([1, 2, 3], [1, 2, 3]) is None
    assert first_difference([1, 2, 3], [1, 5, 3]) == 1
    assert first_difference([1, 2], [1, 2, 7]) == 2
    assert first_difference([4], [1]) == 0


@pytest.mark.parametrize("edited", [[1, 2, 3, 4, 5, 9, 7, 8], [1, 2, 3, 4, 5, 9, 10, 11, 12, 13], [1, 2, 3, 4, 5, 9]])
def test_causal_mask_leaves_earlier_outputs_exactly_unchanged(model, edited):
    original = [1, 2, 3, 4, 5, 6, 7, 8]
    proof = edit_proof(model, original, edited, PAD)
    assert proof.first_changed == 5 and proof.before_edit == 5
    assert proof.causal_before_max == 0.0  # exactly, not approximately
    assert (proof.causal_layer_delta[:, :5] == 0).all()
    assert proof.full_before_max > 1e-4  # without the mask the edit leaks backwards
    assert (proof.full_delta[:5] > 0).all()
    assert proof.causal_delta[5] > 0 and proof.full_delta[5] > 0  # the edited position itself changes
    assert proof.causal_layer_delta.shape == (3, proof.compared)


def test_identical_sequences_show_no_change(model):
    proof = edit_proof(model, [3, 4, 5], [3, 4, 5], PAD)
    assert proof.first_changed is None and proof.before_edit == 3
    assert proof.causal_delta.max() == 0 and proof.full_delta.max() == 0


def test_compare_masks_same_weights_both_ways(model):
    ids = [7, 3, 9, 12, 3, 5]
    comparison = compare_masks(model, ids)
    T = len(ids)
    assert comparison.full_mask.all()
    # The causal mask is the same as PyTorch's own square subsequent mask (0 = may attend).
    assert np.array_equal(comparison.causal_mask, (nn.Transformer.generate_square_subsequent_mask(T) == 0).numpy())
    later = ~comparison.causal_mask
    assert (comparison.causal_weights[..., later] == 0).all()
    assert (comparison.full_weights[..., later] > 0).all()
    np.testing.assert_allclose(comparison.full_weights.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(comparison.causal_weights.sum(-1), 1.0, atol=1e-5)
    # The causal run is the model as it always runs (no mask given = causal).
    own = model.trace(torch.tensor([ids]))
    np.testing.assert_allclose(comparison.causal_weights, torch.stack(own.attentions)[:, 0].numpy(), atol=1e-6)
    full, causal = comparison.future_weight(0, 0)
    assert full > 0 and causal == 0.0


@pytest.mark.parametrize("causal", [False, True])
def test_padding_batch_keeps_real_tokens_unchanged(model, causal):
    first, second = [5, 6, 7, 8, 9, 10, 11], [20, 21, 22]
    batch = padding_batch(model, first, second, PAD, causal=causal)
    assert batch.length == 7 and batch.lengths == [7, 3]
    assert np.array_equal(batch.mask, masks.padding([7, 3], 7, causal=causal).numpy())
    assert batch.pad_weight == [0.0, 0.0]
    assert (batch.weights[1, :, :, :3, 3:] == 0).all()
    assert max(batch.alone_delta) < 1e-5
    # The filler token does not matter: another pad id gives the same real outputs.
    other = padding_batch(model, first, second, 42, causal=causal)
    np.testing.assert_allclose(other.weights[1, :, :, :3], batch.weights[1, :, :, :3], atol=1e-6)


def test_padding_mask_matches_pytorch_key_padding_mask():
    """Our padding mask in our attention == nn.MultiheadAttention with key_padding_mask, on real queries."""
    from models.core.attention import attention

    torch.manual_seed(1)
    lengths, T, C = [6, 4], 6, 8
    x = torch.randn(2, T, C)
    reference = nn.MultiheadAttention(C, 1, bias=False, batch_first=True)
    key_padding = torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]  # True = padding (ignored)
    expected, _ = reference(x, x, x, key_padding_mask=key_padding)
    w_q, w_k, w_v = reference.in_proj_weight.chunk(3)
    out, _ = attention(F.linear(x, w_q), F.linear(x, w_k), F.linear(x, w_v), masks.padding(lengths, T))
    out = F.linear(out, reference.out_proj.weight)
    for row, n in enumerate(lengths):
        torch.testing.assert_close(out[row, :n], expected[row, :n], atol=1e-5, rtol=1e-5)


def test_empty_input_is_refused(model):
    with pytest.raises(ValueError):
        compare_masks(model, [])
    with pytest.raises(ValueError):
        edit_proof(model, [], [1], PAD)
    with pytest.raises(ValueError):
        padding_batch(model, [1], [], PAD, causal=False)


def test_replace_token():
    from models.labs.masking import replace_token

    assert replace_token([1, 2, 3], 1, [7, 8]) == [1, 7, 8, 3]
    assert replace_token([1, 2, 3], 2, []) == [1, 2]
    with pytest.raises(ValueError):
        replace_token([1, 2], 2, [5])
