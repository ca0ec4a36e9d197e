"""The one switch between the app and the Hugging Face hub, safe when several sessions load at once.

The app runs with the hub off. ``huggingface_hub`` reads its offline flag and timeouts from
module-level settings at call time, so they can only be changed process-wide; a load that changes
them holds a lock until it has put them back, so two loads in two sessions can never restore each
other's values halfway through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.RLock()


@contextmanager
def hub_access(online: bool, timeout_s: float) -> Iterator[None]:
    """Offline: the hub library refuses every request. Online (asked for): requests time out
    after ``timeout_s``. The previous settings are back when the block ends, whatever happened."""
    from huggingface_hub import constants

    with _LOCK:
        saved = (constants.HF_HUB_OFFLINE, constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT)
        constants.HF_HUB_OFFLINE = not online
        if online:
            constants.HF_HUB_ETAG_TIMEOUT = constants.HF_HUB_DOWNLOAD_TIMEOUT = timeout_s
        try:
            yield
        finally:
            constants.HF_HUB_OFFLINE, constants.HF_HUB_ETAG_TIMEOUT, constants.HF_HUB_DOWNLOAD_TIMEOUT = saved
