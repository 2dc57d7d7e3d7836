"""Small building blocks shared by the algorithm files."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .envs import make_env


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    for t, s in zip(target.parameters(), source.parameters()):
        t.mul_(1.0 - tau).add_(s, alpha=tau)


def clip_and_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, params, max_norm: float | None) -> float:
    """Backward, optional grad-norm clip, step. Returns the gradient norm before clipping (inf if not clipped)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = float("inf")
    if max_norm is not None and max_norm > 0:
        norm = float(nn.utils.clip_grad_norm_(params, max_norm))
    optimizer.step()
    return norm


def evaluate(act, env_name: str, episodes: int, seed: int) -> np.ndarray:
    """Returns of `episodes` episodes of act(obs[np]) -> action in [-1, 1], env seeded seed, seed+1, ..."""
    env = make_env(env_name)
    returns = np.zeros(episodes)
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            returns[ep] += reward
            done = terminated or truncated
    env.close()
    return returns


def policy_actor(policy, K: int, device="cpu", generator: torch.Generator | None = None):
    """An act(obs) function that samples K candidates and applies the policy's selection rule."""

    def act(obs: np.ndarray) -> np.ndarray:
        o = torch.as_tensor(np.asarray(obs, np.float32), device=device)[None]
        return policy.sample(o, K=K, generator=generator)["action"][0].cpu().numpy()

    return act


def evaluate_and_keep_best(run, policy, cfg, step: int, best: float, snapshot, bar) -> tuple[float, float]:
    """The periodic evaluation of a training run: `cfg.eval_episodes` episodes with K = `cfg.eval_sample`
    on seeds 10000 + seed ..., logged to eval.csv; best.pt is rewritten when the mean beats `best`.
    Returns (this mean, the best so far)."""
    device = next(policy.parameters()).device
    returns = evaluate(policy_actor(policy, cfg.eval_sample, device), cfg.env, cfg.eval_episodes,
                       seed=10_000 + cfg.seed)
    mean, std = float(returns.mean()), float(returns.std())
    run.log("eval", {"step": step, "return_mean": mean, "return_std": std, "episodes": len(returns),
                     "wall_s": run.wall_s})
    bar.set_postfix(eval=f"{mean:.4g}")
    if mean > best:
        best = mean
        run.save(snapshot(eval_return=mean, eval_return_std=std, eval_episodes=len(returns)), "best.pt")
    return mean, best
