"""The one switch between the app and the Hugging Face hub, safe when several sessions load at once,
and the one question asked of it before a download (``probe_hub``).

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


class HubLookupError(Exception):
    """The hub does not know a name (``reason`` "not_found", gated repositories included) or could not
    be asked ("offline": no network, DNS failure, timeout, server error)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def probe_hub(spec: str, timeout_s: float) -> None:
    """One quick request before a download, for a model or a tokenizer a person named: an unknown id
    or no network fails in seconds, not after the download library's minute of retries."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    with hub_access(True, timeout_s):
        try:
            HfApi().model_info(spec, timeout=timeout_s)
        except (RepositoryNotFoundError, GatedRepoError) as error:
            raise HubLookupError("not_found", str(error)) from error
        except Exception as error:  # noqa: BLE001 - no network, DNS failure, timeout, server error
            raise HubLookupError("offline", str(error)) from error
