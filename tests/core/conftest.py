"""Shared helpers for the core tests: tiny sizes, float32, CPU (CUDA too where present)."""

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """Runs a test on the CPU, and again on CUDA when a GPU exists."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seeded_single_thread():
    """Seed every test; tiny tensors run fastest (and steadiest on a shared machine)
    on one CPU thread. The previous thread count is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)
