"""Which device the core computes on: one helper so every page agrees."""

from __future__ import annotations

import torch


def available_devices() -> list[str]:
    """Device names this machine can really use, CPU always first."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def pick_device(choice: str = "auto") -> torch.device:
    """``auto`` prefers CUDA, then Apple's MPS, then the CPU; a named device must exist."""
    if choice == "auto":
        for name in ("cuda", "mps"):
            if name in available_devices():
                return torch.device(name)
        return torch.device("cpu")
    if choice not in available_devices():
        raise ValueError(f"device {choice!r} is not available here; choose one of {available_devices()}")
    return torch.device(choice)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock timings measure the work itself."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
