"""Past one server: two app replicas behind Debian's nginx on loopback, with the repository's own
sticky-routing config (deploy/nginx/app.conf, only its upstream addresses and listen port swapped
for loopback ones, by the class benchmark's own `start_proxy`). A real Chromium session works through the proxy (its WebSocket upgrade is
answered 101), stays on one replica across reruns and a reload, new visitors spread over both
replicas, and the class-load benchmark's agent-API students run through the proxy without an error
(a student routed to the other replica would get `unknown_session`).

Skipped with a reason where nginx is missing, except under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import os
import re
import time
import urllib.request
from pathlib import Path

import pytest

from bench.bench_class import AGENT_ENV, find_nginx, start_proxy
from bench.server import free_port, start_server, stop_server, wait_healthy
from tests.browser.conftest import assert_no_exception, chart_signature, wait_for_app

pytestmark = pytest.mark.browser

REPLICAS = 2


@pytest.fixture(scope="module")
def nginx_path() -> str:
    path = find_nginx()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true but nginx is missing: install Debian's nginx (.ci/run does) or set NGINX_PATH")
        pytest.skip("nginx not found (install Debian's nginx or set NGINX_PATH)")
    return path


@pytest.fixture(scope="module")
def replicas(chromium_path, nginx_path, tmp_path_factory):
    """Two `streamlit run` servers with the agent API on (for the benchmark's students) and one
    shared cookie secret, as deploy/compose.yaml gives its replicas."""
    logs = tmp_path_factory.mktemp("replicas")
    env = {**AGENT_ENV, "STREAMLIT_SERVER_COOKIE_SECRET": "test-secret-shared-by-replicas"}
    ports, processes = [], []
    try:
        for index in range(REPLICAS):
            port = free_port()
            processes.append(start_server(port, output=open(logs / f"replica-{index}.log", "w"), env=env))
            ports.append(port)
        for port, process in zip(ports, processes):
            wait_healthy(f"http://127.0.0.1:{port}", process, timeout=180)
        yield ports
    finally:
        for process in processes:
            stop_server(process)


@pytest.fixture(scope="module")
def proxy(nginx_path, replicas, tmp_path_factory):
    """deploy/nginx/app.conf in front of the replicas (bench.bench_class.start_proxy: only the upstream
    addresses and the listen port become loopback ones; it runs `nginx -t` first)."""
    prefix = tmp_path_factory.mktemp("nginx")
    process, url = start_proxy(replicas, prefix)
    try:
        yield {"url": url, "log": prefix / "access.log", "replicas": [f"127.0.0.1:{port}" for port in replicas]}
    finally:
        process.terminate()
        process.wait(timeout=15)


def routes(log: Path) -> list[dict]:
    """Access log lines as dicts; a line is written when its request (or WebSocket) ends."""
    found = []
    for line in log.read_text().splitlines():
        match = re.match(r'(\S+) (\d+) "(\S+) (\S+)[^"]*" (\S+)$', line)
        if match:
            upstream, status, method, path, route = match.groups()
            found.append({"upstream": upstream, "status": int(status), "path": path, "route": route})
    return found


def test_new_visitors_spread_over_the_replicas_and_get_a_route_cookie(proxy):
    cookies = set()
    for _ in range(16):
        with urllib.request.urlopen(f"{proxy['url']}/_stcore/health", timeout=10) as response:
            assert response.status == 200
            set_cookies = response.headers.get_all("Set-Cookie") or []
            route = [cookie.split(";")[0] for cookie in set_cookies if cookie.startswith("te_replica=")]
            assert len(route) == 1, set_cookies
            cookies.add(route[0])
    assert len(cookies) == 16  # every new visitor gets its own route key
    health = [entry for entry in routes(proxy["log"]) if entry["path"] == "/_stcore/health"]
    assert {entry["upstream"] for entry in health} == set(proxy["replicas"])  # both replicas serve (1 - 2^-15)


def test_a_browser_session_works_through_the_proxy_and_stays_on_one_replica(proxy, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(180_000)
    try:
        page.goto(f"{proxy['url']}/sampling?lang=en")
        wait_for_app(page)  # nothing renders without the WebSocket
        assert_no_exception(page)
        slider = page.locator("[data-testid='stSlider']").filter(has_text="Temperature").get_by_role("slider")
        for _ in range(2):  # reruns over the WebSocket, then a reload opens a new one
            before = chart_signature(page)
            slider.focus()
            slider.press("PageDown")
            wait_for_app(page)
            assert_no_exception(page)
            assert chart_signature(page) != before, "the rerun through the proxy did not redraw the chart"
            page.reload()
            wait_for_app(page)
            assert_no_exception(page)
        route = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "te_replica")
    finally:
        context.close()  # closes the last WebSocket, so nginx logs it
    time.sleep(1)
    mine = [entry for entry in routes(proxy["log"]) if entry["route"] == route]
    sockets = [entry for entry in mine if entry["path"].startswith("/_stcore/stream")]
    assert len(sockets) >= 3 and all(entry["status"] == 101 for entry in sockets), sockets
    assert len({entry["upstream"] for entry in mine}) == 1, mine  # page, scripts, sockets: one replica


def test_class_benchmark_through_the_proxy(proxy):
    from bench.bench_class import run_level

    result = run_level(students=4, browsers=0, duration=15, url=proxy["url"], session_ttl=20, seed=1)
    record = result["record"]
    assert record.errors == []
    assert len(record.opens) >= 4 and record.interactions, "the students did nothing"
    agent = [entry for entry in routes(proxy["log"]) if entry["path"] == "/_stcore/agent/interact"]
    by_route = {}
    for entry in agent:
        by_route.setdefault(entry["route"], set()).add(entry["upstream"])
    assert len(by_route) >= 5 and all(len(upstreams) == 1 for upstreams in by_route.values()), by_route
