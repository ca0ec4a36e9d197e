"""Before the Transformer: the RNN encoder-decoder, with and without attention.

A GRU reads the source one word at a time, updating a single hidden vector. Two ways to
hand what it read to the decoder (another GRU that writes the translation word by word):

* **bottleneck** (Cho et al. / Sutskever et al., 2014): only the encoder's *last* hidden
  vector goes across. It starts the decoder and is fed to it again at every step, so the
  whole sentence, however long, must fit in those ``hidden`` numbers;
* **attention** (Bahdanau et al. 2014, in Luong et al.'s 2015 "general" form): the decoder
  keeps every encoder vector. At each step its state scores all of them, a softmax turns
  the scores into weights, and the weighted mix (the context) joins the prediction.

Both models have the same embeddings, the same GRUs and the same width, so a difference
in accuracy comes from the one thing that differs: what crosses from encoder to decoder.

Shapes: B batch, S source tokens, T target tokens, E embedding size, H hidden size, V vocab.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from models.core.attention import softmax_weights


@dataclass(frozen=True)
class GRUSeq2SeqConfig:
    source_vocab: int
    target_vocab: int
    attention: bool  # False: the bottleneck; True: attention over every encoder state
    embedding: int = 64  # E
    hidden: int = 256  # H: the size of the single vector in the bottleneck model
    pad_id: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GRUTrace:
    """summary (B, H): the encoder's last vector; attention (B, T, S) or None; logits (B, T, V)."""

    summary: torch.Tensor
    attention: torch.Tensor | None
    logits: torch.Tensor


class GRUSeq2Seq(nn.Module):
    def __init__(self, config: GRUSeq2SeqConfig):
        super().__init__()
        self.config = config
        E, H = config.embedding, config.hidden
        self.source_embed = nn.Embedding(config.source_vocab, E, padding_idx=config.pad_id)
        self.target_embed = nn.Embedding(config.target_vocab, E, padding_idx=config.pad_id)
        self.encoder = nn.GRU(E, H, batch_first=True)
        self.bridge = nn.Linear(H, H)  # the last encoder vector -> the decoder's first state
        # The bottleneck decoder is reminded of the summary at every step (it is all it has).
        self.decoder = nn.GRU(E if config.attention else E + H, H, batch_first=True)
        if config.attention:
            self.score = nn.Linear(H, H, bias=False)  # "general" score: state . W . encoder vector
            self.combine = nn.Linear(2 * H, H)  # [state; context] -> one vector
        else:
            self.combine = nn.Linear(2 * H, H)  # [state; summary] -> one vector
        self.head = nn.Linear(H, config.target_vocab)

    def encode(self, source: torch.Tensor):
        """source (B, S) -> (all states (B, S, H), last real state (B, H), mask (B, S))."""
        mask = source != self.config.pad_id
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        packed = pack_padded_sequence(self.source_embed(source), lengths, batch_first=True, enforce_sorted=False)
        states, last = self.encoder(packed)  # last (1, B, H): after each sentence's own last word
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=source.size(1))
        return states, last[0], mask

    def decode(self, target: torch.Tensor, states: torch.Tensor, summary: torch.Tensor, mask: torch.Tensor):
        """Teacher-forced decoder over target (B, T) -> (logits (B, T, V), attention (B, T, S) or None)."""
        x = self.target_embed(target)  # (B, T, E)
        start = torch.tanh(self.bridge(summary))[None]  # (1, B, H)
        if not self.config.attention:
            repeated = summary[:, None].expand(-1, target.size(1), -1)  # (B, T, H): the same vector each step
            out, _ = self.decoder(torch.cat([x, repeated], dim=-1), start)  # (B, T, H)
            return self.head(torch.tanh(self.combine(torch.cat([out, repeated], dim=-1)))), None
        out, _ = self.decoder(x, start)  # (B, T, H)
        scores = out @ self.score(states).transpose(1, 2)  # (B, T, S): how well each source word fits now
        weights = softmax_weights(scores, mask[:, None, :])  # padding gets weight 0
        context = weights @ states  # (B, T, H): the mix of source vectors this step reads
        return self.head(torch.tanh(self.combine(torch.cat([out, context], dim=-1)))), weights

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, V); position t predicts target word t + 1."""
        states, summary, mask = self.encode(source)
        return self.decode(target, states, summary, mask)[0]

    @torch.no_grad()
    def trace(self, source: torch.Tensor, target: torch.Tensor) -> GRUTrace:
        states, summary, mask = self.encode(source)
        logits, weights = self.decode(target, states, summary, mask)
        return GRUTrace(summary=summary, attention=weights, logits=logits)
