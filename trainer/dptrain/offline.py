"""The offline training loop shared by the offline methods (Diffusion-QL, the Q-ensemble method, DTQL): read the dataset,
update on minibatches, log, evaluate, checkpoint, resume. The method itself is the agent passed in:
`agent.update(batch, step) -> stats`, `agent.policy` (the deployable policy), `agent.spec`, and
`agent.state_dict()` / `load_state_dict()` (everything needed to resume).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .common import evaluate_and_keep_best
from .replay import ReplayBuffer
from .run import Run, seed_everything


def train_offline(algorithm: str, cfg, make_agent, run_dir: str, resume: bool = False,
                  stop_at: int | None = None) -> dict:
    """Until cfg.total_steps or `stop_at` (a checkpoint is written there). Returns step, best and last return."""
    if not cfg.dataset:
        raise ValueError(f"{algorithm} needs --dataset FILE.npz (see docs/datasets.md)")
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    data = ReplayBuffer.from_dataset(cfg.dataset)
    obs_dim, act_dim = data.data["observations"].shape[1], data.data["actions"].shape[1]
    agent = make_agent(cfg, obs_dim, act_dim)
    if cfg.normalize_obs:
        agent.policy.normalizer.update(torch.as_tensor(data.data["observations"][: data.size]))
    rng = np.random.default_rng(cfg.seed)
    run = Run(run_dir, algorithm, {**cfg.__dict__})
    step, best, last = 0, -math.inf, float("nan")
    state = run.load() if resume else None
    if state is not None:
        agent.load_state_dict(state["agent"])
        rng.bit_generator.state = state["np_rng"]
        step, best, last = state["step"], state["best_return"], state["last_return"]

    def snapshot(**extra) -> dict:
        return {"algorithm": algorithm, "spec": agent.spec.__dict__, "policy": agent.policy.state_dict(),
                "env": cfg.env, "seed": cfg.seed, "step": step, "dataset": cfg.dataset, **extra}

    bar = run.progress(cfg.total_steps, step, algorithm)
    end = min(cfg.total_steps, stop_at or cfg.total_steps)
    while step < end:
        stats = agent.update(data.sample(cfg.batch_size, rng, agent.device), step)
        step += 1
        if step % cfg.log_interval == 0:
            run.log("train", {"step": step, **stats, "wall_s": run.wall_s})
            bar.set_postfix({k: f"{v:.3g}" for k, v in list(stats.items())[:2]})
        if step % cfg.eval_interval == 0 or step == cfg.total_steps:
            last, best = evaluate_and_keep_best(run, agent.policy, cfg, step, best, snapshot, bar)
        if step % cfg.checkpoint_interval == 0 or step == end:
            run.save(snapshot(agent=agent.state_dict(), np_rng=rng.bit_generator.state, best_return=best,
                              last_return=last))
        bar.update(1)
    bar.close()
    return {"step": step, "best_return": best, "last_return": last}
