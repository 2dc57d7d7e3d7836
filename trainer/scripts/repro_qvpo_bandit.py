"""QVPO's continuous bandit with three reward peaks: does the entropy term make the policy explore?

One command: .venv/bin/python trainer/scripts/repro_qvpo_bandit.py   (about 5 minutes of one CPU core; longer when the CPU is shared)
writes docs/results/qvpo-bandit.png and docs/results/qvpo-bandit.json.

The bandit has one state and a 1-D action in [-1, 1]; its reward is the highest of three Gaussian bumps:
a broad low one on the left, a broad middle one and a narrow, best one on the right (PEAKS). The agent is the
trainer's QVPO (algos/qvpo.py, unchanged: best-of-K_b behaviour, Q-weighted loss on the best of N_d samples,
uniform actions weighted alpha_ent * w as the entropy term), run online with and without the entropy term
(alpha_ent = 0), several seeds each. Scaled down to run on a CPU in minutes: T 10, 64 hidden units, N_d 16,
batch 16, 1000 steps after 50 uniform ones, gamma 0 (a bandit), and a constant alpha_ent = 0.2 (the authors'
0.02 decays over 1 M steps; a 1000-step run needs a larger weight to show anything). Every EVAL_EVERY
updates we draw 1000 single samples from the policy (no
best-of-K, so the policy's own distribution shows) and count which peak each lands on. The run
"explored" a peak when at least 5% of some evaluation's samples landed on it, and "converged" to the peak
holding most of the samples at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from dptrain.algos.qvpo import QVPO, QVPOConfig
from dptrain.replay import ReplayBuffer
from dptrain.run import seed_everything

ROOT = Path(__file__).resolve().parents[2]
# (centre, height, width): the best peak is the narrow one on the right.
PEAKS = [(-0.7, 0.5, 0.1), (0.0, 0.7, 0.15), (0.8, 1.0, 0.06)]
EVAL_EVERY = 100
EVAL_SAMPLES = 1000


def reward(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64)
    return np.max([h * np.exp(-((a - c) ** 2) / (2 * w**2)) for c, h, w in PEAKS], axis=0)


def peak_of(a: np.ndarray) -> np.ndarray:
    """Index of the peak a sample lands on (within 2 widths of its centre), -1 elsewhere."""
    out = np.full(a.shape, -1)
    for i, (c, _, w) in enumerate(PEAKS):
        out[np.abs(a - c) <= 2 * w] = i
    return out


def run(seed: int, alpha: float, steps: int, warmup: int) -> dict:
    seed_everything(seed)
    cfg = QVPOConfig(env="three-peak-bandit", seed=seed, total_steps=steps, warmup_steps=warmup, batch_size=16,
                     T=10, hidden=64, t_hidden=64, critic_hidden=64, train_sample=16, gamma=0.0,
                     entropy_alpha=alpha, entropy_alpha_min=alpha, actor_lr=3e-4)  # no decay in so short a run
    agent = QVPO(cfg, obs_dim=1, act_dim=1)
    replay = ReplayBuffer(1, 1, steps)
    rng = np.random.default_rng(seed)
    obs = np.zeros(1, np.float32)
    history = []
    for step in range(1, steps + 1):
        a = rng.uniform(-1, 1, 1).astype(np.float32) if step <= warmup else agent.act(obs)
        replay.add(obs, a, float(reward(a)[0]), obs, 1.0)
        if step > warmup:
            agent.update(replay.sample(cfg.batch_size, rng), step)
        if step % EVAL_EVERY == 0 and step >= warmup:
            with torch.no_grad():
                samples = agent.actor.sample(torch.zeros(EVAL_SAMPLES, 1))[:, 0].numpy()
            landed = peak_of(samples)
            history.append({"step": step, "fraction": [float(np.mean(landed == i)) for i in range(len(PEAKS))],
                            "mean_reward": float(reward(samples).mean())})
    final = history[-1]["fraction"]
    explored = [max(h["fraction"][i] for h in history) >= 0.05 for i in range(len(PEAKS))]
    return {"seed": seed, "alpha_ent": alpha, "history": history, "explored": explored,
            "explored_all": all(explored), "converged_to": int(np.argmax(final)) if max(final) > 0.5 else None,
            "final_fraction": final, "final_mean_reward": history[-1]["mean_reward"], "samples": samples.tolist()}


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    alphas = sorted({r["alpha_ent"] for r in results}, reverse=True)
    fig, axes = plt.subplots(2, len(alphas), figsize=(6 * len(alphas), 7), squeeze=False)
    grid = np.linspace(-1, 1, 400)
    colors = ["tab:blue", "tab:orange", "tab:green"]
    for col, alpha in enumerate(alphas):
        runs = [r for r in results if r["alpha_ent"] == alpha]
        label = f"entropy term alpha_0 = {alpha:g}" if alpha > 0 else "no entropy term (alpha = 0)"
        ax = axes[0, col]
        for r in runs:
            steps = [h["step"] for h in r["history"]]
            best = [h["fraction"][2] for h in r["history"]]
            ax.plot(steps, best, alpha=0.8, label=f"seed {r['seed']}")
        ax.set_title(f"{label}\nfraction of policy samples on the best peak")
        ax.set_xlabel("environment steps")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
        ax = axes[1, col]
        ax.plot(grid, reward(grid), color="black", lw=1, label="reward")
        samples = np.concatenate([r["samples"] for r in runs])
        ax.hist(samples, bins=100, range=(-1, 1), density=True, alpha=0.5, color=colors[col % 3],
                label="final policy samples, all seeds")
        ax.set_xlabel("action")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--alpha", type=float, default=0.2, help="entropy weight alpha_0 of the runs with the term")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results = [run(seed, alpha, args.steps, args.warmup) for alpha in (args.alpha, 0.0) for seed in range(args.seeds)]
    plot(results, args.out / "qvpo-bandit.png")
    summary = {
        "experiment": "QVPO on a 1-D bandit with three reward peaks, with and without the entropy term",
        "command": "python trainer/scripts/repro_qvpo_bandit.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "peaks": [{"centre": c, "height": h, "width": w} for c, h, w in PEAKS],
        "settings": {"steps": args.steps, "warmup_uniform_steps": args.warmup, "seeds": list(range(args.seeds)),
                     "T": 10, "hidden": 64, "N_d": 16, "K_b": 4, "batch": 16, "uniform_samples": 10},
        "summary": {},
        "runs": [{k: v for k, v in r.items() if k not in ("samples", "history")} for r in results],
        "wall_s": round(time.time() - started, 1),
    }
    for alpha in (args.alpha, 0.0):
        runs = [r for r in results if r["alpha_ent"] == alpha]
        summary["summary"][f"alpha_{alpha:g}"] = {
            "explored_all_three": sum(r["explored_all"] for r in runs),
            "converged_to_best": sum(r["converged_to"] == 2 for r in runs),
            "converged_to_worse": sum(r["converged_to"] in (0, 1) for r in runs),
            "not_converged": sum(r["converged_to"] is None for r in runs),
            "final_mean_reward": float(np.mean([r["final_mean_reward"] for r in runs])),
            "of_seeds": len(runs),
        }
    (args.out / "qvpo-bandit.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary["summary"], indent=2), f"wall {summary['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
