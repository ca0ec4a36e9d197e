"""Train MiniLM's fill-in-the-blank head: ``python -m models.train mlm`` (resumable, seeded).

Masked-language-model pretraining in miniature, on the two corpora that ship with gensim:

1. ``prepare``: the training and held-out documents (``models.text.corpus``) are split into
   sentences, cut into WordPiece ids with MiniLM's own tokenizer and packed into chunks of at
   most 128 tokens ([CLS] ... [SEP]); one chunk in ten holds a single sentence, so short
   inputs like the page's are seen too.
2. ``train``: every step masks its batch afresh (``mask_tokens``: 15%, 80/10/10, the
   generator seeded by the step alone, so a resumed run continues identically) and updates
   the copy of MiniLM's layers and the head on the loss at the picked positions only.
3. ``evaluate``: on held-out chunks, a fixed seed picks 15% of the tokens and every pick
   becomes [MASK]; top-1 / top-5 accuracy against the unigram baseline (the most frequent
   training tokens, whatever the context), plus the guesses on the course's sentences.
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

from models.pretrained.minilm_mlm import (ASSET_DIR, CLS_ID, FIRST_WORD_ID, HEAD_FILE, KEEP, MASK_ID, MASKED,
                                          PAD_ID, SEP_ID, MlmConfig, MlmReader, load_minilm_mlm, mask_tokens,
                                          read_minilm_weights, read_tokenizer)
from models.text.corpus import split_sentences

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DATA_DIR = REPO_ROOT / ".cache" / "mlm_data"
CHECKPOINT = REPO_ROOT / ".cache" / "mlm_checkpoint" / "state.pt"
CHUNK_TOKENS = 128
SHORT_EVERY = 10  # one chunk in ten is a single sentence
EVAL_SEED = 1234
SUBSET_CHUNKS = 24  # the bounded held-out subset the tests recompute
PROBES = (
    "The dog chased the [MASK] because it was hungry.",
    "The cat sat on the [MASK].",
    "She drank a cup of [MASK] in the morning.",
    "Paris is the capital of [MASK].",
    "He went to the bank to deposit his [MASK].",
    "The [MASK] was flowing fast after the rain.",
    "The students read the [MASK] before the exam.",
    "The president of the United [MASK] gave a speech.",
)


@dataclass(frozen=True)
class MlmTrainConfig:
    """The recipe and its budget (docs/MODELS.md, section 2b): sized to about 53 minutes of two
    quiet CPU cores (about 0.93 s per step)."""

    steps: int = 3400  # about 5.7 passes over the training chunks, each step masked afresh
    batch_size: int = 16  # chunks per step (about 1,100 tokens, 160 of them picked)
    lr: float = 3e-4  # the copied MiniLM layers
    head_lr: float = 3e-3  # the head (its bias starts at the unigram log-frequencies)
    warmup_steps: int = 30
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    eval_every: int = 200
    eval_chunks: int = 64  # the held-out chunks scored during training (all of them at the end)
    save_every: int = 100
    seed: int = 0
    threads: int = 2


def log(message: str) -> None:
    print(message, flush=True)


# ---------------------------------------------------------------------------------------------
# Data


def pack_chunks(sentences: list[list[int]], chunk_tokens: int = CHUNK_TOKENS, short_every: int = SHORT_EVERY) -> list[list[int]]:
    """Consecutive sentences' ids -> chunks [CLS] ... [SEP] of at most ``chunk_tokens`` ids;
    every ``short_every``-th sentence is a chunk of its own; a very long sentence is cut."""
    room = chunk_tokens - 2
    chunks, current = [], []
    for index, sentence in enumerate(sentences):
        sentence = sentence[:room]
        if not sentence:
            continue
        if index % short_every == short_every - 1:
            chunks.extend([current, sentence] if current else [sentence])
            current = []
            continue
        if current and len(current) + len(sentence) > room:
            chunks.append(current)
            current = []
        current = current + sentence
    if current:
        chunks.append(current)
    return [[CLS_ID, *chunk, SEP_ID] for chunk in chunks]


def document_chunks(texts: list[str]) -> list[list[int]]:
    tokenizer = read_tokenizer()
    chunks = []
    for text in texts:
        sentences = split_sentences(text)
        ids = [encoding.ids[1:-1] for encoding in tokenizer.encode_batch(sentences)]  # without [CLS]/[SEP]
        chunks.extend(pack_chunks(ids))
    return chunks


def save_chunks(path: Path, chunks: list[list[int]]) -> None:
    lengths = np.array([len(c) for c in chunks], dtype=np.int32)
    np.savez(path, ids=np.concatenate([np.array(c, dtype=np.int32) for c in chunks]), lengths=lengths)


def load_chunks(path: Path) -> list[np.ndarray]:
    data = np.load(path)
    return np.split(data["ids"], np.cumsum(data["lengths"])[:-1])


def prepare(data_dir: Path = DATA_DIR) -> dict:
    from models.text.corpus import load_corpus

    corpus = load_corpus()
    data_dir.mkdir(parents=True, exist_ok=True)
    meta = {}
    for split, documents in (("train", corpus.train), ("heldout", corpus.heldout)):
        chunks = document_chunks([doc.text for doc in documents])
        save_chunks(data_dir / f"{split}.npz", chunks)
        meta[split] = {"documents": len(documents), "chunks": len(chunks), "tokens": int(sum(map(len, chunks)))}
    (data_dir / "meta.json").write_text(json.dumps(meta, indent=2))
    log(f"mlm data: {meta}")
    return meta


def batch_of(chunks: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad to the longest chunk -> ids (B, T) and attention mask (B, T) True = real token."""
    width = max(len(c) for c in chunks)
    ids = torch.full((len(chunks), width), PAD_ID, dtype=torch.long)
    for row, chunk in enumerate(chunks):
        ids[row, :len(chunk)] = torch.from_numpy(chunk.astype(np.int64))
    return ids, ids != PAD_ID


def unigram_counts(chunks: list[np.ndarray], vocab_size: int) -> np.ndarray:
    counts = np.bincount(np.concatenate(chunks), minlength=vocab_size).astype(np.float64)
    counts[:FIRST_WORD_ID] = 0
    return counts


# ---------------------------------------------------------------------------------------------
# Training


def learning_rate_factor(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up, then linear decay to a tenth."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(steps - warmup, 1)
    return 1.0 - 0.9 * min(progress, 1.0)


def epoch_batches(epoch: int, lengths: np.ndarray, cfg: MlmTrainConfig, group: int = 20) -> list[np.ndarray]:
    """One pass over the chunks in a seeded order: groups of ``group`` batches are sorted by
    length before they are cut (little padding), then the batches are shuffled."""
    generator = np.random.default_rng(cfg.seed * 1_000_003 + epoch)
    order = generator.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), cfg.batch_size * group):
        block = order[start:start + cfg.batch_size * group]
        block = block[np.argsort(lengths[block], kind="stable")]
        batches.extend(block[i:i + cfg.batch_size] for i in range(0, len(block), cfg.batch_size))
    return [batches[i] for i in generator.permutation(len(batches))]


def training_batch(step: int, chunks: list[np.ndarray], cfg: MlmTrainConfig,
                   epochs: dict | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The chunks of ``step`` (seeded passes over the training chunks), masked afresh by the recipe
    with a generator seeded by the seed and the step alone -> masked ids, attention, original ids,
    actions (each (B, T)). ``epochs`` keeps the current pass's order between calls."""
    epochs = {} if epochs is None else epochs
    per_epoch = math.ceil(len(chunks) / cfg.batch_size)
    epoch = step // per_epoch
    if epoch not in epochs:
        epochs.clear()
        epochs[epoch] = epoch_batches(epoch, np.array([len(c) for c in chunks]), cfg)
    rows = epochs[epoch][step % per_epoch]
    ids, attention = batch_of([chunks[r] for r in rows])
    masked, action = mask_tokens(ids, torch.Generator().manual_seed(cfg.seed * 1_000_003 + step))
    return masked, attention, ids, action


@torch.no_grad()
def score(model: MlmReader, chunks: list[np.ndarray], unigram_top: np.ndarray, seed: int = EVAL_SEED,
          batch_size: int = 16) -> dict:
    """Top-1 / top-5 accuracy and loss at 15% masked held-out tokens (every pick -> [MASK]),
    and the unigram baseline's top-1 / top-5 on the same tokens."""
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    hits1 = hits5 = uni1 = uni5 = total = 0
    loss_sum = 0.0
    for start in range(0, len(chunks), batch_size):
        ids, attention = batch_of(chunks[start:start + batch_size])
        masked_ids, action = mask_tokens(ids, generator, split=(1.0, 0.0, 0.0))
        picked = action == MASKED
        logits = model.head(model.hidden(masked_ids, attention)[picked])  # (N, vocab)
        targets = ids[picked]
        top5 = logits.topk(5, dim=-1).indices
        hits1 += int((top5[:, 0] == targets).sum())
        hits5 += int((top5 == targets[:, None]).any(1).sum())
        uni1 += int((targets == int(unigram_top[0])).sum())
        uni5 += int(np.isin(targets.numpy(), unigram_top[:5]).sum())
        loss_sum += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
        total += int(picked.sum())
    model.train(was_training)
    return {"masked_tokens": total, "top1": hits1 / total, "top5": hits5 / total, "loss": loss_sum / total,
            "unigram_top1": uni1 / total, "unigram_top5": uni5 / total}


def probe_guesses(model: MlmReader, k: int = 5) -> list[dict]:
    """The top-k guesses at the [MASK] of each course sentence."""
    from models.pretrained.minilm import read_vocab

    tokenizer, vocab = read_tokenizer(), read_vocab()
    results = []
    for sentence in PROBES:
        ids = tokenizer.encode(sentence).ids
        probabilities = model.fill(ids)[ids.index(MASK_ID)]
        values, indices = probabilities.topk(k)
        results.append({"sentence": sentence,
                        "guesses": [[vocab[i], round(float(p), 4)] for p, i in zip(values.tolist(), indices.tolist())]})
    return results


def masked_loss(model: MlmReader, masked: torch.Tensor, attention: torch.Tensor, truth: torch.Tensor,
                action: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the head's guesses at the picked positions only (BERT's MLM loss)."""
    picked = action != KEEP
    return torch.nn.functional.cross_entropy(model.head(model.hidden(masked, attention)[picked]), truth[picked])


def make_model(train_chunks: list[np.ndarray], cfg: MlmConfig = MlmConfig()) -> MlmReader:
    torch.manual_seed(0)
    model = MlmReader(read_minilm_weights(), cfg)
    counts = unigram_counts(train_chunks, model.table.shape[0])
    with torch.no_grad():  # start from the unigram guess: log-frequency per piece
        model.head_bias.copy_(torch.from_numpy(np.log((counts + 0.5) / (counts + 0.5).sum())).float())
    return model


def train(data_dir: Path = DATA_DIR, out_dir: Path = ASSET_DIR, checkpoint: Path = CHECKPOINT,
          cfg: MlmTrainConfig = MlmTrainConfig()) -> dict:
    """Every step: the next batch, masked afresh; loss at the picks; the copied layers and the head
    updated. Resumes from ``checkpoint``; writes the assets and evaluates at the end."""
    torch.set_num_threads(cfg.threads)
    if not (data_dir / "train.npz").exists():
        prepare(data_dir)
    train_chunks, heldout_chunks = load_chunks(data_dir / "train.npz"), load_chunks(data_dir / "heldout.npz")
    model = make_model(train_chunks)
    unigram_top = np.argsort(-unigram_counts(train_chunks, model.table.shape[0]))[:5]
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("head")]
    layers = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head")]
    optimizer = torch.optim.AdamW([{"params": layers, "lr": cfg.lr}, {"params": head, "lr": cfg.head_lr}],
                                  weight_decay=cfg.weight_decay)
    start_step, history, wall_before, cpu_before = 0, [], 0.0, 0.0
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        if state["train_config"] != dataclasses.asdict(cfg):
            raise SystemExit(f"{checkpoint} was written with other settings; delete it to start again")
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        start_step, history = state["step"], state["history"]
        wall_before, cpu_before = state["elapsed_s"], state.get("cpu_s", 0.0)
        log(f"[mlm] resuming at step {start_step}")
    started, cpu_started = time.perf_counter() - wall_before, time.process_time() - cpu_before
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log(f"[mlm] {trainable:,} trained parameters; {len(train_chunks)} training chunks; "
        f"{cfg.steps} steps of {cfg.batch_size} chunks ({cfg.steps * cfg.batch_size / len(train_chunks):.1f} passes)")

    def save_state(step: int) -> None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.trained_state(), "optimizer": optimizer.state_dict(), "step": step,
                    "history": history, "elapsed_s": time.perf_counter() - started,
                    "cpu_s": time.process_time() - cpu_started, "train_config": dataclasses.asdict(cfg)},
                   checkpoint.with_suffix(".tmp"))
        checkpoint.with_suffix(".tmp").replace(checkpoint)

    model.train()
    epochs: dict = {}
    running, count = 0.0, 0
    for step in range(start_step, cfg.steps):
        torch.manual_seed(cfg.seed * 1_000_003 + step)  # dropout depends on the step alone
        factor = learning_rate_factor(step, cfg.steps, cfg.warmup_steps)
        optimizer.param_groups[0]["lr"], optimizer.param_groups[1]["lr"] = cfg.lr * factor, cfg.head_lr * factor
        masked, attention, truth, action = training_batch(step, train_chunks, cfg, epochs)
        loss = masked_loss(model, masked, attention, truth, action)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(layers + head, cfg.grad_clip)
        optimizer.step()
        running, count = running + float(loss.detach()), count + 1
        done = step + 1
        if done % cfg.eval_every == 0 or done == cfg.steps:
            heldout = score(model, heldout_chunks[:cfg.eval_chunks], unigram_top)
            elapsed = time.perf_counter() - started
            history.append({"step": done, "train_loss": running / count, "heldout_loss": heldout["loss"],
                            "heldout_top1": heldout["top1"], "heldout_top5": heldout["top5"],
                            "elapsed_s": round(elapsed, 1), "cpu_s": round(time.process_time() - cpu_started, 1)})
            running, count = 0.0, 0
            log(f"[mlm] step {done}/{cfg.steps} train {history[-1]['train_loss']:.3f} "
                f"held-out {heldout['loss']:.3f} top-1 {heldout['top1']:.3f} top-5 {heldout['top5']:.3f} "
                f"({elapsed:.0f} s, cpu {history[-1]['cpu_s']:.0f} s)")
        if done % cfg.save_every == 0 and done < cfg.steps:
            save_state(done)
    save_state(cfg.steps)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    write_assets(model, out_dir, cfg, history, wall, json.loads((data_dir / "meta.json").read_text()), cpu=cpu)
    return evaluate(data_dir, out_dir)


def export(data_dir: Path = DATA_DIR, out_dir: Path = ASSET_DIR, checkpoint: Path = CHECKPOINT) -> dict:
    """Write the assets from the last saved training state (a run stopped early), then evaluate."""
    state = torch.load(checkpoint, weights_only=True)
    cfg = MlmTrainConfig(**state["train_config"])
    model = make_model(load_chunks(data_dir / "train.npz"))
    model.load_state_dict(state["model"], strict=False)
    total = cfg.steps
    log(f"[mlm] exporting the state saved at step {state['step']} of {total}")
    write_assets(model, out_dir, cfg, state["history"], state["elapsed_s"],
                 json.loads((data_dir / "meta.json").read_text()), cpu=state.get("cpu_s"),
                 stopped_at=state["step"] if state["step"] < total else None)
    return evaluate(data_dir, out_dir)


def write_assets(model: MlmReader, out_dir: Path, cfg: MlmTrainConfig, history: list, wall: float, meta: dict,
                 cpu: float | None = None, stopped_at: int | None = None) -> None:
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.half().contiguous() for name, tensor in model.trained_state().items()},
              str(out_dir / HEAD_FILE))
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(model.cfg), indent=2))
    (out_dir / "train_log.json").write_text(json.dumps({
        "train_config": dataclasses.asdict(cfg), "model_config": dataclasses.asdict(model.cfg),
        "trained_parameters": sum(t.numel() for t in model.trained_state().values()),
        "data": meta, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "wall_time_s": round(wall, 1), "cpu_time_s": None if cpu is None else round(cpu, 1),
        "steps_done": stopped_at or cfg.steps, "history": history}, indent=2))


def evaluate(data_dir: Path = DATA_DIR, out_dir: Path = ASSET_DIR) -> dict:
    """Scores of the saved (fp16) model on all held-out chunks and on the tests' subset."""
    torch.set_num_threads(min(2, torch.get_num_threads()))
    train_chunks, heldout_chunks = load_chunks(data_dir / "train.npz"), load_chunks(data_dir / "heldout.npz")
    model = load_minilm_mlm(out_dir)
    unigram_top = np.argsort(-unigram_counts(train_chunks, model.table.shape[0]))[:5]
    from models.pretrained.minilm import read_vocab

    vocab = read_vocab()
    report = {
        "what": "held-out chunks (documents never trained on); seed 1234 picks 15% of the ordinary tokens "
                "per chunk and every pick becomes [MASK]; top-k = the true piece is among the k best guesses",
        "unigram_tokens": [vocab[i] for i in unigram_top],
        "heldout": score(model, heldout_chunks, unigram_top),
        "subset": {"chunks": SUBSET_CHUNKS, **score(model, heldout_chunks[:SUBSET_CHUNKS], unigram_top)},
        "probes": probe_guesses(model),
    }
    (out_dir / "scores.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    log(f"[mlm] held-out {report['heldout']}")
    for probe in report["probes"]:
        log(f"  {probe['sentence']} -> {probe['guesses']}")
    return report


def time_steps(data_dir: Path = DATA_DIR, cfg: MlmTrainConfig = MlmTrainConfig(), n_steps: int = 4) -> dict:
    """Seconds per training step here (the median after one warm-up step) and the budget it adds up to."""
    torch.set_num_threads(cfg.threads)
    if not (data_dir / "train.npz").exists():
        prepare(data_dir)
    chunks = load_chunks(data_dir / "train.npz")
    model = make_model(chunks)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    model.train()
    timed, epochs = [], {}
    for step in range(n_steps + 1):
        tick = time.perf_counter()
        masked, attention, truth, action = training_batch(step, chunks, cfg, epochs)
        loss = masked_loss(model, masked, attention, truth, action)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        timed.append(time.perf_counter() - tick)
    step_s = float(np.median(timed[1:]))
    return {"step_s": step_s, "total_s": cfg.steps * step_s}


def cli(argv: list[str]) -> None:
    """``python -m models.train mlm [prepare|train|export|evaluate|time|all] [--steps N ...]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m models.train mlm", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["prepare", "train", "export", "evaluate", "time", "all"], nargs="?", default="all")
    defaults = MlmTrainConfig()
    for item in dataclasses.fields(MlmTrainConfig):
        parser.add_argument(f"--{item.name.replace('_', '-')}", type=type(getattr(defaults, item.name)),
                            default=getattr(defaults, item.name))
    args = parser.parse_args(argv)
    cfg = MlmTrainConfig(**{item.name: getattr(args, item.name) for item in dataclasses.fields(MlmTrainConfig)})
    if args.command in ("prepare", "all"):
        prepare()
    if args.command in ("train", "all"):
        train(cfg=cfg)
    elif args.command == "export":
        export()
    elif args.command == "evaluate":
        evaluate()
    elif args.command == "time":
        timed = time_steps(cfg=cfg)
        log(f"[mlm] a step {timed['step_s']:.2f} s ({cfg.threads} thread(s)); "
            f"this budget ({cfg.steps} steps) = {timed['total_s'] / 60:.0f} min")
