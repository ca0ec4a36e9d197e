"""Cached decoding: our GPT.generate vs transformers' GPT2LMHeadModel.generate, same weights.

GPT-2 small shape (124M parameters, random weights), batch 1, greedy. Then time per
token against position with and without a KV cache.
"""

from __future__ import annotations

import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from bench import best_times, machine_summary, table
from models.core.device import synchronize
from models.core.gpt import GPT, GPTConfig, time_per_token, to_gpt2_state_dict


def gpt2_pair(device: torch.device) -> tuple[GPT, GPT2LMHeadModel]:
    """Our GPT-2-small-shaped model and transformers' GPT-2 holding the very same weights."""
    torch.manual_seed(0)
    ours = GPT(GPTConfig()).to(device).eval()
    c = ours.config
    theirs = GPT2LMHeadModel(GPT2Config(
        vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head,
        activation_function="gelu_pytorch_tanh", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )).eval()
    theirs.load_state_dict(to_gpt2_state_dict(ours), strict=False)
    return ours, theirs.to(device)


def transformers_greedy(model: GPT2LMHeadModel, prompt: torch.Tensor, new_tokens: int, use_cache: bool = True):
    return model.generate(
        prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
        do_sample=False, use_cache=use_cache, pad_token_id=0,
    )


def cached_decode(device: torch.device, new_tokens: int, repeats: int) -> None:
    ours, theirs = gpt2_pair(device)
    prompt = torch.randint(0, 50257, (1, 8), generator=torch.Generator().manual_seed(1)).to(device)
    with torch.inference_mode():
        our_tokens = ours.generate(prompt, new_tokens, temperature=0)
        their_tokens = transformers_greedy(theirs, prompt, new_tokens)
    same = int((our_tokens == their_tokens).all(dim=0).long().cumprod(0).sum()) - prompt.size(1)
    with torch.inference_mode():
        seconds = best_times({
            "ours": lambda: ours.generate(prompt, new_tokens, temperature=0),
            "transformers": lambda: transformers_greedy(theirs, prompt, new_tokens),
        }, device, repeats)
    our_s, their_s = seconds["ours"], seconds["transformers"]
    print(f"\n## Cached greedy decode, GPT-2 small shape, batch 1, {new_tokens} new tokens\n")
    print(machine_summary(device) + "\n")
    print(table(
        ["implementation", "seconds", "tokens/s", "speed-up"],
        [["models.core.gpt.GPT.generate", our_s, new_tokens / our_s, their_s / our_s],
         ["transformers GPT2LMHeadModel.generate", their_s, new_tokens / their_s, 1.0]],
    ))
    print(f"\nidentical greedy tokens before the first difference: {same} of {new_tokens}")


def per_position(device: torch.device, new_tokens: int, checkpoints: list[int], runs: int = 2) -> None:
    """Time per token at several positions, with and without a KV cache: the fastest of
    ``runs`` generations at each position, after a short warm-up."""
    ours, theirs = gpt2_pair(device)
    prompt = torch.randint(0, 50257, (1, 1), generator=torch.Generator().manual_seed(2)).to(device)
    rows = {}
    for use_cache in (True, False):
        mode = "cache" if use_cache else "no cache"
        contenders = {
            f"ours, {mode}": lambda n: time_per_token(ours, prompt, n, use_cache=use_cache, temperature=0)[1],
            f"transformers, {mode}": lambda n: _transformers_per_token(theirs, prompt, n, use_cache, device),
        }
        for name, measure in contenders.items():
            measure(4)  # warm-up
            tries = [measure(new_tokens) for _ in range(runs)]
            rows[name] = [min(at_position) for at_position in zip(*tries)]
    print("\n## Milliseconds per token vs position (GPT-2 small shape, batch 1)\n")
    headers = ["position"] + list(rows)
    body = [[position] + [1000 * seconds[position - 1] for seconds in rows.values()] for position in checkpoints]
    body.append(["total s"] + [sum(seconds) for seconds in rows.values()])
    print(table(headers, body))


def _transformers_per_token(model, prompt, new_tokens, use_cache, device) -> list[float]:
    """transformers' generate reports tokens through a streamer; we stamp each one."""
    stamps = []

    class Stamp:
        def put(self, value):
            synchronize(device)
            stamps.append(time.perf_counter())

        def end(self):
            pass

    synchronize(device)
    with torch.inference_mode():
        model.generate(
            prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
            do_sample=False, use_cache=use_cache, pad_token_id=0, streamer=Stamp(),
        )
    # The streamer also receives the prompt once, before the first new token.
    return [after - before for before, after in zip(stamps, stamps[1:])]


def main(device: torch.device, quick: bool = False) -> None:
    cached_decode(device, new_tokens=32 if quick else 256, repeats=1 if quick else 3)
    if quick:
        per_position(device, 16, [1, 8, 16], runs=1)
    else:
        per_position(device, 128, [1, 16, 32, 64, 96, 128])
