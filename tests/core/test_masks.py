"""Masks: shapes, the True = may attend convention, no empty rows, density, receptive field."""

import pytest
import torch

from models.core import masks

T = 20
PATTERNS = {
    "causal": lambda causal: masks.causal(T),
    "sliding_window": lambda causal: masks.sliding_window(T, 4, causal=causal),
    "dilated": lambda causal: masks.dilated(T, 3, 2, causal=causal),
    "strided": lambda causal: masks.strided(T, 5, causal=causal),
    "fixed": lambda causal: masks.fixed(T, 5, causal=causal),
    "global_local": lambda causal: masks.global_local(T, 2, 2, causal=causal),
    "bigbird": lambda causal: masks.bigbird(T, 2, 1, 3, seed=0, causal=causal),
}


@pytest.mark.parametrize("name", list(PATTERNS))
@pytest.mark.parametrize("causal", [True, False])
def test_every_pattern_is_bool_square_and_sees_itself(name, causal):
    mask = PATTERNS[name](causal)
    assert mask.dtype == torch.bool and mask.shape == (T, T)
    assert mask.diagonal().all()  # no fully masked row
    if causal or name == "causal":
        assert not mask.triu(1).any()


def test_window_definitions():
    window = masks.sliding_window(8, 3)
    assert window[5].nonzero().flatten().tolist() == [3, 4, 5]  # the 3 most recent, itself included
    both = masks.sliding_window(8, 3, causal=False)
    assert both[5].nonzero().flatten().tolist() == [3, 4, 5, 6, 7]
    assert torch.equal(both, both.T)
    assert masks.dilated(12, 3, 2)[9].nonzero().flatten().tolist() == [5, 7, 9]
    assert masks.strided(12, 4)[10].nonzero().flatten().tolist() == [2, 6, 7, 8, 9, 10]
    assert masks.fixed(12, 4)[9].nonzero().flatten().tolist() == [3, 7, 8, 9]  # summaries 3, 7 + own block
    assert masks.global_local(10, 2, 1)[0].all() and masks.global_local(10, 2, 1)[:, 0].all()


def test_causal_with_past_tokens():
    assert torch.equal(masks.causal(3, n_past=2), torch.ones(5, 5, dtype=torch.bool).tril()[2:])


def test_bigbird_is_seeded_and_adds_random_keys():
    first, again = masks.bigbird(30, 2, 1, 3, seed=5), masks.bigbird(30, 2, 1, 3, seed=5)
    assert torch.equal(first, again) and not torch.equal(first, masks.bigbird(30, 2, 1, 3, seed=6))
    assert (first & ~masks.global_local(30, 2, 1)).any()
    causal = masks.bigbird(30, 2, 1, 3, seed=5, causal=True)
    assert not causal.triu(1).any()


def test_padding_mask():
    mask = masks.padding([3, 5], 5)
    assert mask.shape == (2, 5, 5)
    assert mask[0, :3, :3].all() and not mask[0, :3, 3:].any()  # real tokens never see padding
    assert mask[0].diagonal().all()  # padding rows are not empty
    assert mask[1].all()
    assert not masks.padding([5], 5, causal=True)[0].triu(1).any()


def test_density():
    assert masks.density(torch.ones(4, 4, dtype=torch.bool)) == 1.0
    assert masks.density(masks.causal(4)) == 10 / 16


def test_receptive_field_grows_with_layers_for_a_sliding_window():
    window = masks.sliding_window(32, 3)
    sizes = [masks.receptive_field(window, layers)[31].sum().item() for layers in range(1, 6)]
    assert sizes == [3, 5, 7, 9, 11]  # each layer reaches w - 1 = 2 tokens further back
    assert torch.equal(masks.receptive_field(window, 1), window)
    assert torch.equal(masks.receptive_field(window, 0), torch.eye(32, dtype=torch.bool))
    assert masks.receptive_field(window, 20)[masks.causal(32)].all()  # eventually every earlier token


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="w must be at least 1"):
        masks.sliding_window(8, 0)
