"""How good is a language model? Held-out perplexity, and a baseline to compare it with.

Perplexity is exp(mean negative log-likelihood per token): a model with perplexity 50 is,
on average, as unsure as if it picked uniformly among 50 tokens. It only means something
next to a baseline on the very same tokens; here that is a unigram model, which ignores
context and predicts every token by how often it appeared in the training text.

The held-out token stream is cut into non-overlapping windows of ``block_size + 1``
tokens; in each window every token after the first is predicted from the ones before
it inside that window. Windows are numbered from 0, so "the first 4 windows" is an exact,
reproducible subset.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def window_starts(n_tokens: int, block_size: int) -> list[int]:
    """Start offsets of the non-overlapping evaluation windows (the last one may be shorter)."""
    return list(range(0, max(n_tokens - 1, 0), block_size))


def target_tokens(ids: np.ndarray, block_size: int, max_windows: int | None = None) -> np.ndarray:
    """The tokens that get predicted by the windows: every token but the first of each window."""
    starts = window_starts(len(ids), block_size)[:max_windows]
    return np.concatenate([ids[start + 1: start + block_size + 1] for start in starts])


@torch.inference_mode()
def heldout_nll(model, ids: np.ndarray, block_size: int, *, max_windows: int | None = None,
                batch_size: int = 16, device: torch.device | str | None = None,
                autocast_dtype: torch.dtype | None = None) -> tuple[float, int]:
    """Mean negative log-likelihood (nats per token) of ``model`` on the windows of ``ids``;
    returns (mean, number of predicted tokens). ``model.forward(idx)`` gives (logits, cache)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    starts = window_starts(len(ids), block_size)[:max_windows]
    total, count = 0.0, 0
    full = [s for s in starts if s + block_size + 1 <= len(ids)]
    tail = [s for s in starts if s + block_size + 1 > len(ids)]
    stream = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    batches = [full[i: i + batch_size] for i in range(0, len(full), batch_size)] + [[s] for s in tail]
    for batch in batches:
        windows = torch.stack([stream[s: s + block_size + 1] for s in batch]).to(device)  # (B, T+1)
        inputs, targets = windows[:, :-1], windows[:, 1:]
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits, _ = model(inputs)  # (B, T, vocab)
        nll = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), reduction="sum")
        total += nll.item()
        count += targets.numel()
    model.train(was_training)
    return total / max(count, 1), count


def unigram_nll(train_ids: np.ndarray, targets: np.ndarray, vocab_size: int, smoothing: float = 1.0) -> float:
    """Mean negative log-likelihood of ``targets`` under token frequencies counted in
    ``train_ids``, with add-``smoothing`` counts so unseen tokens keep a small probability."""
    counts = np.bincount(np.asarray(train_ids, dtype=np.int64), minlength=vocab_size).astype(np.float64)
    probs = (counts + smoothing) / (counts.sum() + smoothing * vocab_size)
    return float(-np.log(probs[np.asarray(targets, dtype=np.int64)]).mean())


def perplexity(nll: float) -> float:
    return math.exp(nll)
