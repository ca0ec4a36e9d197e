"""The translator page's experiment: one English sentence through three translators.

What it teaches, step by step:

* ``check_sentence``: the models know only the words of their grammar; any other word is
  named, and the sentence is refused rather than silently mistranslated;
* ``gru_translations`` / ``bottleneck_vector``: the two GRU encoder-decoders on the same
  sentence, and the single vector that is all the bottleneck model passes on;
* ``decoding_state``: the Transformer writing the translation one token per step (greedy,
  beam or sampled), with the candidates for the next token;
* ``attention_views``: its three attentions for a chosen layer and head: encoder self
  (bidirectional), decoder self (causal) and cross-attention (target rows, source columns);
* ``length_curves`` / ``alignment_summary``: what was measured on the held-out set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.pretrained.translator import (
    LENGTH_BUCKETS, MODEL_NAMES, STRATEGIES, TranslatorBundle, decode_steps, encode_source, greedy_batch,
)
from models.text.parallel import BOS, EOS, tokenize

MAX_WORDS = 45  # the Transformer holds 80 positions; German is up to ~1.5x longer than English
METRICS = ("exact_match", "bleu", "chrf")
MODELS = MODEL_NAMES  # bottleneck GRU, attention GRU, Transformer: the order of the page's legends
AVERAGE_HEAD = -1


@dataclass(frozen=True)
class SentenceCheck:
    words: tuple[str, ...]
    ids: tuple[int, ...]  # the words' ids and <eos>
    unknown: tuple[str, ...]  # words outside the vocabulary, in order, once each
    too_long: bool

    @property
    def usable(self) -> bool:
        return bool(self.words) and not self.unknown and not self.too_long


def check_sentence(bundle: TranslatorBundle, text: str) -> SentenceCheck:
    """Split typed text into the corpus's tokens; a missing final "." is added."""
    words = tokenize(text)
    if words and words[-1] != ".":
        words.append(".")
    index = bundle.source_index
    unknown = tuple(dict.fromkeys(word for word in words if word not in index))
    return SentenceCheck(tuple(words), tuple(encode_source(words, index)), unknown, len(words) > MAX_WORDS)


def gru_translations(bundle: TranslatorBundle, ids: tuple[int, ...]) -> dict[str, list[str]]:
    """Greedy translations by both GRUs and the Transformer, as German words."""
    source = torch.tensor([list(ids)])
    return {name: bundle.target_words(greedy_batch(model, source)[0]) for name, model in bundle.models.items()}


def bottleneck_vector(bundle: TranslatorBundle, ids: tuple[int, ...]) -> np.ndarray:
    """The bottleneck GRU's last encoder vector (H,): everything its decoder is told."""
    with torch.no_grad():
        _, summary, _ = bundle.models["gru_bottleneck"].encode(torch.tensor([list(ids)]))
    return summary[0].numpy()


@dataclass(frozen=True)
class DecodingState:
    written: tuple[str, ...]  # German tokens so far (no <bos>)
    prefix: tuple[int, ...]  # their ids with <bos> first
    finished: bool
    hit_limit: bool  # stopped by the length limit, not by <eos>
    candidates: tuple[tuple[str, float], ...]  # the next token's top choices and probabilities
    beams: tuple[tuple[str, float], ...]  # beam search: each kept hypothesis and its log-probability


def decoding_state(bundle: TranslatorBundle, ids: tuple[int, ...], steps: int, strategy: str,
                   beam: int = 3, temperature: float = 1.0, seed: int = 0) -> DecodingState:
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}")
    step = decode_steps(bundle.models["transformer"], list(ids), steps, strategy, beam=beam,
                        temperature=temperature, seed=seed)
    vocab = bundle.target_vocab
    return DecodingState(
        written=tuple(vocab[i] for i in step.prefix[1:]), prefix=step.prefix, finished=step.finished,
        hit_limit=step.finished and step.prefix[-1] != EOS,
        candidates=tuple((vocab[i], p) for i, p in step.candidates),
        beams=tuple((" ".join(bundle.target_words(ids_)), score) for ids_, score in step.beams))


@dataclass(frozen=True)
class AttentionViews:
    """One layer and head (or the head average) of the three attentions, as plain arrays."""

    source: tuple[str, ...]  # the encoder's tokens (words and <eos>)
    target_inputs: tuple[str, ...]  # the decoder's inputs: <bos> and the words written so far
    encoder_self: np.ndarray  # (S, S)
    decoder_self: np.ndarray  # (T, T), zero above the diagonal
    cross: np.ndarray  # (T, S): row t is the step that writes target word t + 1
    strongest_source: tuple[str, ...]  # per row, the source word the cross-attention looks at most


def attention_views(bundle: TranslatorBundle, ids: tuple[int, ...], prefix: tuple[int, ...],
                    layer: int, head: int) -> AttentionViews:
    """Teacher-force the words written so far and read the weights (``head=-1``: head average)."""
    model = bundle.models["transformer"]
    inputs = [token for token in prefix if token != EOS] or [BOS]
    trace = model.trace(torch.tensor([list(ids)]), torch.tensor([inputs]))

    def pick(weights: list[torch.Tensor]) -> np.ndarray:
        chosen = weights[layer][0]  # (H, rows, cols)
        return (chosen.mean(dim=0) if head == AVERAGE_HEAD else chosen[head]).numpy()

    source = tuple(bundle.source_vocab[i] for i in ids)
    cross = pick(trace.cross)
    return AttentionViews(source, tuple(bundle.target_vocab[i] for i in inputs), pick(trace.encoder_self),
                          pick(trace.decoder_self), cross, tuple(source[j] for j in cross.argmax(axis=-1)))


def length_curves(bundle: TranslatorBundle, metric: str) -> tuple[list[str], dict[str, list[float | None]]]:
    """Held-out ``metric`` per source-length bucket for every model (exact match in %)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}")
    buckets = [f"{low}-{high}" for low, high in LENGTH_BUCKETS]
    scale = 100.0 if metric == "exact_match" else 1.0
    curves = {}
    for name, entry in bundle.scores["models"].items():
        by_length = entry["by_length"]
        curves[name] = [by_length[b][metric] * scale if by_length[b].get("pairs") else None for b in buckets]
    return buckets, curves


@dataclass(frozen=True)
class AlignmentSummary:
    best_layer: int
    best_head: int
    best_accuracy: float
    all_heads_average: float
    layer_head_average: tuple[float, ...]
    per_head: np.ndarray  # (L, H)
    gru_attention: float


def alignment_summary(bundle: TranslatorBundle) -> AlignmentSummary:
    scores = bundle.scores["models"]
    alignment = scores["transformer"]["alignment"]
    best = alignment["best_head"]
    return AlignmentSummary(best["layer"], best["head"], best["accuracy"], alignment["all_heads_average"],
                            tuple(alignment["layer_head_average"]), np.asarray(alignment["per_head"]),
                            scores["gru_attention"]["alignment"]["attention"])


def headline(bundle: TranslatorBundle) -> dict[str, float]:
    """Exact match (%) in the training range, and on the longest trained bucket, per model."""
    out = {}
    for name, entry in bundle.scores["models"].items():
        out[f"{name}_train_range"] = 100 * entry["train_range"]["exact_match"]
        out[f"{name}_longest"] = 100 * entry["by_length"]["26-30"]["exact_match"]
    return out
