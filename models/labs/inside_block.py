"""Inside a block: what the feed-forward network does to one token, the residual stream, experts.

A block has two sub-layers. Attention is the discussion: every word hears the others. The
feed-forward network (FFN) comes after: each word digests what it heard on its own, with the
same weights at every position. This lab opens a block up:

* ``walk`` runs a GPT block by block, keeping every sub-layer's input and output (the same
  operations, in the same order, as ``GPT.forward``, so the numbers are the model's own);
* ``ffn_on_token``: one token's FFN input, hidden activations (ReLU, or SwiGLU's gate, up and
  product), output, and the share of hidden units that fire;
* ``position_proof``: change one word's vector and see which outputs move: attention's move
  at that word and every later one, the FFN's only at that word (exactly 0 elsewhere);
* ``logit_lens``: what the model would predict if it stopped after each layer (final norm and
  LM head applied to the residual stream so far); at the last layer this is the model's output;
* ``parameter_shares``: attention vs FFN vs embeddings, from models.core.params;
* ``moe_routing``: which experts a trained mixture-of-experts layer picks for each token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.core.moe import MIXTRAL_8X7B, moe_parameter_count
from models.core.params import PRESETS, count_parameters, shape_of

MAX_TOKENS = 64
LENS_TOP_K = 5
PRESET_NAMES = ("GPT-1", "GPT-2 small", "Llama-3-8B")


@dataclass
class LayerRecord:
    """One block's sub-layers for a (1, T) input; every tensor (T, C)."""

    block_input: torch.Tensor  # the residual stream entering the block
    attention_output: torch.Tensor  # what attention adds ("heard")
    ffn_input: torch.Tensor  # what the FFN reads (normed first in a pre-norm block)
    ffn_output: torch.Tensor  # what the FFN adds
    block_output: torch.Tensor


@dataclass
class Walk:
    layers: list[LayerRecord]
    logits: torch.Tensor  # (T, vocab), the model's output


def _rope(model, T: int):
    if model.config.positions != "rope":
        return None
    return model.rope_cos[:T], model.rope_sin[:T]


def attention_sublayer(block, x: torch.Tensor, rope) -> torch.Tensor:
    """Attention's output for a block input x (B, T, C), causal, as Block.forward computes it."""
    normed = block.norm_attn(x) if block.config.norm_placement == "pre" else x
    heard, _ = block.attn(normed, mask=None, causal=True, rope=rope, cache=None, need_weights=False)
    return heard


@torch.inference_mode()
def walk(model, ids: list[int]) -> Walk:
    """Run ``model`` (a models.core.gpt.GPT in eval mode) on ids, one sub-layer at a time."""
    idx = torch.tensor([ids], dtype=torch.long, device=model.wte.weight.device)
    tokens, positions = model._embed(idx, 0)
    x = tokens if positions is None else tokens + positions  # (1, T, C)
    rope = _rope(model, len(ids))
    layers = []
    for block in model.blocks:
        heard = attention_sublayer(block, x, rope)
        if block.config.norm_placement == "pre":
            mid = x + heard
            ffn_input = block.norm_ffn(mid)
            ffn_output = block.ffn(ffn_input)
            out = mid + ffn_output
        else:
            ffn_input = block.norm_attn(x + heard)
            ffn_output = block.ffn(ffn_input)
            out = block.norm_ffn(ffn_input + ffn_output)
        layers.append(LayerRecord(x[0], heard[0], ffn_input[0], ffn_output[0], out[0]))
        x = out
    final = x if model.norm_f is None else model.norm_f(x)
    return Walk(layers=layers, logits=model.lm_head(final)[0])


# -- the FFN on one token ----------------------------------------------------------------


@dataclass
class FFNView:
    kind: str  # "relu", "gelu" or "swiglu"
    input: np.ndarray  # (C,) what the FFN reads for this token
    pre_activation: np.ndarray  # (H,) w_up x (relu/gelu) or the gate w_gate x (swiglu)
    up: np.ndarray | None  # (H,) SwiGLU's w_up x (None otherwise)
    hidden: np.ndarray  # (H,) what w_down reads: act(w_up x), or silu(gate) * up
    output: np.ndarray  # (C,) what the FFN adds to the residual stream
    firing_share: float  # hidden units whose activation input is above 0
    n_hidden: int


def _activation_input_and_hidden(ffn, x: torch.Tensor):
    """(pre-activation, up or None, hidden) for FFN inputs x (..., C)."""
    if ffn.kind == "swiglu":
        gate, up = ffn.w_gate(x), ffn.w_up(x)
        return gate, up, F.silu(gate) * up
    pre = ffn.w_up(x)
    hidden = F.gelu(pre, approximate="tanh") if ffn.kind == "gelu" else F.relu(pre)
    return pre, None, hidden


@torch.inference_mode()
def ffn_on_token(model, ids: list[int], position: int, layer: int) -> FFNView:
    record = walk(model, ids).layers[layer]
    ffn = model.blocks[layer].ffn
    x = record.ffn_input[position]
    pre, up, hidden = _activation_input_and_hidden(ffn, x)
    return FFNView(
        kind=ffn.kind, input=x.numpy(), pre_activation=pre.numpy(), up=None if up is None else up.numpy(),
        hidden=hidden.numpy(), output=ffn.w_down(hidden).numpy(),
        firing_share=float((pre > 0).float().mean()), n_hidden=pre.numel(),
    )


def activation_curves(low: float = -4.0, high: float = 4.0, n: int = 161) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """ReLU, GELU (tanh approximation) and SiLU on a grid: name -> (x, f(x))."""
    x = torch.linspace(low, high, n)
    return {"ReLU": (x.numpy(), F.relu(x).numpy()), "GELU": (x.numpy(), F.gelu(x, approximate="tanh").numpy()),
            "SiLU": (x.numpy(), F.silu(x).numpy())}


def activation_of(kind: str) -> str:
    """The curve a model's hidden units go through: ReLU, GELU, or SiLU (SwiGLU's gate)."""
    return {"relu": "ReLU", "gelu": "GELU", "swiglu": "SiLU"}[kind]


# -- position by position, proved --------------------------------------------------------


@dataclass
class PositionProof:
    changed: int  # the position whose vector was replaced
    attention_delta: np.ndarray  # (T,) max |Δ| of attention's output at each position
    ffn_delta: np.ndarray  # (T,) max |Δ| of the FFN's output at each position

    @property
    def ffn_elsewhere(self) -> float:
        """Largest FFN change at any position other than the changed one (0 = untouched)."""
        others = np.delete(self.ffn_delta, self.changed)
        return float(others.max()) if others.size else 0.0

    @property
    def attention_after(self) -> float:
        """Largest attention change at a later position (> 0: later words heard the change)."""
        later = self.attention_delta[self.changed + 1:]
        return float(later.max()) if later.size else 0.0


@torch.inference_mode()
def position_proof(model, ids: list[int], position: int, replacement_id: int, layer: int) -> PositionProof:
    """Swap token ``position`` for ``replacement_id`` and, in block ``layer``, give both
    sub-layers the original inputs with only that row replaced by the edited run's row.
    Every other row is the same, bit for bit, in both inputs."""
    edited = list(ids)
    edited[position] = replacement_id
    before, after = walk(model, ids).layers[layer], walk(model, edited).layers[layer]
    block = model.blocks[layer]
    rope = _rope(model, len(ids))

    block_input = before.block_input.clone()
    block_input[position] = after.block_input[position]
    attention_before = attention_sublayer(block, before.block_input[None], rope)[0]
    attention_after = attention_sublayer(block, block_input[None], rope)[0]

    ffn_input = before.ffn_input.clone()
    ffn_input[position] = after.ffn_input[position]
    ffn_before, ffn_after = block.ffn(before.ffn_input), block.ffn(ffn_input)
    return PositionProof(
        changed=position,
        attention_delta=(attention_after - attention_before).abs().amax(dim=-1).numpy(),
        ffn_delta=(ffn_after - ffn_before).abs().amax(dim=-1).numpy(),
    )


# -- the residual stream and the logit lens ----------------------------------------------


@dataclass
class LogitLens:
    top_ids: np.ndarray  # (L + 1, k): embeddings, then after each block
    top_probs: np.ndarray  # (L + 1, k)
    final_id: int  # the token the full model predicts (its argmax)
    final_prob: np.ndarray  # (L + 1,) probability of final_id at each stage
    final_rank: np.ndarray  # (L + 1,) its rank (1 = top) at each stage
    attention_update: np.ndarray  # (L,) |attention output| / |stream entering the block|
    ffn_update: np.ndarray  # (L,) |FFN output| / |stream entering the block|
    lens_logits: torch.Tensor  # (L + 1, vocab) at the chosen position
    model_logits: torch.Tensor  # (vocab,) the model's own output there

    @property
    def last_layer_gap(self) -> float:
        """Largest difference between the lens after the last block and the model's output (0 = the same)."""
        return float((self.lens_logits[-1] - self.model_logits).abs().max())


@torch.inference_mode()
def logit_lens(model, ids: list[int], position: int, top_k: int = LENS_TOP_K) -> LogitLens:
    run = walk(model, ids)
    streams = [run.layers[0].block_input[position]] + [layer.block_output[position] for layer in run.layers]
    stacked = torch.stack(streams)  # (L + 1, C)
    normed = stacked if model.norm_f is None else model.norm_f(stacked)
    lens_logits = model.lm_head(normed)  # (L + 1, vocab)
    probs = lens_logits.softmax(dim=-1)
    top_probs, top_ids = probs.topk(top_k, dim=-1)
    model_logits = run.logits[position]
    final_id = int(model_logits.argmax())
    final_prob = probs[:, final_id]
    final_rank = (probs > final_prob[:, None]).sum(dim=-1) + 1
    entering = torch.stack([layer.block_input[position].norm() for layer in run.layers])
    return LogitLens(
        top_ids=top_ids.numpy(), top_probs=top_probs.numpy(), final_id=final_id,
        final_prob=final_prob.numpy(), final_rank=final_rank.numpy(),
        attention_update=(torch.stack([layer.attention_output[position].norm() for layer in run.layers])
                          / entering).numpy(),
        ffn_update=(torch.stack([layer.ffn_output[position].norm() for layer in run.layers]) / entering).numpy(),
        lens_logits=lens_logits, model_logits=model_logits,
    )


# -- where the parameters are ------------------------------------------------------------


def parameter_shares(configs: dict[str, object]) -> dict[str, dict[str, int]]:
    """For each model (bundled GPTConfigs by name, then the presets): per block attention, FFN
    and norms; in total embeddings (+ positions + untied head), attention, FFN, norms, total."""
    shapes = {name: shape_of(config, name) for name, config in configs.items()}
    shapes.update({name: PRESETS[name] for name in PRESET_NAMES})
    table = {}
    for name, shape in shapes.items():
        parts = count_parameters(shape)
        table[name] = {
            "layers": shape.n_layer,
            "block_attention": parts["attention"] // shape.n_layer,
            "block_ffn": parts["ffn"] // shape.n_layer,
            "block_ffn_share": parts["ffn"] / (parts["ffn"] + parts["attention"]),
            "embeddings": parts["embeddings"] + parts["positions"] + parts["head"],
            "attention": parts["attention"], "ffn": parts["ffn"], "norms": parts["norms"], "total": parts["total"],
        }
    return table


def mixtral_calculator(n_experts: int = 8, top_k: int = 2, shape=MIXTRAL_8X7B) -> dict[str, int]:
    """Total and active parameters of a Mixtral-shaped model with ``n_experts`` experts, ``top_k`` per token."""
    return moe_parameter_count(shape, n_experts, top_k)


# -- mixture of experts on a prompt ------------------------------------------------------


@dataclass
class MoERouting:
    experts: np.ndarray  # (T, k) chosen experts per token, best first
    weights: np.ndarray  # (T, k) their mixing weights
    probs: np.ndarray  # (T, E) router softmax over all experts
    load: np.ndarray  # (E,) share of assignments each expert got on this prompt
    n_experts: int


@torch.inference_mode()
def moe_routing(swapped_model, ids: list[int], layer: int) -> MoERouting:
    """Which experts block ``layer``'s MoE FFN picks for every token of ``ids``."""
    from models.core.moe import expert_load

    moe = swapped_model.blocks[layer].ffn
    routing = moe.route(walk(swapped_model, ids).layers[layer].ffn_input)
    return MoERouting(experts=routing.experts.numpy(), weights=routing.weights.numpy(),
                      probs=routing.probs.numpy(), load=expert_load(routing, moe.n_experts).numpy(),
                      n_experts=moe.n_experts)


# -- a person's own causal LM ------------------------------------------------------------

_UP_NAMES = ("gate_proj", "c_fc", "dense_h_to_4h", "fc_in", "fc1", "w1")  # the projection before the activation
_DOWN_NAMES = ("down_proj", "c_proj", "dense_4h_to_h", "fc_out", "fc2", "w2")  # the one after it
_ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "gelu_new": "gelu", "gelu_pytorch_tanh": "gelu", "gelu_fast": "gelu",
                "silu": "swiglu", "swish": "swiglu"}


def user_mlp_layers(model) -> list:
    """The FFN module of every block of a transformers causal LM ("...layers.3.mlp", "...h.3.mlp"), in
    order; empty when the family names its FFN otherwise."""
    import re

    found = []
    for name, module in model.named_modules():
        match = re.search(r"\.(\d+)\.mlp$", name)
        if match and any(hasattr(module, down) for down in _DOWN_NAMES):
            found.append((int(match.group(1)), module))
    return [module for _, module in sorted(found, key=lambda item: item[0])]


@torch.inference_mode()
def user_ffn_on_token(user_model, text: str, position: int, layer: int) -> tuple[FFNView, list[str]] | None:
    """``ffn_on_token`` for a loaded models.pretrained.user_model.UserModel (causal); None when its
    FFN modules cannot be found. Hooks record only this thread's forward pass, so other sessions
    running the same shared model at the same moment do not mix into the numbers."""
    import threading

    mlps = user_mlp_layers(user_model.model)
    if not mlps:
        return None
    mlp = mlps[min(layer, len(mlps) - 1)]
    up = next(getattr(mlp, name) for name in _UP_NAMES if hasattr(mlp, name))
    down = next(getattr(mlp, name) for name in _DOWN_NAMES if hasattr(mlp, name))
    me, seen = threading.get_ident(), {}

    def keep(name):
        def hook(module, args, output=None):
            if threading.get_ident() == me:
                seen[name] = (args[0] if output is None else output)[0].float()
        return hook

    handles = [mlp.register_forward_hook(keep("output")),
               mlp.register_forward_pre_hook(keep("input")), up.register_forward_hook(keep("pre")),
               down.register_forward_pre_hook(keep("hidden"))]
    if hasattr(mlp, "up_proj"):
        handles.append(mlp.up_proj.register_forward_hook(keep("up")))
    try:
        run = user_model.run(text, max_tokens=MAX_TOKENS)
    finally:
        for handle in handles:
            handle.remove()
    position = min(position, len(run.ids) - 1)
    config = user_model.config
    act = getattr(config, "hidden_act", None) or getattr(config, "activation_function", None) or "gelu"
    pre = seen["pre"][position]
    view = FFNView(
        kind=_ACTIVATIONS.get(str(act), "gelu"), input=seen["input"][position].cpu().numpy(),
        pre_activation=pre.cpu().numpy(), up=seen["up"][position].cpu().numpy() if "up" in seen else None,
        hidden=seen["hidden"][position].cpu().numpy(), output=seen["output"][position].cpu().numpy(),
        firing_share=float((pre > 0).float().mean()), n_hidden=pre.numel(),
    )
    return view, run.tokens
