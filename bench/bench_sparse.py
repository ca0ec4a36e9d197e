"""Sparse attention: block-sparse sliding window vs dense causal attention vs FlexAttention.

Sliding window of 256 tokens (causal), batch 1, 8 heads of 64, float32. "Dense causal"
is PyTorch's fused kernel with is_causal=True: the fastest dense baseline, which already
skips the upper triangle. Masks and tile layouts are built once, outside the timings,
the way a model builds them once for all its layers; their cost is listed separately.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from bench import best_times, machine_summary, table
from models.core import masks
from models.core.sparse import block_layout, block_sparse_attention, flex_attention, flex_available, flex_block_mask

WINDOW = 256


def main(device: torch.device, quick: bool = False) -> None:
    lengths = [512, 1024] if quick else [512, 1024, 2048, 4096]
    repeats = 1 if quick else 5
    start = time.perf_counter()
    use_flex = flex_available(device.type)
    probe_s = time.perf_counter() - start
    rows = []
    for T in lengths:
        generator = torch.Generator().manual_seed(T)
        q, k, v = (torch.randn(1, 8, T, 64, generator=generator).to(device) for _ in range(3))
        window = masks.sliding_window(T, WINDOW, device=device)
        layout_start = time.perf_counter()
        layout = block_layout(window, 64)
        layout_ms = 1000 * (time.perf_counter() - layout_start)

        reference = F.scaled_dot_product_attention(q, k, v, attn_mask=window)
        error = (block_sparse_attention(q, k, v, layout=layout) - reference).abs().max().item()
        runs = {
            "dense causal": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            "dense masked": lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=window),
            "ours": lambda: block_sparse_attention(q, k, v, layout=layout),
        }
        flex_error = None
        if use_flex:
            flex_mask = flex_block_mask(window, 128)
            flex_out = flex_attention(q, k, v, block_mask=flex_mask)
            if flex_out is not None:
                flex_error = (flex_out - reference).abs().max().item()
                runs["flex"] = lambda: flex_attention(q, k, v, block_mask=flex_mask)
        seconds = best_times(runs, device, repeats)
        dense_causal, dense_masked, ours, flex = (seconds.get(name) for name in ("dense causal", "dense masked", "ours", "flex"))
        rows.append([
            T, masks.density(window), 1000 * dense_causal, 1000 * dense_masked, 1000 * ours,
            "n/a" if flex is None else 1000 * flex, dense_causal / ours, "n/a" if flex is None else ours / flex,
            layout_ms, f"{error:.1e}" + ("" if flex_error is None else f" / {flex_error:.1e}"),
        ])
    print(f"\n## Sliding-window attention (w={WINDOW}), batch 1, 8 heads x 64, ms per call\n")
    print(machine_summary(device) + "\n")
    print(table(
        ["T", "density", "dense causal", "dense masked", "block-sparse (ours)", "FlexAttention",
         "dense causal / ours", "ours / Flex", "layout ms (once)", "max error ours / Flex"],
        rows,
    ))
    flex_note = f"compiled (probe {probe_s:.0f} s)" if use_flex else "not available on this machine"
    print(f"\nFlexAttention: {flex_note}")
