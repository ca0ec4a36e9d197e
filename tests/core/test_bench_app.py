"""The app benchmark's chart-payload helper measures a real page (no timing asserted)."""

from bench.bench_app import largest_chart_bytes, open_page


def test_largest_chart_bytes_on_bag_of_words():
    at = open_page("app_pages/bag_of_words.py")
    assert not at.exception
    assert largest_chart_bytes(at) > 0


def test_the_512_token_scenario_comes_with_its_page(monkeypatch):
    from tokenizers import Tokenizer

    from bench import bench_app
    from models.pretrained.minilm import minilm_path

    monkeypatch.setattr(bench_app, "SELECTED_PAGES", ("attention",))
    assert [name for name, _, _ in bench_app.runs()] == ["attention", "attention@512"]
    monkeypatch.setattr(bench_app, "SELECTED_PAGES", ("sampling",))
    assert [name for name, _, _ in bench_app.runs()] == ["sampling"]
    _, preset = bench_app.SCENARIOS["attention@512"]
    tokenizer = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    tokenizer.no_truncation()  # the shipped file cuts at 128
    assert len(tokenizer.encode(preset["attention_text"]).ids) > 512, "past MiniLM's limit: the page caps it"
