"""`streamlit run app.py` on a free localhost port, offline: shared by the browser tests and the benchmarks.

``OFFLINE_ENV`` is the environment every such server runs with (nothing may download, as in a
classroom); ``start_server`` starts one, ``wait_healthy`` waits for its health endpoint and
``stop_server`` ends it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
SERVER_FLAGS = ("--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, *, output=subprocess.DEVNULL, extra_flags: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    """The app on ``port`` with the offline environment plus ``env``; stdout and stderr go to ``output``."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(port), *SERVER_FLAGS, *extra_flags],
        cwd=REPO, stdout=output, stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else subprocess.DEVNULL,
        env={**os.environ, **OFFLINE_ENV, **(env or {})},
    )


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120, poll_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(poll_s)
    raise RuntimeError("streamlit did not become healthy in time")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
