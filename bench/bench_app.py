"""App benchmarks: interaction latency, first visit, start-up, peak memory and chart payload per page.

python -m bench app [--quick] [--app-parts latency,first,startup,memory]

- latency: AppTest through app.py, each page run once first (models cached), then every control
  on the page (not the sidebar) moved to another valid value and `at.run()` timed; median and
  p95 per page and over all pages. Besides every page with its defaults, SCENARIOS open a page
  with some controls preset (``attention@512``: a text of more than 512 MiniLM tokens); their
  "first draw" is the run that draws the preset with the models already loaded. CPU time of the
  process (all its threads) is printed beside wall time: on a shared machine it moves far less
  with the load than wall time does. Buttons that start an explicit training / timing run are
  skipped (SKIPPED_BUTTONS). The largest Plotly spec seen per page (chart payload) comes with it.
- first: a fresh Python process per page runs app.py once (the default page), then the first
  switch to the page is timed (what the page must load or train; disk caches under .cache/ as found).
- startup: `streamlit run app.py` process start to the Overview page rendered in Chromium
  (h1 visible, script state notRunning, first Plotly chart drawn); median of several runs.
- memory: peak resident memory (VmHWM) of the streamlit server after visiting every page in Chromium.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.server import OFFLINE_ENV, free_port, start_server, stop_server, wait_healthy

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "app.py")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]

# Buttons that start an explicit training or timing run: excluded from the latency budget.
SKIPPED_BUTTONS = {
    "embeddings_train",  # word2vec training (form submit)
    "tokenizers_tradeoff_train",  # trains tokenizers at several vocab sizes
    "sparse_timing_button",  # times dense vs block-sparse attention
    "sparse_gpt_button",  # evaluates the tiny GPT with a sparse pattern (perplexity + generation)
    "kv_cache_run",  # times generation with and without the cache
}
PARTS = ("latency", "first", "startup", "memory")
BUDGET = {"median_ms": 100, "p95_ms": 300, "first_s": 3.0, "startup_s": 5.0, "memory_mb": 1536, "chart_mb": 1.0}


SELECTED_PAGES: tuple[str, ...] = ()  # set by --app-pages; empty = every page

# Our own paragraph, repeated past MiniLM's 512 positions (about 800 tokens): rare words that
# WordPiece cuts into pieces, punctuation, a pronoun to follow.
LONG_TEXT = ("Unbelievably, the tokenizer splits uncommon words such as photosynthesis into pieces, "
             "and the model still reads them as one idea. When the lesson ended, the students said it "
             "had been the clearest explanation they had heard. ") * 18
SCENARIOS = {"attention@512": ("attention", {"attention_text": LONG_TEXT})}  # name: (page key, preset state)


def pages():
    """The registered pages, or only those named with --app-pages."""
    sys.path.insert(0, str(REPO))
    from components.navigation import PAGES

    return [spec for spec in PAGES if not SELECTED_PAGES or spec.key in SELECTED_PAGES]


def runs() -> list[tuple[str, object, dict]]:
    """(name, page spec, preset session state): every selected page with its defaults, then the
    scenarios of the selected pages."""
    chosen = pages()
    by_key = {spec.key: spec for spec in chosen}
    return ([(spec.key, spec, {}) for spec in chosen]
            + [(name, by_key[key], preset) for name, (key, preset) in SCENARIOS.items() if key in by_key])


def reference_loop_ms(iterations: int = 1_000_000, repeats: int = 3) -> float:
    """The best of ``repeats`` timings of a fixed pure-Python loop: how fast this machine's one core runs
    the interpreter right now. A shared host's speed drifts through the day (the same commit's class
    run took 60% more CPU per request one afternoon than that morning), so tables carry it."""
    best = float("inf")
    for _ in range(repeats):
        start, total = time.perf_counter(), 0
        for number in range(iterations):
            total += number
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def machine_line(speed: bool = False) -> str:
    """CPUs and load average; with ``speed``, the reference loop's time as well."""
    load = os.getloadavg()
    line = f"{os.cpu_count()} CPUs, load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    return line + (f", reference loop {reference_loop_ms():.0f} ms" if speed else "")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def print_table(headers: list[str], rows: list[list]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("| " + " | ".join("---" for _ in headers) + " |")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print(flush=True)


def mark(value: float, budget: float) -> str:
    return "ok" if value <= budget else "**over**"


# ---------------------------------------------------------------- AppTest: payload and latency

def largest_chart_bytes(at) -> int:
    """Bytes of the largest Plotly figure spec (the JSON the browser receives) on the page; 0 if none."""
    sizes = [len(element.proto.spec.encode("utf-8")) for element in at.get("plotly_chart")]
    return max(sizes, default=0)


def open_page(path: str, lang: str = "en", timeout: float = 300, preset: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    for key, value in (preset or {}).items():
        at.session_state[key] = value
    at.switch_page(path)
    at.run()
    return at


WIDGET_KINDS = ("slider", "select_slider", "selectbox", "multiselect", "radio", "checkbox", "toggle",
                "number_input", "text_input", "text_area", "button")


def main_widgets(at) -> list[tuple[str, str]]:
    """(kind, key) of every keyed control in the main area, in page order per kind."""
    found = []
    for kind in WIDGET_KINDS:
        for widget in getattr(at.main, kind):
            key = getattr(widget, "key", None)
            if key and not key.startswith("$$") and key not in SKIPPED_BUTTONS:
                if kind == "button" and getattr(widget.proto, "disabled", False):
                    continue
                found.append((kind, key))
    return found


def other_value(kind: str, widget):
    """A different valid value for the widget, or None when there is none."""
    value = widget.value
    if kind in ("checkbox", "toggle"):
        return not value
    if kind in ("selectbox", "radio"):
        options = list(widget.options)
        if len(options) < 2:
            return None
        index = widget.index or 0
        return ("index", (index + 1) % len(options))
    if kind == "select_slider":
        options = list(widget.options)
        if isinstance(value, (tuple, list)) or len(options) < 2:
            return None
        index = options.index(widget.format_func(value)) if widget.format_func(value) in options else 0
        return ("index", (index + 1) % len(options))
    if kind == "slider":
        low, high, step = widget.min, widget.max, widget.step
        if isinstance(value, (tuple, list)):
            first, second = value
            return (first, second - step) if second - step >= first else None
        if high == low:
            return None
        candidate = value + step if value + step <= high else value - step
        return type(value)(candidate)
    if kind == "number_input":
        step = widget.step or 1
        high, low = widget.max, widget.min
        candidate = value + step
        if high is not None and candidate > high:
            candidate = value - step
        if low is not None and candidate < low:
            return None
        return type(value)(candidate)
    if kind in ("text_input", "text_area"):
        return (value or "") + " and the cat sat"
    if kind == "multiselect":
        options = list(widget.options)
        current = list(widget.value)
        if len(current) > 1:
            return current[:-1]
        extra = [option for option in options if option not in current]
        return current + extra[:1] if extra else None
    return None


def choose_index(widget, index: int) -> None:
    """Select an option of a selectbox / radio / select_slider by position, the way the browser does
    (it sends the option's label); AppTest's own setters need the raw option value, which it does
    not keep when the page gives a format_func."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    label = widget.options[index]
    is_slider = type(widget).__name__ == "SelectSlider"

    def widget_state(self) -> WidgetState:
        state = WidgetState()
        state.id = self.id
        if is_slider:
            state.string_array_value.data[:] = [label]
        else:
            state.string_value = label
        return state

    chosen = type(widget)
    widget.__class__ = type(f"{chosen.__name__}ByIndex", (chosen,), {"_widget_state": property(widget_state)})


def set_widget(at, kind: str, key: str) -> bool:
    """Move one control; False if it is gone or has no other value."""
    try:
        widget = getattr(at, kind)(key=key)
    except KeyError:
        return False
    if getattr(widget.proto, "disabled", False):
        return False
    if kind == "button":
        widget.click()
        return True
    target = other_value(kind, widget)
    if target is None:
        return False
    if kind in ("selectbox", "radio", "select_slider"):
        choose_index(widget, target[1])
    else:
        widget.set_value(target)
    return True


def measure_latency(quick: bool) -> dict:
    """Per page: list of (key, ms) for warm reruns after a control moved, plus the largest chart bytes."""
    results = {}
    max_widgets = 4 if quick else 40
    # No background MiniLM load a few seconds in: it would compete for the CPU with the reruns timed here.
    os.environ.setdefault("TRANSFORMER_EXPLAINER_WARM_UP", "0")
    for name, spec, preset in runs():
        first_draw = first_draw_cpu = None
        if preset:  # the page warm with its defaults first, then the preset drawn: its first draw
            at = open_page(spec.path)
            for key, value in preset.items():
                at.session_state[key] = value
            start, cpu_start = time.perf_counter(), time.process_time()
            at.run()
            first_draw = (time.perf_counter() - start) * 1000
            first_draw_cpu = (time.process_time() - cpu_start) * 1000
        else:
            at = open_page(spec.path)
        payload, payload_source = largest_chart_bytes(at), "defaults" if not preset else "preset"
        at.run()  # warm: everything the page needs is cached now
        timings, failures, cpu = [], [], []
        for kind, key in main_widgets(at)[:max_widgets]:
            try:
                if not set_widget(at, kind, key):
                    continue
                start, cpu_start = time.perf_counter(), time.process_time()
                at.run()
                elapsed = (time.perf_counter() - start) * 1000
                cpu.append((time.process_time() - cpu_start) * 1000)
            except Exception as error:  # a control this harness cannot drive: reported, not fatal
                failures.append(f"{key}: {type(error).__name__}")
                continue
            if at.exception:
                failures.append(f"{key}: exception on page")
                at = open_page(spec.path, preset=preset)
            timings.append((key, elapsed))
            if largest_chart_bytes(at) > payload:
                payload, payload_source = largest_chart_bytes(at), f"after {key}"
        results[name] = {"timings": timings, "payload": payload, "payload_source": payload_source,
                         "failures": failures, "first_draw_ms": first_draw, "first_draw_cpu_ms": first_draw_cpu,
                         "cpu": cpu}
        ms = [value for _, value in timings]
        print(f"  {name}: {len(ms)} controls, median {statistics.median(ms) if ms else float('nan'):.0f} ms, "
              f"largest chart {payload / 1e3:.0f} kB" + (f", first draw {first_draw:.0f} ms" if preset else ""),
              flush=True)
    return results


def report_latency(results: dict) -> None:
    rows, every = [], []
    for key, result in results.items():
        ms = [value for _, value in result["timings"]]
        every += ms
        if not ms:
            rows.append([key, 0, "-", "-", "-", "-", "", ""])
            continue
        median, p95 = statistics.median(ms), percentile(ms, 0.95)
        slowest = max(result["timings"], key=lambda item: item[1])
        status = "ok" if median <= BUDGET["median_ms"] and p95 <= BUDGET["p95_ms"] else "**over**"
        cpu = result.get("cpu") or [float("nan")]
        rows.append([key, len(ms), f"{median:.0f}", f"{p95:.0f}",
                     f"{statistics.median(cpu):.0f} / {percentile(cpu, 0.95):.0f}",
                     f"{slowest[0]} ({slowest[1]:.0f})", status, "; ".join(result["failures"])])
    if every:
        rows.append(["**all pages**", len(every), f"{statistics.median(every):.0f}", f"{percentile(every, 0.95):.0f}",
                     "", "", "ok" if statistics.median(every) <= 100 and percentile(every, 0.95) <= 300 else "**over**", ""])
    print("Warm interaction latency (AppTest rerun after one control moved; budget median <= 100 ms, p95 <= 300 ms)")
    print_table(["page", "controls", "median ms", "p95 ms", "CPU median / p95 ms", "slowest control (ms)", "budget",
                 "not driven"], rows)
    rows = [[key, f"{result['payload'] / 1e3:.1f}", result["payload_source"],
             mark(result["payload"] / 1e6, BUDGET["chart_mb"])] for key, result in results.items()]
    print("Largest chart payload per page (Plotly JSON spec, defaults and after each control; budget <= 1 MB)")
    print_table(["page", "largest chart kB", "seen", "budget"], rows)
    drawn = [[key, f"{result['first_draw_ms']:.0f}", f"{result['first_draw_cpu_ms']:.0f}",
              mark(result["first_draw_ms"] / 1000, BUDGET["first_s"])]
             for key, result in results.items() if result.get("first_draw_ms") is not None]
    if drawn:
        print("Scenarios: first draw of the preset with the models loaded (AppTest run; budget <= 3 s)")
        print_table(["scenario", "first draw ms", "CPU ms", "budget"], drawn)


# ---------------------------------------------------------------- first visit (fresh process per page)

FIRST_VISIT_SCRIPT = """
import json, sys, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=600)
at.session_state["lang"] = "en"
start = time.perf_counter(); at.run(); app_s = time.perf_counter() - start
for key, value in json.loads(sys.argv[3]).items():
    at.session_state[key] = value
start, cpu = time.perf_counter(), time.process_time(); at.switch_page(sys.argv[2]); at.run()
first_s, first_cpu_s = time.perf_counter() - start, time.process_time() - cpu
start = time.perf_counter(); at.run(); second_s = time.perf_counter() - start
print(json.dumps({"app_s": app_s, "first_s": first_s, "first_cpu_s": first_cpu_s, "second_s": second_s,
                  "exception": bool(at.exception)}))
"""


def disk_caches() -> str:
    cache = REPO / ".cache"
    if not cache.exists():
        return "none"
    return ", ".join(f"{folder.name}/ ({len(list(folder.iterdir()))} files)" for folder in sorted(cache.iterdir())
                     if folder.is_dir())


def measure_first_visit(quick: bool) -> dict:
    results = {}
    chosen = runs()
    for name, spec, preset in chosen[:3] if quick else chosen:
        completed = subprocess.run([sys.executable, "-c", FIRST_VISIT_SCRIPT, APP, spec.path, json.dumps(preset)], cwd=REPO,
                                   capture_output=True, text=True, env={**os.environ, **OFFLINE_ENV}, timeout=900)
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(f"  {name}: failed\n{completed.stderr[-2000:]}", flush=True)
            continue
        results[name] = json.loads(lines[-1])
        print(f"  {name}: first {results[name]['first_s']:.2f} s", flush=True)
    return results


def report_first_visit(results: dict) -> None:
    print(f"First visit per page (fresh process, app.py run once first; disk caches: {disk_caches()}; budget <= 3 s)")
    rows = [[key, f"{r['app_s']:.2f}", f"{r['first_s']:.2f}", f"{r['first_cpu_s']:.2f}", f"{r['second_s'] * 1000:.0f}",
             mark(r["first_s"], BUDGET["first_s"]) + (" (exception)" if r["exception"] else "")]
            for key, r in results.items()]
    print_table(["page", "app.py first run s", "first visit s", "first visit CPU s", "next rerun ms", "budget"], rows)


# ---------------------------------------------------------------- real server + Chromium

WAIT_RENDERED = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const running = document.querySelector("[data-testid='stStatusWidget'] button, [data-testid='stSpinner']");
    return app && app.getAttribute('data-test-script-state') === 'notRunning' && !running
        && document.querySelector('h1') && document.querySelector('.js-plotly-plot .main-svg');
}"""
WAIT_IDLE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const running = document.querySelector("[data-testid='stStatusWidget'] button, [data-testid='stSpinner']");
    return app && app.getAttribute('data-test-script-state') === 'notRunning' && !running && document.querySelector('h1');
}"""


def measure_startup(quick: bool) -> list[dict]:
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        for _ in range(1 if quick else 3):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            start = time.perf_counter()
            process = start_server(port)
            try:
                wait_healthy(url, process)
                healthy = time.perf_counter() - start
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                page.goto(f"{url}/?lang=en")
                page.wait_for_function(WAIT_RENDERED, timeout=180_000, polling=50)
                rendered = time.perf_counter() - start
                context.close()
            finally:
                stop_server(process)
            runs.append({"healthy_s": healthy, "rendered_s": rendered})
            print(f"  start-up: healthy {healthy:.2f} s, Overview rendered {rendered:.2f} s", flush=True)
        browser.close()
    return runs


def report_startup(runs: list[dict]) -> None:
    if not runs:
        return
    median = statistics.median(run["rendered_s"] for run in runs)
    print(f"Start-up: `streamlit run app.py` to the Overview rendered in Chromium (median of {len(runs)}; budget <= 5 s)")
    print_table(["runs s (server healthy / Overview rendered)", "median s", "budget"],
                [[", ".join(f"{r['healthy_s']:.2f} / {r['rendered_s']:.2f}" for r in runs), f"{median:.2f}",
                  mark(median, BUDGET["startup_s"])]])


def resident_mb(pid: int) -> tuple[float, float]:
    """(current VmRSS, peak VmHWM) in MB from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            name, amount, _unit = line.split()
            values[name[:-1]] = int(amount) / 1024
    return values["VmRSS"], values["VmHWM"]


def measure_memory(quick: bool) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_server(port)
    steps = []
    try:
        wait_healthy(url, process)
        steps.append(("server started", *resident_mb(process.pid)))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            specs = pages()
            for index, spec in enumerate(specs[:3] if quick else specs):
                page.goto(f"{url}/{'' if index == 0 else spec.key}?lang=en")
                page.wait_for_function(WAIT_IDLE, timeout=600_000, polling=100)
                page.wait_for_timeout(300)
                steps.append((spec.key, *resident_mb(process.pid)))
                print(f"  after {spec.key}: RSS {steps[-1][1]:.0f} MB, peak {steps[-1][2]:.0f} MB", flush=True)
            browser.close()
    finally:
        stop_server(process)
    return {"steps": steps}


def report_memory(result: dict) -> None:
    steps = result["steps"]
    print("Server memory (VmRSS / VmHWM of the streamlit process) after each page visited in Chromium; budget peak <= 1.5 GB")
    rows = [[name, f"{rss:.0f}", f"{peak:.0f}"] for name, rss, peak in steps]
    print_table(["after visiting", "RSS MB", "peak MB"], rows)
    peak = steps[-1][2]
    print(f"Peak resident memory after every page: {peak:.0f} MB ({mark(peak, BUDGET['memory_mb'])})\n", flush=True)


# ---------------------------------------------------------------- entry

def main(device=None, quick: bool = False, parts: tuple[str, ...] = PARTS, only_pages: tuple[str, ...] = ()) -> None:
    global SELECTED_PAGES
    SELECTED_PAGES = tuple(only_pages)
    print(f"## App benchmarks ({machine_line()}, python {sys.version.split()[0]})\n", flush=True)
    if "latency" in parts:
        print("Measuring warm interaction latency and chart payloads...", flush=True)
        report_latency(measure_latency(quick))
    if "first" in parts:
        print("Measuring first visits...", flush=True)
        report_first_visit(measure_first_visit(quick))
    if "startup" in parts:
        print("Measuring start-up...", flush=True)
        report_startup(measure_startup(quick))
    if "memory" in parts:
        print("Measuring memory...", flush=True)
        report_memory(measure_memory(quick))
    print(f"(load average at the end: {machine_line()})")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.bench_app", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--app-parts", default=",".join(PARTS))
    parser.add_argument("--app-pages", default="", help="comma-separated page keys (default: every page)")
    arguments = parser.parse_args()
    main(quick=arguments.quick, parts=tuple(arguments.app_parts.split(",")),
         only_pages=tuple(filter(None, arguments.app_pages.split(","))))
