"""Worst case per page: every control at its most expensive setting, and the explicit buttons.

For each page an AppTest (through app.py, English) is opened; then, one change and one rerun at a
time, every keyed control is put at its expensive end: text boxes get a long mixed Chinese / emoji /
markup text far past every cap, sliders and number boxes their maximum, choice boxes their last
option (the largest model where a list of models is offered), check boxes on. ``CHEAPER_HIGH``
names the few controls whose expensive end is the low one (word2vec's minimum count keeps the most
words; skip-gram trains slower than CBOW); ``TEXT_FOR`` the pages whose costliest text is short. Controls that appear only after an earlier change are
reached too. Then the page's explicit buttons are clicked (``BUTTONS``: word2vec training, the
tokenizer trade-off training, the sparse timing and GPT runs, the KV cache run, ...), each followed
by a plain rerun.

The disk caches of word2vec and the trained tokenizers are pointed at a temporary folder that
holds only the corpus texts and the default models, so every training a button starts is a cold
one, as on a fresh install; so is torch's compile cache (the sparse page's FlexAttention timing
compiles kernels the first time). Caches in memory are shared by all pages, as on a server.

Printed: per page the number of reruns, the slowest rerun and the change that produced it, the
sum of all reruns, and the process's peak memory after the page.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_app import REPO, machine_line, open_page, pages, print_table

LONG_TEXT = "注意力 🙂👩🏽‍💻 <b>x</b> e\u0301 \u202eשלום token " * 300
CHEAPER_HIGH = {"embeddings_min_count", "embeddings_architecture"}  # expensive at the low end
# The KV cache page refuses a prompt that leaves no room in the context, so its costliest prompt is short.
TEXT_FOR = {"kv_cache": "Once upon a time"}
BUTTONS = {
    "overview": ("overview_add_greedy", "overview_add_sampled"),
    "embeddings": ("embeddings_train",),
    "tokenizers": ("tokenizers_tradeoff_train",),
    "sparse": ("sparse_timing_button", "sparse_gpt_button"),
    "sampling": ("sampling_regenerate",),
    "kv_cache": ("kv_cache_run",),
}
# A user's model path (loading one is not the page's own work) and the language switch.
SKIPPED = ("_user_model_spec", "_user_spec", "lang")


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_disk_caches(folder: Path) -> None:
    """Point the word2vec and tokenizer caches at ``folder``, seeded with the corpus texts and the
    default models only (copied from the repository's .cache when they are there)."""
    from models.text import tokenization, word2vec

    for module, name, keep in ((word2vec, "word2vec", ("corpus-", "w2v-v1-skipgram-d100-w5-e5-m5-s0", "scores-")),
                               (tokenization, "tokenizers", ("corpus-", f"-{tokenization.DEFAULT_VOCAB_SIZE}-"))):
        target = folder / name
        target.mkdir(parents=True)
        source = REPO / ".cache" / name
        for path in source.glob("*") if source.is_dir() else ():
            if any(part in path.name for part in keep):
                shutil.copy2(path, target / path.name)
        module.CACHE_DIR = target


def cache_files() -> set[str]:
    from models.text import tokenization, word2vec

    return {f"{folder.name}/{path.name}" for folder in (word2vec.CACHE_DIR, tokenization.CACHE_DIR)
            for path in folder.iterdir()}


def widgets_to_set(at, done: set) -> list[tuple[str, object]]:
    from tests.app.test_fuzz import fuzzable

    return [(kind, widget) for kind, widget in fuzzable(at)
            if (kind, widget.key) not in done and not widget.key.endswith(SKIPPED)]


def expensive_plan(page: str, key: str) -> dict:
    """The fuzz test's plan for a widget's expensive end (see the module docstring)."""
    where = "low" if key in CHEAPER_HIGH else "high"
    return {"pick": 0, "text": TEXT_FOR.get(page, LONG_TEXT), "where": where, "flag": True, "subset": [0.0, 0.5, 0.99]}


def timed_run(at, runs: list, change: str) -> None:
    started = time.perf_counter()
    at.run()
    runs.append((time.perf_counter() - started, change, bool(at.exception)))


def worst_case(spec) -> dict:
    """Every control to its expensive end, then the buttons; the time of each rerun."""
    from tests.app.test_fuzz import set_value

    started = time.perf_counter()
    at = open_page(spec.path, "en", timeout=1800)
    runs = [(time.perf_counter() - started, "open the page", bool(at.exception))]
    done: set = set()
    while todo := widgets_to_set(at, done):
        kind, widget = todo[0]
        done.add((kind, widget.key))
        timed_run(at, runs, set_value(at, kind, widget, expensive_plan(spec.key, widget.key)))
    for key in BUTTONS.get(spec.key, ()):
        shown = [button for button in at.button if button.key == key]
        if not shown or shown[0].disabled:
            runs.append((0.0, f"{key} not offered at these settings", False))
            continue
        # A form keeps its widgets' values only when submitted, so they are set again with the click.
        for kind, widget in widgets_to_set(at, set()):
            set_value(at, kind, widget, expensive_plan(spec.key, widget.key))
        shown[0].click()
        timed_run(at, runs, f"click {key}")
        timed_run(at, runs, f"rerun after {key}")
    slowest = max(runs, key=lambda run: run[0])
    return {"runs": len(runs), "slowest_s": slowest[0], "change": slowest[1],
            "total_s": sum(run[0] for run in runs), "exceptions": sum(run[2] for run in runs),
            "peak_mb": peak_memory_mb()}


def main(device=None, quick: bool = False, only: tuple[str, ...] = ()) -> None:
    """``device`` is accepted for the bench runner; pages pick their own. ``only``: page keys."""
    specs = [spec for spec in pages() if not only or spec.key in only]
    specs = specs[:3] if quick else specs
    print(f"Worst case per page ({machine_line()}), AppTest, cold disk caches", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        cold_disk_caches(Path(folder))
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(Path(folder) / "inductor")
        for spec in specs:
            before = cache_files()
            results[spec.key] = worst_case(spec)
            result = results[spec.key]
            trained = ", ".join(sorted(cache_files() - before))
            print(f"  {spec.key}: slowest {result['slowest_s']:.1f} s ({result['change']:.90}),"
                  f" {machine_line()}" + (f"; written to the disk caches: {trained}" if trained else ""), flush=True)
    print_table(["page", "reruns", "slowest rerun (s)", "setting that produced it", "all reruns (s)",
                 "exceptions", "peak memory (MB)"],
                [[key, r["runs"], f"{r['slowest_s']:.1f}", r["change"][:90].replace("|", "/"), f"{r['total_s']:.0f}",
                  r["exceptions"], f"{r['peak_mb']:.0f}"] for key, r in results.items()])
    print(machine_line())


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    main(quick="--quick" in sys.argv, only=tuple(arg for arg in sys.argv[1:] if not arg.startswith("--")))
