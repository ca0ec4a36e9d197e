"""The disk caches' two rules, written once (word2vec, tokenizers): where the cache folder is, and
how a file gets there, so that a crash mid-write never leaves half a file for the next reader."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def cache_folder(cache_dir: Path | str | None, default: Path) -> Path:
    """``cache_dir`` as a Path, or the module's ``default`` folder when None (read at call time)."""
    return default if cache_dir is None else Path(cache_dir)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary)`` to a temporary file in the same folder, then rename it into place:
    readers see the old file or the whole new one; a failure removes the temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
