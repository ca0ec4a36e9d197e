"""Train and score the three bundled translators: ``python -m models.train translator``.

Same corpus, same batches (drawn by a generator seeded with the step), same number of steps
for the two GRUs, so their accuracy curves differ only by what crosses from encoder to
decoder. The Transformer gets its own learning-rate schedule (post-norm needs a warm-up).
CPU only, ``torch.set_num_threads(threads)``; wall times and threads go into the logs.
Scoring runs on the saved float16 weights, as the app loads them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.pretrained import translator as bundle
from models.text import parallel

SUBSET_PER_BUCKET = 4  # held-out pairs per length bucket in the subset the tests recompute


@dataclass(frozen=True)
class TranslatorTrainConfig:
    steps: int = 1000  # per GRU (both get the same)
    transformer_steps: int = 3000  # the Transformer: 3x the GRUs (docs/MODELS.md section 4)
    batch_size: int = 64  # sentence pairs per step
    lr: float = 2e-3  # peak learning rate (GRUs); the Transformer uses transformer_lr
    transformer_lr: float = 2e-3
    warmup_steps: int = 100  # linear warm-up (GRUs), then cosine decay to 10%
    transformer_warmup_steps: int = 100  # the same shape for the Transformer
    grad_clip: float = 1.0
    n_train: int = 14000  # training pairs, balanced over lengths 3..30
    heldout_per_length: int = 40
    seed: int = 0
    threads: int = 1  # on a shared machine one thread loses less to waiting than two
    log_every: int = 50


def model_configs(source_vocab: int, target_vocab: int) -> dict[str, dict]:
    shared = dict(source_vocab=source_vocab, target_vocab=target_vocab)
    return {
        "gru_bottleneck": dict(shared, attention=False, embedding=64, hidden=128),
        "gru_attention": dict(shared, attention=True, embedding=64, hidden=128),
        "transformer": dict(shared, n_embd=64, n_head=4, n_encoder_layers=2, n_decoder_layers=2,
                            ffn_hidden=256, max_len=80, dropout=0.0),
    }


def encode_pairs(pairs, source_index: dict, target_index: dict):
    sources = [bundle.encode_source(list(p.source), source_index) for p in pairs]
    targets = [[parallel.BOS] + [target_index[w] for w in p.target] + [parallel.EOS] for p in pairs]
    return sources, targets


def batch_at(step: int, by_length: list[int], cfg: TranslatorTrainConfig) -> list[int]:
    """The pairs of training step ``step``: ``batch_size`` neighbours in the list sorted by length
    (so a batch carries little padding) from a start drawn by a generator seeded with the step."""
    generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
    start = int(torch.randint(0, len(by_length) - cfg.batch_size + 1, (1,), generator=generator))
    return by_length[start: start + cfg.batch_size]


def learning_rate(step: int, peak: float, total: int, warmup: int) -> float:
    """Linear warm-up to ``peak``, then cosine decay to 10% of it at ``total`` steps."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def train_one(name: str, config: dict, sources, targets, cfg: TranslatorTrainConfig, log) -> tuple:
    torch.manual_seed(cfg.seed)
    model = bundle.build_model(name, config)
    n_params = sum(p.numel() for p in model.parameters())
    peak = cfg.transformer_lr if name == "transformer" else cfg.lr
    total = cfg.transformer_steps if name == "transformer" else cfg.steps
    warmup = cfg.transformer_warmup_steps if name == "transformer" else cfg.warmup_steps
    optimizer = torch.optim.AdamW(model.parameters(), lr=peak, betas=(0.9, 0.98), weight_decay=0.0)
    by_length = sorted(range(len(sources)), key=lambda i: (len(sources[i]), i))
    history, running, started = [], 0.0, time.perf_counter()
    model.train()
    for step in range(total):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, peak, total, warmup)
        rows = batch_at(step, by_length, cfg)
        source = bundle.pad_batch([sources[i] for i in rows])
        target = bundle.pad_batch([targets[i] for i in rows])
        logits = model(source, target[:, :-1])  # (B, T, V): teacher forcing
        loss = F.cross_entropy(logits.flatten(0, 1), target[:, 1:].flatten(), ignore_index=parallel.PAD)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        running += loss.item()
        if (step + 1) % cfg.log_every == 0:
            elapsed = time.perf_counter() - started
            history.append({"step": step + 1, "train_loss": running / cfg.log_every, "elapsed_s": round(elapsed, 1)})
            log(f"[{name}] step {step + 1}/{total} loss {running / cfg.log_every:.4f} {elapsed:.0f} s")
            running = 0.0
    model.eval()
    return model, n_params, history, time.perf_counter() - started


def save(model, name: str, config: dict, out_dir: Path) -> None:
    from safetensors.torch import save_file

    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().to(torch.float16).contiguous() for key, value in model.state_dict().items()}
    save_file(state, folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(config, indent=2))


def heldout_subset(pairs) -> list[int]:
    """The first SUBSET_PER_BUCKET held-out pairs of every length bucket (what the tests rescore)."""
    chosen, counts = [], {}
    for i, pair in enumerate(pairs):
        key = bundle.bucket_of(parallel.n_words(pair))
        if counts.get(key, 0) < SUBSET_PER_BUCKET:
            counts[key] = counts.get(key, 0) + 1
            chosen.append(i)
    return chosen


def translate_all(model, pairs, source_index, target_vocab, batch_size: int = 128) -> list[list[str]]:
    out = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start: start + batch_size]
        source = bundle.pad_batch([bundle.encode_source(list(p.source), source_index) for p in chunk])
        out += [[target_vocab[i] for i in row] for row in bundle.greedy_batch(model, source)]
    return out


@torch.no_grad()
def cross_attention_alignment(model, pairs, source_index, target_index) -> dict:
    """Alignment accuracy of every cross-attention head (and head averages) on the given pairs."""
    weights, alignments = [], []
    for pair in pairs:
        source = torch.tensor([bundle.encode_source(list(pair.source), source_index)])
        target = torch.tensor([[parallel.BOS] + [target_index[w] for w in pair.target]])
        trace = model.trace(source, target)
        weights.append(torch.stack([w[0] for w in trace.cross]).numpy())  # (L, H, T, S)
        alignments.append(pair.alignment)
    accuracy = bundle.alignment_accuracy(weights, alignments)  # (L, H + 1)
    heads = accuracy[:, :-1]
    layer, head = np.unravel_index(heads.argmax(), heads.shape)
    all_heads = bundle.alignment_accuracy([w.mean(axis=(0, 1), keepdims=True) for w in weights], alignments)
    return {"per_head": heads.tolist(), "layer_head_average": accuracy[:, -1].tolist(),
            "best_head": {"layer": int(layer), "head": int(head), "accuracy": float(heads.max())},
            "all_heads_average": float(all_heads[0, 0])}


def gru_alignment(model, pairs, source_index, target_index) -> float:
    weights, alignments = [], []
    for pair in pairs:
        source = torch.tensor([bundle.encode_source(list(pair.source), source_index)])
        target = torch.tensor([[parallel.BOS] + [target_index[w] for w in pair.target]])
        weights.append(model.trace(source, target).attention[0].numpy()[None, None])  # (1, 1, T, S)
        alignments.append(pair.alignment)
    return float(bundle.alignment_accuracy(weights, alignments)[0, 0])


def score_all(out_dir: Path, heldout, source_index, target_index, target_vocab, log) -> dict:
    subset = heldout_subset(heldout)
    scores = {"heldout_pairs": len(heldout), "subset_indices": subset, "models": {}}
    for name in bundle.MODEL_NAMES:
        started = time.perf_counter()
        model = bundle.load_model(name, out_dir)
        hypotheses = translate_all(model, heldout, source_index, target_vocab)
        entry = bundle.score_translations(heldout, hypotheses)
        entry["subset"] = bundle.score_translations([heldout[i] for i in subset], [hypotheses[i] for i in subset])["all"]
        if name == "transformer":
            entry["alignment"] = cross_attention_alignment(model, heldout, source_index, target_index)
            entry["subset_alignment"] = cross_attention_alignment(model, [heldout[i] for i in subset], source_index,
                                                                  target_index)
        elif name == "gru_attention":
            entry["alignment"] = {"attention": gru_alignment(model, heldout, source_index, target_index)}
        scores["models"][name] = entry
        log(f"[{name}] held-out exact match {entry['all']['exact_match']:.3f} (training range "
            f"{entry['train_range']['exact_match']:.3f}), chrF {entry['all']['chrf']:.1f} "
            f"({time.perf_counter() - started:.0f} s)")
    return scores


def run(out_dir: Path = bundle.ASSET_DIR, cfg: TranslatorTrainConfig = TranslatorTrainConfig(),
        models: tuple[str, ...] = ("transformer", "gru_attention", "gru_bottleneck"), log=print) -> dict:
    torch.set_num_threads(cfg.threads)
    started = time.perf_counter()
    corpus = parallel.generate(cfg.n_train, cfg.heldout_per_length, seed=cfg.seed)
    source_index = {w: i for i, w in enumerate(corpus.source_vocab)}
    target_index = {w: i for i, w in enumerate(corpus.target_vocab)}
    corpus_s = time.perf_counter() - started
    log(f"corpus: {len(corpus.train)} training and {len(corpus.heldout)} held-out pairs; vocabularies "
        f"{len(corpus.source_vocab)} / {len(corpus.target_vocab)} ({corpus_s:.0f} s)")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(json.dumps({"source": corpus.source_vocab, "target": corpus.target_vocab},
                                                   ensure_ascii=False))
    (out_dir / "heldout.json").write_text(json.dumps(
        [{"source": p.source, "target": p.target, "alignment": p.alignment} for p in corpus.heldout],
        ensure_ascii=False))
    sources, targets = encode_pairs(corpus.train, source_index, target_index)
    configs = model_configs(len(corpus.source_vocab), len(corpus.target_vocab))
    for name in models:
        model, n_params, history, wall = train_one(name, configs[name], sources, targets, cfg, log)
        save(model, name, configs[name], out_dir)
        (out_dir / name / "train_log.json").write_text(json.dumps({
            "model": name, "parameters": n_params, "config": configs[name],
            "train_config": dataclasses.asdict(cfg), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "wall_time_s": round(wall, 1), "corpus_time_s": round(corpus_s, 1),
            "training_pairs": len(corpus.train), "history": history}, indent=2))
        log(f"[{name}] {n_params:,} parameters, {wall:.0f} s")
    if not all((out_dir / name / "model.safetensors").exists() for name in bundle.MODEL_NAMES):
        log("not every model is in the output folder yet: no scores written")
        return {}
    scores = score_all(out_dir, list(corpus.heldout), source_index, target_index, corpus.target_vocab, log)
    scores["total_wall_time_s"] = round(time.perf_counter() - started, 1)
    (out_dir / "scores.json").write_text(json.dumps(scores, indent=2))
    return scores


def rescore(out_dir: Path = bundle.ASSET_DIR, log=print) -> dict:
    """Score the saved models again (held-out pairs and vocabularies from ``out_dir``)."""
    started = time.perf_counter()
    vocab = json.loads((out_dir / "vocab.json").read_text())
    heldout = bundle.load_heldout(out_dir)
    source_index = {w: i for i, w in enumerate(vocab["source"])}
    target_index = {w: i for i, w in enumerate(vocab["target"])}
    previous = json.loads((out_dir / "scores.json").read_text()) if (out_dir / "scores.json").exists() else {}
    scores = score_all(out_dir, heldout, source_index, target_index, vocab["target"], log)
    scores["total_wall_time_s"] = previous.get("total_wall_time_s")
    scores["scoring_wall_time_s"] = round(time.perf_counter() - started, 1)
    (out_dir / "scores.json").write_text(json.dumps(scores, indent=2))
    return scores


def main(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m models.train translator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=bundle.ASSET_DIR)
    parser.add_argument("--score-only", action="store_true", help="score the saved models again, no training")
    parser.add_argument("--models", nargs="+", choices=bundle.MODEL_NAMES,
                        default=["transformer", "gru_attention", "gru_bottleneck"])
    defaults = TranslatorTrainConfig()
    for field in dataclasses.fields(TranslatorTrainConfig):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(getattr(defaults, field.name)),
                            default=getattr(defaults, field.name))
    args = parser.parse_args(argv)
    cfg = TranslatorTrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TranslatorTrainConfig)})
    log = lambda message: print(message, flush=True)  # noqa: E731
    if args.score_only:
        torch.set_num_threads(cfg.threads)
        rescore(args.out, log)
    else:
        run(args.out, cfg, tuple(args.models), log)
