"""The disk caches' rules, written once (word2vec, tokenizers, the reader and blocks labs): where the
cache folder is, how a file gets there, so that a crash mid-write never leaves half a file for the next
reader, and a set of named arrays kept as one ``.npz`` that is computed again when it is damaged."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np


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


def read_arrays(path: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray] | None:
    """The arrays stored at ``path`` when they are all there, of the expected shapes and finite; else None."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: np.asarray(stored[name], dtype=float) for name in stored.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if set(arrays) != set(shapes):
        return None
    if any(arrays[name].shape != shape or not np.isfinite(arrays[name]).all() for name, shape in shapes.items()):
        return None
    return arrays


def stored_arrays(path: Path, shapes: dict[str, tuple[int, ...]],
                  compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``compute()`` once, kept on disk at ``path`` (.npz); a file that is unreadable, incomplete or of
    other shapes is computed again (and written whole or not at all)."""
    arrays = read_arrays(path, shapes)
    if arrays is not None:
        return arrays
    arrays = {name: np.asarray(value, dtype=float) for name, value in compute().items()}

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            np.savez(handle, **arrays)

    atomic_write(path, write)
    return arrays
