"""The two bundled tiny GPTs: weights, tokenizer and what we measured about them, in one object.

Both models were trained by ``python -m models.train`` on the same text, with the same
byte-level BPE tokenizer, width, depth, context and training budget; they differ only in
the block design (2017: post-LayerNorm, sinusoidal positions, multi-head attention, ReLU;
2024: pre-RMSNorm, RoPE, grouped-query attention, SwiGLU). Files live in
``assets/tinygpt/``: ``tokenizer.json`` shared by both, ``<style>/config.json``,
``<style>/model.safetensors`` (fp16), ``<style>/train_log.json``, and ``eval.json``.

Byte-level tokens are turned back into readable text by ``models.pretrained.tokens.token_text``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from models.pretrained.interface import MAX_TOKENS, LanguageModel, ModelRun
from models.pretrained.tokens import END_OF_TEXT, token_text

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "tinygpt"
STYLES = ("2017", "2024")


def load_tokenizer(path: Path | None = None):
    """The bundled byte-level BPE tokenizer (a ``tokenizers.Tokenizer``)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path or ASSET_DIR / "tokenizer.json"))


class TinyGPTModel(LanguageModel):
    """Our own GPT (``models.core.gpt.GPT``) with a byte-level BPE tokenizer, behind the page interface.

    Sampling uses our own ``models.core.sampling``; ``run`` reads the explicit attention path
    (``GPT.trace``), so the weights a page draws are the ones the model used.
    """

    is_causal = True

    def __init__(self, model, tokenizer, name: str = "tiny GPT"):
        self.model = model  # models.core.gpt.GPT, eval mode
        self.tokenizer = tokenizer  # tokenizers.Tokenizer
        self.name = name
        self.vocab_size = model.config.vocab_size
        self.context = model.config.block_size

    @property
    def config(self):
        return self.model.config

    @property
    def device(self) -> torch.device:
        return self.model.wte.weight.device

    @property
    def n_layers(self) -> int:
        return self.config.n_layer

    @property
    def n_heads(self) -> int:
        return self.config.n_head

    @property
    def parameter_count(self) -> int:
        return self.model.num_parameters()

    @property
    def end_of_text_id(self) -> int:
        return self.tokenizer.token_to_id(END_OF_TEXT)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def token_text(self, token_id: int) -> str:
        """What one id stands for, as readable text (" the", "\\n", "<|endoftext|>")."""
        return token_text(self.tokenizer.id_to_token(int(token_id)) or "")

    def start_ids(self) -> list[int]:
        start = self.end_of_text_id
        return [start] if start is not None else []

    def as_tensor(self, ids: list[int]) -> torch.Tensor:
        """Token ids as a (1, T) batch on the model's device, cropped to the last block_size."""
        ids = list(ids)[-self.context:]
        return torch.tensor([ids], dtype=torch.long, device=self.device)

    @torch.inference_mode()
    def next_token_logits(self, ids: list[int]) -> torch.Tensor:
        logits, _ = self.model(self.as_tensor(ids))  # (1, T, V)
        return logits[0, -1].float().cpu()

    def generate_ids(self, ids: list[int], max_new_tokens: int, **sampling) -> list[int]:
        """``ids`` followed by ``max_new_tokens`` new ones (keyword arguments as GPT.generate)."""
        out = self.model.generate(self.as_tensor(ids), max_new_tokens, **sampling)
        return out[0].tolist()

    def continue_text(self, prompt: str, max_new_tokens: int, **sampling) -> str:
        """Only the new text after ``prompt``."""
        prompt_ids = self.encode(prompt)[-self.context:]
        ids = self.generate_ids(prompt_ids, max_new_tokens, **sampling)
        return self.decode(ids[len(prompt_ids):])

    def generate_rows(self, ids, new_tokens, temperatures, top_k, top_p, seed):
        generators = [torch.Generator(device=self.device).manual_seed(seed) for _ in temperatures]
        return self.model.generate_rows(self.as_tensor(ids), new_tokens, temperatures, top_k, top_p,
                                        generators).tolist()

    @torch.inference_mode()
    def run(self, text: str, max_tokens: int = MAX_TOKENS) -> ModelRun:
        """The first ``max_tokens`` tokens of ``text`` (and at most the context) through the model."""
        ids = self.encode(text)
        kept = ids[:min(max_tokens, self.context)]
        if not kept:
            raise ValueError("no tokens to run")
        trace = self.model.trace(torch.tensor([kept], dtype=torch.long, device=self.device))
        hidden = torch.stack([trace.input_embeddings[0]] + [state[0] for state in trace.hidden_states])  # (L+1, T, C)
        attentions = torch.stack([layer[0] for layer in trace.attentions])  # (L, H, T, T)
        end = self.end_of_text_id
        return ModelRun(
            tokens=self.token_strings(kept), ids=kept, special=[i == end for i in kept],
            hidden_states=hidden.float().cpu().numpy(), attentions=attentions.float().cpu().numpy(),
            is_causal=True, next_token_logits=trace.logits[0, -1].float().cpu().numpy(),
            truncated=len(ids) > len(kept), total_tokens=len(ids),
        )


class TinyGPT(TinyGPTModel):
    """One bundled model with its tokenizer and what was logged and measured for it."""

    def __init__(self, style: str, model, tokenizer, train_log: dict, evaluation: dict):
        super().__init__(model, tokenizer, name=f"tiny-gpt-{style}")
        self.style = style  # "2017" or "2024"
        self.train_log = train_log  # assets/tinygpt/<style>/train_log.json
        self.evaluation = evaluation  # this style's entry of assets/tinygpt/eval.json ({} if none)

    def __repr__(self) -> str:
        return f"TinyGPT(style={self.style!r})"


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
