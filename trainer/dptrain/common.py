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
