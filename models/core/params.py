"""Counting a Transformer: parameters, KV-cache memory and FLOPs, from its shape alone.

Where do a model's parameters live? Almost all in the blocks' weight matrices:
per layer about 4 d^2 for attention (W_Q, W_K, W_V, W_O) and 8 d^2 for the FFN,
so 12 d^2 per layer, plus the embedding table (vocab x d). Context length does not
appear anywhere, except in a learned position table (context x d).

What grows with context is compute and memory at run time: every new token compares
itself with all earlier ones (attention FLOPs grow linearly per token, so quadratically
for the whole sequence), and the KV cache keeps 2 x layers x K/V heads x head_dim
numbers per token, which is what grouped-query attention shrinks.

The presets reproduce published totals exactly (see ``source`` of each).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelShape:
    """Everything that decides the parameter count of a Transformer language model."""

    name: str
    vocab_size: int
    context: int  # longest input; costs parameters only with learned positions
    n_layer: int
    n_embd: int  # d_model
    n_head: int
    n_kv_head: int  # = n_head for multi-head, fewer for GQA, 1 for MQA
    ffn_hidden: int
    ffn: str = "gelu"  # "relu"/"gelu": two matrices; "swiglu": three
    positions: str = "learned"  # "learned": context x d table; "sinusoidal"/"rope": no parameters
    norm: str = "layernorm"  # "layernorm": scale (+ shift when bias); "rmsnorm": scale only
    bias: bool = True  # biases in Linear layers and LayerNorms
    final_norm: bool = True  # pre-norm models normalise once more before the head
    tie_embeddings: bool = True  # the output head reuses the embedding table
    token_types: int = 0  # BERT's segment embeddings (sentence A / B)
    embedding_norm: bool = False  # BERT normalises the embedding sum
    pooler: bool = False  # BERT's [CLS] pooler, one d x d Linear
    source: str = ""

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


def count_parameters(shape: ModelShape) -> dict[str, int]:
    """Parameter count by part: embeddings, positions, attention, ffn, norms, head, total."""
    d, L, f = shape.n_embd, shape.n_layer, shape.ffn_hidden
    q_width = shape.n_head * shape.head_dim
    kv_width = shape.n_kv_head * shape.head_dim
    bias = 1 if shape.bias else 0

    attention = d * q_width + 2 * d * kv_width + q_width * d  # W_Q, W_K, W_V, W_O
    attention += bias * (q_width + 2 * kv_width + d)
    matrices_in = 2 if shape.ffn == "swiglu" else 1  # SwiGLU has a gate next to the up projection
    ffn = matrices_in * (d * f + bias * f) + f * d + bias * d
    one_norm = d * (2 if shape.norm == "layernorm" and shape.bias else 1)
    n_norms = 2 * L + int(shape.final_norm) + int(shape.embedding_norm)

    parts = {
        "embeddings": shape.vocab_size * d + shape.token_types * d,
        "positions": shape.context * d if shape.positions == "learned" else 0,
        "attention": L * attention,
        "ffn": L * ffn,
        "norms": n_norms * one_norm,
        "head": (0 if shape.tie_embeddings else shape.vocab_size * d) + (d * d + d if shape.pooler else 0),
    }
    parts["total"] = sum(parts.values())
    return parts


def kv_cache_bytes_per_token(shape: ModelShape, bytes_per_value: int = 2) -> int:
    """K and V for one token in every layer (fp16/bf16 = 2 bytes per number)."""
    return 2 * shape.n_layer * shape.n_kv_head * shape.head_dim * bytes_per_value


def flops_per_token(shape: ModelShape, context: int) -> dict[str, int]:
    """Forward FLOPs for one new token that attends to ``context`` tokens (2 per multiply-add).

    Matrix-vector products cost the same at every position; only the attention scores
    (q . k for every key, then the weighted sum of values) grow with the context.
    Norms, biases and softmax are left out: they are tiny next to these.
    """
    d, L = shape.n_embd, shape.n_layer
    q_width = shape.n_head * shape.head_dim
    kv_width = shape.n_kv_head * shape.head_dim
    matrices_in = 2 if shape.ffn == "swiglu" else 1
    parts = {
        "attention_projections": 2 * L * (2 * d * q_width + 2 * d * kv_width),
        "attention_scores": 2 * L * 2 * q_width * context,
        "ffn": 2 * L * (matrices_in + 1) * d * shape.ffn_hidden,
        "head": 2 * d * shape.vocab_size,
    }
    parts["total"] = sum(parts.values())
    return parts


def shape_of(config, name: str = "this model") -> ModelShape:
    """The ModelShape of a models.core.gpt.GPTConfig."""
    return ModelShape(
        name=name, vocab_size=config.vocab_size, context=config.block_size, n_layer=config.n_layer,
        n_embd=config.n_embd, n_head=config.n_head, n_kv_head=config.n_kv_head, ffn_hidden=config.ffn_hidden,
        ffn=config.ffn, positions=config.positions, norm=config.norm, bias=config.bias,
        final_norm=config.norm_placement == "pre", tie_embeddings=config.tie_embeddings,
    )


def with_kv_heads(shape: ModelShape, n_kv_head: int) -> ModelShape:
    """The same model with another number of K/V heads (MHA = n_head, GQA, MQA = 1)."""
    if shape.n_head % n_kv_head:
        raise ValueError(f"n_kv_head ({n_kv_head}) must divide n_head ({shape.n_head})")
    return dataclasses.replace(shape, n_kv_head=n_kv_head)


def parameter_change(shape: ModelShape, n_kv_head: int) -> float:
    """Relative change of the total when ``shape`` uses ``n_kv_head`` K/V heads instead of its own
    (Llama-3-8B with full multi-head attention: about +10%)."""
    own = count_parameters(shape)["total"]
    return (count_parameters(with_kv_heads(shape, n_kv_head))["total"] - own) / own


PRESETS: dict[str, ModelShape] = {
    shape.name: shape
    for shape in [
        ModelShape(
            name="GPT-1", vocab_size=40478, context=512, n_layer=12, n_embd=768, n_head=12, n_kv_head=12,
            ffn_hidden=3072, final_norm=False,
            source="Radford et al. 2018: 12 post-norm layers, d 768, 12 heads, FFN 3072, 512 learned positions, "
            "tied output; vocab 40,478 = 40,000 BPE merges + base symbols + specials (openai-community/openai-gpt "
            "config). Total 116,534,784, quoted as 117M.",
        ),
        ModelShape(
            name="BERT-base", vocab_size=30522, context=512, n_layer=12, n_embd=768, n_head=12, n_kv_head=12,
            ffn_hidden=3072, final_norm=False, token_types=2, embedding_norm=True, pooler=True,
            source="Devlin et al. 2018, bert-base-uncased: 12 post-norm layers, d 768, WordPiece vocab 30,522, "
            "2 segment types, pooler included, MLM head not. Total 109,482,240, quoted as 110M.",
        ),
        ModelShape(
            name="GPT-2 small", vocab_size=50257, context=1024, n_layer=12, n_embd=768, n_head=12, n_kv_head=12,
            ffn_hidden=3072,
            source="Radford et al. 2019, openai-community/gpt2: pre-norm, d 768, byte-level BPE vocab 50,257, "
            "1024 learned positions, tied output. Total 124,439,808.",
        ),
        ModelShape(
            name="GPT-3 175B", vocab_size=50257, context=2048, n_layer=96, n_embd=12288, n_head=96, n_kv_head=96,
            ffn_hidden=4 * 12288,
            source="Brown et al. 2020, Table 2.1: 96 layers, d 12,288, 96 heads of 128, context 2048, GPT-2's "
            "vocab and layout. Total 174,604,259,328, quoted as 175B.",
        ),
        ModelShape(
            name="Llama-3-8B", vocab_size=128256, context=8192, n_layer=32, n_embd=4096, n_head=32, n_kv_head=8,
            ffn_hidden=14336, ffn="swiglu", positions="rope", norm="rmsnorm", bias=False, tie_embeddings=False,
            source="Meta 2024, meta-llama/Meta-Llama-3-8B config: 32 layers, d 4096, 32 query / 8 K/V heads, "
            "SwiGLU 14,336, RoPE, RMSNorm, untied head, vocab 128,256. Total 8,030,261,248.",
        ),
    ]
}


# -- what the calculator says about a published model ------------------------------------------


def preset_parameters_by_context(name: str, contexts: list[int]) -> list[int]:
    """Total parameters of a published model (PRESETS) if its context were
    each of ``contexts``: only a learned position table grows."""
    shape = PRESETS[name]
    return [count_parameters(dataclasses.replace(shape, context=context))["total"] for context in contexts]


def preset_context_growth(name: str, contexts: list[int]) -> list[float]:
    """Per cent more (or fewer) parameters than the published model at each context length."""
    published = count_parameters(PRESETS[name])["total"]
    return [100.0 * (total - published) / published for total in preset_parameters_by_context(name, contexts)]


@dataclass(frozen=True)
class PresetCosts:
    """What a published model costs: parameters, KV cache and forward FLOPs per new token."""

    parameters: int
    kv_bytes_per_token: int
    kv_bytes: int  # for one sequence of ``context`` tokens
    flops_fixed: list[int]  # per token, per context: the weight matrices (no dependence on context)
    flops_attention: list[int]  # per token, per context: q . k and the weighted sum of values


def preset_costs(name: str, context: int, contexts: list[int], bytes_per_value: int = 2) -> PresetCosts:
    shape = PRESETS[name]
    kv = kv_cache_bytes_per_token(shape, bytes_per_value)
    flops = [flops_per_token(shape, c) for c in contexts]
    return PresetCosts(
        parameters=count_parameters(shape)["total"], kv_bytes_per_token=kv, kv_bytes=kv * context,
        flops_fixed=[f["total"] - f["attention_scores"] for f in flops],
        flops_attention=[f["attention_scores"] for f in flops],
    )


@dataclass(frozen=True)
class Breakdown:
    """A published model's total, said the way the calculator says it: blocks x one block, plus
    the token table, the position table and the rest (final norm, untied head, BERT's extras)."""

    n_layer: int
    per_block: int
    embeddings: int
    positions: int
    rest: int
    total: int


def preset_breakdown(name: str) -> Breakdown:
    shape = PRESETS[name]
    parts = count_parameters(shape)
    per_block = (count_parameters(dataclasses.replace(shape, n_layer=1))["total"]
                 - count_parameters(dataclasses.replace(shape, n_layer=0))["total"])
    rest = parts["total"] - shape.n_layer * per_block - parts["embeddings"] - parts["positions"]
    return Breakdown(shape.n_layer, per_block, parts["embeddings"], parts["positions"], rest, parts["total"])


def every_preset_context_growth(contexts: list[int]) -> dict[str, list[float]]:
    """preset_context_growth for every published model: the calculator's left chart."""
    return {name: preset_context_growth(name, contexts) for name in PRESETS}
