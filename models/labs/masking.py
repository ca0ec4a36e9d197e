"""Masks on a real model: the same weights reading both ways, and the proof that the causal mask hides the future.

A decoder (GPT, a writer) must not peek at words it has not written yet: position i may
only attend to positions 0..i. An encoder (BERT, a reader) sees the whole sentence. The
difference is only the mask handed to attention, so the same trained weights can run
either way (:func:`compare_masks`).

The proof (:func:`edit_proof`): change a later token. With the causal mask every earlier
position computes exactly the same numbers as before, bit for bit, because the changed
token's keys and values get weight exactly 0 (models.core.attention adds -inf before the
softmax). Without the mask the change leaks into every position.

Padding (:func:`padding_batch`): sentences of different lengths share one batch by
filling the short one with a filler token, and a padding mask (models.core.masks.padding)
keeps every real token from attending to the filler.

Both runs of a comparison have the same length (the shorter sequence is padded and the
padding masked), so the numbers are computed by exactly the same kernels and any
difference is caused by the tokens, not by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.core import masks
from models.pretrained.tokens import encode_in_place

MAX_TOKENS = 32  # long enough for two sentences, short enough to read every cell


def _run(model, ids: list[list[int]], lengths: list[int], *, causal: bool):
    """Trace ``ids`` (already padded to one length) with the padding mask, causal or not."""
    device = model.wte.weight.device
    idx = torch.tensor(ids, dtype=torch.long, device=device)  # (B, T)
    mask = masks.padding(lengths, idx.size(1), causal=causal, device=device)  # (B, T, T)
    return model.trace(idx, mask=mask), mask


def _pad(ids: list[int], length: int, pad_id: int) -> list[int]:
    return list(ids) + [pad_id] * (length - len(ids))


@dataclass(frozen=True)
class MaskComparison:
    """The same weights on one sentence, bidirectional (reader) and causal (writer)."""

    full_mask: np.ndarray  # (T, T) bool, all True
    causal_mask: np.ndarray  # (T, T) bool, lower triangle
    full_weights: np.ndarray  # (L, H, T, T)
    causal_weights: np.ndarray  # (L, H, T, T)

    @property
    def n_layers(self) -> int:
        return self.full_weights.shape[0]

    @property
    def n_heads(self) -> int:
        return self.full_weights.shape[1]

    def future_weight(self, layer: int, head: int) -> tuple[float, float]:
        """Total weight that queries put on later positions: (bidirectional, causal); causal is 0."""
        later = ~self.causal_mask
        return (float(self.full_weights[layer, head][later].sum()),
                float(self.causal_weights[layer, head][later].sum()))


@torch.no_grad()
def compare_masks(model, ids: list[int]) -> MaskComparison:
    """Run the model on ``ids`` with a full mask and with the causal mask."""
    if not ids:
        raise ValueError("no tokens to attend to")
    T = len(ids)
    full, full_mask = _run(model, [ids], [T], causal=False)
    causal, causal_mask = _run(model, [ids], [T], causal=True)
    return MaskComparison(
        full_mask=full_mask[0].cpu().numpy(),
        causal_mask=causal_mask[0].cpu().numpy(),
        full_weights=torch.stack(full.attentions)[:, 0].float().cpu().numpy(),  # (L, H, T, T)
        causal_weights=torch.stack(causal.attentions)[:, 0].float().cpu().numpy(),
    )


@dataclass(frozen=True)
class EditProof:
    """How much each position's output moved when some tokens were edited."""

    first_changed: int | None  # first position whose token differs; None = same tokens
    compared: int  # positions compared: the length of the shorter sequence
    causal_delta: np.ndarray  # (compared,) max |change| of the final hidden state, causal mask
    full_delta: np.ndarray  # (compared,) the same without the mask
    causal_layer_delta: np.ndarray  # (L, compared) per block output
    full_layer_delta: np.ndarray  # (L, compared)

    @property
    def before_edit(self) -> int:
        """How many positions come before the first edit."""
        return self.compared if self.first_changed is None else min(self.first_changed, self.compared)

    @property
    def causal_before_max(self) -> float:
        """Largest change before the edit with the causal mask: exactly 0.0."""
        return float(self.causal_delta[: self.before_edit].max(initial=0.0))

    @property
    def full_before_max(self) -> float:
        """Largest change before the edit without the mask."""
        return float(self.full_delta[: self.before_edit].max(initial=0.0))


def first_difference(a: list[int], b: list[int]) -> int | None:
    """Index of the first position where the two sequences differ (a length change counts)."""
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return index
    return None if len(a) == len(b) else min(len(a), len(b))


@torch.no_grad()
def edit_proof(model, original: list[int], edited: list[int], pad_id: int) -> EditProof:
    """Max |change| per position between the two sequences, with and without the causal mask."""
    if not original or not edited:
        raise ValueError("both sequences need at least one token")
    T = max(len(original), len(edited))
    compared = min(len(original), len(edited))
    batch = [_pad(original, T, pad_id), _pad(edited, T, pad_id)]
    lengths = [len(original), len(edited)]
    deltas = {}
    for causal in (True, False):
        deltas[causal] = []
        for index in range(2):  # one sequence per run: identical shapes, identical kernels
            trace, _ = _run(model, [batch[index]], [lengths[index]], causal=causal)
            deltas[causal].append(trace)
    results = {}
    for causal, (before, after) in deltas.items():
        states_before = [*before.hidden_states, before.final_hidden]
        states_after = [*after.hidden_states, after.final_hidden]
        per_state = torch.stack([(a - b)[0, :compared].abs().amax(dim=-1)
                                 for a, b in zip(states_after, states_before)])  # (L + 1, compared)
        results[causal] = per_state.float().cpu().numpy()
    return EditProof(
        first_changed=first_difference(original, edited),
        compared=compared,
        causal_delta=results[True][-1],
        full_delta=results[False][-1],
        causal_layer_delta=results[True][:-1],
        full_layer_delta=results[False][:-1],
    )


@dataclass(frozen=True)
class PaddingBatch:
    """Two sentences in one batch, the short one filled up and masked."""

    lengths: list[int]
    length: int  # T, the padded length
    mask: np.ndarray  # (2, T, T) bool
    weights: np.ndarray  # (2, L, H, T, T)
    alone_delta: list[float]  # per sentence: max |change| of its real tokens' outputs, batched vs alone
    pad_weight: list[float]  # per sentence: largest weight any real query puts on padding (0)

    @property
    def n_layers(self) -> int:
        return self.weights.shape[1]

    @property
    def n_heads(self) -> int:
        return self.weights.shape[2]


@torch.no_grad()
def padding_batch(model, first: list[int], second: list[int], pad_id: int, *, causal: bool) -> PaddingBatch:
    """Batch two sentences with a padding mask; compare each with the sentence run alone."""
    if not first or not second:
        raise ValueError("both sentences need at least one token")
    lengths = [len(first), len(second)]
    T = max(lengths)
    batched, mask = _run(model, [_pad(first, T, pad_id), _pad(second, T, pad_id)], lengths, causal=causal)
    weights = torch.stack(batched.attentions, dim=1)  # (2, L, H, T, T)
    alone_delta, pad_weight = [], []
    for row, ids in enumerate((first, second)):
        alone, _ = _run(model, [ids], [len(ids)], causal=causal)
        n = len(ids)
        alone_delta.append(float((batched.final_hidden[row, :n] - alone.final_hidden[0]).abs().max()))
        pad_weight.append(float(weights[row, :, :, :n, n:].max()) if n < T else 0.0)
    return PaddingBatch(
        lengths=lengths,
        length=T,
        mask=mask.cpu().numpy(),
        weights=weights.float().cpu().numpy(),
        alone_delta=alone_delta,
        pad_weight=pad_weight,
    )


def replace_token(ids: list[int], position: int, replacement: list[int]) -> list[int]:
    """``ids`` with the token at ``position`` swapped for ``replacement`` (any number of tokens)."""
    if not 0 <= position < len(ids):
        raise ValueError(f"position {position} is outside 0..{len(ids) - 1}")
    return list(ids[:position]) + list(replacement) + list(ids[position + 1:])


def replace_word(ids: list[int], tokens: list[str], position: int, word: str, encode) -> list[int]:
    """``ids`` with the token at ``position`` replaced by the tokens ``encode(word)`` gives; the word
    takes over the replaced token's leading space, so " it" -> " she" rather than "she"."""
    return replace_token(ids, position, encode_in_place(tokens, position, word, encode))
