"""Block-sparse attention: compute only the parts of the score matrix a mask keeps.

Dense masked attention computes all T x T scores and then throws most of them away.
A sparse pattern (models.core.masks) keeps few pairs, so we cut the score matrix into tiles
of ``block_size`` x ``block_size`` and skip every tile with no kept pair:

1. :func:`block_layout` looks at the mask once and lists, for every block of queries,
   the key blocks it needs (a sliding window of w tokens needs about w / block_size + 1).
2. :func:`block_sparse_attention` gathers just those key/value blocks for every query
   block, and runs ordinary attention on each query block against its gathered keys,
   all blocks at once in one batched call. Inside the gathered tiles the fine mask still
   applies, so the result equals dense masked attention exactly (up to rounding).

The work drops from T * T to T * (needed blocks * block_size), which is why a sliding
window of 256 tokens over 4096 tokens is several times faster than dense causal attention.

For comparison, PyTorch's FlexAttention does the same thing with a compiled kernel;
:func:`flex_attention` uses it where it compiles on this machine (:func:`flex_available`)
and otherwise returns None, never an error.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from models.core.attention import additive_mask, repeat_kv


@dataclass
class BlockLayout:
    """Which tiles of a (T, T) mask hold any kept pair, ready for gathering.

    nb = ceil(T / block_size) blocks per side; K = the most key blocks any query block needs.
    """

    seq_len: int  # T
    block_size: int
    occupied: torch.Tensor  # (nb, nb) bool: tile (query block, key block) has a kept pair
    key_blocks: torch.Tensor  # (nb, K) long: key blocks each query block reads (unused slots -> 0)
    tile_mask: torch.Tensor  # (nb, block_size, K * block_size) bool: the fine mask inside those tiles
    tile_bias: torch.Tensor  # the same as 0 / -inf in float32, made once: what the kernel adds to scores
    band_start: int | None  # a band (sliding window): query block i reads key blocks i + band_start + 0..K-1

    @property
    def n_blocks(self) -> int:
        return self.occupied.size(0)

    @property
    def padded_len(self) -> int:
        return self.n_blocks * self.block_size

    @property
    def computed_fraction(self) -> float:
        """Share of the padded score matrix that is really computed (gathered tiles)."""
        return self.key_blocks.size(1) / self.n_blocks


def block_layout(mask: torch.Tensor, block_size: int = 64) -> BlockLayout:
    """Cut a bool "may attend" mask (T, T) into tiles and list the tiles worth computing."""
    T = mask.size(-1)
    nb = math.ceil(T / block_size)
    P = nb * block_size
    padded = torch.zeros(P, P, dtype=torch.bool, device=mask.device)
    padded[:T, :T] = mask
    padding_rows = torch.arange(T, P, device=mask.device)
    padded[padding_rows, padding_rows] = True  # padding queries see themselves: no empty rows

    tiles = padded.view(nb, block_size, nb, block_size).transpose(1, 2)  # (nb_q, nb_k, bs, bs)
    occupied = tiles.any(dim=-1).any(dim=-1)  # (nb, nb)
    K = int(occupied.sum(dim=1).max())
    block = torch.arange(nb, device=mask.device)
    distance = (block[None, :] - block[:, None])[occupied]  # key block - query block, occupied tiles
    band_start = int(distance.min())
    if int(distance.max()) - band_start + 1 == K:
        # Every query block reads K consecutive key blocks at the same distance: a band.
        # Attention can then read them through a strided view, without copying.
        key_blocks = block[:, None] + band_start + torch.arange(K, device=mask.device)  # (nb, K), may leave 0..nb-1
        in_use = (key_blocks >= 0) & (key_blocks < nb)
        in_use &= occupied.gather(1, key_blocks.clamp(0, nb - 1))
    else:
        band_start = None
        # Occupied key blocks first, in increasing order (stable sort), then unused slots.
        key_blocks = occupied.to(torch.int8).argsort(dim=1, descending=True, stable=True)[:, :K]  # (nb, K)
        in_use = occupied.gather(1, key_blocks)
    key_blocks = key_blocks.clamp(0, nb - 1).masked_fill(~in_use, 0)
    gathered = tiles[block[:, None], key_blocks] & in_use[..., None, None]  # (nb, K, bs, bs); unused: all False
    tile_mask = gathered.transpose(1, 2).reshape(nb, block_size, K * block_size)  # (nb, bs, K * bs)
    tile_bias = additive_mask(tile_mask, torch.float32)
    return BlockLayout(T, block_size, occupied, key_blocks, tile_mask, tile_bias, band_start)


def _key_value_tiles(x: torch.Tensor, layout: BlockLayout) -> torch.Tensor:
    """(BH, P, D) keys or values -> (BH, nb, K * bs, D): the tiles each query block reads."""
    BH, _, D = x.shape
    nb, bs, K = layout.n_blocks, layout.block_size, layout.key_blocks.size(1)
    if layout.band_start is None:
        gathered = x.view(BH, nb, bs, D)[:, layout.key_blocks]  # (BH, nb, K, bs, D): a copy
        return gathered.view(BH, nb, K * bs, D)
    # Band: pad with whole blocks so every window exists, then view overlapping windows.
    before = max(0, -layout.band_start)
    after = max(0, layout.band_start + K - 1)
    x = F.pad(x, (0, 0, before * bs, after * bs))  # (BH, (before + nb + after) * bs, D)
    first_row = (layout.band_start + before) * bs
    return x.as_strided((BH, nb, K * bs, D), (x.stride(0), bs * D, D, 1), x.storage_offset() + first_row * D)


def block_sparse_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    block_size: int = 64,
    *,
    layout: BlockLayout | None = None,
) -> torch.Tensor:
    """Attention (B, H, T, D) under a bool (T, T) mask, skipping empty tiles.

    Pass ``layout`` (from :func:`block_layout`) instead of ``mask`` to reuse it across
    layers and calls. K/V may have fewer heads than Q (grouped-query attention).
    """
    if layout is None:
        if mask is None:
            raise ValueError("block_sparse_attention needs a mask or a layout")
        layout = block_layout(mask, block_size)
    B, H, T, D = q.shape
    if T != layout.seq_len:
        raise ValueError(f"layout is for {layout.seq_len} tokens, inputs have {T}")
    k, v = repeat_kv(k, H // k.size(1)), repeat_kv(v, H // v.size(1))
    nb, bs = layout.n_blocks, layout.block_size
    pad = layout.padded_len - T
    if pad:
        q, k, v = (F.pad(x, (0, 0, 0, pad)) for x in (q, k, v))  # (B, H, P, D)
    q, k, v = (x.reshape(B * H, layout.padded_len, D) for x in (q, k, v))  # (BH, P, D)

    q_tiles = q.view(B * H, nb, bs, D)  # (BH, nb, bs, D): one row of tiles per query block
    k_tiles = _key_value_tiles(k, layout)  # (BH, nb, K * bs, D)
    v_tiles = _key_value_tiles(v, layout)
    # PyTorch's CPU kernel is much faster with an additive mask of the full shape than
    # with one it has to broadcast, so expand it (a view, no copy).
    tile_bias = layout.tile_bias.to(q.dtype).expand(B * H, -1, -1, -1)  # (BH, nb, bs, K * bs)
    out = F.scaled_dot_product_attention(q_tiles, k_tiles, v_tiles, attn_mask=tile_bias)  # (BH, nb, bs, D)
    return out.reshape(B, H, layout.padded_len, D)[:, :, :T]


# -- FlexAttention, for comparison ---------------------------------------------------------


@functools.cache
def _compiled_flex():
    from torch.nn.attention.flex_attention import flex_attention as eager_flex

    return torch.compile(eager_flex, dynamic=False)


@functools.cache
def flex_available(device: str = "cpu") -> bool:
    """Whether compiled FlexAttention runs here (on CPU it needs a working C++ compiler).

    Probed once per device type with a tiny problem; any failure means False.
    """
    try:
        x = torch.randn(1, 1, 128, 16, device=device)
        mask = torch.ones(128, 128, dtype=torch.bool, device=device).tril()
        out = flex_attention(x, x, x, mask, block_size=128, _probe=True)
        return out is not None and torch.allclose(out, F.scaled_dot_product_attention(x, x, x, attn_mask=mask), atol=1e-4)
    except Exception:
        return False


def flex_block_mask(mask: torch.Tensor, block_size: int = 128):
    """FlexAttention's own tile list for a bool (T, T) mask."""
    from torch.nn.attention.flex_attention import create_block_mask

    T = mask.size(-1)

    def may_attend(batch, head, query, key):
        return mask[query, key]

    return create_block_mask(may_attend, None, None, T, T, device=mask.device, BLOCK_SIZE=block_size)


def flex_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    block_size: int = 128,
    *,
    block_mask=None,
    _probe: bool = False,
) -> torch.Tensor | None:
    """Compiled FlexAttention under the same mask, or None where it cannot run here."""
    if not _probe and not flex_available(q.device.type):
        return None
    try:
        block_mask = block_mask if block_mask is not None else flex_block_mask(mask, block_size)
        return _compiled_flex()(q, k, v, block_mask=block_mask, enable_gqa=k.size(1) != q.size(1))
    except Exception:
        if _probe:
            raise
        return None
