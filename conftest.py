"""Repository root on sys.path for the tests; the app is offline in tests too."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (pytest.ini: ``-n 2 --dist loadgroup``) every browser test goes to the same worker:
    the browser tests' server and Chromium then share the two cores with one stream of AppTest and core
    tests, not with a second browser stream racing them for the same cores."""
    import pytest

    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
