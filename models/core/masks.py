"""Attention masks: who may look at whom.

A mask here is always a boolean matrix of shape (T, T): row i is the query token,
column j the key token, and ``mask[i, j] == True`` means "token i may attend to token j".
That one convention is used everywhere in the core; models.core.attention turns it into
an additive mask (0 or -inf) in exactly one place.

Every pattern lets each token see at least itself, so no row is ever fully masked
(a fully masked row would make softmax divide 0 by 0).

Which patterns look only backwards (causal, for a writer like GPT) and which look both
ways (bidirectional, for a reader like BERT) follows the paper each comes from; every
pattern where both make sense takes ``causal=``:

============== ============================== ================
pattern         from                           default
============== ============================== ================
causal          GPT (2018)                     causal
sliding_window  local attention, Mistral       causal
dilated         Longformer (dilated window)    causal
strided         Sparse Transformer (2019)      causal
fixed           Sparse Transformer (2019)      causal
global_local    Longformer (2020)              bidirectional
bigbird         BigBird (2020)                 bidirectional
padding         batches of unequal lengths     bidirectional
============== ============================== ================

A window of ``w`` always counts the token itself: causally it is the ``w`` most recent
tokens, bidirectionally every token less than ``w`` steps away on either side.
"""

from __future__ import annotations

import torch


def _offsets(T: int, device: torch.device | str | None) -> torch.Tensor:
    """(T, T) matrix of ``i - j``: how far key j lies behind query i."""
    position = torch.arange(T, device=device)
    return position[:, None] - position[None, :]  # (T, T)


def _direction(distance_ok: torch.Tensor, offsets: torch.Tensor, causal: bool) -> torch.Tensor:
    """Keep a distance rule looking back only (causal) or both ways (bidirectional)."""
    if causal:
        return distance_ok & (offsets >= 0)
    return distance_ok


def causal(T: int, *, n_past: int = 0, device: torch.device | str | None = None) -> torch.Tensor:
    """Each token sees itself and everything before it: lower triangle of ones.

    With ``n_past`` tokens already processed (a KV cache), the T new queries sit at
    positions ``n_past .. n_past + T - 1`` and the result has shape (T, n_past + T).
    """
    full = torch.ones(T, n_past + T, dtype=torch.bool, device=device)
    return full.tril(diagonal=n_past)


def sliding_window(T: int, w: int, *, causal: bool = True, device=None) -> torch.Tensor:
    """Each token sees the ``w`` nearest tokens, itself included (local attention)."""
    _check_positive(w=w)
    offsets = _offsets(T, device)
    return _direction(offsets.abs() < w, offsets, causal)


def dilated(T: int, w: int, d: int, *, causal: bool = True, device=None) -> torch.Tensor:
    """A window with gaps: ``w`` tokens, every ``d``-th one (itself, i-d, i-2d, ...)."""
    _check_positive(w=w, d=d)
    offsets = _offsets(T, device)
    on_grid = offsets.remainder(d) == 0
    return _direction(on_grid & (offsets.abs() < w * d), offsets, causal)


def strided(T: int, stride: int, *, causal: bool = True, device=None) -> torch.Tensor:
    """Sparse Transformer "strided": the last ``stride`` tokens plus every ``stride``-th one before.

    Two hops through this pattern reach any earlier token, which is why it works for
    images and music whose structure repeats with a period.
    """
    _check_positive(stride=stride)
    offsets = _offsets(T, device)
    local = offsets.abs() < stride
    column = offsets.remainder(stride) == 0
    return _direction(local | column, offsets, causal)


def fixed(T: int, block: int, *, n_summary: int = 1, causal: bool = True, device=None) -> torch.Tensor:
    """Sparse Transformer "fixed": everything in my own block, plus the last
    ``n_summary`` tokens of every block, which act as that block's summary."""
    _check_positive(block=block, n_summary=n_summary)
    position = torch.arange(T, device=device)
    block_id = position // block
    same_block = block_id[:, None] == block_id[None, :]  # (T, T)
    is_summary = (position % block) >= block - n_summary  # (T,) by key
    return _direction(same_block | is_summary[None, :], _offsets(T, device), causal)


def global_local(T: int, w: int, n_global: int, *, causal: bool = False, device=None) -> torch.Tensor:
    """Longformer: a sliding window for everyone, plus ``n_global`` tokens at the start
    (like [CLS]) that see every token and are seen by every token."""
    _check_positive(w=w)
    offsets = _offsets(T, device)
    local = offsets.abs() < w
    position = torch.arange(T, device=device)
    is_global = position < n_global
    allowed = local | is_global[:, None] | is_global[None, :]
    return _direction(allowed, offsets, causal)


def bigbird(
    T: int,
    w: int,
    n_global: int,
    n_random: int,
    seed: int = 0,
    *,
    causal: bool = False,
    device=None,
) -> torch.Tensor:
    """BigBird: window + global tokens + ``n_random`` random keys per query.

    The random keys come from a generator seeded with ``seed``, so the same arguments
    always give the same pattern. When causal, random keys are drawn from the past only.
    """
    allowed = global_local(T, w, n_global, causal=causal, device=device)
    if n_random > 0:
        generator = torch.Generator().manual_seed(seed)
        lottery = torch.rand(T, T, generator=generator).to(device)  # (T, T) one ticket per pair
        candidates = _offsets(T, device) >= 0 if causal else torch.ones_like(allowed)
        lottery = lottery.masked_fill(~candidates, -1.0)  # never draw a future key when causal
        winners = lottery.topk(min(n_random, T), dim=-1).indices  # (T, n_random)
        random_keys = torch.zeros_like(allowed).scatter_(1, winners, True) & candidates
        allowed = allowed | random_keys
    return allowed


def padding(lengths, T: int, *, causal: bool = False, device=None) -> torch.Tensor:
    """Batch mask for sequences of unequal length padded to T: (B, T, T).

    Real tokens never attend to padding. A padding query still sees the real tokens and
    itself (so its row is not empty); its output is ignored anyway. Add a head axis with
    ``padding(...)[:, None]`` to get (B, 1, T, T) for multi-head attention.
    """
    lengths = torch.as_tensor(lengths, device=device)
    position = torch.arange(T, device=lengths.device)
    real_key = position[None, :] < lengths[:, None]  # (B, T)
    allowed = real_key[:, None, :] | torch.eye(T, dtype=torch.bool, device=lengths.device)  # (B, T, T)
    if causal:
        allowed = allowed & _offsets(T, lengths.device).ge(0)
    return allowed


def density(mask: torch.Tensor) -> float:
    """Fraction of (query, key) pairs that are computed: 1.0 for full attention."""
    return mask.float().mean().item()


def receptive_field(mask: torch.Tensor, layers: int) -> torch.Tensor:
    """Which tokens can influence which after ``layers`` attention layers: bool (T, T).

    One layer lets i read j when ``mask[i, j]``. Two layers let i read j when some m
    exists with ``mask[i, m]`` and ``mask[m, j]``: the boolean matrix product. The
    residual path is already covered because every token sees itself.
    """
    if layers < 0:
        raise ValueError(f"layers must be 0 or more, got {layers}")
    reach = torch.eye(mask.shape[-1], dtype=torch.bool, device=mask.device)
    step = mask.float()
    for _ in range(layers):
        reach = (reach.float() @ step) > 0  # (T, T) boolean matrix product
    return reach


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
