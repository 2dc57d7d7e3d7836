"""DTQL's 2-D toy: the diffusion trust-region loss keeps a one-step policy on the data's modes, where a KL-style
loss spreads it over all of them (the paper's Figures 2 and 3, in spirit).

One command: .venv/bin/python trainer/scripts/repro_dtql_toy.py   (a few minutes of one CPU core)
writes docs/results/dtql-toy.png and docs/results/dtql-toy.json.

For each dataset (8 Gaussians on a ring, a 5 x 5 grid of Gaussians; one state, 2-D actions) the trainer's DTQL
BC model (algos/dtql.KarrasBC, EDM preconditioning) is fitted to the data, then a one-step Gaussian policy
N(mu, diag sigma^2) is trained against it, from the same start, with
  - trust region: dtql.trust_region_loss (the BC model's denoising loss on the policy's actions);
  - KL-style: the gradient of E_sigma[sigma^2 KL(pi_sigma || p_sigma)] between the policy and the data, both
    noised at level sigma (the integral KL of Diff-Instruct): (score_pi - score_data)(x) . dx/dtheta with the
    data's score from the BC model, (D(x, sigma) - x) / sigma^2, and the Gaussian policy's in closed form;
  - trust region + reward: alpha L_TR - r(a), r(a) = a_x + a_y (Figure 3: pick the best mode, stay on it).
Measured on 2000 policy samples: the share within 0.1 of a mode centre ("on the data"), the modes holding
at least 2% of the samples, the modes inside the samples' 2-sigma box (what a Gaussian "covers") and the
policy's standard deviation. Several seeds per policy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from dptrain.algos.dtql import KarrasBC, trust_region_loss

ROOT = Path(__file__).resolve().parents[2]
MODE_STD = 0.03
NEAR = 0.1


def mode_centres(name: str) -> np.ndarray:
    if name == "8gaussians":
        angles = np.arange(8) * np.pi / 4
        return 0.7 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if name == "25gaussians":
        g = np.linspace(-0.72, 0.72, 5)
        return np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    raise ValueError(name)


def draw_data(centres: np.ndarray, n: int, rng: np.random.Generator) -> torch.Tensor:
    idx = rng.integers(0, len(centres), n)
    return torch.tensor(centres[idx] + MODE_STD * rng.standard_normal((n, 2)), dtype=torch.float32)


def fit_bc(centres: np.ndarray, steps: int, seed: int) -> KarrasBC:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    bc = KarrasBC(1, 2, hidden=128, layers=4)
    opt = torch.optim.Adam(bc.parameters(), lr=1e-3)
    obs = torch.zeros(512, 1)
    for _ in range(steps):
        loss = bc.loss(draw_data(centres, 512, rng), obs)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for p in bc.parameters():
        p.requires_grad_(False)  # fixed from here on: the policies' gradients are for their actions
    return bc.eval()


class Gaussian2D(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mu = torch.nn.Parameter(torch.zeros(2))
        self.log_std = torch.nn.Parameter(torch.full((2,), np.log(0.5)))

    def sample(self, n: int) -> torch.Tensor:
        return self.mu + torch.exp(self.log_std) * torch.randn(n, 2)


def kl_style_loss(bc: KarrasBC, policy: Gaussian2D, n: int) -> torch.Tensor:
    """A surrogate whose gradient is E[sigma^2 (score_pi(x) - score_data(x)) . dx/dtheta], x = a + sigma eps."""
    a = policy.sample(n)
    sigma = bc.sample_sigma(n)
    x = a + sigma * torch.randn_like(a)
    with torch.no_grad():
        score_data = (bc.denoise(x, sigma, torch.zeros(n, 1)) - x) / sigma**2
        var = torch.exp(2 * policy.log_std) + sigma**2
        score_pi = -(x - policy.mu) / var
    return (sigma**2 * (score_pi - score_data) * x).sum(dim=1).mean()


def train_policy(bc: KarrasBC, loss_name: str, steps: int, seed: int, alpha: float = 1.0) -> Gaussian2D:
    torch.manual_seed(seed)
    policy = Gaussian2D()
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    obs = torch.zeros(256, 1)
    for _ in range(steps):
        if loss_name == "kl":
            loss = kl_style_loss(bc, policy, 256)
        else:
            a = policy.sample(256)
            loss = alpha * trust_region_loss(bc, a, obs)
            if loss_name == "tr_reward":
                loss = loss - a.sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return policy


def measure(samples: np.ndarray, centres: np.ndarray) -> dict:
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest, which = d.min(axis=1), d.argmin(axis=1)
    on = nearest < NEAR
    share = np.bincount(which[on], minlength=len(centres)) / len(samples)
    # Modes inside the policy's 2-sigma box: a Gaussian policy "covers" them (samples reach them and between).
    inside = np.all(np.abs(centres - samples.mean(axis=0)) <= 2 * samples.std(axis=0), axis=1)
    return {"on_data": float(on.mean()), "modes_with_2pct": int((share >= 0.02).sum()),
            "modes_in_2std": int(inside.sum()),
            "std": float(samples.std(axis=0).mean()), "mean": samples.mean(axis=0).round(3).tolist()}


def plot(all_samples: dict, datasets: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [("data", "data"), ("tr", "trust region"), ("kl", "KL-style"), ("tr_reward", "trust region + reward a_x + a_y")]
    fig, axes = plt.subplots(len(datasets), len(columns), figsize=(3.2 * len(columns), 3.2 * len(datasets)), squeeze=False)
    for r, name in enumerate(datasets):
        for c, (key, title) in enumerate(columns):
            ax = axes[r, c]
            s = all_samples[(name, key)]
            ax.scatter(all_samples[(name, "data")][:, 0], all_samples[(name, "data")][:, 1], s=1, color="lightgray")
            if key != "data":
                ax.scatter(s[:, 0], s[:, 1], s=1, alpha=0.4, color="tab:red")
            ax.set_xlim(-1.2, 1.2)
            ax.set_ylim(-1.2, 1.2)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name}: {title}" if key == "data" else title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--bc-steps", type=int, default=3000)
    parser.add_argument("--policy-steps", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    datasets = ["8gaussians", "25gaussians"]
    results, samples = {}, {}
    for name in datasets:
        centres = mode_centres(name)
        bc = fit_bc(centres, args.bc_steps, seed=0)
        samples[(name, "data")] = draw_data(centres, 2000, np.random.default_rng(99)).numpy()
        results[name] = {"modes": len(centres), "data": measure(samples[(name, "data")], centres)}
        for loss_name in ("tr", "kl", "tr_reward"):
            runs = []
            for seed in range(args.seeds):
                policy = train_policy(bc, loss_name, args.policy_steps, seed=seed)
                torch.manual_seed(1000 + seed)
                with torch.no_grad():
                    s = policy.sample(2000).numpy()
                runs.append({"seed": seed, **measure(s, centres)})
                if seed == 0:
                    samples[(name, loss_name)] = s
            results[name][loss_name] = {"runs": runs,
                                        "on_data_mean": float(np.mean([r["on_data"] for r in runs])),
                                        "modes_with_2pct_mean": float(np.mean([r["modes_with_2pct"] for r in runs])),
                                        "modes_in_2std_mean": float(np.mean([r["modes_in_2std"] for r in runs])),
                                        "std_mean": float(np.mean([r["std"] for r in runs]))}
            print(name, loss_name, json.dumps({k: v for k, v in results[name][loss_name].items() if k != "runs"}),
                  flush=True)
    plot(samples, datasets, args.out / "dtql-toy.png")
    summary = {
        "experiment": "DTQL 2-D toy: one-step Gaussian policy trained with the diffusion trust-region loss vs a "
                      "KL-style loss against the same BC diffusion model",
        "command": "python trainer/scripts/repro_dtql_toy.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {"seeds": list(range(args.seeds)), "bc_steps": args.bc_steps, "policy_steps": args.policy_steps,
                     "mode_std": MODE_STD, "near": NEAR, "reward": "a_x + a_y (tr_reward only)",
                     "policy_start": "mu 0, std 0.5"},
        "results": results,
        "wall_s": round(time.time() - started, 1),
    }
    (args.out / "dtql-toy.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wall {summary['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
