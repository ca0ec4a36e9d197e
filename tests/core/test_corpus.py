"""The training text: markup removed, case and punctuation kept, a held-out split by document
that is reproducible and never overlaps the training split; the script's building blocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.text.corpus import Document, clean_wiki_text, encode_documents, load_corpus, split_documents
from models.pretrained.tokens import END_OF_TEXT
from models.train import TrainConfig, batch_at, learning_rate, train_tokenizer


@pytest.fixture(scope="module")
def corpus():
    return load_corpus()


def test_wiki_cleanup_keeps_prose_and_drops_markup_leftovers():
    raw = "\n".join([
        "In Greek mythology, '''Achilles''' (; , ''Akhilleus'', ) was a hero.",
        "== Early life ==",
        "* He was ''fast''.",
        "File:Achilles.jpg|A vase",
        "thumb|right|caption text",
        "== References ==",
        "* Smith, J. (1999). A Book.",
        "=== Notes ===",
        "* More citations.",
        "== Legacy ==",
        "He is remembered ( ) today .",
    ])
    assert clean_wiki_text(raw) == (
        "In Greek mythology, Achilles (Akhilleus) was a hero.\n\nEarly life\nHe was fast.\n\n"
        "Legacy\nHe is remembered today."
    )


def test_corpus_has_both_sources_with_case_and_punctuation(corpus):
    documents = corpus.train + corpus.heldout
    assert {doc.source for doc in documents} == {"wiki", "lee"}
    assert sum(doc.source == "wiki" for doc in documents) > 80
    assert sum(doc.source == "lee" for doc in documents) == 300
    text = " ".join(doc.text[:2000] for doc in documents[:20])
    assert any(ch.isupper() for ch in text) and "," in text and "." in text
    assert "'''" not in text and "[[" not in text and "{{" not in text


def test_heldout_split_is_by_document_disjoint_and_about_five_percent(corpus):
    train_titles = {(doc.source, doc.title) for doc in corpus.train}
    heldout_titles = {(doc.source, doc.title) for doc in corpus.heldout}
    assert not train_titles & heldout_titles
    for source in ("wiki", "lee"):
        held = sum(len(doc.text) for doc in corpus.heldout if doc.source == source)
        total = held + sum(len(doc.text) for doc in corpus.train if doc.source == source)
        assert 0.05 <= held / total < 0.12
    train_text = "\n".join(doc.text for doc in corpus.train)
    first_heldout_paragraph = next(doc for doc in corpus.heldout if doc.source == "wiki").text.split("\n")[0]
    assert first_heldout_paragraph not in train_text


def test_split_is_reproducible_and_independent_of_order():
    documents = [Document("wiki", f"t{i}", "x" * (100 + i)) for i in range(60)]
    first = split_documents(documents)
    again = split_documents(list(reversed(documents)))
    assert {d.title for d in first.heldout} == {d.title for d in again.heldout}
    assert {d.title for d in split_documents(documents, seed=1).heldout} != {d.title for d in first.heldout}


def test_tokenizer_training_is_deterministic_and_byte_level():
    texts = ["The city is old. The city is large.", "The history of the city is long."] * 20
    first, second = train_tokenizer(texts, vocab_size=300), train_tokenizer(texts, vocab_size=300)
    assert first.to_str() == second.to_str()
    assert first.token_to_id(END_OF_TEXT) == 0
    assert first.decode(first.encode("Unseen: 世界 🙂").ids) == "Unseen: 世界 🙂"  # any text encodes
    stream = encode_documents(first, ["a b", "c"])
    assert stream.dtype == np.uint16 and (stream == 0).sum() == 2 and stream[-1] == 0


def test_schedule_and_batches():
    cfg = TrainConfig(steps=1000, warmup_steps=100, lr=1e-3, min_lr_ratio=0.1, batch_size=4)
    assert learning_rate(0, cfg) == pytest.approx(1e-5)
    assert learning_rate(99, cfg) == pytest.approx(1e-3)
    assert learning_rate(999, cfg) == pytest.approx(1e-4, rel=1e-3)
    assert all(learning_rate(s, cfg) >= learning_rate(s + 1, cfg) for s in range(100, 999))
    stream = torch.arange(10_000)
    first, again = batch_at(7, stream, 16, cfg), batch_at(7, stream, 16, cfg)
    assert first.shape == (4, 17) and torch.equal(first, again)
    assert not torch.equal(first, batch_at(8, stream, 16, cfg))
    assert torch.equal(first[:, 1:] - first[:, :-1], torch.ones(4, 16, dtype=first.dtype))  # contiguous windows
