"""Fuzz every page through AppTest: random Unicode in the text boxes, every slider, number box and
choice at its bounds and at random values, one change and one rerun per example, and never an
exception. One AppTest per page stays open while hypothesis mutates it, so changes pile up into
combinations nobody wrote down. Buttons are never clicked: some start long trainings or timing runs,
and the page tests click the others.

The examples are derandomized, so CI sees the same inputs every time; the count of inputs set is
printed per page (run with -s to see it)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from streamlit.runtime.state.common import TESTING_KEY

from components.navigation import PAGES
from tests.app.conftest import assert_clean, open_page

EXAMPLES_PER_PAGE = 12

# Pieces of text that tend to break things: scripts from both languages, emoji with joiners and
# skin tones, combining marks, right-to-left text and controls, markup, control characters, blanks.
AWKWARD = (
    "", " ", "\n\n", "\t", "\x00", "\x1b[31m", "\u200b", "\ufeff", "\u202e", "\u200f",
    "注意力机制", "你好，世界！", "🙂", "👩🏽‍💻", "🇨🇳", "e\u0301\u0301\u0301", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    "שלום עולם", "مرحبا بالعالم", '<img src=x onerror="alert(1)">', "<script>alert(1)</script>",
    "**bold** $x^2$ `code` [link](http://example.com)", "{0} {name} %s %(x)d", "\\", "../../etc/passwd",
    "[UNK] [CLS] [SEP] [MASK] <|endoftext|>", "a" * 50, "1e309", "NaN", "-0",
)

text_values = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(max_size=40),
    st.lists(st.sampled_from(AWKWARD) | st.text(max_size=8), max_size=12).map("".join),
    st.text(min_size=1, max_size=12).map(lambda s: s * 600),  # far past every cap
)


# One plan per example, drawn without looking at the page (hypothesis needs its draws to be the
# same from run to run): which widget, which text, where between the bounds, which options.
plans = st.fixed_dictionaries({
    "pick": st.integers(0, 10_000),
    "text": text_values,
    "where": st.sampled_from(["low", "high"]) | st.floats(0, 1),
    "flag": st.booleans(),
    "subset": st.lists(st.floats(0, 1), max_size=6),
})


def fuzzable(at) -> list[tuple[str, object]]:
    """Every widget this test may set, as (kind, widget), in page order by kind; buttons excluded."""
    found = []
    for kind in ("text_input", "text_area", "slider", "number_input", "selectbox", "radio",
                 "multiselect", "select_slider", "checkbox", "toggle"):
        found += [(kind, widget) for widget in getattr(at, kind) if widget.key and not widget.disabled]
    return found


def between(low, high, where, step=None):
    """A value between two bounds: the bounds themselves or a fraction of the way."""
    if where == "low":
        return low
    if where == "high":
        return high
    if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
        return low + round(where * (high - low))
    value = low + where * (high - low)
    if step:
        value = low + round((value - low) / step) * step
    return min(max(value, low), high)


def value_for(kind: str, widget, plan):
    """The plan turned into a value this widget accepts."""
    where = plan["where"]
    if kind in ("text_input", "text_area"):
        return plan["text"]
    if kind in ("checkbox", "toggle"):
        return plan["flag"]
    options = list(getattr(widget, "options", []) or [])
    if kind in ("selectbox", "radio"):
        return options[min(int(between(0, len(options) - 1, where)), len(options) - 1)] if options else None
    if kind == "multiselect":
        return list(dict.fromkeys(options[min(int(f * len(options)), len(options) - 1)] for f in plan["subset"])) \
            if options else []
    if kind == "select_slider":
        index = int(between(0, len(options) - 1, where))
        if isinstance(widget.value, (tuple, list)):
            other = int(between(0, len(options) - 1, plan["subset"][0] if plan["subset"] else "low"))
            return [options[min(index, other)], options[max(index, other)]]
        return options[index]
    low, high = widget.min, widget.max
    if low is None or high is None:
        current = widget.value[0] if isinstance(widget.value, (tuple, list)) else widget.value
        low = current - 1_000 if low is None else low
        high = current + 1_000 if high is None else high
    step = getattr(widget, "step", None)
    value = between(low, high, where, step)
    if isinstance(widget.value, (tuple, list)):  # a range slider: from the low bound to the value
        return [low, value]
    return value


def set_value(at, kind: str, widget, plan) -> str:
    """Set the widget as a person would. Choice widgets are set by their shown labels (what the
    browser sends), so the test's copy of the widget's format function passes labels through."""
    value = value_for(kind, widget, plan)
    widget = getattr(at, kind)(key=widget.key)
    if kind in ("selectbox", "radio", "multiselect", "select_slider"):
        formats = widget.root.session_state[TESTING_KEY]
        shown, original = list(widget.options), formats[widget.id]
        formats[widget.id] = lambda option: option if option in shown else original(option)
    widget.set_value(value)
    return f"{kind} {widget.key} = {value!r:.200}"


def sweep_bounds(at) -> int:
    """Every widget at its low bound, then every one at its high bound (texts: empty, then far too
    long and mixed), one rerun per change. Returns the number of inputs set."""
    count = 0
    for where, text in (("low", ""), ("high", "注意力 🙂 <b>x</b> e\u0301 \u202eשלום\x00 " * 300)):
        seen = set()
        while True:
            todo = [(kind, widget) for kind, widget in fuzzable(at) if (kind, widget.key) not in seen]
            if not todo:
                break
            kind, widget = todo[0]
            seen.add((kind, widget.key))
            plan = {"pick": 0, "text": text, "where": where, "flag": where == "high",
                    "subset": [0.0, 0.5, 0.99] if where == "high" else []}
            change = set_value(at, kind, widget, plan)
            at.run()
            count += 1
            assert not at.exception, change
            assert_clean(at)
    return count


@pytest.mark.slow
@pytest.mark.parametrize("spec", PAGES, ids=[spec.key for spec in PAGES])
def test_fuzz_page(spec):
    at = open_page(spec.path, "en")
    counts = {"bounds": sweep_bounds(at), "random": 0}

    @settings(max_examples=EXAMPLES_PER_PAGE, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(plan=plans)
    def change_one(plan):
        widgets = fuzzable(at)
        kind, widget = widgets[plan["pick"] % len(widgets)]
        change = set_value(at, kind, widget, plan)
        note(f"page {spec.key}: {change}")
        at.run()
        counts["random"] += 1
        assert not at.exception, change
        assert_clean(at)

    change_one()
    print(f"fuzz {spec.key}: {counts['bounds']} inputs at their bounds, {counts['random']} random inputs,"
          f" no exception")
    assert counts["random"] >= EXAMPLES_PER_PAGE
