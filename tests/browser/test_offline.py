"""The offline guarantee, for real: a second `streamlit run` and Chromium inside a network namespace
that has only loopback (`unshare -n`, so root or user namespaces are needed), and every page renders
there with no exception. Where unshare is not permitted the test is skipped with the reason
(tests/browser/test_pages_render.py still checks that no request leaves the machine), except under
CI=true, where it must run.

Run as a script (`python tests/browser/test_offline.py CHROMIUM`) it is the part that lives inside
the namespace: it checks the outside is unreachable, starts the server, visits every page and
prints one JSON line with what it saw."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # when run as a script inside the namespace
    sys.path.insert(0, str(REPO))

from bench.server import free_port, start_server, stop_server, wait_healthy  # noqa: E402

pytestmark = pytest.mark.browser


def outside_reachable() -> bool:
    """Whether a TCP connection to a public address gets anywhere (it must not in the namespace)."""
    try:
        with socket.create_connection(("1.1.1.1", 80), timeout=3):
            return True
    except OSError:
        return False


def inside_namespace(chromium_path: str) -> dict:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from components.navigation import PAGES
    from tests.browser.conftest import CHROMIUM_FLAGS, RUN_TIMEOUT_MS, wait_for_app

    report = {"outside_reachable": outside_reachable(), "pages": {}}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(Path(tempfile.gettempdir()) / f"streamlit-offline-{port}.log", "w")
    server = start_server(port, output=log)
    try:
        wait_healthy(url, server, timeout=90, poll_s=0.3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.set_default_timeout(RUN_TIMEOUT_MS)
            failed_requests = []
            page.on("requestfailed", lambda request: failed_requests.append(request.url))
            for spec in PAGES:
                path = "" if spec is PAGES[0] else spec.key
                page.goto(f"{url}/{path}?lang=en")
                wait_for_app(page)
                try:
                    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
                except PlaywrightTimeout:
                    pass  # counted as no chart below
                exceptions = page.locator("[data-testid='stException']").all_inner_texts()
                report["pages"][spec.key] = {
                    "exceptions": exceptions[:1],
                    "headings": page.locator("h1").count(),
                    "charts": page.locator(".js-plotly-plot").count(),
                }
            report["failed_requests"] = failed_requests
            browser.close()
    finally:
        stop_server(server)
        log.close()
    return report


def namespace_command() -> list[str] | None:
    """`unshare -n` with loopback brought up, or None (with the reason printed) if not permitted."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip") or "/usr/sbin/ip"
    if unshare is None:
        return None
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None
    return [unshare, "-n", "--", "sh", "-c", f'"{ip}" link set lo up && exec "$0" "$@"']


def test_every_page_works_with_no_network(chromium_path):
    prefix = namespace_command()
    if prefix is None:
        reason = "unshare -n is not permitted here (needs root or user namespaces)"
        if os.environ.get("CI"):
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(f"{reason}; test_pages_render.py still checks that no request leaves the machine")
    done = subprocess.run([*prefix, sys.executable, __file__, chromium_path], cwd=REPO, capture_output=True,
                          text=True, timeout=400, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["outside_reachable"] is False, "the namespace still reaches the outside"
    from components.navigation import PAGES

    assert set(report["pages"]) == {spec.key for spec in PAGES}
    for key, seen in report["pages"].items():
        assert not seen["exceptions"], f"{key} offline: {seen['exceptions'][0]}"
        assert seen["headings"] >= 1 and seen["charts"] >= 1, f"{key} offline rendered no heading or chart: {seen}"
    outside = [u for u in report["failed_requests"] if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    assert not outside, f"pages tried to reach the network: {outside}"


if __name__ == "__main__":
    print(json.dumps(inside_namespace(sys.argv[1])))
