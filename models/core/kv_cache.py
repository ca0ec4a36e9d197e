"""The KV cache: why generating token 1000 need not redo the work for tokens 1..999.

When a decoder writes one token at a time, the keys and values of earlier tokens never
change (a causal model never lets them see the new token). So we keep them: each new
token computes only its own q, k, v, appends k and v here, and attends over everything
stored. Generation then costs one token's work per step instead of the whole prefix's.

The price is memory: 2 (K and V) x layers x K/V heads x head_dim numbers per token.
Grouped-query attention exists largely to shrink this.

Storage is allocated once for ``max_len`` tokens (no re-allocation while generating).

How ``length`` moves: within one forward pass every layer calls :meth:`update` with the
same new tokens, which are written at positions ``length .. length + T - 1``; ``length``
itself stays put until the model calls :meth:`advance` once, after the last layer.
"""

from __future__ import annotations

import torch


class KVCache:
    """Preallocated keys and values for ``n_layer`` layers: (B, H_kv, max_len, D) each."""

    def __init__(
        self,
        n_layer: int,
        batch_size: int,
        n_kv_head: int,
        max_len: int,
        head_dim: int,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        shape = (n_layer, batch_size, n_kv_head, max_len, head_dim)
        self.keys = torch.zeros(shape, device=device, dtype=dtype)  # (L, B, H_kv, max_len, D)
        self.values = torch.zeros(shape, device=device, dtype=dtype)
        self.max_len = max_len
        self.length = 0  # tokens stored and committed by advance()

    @property
    def n_layer(self) -> int:
        return self.keys.size(0)

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store this layer's new k, v (B, H_kv, T, D); return all keys and values so far.

        The result is (B, H_kv, length + T, D): the cached prefix followed by the new tokens.
        """
        start, end = self.length, self.length + k.size(-2)
        if end > self.max_len:
            raise ValueError(
                f"KV cache is full: {self.length} tokens stored + {k.size(-2)} new > max_len {self.max_len}; "
                "make a larger cache or reset() it"
            )
        self.keys[layer, :, :, start:end] = k
        self.values[layer, :, :, start:end] = v
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def advance(self, n_tokens: int) -> None:
        """Commit the tokens written by this forward pass; call once, after the last layer."""
        self.length += n_tokens

    def reset(self) -> None:
        """Forget everything (the memory stays allocated for reuse)."""
        self.length = 0

    @property
    def bytes_per_token(self) -> int:
        """K and V bytes one position occupies, all layers, whole batch."""
        L, B, H_kv, _, D = self.keys.shape
        return 2 * L * B * H_kv * D * self.keys.element_size()

    @property
    def nbytes(self) -> int:
        """Bytes allocated for K and V (all ``max_len`` slots)."""
        return self.bytes_per_token * self.max_len

    @property
    def used_bytes(self) -> int:
        """Bytes holding the ``length`` tokens stored so far."""
        return self.bytes_per_token * self.length
