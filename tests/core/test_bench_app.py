"""The app benchmark's chart-payload helper measures a real page (no timing asserted)."""

from bench.bench_app import largest_chart_bytes, open_page


def test_largest_chart_bytes_on_bag_of_words():
    at = open_page("app_pages/bag_of_words.py")
    assert not at.exception
    assert largest_chart_bytes(at) > 0
