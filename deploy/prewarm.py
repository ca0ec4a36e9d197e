"""Bake the disk caches into the image: every registered page runs once, in English and Chinese,
so what the pages train on a first visit (the default word2vec space, the tokenizers' training
text and every vocabulary size its slider offers, the reader page's sentence-pair and few-shot
measurements, the blocks page's deep-stack grid, under .cache/) is already on disk when the first student arrives,
and Python's bytecode for the app is compiled. Run at build time by the Dockerfile:

    python deploy/prewarm.py

Exits non-zero if a page raises, so a broken image fails to build instead of failing in class.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMER_EXPLAINER_WARM_UP", "0")
sys.path.insert(0, str(REPO))


def main() -> int:
    from streamlit.testing.v1 import AppTest

    from components.navigation import PAGES

    from models.text import tokenization

    from models.labs import blocks as blocks_lab

    tokenization.train_all(tokenization.missing_tokenizers())  # every vocabulary size the slider offers
    blocks_lab.fill_depth_grid(0)  # every depth the blocks page's slider offers, for the default seed
    failed = []
    for lang in ("en", "zh"):
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=900)
        app.session_state["lang"] = lang
        app.run()
        for spec in PAGES:
            start = time.perf_counter()
            app.switch_page(spec.path)
            app.run()
            problem = [str(error.value) for error in app.exception]
            print(f"{lang} {spec.key}: {time.perf_counter() - start:.1f} s{' EXCEPTION' if problem else ''}", flush=True)
            if problem:
                failed.append(f"{lang}/{spec.key}: {problem[0][:200]}")
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
