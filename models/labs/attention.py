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
- ``from_model_run``      the attentions a MiniLM / user model run already returned
                          (``models.pretrained.interface.ModelRun``), as an AttentionStack
- ``run_tiny_gpt``        per-layer attentions of any of our GPTs on given ids, capped at MAX_TOKENS
                          (the tests hold the page's ``TinyGPTModel.run`` to it)

Loading and running transformers models is not done here: ``models.pretrained.minilm`` and
``models.pretrained.user_model`` do it, and hand over plain arrays and token strings.
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


def default_query(tokens: list[str], kept: np.ndarray, word: str = "it") -> int:
    """Position (among the kept tokens) to follow first: the first ``word`` if there is one
    (a pronoun shows coreference heads at work), otherwise the last token."""
    return next((n for n, i in enumerate(kept) if tokens[i].strip().lower() == word), len(kept) - 1)


def visible_keys(n_tokens: int, query: int, causal: bool) -> list[bool]:
    """Which keys the query may see: all of them for a reader, itself and earlier ones for a writer."""
    return [not causal or key <= query for key in range(n_tokens)]


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


def from_model_run(run) -> AttentionStack:
    """An AttentionStack from what a model run returned: ``tokens``, ``ids``, ``special``,
    ``attentions`` (L, H, T, T), ``is_causal`` and ``total_tokens`` (``models.pretrained.interface.ModelRun``)."""
    weights = stack_attentions(list(run.attentions), list(run.tokens))
    if len(run.special) != len(run.tokens):
        raise ValueError(f"{len(run.special)} special-token flags for {len(run.tokens)} tokens; give one per token")
    return AttentionStack(list(run.tokens), list(run.ids), weights, np.asarray(run.special, dtype=bool),
                          bool(run.is_causal), max(int(run.total_tokens) - len(run.ids), 0))
