"""Export the fused sampler's matrix products alone, as one ONNX graph: the floor of the policy tick.

    .venv/bin/python trainer/scripts/export_gemm_floor.py --obs 51 --act 19 --T 20 --out .cache/bench/floor.onnx

The graph holds exactly the Gemm / MatMul nodes of the exported sampler (FastSampler: per reverse step the
first layer on the action, the hidden layers, the output layer; then the critic's layers on the K
candidates), with the same shapes and the same weights reused step after step, and nothing else: no Mish,
no step arithmetic, no clipping, no selection. `npm run bench -- --what compare` times it beside the real
graph in the same run, so the report can say how much of a tick is matrix products (which only a faster
GEMM could shrink) and how much is everything else. Inputs and outputs are the sampler's, so the bench
feeds it the same way. Untrained weights: the cost does not depend on them (the per-step constants keep
the values away from denormals).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import nn

from dptrain.export import _export, graph_signatures
from dptrain.fast_sampler import FastSampler
from dptrain.policy import PolicySpec, build_policy


class MatrixProductsOnly(nn.Module):
    def __init__(self, sampler: FastSampler):
        super().__init__()
        self.s = sampler

    def forward(self, obs: torch.Tensor, noise: torch.Tensor):
        s = self.s
        B, O = obs.shape
        K = noise.shape[1] // B
        x = noise[0]
        for i in range(s.T):
            t = s.T - 1 - i
            h = torch.addmm(s.c1[t], x, s.w1x_t)
            for layer in s.hidden:
                h = layer(h)
            x = h @ s.wout_t[t]
        critic = s.policy.critic
        obs_rep = obs.unsqueeze(1).expand(B, K, O).reshape(B * K, O)
        q = torch.cat([obs_rep, x], dim=-1).unsqueeze(0)
        for layer in critic.layers:
            q = layer(q)
        q = q.squeeze(-1).transpose(0, 1)
        return x.reshape(B, K, -1)[:, 0], x.reshape(B, K, -1), q[:, 0].reshape(B, K)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--obs", type=int, required=True)
    p.add_argument("--act", type=int, required=True)
    p.add_argument("--T", type=int, default=20)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    torch.manual_seed(0)
    spec = PolicySpec(args.obs, args.act, hidden=args.hidden, critic_hidden=args.hidden, schedule="cosine", T=args.T, K=32)
    floor = MatrixProductsOnly(FastSampler(build_policy(spec).eval())).eval()
    inputs = (torch.randn(2, args.obs), torch.randn(args.T + 1, 2 * spec.K, args.act))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _export(floor, inputs, out, graph_signatures(spec)["sampler"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
