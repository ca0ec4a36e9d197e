"""Block-sparse attention equals dense masked attention, for sizes that do not divide the block."""

import os

import pytest
import torch
import torch.nn.functional as F

from models.core import masks, sparse
from models.core.sparse import block_layout, block_sparse_attention


def patterns(T, device):
    return {
        "causal": masks.causal(T, device=device),
        "sliding_window": masks.sliding_window(T, 19, device=device),
        "sliding_window_bidirectional": masks.sliding_window(T, 9, causal=False, device=device),
        "dilated": masks.dilated(T, 6, 3, device=device),
        "strided": masks.strided(T, 11, device=device),
        "fixed": masks.fixed(T, 13, device=device),
        "global_local": masks.global_local(T, 7, 3, device=device),
        "bigbird": masks.bigbird(T, 5, 2, 4, seed=1, device=device),
        "full": torch.ones(T, T, dtype=torch.bool, device=device),
    }


@pytest.mark.parametrize("name", list(patterns(8, "cpu")))
def test_block_sparse_equals_dense_for_every_pattern(name, device):
    generator = torch.Generator().manual_seed(len(name))
    for _ in range(2):
        T = int(torch.randint(40, 150, (1,), generator=generator))
        block = int(torch.randint(8, 33, (1,), generator=generator))
        if T % block == 0:
            T += 1
        q, k, v = (torch.randn(2, 3, T, 16, generator=generator).to(device) for _ in range(3))
        mask = patterns(T, device)[name]
        expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        torch.testing.assert_close(block_sparse_attention(q, k, v, mask, block_size=block), expected,
                                   atol=1e-5, rtol=1e-5)


def test_layouts_skip_empty_tiles_and_find_bands():
    window = block_layout(masks.sliding_window(1000, 256), 64)
    assert window.band_start == -4 and window.key_blocks.shape == (16, 5)
    assert window.computed_fraction == 5 / 16
    scattered = block_layout(masks.global_local(1000, 64, 4), 64)
    assert scattered.band_start is None  # global columns: the key blocks are gathered instead
    assert scattered.occupied[:, 0].all() and scattered.occupied[0].all()


def test_layout_is_reusable_and_gqa_works():
    T = 70
    layout = block_layout(masks.sliding_window(T, 10), 16)
    q, k, v = torch.randn(1, 4, T, 8), torch.randn(1, 2, T, 8), torch.randn(1, 2, T, 8)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=masks.sliding_window(T, 10), enable_gqa=True)
    torch.testing.assert_close(block_sparse_attention(q, k, v, layout=layout), expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="mask or a layout"):
        block_sparse_attention(q, k, v)


def test_flex_falls_back_quietly_where_it_cannot_compile(monkeypatch):
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler here")

    sparse.flex_available.cache_clear()
    sparse._compiled_flex.cache_clear()
    monkeypatch.setattr(torch, "compile", broken_compile)
    x = torch.randn(1, 1, 128, 16)
    try:
        assert sparse.flex_available("cpu") is False
        assert sparse.flex_attention(x, x, x, masks.causal(128)) is None
    finally:
        sparse.flex_available.cache_clear()
        sparse._compiled_flex.cache_clear()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CORE_TEST_FLEX") != "1", reason="compiling FlexAttention takes 10-60 s; set CORE_TEST_FLEX=1")
def test_flex_equals_dense_where_it_compiles():
    if not sparse.flex_available("cpu"):
        pytest.skip("FlexAttention does not compile on this machine")
    T = 200
    q, k, v = (torch.randn(1, 2, T, 16) for _ in range(3))
    mask = masks.sliding_window(T, 40)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(sparse.flex_attention(q, k, v, mask), expected, atol=1e-5, rtol=1e-5)
