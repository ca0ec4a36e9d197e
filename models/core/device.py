"""Which device the core computes on: one helper so every page agrees.

torch is imported inside the functions, so the app can set the thread count before anything
imports torch (importing it takes 1-2 s, which the first page should not wait for).
"""

from __future__ import annotations

import os
import sys

THREADS_VARIABLE = "TRANSFORMER_EXPLAINER_THREADS"


def available_devices() -> list[str]:
    """Device names this machine can really use, CPU always first."""
    import torch

    names = ["cpu"]
    if torch.cuda.is_available():
        names.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def pick_device(choice: str = "auto") -> torch.device:
    """``auto`` prefers CUDA, then Apple's MPS, then the CPU; a named device must exist."""
    import torch

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
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def configure_threads() -> int:
    """Set how many CPU threads one PyTorch operation may use, once for the whole app.

    Streamlit serves every browser session from threads of one process, and the pages'
    matrices are small: several threads per operation mostly wait for each other, and on a
    busy 2-core machine that made a tiny-GPT pass 10 to 30 times slower. So one thread by
    default; set TRANSFORMER_EXPLAINER_THREADS (e.g. to the number of cores) for faster
    timing runs on a machine used by one person.

    Before torch is imported this only sets OMP_NUM_THREADS, which torch reads when it is
    imported (and which OpenMP / OpenBLAS libraries loaded later read too); afterwards it
    calls ``torch.set_num_threads``.
    """
    threads = max(1, int(os.environ.get(THREADS_VARIABLE, "1")))
    if "torch" not in sys.modules:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        return threads
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
