"""Critic aggregation and candidate selection, shared by training (best-of-K behaviour) and export.

The TypeScript runtime implements the same rules (src/policy/selection.ts); the parity fixtures
check that both pick the same candidate.
"""

from __future__ import annotations

import torch

AGGREGATIONS = ("min", "mean", "lcb")
RULES = ("argmax", "softmax")


def aggregate(q: torch.Tensor, how: str = "min", beta: float = 0.0) -> torch.Tensor:
    """[N, M] member values -> [N] scores. lcb = mean - beta * std, std with Bessel's correction (torch's default)."""
    if how == "min":
        return q.min(dim=-1).values
    mean = q.mean(dim=-1)
    if how == "mean":
        return mean
    if how == "lcb":
        members = q.shape[-1]
        std = torch.sqrt(((q - mean[:, None]) ** 2).sum(dim=-1) / (members - 1))
        return mean - beta * std
    raise ValueError(f"unknown critic aggregation {how!r}; expected one of {AGGREGATIONS}")


def select_index(scores: torch.Tensor, rule: str = "argmax", temperature: float = 1.0,
                 u: torch.Tensor | None = None) -> torch.Tensor:
    """[B, K] scores -> [B] chosen candidate. softmax draws by inverse CDF of the uniform u ([B] in [0, 1))."""
    if rule == "argmax":
        return scores.argmax(dim=1)
    if rule == "softmax":
        if u is None:
            u = torch.rand(scores.shape[0], device=scores.device)
        p = torch.softmax(scores / temperature, dim=1)
        cdf = torch.cumsum(p, dim=1)
        idx = (cdf < (u * cdf[:, -1])[:, None]).sum(dim=1)
        return idx.clamp(max=scores.shape[1] - 1)
    raise ValueError(f"unknown selection rule {rule!r}; expected one of {RULES}")


def gather_candidates(candidates: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """[B, K, A], [B] -> [B, A] (GatherElements in ONNX)."""
    index = idx[:, None, None].expand(-1, 1, candidates.shape[2])
    return torch.gather(candidates, 1, index).squeeze(1)
