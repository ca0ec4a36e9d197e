"""Class load: N students at once against a real `streamlit run` server, as a class uses it.

python -m bench class [--students 1,10,30,60] [--duration 60] [--browsers 2] [--url URL] [--replicas 2] [--trace FILE]

Each student is one real Streamlit session driven through Streamlit's agent API
(`POST /_stcore/agent/interact`, described at `/_stcore/agent/openapi.json`): it opens a random page,
(arriving at random times over the first 10 s), then, every 2 s on average (exponential gaps, so the clicks do not march in step), moves one slider,
select slider, select box or radio in the page to a random legal value read from the last snapshot,
and now and then (1 in 10) opens another page. A request returns when the rerun has finished, so
its wall time is what that student waits for. A couple of real Chromium sessions run beside them,
pressing arrow keys on sliders, to measure what a browser waits for (key press to the end-of-run
message reaching the page over its WebSocket); they run at the lowest priority (--browser-nice 19),
since in class each browser draws on its own computer, not on the server's cores.

The agent API is switched on for the benchmark's own server only (environment variable), never in
`make run` / `make serve-lan`. With --url the students go to a running server instead (e.g. the
nginx front of several replicas: each student keeps its cookies, so affinity holds); server CPU and
memory are then not measured. With --replicas 2 the benchmark starts two servers behind Debian's
nginx running deploy/nginx/app.conf (upstreams and port moved to loopback), as deploy/compose.yaml
does. Everything stays on loopback unless --url says otherwise, and every level is bounded by
--duration (plus the server start and a warm-up visit of every page).

Reported per level and per page: interactions, p50 / p95 / max seconds, page opens, errors (HTTP
failures, exceptions on the page, requests that outlived the agent API's 30 s wait); the server's
CPU (cores busy on average) and peak resident memory (VmHWM), and its RSS once the students have
left (their agent sessions expire after --session-ttl seconds). --trace FILE writes every request
(who, what, when, how long) as JSON lines, to see whether slow moves come together.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from bench.bench_app import CHROMIUM, CHROMIUM_FLAGS, machine_line, percentile, print_table, resident_mb
from bench.server import free_port, start_server, stop_server, wait_healthy

LEVELS = (1, 10, 30, 60)
MEAN_GAP_S = 2.0  # a student moves a control every 2 s on average
PAGE_SWITCH = 0.1  # chance that the next action opens another page instead
ARRIVAL_S = 10.0  # students open their first page at random times within these seconds
CHOICE_TYPES = ("slider", "select_slider", "selectbox", "radio")
BUDGET = {"p95_s": 1.0, "max_s": 3.0}
REQUEST_TIMEOUT_S = 120
BROWSER_NICE = 19  # the servers go first: in class the browsers run on the students' computers (--browser-nice 0: as the servers)
AGENT_ENV = {"STREAMLIT_SERVER_ENABLE_AGENT_API": "true"}


# ---------------------------------------------------------------- one student through the agent API

@dataclass
class Record:
    """Everything the students saw, shared by their threads (appends are atomic in CPython): every
    request once, in ``trace`` (what --trace writes); the lists the reports read are views of it."""

    trace: list[dict] = field(default_factory=list)  # in order of their end
    errors: list[tuple[str, str]] = field(default_factory=list)  # (page, what)
    started: float = field(default_factory=time.perf_counter)

    def note(self, who: str, kind: str, page: str, start: float, seconds: float | None, detail: str = "") -> None:
        """One request: who asked (``s3``: agent student 3, ``b0``: browser 0), what ("open" or "move"),
        on which page (``page_keys``: "" is the overview), when (seconds since the level started), how
        long it took (None: it failed)."""
        self.trace.append({"who": who, "kind": kind, "page": page, "at": start - self.started,
                           "s": seconds, "detail": detail})

    def timings(self, kind: str, browser: bool) -> list[tuple[str, float]]:
        """(page, seconds) of every request of ``kind`` that finished, by the browsers or by the agent students."""
        return [(line["page"], line["s"]) for line in self.trace
                if line["kind"] == kind and line["s"] is not None and line["who"].startswith("b") == browser]

    @property
    def interactions(self) -> list[tuple[str, float]]:
        return self.timings("move", browser=False)

    @property
    def opens(self) -> list[tuple[str, float]]:
        return self.timings("open", browser=False)

    @property
    def browser(self) -> list[tuple[str, float]]:
        return self.timings("move", browser=True)

    @property
    def browser_opens(self) -> list[tuple[str, float]]:
        return self.timings("open", browser=True)

    @property
    def slowest(self) -> dict[str, tuple[float, str]]:
        """page -> (seconds, "key=value") of the agent students' slowest move there."""
        found: dict[str, tuple[float, str]] = {}
        for line in self.trace:
            if line["kind"] == "move" and line["s"] is not None and not line["who"].startswith("b"):
                found[line["page"]] = max(found.get(line["page"], (0.0, "")), (line["s"], line["detail"]))
        return found


class AgentError(Exception):
    pass


class Student:
    """One agent-API session with its own cookie jar (a proxy's affinity cookie sticks to it)."""

    def __init__(self, base_url: str):
        self.endpoint = base_url.rstrip("/") + "/_stcore/agent/interact"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.session_id: str | None = None
        self.snapshot: dict | None = None

    def post(self, body: dict) -> dict:
        request = urllib.request.Request(self.endpoint, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT_S) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                return json.loads(error.read())
            except ValueError:
                raise AgentError(f"HTTP {error.code}") from None

    def interact(self, body: dict) -> None:
        """One request until its run has settled; raises AgentError for anything but a clean page."""
        if self.session_id:
            body = {"session_id": self.session_id, **body}
        reply = self.post(body)
        timed_out = False
        while "error" in reply and reply["error"].get("code") == "wait_timed_out":
            timed_out = True
            self.session_id = reply.get("session_id", self.session_id)
            reply = self.post({"session_id": self.session_id})
        if "error" in reply and not (reply["error"].get("code") == "unknown_page" and reply.get("session_id")):
            raise AgentError(reply["error"].get("code", "error"))
        self.session_id = reply.get("session_id", self.session_id)
        if "tree" in reply:
            self.snapshot = reply
            if reply.get("status") != "ready":
                raise AgentError("exception on the page")
        if timed_out:
            raise AgentError("over the agent API's wait (30 s)")

    def controls(self) -> list[dict]:
        """The sliders and choosers of the page's main area, as nodes of the last snapshot."""
        actionable = {action["key"] for action in (self.snapshot or {}).get("actions", []) if action["kind"] == "value"}
        main = next((node for node in (self.snapshot or {}).get("tree", {}).get("children", [])
                     if node.get("type") == "main"), {})
        found, stack = [], [main]
        while stack:
            node = stack.pop()
            if node.get("type") in CHOICE_TYPES and node.get("key") in actionable and not node.get("form_id"):
                found.append(node)
            stack.extend(node.get("children", []))
        return found


def random_value(node: dict, rng: random.Random):
    """A random legal value for a slider / select slider / select box / radio node, or None."""
    props = node.get("props", {})
    if node["type"] == "slider":
        low, high, step = props.get("min_value"), props.get("max_value"), props.get("step") or 1
        if low is None or high is None or high <= low or isinstance(low, str):
            return None
        steps = int(round((high - low) / step))

        def pick():
            value = low + step * rng.randint(0, steps)
            return int(value) if isinstance(low, int) and isinstance(step, int) else round(value, 6)

        if isinstance(node.get("value"), list):
            return sorted([pick(), pick()])
        return pick()
    options = props.get("options") or []
    if len(options) < 2:
        return None
    if isinstance(node.get("value"), list):  # a range select slider
        first, second = sorted(rng.sample(range(len(options)), 2))
        return [options[first], options[second]]
    return rng.choice(options)


def student_loop(student_index: int, base_url: str, pages: list[str], deadline: float, record: Record,
                 seed: int) -> None:
    rng = random.Random(seed * 1000 + student_index)
    student = Student(base_url)
    page = rng.choice(pages)

    def timed(kind: str, body: dict) -> None:
        detail = ", ".join(f"{key}={value}" for key, value in body.get("widget_state", {}).items())
        start = time.perf_counter()
        try:
            student.interact(body)
        except (AgentError, OSError, ValueError) as error:
            record.errors.append((page, f"{kind}: {error}"))
            record.note(f"s{student_index}", kind, page, start, None, f"{detail} {error}".strip())
            return
        record.note(f"s{student_index}", kind, page, start, time.perf_counter() - start, detail)

    time.sleep(rng.uniform(0, ARRIVAL_S))  # a class arrives over some seconds, not in one millisecond
    timed("open", {"page": page})
    while True:
        gap = rng.expovariate(1 / MEAN_GAP_S)
        if time.monotonic() + gap > deadline:
            return
        time.sleep(gap)
        if student.session_id is None:
            timed("open", {"page": page})
            continue
        controls = student.controls()
        if not controls or rng.random() < PAGE_SWITCH:
            page = rng.choice([other for other in pages if other != page] or pages)
            timed("open", {"page": page})
            continue
        node = rng.choice(controls)
        value = random_value(node, rng)
        if value is not None:
            timed("move", {"widget_state": {node["key"]: value}})


# ---------------------------------------------------------------- a couple of real browsers

class RunsSeen:
    """When the server's end-of-run messages (ForwardMsg ``script_finished``, also sent after a fragment
    rerun) reached one browser page, read from its WebSocket. A page attribute that flips to "running"
    and back would miss a rerun fast enough for both to land in one frame (a 92 ms fragment rerun on the
    inside-a-block page did, and the benchmark counted a 30 s timeout)."""

    def __init__(self, page_handle):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.finished: list[float] = []

        def on_frame(payload) -> None:
            if isinstance(payload, bytes) and ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                self.finished.append(time.perf_counter())

        page_handle.on("websocket", lambda socket: socket.on("framereceived", on_frame))

    def wait_after(self, page_handle, start: float, timeout_s: float) -> float | None:
        """Seconds from ``start`` to the first run that finished after it, or None after ``timeout_s``
        (Playwright hands the frames over while the page is being waited on, in steps of 10 ms)."""
        while time.perf_counter() - start < timeout_s:
            if self.finished and self.finished[-1] > start:  # appended in time order
                return next(moment for moment in self.finished if moment > start) - start
            page_handle.wait_for_timeout(10)
        return None


WAIT_IDLE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const running = document.querySelector("[data-testid='stStatusWidget'] button, [data-testid='stSpinner']");
    return app && app.getAttribute('data-test-script-state') === 'notRunning' && !running && document.querySelector('h1');
}"""


SLIDER_RANGE = """(input) => [Number(input.min), Number(input.max), Number(input.value), Number(input.step) || 1,
                               input.disabled || Boolean(input.closest("[data-testid='stForm']"))]"""


def arrow_that_moves(slider_range: list, rng: random.Random) -> str | None:
    """An arrow key that changes the slider's value by a whole step (at an end only one does, and a
    float slider can stop short of its end by less than a step; a press that changes nothing starts
    no rerun, and waiting for one would time out), or None when neither does or the slider cannot
    send (disabled, or inside a form that waits for its submit button)."""
    low, high, value, step, inert = slider_range
    room = 1e-9 * max(1.0, abs(step))
    if inert or high <= low:
        return None
    keys = [key for key, moves in (("ArrowLeft", value - step >= low - room),
                                   ("ArrowRight", value + step <= high + room)) if moves]
    return rng.choice(keys) if keys else None


def niced_chromium(folder: Path, nice: int) -> str:
    """A launcher that starts Chromium (and so every process it forks) at ``nice``: on this one machine
    the browsers' drawing competes with the servers for the cores, which a real class does not do.

    Niceness alone does not do it on Linux with autogroups (``/proc/sys/kernel/sched_autogroup_enabled``):
    Playwright starts Chromium in a session of its own, the scheduler then shares the cores fairly
    between that session's group and the servers' whatever each process's niceness, and Chromium, run
    as root, raises some of its processes to -8 besides. So the launcher also sets its new group's
    niceness (``/proc/self/autogroup``) where the kernel has one."""
    if nice <= 0:
        return CHROMIUM
    launcher = folder / "chromium-niced"
    launcher.write_text(f'#!/bin/sh\n[ -w /proc/self/autogroup ] && echo {int(nice)} > /proc/self/autogroup 2>/dev/null\n'
                        f'exec nice -n {int(nice)} "{CHROMIUM}" "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


def chromium_cpu_seconds() -> dict[int, float]:
    """CPU seconds so far of every Chromium process on the machine, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("chromium", "chrome", "headless_shell"):
                    found[int(entry.name)] = cpu_seconds(int(entry.name))
            except OSError:  # it ended while we looked
                continue
    return found


def browser_loop(browser_index: int, base_url: str, pages: list[str], deadline: float, record: Record,
                 seed: int, executable: str = CHROMIUM) -> None:
    """A real Chromium session: open a page, press an arrow key on one of its sliders every ~2 s."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed * 1000 + 500 + browser_index)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page_handle = context.new_page()
        page_handle.set_default_timeout(60_000)
        runs = RunsSeen(page_handle)
        key, where = None, {"who": f"b{browser_index}"}
        try:
            while time.monotonic() < deadline:
                try:
                    key = browser_step(page_handle, runs, base_url, key, pages, rng, record, where)
                except PlaywrightError as error:  # say so (on the page it was on), then go on from a freshly opened page
                    if time.monotonic() < deadline:
                        record.errors.append((where.get("page", ""), f"browser: {str(error).splitlines()[0][:160]}"))
                    key = None
        finally:
            browser.close()


def browser_step(page_handle, runs: RunsSeen, base_url: str, key: str | None, pages: list[str],
                 rng: random.Random, record: Record, where: dict) -> str | None:
    """One step of a browser student: maybe open a page, wait a human gap, press an arrow key on one
    of the page's sliders and time the rerun. Returns the page it is on (None: open another);
    ``where["who"]`` names the browser in the record; ``where["page"]`` says which page it is working
    on, for an error raised on the way."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    opening = key is None or rng.random() < PAGE_SWITCH
    key = where["page"] = rng.choice(pages) if opening else key
    if opening:
        start = time.perf_counter()
        page_handle.goto(f"{base_url}/{key}?lang=en")
        page_handle.wait_for_function(WAIT_IDLE, polling=50)
        page_handle.wait_for_load_state("networkidle")  # the widgets' own scripts (a slider's is fetched when first drawn)
        record.note(where["who"], "open", key, start, time.perf_counter() - start)
    time.sleep(rng.expovariate(1 / MEAN_GAP_S))
    sliders = page_handle.locator("[data-testid='stMain'] [data-testid='stSlider'] input[type='range']")
    if sliders.count() == 0:
        return None
    slider = sliders.nth(rng.randrange(sliders.count()))
    before = slider.evaluate(SLIDER_RANGE)
    direction = arrow_that_moves(before, rng)
    if direction is None:
        return key
    page_handle.wait_for_function(WAIT_IDLE, polling=50)  # a press during a rerun would be timed from the wrong one
    slider.focus()
    start = time.perf_counter()
    slider.press(direction)
    waited = runs.wait_after(page_handle, start, 30.0)
    if waited is None:  # say what the page showed, so the next run can tell a lost press from a stall
        moved = slider.evaluate(SLIDER_RANGE)[2] != before[2]
        raise PlaywrightTimeout(f"no rerun finished within 30 s of the press (the slider {'moved' if moved else 'did not move'})")
    record.note(where["who"], "move", key, start, waited, direction)
    if page_handle.locator("[data-testid='stException']").count():
        record.errors.append((key or "overview", "browser: exception on the page"))
    return key


# ---------------------------------------------------------------- one level

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_keys() -> list[str]:
    """The agent API's url_path of every registered page ("" is the default page)."""
    from components.navigation import PAGES

    return ["" if index == 0 else spec.key for index, spec in enumerate(PAGES)]


def warm_disk_caches() -> None:
    """Every tokenizer the vocabulary slider offers and the blocks page's deep-stack grid, computed once
    into .cache/ (as a built image has them, deploy/prewarm.py): a cold disk cache is
    `python -m bench worst`'s business, not a class's."""
    from models.labs import blocks as blocks_lab
    from models.text import tokenization

    tokenization.train_all(tokenization.missing_tokenizers())
    blocks_lab.fill_depth_grid(0)


def warm_up(base_url: str, pages: list[str]) -> float:
    """One untimed visit of every page, so the first students do not pay for loading models."""
    start = time.perf_counter()
    student = Student(base_url)
    for key in pages:
        began = time.perf_counter()
        try:
            student.interact({"page": key})
            outcome = "ok"
        except (AgentError, OSError) as error:
            outcome = str(error)
        print(f"  warm-up {key or 'overview'}: {time.perf_counter() - began:.1f} s ({outcome})", flush=True)
    return time.perf_counter() - start


def run_level(students: int, browsers: int, duration: float, url: str | None, session_ttl: int, seed: int,
              replicas: int = 1, browser_nice: int = BROWSER_NICE) -> dict:
    """One level: start the server(s) unless ``url`` is given (``replicas`` > 1: that many behind
    nginx with deploy/nginx/app.conf), warm every page, let the class work for ``duration`` s."""
    pages = page_keys()
    processes, proxy = [], None
    launcher_folder = tempfile.TemporaryDirectory(prefix="bench-class-chromium-")
    executable = niced_chromium(Path(launcher_folder.name), browser_nice)
    if url is None:
        os.environ.update(AGENT_ENV, STREAMLIT_SERVER_AGENT_SESSION_TTL=str(session_ttl))
        ports = [free_port() for _ in range(replicas)]
        processes = [start_server(port) for port in ports]
    try:
        warm_s = 0.0
        for port, process in zip(ports if processes else [], processes):
            wait_healthy(f"http://127.0.0.1:{port}", process)
            warm_s += warm_up(f"http://127.0.0.1:{port}", pages)
        if processes:
            url = f"http://127.0.0.1:{ports[0]}"
            if replicas > 1:
                proxy, url = start_proxy(ports)
        else:
            warm_s = warm_up(url, pages)
        record = Record()
        cpu_start = sum(cpu_seconds(process.pid) for process in processes)
        client_start = sum(os.times()[:2])
        wall_start = time.monotonic()
        deadline = wall_start + duration
        threads = [threading.Thread(target=student_loop, args=(index, url, pages, deadline, record, seed), daemon=True)
                   for index in range(students)]
        threads += [threading.Thread(target=browser_loop, args=(index, url, pages, deadline, record, seed, executable),
                                     daemon=True) for index in range(browsers)]
        peak_rss, chromium_before, chromium_cpu = 0.0, chromium_cpu_seconds(), {}
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            if processes:
                peak_rss = max(peak_rss, sum(resident_mb(process.pid)[0] for process in processes))
            chromium_cpu.update(chromium_cpu_seconds())  # the last reading of each process (up to 1 s short)
            time.sleep(1)
        wall = time.monotonic() - wall_start
        result = {"students": students, "browsers": browsers, "replicas": replicas if processes else None,
                  "record": record, "wall_s": wall, "warm_s": warm_s,
                  "client_cores": (sum(os.times()[:2]) - client_start) / wall, "load": machine_line(),
                  "browser_cores": sum(cpu - chromium_before.get(pid, 0.0) for pid, cpu in chromium_cpu.items()) / wall}
        if processes:
            result["server_cpu_s"] = sum(cpu_seconds(process.pid) for process in processes) - cpu_start
            result["server_cores"] = result["server_cpu_s"] / wall
            result["peak_mb"] = max(peak_rss, sum(resident_mb(process.pid)[1] for process in processes))
            # Idle agent sessions expire after the TTL; Streamlit sweeps them every TTL seconds (at most 60).
            time.sleep(2 * min(session_ttl, 60) + 3)
            result["after_mb"] = sum(resident_mb(process.pid)[0] for process in processes)
        return result
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=15)
        for process in processes:
            stop_server(process)
        launcher_folder.cleanup()


# ---------------------------------------------------------------- server CPU per request, page by page

def cpu_per_page(moves: int = 10, students: int = 2, seed: int = 0, only: tuple[str, ...] = ()) -> dict:
    """One student at a time against a fresh server (after a warm-up visit of every page): per page,
    ``students`` sessions each open it and make ``moves`` random moves as in the class level. Nothing
    else asks the server for work, so the server's CPU time over one request is that request's cost
    (``/proc`` ticks, 10 ms), which a busy machine inflates far less than wall time. The students are
    agent-API sessions, so the agent API's own work (describing every element, the snapshot) is in it."""
    os.environ.update(AGENT_ENV, STREAMLIT_SERVER_AGENT_SESSION_TTL="20")
    port = free_port()
    process = start_server(port)
    url = f"http://127.0.0.1:{port}"
    pages = [key for key in page_keys() if not only or (key or "overview") in only]
    results = {}
    try:
        wait_healthy(url, process)
        warm_up(url, page_keys())
        for key in pages:
            rng = random.Random(seed * 7919 + zlib.crc32(key.encode()))
            opens, done = [], []  # done: (cpu s, "key=value")
            for _ in range(students):
                student = Student(url)
                before = cpu_seconds(process.pid)
                student.interact({"page": key})
                opens.append(cpu_seconds(process.pid) - before)
                for _ in range(moves):
                    controls = student.controls()
                    if not controls:
                        break
                    node = rng.choice(controls)
                    value = random_value(node, rng)
                    if value is None:
                        continue
                    before = cpu_seconds(process.pid)
                    try:
                        student.interact({"widget_state": {node["key"]: value}})
                    except AgentError as error:
                        print(f"  {key or 'overview'}: {node['key']}={value}: {error}", flush=True)
                    done.append((cpu_seconds(process.pid) - before, f"{node['key']}={value}"))
            results[key or "overview"] = {"opens": opens, "moves": done}
    finally:
        stop_server(process)
    return results


def report_cpu_per_page(results: dict) -> None:
    rows, every = [], []
    for page, found in results.items():
        ms = [1000 * cpu for cpu, _ in found["moves"]]
        every += ms
        slowest = max(found["moves"], default=(0.0, ""))
        rows.append([page, len(ms), f"{sum(ms) / len(ms):.0f}" if ms else "-", f"{percentile(ms, 0.5):.0f}" if ms else "-",
                     f"{max(ms):.0f}" if ms else "-", f"{1000 * sum(found['opens']) / len(found['opens']):.0f}",
                     slowest[1][:60]])
    rows.append(["**all pages**", len(every), f"{sum(every) / max(1, len(every)):.0f}",
                 f"{percentile(every, 0.5):.0f}" if every else "-", f"{max(every, default=0):.0f}", "", ""])
    print_table(["page", "moves", "CPU ms per move, mean", "median", "max", "CPU ms per open", "costliest move"], rows)


# ---------------------------------------------------------------- several replicas behind nginx

SITE_CONF = Path(__file__).resolve().parents[1] / "deploy" / "nginx" / "app.conf"
ROUTE_LOG_FORMAT = "log_format routes '$upstream_addr $status \"$request\" $te_route';"


def loopback_site(ports: list[int], listen: int) -> str:
    """deploy/nginx/app.conf with its upstream servers and listen port moved to loopback."""
    text = SITE_CONF.read_text()
    servers = re.findall(r"^\s*server\s+app\d+:8501[^;]*;\n", text, flags=re.MULTILINE)
    if len(servers) < len(ports) or "listen 8080;" not in text:
        raise ValueError("deploy/nginx/app.conf no longer lists app1:8501, app2:8501, ... or listens on 8080")
    options = servers[0].split(":8501", 1)[1].rstrip(";\n")
    loopback = "".join(f"    server 127.0.0.1:{port}{options};\n" for port in ports)
    return text.replace("".join(servers), loopback).replace("listen 8080;", f"listen 127.0.0.1:{listen};")


def nginx_conf(prefix: Path, site: str) -> str:
    """A whole nginx.conf around ``site`` that lives in ``prefix`` (pid, logs, temp files); the access log
    names the replica behind every request (format ``routes``)."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers could not enter a private tmp dir
    temp = "\n".join(f"    {name}_temp_path {prefix / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n    {ROUTE_LOG_FORMAT}\n    access_log {prefix / 'access.log'} routes;\n{temp}\n{site}\n}}\n")


def find_nginx() -> str | None:
    candidates = [os.environ.get("NGINX_PATH"), shutil.which("nginx"), "/usr/sbin/nginx", "/usr/local/sbin/nginx"]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def start_proxy(ports: list[int], prefix: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Debian's nginx on a free loopback port in front of ``ports``; returns (process, url)."""
    nginx = find_nginx()
    if nginx is None:
        raise RuntimeError("nginx not found (install Debian's nginx or set NGINX_PATH)")
    prefix = prefix or Path(tempfile.mkdtemp(prefix="bench-class-nginx-"))
    listen = free_port()
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, loopback_site(ports, listen)))
    command = [nginx, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(prefix / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(checked.stderr)
    process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{listen}"
    wait_healthy(url, process, timeout=30)
    return process, url


# ---------------------------------------------------------------- report

def seconds(values: list[float], q: float | None = None) -> str:
    if not values:
        return "-"
    return f"{(max(values) if q is None else percentile(values, q)):.2f}"


def report_level(result: dict) -> None:
    record: Record = result["record"]
    print(f"### {result['students']} students + {result['browsers']} browsers, {result['wall_s']:.0f} s "
          f"(warm-up of every page {result['warm_s']:.0f} s; {result['load']})")
    by_page: dict[str, list[float]] = {}
    for page, value in record.interactions:
        by_page.setdefault(page, []).append(value)
    opens: dict[str, list[float]] = {}
    for page, value in record.opens:
        opens.setdefault(page, []).append(value)
    errors: dict[str, list[str]] = {}
    for page, what in record.errors:
        errors.setdefault(page, []).append(what)
    rows = []
    for page in page_keys():
        values = by_page.get(page, [])
        over = values and (percentile(values, 0.95) > BUDGET["p95_s"] or max(values) > BUDGET["max_s"])
        rows.append([page or "overview", len(values), seconds(values, 0.5), seconds(values, 0.95), seconds(values),
                     len(opens.get(page, [])), seconds(opens.get(page, []), 0.5), seconds(opens.get(page, [])),
                     len(errors.get(page, [])), "**over**" if over else ("ok" if values else ""),
                     record.slowest.get(page, (0.0, ""))[1][:60]])
    every = [value for _, value in record.interactions]
    rows.append(["**all pages**", len(every), seconds(every, 0.5), seconds(every, 0.95), seconds(every),
                 len(record.opens), seconds([v for _, v in record.opens], 0.5), seconds([v for _, v in record.opens]),
                 len(record.errors), "", ""])
    browser = [value for _, value in record.browser]
    if record.browser or record.browser_opens:
        rows.append(["*Chromium*", len(browser), seconds(browser, 0.5), seconds(browser, 0.95), seconds(browser),
                     len(record.browser_opens), seconds([v for _, v in record.browser_opens], 0.5),
                     seconds([v for _, v in record.browser_opens]), "", "", ""])
    print_table(["page", "moves", "p50 s", "p95 s", "max s", "opens", "open p50 s", "open max s", "errors",
                 f"budget (p95 <= {BUDGET['p95_s']:g}, max <= {BUDGET['max_s']:g})", "slowest move"], rows)
    if record.errors:
        kinds: dict[str, int] = {}
        for _, what in record.errors:
            kinds[what] = kinds.get(what, 0) + 1
        print("Errors: " + "; ".join(f"{what} x{count}" for what, count in sorted(kinds.items())) + "\n")


def report_summary(results: list[dict]) -> None:
    print("### Summary")
    rows = []
    for result in results:
        record: Record = result["record"]
        every = [value for _, value in record.interactions]
        page_p95 = {}
        for page, value in record.interactions:
            page_p95.setdefault(page or "overview", []).append(value)
        worst = max(page_p95.items(), key=lambda item: percentile(item[1], 0.95), default=("-", []))
        rows.append([result["students"], len(every), seconds(every, 0.5), seconds(every, 0.95), seconds(every),
                     f"{worst[0]} {seconds(worst[1], 0.95)}", len(record.errors),
                     f"{result.get('server_cores', float('nan')):.2f}",
                     f"{1000 * result.get('server_cpu_s', float('nan')) / max(1, len(every) + len(record.opens)):.0f}",
                     f"{result['client_cores']:.2f}", f"{result.get('browser_cores', float('nan')):.2f}",
                     f"{result.get('peak_mb', float('nan')):.0f}", f"{result.get('after_mb', float('nan')):.0f}"])
    print_table(["students", "moves", "p50 s", "p95 s", "max s", "worst page p95 s", "errors", "server cores",
                 "server CPU ms per request", "bench cores", "Chromium cores", "server peak MB", "RSS after they left MB"], rows)


def write_trace(result: dict, path: Path, several: bool) -> None:
    """Every request of the level as one JSON line (see ``Record.note``); ``FILE`` becomes
    ``FILE-30`` and so on when several levels run."""
    if several:
        path = path.with_name(f"{path.stem}-{result['students']}{path.suffix}")
    rounded = ({**line, "page": line["page"] or "overview", "at": round(line["at"], 3),
                "s": None if line["s"] is None else round(line["s"], 3)} for line in result["record"].trace)
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in rounded))
    print(f"(trace of {len(result['record'].trace)} requests: {path})")


def main(device=None, quick: bool = False, levels: tuple[int, ...] = LEVELS, duration: float = 60.0,
         browsers: int = 2, url: str | None = None, session_ttl: int = 20, seed: int = 0, replicas: int = 1,
         cpu_moves: int = 0, pages: tuple[str, ...] = (), browser_nice: int = BROWSER_NICE,
         trace: str | None = None) -> None:
    if cpu_moves:
        print(f"## Server CPU per request, one student at a time ({machine_line(speed=True)}; {cpu_moves} moves x 2 sessions "
              f"per page)\n", flush=True)
        warm_disk_caches()
        report_cpu_per_page(cpu_per_page(cpu_moves, seed=seed, only=pages))
        print(f"(load average at the end: {machine_line()})")
        return
    if quick:
        levels, duration, browsers = tuple(level for level in levels if level <= 10) or (1,), min(duration, 15), 1
    print(f"## Class load ({machine_line(speed=True)}; agent API students + {browsers} Chromium at nice {browser_nice}; "
          f"{duration:.0f} s per level; "
          f"{'server ' + url if url else f'{replicas} own server(s) on loopback' + (' behind nginx' if replicas > 1 else '')})\n",
          flush=True)
    if url is None:
        warm_disk_caches()
    results = []
    for students in levels:
        print(f"Running {students} students...", flush=True)
        result = run_level(students, browsers, duration, url, session_ttl, seed, replicas, browser_nice)
        report_level(result)
        results.append(result)
        if trace:
            write_trace(result, Path(trace), several=len(levels) > 1)
    report_summary(results)
    print(f"(load average at the end: {machine_line()})")
