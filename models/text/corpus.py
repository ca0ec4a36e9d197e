"""The text the tiny GPTs learn from: a Wikipedia sample and the Lee news corpus, offline.

Both ship inside gensim (``gensim/test/test_data/``), so nothing is downloaded. The
Wikipedia dump is raw MediaWiki markup; gensim's ``extract_pages`` walks the XML and
``filter_wiki`` removes most markup. A few rules of our own then tidy what remains
(bold/italic quotes, heading marks, reference lists, image captions), keeping case and
punctuation so that a model trained on it writes readable text.

The held-out split is chosen by document, never by position inside a document, so no
sentence the model was trained on can appear in the text it is scored on.
"""

from __future__ import annotations

import bz2
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEE_FILE = "lee_background.cor"
HELDOUT_FRACTION = 0.05
SPLIT_SEED = 0

# Sections that hold lists of references rather than prose; they are dropped whole.
_SKIPPED_SECTIONS = {
    "references", "notes", "footnotes", "citations", "sources", "bibliography",
    "further reading", "external links", "see also", "works cited", "notes and references",
    "primary sources", "secondary sources", "works", "selected works", "gallery",
}
_HEADING = re.compile(r"^(=+)\s*(.*?)\s*=+\s*$")
_EMPTY_PARENS = re.compile(r"\(\s*[;,\s]*\)")
_PARENS_OPEN_PUNCT = re.compile(r"\(\s*(?:[;,]\s*)+")  # "(;, Akhilleus" -> "(Akhilleus"
_PARENS_CLOSE_PUNCT = re.compile(r"(?:\s*[;,])+\s*\)")  # "Akhilleus,)" -> "Akhilleus)"
_LIST_MARK = re.compile(r"^[*#:;]+\s*")
_SPACES = re.compile(r"[ \t]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?)])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Document:
    source: str  # "wiki" or "lee"
    title: str
    text: str


@dataclass(frozen=True)
class Corpus:
    train: list[Document]
    heldout: list[Document]


def gensim_test_data_dir() -> Path:
    """The folder inside the installed gensim package that holds its small test corpora."""
    import gensim

    return Path(gensim.__file__).resolve().parent / "test" / "test_data"


def clean_wiki_text(text: str) -> str:
    """Wikipedia text after ``filter_wiki`` -> plain paragraphs, case and punctuation kept."""
    kept: list[str] = []
    skip_level = 0  # > 0 while inside a dropped section; the heading level that opened it
    for raw_line in text.replace("\xa0", " ").splitlines():
        line = raw_line.strip()
        heading = _HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), heading.group(2).replace("'''", "").replace("''", "")
            if skip_level and level > skip_level:
                continue
            skip_level = level if title.strip().lower() in _SKIPPED_SECTIONS else 0
            if not skip_level and title:
                kept.extend(["", title])
            continue
        if skip_level:
            continue
        if "|" in line or line.startswith(("File:", "Image:", "__")):
            continue  # gallery entries and image captions left over from the markup
        line = _LIST_MARK.sub("", line)
        line = line.replace("'''", "").replace("''", "")
        line = _EMPTY_PARENS.sub("", line)
        line = _PARENS_CLOSE_PUNCT.sub(")", _PARENS_OPEN_PUNCT.sub("(", line))
        line = _SPACES.sub(" ", line)
        line = _SPACE_BEFORE_PUNCT.sub(r"\1", line).strip()
        if not any(ch.isalpha() for ch in line):
            line = ""
        kept.append(line)
    # Paragraphs are separated by one blank line; runs of blank lines collapse.
    text = "\n".join(kept)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def wiki_documents(path: Path | None = None) -> list[Document]:
    """The articles of gensim's Wikipedia sample, markup removed; redirects and empty pages skipped."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    path = path or gensim_test_data_dir() / WIKI_FILE
    documents = []
    with bz2.open(path, "rb") as stream:
        for title, markup, _page_id in extract_pages(stream, filter_namespaces=("0",)):
            if markup.lstrip().upper().startswith("#REDIRECT") or ":" in title:
                continue
            text = clean_wiki_text(filter_wiki(markup))
            if len(text) >= 200:
                documents.append(Document("wiki", title, text))
    return documents


def lee_documents(path: Path | None = None) -> list[Document]:
    """The Lee background corpus: 300 short news stories, one per line."""
    path = path or gensim_test_data_dir() / LEE_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        Document("lee", f"lee-{number:03d}", _SPACES.sub(" ", line).strip())
        for number, line in enumerate(lines)
        if line.strip()
    ]


def split_documents(documents: list[Document], heldout_fraction: float = HELDOUT_FRACTION,
                    seed: int = SPLIT_SEED) -> Corpus:
    """Hold out whole documents: per source, in a seeded hash order, until the held-out
    documents reach ``heldout_fraction`` of that source's characters."""
    train: list[Document] = []
    heldout: list[Document] = []
    for source in sorted({doc.source for doc in documents}):
        group = [doc for doc in documents if doc.source == source]
        order = sorted(group, key=lambda doc: hashlib.sha256(f"{seed}:{source}:{doc.title}".encode()).hexdigest())
        budget = heldout_fraction * sum(len(doc.text) for doc in group)
        taken = 0
        chosen = set()
        for doc in order:
            if taken >= budget:
                break
            chosen.add(doc.title)
            taken += len(doc.text)
        # Keep the original order inside each split, so the text reads as it was written.
        train.extend(doc for doc in group if doc.title not in chosen)
        heldout.extend(doc for doc in group if doc.title in chosen)
    return Corpus(train=train, heldout=heldout)


def split_sentences(text: str) -> list[str]:
    """A rough cut into sentences: after . ! or ? followed by a space, and at line breaks."""
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if sentence.strip()]


def load_corpus(heldout_fraction: float = HELDOUT_FRACTION, seed: int = SPLIT_SEED) -> Corpus:
    """Wikipedia sample + Lee corpus, split into training and held-out documents."""
    return split_documents(wiki_documents() + lee_documents(), heldout_fraction, seed)


def encode_documents(tokenizer, texts: list[str]) -> np.ndarray:
    """One token stream: each document's ids followed by the end-of-text id."""
    from models.pretrained.tokens import END_OF_TEXT

    eot = tokenizer.token_to_id(END_OF_TEXT)
    ids: list[int] = []
    for encoding in tokenizer.encode_batch(texts):
        ids.extend(encoding.ids)
        ids.append(eot)
    return np.asarray(ids, dtype=np.uint16)
