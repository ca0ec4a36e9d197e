"""Train the two bundled tiny GPTs, from raw text to the files in ``assets/tinygpt/``.

One script, seeded and resumable, in three steps (``all`` runs them in a row):

    python -m models.train prepare     # corpus -> BPE tokenizer + token ids (.cache/tinygpt_data)
    python -m models.train train       # both models, same data and budget (--device cuda|cpu)
    python -m models.train evaluate    # held-out perplexity, unigram baseline, samples -> eval.json
    python -m models.train translator  # the translator page's three models (models/pretrained/translator_training.py)
    python -m models.train moe         # one FFN of the 2024 model as a mixture of experts -> assets/moe
    python -m models.train mlm         # MiniLM's fill-mask head -> assets/mlm/ (models/pretrained/mlm_training.py)

``prepare`` needs gensim (it reads the corpus); ``train`` needs only torch, numpy and
safetensors, so it can run on a machine that has a GPU but not gensim: copy
``.cache/tinygpt_data`` there, train, and copy the output folder back.

The two models share width, depth, context, tokenizer, the exact sequence of training
batches, the optimiser and the learning-rate schedule. Only the block design differs, so
their loss curves can be compared directly.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.text.corpus import encode_documents
from models.pretrained.tokens import END_OF_TEXT

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / ".cache" / "tinygpt_data"
CHECKPOINT_DIR = REPO_ROOT / ".cache" / "tinygpt_checkpoints"
ASSET_DIR = REPO_ROOT / "assets" / "tinygpt"
STYLES = ("2017", "2024")
VOCAB_SIZE = 4096
EVAL_SUBSET_WINDOWS = 4  # the bounded held-out subset the tests recompute
PROMPTS = ("The history of", "The city is", "In the early years,", "Scientists have found that")


@dataclass(frozen=True)
class TrainConfig:
    """One training budget, identical for both styles."""

    steps: int = 2000  # ~37 passes over the training split; chosen by a small sweep (docs/MODELS.md)
    batch_size: int = 64  # sequences per step
    dropout: float = 0.3  # the corpus is small (under a million tokens): dropout slows over-fitting
    lr: float = 1e-3  # peak learning rate, reached after the warm-up
    min_lr_ratio: float = 0.1  # the cosine decay ends at lr * min_lr_ratio
    warmup_steps: int = 200  # linear warm-up: post-norm blocks need it to start stably
    weight_decay: float = 0.1  # on matrices only, not on norms or biases
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    eval_every: int = 50
    save_every: int = 500  # resumable training state, written this often
    seed: int = 0


def model_config(style: str, vocab_size: int, dropout: float = 0.0):
    """The shared shape of both models; everything not named here comes from the style."""
    from models.core.gpt import GPTConfig

    shared = dict(vocab_size=vocab_size, block_size=256, n_layer=6, n_head=8, n_embd=256, dropout=dropout)
    if style == "2017":
        return GPTConfig.style_2017(**shared, n_kv_head=8, ffn_hidden=1024)
    if style == "2024":
        # Grouped-query attention (2 K/V heads for 8 query heads) saves parameters; a wider
        # SwiGLU spends them again, so both models have about the same size.
        return GPTConfig.style_2024(**shared, n_kv_head=2, ffn_hidden=768)
    raise ValueError(f"style must be one of {STYLES}, not {style!r}")


def log(message: str) -> None:
    print(message, flush=True)


def sha256_of(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Step 1: corpus -> tokenizer -> token ids


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE):
    """A byte-level BPE tokenizer: every byte is a token to start with, so any text can be
    encoded; the most frequent neighbouring pairs are then merged until ``vocab_size``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def prepare(data_dir: Path = DATA_DIR, asset_dir: Path = ASSET_DIR) -> dict:
    """Read and split the corpus, train the tokenizer on the training split, write the ids."""
    from models.text.corpus import load_corpus

    started = time.perf_counter()
    corpus = load_corpus()
    log(f"corpus: {len(corpus.train)} training and {len(corpus.heldout)} held-out documents "
        f"({sum(len(d.text) for d in corpus.train):,} / {sum(len(d.text) for d in corpus.heldout):,} characters)")
    tokenizer = train_tokenizer([doc.text for doc in corpus.train])
    train_ids = encode_documents(tokenizer, [doc.text for doc in corpus.train])
    heldout_ids = encode_documents(tokenizer, [doc.text for doc in corpus.heldout])
    data_dir.mkdir(parents=True, exist_ok=True)
    asset_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(data_dir / "tokenizer.json"))
    tokenizer.save(str(asset_dir / "tokenizer.json"))
    np.save(data_dir / "train.npy", train_ids)
    np.save(data_dir / "heldout.npy", heldout_ids)
    meta = {
        "vocab_size": tokenizer.get_vocab_size(),
        "train_tokens": int(len(train_ids)),
        "heldout_tokens": int(len(heldout_ids)),
        "train_sha256": sha256_of(train_ids),
        "heldout_sha256": sha256_of(heldout_ids),
        "train_documents": len(corpus.train),
        "heldout_documents": [f"{doc.source}:{doc.title}" for doc in corpus.heldout],
        "tokenizer_sha256": hashlib.sha256((data_dir / "tokenizer.json").read_bytes()).hexdigest(),
    }
    (data_dir / "meta.json").write_text(json.dumps(meta, indent=2))
    log(f"tokenizer: {meta['vocab_size']} tokens; train {meta['train_tokens']:,} tokens, "
        f"held-out {meta['heldout_tokens']:,} tokens ({time.perf_counter() - started:.1f} s)")
    return meta


# ---------------------------------------------------------------------------------------------
# Step 2: training


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay from ``lr`` to ``lr * min_lr_ratio``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(cfg.steps - cfg.warmup_steps, 1)
    cosine = 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * cosine)


def batch_at(step: int, stream: torch.Tensor, block_size: int, cfg: TrainConfig) -> torch.Tensor:
    """The training batch of ``step``: random windows drawn from a generator seeded by the step
    alone, so both styles see exactly the same batches and a resumed run continues identically."""
    generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
    starts = torch.randint(0, len(stream) - block_size - 1, (cfg.batch_size,), generator=generator)
    return torch.stack([stream[s: s + block_size + 1] for s in starts.tolist()])  # (B, T+1)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=device.type == "cuda")


def train_style(style: str, data_dir: Path, out_dir: Path, checkpoint_dir: Path, device: torch.device,
                cfg: TrainConfig) -> dict:
    """Train one style from scratch (or from its last saved state) and write its files."""
    from models.core.evaluate import heldout_nll
    from models.core.gpt import GPT

    meta = json.loads((data_dir / "meta.json").read_text())
    train_ids = np.load(data_dir / "train.npy")
    heldout_ids = np.load(data_dir / "heldout.npy")
    stream = torch.from_numpy(train_ids.astype(np.int64))
    config = model_config(style, meta["vocab_size"], cfg.dropout)
    torch.manual_seed(cfg.seed)
    model = GPT(config).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = make_optimizer(model, cfg, device)
    autocast_dtype = torch.bfloat16 if device.type == "cuda" else None
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    state_path = checkpoint_dir / style / "state.pt"
    history: list[dict] = []
    start_step, elapsed_before = 0, 0.0
    if state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=True)
        if state["train_config"] != dataclasses.asdict(cfg) or state["model_config"] != config.to_dict():
            raise SystemExit(f"{state_path} was written with other settings; delete it to start again")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_step, history, elapsed_before = state["step"], state["history"], state["elapsed_s"]
        log(f"[{style}] resuming at step {start_step}")
    log(f"[{style}] {n_params:,} parameters on {device}; {cfg.steps} steps of "
        f"{cfg.batch_size} x {config.block_size} tokens")

    def save_state(step: int, elapsed: float) -> None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                    "history": history, "elapsed_s": elapsed, "train_config": dataclasses.asdict(cfg),
                    "model_config": config.to_dict()}, state_path)

    model.train()
    started = time.perf_counter() - elapsed_before
    running_loss, running_count = torch.zeros((), device=device), 0  # summed on the device: no sync per step
    for step in range(start_step, cfg.steps):
        lr = learning_rate(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        torch.manual_seed(cfg.seed * 1_000_003 + step)  # dropout masks depend on the step alone
        batch = batch_at(step, stream, config.block_size, cfg).to(device, non_blocking=True)
        inputs, targets = batch[:, :-1], batch[:, 1:]
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits, _ = model(inputs)  # (B, T, vocab)
        loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        running_loss += loss.detach()
        running_count += 1
        done = step + 1
        if done % cfg.eval_every == 0 or done == cfg.steps:
            heldout, _ = heldout_nll(model, heldout_ids, config.block_size, batch_size=64,
                                     autocast_dtype=autocast_dtype)
            elapsed = time.perf_counter() - started
            entry = {"step": done, "tokens": done * cfg.batch_size * config.block_size, "lr": lr,
                     "train_loss": running_loss.item() / max(running_count, 1), "heldout_loss": heldout,
                     "elapsed_s": round(elapsed, 2)}
            history.append(entry)
            running_loss, running_count = torch.zeros((), device=device), 0
            log(f"[{style}] step {done:5d}/{cfg.steps}  lr {lr:.2e}  train {entry['train_loss']:.3f}  "
                f"held-out {heldout:.3f} (ppl {math.exp(heldout):.1f})  {elapsed:.0f} s")
        if done % cfg.save_every == 0 and done < cfg.steps:
            save_state(done, time.perf_counter() - started)

    wall = time.perf_counter() - started
    style_dir = out_dir / style
    model.eval()
    model.save_pretrained(style_dir, dtype=torch.float16)
    train_log = {
        "style": style,
        "parameters": n_params,
        "model_config": config.to_dict(),
        "train_config": dataclasses.asdict(cfg),
        "data": {key: meta[key] for key in ("vocab_size", "train_tokens", "heldout_tokens",
                                            "train_sha256", "heldout_sha256", "tokenizer_sha256")},
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else str(device),
        "torch": torch.__version__,
        "autocast": str(autocast_dtype) if autocast_dtype else "none (float32)",
        "wall_time_s": round(wall, 1),
        "note": "held-out loss here is measured during training (in bf16 autocast on CUDA); "
                "eval.json has it recomputed in float32 on CPU from the saved fp16 weights",
        "history": history,
    }
    (style_dir / "train_log.json").write_text(json.dumps(train_log, indent=2))
    log(f"[{style}] done in {wall:.0f} s -> {style_dir}")
    return train_log


def train(styles: list[str], data_dir: Path, out_dir: Path, checkpoint_dir: Path, device: str,
          cfg: TrainConfig) -> None:
    from models.core.device import pick_device

    device = pick_device(device)
    out_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / "tokenizer.json").resolve() != (out_dir / "tokenizer.json").resolve():
        shutil.copyfile(data_dir / "tokenizer.json", out_dir / "tokenizer.json")
    for style in styles:
        train_style(style, data_dir, out_dir, checkpoint_dir, device, cfg)


def time_steps(style: str, data_dir: Path, device: str, cfg: TrainConfig, n_steps: int = 3) -> float:
    """Seconds per training step on ``device`` (after one warm-up step), for estimates."""
    from models.core.device import pick_device, synchronize
    from models.core.gpt import GPT

    device = pick_device(device)
    meta = json.loads((data_dir / "meta.json").read_text())
    stream = torch.from_numpy(np.load(data_dir / "train.npy").astype(np.int64))
    config = model_config(style, meta["vocab_size"], cfg.dropout)
    model = GPT(config).to(device).train()
    optimizer = make_optimizer(model, cfg, device)
    times = []
    for step in range(n_steps + 1):
        synchronize(device)
        tick = time.perf_counter()
        batch = batch_at(step, stream, config.block_size, cfg).to(device)
        logits, _ = model(batch[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), batch[:, 1:].flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        synchronize(device)
        times.append(time.perf_counter() - tick)
    return float(np.median(times[1:]))


# ---------------------------------------------------------------------------------------------
# Step 3: evaluation on CPU, from the saved fp16 files


def continuation(bundle, prompt: str, *, temperature: float, top_k: int | None = None, seed: int = 0) -> str:
    """The prompt and 40 new tokens (temperature 0 = greedy), seeded."""
    generator = torch.Generator().manual_seed(seed)
    return prompt + bundle.continue_text(prompt, 40, temperature=temperature, top_k=top_k, generator=generator)


def evaluate(data_dir: Path = DATA_DIR, asset_dir: Path = ASSET_DIR) -> dict:
    """Held-out perplexity of both models and of a unigram baseline, on the same tokens, plus
    greedy and sampled continuations; written to ``eval.json``."""
    from models.core.evaluate import heldout_nll, perplexity, target_tokens, unigram_nll
    from models.pretrained.tiny_gpt import load_tiny_gpt

    train_ids = np.load(data_dir / "train.npy")
    heldout_ids = np.load(data_dir / "heldout.npy")
    meta = json.loads((data_dir / "meta.json").read_text())
    report: dict = {
        "heldout": {"documents": meta["heldout_documents"], "tokens": int(len(heldout_ids)),
                    "sha256": sha256_of(heldout_ids),
                    "windows": "non-overlapping windows of block_size + 1 tokens from the start "
                               "of the held-out stream; every token after the first of each window is scored"},
        "subset": {"windows": EVAL_SUBSET_WINDOWS,
                   "what": f"the first {EVAL_SUBSET_WINDOWS} windows of the held-out stream (used by the tests)"},
        "models": {},
        "prompts": list(PROMPTS),
        "sampling": {"greedy": "temperature 0", "sampled": "temperature 0.8, top-k 50, torch.Generator seed 0",
                     "new_tokens": 40},
    }
    block_size = None
    for style in STYLES:
        started = time.perf_counter()
        bundle = load_tiny_gpt(style, asset_dir=asset_dir)
        block_size = bundle.config.block_size
        nll, count = heldout_nll(bundle.model, heldout_ids, block_size, batch_size=8)
        subset_nll, subset_count = heldout_nll(bundle.model, heldout_ids, block_size,
                                               max_windows=EVAL_SUBSET_WINDOWS, batch_size=8)
        samples = []
        for prompt in PROMPTS:
            samples.append({
                "prompt": prompt,
                "greedy": continuation(bundle, prompt, temperature=0.0),
                "sampled": continuation(bundle, prompt, temperature=0.8, top_k=50, seed=0),
            })
        report["models"][style] = {
            "parameters": bundle.parameter_count,
            "file_bytes": (asset_dir / style / "model.safetensors").stat().st_size,
            "heldout_loss": nll, "heldout_perplexity": perplexity(nll), "heldout_tokens_scored": count,
            "subset_loss": subset_nll, "subset_tokens_scored": subset_count,
            "samples": samples,
        }
        log(f"[{style}] held-out loss {nll:.4f} = perplexity {perplexity(nll):.1f} on {count:,} tokens "
            f"({time.perf_counter() - started:.0f} s)")
        for sample in samples:
            log(f"  greedy : {sample['greedy']!r}\n  sampled: {sample['sampled']!r}")
    targets = target_tokens(heldout_ids, block_size)
    uni = unigram_nll(train_ids, targets, meta["vocab_size"])
    report["unigram"] = {"heldout_loss": uni, "heldout_perplexity": perplexity(uni),
                         "what": "token frequencies of the training split, add-one smoothed, "
                                 "scored on the same held-out tokens"}
    log(f"[unigram] held-out loss {uni:.4f} = perplexity {perplexity(uni):.1f}")
    (asset_dir / "eval.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return report


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["translator"]:  # the three translators have their own options and loop
        from models.pretrained.translator_training import main as train_translators

        return train_translators(argv[1:])
    if argv[:1] == ["mlm"]:  # MiniLM's fill-mask head has its own steps and options
        from models.pretrained.mlm_training import cli

        return cli(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["prepare", "train", "evaluate", "all", "time", "moe"], nargs="?", default="all")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="prepared token ids (default %(default)s)")
    parser.add_argument("--out", type=Path, default=ASSET_DIR, help="where models go (default %(default)s)")
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINT_DIR,
                        help="resumable training state (default %(default)s)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    defaults = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(getattr(defaults, field.name)),
                            default=getattr(defaults, field.name))
    args = parser.parse_args(argv)
    cfg = TrainConfig(**{field.name: getattr(args, field.name) for field in dataclasses.fields(TrainConfig)})
    if args.command in ("prepare", "all"):
        prepare(args.data)
    if args.command in ("train", "all"):
        train(args.styles, args.data, args.out, args.checkpoints, args.device, cfg)
    if args.command in ("evaluate", "all"):
        evaluate(args.data, args.out)
    if args.command == "moe":  # reads the corpus and the bundled 2024 model itself; 1 CPU thread
        from models.pretrained.tiny_moe import train_moe

        train_moe(log=log)
    if args.command == "time":
        for style in args.styles:
            seconds = time_steps(style, args.data, args.device, cfg)
            log(f"[{style}] {seconds:.2f} s per step on {args.device}; {cfg.steps} steps = "
                f"{seconds * cfg.steps / 3600:.1f} h")


if __name__ == "__main__":
    main(sys.argv[1:])
