"""The class benchmark's browser student presses only arrow keys that start a rerun."""

import random

from bench.bench_class import arrow_that_moves


def test_an_arrow_key_is_chosen_only_where_it_moves_the_slider():
    rng = random.Random(0)
    assert {arrow_that_moves([0, 10, 5, 1, False], rng) for _ in range(50)} == {"ArrowLeft", "ArrowRight"}
    assert arrow_that_moves([0, 10, 0, 1, False], rng) == "ArrowRight"
    assert arrow_that_moves([0, 10, 10, 1, False], rng) == "ArrowLeft"
    assert arrow_that_moves([0.0, 1.0, 0.9, 0.3, False], rng) == "ArrowLeft"  # 0.9 + 0.3 would pass the end
    assert arrow_that_moves([0.0, 0.9, 0.9, 0.3, False], rng) == "ArrowLeft"
    assert arrow_that_moves([0.1, 0.2, 0.15, 0.1, False], rng) is None  # less than a step either way
    assert arrow_that_moves([0, 10, 5, 1, True], rng) is None  # disabled, or inside a form
    assert arrow_that_moves([3, 3, 3, 1, False], rng) is None
