"""The whole path from text to the next token, summarised for the Overview page.

A decoder-only model reads token ids, turns them into vectors, passes them through
N blocks (each one adds an update to every token's vector: the residual stream), and
the LM head turns the last token's vector into a probability for every vocabulary token.
This module also draws who may attend to whom in the three Transformer families.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.core import masks


@dataclass(frozen=True)
class FamilyView:
    """Which keys each query may attend to, for one model family (True = may attend)."""

    allowed: np.ndarray  # (queries, keys) bool
    query_labels: list[str]
    key_labels: list[str]


def family_attention_views(n_source: int, n_target: int) -> dict[str, FamilyView]:
    """Encoder-only reads everything, decoder-only reads only the past, and an
    encoder-decoder's decoder reads the whole source plus its own past."""
    source = [f"x{i + 1}" for i in range(n_source)]
    target = [f"y{i + 1}" for i in range(n_target)]
    encoder = np.ones((n_source, n_source), dtype=bool)
    decoder = masks.causal(n_target).numpy()
    cross = np.concatenate([np.ones((n_target, n_source), dtype=bool), decoder], axis=1)
    return {
        "encoder": FamilyView(encoder, source, source),
        "decoder": FamilyView(decoder, target, target),
        "encoder_decoder": FamilyView(cross, target, source + target),
    }


@dataclass(frozen=True)
class NextTokenView:
    """What the Overview pipeline draws for one prompt."""

    ids: list[int]
    embeddings: np.ndarray  # (T, C) the input vectors (token + position where the model adds one)
    update_norms: np.ndarray  # (n_layer, T) size of what each block adds to each token's vector
    top_ids: list[int]
    top_probs: list[float]
    total_vocab: int


@torch.inference_mode()
def next_token_view(model, ids: list[int], top: int = 10) -> NextTokenView:
    """Run the model once on ``ids`` and collect the numbers the pipeline figure shows."""
    device = next(model.parameters()).device
    idx = torch.tensor([ids], dtype=torch.long, device=device)  # (1, T)
    trace = model.trace(idx)
    states = [trace.input_embeddings, *trace.hidden_states]  # each (1, T, C)
    updates = torch.stack([after - before for before, after in zip(states[:-1], states[1:])])  # (L, 1, T, C)
    probs = torch.softmax(trace.logits[0, -1].float(), dim=-1)  # (V,)
    top_probs, top_ids = probs.topk(min(top, probs.numel()))
    return NextTokenView(
        ids=list(ids),
        embeddings=trace.input_embeddings[0].float().cpu().numpy(),
        update_norms=updates[:, 0].norm(dim=-1).float().cpu().numpy(),
        top_ids=top_ids.tolist(),
        top_probs=top_probs.tolist(),
        total_vocab=probs.numel(),
    )


@torch.inference_mode()
def choose_next_token(model, ids: list[int], *, greedy: bool, seed: int) -> int:
    """The token the Overview's buttons append: the most likely one, or a seeded draw."""
    from models.core.sampling import next_token_probs, sample

    device = next(model.parameters()).device
    logits, _ = model(torch.tensor([ids], dtype=torch.long, device=device))  # (1, T, V)
    probs = next_token_probs(logits[0, -1].float(), temperature=0.0 if greedy else 1.0)
    generator = torch.Generator(device=probs.device).manual_seed(seed)
    return int(sample(probs, generator).item())
