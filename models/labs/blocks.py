"""The 2017 vs 2024 block, measured: what each design change costs and what it buys.

Everything the "2017 vs 2024 block" page shows comes from here, computed with the core's
own modules rather than quoted:

* :func:`block_stats`: parameters (split by part) and KV-cache bytes per token of a GPT
  built from a chosen set of switches (the tests check every count against the core's GPT
  built on the ``meta`` device, and the KV bytes against its KVCache).
* :func:`depth_norms`: activation and gradient norms per layer through a deep stack at
  initialisation, post-norm vs pre-norm (seeded forward and backward pass on random tokens);
  :func:`stored_placements` keeps each answer on disk, and :func:`fill_depth_grid` computes the
  slider's whole grid for one seed ahead of a class.
* :func:`rope_rotation` and :func:`relative_scores`: RoPE turns each 2D pair of a query by
  an angle proportional to its position, so q . k depends only on the distance m - n;
  with sinusoidal positions *added* to the vectors it does not.
* :func:`training_curves`, :func:`heldout_report`: what the two bundled tiny models logged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.core import params
from models.core.blocks import KV_GROUPS, STYLES as BLOCK_STYLES, default_ffn_hidden
from models.core.gpt import GPT, GPTConfig
from models.core.positional import apply_rope, rope_cos_sin, rope_frequencies, sinusoidal
from models.core.sampling import written_length
from models.core.seeding import seeded
from models.text.disk_cache import cache_folder, read_arrays, stored_arrays

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "tinygpt"
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "blocks"
DEPTH_CACHE_VERSION = 1
STYLES = tuple(BLOCK_STYLES)  # ("2017", "2024"): the two designs and the two bundled models
KV_DTYPE = torch.float16  # what a deployed model usually keeps its cache in: 2 bytes per number

SIZES = ("tiny", "gpt2_small", "llama3_8b")  # the model shapes the switches are applied to
PUBLISHED = {"gpt2_small": "GPT-2 small", "llama3_8b": "Llama-3-8B"}  # size -> models.core.params.PRESETS
_2024 = BLOCK_STYLES["2024"]


@dataclass(frozen=True)
class BlockChoices:
    """The switches between a 2017 and a 2024 block (defaults: 2024), read from models.core.blocks.STYLES."""

    norm_placement: str = _2024["norm_placement"]  # "post" (2017) or "pre"
    norm: str = _2024["norm"]  # "layernorm" (2017) or "rmsnorm"
    positions: str = _2024["positions"]  # "sinusoidal" (2017), "learned" (GPT-1/2, BERT) or "rope"
    kv_group: int = KV_GROUPS["2024"]  # query heads per K/V head: 1 = multi-head (2017), n_head = multi-query
    ffn: str = _2024["ffn"]  # "relu" (2017) or "swiglu"
    bias: bool = _2024["bias"]  # biases in every Linear and LayerNorm (2017: yes)

    @classmethod
    def style(cls, style: str) -> BlockChoices:
        return cls(**BLOCK_STYLES[style], kv_group=KV_GROUPS[style])

    @classmethod
    def style_2017(cls) -> BlockChoices:
        return cls.style("2017")

    @classmethod
    def style_2024(cls) -> BlockChoices:
        return cls.style("2024")

    def changed_from(self, other: BlockChoices) -> set[str]:
        """Names of the switches that differ from ``other``."""
        return {name for name in self.__dataclass_fields__ if getattr(self, name) != getattr(other, name)}


def kv_group_options(n_head: int) -> list[int]:
    """Valid group sizes (query heads per K/V head): the divisors of n_head."""
    return [g for g in range(1, n_head + 1) if n_head % g == 0]


@dataclass(frozen=True)
class Size:
    """A model shape the switches are applied to, and its FFN width for each FFN kind."""

    shape: params.ModelShape  # vocabulary, context, layers, heads, width, tied head
    ffn_widths: dict[str, int]  # "relu" / "swiglu" -> hidden width


def bundled_config(style: str, asset_dir: Path = ASSET_DIR) -> GPTConfig:
    """The config a bundled tiny model was trained with (assets/tinygpt/<style>/config.json)."""
    return GPTConfig.from_dict(json.loads((asset_dir / style / "config.json").read_text(encoding="utf-8")))


@cache
def size_spec(size: str) -> Size:
    """``tiny``: the two bundled models (their own FFN widths); the others: the published shapes of
    models.core.params.PRESETS, with the published FFN width for its own kind and the core's default
    (4x for ReLU, about 8/3x for SwiGLU) for the other. So "All 2024" at ``tiny`` is the bundled
    2024 model, and at ``llama3_8b`` is Llama-3-8B itself."""
    if size == "tiny":
        configs = [bundled_config(style) for style in STYLES]
        return Size(params.shape_of(configs[-1], "tiny"), {config.ffn: config.ffn_hidden for config in configs})
    shape = params.PRESETS[PUBLISHED[size]]
    widths = {kind: default_ffn_hidden(shape.n_embd, kind) for kind in ("relu", "swiglu")}
    widths["swiglu" if shape.ffn == "swiglu" else "relu"] = shape.ffn_hidden
    return Size(shape, widths)


def gpt_config(size: str, choices: BlockChoices) -> GPTConfig:
    """A GPTConfig of the named shape with the chosen switches."""
    spec = size_spec(size)
    shape = spec.shape
    if shape.n_head % choices.kv_group:
        raise ValueError(f"kv_group {choices.kv_group} must divide n_head {shape.n_head}; "
                         f"choose one of {kv_group_options(shape.n_head)}")
    return GPTConfig(
        vocab_size=shape.vocab_size, block_size=shape.context, n_layer=shape.n_layer, n_head=shape.n_head,
        n_embd=shape.n_embd, n_kv_head=shape.n_head // choices.kv_group, ffn_hidden=spec.ffn_widths[choices.ffn],
        tie_embeddings=shape.tie_embeddings, norm=choices.norm, norm_placement=choices.norm_placement,
        positions=choices.positions, ffn=choices.ffn, bias=choices.bias,
    )


@dataclass(frozen=True)
class BlockStats:
    """Parameter counts by part and KV-cache size of one configuration."""

    total: int  # every trainable number (tied embedding counted once)
    embedding: int  # token table (also the LM head: tied)
    positions: int  # learned position table; 0 for sinusoidal and RoPE
    attention: int  # all layers: W_Q, W_K, W_V, W_O (+ biases)
    ffn: int  # all layers
    norms: int  # all norms, the final one included
    per_block: int  # one block: attention + FFN + its two norms
    kv_bytes_per_token: int  # K and V of one position, all layers, in KV_DTYPE
    n_layer: int
    n_head: int
    n_kv_head: int
    head_dim: int
    ffn_hidden: int


def count_parameters(config: GPTConfig) -> BlockStats:
    """Parameters by part and KV bytes per token, from models.core.params (a test checks the
    sums against the core's GPT built on the meta device and against its KVCache)."""
    shape = params.shape_of(config)
    parts = params.count_parameters(shape)
    one_block = params.count_parameters(replace(shape, n_layer=1))["total"]
    no_block = params.count_parameters(replace(shape, n_layer=0))["total"]
    bytes_per_number = torch.empty((), dtype=KV_DTYPE).element_size()
    return BlockStats(
        total=parts["total"], embedding=parts["embeddings"] + parts["head"], positions=parts["positions"],
        attention=parts["attention"], ffn=parts["ffn"], norms=parts["norms"], per_block=one_block - no_block,
        kv_bytes_per_token=params.kv_cache_bytes_per_token(shape, bytes_per_number),
        n_layer=config.n_layer, n_head=config.n_head, n_kv_head=config.n_kv_head, head_dim=config.head_dim,
        ffn_hidden=config.ffn_hidden,
    )


def block_stats(size: str, choices: BlockChoices) -> BlockStats:
    """Parameters and KV bytes per token for the named shape with these switches."""
    return count_parameters(gpt_config(size, choices))


def relative_change(new: float, old: float) -> float:
    """(new - old) / old: -0.1 is a tenth fewer."""
    return (new - old) / old


@dataclass(frozen=True)
class SwitchEffects:
    """What the page's notice says about parameters, computed: All 2017 -> All 2024 at every size,
    and at Llama-3-8B's shape, grouped-query (its own group) and multi-query against multi-head."""

    all_changes: dict[str, float]  # size -> relative change of the total parameters
    group: int  # Llama-3-8B's query heads per K/V head
    gqa_change: float  # parameters, GQA vs MHA, every other switch at 2024
    mqa_change: float  # parameters, MQA vs MHA
    n_head: int  # MQA shrinks the KV cache this many times, GQA ``group`` times


def switch_effects(size: str = "llama3_8b") -> SwitchEffects:
    style_2017, style_2024 = BlockChoices.style_2017(), BlockChoices.style_2024()
    n_head = size_spec(size).shape.n_head
    totals = {group: block_stats(size, replace(style_2024, kv_group=group)).total for group in (1, n_head)}
    chosen = block_stats(size, style_2024).total
    return SwitchEffects(
        all_changes={name: relative_change(block_stats(name, style_2024).total, block_stats(name, style_2017).total)
                     for name in SIZES},
        group=style_2024.kv_group, gqa_change=relative_change(chosen, totals[1]),
        mqa_change=relative_change(totals[n_head], totals[1]), n_head=n_head,
    )


def parameters_by_context(config: GPTConfig, contexts: list[int]) -> list[int]:
    """Total parameters of the same model at several context lengths: constant, except for
    the learned position table (context x width)."""
    return [count_parameters(replace(config, block_size=context)).total for context in contexts]


# -- deep stacks at initialisation ---------------------------------------------------------



@dataclass(frozen=True)
class DepthNorms:
    """What a deep stack does to a signal at initialisation, per layer (1 = first block)."""

    norm_placement: str
    activation_rms: list[float]  # root-mean-square of each block's output
    gradient_norm: list[float]  # L2 norm of the gradient of all of a block's weights
    loss: float  # cross-entropy of the untrained model on the random batch (about ln vocab)


INITS = ("xavier", "gpt2")
DEPTHS = range(2, 49, 2)  # the depth slider's values
NORMS = ("layernorm", "rmsnorm")
PLACEMENTS = ("post", "pre")
SERIES = ("activation_rms", "gradient_norm")  # DepthNorms' per-layer lists


def initialise(model: GPT, init: str) -> None:
    """``gpt2``: the core's own init (N(0, 0.02), residual projections shrunk by
    1/sqrt(2 * layers)); ``xavier``: the 2017 paper's Glorot-uniform matrices, token
    table N(0, 1/width) (multiplied by sqrt(width) at the input, so entries of size 1)."""
    if init == "gpt2":
        return  # GPT.__init__ already did it
    if init != "xavier":
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    for module in model.modules():
        if isinstance(module, torch.nn.Linear) and module is not model.lm_head:
            torch.nn.init.xavier_uniform_(module.weight)
    torch.nn.init.normal_(model.wte.weight, std=model.config.n_embd ** -0.5)


def depth_norms(norm_placement: str, n_layer: int = 24, *, norm: str = "layernorm", init: str = "xavier",
                n_embd: int = 64, n_head: int = 4, seq_len: int = 32, batch_size: int = 2, vocab_size: int = 256,
                seed: int = 0) -> DepthNorms:
    """One forward and backward pass of an untrained GPT on random tokens.

    Everything but the norm placement is the 2017 design (sinusoidal positions, ReLU,
    multi-head attention), so with the same seed both placements start from exactly the
    same weights (the parameter shapes are the same).
    """
    config = GPTConfig.style_2017(vocab_size=vocab_size, block_size=seq_len, n_layer=n_layer, n_head=n_head,
                                  n_embd=n_embd, norm=norm, norm_placement=norm_placement)
    return _depth_norms(config, init, batch_size, seed)


def _depth_norms(config: GPTConfig, init: str, batch_size: int, seed: int) -> DepthNorms:
    seq_len, vocab_size = config.block_size, config.vocab_size
    with seeded(seed):  # the global generator, locked: two sessions at once get the same weights per seed
        model = GPT(config).train()
        initialise(model, init)
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab_size, (batch_size, seq_len + 1), generator=generator)  # (B, T+1)
    outputs: list[torch.Tensor] = []
    hooks = [block.register_forward_hook(lambda module, args, result: outputs.append(result[0].detach()))
             for block in model.blocks]
    try:
        logits, _ = model(tokens[:, :-1])  # (B, T, vocab)
    finally:
        for hook in hooks:
            hook.remove()
    loss = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten())
    loss.backward()
    gradients = []
    for block in model.blocks:
        squares = sum(p.grad.pow(2).sum() for p in block.parameters() if p.grad is not None)
        gradients.append(float(torch.sqrt(squares)))
    return DepthNorms(
        norm_placement=config.norm_placement,
        activation_rms=[float(h.pow(2).mean().sqrt()) for h in outputs],
        gradient_norm=gradients,
        loss=loss.item(),
    )


def both_placements(n_layer: int, norm: str, init: str, seed: int) -> dict[str, DepthNorms]:
    """depth_norms for post-norm and pre-norm, same depth, norm, initialisation and seed."""
    return {placement: depth_norms(placement, n_layer, norm=norm, init=init, seed=seed)
            for placement in PLACEMENTS}


def _depth_path(n_layer: int, norm: str, init: str, seed: int, cache_dir: Path | None) -> Path:
    name = f"depth-v{DEPTH_CACHE_VERSION}-{n_layer}-{norm}-{init}-{seed}.npz"
    return cache_folder(cache_dir, CACHE_DIR) / name


def _depth_shapes(n_layer: int) -> dict[str, tuple[int, ...]]:
    return {**{f"{p}_{series}": (n_layer,) for p in PLACEMENTS for series in SERIES}, "loss": (len(PLACEMENTS),)}


def stored_placements(n_layer: int, norm: str, init: str, seed: int,
                      cache_dir: Path | None = None) -> dict[str, DepthNorms]:
    """``both_placements``, computed once per input and kept on disk (``disk_cache.stored_arrays``:
    written whole or not at all, a damaged file computed again): a class moving the depth slider at
    random would otherwise run a new 48-layer forward and backward pass for many of its moves."""
    def compute() -> dict[str, list[float]]:
        found = both_placements(n_layer, norm, init, seed)
        return {**{f"{p}_{series}": getattr(found[p], series) for p in PLACEMENTS for series in SERIES},
                "loss": [found[p].loss for p in PLACEMENTS]}

    arrays = stored_arrays(_depth_path(n_layer, norm, init, seed, cache_dir), _depth_shapes(n_layer), compute)
    return {p: DepthNorms(p, arrays[f"{p}_activation_rms"].tolist(), arrays[f"{p}_gradient_norm"].tolist(),
                          float(arrays["loss"][index])) for index, p in enumerate(PLACEMENTS)}


def fill_depth_grid(seed: int = 0, cache_dir: Path | None = None) -> int:
    """Every depth, norm and initialisation the page offers for ``seed``, on disk; returns how many
    were computed now (the rest were stored already)."""
    missing = [(n_layer, norm, init) for n_layer in DEPTHS for norm in NORMS for init in INITS
               if read_arrays(_depth_path(n_layer, norm, init, seed, cache_dir), _depth_shapes(n_layer)) is None]
    for n_layer, norm, init in missing:
        stored_placements(n_layer, norm, init, seed, cache_dir)
    return len(missing)


def last_layer_gradient_ratio(post: DepthNorms, pre: DepthNorms) -> float:
    """How much larger the last block's gradient is with post-norm than with pre-norm
    (theory, Xiong et al. 2020: about sqrt(layers) at initialisation)."""
    return post.gradient_norm[-1] / pre.gradient_norm[-1]


def gradient_spread(norms: DepthNorms) -> float:
    """Largest over smallest per-layer gradient norm: 1 = every layer learns at the same pace."""
    return max(norms.gradient_norm) / min(norms.gradient_norm)


# -- positions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RopeRotation:
    """Where RoPE moves a unit vector (1, 0) of each chosen pair, position by position."""

    positions: list[int]
    pairs: list[int]
    frequencies: list[float]  # radians per position of each pair
    points: np.ndarray  # (pairs, positions, 2): the rotated (first, second) coordinates

    @property
    def degrees_per_position(self) -> list[float]:
        return [math.degrees(f) for f in self.frequencies]


def rope_rotation(n_positions: int, head_dim: int, pairs: list[int], theta: float = 10000.0) -> RopeRotation:
    """Rotate a query whose every pair is (1, 0) with :func:`models.core.positional.apply_rope`
    and read the pairs back: pair i is (x[i], x[i + head_dim/2]) in the Llama convention."""
    half = head_dim // 2
    if any(not 0 <= p < half for p in pairs):
        raise ValueError(f"pairs must lie in 0..{half - 1}, got {pairs}")
    query = torch.zeros(1, 1, n_positions, head_dim)  # (B, H, T, D)
    query[..., :half] = 1.0
    cos, sin = rope_cos_sin(torch.arange(n_positions), head_dim, theta)  # (T, D) each
    rotated, _ = apply_rope(query, query, cos, sin)
    rotated = rotated[0, 0]  # (T, D)
    points = np.stack([torch.stack([rotated[:, p], rotated[:, p + half]], dim=-1).numpy() for p in pairs])
    frequencies = rope_frequencies(head_dim, theta).tolist()
    return RopeRotation(list(range(n_positions)), list(pairs), [frequencies[p] for p in pairs], points)


@dataclass(frozen=True)
class RelativeScores:
    """q . k / sqrt(D) for the same query content at every position m and the same key
    content at every position n."""

    scores: np.ndarray  # (T, T): row m (query position), column n (key position)
    diagonal_spread: float  # largest (max - min) along any diagonal m - n = const

    @property
    def limit(self) -> float:
        """Largest |score|: a colour scale from -limit to +limit puts 0 in the middle."""
        return float(np.abs(self.scores).max())


def relative_scores(seq_len: int, head_dim: int, method: str, *, theta: float = 10000.0,
                    seed: int = 0) -> RelativeScores:
    """``rope``: rotate q and k by their positions; ``sinusoidal``: add the sine table to both.

    With RoPE every diagonal is constant (up to float error): the score depends only on the
    distance. Added positions leave terms like q . p_n that depend on where the key sits.
    """
    generator = torch.Generator().manual_seed(seed)
    content_q, content_k = torch.randn(2, head_dim, generator=generator)  # (D,) each
    q = content_q.expand(1, 1, seq_len, head_dim)  # (B, H, T, D): same content everywhere
    k = content_k.expand(1, 1, seq_len, head_dim)
    if method == "rope":
        cos, sin = rope_cos_sin(torch.arange(seq_len), head_dim, theta)
        q, k = apply_rope(q, k, cos, sin)
    elif method == "sinusoidal":
        table = sinusoidal(seq_len, head_dim)  # (T, D)
        q, k = q + table, k + table
    else:
        raise ValueError(f"method must be 'rope' or 'sinusoidal', got {method!r}")
    scores = (q[0, 0] @ k[0, 0].T / math.sqrt(head_dim)).numpy()  # (T, T)
    spread = max(float(np.ptp(np.diagonal(scores, offset))) for offset in range(-seq_len + 1, seq_len))
    return RelativeScores(scores, spread)


@dataclass(frozen=True)
class PositionPictures:
    """Everything the positions section draws."""

    rotation: RopeRotation
    scores: dict[str, RelativeScores]  # "rope" / "sinusoidal"
    table: np.ndarray  # the 2017 sine table (positions x dimensions)


def position_pictures(seq_len: int, head_dim: int, pair: int, seed: int) -> PositionPictures:
    """Pair 0 and ``pair`` rotating, the relative-score test both ways, and the sine table."""
    return PositionPictures(rope_rotation(seq_len, head_dim, sorted({0, pair})),
                            {method: relative_scores(seq_len, head_dim, method, seed=seed)
                             for method in ("rope", "sinusoidal")}, sinusoidal_table(seq_len, head_dim))


def sinusoidal_table(seq_len: int, dim: int) -> np.ndarray:
    """The 2017 position table (positions x dimensions) as numpy, for a heatmap."""
    return sinusoidal(seq_len, dim).numpy()


# -- the two bundled tiny models ------------------------------------------------------------


@dataclass(frozen=True)
class TrainingCurve:
    style: str
    steps: list[int]
    train_loss: list[float]
    heldout_loss: list[float]
    parameters: int
    wall_time_s: float
    device: str


def training_curves(asset_dir: Path = ASSET_DIR) -> dict[str, TrainingCurve] | None:
    """The loss logged while training each bundled model; None until both logs exist."""
    paths = {style: asset_dir / style / "train_log.json" for style in STYLES}
    if not all(path.exists() for path in paths.values()):
        return None
    curves = {}
    for style, path in paths.items():
        log = json.loads(path.read_text(encoding="utf-8"))
        history = log["history"]
        curves[style] = TrainingCurve(
            style=style, steps=[entry["step"] for entry in history],
            train_loss=[entry["train_loss"] for entry in history],
            heldout_loss=[entry["heldout_loss"] for entry in history],
            parameters=log["parameters"], wall_time_s=log["wall_time_s"], device=log["device"],
        )
    return curves


@dataclass(frozen=True)
class HeldoutReport:
    perplexity: dict[str, float]  # style -> held-out perplexity (float32, CPU, saved weights)
    parameters: dict[str, int]
    tokens_scored: int
    unigram_perplexity: float  # the no-context baseline on the same tokens


def heldout_report(asset_dir: Path = ASSET_DIR) -> HeldoutReport | None:
    """Held-out perplexities from ``eval.json``; None until it exists."""
    path = asset_dir / "eval.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text(encoding="utf-8"))
    models = report["models"]
    return HeldoutReport(
        perplexity={style: models[style]["heldout_perplexity"] for style in STYLES},
        parameters={style: models[style]["parameters"] for style in STYLES},
        tokens_scored=models[STYLES[0]]["heldout_tokens_scored"],
        unigram_perplexity=report["unigram"]["heldout_perplexity"],
    )


SAMPLED = dict(temperature=0.8, top_k=50)  # the "sampled" setting, as in eval.json


MAX_NEW_TOKENS = 60  # the longest continuation the page asks for


def prompt_room(bundle) -> int:
    """How many prompt tokens a run keeps: the last ones, leaving the context room for the longest
    continuation, so every step reads the KV cache (a prompt past the context would recompute the
    whole window at every step, ~40x slower). The same for every length, so a longer run still
    begins with a shorter one."""
    return bundle.config.block_size - written_length(MAX_NEW_TOKENS)


@dataclass(frozen=True)
class WrittenIds:
    """What a bundled model writes after a prompt, both ways at once (new token ids only)."""

    greedy: list[int]
    sampled: list[int]  # SAMPLED settings, generator seeded by the seed given
    prompt_cut: int = 0  # prompt tokens dropped from the front (prompt_room)

    def text(self, bundle, n: int, *, sampled: bool) -> str:
        """The first ``n`` new tokens as text: the first n tokens of a longer run are exactly
        what an n-token run writes (each token depends only on what came before it)."""
        return bundle.decode((self.sampled if sampled else self.greedy)[:n])


def write_both(bundle, prompt: str, new_tokens: int, *, seed: int) -> WrittenIds | None:
    """The greedy and the sampled continuation of ``prompt`` by a bundled model
    (models.pretrained.tiny_gpt.TinyGPT), written together: one forward pass per position for both
    rows (GPT.generate_rows). The prompt keeps its last ``prompt_room`` tokens. None when
    the prompt has no tokens."""
    ids = bundle.encode(prompt)
    if not ids:
        return None
    cut = max(0, len(ids) - prompt_room(bundle))
    generator = torch.Generator(device=bundle.device).manual_seed(seed)
    rows = bundle.model.generate_rows(bundle.as_tensor(ids[cut:]), new_tokens, [0.0, SAMPLED["temperature"]],
                                      top_k=SAMPLED["top_k"], generators=[None, generator])
    return WrittenIds(greedy=rows[0].tolist(), sampled=rows[1].tolist(), prompt_cut=cut)


def continuation(bundle, prompt: str, max_new_tokens: int, *, sampled: bool, seed: int) -> str | None:
    """The text a bundled model writes after ``prompt``: greedy, or sampled with SAMPLED and
    a seeded generator. None when the prompt has no tokens."""
    written = write_both(bundle, prompt, max_new_tokens, seed=seed)
    return None if written is None else written.text(bundle, max_new_tokens, sampled=sampled)
