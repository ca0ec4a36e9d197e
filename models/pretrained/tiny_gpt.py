"""The two bundled tiny GPTs: weights, tokenizer and what we measured about them, in one object.

Both models were trained by ``python -m models.train`` on the same text, with the same
byte-level BPE tokenizer, width, depth, context and training budget; they differ only in
the block design (2017: post-LayerNorm, sinusoidal positions, multi-head attention, ReLU;
2024: pre-RMSNorm, RoPE, grouped-query attention, SwiGLU). Files live in
``assets/tinygpt/``: ``tokenizer.json`` shared by both, ``<style>/config.json``,
``<style>/model.safetensors`` (fp16), ``<style>/train_log.json``, and ``eval.json``.

A byte-level BPE token is stored as text in which every byte has been swapped for a
printable stand-in character (a space becomes "Ġ", a newline "Ċ"). ``token_text`` undoes
that, so a page can show the real characters a token stands for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "tinygpt"
STYLES = ("2017", "2024")
END_OF_TEXT = "<|endoftext|>"


@lru_cache(maxsize=1)
def _stand_in_to_byte() -> dict[str, int]:
    """The byte-level alphabet: which printable character stands for which byte.

    Bytes that are already visible, non-space characters (``!``..``~``, ``¡``..``¬``,
    ``®``..``ÿ``) stand for themselves; the remaining 68 bytes (controls, space, a few
    Latin-1 gaps) are given the code points 256, 257, ... in byte order.
    """
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {chr(byte): byte for byte in visible}
    next_code_point = 256
    for byte in range(256):
        if byte not in visible:
            table[chr(next_code_point)] = byte
            next_code_point += 1
    return table


def token_bytes(token: str) -> bytes:
    """The raw bytes a byte-level token stands for (special tokens are returned as UTF-8)."""
    table = _stand_in_to_byte()
    if not all(ch in table for ch in token):
        return token.encode("utf-8")
    return bytes(table[ch] for ch in token)


def token_text(token: str) -> str:
    """A byte-level token as readable text: "Ġthe" -> " the". A token that holds only part of a
    multi-byte character (common for Chinese or emoji) shows its bytes, e.g. "\\xe4\\xb8"."""
    raw = token_bytes(token)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="backslashreplace")


def load_tokenizer(path: Path | None = None):
    """The bundled byte-level BPE tokenizer (a ``tokenizers.Tokenizer``)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path or ASSET_DIR / "tokenizer.json"))


@dataclass(frozen=True)
class TinyGPT:
    """One bundled model with its tokenizer and what was logged and measured for it.

    Inference only: the model is in eval mode with gradients off, and the object is
    shared between sessions, so callers must not change it.
    """

    style: str  # "2017" or "2024"
    model: object  # models.core.gpt.GPT, float32, eval mode
    tokenizer: object  # tokenizers.Tokenizer
    train_log: dict = field(repr=False)  # assets/tinygpt/<style>/train_log.json
    evaluation: dict = field(repr=False)  # this style's entry of assets/tinygpt/eval.json ({} if none)

    @property
    def config(self):
        return self.model.config

    @property
    def device(self) -> torch.device:
        return self.model.wte.weight.device

    @property
    def parameter_count(self) -> int:
        return self.model.num_parameters()

    @property
    def end_of_text_id(self) -> int:
        return self.tokenizer.token_to_id(END_OF_TEXT)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def token_strings(self, ids: list[int]) -> list[str]:
        """What each id stands for, as readable text (" the", "\\n", "<|endoftext|>")."""
        return [token_text(self.tokenizer.id_to_token(int(i))) for i in ids]

    def as_tensor(self, ids: list[int]) -> torch.Tensor:
        """Token ids as a (1, T) batch on the model's device, cropped to the last block_size."""
        ids = list(ids)[-self.config.block_size:]
        return torch.tensor([ids], dtype=torch.long, device=self.device)

    @torch.inference_mode()
    def next_token_logits(self, ids: list[int]) -> torch.Tensor:
        """Scores (vocab_size,) for the token after ``ids`` (float32, on the model's device)."""
        logits, _ = self.model(self.as_tensor(ids))  # (1, T, vocab)
        return logits[0, -1].float()

    def generate_ids(self, ids: list[int], max_new_tokens: int, **sampling) -> list[int]:
        """``ids`` followed by ``max_new_tokens`` new ones (keyword arguments as GPT.generate)."""
        out = self.model.generate(self.as_tensor(ids), max_new_tokens, **sampling)
        return out[0].tolist()

    def continue_text(self, prompt: str, max_new_tokens: int, **sampling) -> str:
        """Only the new text after ``prompt``."""
        prompt_ids = self.encode(prompt)[-self.config.block_size:]
        ids = self.generate_ids(prompt_ids, max_new_tokens, **sampling)
        return self.decode(ids[len(prompt_ids):])


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def read_eval(asset_dir: Path = ASSET_DIR) -> dict:
    """Everything ``python -m models.train evaluate`` measured (empty before the first run)."""
    return _read_json(asset_dir / "eval.json")


def load_tiny_gpt(style: str, device: str | torch.device = "cpu", asset_dir: Path = ASSET_DIR) -> TinyGPT:
    """Load a bundled tiny GPT ("2017" or "2024") from safetensors, float32, eval mode."""
    from models.core.gpt import GPT

    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    folder = asset_dir / style
    model = GPT.from_pretrained_dir(folder, device=device)
    model.requires_grad_(False)
    return TinyGPT(
        style=style,
        model=model,
        tokenizer=load_tokenizer(asset_dir / "tokenizer.json"),
        train_log=_read_json(folder / "train_log.json"),
        evaluation=read_eval(asset_dir).get("models", {}).get(style, {}),
    )
