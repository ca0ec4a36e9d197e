"""Mixture of experts: one feed-forward layer split into several smaller ones and a router.

A dense FFN sends every token through all of its hidden units. A mixture-of-experts (MoE)
layer keeps E smaller FFNs (the experts) and a router, a single Linear layer that scores
the experts for each token. Each token goes only to its top-k experts, and their outputs
are mixed with the router's softmax weights over those k:

    scores  = router(x)                          # (N, E) one score per expert
    top     = the k highest scores per token     # (N, k)
    weights = softmax(scores[top])               # (N, k) sums to 1 per token
    y       = sum_j weights_j * expert_top_j(x)  # only k of the E experts run

So the layer can hold many parameters (all experts) while each token uses only a few
(k experts): Mixtral 8x7B has 8 experts per layer and sends each token to 2.

``from_dense`` builds the experts from a trained dense FFN by splitting its hidden units
into E groups (each expert is a slice of the dense layer's rows and columns). With every
expert chosen and equal weights, the experts' outputs, summed, give back the dense output
exactly; with top-k, each expert's down projection is scaled by k so that k equally weighted
experts add up as their dense slices would.

Training needs the router to spread tokens over the experts, or a few experts get all
the work. ``load_balancing_loss`` is the Switch Transformer's auxiliary loss: E times the
sum over experts of (share of tokens sent to it) x (mean router probability it got),
which is 1 when the load is perfectly even and grows when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.core.blocks import FeedForward
from models.core.params import ModelShape, count_parameters

MIXTRAL_8X7B = ModelShape(
    name="Mixtral 8x7B", vocab_size=32000, context=32768, n_layer=32, n_embd=4096, n_head=32, n_kv_head=8,
    ffn_hidden=14336, ffn="swiglu", positions="rope", norm="rmsnorm", bias=False, tie_embeddings=False,
    source="Mistral AI 2024 (Jiang et al., 'Mixtral of Experts'), mistralai/Mixtral-8x7B-v0.1 config: 32 layers, "
    "d 4096, 32 query / 8 K/V heads, 8 SwiGLU experts of 14,336 per layer, top-2, vocab 32,000, untied head. "
    "Published: 46.7B parameters in total, 12.9B active per token.",
)


@dataclass
class Routing:
    """What the router decided for a batch of N tokens."""

    probs: torch.Tensor  # (N, E) softmax over all experts (used by the load-balancing loss)
    experts: torch.Tensor  # (N, k) chosen experts, highest score first
    weights: torch.Tensor  # (N, k) mixing weights of the chosen experts, sum 1 per token


class MoEFeedForward(nn.Module):
    """E experts (each a FeedForward of ``expert_hidden`` units) and a top-k router.

    A drop-in for models.core.blocks.FeedForward: (B, T, C) in, (B, T, C) out, position by
    position. ``mix`` also returns the router's decision (the module keeps no state, so one
    loaded layer can serve many readers at once).
    """

    def __init__(self, n_embd: int, expert_hidden: int, n_experts: int, top_k: int, kind: str = "swiglu",
                 bias: bool = False):
        super().__init__()
        if not 1 <= top_k <= n_experts:
            raise ValueError(f"top_k must be between 1 and n_experts ({n_experts}), got {top_k}")
        self.n_experts, self.top_k, self.kind = n_experts, top_k, kind
        self.router = nn.Linear(n_embd, n_experts, bias=False)
        self.experts = nn.ModuleList(FeedForward(n_embd, expert_hidden, kind, bias=bias) for _ in range(n_experts))

    def route(self, x: torch.Tensor) -> Routing:
        """x (N, C) -> the router's choice for every token."""
        scores = self.router(x)  # (N, E)
        top_scores, experts = scores.topk(self.top_k, dim=-1)  # (N, k) each
        return Routing(probs=scores.softmax(dim=-1), experts=experts, weights=top_scores.softmax(dim=-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(x)[0]

    def mix(self, x: torch.Tensor) -> tuple[torch.Tensor, Routing]:
        """x (..., C) -> (output (..., C), routing of the flattened tokens)."""
        shape = x.shape
        flat = x.reshape(-1, shape[-1])  # (N, C): the router treats every position alike
        routing = self.route(flat)
        out = torch.zeros_like(flat)
        for expert_id, expert in enumerate(self.experts):
            token_rows, slot = (routing.experts == expert_id).nonzero(as_tuple=True)  # tokens that chose it
            if token_rows.numel() == 0:
                continue  # an expert nobody chose costs nothing
            weight = routing.weights[token_rows, slot].unsqueeze(-1)  # (n, 1)
            out.index_add_(0, token_rows, weight * expert(flat[token_rows]))
        return out.reshape(shape), routing

    @classmethod
    def from_dense(cls, dense: FeedForward, n_experts: int, top_k: int) -> MoEFeedForward:
        """Experts cut out of a trained dense FFN: expert e gets hidden units e*h .. (e+1)*h - 1."""
        hidden = dense.w_up.out_features
        if hidden % n_experts:
            raise ValueError(f"the FFN's {hidden} hidden units do not split into {n_experts} equal experts")
        size = hidden // n_experts
        bias = dense.w_up.bias is not None
        moe = cls(dense.w_up.in_features, size, n_experts, top_k, dense.kind, bias=bias)
        nn.init.normal_(moe.router.weight, std=0.02)
        with torch.no_grad():
            for e, expert in enumerate(moe.experts):
                rows = slice(e * size, (e + 1) * size)
                expert.w_up.weight.copy_(dense.w_up.weight[rows])
                if expert.w_gate is not None:
                    expert.w_gate.weight.copy_(dense.w_gate.weight[rows])
                expert.w_down.weight.copy_(dense.w_down.weight[:, rows] * top_k)
                if bias:
                    expert.w_up.bias.copy_(dense.w_up.bias[rows])
                    if expert.w_gate is not None:
                        expert.w_gate.bias.copy_(dense.w_gate.bias[rows])
                    expert.w_down.bias.copy_(dense.w_down.bias * top_k / n_experts)
        return moe.to(dense.w_up.weight.device)


def load_balancing_loss(routing: Routing, n_experts: int) -> torch.Tensor:
    """Switch Transformer auxiliary loss: 1.0 for an even load, up to n_experts when one expert gets all."""
    chosen = F.one_hot(routing.experts, n_experts).float().sum(dim=1)  # (N, E): 1 where chosen
    share = chosen.mean(dim=0) / routing.experts.size(1)  # fraction of the k slots each expert got
    mean_prob = routing.probs.mean(dim=0)  # (E,)
    return n_experts * (share * mean_prob).sum()


def expert_load(routing: Routing, n_experts: int) -> torch.Tensor:
    """Share of the token-to-expert assignments each expert received (sums to 1)."""
    counts = torch.bincount(routing.experts.flatten(), minlength=n_experts).float()
    return counts / counts.sum()


def moe_parameter_count(shape: ModelShape, n_experts: int, top_k: int) -> dict[str, int]:
    """Parameters of ``shape`` with every FFN made of ``n_experts`` copies of its FFN shape plus a
    router (n_embd x n_experts per layer): ``total`` stored, ``active`` used per token (attention,
    embeddings, norms, router and top_k experts), and ``dense`` (one FFN per layer, no router)."""
    if not 1 <= top_k <= n_experts:
        raise ValueError(f"top_k must be between 1 and n_experts ({n_experts}), got {top_k}")
    dense = count_parameters(shape)
    shared = dense["total"] - dense["ffn"]  # everything that is not an FFN runs for every token
    router = shape.n_layer * shape.n_embd * n_experts
    return {"total": shared + n_experts * dense["ffn"] + router, "active": shared + top_k * dense["ffn"] + router,
            "dense": dense["total"], "per_expert": dense["ffn"] // shape.n_layer, "router": router}
