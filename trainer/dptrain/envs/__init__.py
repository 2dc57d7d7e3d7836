"""Environments the trainer knows, in the Gymnasium API, and what a policy package must say about them.

Every environment is wrapped so the agent acts in [-1, 1]^A; `deployment_info` describes how the
runtime maps that action back to the robot (the manifest's `action` and `robot` sections).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from .bandit import ContextualBandit

CUSTOM_ENVS = {"bandit": ContextualBandit}


def make_env(name: str, seed: int | None = None) -> gym.Env:
    """A Gymnasium env with actions rescaled to [-1, 1]; seeds its action space for reproducible warm-up."""
    env = CUSTOM_ENVS[name]() if name in CUSTOM_ENVS else gym.make(name)
    low, high = env.action_space.low, env.action_space.high
    if not (np.all(low == -1.0) and np.all(high == 1.0)):
        env = gym.wrappers.RescaleAction(env, -1.0, 1.0)
    env.unwrapped._dptrain_action_bounds = (low.astype(np.float64), high.astype(np.float64))
    if seed is not None:
        env.action_space.seed(seed)
    return env


def deployment_info(name: str, env: gym.Env) -> dict:
    """The robot, task, observation terms and action mapping of an env, for the manifest."""
    obs_dim = int(np.prod(env.observation_space.shape))
    act_dim = int(np.prod(env.action_space.shape))
    low, high = env.unwrapped._dptrain_action_bounds
    if name.startswith("Pendulum"):
        robot, joints, target = "gym-pendulum", ["hinge"], "torque"
        terms = [{"name": "pendulum_state", "size": obs_dim, "sim_only": True}]
    else:
        robot, joints, target = f"gym-{name.split('-')[0].lower()}", [f"action_{i}" for i in range(act_dim)], "raw"
        terms = [{"name": "env_observation", "size": obs_dim, "sim_only": True}]
    return {
        "robot": robot,
        "task": name,
        "control_rate_hz": 1.0 / float(getattr(env.unwrapped, "dt", 0.02)),
        "observation_terms": terms,
        "joints": joints,
        "action_mapping": {
            "target": target,
            "offset": ((high + low) / 2).tolist(),
            "scale": ((high - low) / 2).tolist(),
        },
        "pd_gains": {"kp": [0.0] * act_dim, "kd": [0.0] * act_dim},
    }
