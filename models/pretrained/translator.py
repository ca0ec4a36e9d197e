"""The three bundled translators (English -> German), how they write, and how they are scored.

``python -m models.train translator`` trains them on the generated corpus of
models.text.parallel and writes ``assets/translator/``:

* ``gru_bottleneck/``, ``gru_attention/``, ``transformer/``: ``config.json`` and
  ``model.safetensors`` (float16) each, and ``train_log.json``;
* ``vocab.json`` (both vocabularies), ``heldout.json`` (the held-out pairs with their true
  alignment) and ``scores.json`` (everything measured on them).

Writing a translation is a loop: encode the source once, then ask the decoder for the
next word given the words so far, append it, and repeat until it writes ``<eos>``. Which
word to append is the decoding strategy: ``greedy`` (the most likely), ``beam`` (keep the
``beam`` best partial translations and extend each) or ``sample`` (draw one at random from
the softmax, seeded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from models.core.encoder_decoder import EncoderDecoder, EncoderDecoderConfig
from models.core.rnn_seq2seq import GRUSeq2Seq, GRUSeq2SeqConfig
from models.text.parallel import BOS, EOS, PAD, UNK, TRAIN_MAX_WORDS, Pair, n_words

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "translator"
MODEL_NAMES = ("gru_bottleneck", "gru_attention", "transformer")
STRATEGIES = ("greedy", "beam", "sample")
LENGTH_BUCKETS = ((3, 5), (6, 10), (11, 15), (16, 20), (21, 25), (26, 30), (31, 35), (36, 40))
MAX_NEW_TOKENS = 70


def build_model(name: str, config: dict) -> torch.nn.Module:
    if name == "transformer":
        return EncoderDecoder(EncoderDecoderConfig(**config))
    return GRUSeq2Seq(GRUSeq2SeqConfig(**config))


def encode_source(words: list[str], vocab: dict[str, int]) -> list[int]:
    """English words -> ids, then <eos>. Unknown words become <unk>."""
    return [vocab.get(word, UNK) for word in words] + [EOS]


def pad_batch(rows: list[list[int]]) -> torch.Tensor:
    """Rows of ids -> (B, L) padded on the right with <pad>."""
    width = max(len(row) for row in rows)
    return torch.tensor([row + [PAD] * (width - len(row)) for row in rows], dtype=torch.long)


def _encode(model, source):
    """What the decoder needs from the encoder, for either model kind."""
    if isinstance(model, EncoderDecoder):
        memory, source_mask, _ = model.encode(source)
        return memory, source_mask
    return model.encode(source)


def _next_log_probs(model, encoded, prefix: torch.Tensor) -> torch.Tensor:
    """log-softmax over the target vocabulary for the word after ``prefix`` (B, T): (B, V)."""
    logits = model.decode(prefix, *encoded)[0][:, -1]
    return torch.log_softmax(logits.float(), dim=-1)


def _select(encoded, index: torch.Tensor):
    return tuple(part[index] for part in encoded)


@torch.no_grad()
def greedy_batch(model, source: torch.Tensor, max_new_tokens: int = MAX_NEW_TOKENS) -> list[list[int]]:
    """Greedy translations of a padded batch (B, S) -> target ids without <bos>/<eos>."""
    encoded = _encode(model, source)
    prefix = torch.full((source.size(0), 1), BOS, dtype=torch.long)
    done = torch.zeros(source.size(0), dtype=torch.bool)
    for _ in range(max_new_tokens):
        next_ids = _next_log_probs(model, encoded, prefix).argmax(dim=-1)
        next_ids = torch.where(done, torch.full_like(next_ids, PAD), next_ids)
        prefix = torch.cat([prefix, next_ids[:, None]], dim=1)
        done |= next_ids == EOS
        if done.all():
            break
    return [[i for i in row[1:] if i not in (PAD, EOS)] for row in _cut_at_eos(prefix.tolist())]


def _cut_at_eos(rows: list[list[int]]) -> list[list[int]]:
    return [row[: row.index(EOS)] if EOS in row else row for row in rows]


@dataclass(frozen=True)
class DecodeStep:
    """The state after ``len(prefix) - 1`` steps of one strategy.

    prefix: target ids so far, <bos> first (for beam: the best beam); finished: <eos> written
    or MAX_NEW_TOKENS reached;
    candidates: the next word's top (id, probability) pairs given ``prefix``;
    beams: for beam search, every kept (ids, total log-probability).
    """

    prefix: tuple[int, ...]
    finished: bool
    candidates: tuple[tuple[int, float], ...]
    beams: tuple[tuple[tuple[int, ...], float], ...]


@torch.no_grad()
def decode_steps(model, source_ids: list[int], steps: int, strategy: str = "greedy", beam: int = 3,
                 temperature: float = 1.0, seed: int = 0, top: int = 5) -> DecodeStep:
    """Run ``steps`` decoding steps from scratch (cheap for tiny models, and reproducible)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
    source = torch.tensor([source_ids])
    encoded = _encode(model, source)
    generator = torch.Generator().manual_seed(seed)
    beams: list[tuple[tuple[int, ...], float]] = [((BOS,), 0.0)]
    for _ in range(min(steps, MAX_NEW_TOKENS)):
        alive = [b for b in beams if b[0][-1] != EOS]
        if not alive:
            break
        if strategy == "beam":
            beams = _beam_step(model, encoded, beams, beam)
            continue
        prefix, score = beams[0]
        log_probs = _next_log_probs(model, encoded, torch.tensor([prefix]))[0]
        if strategy == "greedy":
            chosen = int(log_probs.argmax())
        else:
            probs = torch.softmax(log_probs / max(temperature, 1e-4), dim=-1)
            chosen = int(torch.multinomial(probs, 1, generator=generator))
        beams = [(prefix + (chosen,), score + float(log_probs[chosen]))]
    best = beams[0][0]
    finished = best[-1] == EOS or len(best) > MAX_NEW_TOKENS  # <eos>, or the length limit
    candidates: tuple = ()
    if not finished:
        probs = torch.exp(_next_log_probs(model, encoded, torch.tensor([best]))[0])
        values, ids = probs.topk(top)
        candidates = tuple((int(i), float(v)) for i, v in zip(ids, values))
    return DecodeStep(best, finished, candidates, tuple(beams) if strategy == "beam" else ())


def _beam_step(model, encoded, beams, width: int):
    """Extend every unfinished beam by every word, keep the ``width`` best totals."""
    extended = [b for b in beams if b[0][-1] == EOS]
    alive = [b for b in beams if b[0][-1] != EOS]
    prefixes = torch.tensor([b[0] for b in alive])
    log_probs = _next_log_probs(model, _select(encoded, torch.zeros(len(alive), dtype=torch.long)), prefixes)
    values, ids = log_probs.topk(width, dim=-1)
    for (prefix, score), row_values, row_ids in zip(alive, values.tolist(), ids.tolist()):
        extended += [(prefix + (i,), score + v) for i, v in zip(row_ids, row_values)]
    return sorted(extended, key=lambda b: -b[1])[:width]


# -- scoring ---------------------------------------------------------------------------------


def bucket_of(n: int) -> str:
    for low, high in LENGTH_BUCKETS:
        if low <= n <= high:
            return f"{low}-{high}"
    return f"{LENGTH_BUCKETS[-1][1] + 1}+"


def score_translations(pairs: list[Pair], hypotheses: list[list[str]]) -> dict:
    """Exact match, BLEU and chrF (sacrebleu) overall, in the training range and per length bucket."""
    import sacrebleu

    def summary(indices: list[int]) -> dict:
        if not indices:
            return {"pairs": 0}
        refs = [" ".join(pairs[i].target) for i in indices]
        hyps = [" ".join(hypotheses[i]) for i in indices]
        exact = sum(h == r for h, r in zip(hyps, refs)) / len(indices)
        return {"pairs": len(indices), "exact_match": exact,
                "bleu": sacrebleu.corpus_bleu(hyps, [refs], tokenize="none", force=True).score,  # words are pre-split
                "chrf": sacrebleu.corpus_chrf(hyps, [refs]).score}

    everything = list(range(len(pairs)))
    in_range = [i for i in everything if n_words(pairs[i]) <= TRAIN_MAX_WORDS]
    buckets = {}
    for low, high in LENGTH_BUCKETS:
        buckets[f"{low}-{high}"] = summary([i for i in everything if low <= n_words(pairs[i]) <= high])
    return {"all": summary(everything), "train_range": summary(in_range), "by_length": buckets}


def alignment_accuracy(cross: np.ndarray, alignments: list[tuple[int, ...]]) -> np.ndarray:
    """How often each head's strongest source word is the truly aligned one.

    cross: per pair an array (L, H, T, S) of cross-attention weights where row t is the step
    that *wrote* target word t (its input is the word before); alignments: per pair the true
    source index of each target word (-1: none). Returns (L, H) accuracies; the head average
    is scored as an extra last head (index H).
    """
    hits, total = None, 0
    for weights, alignment in zip(cross, alignments):
        with_average = np.concatenate([weights, weights.mean(axis=1, keepdims=True)], axis=1)  # (L, H+1, T, S)
        rows = [t for t, source in enumerate(alignment) if source >= 0]
        strongest = with_average[:, :, rows, :].argmax(axis=-1)  # (L, H+1, rows)
        truth = np.asarray([alignment[t] for t in rows])
        counts = (strongest == truth).sum(axis=-1)
        hits = counts if hits is None else hits + counts
        total += len(rows)
    return hits / max(total, 1)


@dataclass(frozen=True)
class TranslatorBundle:
    """The three models with both vocabularies and what was measured; shared and read-only."""

    models: dict
    source_vocab: tuple[str, ...]
    target_vocab: tuple[str, ...]
    scores: dict
    train_logs: dict

    @property
    def source_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.source_vocab)}

    def target_words(self, ids) -> list[str]:
        return [self.target_vocab[i] for i in ids if i not in (PAD, BOS, EOS)]


def load_model(name: str, asset_dir: Path = ASSET_DIR) -> torch.nn.Module:
    from safetensors.torch import load_file

    folder = asset_dir / name
    config = json.loads((folder / "config.json").read_text())
    model = build_model(name, config)
    state = {key: value.float() for key, value in load_file(folder / "model.safetensors").items()}
    model.load_state_dict(state)
    model.eval().requires_grad_(False)
    return model


@lru_cache(maxsize=2)
def load_translators(asset_dir: Path = ASSET_DIR) -> TranslatorBundle:
    vocab = json.loads((asset_dir / "vocab.json").read_text())
    models = {name: load_model(name, asset_dir) for name in MODEL_NAMES}
    logs = {name: json.loads((asset_dir / name / "train_log.json").read_text()) for name in MODEL_NAMES}
    scores = json.loads((asset_dir / "scores.json").read_text())
    return TranslatorBundle(models, tuple(vocab["source"]), tuple(vocab["target"]), scores, logs)


def load_heldout(asset_dir: Path = ASSET_DIR) -> list[Pair]:
    rows = json.loads((asset_dir / "heldout.json").read_text())
    return [Pair(tuple(r["source"]), tuple(r["target"]), tuple(r["alignment"])) for r in rows]
