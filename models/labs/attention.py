"""Looking at a real model's attention: one view, whatever model produced it.

A model with L layers and H heads per layer gives, for a text of T tokens, L * H weight
matrices of shape (T, T): row i says how the token i spread its attention over the tokens
j it may see (each row sums to 1). The functions here take those matrices as plain data
(a list of per-layer tensors plus the token strings), check them with messages that say
how to fix a mistake, and derive what a page draws:

- ``head_matrix``         one head, or the average over a layer's heads
- ``hide_tokens``         drop special tokens ([CLS], [SEP], <|endoftext|>) from rows and
                          columns and renormalise each row, so the rest of the picture shows.
                          Many heads park most of their weight on [SEP]/[CLS] when "nothing
                          in particular" matters: hiding them reveals the smaller weights.
- ``top_links``           the strongest keys one token attends to, for lines in a head view
- ``pooled_grid``         every head of every layer, average-pooled to a small size so that a
                          grid of all of them stays light enough to send to a browser
- ``text_units`` / ``aggregate``  long texts: tokens joined into words or sentences, and the
                          weights between those units (sum over the key's pieces, mean over the
                          query's pieces), so every row still sums to 1
- ``zoom``                a square range of a long matrix for the close-up, block-averaged when wider
                          than a chart can show cell by cell
- ``from_model_run``      the attentions a MiniLM / user model run already returned
                          (``models.pretrained.interface.ModelRun``), as an AttentionStack
- ``run_tiny_gpt``        per-layer attentions of any of our GPTs on given ids, capped at MAX_TOKENS
                          and the model's context (the tests hold the page's ``TinyGPTModel.run`` to it)
- ``token_limit``         how many tokens a model is run on here, and whether the model's own
                          positions or this page's cap sets it

Loading and running transformers models is not done here: ``models.pretrained.minilm`` and
``models.pretrained.user_model`` do it, and hand over plain arrays and token strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

# Longer texts are cut. 512 is MiniLM's position table (BERT's limit); the tiny GPTs stop at their
# 256-token context. A 512-token MiniLM run holds 6 x 12 x 512 x 512 float32 weights (75 MB).
MAX_TOKENS = 512
AVERAGE = -1  # head index meaning "average over the layer's heads"
UNITS = ("token", "word", "sentence")  # what one row / column of a heatmap stands for
SENTENCE_ENDS = ".!?;。！？；…"  # a unit that ends in one of these (or holds a line break) ends a sentence


@dataclass(frozen=True)
class AttentionStack:
    """Every attention weight of one forward pass, as numpy.

    weights: (L, H, T, T) float32, row = query token, column = key token.
    special: (T,) bool, True for tokens the tokenizer added ([CLS], [SEP], <|endoftext|>).
    causal:  True when the model only looks back (a writer).
    dropped: how many tokens were cut to stay within the limit (``token_limit``).
    """

    tokens: list[str]
    ids: list[int]
    weights: np.ndarray
    special: np.ndarray
    causal: bool
    dropped: int = 0

    @property
    def n_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def n_heads(self) -> int:
        return self.weights.shape[1]

    @property
    def total(self) -> int:
        """Tokens in the whole text, the cut ones included."""
        return len(self.ids) + self.dropped


def token_limit(model_context: int, max_tokens: int = MAX_TOKENS) -> tuple[int, str]:
    """(tokens a model is run on here, what sets that number): ``"model"`` when the model's own
    positions or context are the limit, ``"page"`` when this page's cap is smaller."""
    if model_context <= max_tokens:
        return int(model_context), "model"
    return max_tokens, "page"


def stack_attentions(per_layer, tokens: list[str]) -> np.ndarray:
    """Per-layer weights, each (H, T, T) or (1, H, T, T), as one (L, H, T, T) float32 array.

    Raises ValueError with a hint when shapes do not agree with the tokens.
    """
    if len(per_layer) == 0:
        raise ValueError("no attention weights: ask the model for them (output_attentions=True or model.trace)")
    if isinstance(per_layer, np.ndarray) and per_layer.ndim == 4 and per_layer.dtype == np.float32:
        if per_layer.shape[2:] != (len(tokens), len(tokens)):
            raise ValueError(f"the weights cover {per_layer.shape[2]} tokens but {len(tokens)} token strings were given")
        return per_layer  # already one (L, H, T, T) array: no 75 MB copy at 512 tokens
    layers = []
    for index, layer in enumerate(per_layer):
        array = (layer.detach().float().cpu().numpy() if isinstance(layer, torch.Tensor)
                 else np.asarray(layer, dtype=np.float32))  # no copy when it is float32 already
        if array.ndim == 4:
            if array.shape[0] != 1:
                raise ValueError(f"layer {index} has batch size {array.shape[0]}; pass one text at a time")
            array = array[0]
        if array.ndim != 3 or array.shape[1] != array.shape[2]:
            raise ValueError(f"layer {index} has shape {array.shape}; expected (heads, T, T)")
        if array.shape[1] != len(tokens):
            raise ValueError(f"layer {index} covers {array.shape[1]} tokens but {len(tokens)} token strings were given")
        layers.append(array)
    if len({layer.shape for layer in layers}) != 1:
        raise ValueError("layers disagree in shape; every layer must have the same number of heads")
    return np.stack(layers)  # one copy: float32 (L, H, T, T)


def cap_ids(ids: list[int], max_tokens: int = MAX_TOKENS) -> tuple[list[int], int]:
    """The first ``max_tokens`` ids and how many were dropped."""
    return list(ids[:max_tokens]), max(len(ids) - max_tokens, 0)


def head_matrix(weights: np.ndarray, layer: int, head: int) -> np.ndarray:
    """(T, T) weights of one head, or the mean over the layer's heads when head == AVERAGE.

    The mean of rows that each sum to 1 still sums to 1, so the average is a distribution too.
    """
    if not 0 <= layer < weights.shape[0]:
        raise ValueError(f"layer {layer} does not exist; the model has {weights.shape[0]} layers")
    if head == AVERAGE:
        return weights[layer].mean(axis=0)
    if not 0 <= head < weights.shape[1]:
        raise ValueError(f"head {head} does not exist; layers have {weights.shape[1]} heads")
    return weights[layer, head]


def hide_tokens(matrix: np.ndarray, hidden: np.ndarray, renormalise: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Remove the ``hidden`` tokens from the last two axes (query rows, key columns) of
    a (..., T, T) array.

    Returns (smaller array, indices of the kept tokens). With ``renormalise`` each row is
    divided by what is left of it, so it sums to 1 again; a row whose whole weight sat on
    hidden tokens has nothing left and stays 0.
    """
    kept = np.flatnonzero(~np.asarray(hidden, dtype=bool))
    part = matrix[..., kept, :][..., kept]
    if renormalise:
        totals = part.sum(axis=-1, keepdims=True)
        part = np.divide(part, totals, out=np.zeros_like(part), where=totals > 0)
    return part, kept


# -- long texts: words and sentences instead of tokens ---------------------------------------

_PARTIAL_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")  # how token_text shows a byte of a cut character


@dataclass(frozen=True)
class Units:
    """Tokens joined into longer units. Unit g is tokens ``edges[g]`` to ``edges[g + 1] - 1``:
    units are runs of neighbouring tokens, so a heatmap over them keeps the text's order."""

    edges: np.ndarray  # (G + 1,) int, 0 first and T last
    texts: list[str]  # what each unit reads
    special: np.ndarray  # (G,) bool: a special token, always a unit of its own

    def __len__(self) -> int:
        return len(self.texts)

    def of_token(self) -> np.ndarray:
        """(T,) the unit each token belongs to."""
        return np.repeat(np.arange(len(self.texts)), np.diff(self.edges))


def _as_bytes(token: str) -> bytes:
    """A token's text back to bytes; the "\\xe4"-style pieces of a cut character become bytes again."""
    parts = _PARTIAL_BYTE.split(token)  # text, byte, text, byte, ...
    return b"".join(bytes([int(part, 16)]) if odd else part.encode("utf-8") for odd, part in
                    ((n % 2 == 1, part) for n, part in enumerate(parts)))


def _bytes_missing(data: bytes) -> int:
    """How many bytes the last UTF-8 character of ``data`` still lacks (0 when it is whole)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: the character started earlier
            continue
        length = 1 if byte < 0x80 else 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4
        return max(length - back, 0)
    return 0


def _is_cjk(character: str) -> bool:
    """A Han character (Chinese / Japanese kanji): written without spaces, so each is a word here."""
    code = ord(character)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3134F


def _word_character(character: str) -> bool:
    return (character.isalnum() or character == "_") and not _is_cjk(character)


def piece_style(tokens: list[str]) -> str:
    """How the tokenizer marks a piece that continues a word: ``"wordpiece"`` (BERT: "##ing") or
    ``"spaced"`` (byte-level BPE, SentencePiece: a new word starts with its space, " the"). A text
    with no space-led token is byte-level too when a token holds a byte of a cut character (only
    byte-level tokenizers cut characters)."""
    spaced = any(token[:1].isspace() or _PARTIAL_BYTE.search(token) for token in tokens)
    return "spaced" if spaced else "wordpiece"


def _word_groups(tokens: list[str], special) -> list[list[int]]:
    """Token positions grouped into words (the rule ``text_units`` states)."""
    style = piece_style(tokens)
    groups: list[list[int]] = []
    buffer = b""  # bytes of the current word
    for index, token in enumerate(tokens):
        previous_special = bool(groups) and bool(special[groups[-1][-1]])
        if special[index] or not groups or previous_special:
            joins = False
        elif style == "wordpiece":
            joins = token.startswith("##") and len(token) > 2
        elif _bytes_missing(buffer):
            joins = True  # the rest of a character cut between two tokens
        else:
            first = _as_bytes(token).decode("utf-8", "ignore")[:1]
            last = buffer.decode("utf-8", "ignore")[-1:]
            joins = bool(first) and bool(last) and _word_character(first) and _word_character(last)
        if joins:
            groups[-1].append(index)
            buffer += _as_bytes(token)
        else:
            groups.append([index])
            buffer = _as_bytes(token)
    return groups


def _join(tokens: list[str], style: str) -> str:
    """The text of neighbouring tokens. WordPiece drops the spaces, so they are put back between
    words (not before punctuation, not between Chinese characters)."""
    if style == "wordpiece":
        text = tokens[0]
        for token in tokens[1:]:
            last = text[-1:] or " "
            glued = token.startswith("##") or not _word_character(token[:1] or " ") or _is_cjk(last) or last in "'’-"
            text += token.removeprefix("##") if glued else " " + token
        return text
    return b"".join(_as_bytes(token) for token in tokens).decode("utf-8", "backslashreplace")


def text_units(tokens: list[str], special, unit: str) -> Units:
    """Tokens joined into ``unit``s: "token" (each token), "word" or "sentence".

    Word: a piece joins the word before it when the tokenizer split it out of that word: a
    WordPiece "##" piece; for tokenizers that mark spaces, a piece with no space before it whose
    first character and the word's last character are both letters or digits, or the rest of a
    character whose bytes were cut between tokens. Punctuation stays a word of its own, and so does
    each Chinese character (Chinese writes no spaces and no word segmenter ships with the app).
    Sentence: words up to one that ends in . ! ? ; 。！？； … or holds a line break.
    Special tokens ([CLS], [SEP], <|endoftext|>) are always units of their own.
    """
    special = np.asarray(special, dtype=bool)
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; choose one of {UNITS}")
    if unit == "token":
        groups = [[index] for index in range(len(tokens))]
    else:
        groups = _word_groups(tokens, special)
    style = piece_style(tokens)
    if unit == "sentence":
        sentences: list[list[int]] = []
        open_sentence = False
        for group in groups:
            text = _join([tokens[i] for i in group], style)
            if special[group[0]] or not open_sentence:
                sentences.append(list(group))
            else:
                sentences[-1].extend(group)
            ends = text.rstrip()[-1:] in set(SENTENCE_ENDS) and text.strip() != "" or "\n" in text
            open_sentence = not special[group[0]] and not ends
        groups = sentences
    edges = np.array([group[0] for group in groups] + [len(tokens)], dtype=int)
    return Units(edges, [_join([tokens[i] for i in group], style) for group in groups],
                 np.array([bool(special[group[0]]) for group in groups], dtype=bool))


def aggregate(weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(..., T, T) token weights as (..., G, G) weights between units (``Units.edges``).

    The weight from unit a to unit b is the sum over b's key tokens (a token hears the whole
    unit), averaged over a's query tokens (the unit listens as its pieces do on average). Each
    row of a distribution stays a distribution: summing keeps the row total, averaging rows that
    sum to 1 gives 1. With one token per unit nothing changes."""
    edges = np.asarray(edges, dtype=int)
    if len(edges) - 1 == weights.shape[-1]:
        return weights
    starts, sizes = edges[:-1], np.diff(edges)
    keys = np.add.reduceat(weights, starts, axis=-1)  # (..., T, G) summed over each unit's keys
    return (np.add.reduceat(keys, starts, axis=-2) / sizes[:, None]).astype(np.float32)  # (..., G, G)


def shown_units(stack: AttentionStack, hide_special: bool, unit: str = "token") -> Units:
    """The units a heatmap shows: the text's units, without the special ones when they are hidden."""
    units = text_units(stack.tokens, stack.special, unit)
    if not hide_special:
        return units
    keep = ~units.special
    sizes = np.diff(units.edges)[keep]
    return Units(np.concatenate([[0], np.cumsum(sizes)]).astype(int),
                 [text for text, kept in zip(units.texts, keep) if kept], units.special[keep])


def shown_weights(stack: AttentionStack, weights: np.ndarray, hide_special: bool, unit: str) -> np.ndarray:
    """(..., T, T) weights of the stack as shown: special tokens hidden (rows renormalised), then units."""
    if hide_special:
        weights = hide_tokens(weights, stack.special)[0]
    return aggregate(weights, shown_units(stack, hide_special, unit).edges)


def shown_matrix(stack: AttentionStack, layer: int, head: int, hide_special: bool,
                 unit: str = "token") -> tuple[np.ndarray, Units]:
    """What a heatmap of one head (or the layer average) shows: (matrix over the units, the units)."""
    matrix = shown_weights(stack, head_matrix(stack.weights, layer, head), hide_special, unit)
    return matrix, shown_units(stack, hide_special, unit)


def shown_grid(stack: AttentionStack, hide_special: bool, max_side: int = 32, unit: str = "token") -> tuple[np.ndarray, int]:
    """Every head of every layer for the small-multiples grid, pooled to at most max_side: the same
    numbers as ``pooled_grid(shown_weights(...))`` (a test checks), computed as two matrix products.

    Hiding, joining into units and pooling are all sums and means over groups of rows and columns,
    so the columns of every head are reduced at once by one product with a (T, S) matrix and the
    rows by one with an (S, T) matrix; at 512 tokens that is ~20x less memory traffic than copying
    the (L, H, T, T) weights for each step."""
    units = shown_units(stack, hide_special, unit)
    T, G = stack.weights.shape[-1], len(units)
    kept = np.flatnonzero(~stack.special) if hide_special else np.arange(T)
    if G == 0:
        return np.zeros(stack.weights.shape[:2] + (0, 0), dtype=np.float32), 1
    cell_edges = np.arange(G + 1) if G <= max_side else _pool_edges(G, max_side)
    S = len(cell_edges) - 1
    cell_of_unit = np.repeat(np.arange(S), np.diff(cell_edges))  # (G,)
    units_in_cell = np.diff(cell_edges)[cell_of_unit]  # (G,)
    unit_of_kept = units.of_token()  # (K,) over the kept tokens
    cell_of_kept = cell_of_unit[unit_of_kept]
    columns = np.zeros((T, S + 1), dtype=np.float32)  # last column: the kept tokens' total, to renormalise
    columns[kept, cell_of_kept] = 1.0 / units_in_cell[unit_of_kept]
    columns[kept, S] = 1.0
    rows = np.zeros((S, T), dtype=np.float32)
    rows[cell_of_kept, kept] = 1.0 / (units_in_cell[unit_of_kept] * np.diff(units.edges)[unit_of_kept])
    reduced = (stack.weights.reshape(-1, T) @ columns).reshape(stack.weights.shape[:3] + (S + 1,))  # one product
    cells = reduced[..., :S]
    if hide_special:
        totals = reduced[..., S:]
        cells = np.divide(cells, totals, out=np.zeros_like(cells), where=totals > 0)
    return (rows @ cells).astype(np.float32), int(np.ceil(G / max_side)) if G > max_side else 1


def zoom(matrix: np.ndarray, start: int, stop: int, max_side: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns ``start`` .. ``stop - 1`` of a square matrix, and where its cells begin.

    Up to ``max_side`` wide every cell is one unit (exact weights); a wider range is averaged over
    blocks of neighbouring units so that the chart keeps at most max_side x max_side cells.
    Returns (cells, edges) with edges (cells + 1,) in unit positions from ``start``."""
    if not 0 <= start < stop <= matrix.shape[-1]:
        raise ValueError(f"range {start}..{stop} is outside the {matrix.shape[-1]} units")
    part = matrix[start:stop, start:stop]
    if stop - start <= max_side:
        return part, np.arange(start, stop + 1)
    edges = _pool_edges(stop - start, max_side)
    pooled, _ = pooled_grid(part[None, None], max_side)
    return pooled[0, 0], edges + start


def block_names(texts: list[str], edges: np.ndarray) -> list[str]:
    """A name per zoomed cell: the unit's text, or "12–15" (positions from 1) for a block."""
    return [texts[a] if b - a == 1 else f"{a + 1}–{b}" for a, b in zip(edges[:-1], edges[1:])]


def default_query(texts: list[str], word: str = "it") -> int:
    """Position to follow first among the units shown (``texts``): the first ``word`` if there is
    one (a pronoun shows coreference heads at work), otherwise the last one."""
    return next((n for n, text in enumerate(texts) if text.strip().lower() == word), len(texts) - 1)


def visible_keys(n_tokens: int, query: int, causal: bool) -> list[bool]:
    """Which keys the query may see: all of them for a reader, itself and earlier ones for a writer."""
    return [not causal or key <= query for key in range(n_tokens)]


def top_links(row: np.ndarray, k: int, min_weight: float = 0.0) -> list[tuple[int, float]]:
    """The ``k`` largest weights of one query row as (key index, weight), strongest first,
    leaving out weights below ``min_weight``."""
    order = np.argsort(-row, kind="stable")[:k]
    return [(int(j), float(row[j])) for j in order if row[j] >= min_weight and row[j] > 0]


def _pool_edges(T: int, size: int) -> np.ndarray:
    return np.linspace(0, T, size + 1).round().astype(int)


def pooled_grid(weights: np.ndarray, max_side: int = 32) -> tuple[np.ndarray, int]:
    """(L, H, S, S) with S = min(T, max_side): each cell the mean of a block of the original.

    Returns the pooled weights and the number of tokens per cell (1 when nothing was pooled).
    Block means keep every row summing to (about) the block width's share, so the picture
    keeps its shape: diagonals stay diagonals, columns stay columns.
    """
    L, H, T, _ = weights.shape
    if T <= max_side:
        return weights, 1
    edges = _pool_edges(T, max_side)
    rows = np.add.reduceat(weights, edges[:-1], axis=2)  # (L, H, S, T) sums over row blocks
    cells = np.add.reduceat(rows, edges[:-1], axis=3)  # (L, H, S, S)
    sizes = np.diff(edges)
    cells = cells / (sizes[:, None] * sizes[None, :])
    return cells.astype(np.float32), int(np.ceil(T / max_side))


# -- running models -----------------------------------------------------------------------


@torch.inference_mode()
def run_tiny_gpt(model, tokens: list[str], ids: list[int], special: list[bool]) -> AttentionStack:
    """Per-layer attention of the bundled tiny GPT (causal) on ``ids``, capped at MAX_TOKENS
    and at the model's context length (``token_limit``)."""
    limit, _ = token_limit(model.config.block_size)
    kept, dropped = cap_ids(ids, limit)
    if not kept:
        raise ValueError("no tokens to run")
    device = next(model.parameters()).device
    trace = model.trace(torch.tensor([kept], dtype=torch.long, device=device))
    n = len(kept)
    weights = stack_attentions(trace.attentions, tokens[:n])
    return AttentionStack(list(tokens[:n]), kept, weights, np.asarray(special[:n], dtype=bool), True, dropped)


def from_model_run(run) -> AttentionStack:
    """An AttentionStack from what a model run returned: ``tokens``, ``ids``, ``special``,
    ``attentions`` (L, H, T, T), ``is_causal`` and ``total_tokens`` (``models.pretrained.interface.ModelRun``)."""
    attentions = run.attentions
    weights = stack_attentions(attentions if isinstance(attentions, np.ndarray) else list(attentions), list(run.tokens))
    if len(run.special) != len(run.tokens):
        raise ValueError(f"{len(run.special)} special-token flags for {len(run.tokens)} tokens; give one per token")
    return AttentionStack(list(run.tokens), list(run.ids), weights, np.asarray(run.special, dtype=bool),
                          bool(run.is_causal), max(int(run.total_tokens) - len(run.ids), 0))
