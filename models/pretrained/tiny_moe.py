"""The 2024 tiny GPT with one feed-forward layer replaced by a trained mixture of experts.

``python -m models.train moe`` builds it (``train_moe`` below): the bundled 2024 model stays
frozen; the FFN of one block is cut into experts (models.core.moe.MoEFeedForward.from_dense)
and a router is added; experts and router are then trained to give the dense FFN's output
for the same input on the training corpus (mean squared error, divided by the output's
variance), plus the load-balancing loss that keeps every expert busy. Only that layer
changes, so the swap's cost shows directly in held-out perplexity: the same tokens scored by
the model with the MoE layer and without (the dense original).

Files in ``assets/moe/``: ``moe.safetensors`` (the layer's weights, fp32), ``config.json``
(which block, how many experts, top-k), ``train_log.json`` (loss curve, wall time, threads,
held-out perplexity with and without the swap, on all held-out windows and on the first few,
which the tests recompute).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from models.core.moe import MoEFeedForward, expert_load, load_balancing_loss

MOE_DIR = Path(__file__).resolve().parents[2] / "assets" / "moe"
SUBSET_WINDOWS = 4  # the bounded held-out subset the tests recompute


@dataclass(frozen=True)
class MoESettings:
    """Which FFN becomes experts, and the training budget."""

    style: str = "2024"  # the bundled model whose FFN is replaced
    layer: int = 3  # block index (0-based): a middle block
    n_experts: int = 8  # as Mixtral
    top_k: int = 2  # experts per token, as Mixtral
    sample_windows: int = 128  # training windows of block_size tokens whose FFN pairs are kept
    steps: int = 800
    batch_tokens: int = 2048  # (input, output) pairs per step
    lr: float = 2e-3
    balance_weight: float = 0.01  # weight of the load-balancing loss (Switch Transformer uses 0.01)
    threads: int = 1  # of the 2 cores: on a busy machine 2 threads ran 10-30x slower than 1 (they wait for each other)
    seed: int = 0
    eval_every: int = 100


class NoFFN(torch.nn.Module):
    """A block without its FFN: adds nothing (a baseline for what the layer is worth)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def swapped_model(dense_model, moe: MoEFeedForward, layer: int):
    """A copy of ``dense_model`` whose block ``layer`` uses ``moe`` as its FFN (eval mode)."""
    model = copy.deepcopy(dense_model)
    model.blocks[layer].ffn = moe
    return model.eval()


def load_moe(directory: Path = MOE_DIR, device="cpu") -> tuple[MoEFeedForward, dict, dict]:
    """(the trained MoE layer, its config, its training log); raises FileNotFoundError if not built."""
    config = json.loads((directory / "config.json").read_text())
    train_log = json.loads((directory / "train_log.json").read_text())
    moe = MoEFeedForward(config["n_embd"], config["expert_hidden"], config["n_experts"], config["top_k"],
                         config["kind"], bias=config["bias"])
    moe.load_state_dict(load_file(str(directory / "moe.safetensors")), strict=True)
    return moe.to(device).eval().requires_grad_(False), config, train_log


@dataclass(frozen=True)
class TinyMoE:
    """The bundled model with its MoE layer swapped in, and what was recorded about it."""

    model: object  # models.core.gpt.GPT, eval mode, block ``config["layer"]`` holds the MoE FFN
    config: dict  # assets/moe/config.json
    train_log: dict  # assets/moe/train_log.json
    parameters: dict  # the layer's total / active / dense counts (models.labs use them as they are)


def load_tiny_moe(dense_model, directory: Path = MOE_DIR) -> TinyMoE:
    """``dense_model`` (the bundled GPT named in config.json) with the trained MoE layer in place of
    one FFN; raises FileNotFoundError if ``python -m models.train moe`` has not been run."""
    moe, config, train_log = load_moe(directory, device=dense_model.wte.weight.device)
    expert = sum(p.numel() for p in moe.experts[0].parameters())
    router = moe.router.weight.numel()
    counts = {"total": moe.n_experts * expert + router, "active": moe.top_k * expert + router,
              "dense": sum(p.numel() for p in dense_model.blocks[config["layer"]].ffn.parameters())}
    return TinyMoE(swapped_model(dense_model, moe, config["layer"]), config, train_log, counts)


def corpus_ids(tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """The training and held-out token streams the tiny GPTs used: every document's ids and an
    end-of-text id after each, encoded with the bundled tokenizer."""
    from models.text.corpus import load_corpus

    corpus = load_corpus()
    eot = tokenizer.token_to_id("<|endoftext|>")

    def stream(documents) -> np.ndarray:
        ids: list[int] = []
        for encoding in tokenizer.encode_batch([doc.text for doc in documents]):
            ids.extend(encoding.ids)
            ids.append(eot)
        return np.asarray(ids, dtype=np.int64)

    return stream(corpus.train), stream(corpus.heldout)


def sha256_of(ids: np.ndarray) -> str:
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(ids.astype(np.uint16)).tobytes()).hexdigest()


class _Captured(Exception):
    """Raised by the hook once the FFN's input and output are kept: later blocks need not run."""


def ffn_pairs(model, layer: int, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, outputs) of block ``layer``'s FFN for every token of ``windows`` (B, T): (N, C) each."""
    seen = {}

    def keep(module, args, output):
        seen["x"], seen["y"] = args[0].reshape(-1, args[0].size(-1)), output.reshape(-1, output.size(-1))
        raise _Captured

    handle = model.blocks[layer].ffn.register_forward_hook(keep)
    try:
        with torch.no_grad():
            model(windows)
    except _Captured:
        pass
    finally:
        handle.remove()
    return seen["x"], seen["y"]


def heldout_perplexity(model, ids: np.ndarray, block_size: int, max_windows: int | None = None) -> tuple[float, int]:
    from models.core.evaluate import heldout_nll

    nll, count = heldout_nll(model, ids, block_size, max_windows=max_windows, batch_size=8)
    return math.exp(nll), count


def train_moe(settings: MoESettings = MoESettings(), out_dir: Path = MOE_DIR, log=print) -> dict:
    """Train the MoE layer and write its files; returns the training log."""
    from models.pretrained.tiny_gpt import load_tiny_gpt

    torch.set_num_threads(settings.threads)
    started = time.perf_counter()
    bundle = load_tiny_gpt(settings.style)
    dense = bundle.model
    block_size = dense.config.block_size
    train_ids, heldout_ids = corpus_ids(bundle.tokenizer)
    expected = bundle.train_log.get("data", {})
    for name, ids in (("train", train_ids), ("heldout", heldout_ids)):
        if expected.get(f"{name}_sha256") not in (None, sha256_of(ids)):
            raise SystemExit(f"the {name} tokens differ from those the tiny GPT was trained on")
    log(f"corpus: {len(train_ids):,} training / {len(heldout_ids):,} held-out tokens "
        f"({time.perf_counter() - started:.0f} s)")

    # The frozen model runs once over a fixed sample of training windows; the layer then
    # learns from the (input, output) pairs of its FFN, many times over.
    stream = torch.from_numpy(train_ids)
    generator = torch.Generator().manual_seed(settings.seed)
    starts = torch.randint(0, len(stream) - block_size, (settings.sample_windows,), generator=generator)
    pairs = []
    for chunk in starts.split(16):
        windows = torch.stack([stream[s: s + block_size] for s in chunk.tolist()])  # (16, T)
        pairs.append(ffn_pairs(dense, settings.layer, windows))
    all_inputs = torch.cat([x for x, _ in pairs])  # (N, C)
    all_targets = torch.cat([y for _, y in pairs])
    log(f"FFN inputs and outputs of block {settings.layer} for {len(all_inputs):,} training tokens "
        f"({time.perf_counter() - started:.0f} s)")

    torch.manual_seed(settings.seed)
    dense_ffn = dense.blocks[settings.layer].ffn
    moe = MoEFeedForward.from_dense(dense_ffn, settings.n_experts, settings.top_k)
    split_ppl, _ = heldout_perplexity(swapped_model(dense, moe.eval(), settings.layer), heldout_ids, block_size)
    log(f"experts cut from the dense FFN, router untrained: held-out perplexity {split_ppl:.2f}")
    moe.requires_grad_(True).train()
    optimizer = torch.optim.AdamW(moe.parameters(), lr=settings.lr, weight_decay=0.0)
    history = []
    for step in range(settings.steps):
        rows = torch.randint(0, len(all_inputs), (settings.batch_tokens,), generator=generator)
        inputs, targets = all_inputs[rows], all_targets[rows]
        lr = settings.lr * 0.5 * (1 + math.cos(math.pi * step / settings.steps))  # cosine decay
        for group in optimizer.param_groups:
            group["lr"] = lr
        predicted, routing = moe.mix(inputs)
        match = F.mse_loss(predicted, targets) / targets.var()  # 0 = the dense output exactly
        balance = load_balancing_loss(routing, settings.n_experts)
        loss = match + settings.balance_weight * balance
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if (step + 1) % settings.eval_every == 0 or step == 0:
            load = expert_load(routing, settings.n_experts)
            entry = {"step": step + 1, "relative_mse": round(match.item(), 5), "balance_loss": round(balance.item(), 4),
                     "max_expert_load": round(load.max().item(), 4), "elapsed_s": round(time.perf_counter() - started, 1)}
            history.append(entry)
            log(f"step {step + 1:4d}/{settings.steps}  relative MSE {entry['relative_mse']:.4f}  "
                f"balance {entry['balance_loss']:.3f}  busiest expert {entry['max_expert_load']:.1%}  "
                f"{entry['elapsed_s']:.0f} s")
    train_wall = time.perf_counter() - started

    moe.eval().requires_grad_(False)
    swapped = swapped_model(dense, moe, settings.layer)
    no_ffn_ppl, _ = heldout_perplexity(swapped_model(dense, NoFFN(), settings.layer), heldout_ids, block_size)
    log(f"block {settings.layer} without its FFN: held-out perplexity {no_ffn_ppl:.2f}")
    scores = {"split_untrained": {"heldout_perplexity": split_ppl,
                                  "what": "experts cut from the dense FFN, random router, before training"},
              "no_ffn": {"heldout_perplexity": no_ffn_ppl, "what": "the block's FFN removed (adds 0)"}}
    for name, model in (("dense", dense), ("moe", swapped)):
        full, count = heldout_perplexity(model, heldout_ids, block_size)
        subset, subset_count = heldout_perplexity(model, heldout_ids, block_size, SUBSET_WINDOWS)
        scores[name] = {"heldout_perplexity": full, "heldout_tokens_scored": count,
                        "subset_perplexity": subset, "subset_tokens_scored": subset_count}
        log(f"[{name}] held-out perplexity {full:.2f} on {count:,} tokens; "
            f"first {SUBSET_WINDOWS} windows {subset:.2f}")
    wall = time.perf_counter() - started

    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({name: t.contiguous() for name, t in moe.state_dict().items()}, str(out_dir / "moe.safetensors"),
              metadata={"format": "pt"})
    config = {"style": settings.style, "layer": settings.layer, "n_experts": settings.n_experts,
              "top_k": settings.top_k, "n_embd": dense.config.n_embd, "expert_hidden": dense_ffn.w_up.out_features
              // settings.n_experts, "dense_hidden": dense_ffn.w_up.out_features, "kind": dense_ffn.kind,
              "bias": dense_ffn.w_up.bias is not None}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    train_log = {
        "settings": dataclasses.asdict(settings), "config": config,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "device": "cpu",
        "train_wall_time_s": round(train_wall, 1), "wall_time_s": round(wall, 1),
        "note": "wall time measured on a shared 2-core machine (other jobs running); includes reading "
                "the corpus and, for wall_time_s, the held-out evaluation of both models",
        "heldout": {"windows": f"non-overlapping windows of {block_size} + 1 tokens (models.core.evaluate)",
                    "subset_windows": SUBSET_WINDOWS, "sha256": sha256_of(heldout_ids)},
        "scores": scores, "history": history,
    }
    (out_dir / "train_log.json").write_text(json.dumps(train_log, indent=2) + "\n")
    log(f"done in {wall:.0f} s -> {out_dir}")
    return train_log
