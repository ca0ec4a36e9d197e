"""Looking at a real model's attention: one view, whatever model produced it.

A model with L layers and H heads per layer gives, for a text of T tokens, L * H weight
matrices of shape (T, T): row i says how the token i spread its attention over the tokens
j it may see (each row sums to 1). The functions here take those matrices as plain data
(a list of per-layer tensors plus the token strings), check them with messages that say
how to fix a mistake, and derive what a page draws:

- ``head_matrix``         one head, or the average over a layer's heads
- ``hide_tokens``         drop special tokens ([CLS], [SEP], <|endoftext|>) from rows and
                          columns and renormalise each row, so the rest of the picture shows.
                          Many heads park most of their weight on [SEP]/[CLS] when "nothing
                          in particular" matters: hiding them reveals the smaller weights.
- ``top_links``           the strongest keys one token attends to, for lines in a head view
- ``pooled_grid``         every head of every layer, average-pooled to a small size so that a
                          grid of all of them stays light enough to send to a browser
- ``run_tiny_gpt`` / ``run_hf``  per-layer attentions of the bundled tiny GPT or of any
                          ``transformers`` model that can return them, capped at MAX_TOKENS
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MAX_TOKENS = 128  # longer texts are cut: 128 x 128 weights per head stay readable and fast
AVERAGE = -1  # head index meaning "average over the layer's heads"


@dataclass(frozen=True)
class AttentionStack:
    """Every attention weight of one forward pass, as numpy.

    weights: (L, H, T, T) float32, row = query token, column = key token.
    special: (T,) bool, True for tokens the tokenizer added ([CLS], [SEP], <|endoftext|>).
    causal:  True when the model only looks back (a writer).
    dropped: how many tokens were cut to stay within MAX_TOKENS.
    """

    tokens: list[str]
    ids: list[int]
    weights: np.ndarray
    special: np.ndarray
    causal: bool
    dropped: int = 0

    @property
    def n_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def n_heads(self) -> int:
        return self.weights.shape[1]


def stack_attentions(per_layer, tokens: list[str]) -> np.ndarray:
    """Per-layer weights, each (H, T, T) or (1, H, T, T), as one (L, H, T, T) float32 array.

    Raises ValueError with a hint when shapes do not agree with the tokens.
    """
    if len(per_layer) == 0:
        raise ValueError("no attention weights: ask the model for them (output_attentions=True or model.trace)")
    layers = []
    for index, layer in enumerate(per_layer):
        array = layer.detach().float().cpu().numpy() if isinstance(layer, torch.Tensor) else np.asarray(layer, float)
        if array.ndim == 4:
            if array.shape[0] != 1:
                raise ValueError(f"layer {index} has batch size {array.shape[0]}; pass one text at a time")
            array = array[0]
        if array.ndim != 3 or array.shape[1] != array.shape[2]:
            raise ValueError(f"layer {index} has shape {array.shape}; expected (heads, T, T)")
        if array.shape[1] != len(tokens):
            raise ValueError(f"layer {index} covers {array.shape[1]} tokens but {len(tokens)} token strings were given")
        layers.append(array)
    if len({layer.shape for layer in layers}) != 1:
        raise ValueError("layers disagree in shape; every layer must have the same number of heads")
    return np.stack(layers).astype(np.float32)


def cap_ids(ids: list[int], max_tokens: int = MAX_TOKENS) -> tuple[list[int], int]:
    """The first ``max_tokens`` ids and how many were dropped."""
    return list(ids[:max_tokens]), max(len(ids) - max_tokens, 0)


def head_matrix(weights: np.ndarray, layer: int, head: int) -> np.ndarray:
    """(T, T) weights of one head, or the mean over the layer's heads when head == AVERAGE.

    The mean of rows that each sum to 1 still sums to 1, so the average is a distribution too.
    """
    if not 0 <= layer < weights.shape[0]:
        raise ValueError(f"layer {layer} does not exist; the model has {weights.shape[0]} layers")
    if head == AVERAGE:
        return weights[layer].mean(axis=0)
    if not 0 <= head < weights.shape[1]:
        raise ValueError(f"head {head} does not exist; layers have {weights.shape[1]} heads")
    return weights[layer, head]


def hide_tokens(matrix: np.ndarray, hidden: np.ndarray, renormalise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Remove the ``hidden`` tokens from the last two axes (query rows, key columns) of
    a (..., T, T) array.

    Returns (smaller array, indices of the kept tokens). With ``renormalise`` each row is
    divided by what is left of it, so it sums to 1 again; a row whose whole weight sat on
    hidden tokens has nothing left and stays 0.
    """
    kept = np.flatnonzero(~np.asarray(hidden, dtype=bool))
    part = matrix[..., kept, :][..., kept]
    if renormalise:
        totals = part.sum(axis=-1, keepdims=True)
        part = np.divide(part, totals, out=np.zeros_like(part), where=totals > 0)
    return part, kept


def shown_matrix(stack: AttentionStack, layer: int, head: int, hide_special: bool) -> tuple[np.ndarray, np.ndarray]:
    """What a heatmap of one head (or the layer average) shows: (matrix, kept token indices)."""
    matrix = head_matrix(stack.weights, layer, head)
    if hide_special:
        return hide_tokens(matrix, stack.special)
    return matrix, np.arange(matrix.shape[0])


def shown_grid(stack: AttentionStack, hide_special: bool, max_side: int = 32) -> tuple[np.ndarray, int]:
    """Every head of every layer for the small-multiples grid, pooled to at most max_side."""
    weights = hide_tokens(stack.weights, stack.special)[0] if hide_special else stack.weights
    return pooled_grid(weights, max_side)


def top_links(row: np.ndarray, k: int, min_weight: float = 0.0) -> list[tuple[int, float]]:
    """The ``k`` largest weights of one query row as (key index, weight), strongest first,
    leaving out weights below ``min_weight``."""
    order = np.argsort(-row, kind="stable")[:k]
    return [(int(j), float(row[j])) for j in order if row[j] >= min_weight and row[j] > 0]


def _pool_edges(T: int, size: int) -> np.ndarray:
    return np.linspace(0, T, size + 1).round().astype(int)


def pooled_grid(weights: np.ndarray, max_side: int = 32) -> tuple[np.ndarray, int]:
    """(L, H, S, S) with S = min(T, max_side): each cell the mean of a block of the original.

    Returns the pooled weights and the number of tokens per cell (1 when nothing was pooled).
    Block means keep every row summing to (about) the block width's share, so the picture
    keeps its shape: diagonals stay diagonals, columns stay columns.
    """
    L, H, T, _ = weights.shape
    if T <= max_side:
        return weights, 1
    edges = _pool_edges(T, max_side)
    rows = np.add.reduceat(weights, edges[:-1], axis=2)  # (L, H, S, T) sums over row blocks
    cells = np.add.reduceat(rows, edges[:-1], axis=3)  # (L, H, S, S)
    sizes = np.diff(edges)
    cells = cells / (sizes[:, None] * sizes[None, :])
    return cells.astype(np.float32), int(np.ceil(T / max_side))


def head_summary(weights: np.ndarray, special: np.ndarray) -> dict[str, np.ndarray]:
    """Per layer and head (L, H): mean entropy of the rows (bits: low = focused, high = spread),
    the share of weight on the token itself, on the previous token, and on special tokens."""
    T = weights.shape[-1]
    safe = np.clip(weights, 1e-12, 1.0)
    entropy = -(weights * np.log2(safe)).sum(axis=-1).mean(axis=-1)
    diagonal = np.diagonal(weights, axis1=-2, axis2=-1).mean(axis=-1)
    previous = np.diagonal(weights, offset=-1, axis1=-2, axis2=-1).mean(axis=-1) if T > 1 else np.zeros_like(diagonal)
    on_special = weights[..., np.asarray(special, dtype=bool)].sum(axis=-1).mean(axis=-1)
    return {"entropy": entropy, "self": diagonal, "previous": previous, "special": on_special}


# -- running models -----------------------------------------------------------------------


@torch.inference_mode()
def run_tiny_gpt(model, tokens: list[str], ids: list[int], special: list[bool]) -> AttentionStack:
    """Per-layer attention of the bundled tiny GPT (causal) on ``ids``, capped at MAX_TOKENS
    and at the model's context length."""
    limit = min(MAX_TOKENS, model.config.block_size)
    kept, dropped = cap_ids(ids, limit)
    if not kept:
        raise ValueError("no tokens to run")
    device = next(model.parameters()).device
    trace = model.trace(torch.tensor([kept], dtype=torch.long, device=device))
    n = len(kept)
    weights = stack_attentions(trace.attentions, tokens[:n])
    return AttentionStack(list(tokens[:n]), kept, weights, np.asarray(special[:n], dtype=bool), True, dropped)


@torch.inference_mode()
def run_hf(model, tokenizer, text: str, causal: bool | None = None) -> AttentionStack:
    """Per-layer attention of a ``transformers`` model and its tokenizer on ``text``.

    The tokenizer adds its special tokens ([CLS] ... [SEP] for BERT-like models); the text is
    cut to MAX_TOKENS tokens, special ones included. ``causal`` defaults to the model's own
    ``config.is_decoder`` / architecture. Needs a model that returns attentions: load it with
    ``attn_implementation="eager"``.
    """
    encoded = tokenizer(text, return_special_tokens_mask=True, truncation=False)
    ids, dropped = cap_ids(encoded["input_ids"], MAX_TOKENS)
    special = encoded["special_tokens_mask"][: len(ids)]
    if not ids:
        raise ValueError("no tokens to run")
    device = next(model.parameters()).device
    idx = torch.tensor([ids], dtype=torch.long, device=device)
    output = model(input_ids=idx, attention_mask=torch.ones_like(idx), output_attentions=True)
    attentions = getattr(output, "attentions", None)
    if not attentions or attentions[0] is None:
        raise ValueError("this model did not return attention weights; load it with attn_implementation='eager'")
    tokens = tokenizer.convert_ids_to_tokens(ids)
    weights = stack_attentions(attentions, tokens)
    if causal is None:
        causal = bool(np.allclose(np.triu(weights, k=1), 0.0)) if len(ids) > 1 else False
    return AttentionStack(list(tokens), ids, weights, np.asarray(special, dtype=bool), causal, dropped)
