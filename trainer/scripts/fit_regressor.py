"""Can anything that sees the observation imitate this dataset? A plain MLP regressor answers in minutes.

    .venv/bin/python trainer/scripts/fit_regressor.py --dataset runs/data/h1-walk-clock-armclock.npz \
        --env h1-walk-clock --steps 10000 --episodes 3

Fits an MLP (observation normalised, Mish, MSE on the actions) to a dataset in the trainer's format
(several comma-separated files are joined), reports the held-out error in radians (legs and all joints,
HumanoidBench's action mapping), then runs the regressor itself as the policy in `--env` (reset seeds
10000..) and prints each episode's return and length. Why: a diffusion policy is no better than the
information in its observation. If this regressor cannot fit the behaviour, the observation lacks state
the behaviour uses (the walking controller's gait clock was found this way, docs/results/policies.md); if
it fits and walks, what remains is the diffusion policy's own fit. It is a diagnostic, not a policy: nothing
is exported.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

import numpy as np
import torch

from dptrain.controllers import run_episode
from dptrain.envs import make_env
from dptrain.envs.h1.robot import JOINT_HIGH, JOINT_LOW
from dptrain.replay import ReplayBuffer

HELD_OUT = 5000  # transitions kept out of training (at most a fifth of the data)
LEGS = slice(0, 10)


def fit(observations: np.ndarray, actions: np.ndarray, hidden: int, layers: int, steps: int, seed: int,
        batch: int = 256, lr: float = 3e-4) -> tuple[Callable, dict]:
    """Train the regressor; returns obs -> action and the held-out errors (rad rms)."""
    torch.manual_seed(seed)
    O, A = torch.as_tensor(observations, dtype=torch.float32), torch.as_tensor(actions, dtype=torch.float32)
    mu, sd = O.mean(0), O.std(0) + 1e-3
    perm = torch.randperm(len(O))
    held = min(HELD_OUT, len(O) // 5)
    val, train = perm[:held], perm[held:]
    blocks, width = [], O.shape[1]
    for _ in range(layers):
        blocks += [torch.nn.Linear(width, hidden), torch.nn.Mish()]
        width = hidden
    net = torch.nn.Sequential(*blocks, torch.nn.Linear(width, A.shape[1]))
    opt = torch.optim.Adam(net.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        b = train[torch.randint(len(train), (batch,))]
        loss = ((net((O[b] - mu) / sd) - A[b]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    half_range = torch.as_tensor((JOINT_HIGH - JOINT_LOW) / 2, dtype=torch.float32)
    with torch.no_grad():
        err = (net((O[val] - mu) / sd) - A[val]) * half_range
    errors = {"legs_rad_rms": float(err[:, LEGS].pow(2).mean().sqrt()), "all_rad_rms": float(err.pow(2).mean().sqrt()),
              "held_out": int(held)}

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = (torch.as_tensor(np.asarray(obs, np.float32)) - mu) / sd
            return net(x).clamp(-1.0, 1.0).numpy()

    return act, errors


def rollouts(act, env_name: str, episodes: int) -> list[dict]:
    """The regressor as the policy: one record per episode (reset seeds 10000..)."""
    env = make_env(env_name)
    out = []
    for i in range(episodes):
        ep = run_episode(env, act, seed=10_000 + i)
        out.append({"seed": 10_000 + i, "return": round(ep["return"], 1), "length": ep["length"],
                    "terminated": ep["terminated"]})
    env.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help=".npz (or several, comma-separated)")
    p.add_argument("--env", help="roll the regressor out in this env (the dataset's); omit to only fit")
    p.add_argument("--episodes", type=int, default=3)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    data = ReplayBuffer.from_dataset(args.dataset).data
    act, errors = fit(data["observations"], data["actions"], args.hidden, args.layers, args.steps, args.seed)
    report = {"dataset": args.dataset, "transitions": int(len(data["actions"])), "fit": errors}
    if args.env:
        report["episodes"] = rollouts(act, args.env, args.episodes)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
