"""Environments the trainer knows, in the Gymnasium API, and what a policy package must say about them.

Every environment is wrapped so the agent acts in [-1, 1]^A; `deployment_info` describes how the
runtime maps that action back to the robot (the manifest's `action` and `robot` sections).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from .bandit import ContextualBandit

CUSTOM_ENVS = {"bandit": ContextualBandit}

# The simulated H1 (HumanoidBench's tasks): make_env names h1-stand, h1-walk, h1-run, h1-balance_simple.
H1_TASKS = {"h1-stand": "stand", "h1-walk": "walk", "h1-run": "run", "h1-balance_simple": "balance_simple"}
# Variants: a task with other observation terms than HumanoidBench's (qpos, qvel). h1-walk-last-action adds
# the action applied at the last step: the walking controller the walk data comes from carries a gait clock
# (controllers/walk.py), which its last targets reveal and the state alone does not. h1-walk-clock adds the
# time since the start too (saturating at 2.5 s): the controller's weight shift and speed ramp are
# time-driven, and standing still at 0.2 s and at 0.6 s looks the same otherwise.
H1_ENV_VARIANTS = {
    "h1-walk-last-action": ("h1-walk", ("qpos", "qvel", "last_action")),
    "h1-walk-clock": ("h1-walk", ("qpos", "qvel", "last_action", "time_since_start")),
}
H1_GYM_IDS = {"H1Stand-v0": "stand", "H1Walk-v0": "walk", "H1Run-v0": "run", "H1BalanceSimple-v0": "balance_simple"}

for _gym_id, _task in H1_GYM_IDS.items():
    if _gym_id not in gym.registry:
        gym.register(_gym_id, entry_point="dptrain.envs.h1:H1Env", kwargs={"task": _task}, max_episode_steps=1000)


def make_env(name: str, seed: int | None = None, **env_kwargs) -> gym.Env:
    """A Gymnasium env with actions rescaled to [-1, 1]; seeds its action space for reproducible warm-up.
    env_kwargs go to the H1 env (model_path, obs_terms, velocity_command, ...)."""
    if name in H1_TASKS or name in H1_ENV_VARIANTS:
        from .h1 import H1Env  # imports mujoco only when an H1 env is asked for

        if name in H1_ENV_VARIANTS:
            name, terms = H1_ENV_VARIANTS[name]
            env_kwargs = {"obs_terms": terms, **env_kwargs}
        env = H1Env(H1_TASKS[name], **env_kwargs)
    else:
        env = CUSTOM_ENVS[name]() if name in CUSTOM_ENVS else gym.make(name)
    low, high = env.action_space.low, env.action_space.high
    if not (np.all(low == -1.0) and np.all(high == 1.0)):
        env = gym.wrappers.RescaleAction(env, -1.0, 1.0)
    env.unwrapped._dptrain_action_bounds = (low.astype(np.float64), high.astype(np.float64))
    if seed is not None:
        env.action_space.seed(seed)
    return env


def _h1_deployment_info(name: str, env: gym.Env) -> dict:
    """The H1 section: HB's action mapping over the joint ranges and HB's gains, not the generic bounds
    (the H1 env already acts in [-1, 1])."""
    from .h1 import CONTROL_RATE_HZ, HB_KD, HB_KP, JOINT_HIGH, JOINT_LOW, JOINT_NAMES

    h1 = env.unwrapped
    return {
        "robot": "h1",
        "task": name,
        "control_rate_hz": CONTROL_RATE_HZ,
        "observation_terms": h1.observation_terms(),
        "joints": list(JOINT_NAMES),
        "action_mapping": {
            "target": "position",
            "offset": ((JOINT_LOW + JOINT_HIGH) / 2).tolist(),
            "scale": ((JOINT_HIGH - JOINT_LOW) / 2).tolist(),
        },
        "pd_gains": {"kp": HB_KP.tolist(), "kd": HB_KD.tolist()},
    }


def deployment_info(name: str, env: gym.Env) -> dict:
    """The robot, task, observation terms and action mapping of an env, for the manifest."""
    if name in H1_ENV_VARIANTS:
        return _h1_deployment_info(H1_ENV_VARIANTS[name][0], env)
    if name in H1_TASKS or name in H1_GYM_IDS:
        return _h1_deployment_info(name if name in H1_TASKS else f"h1-{H1_GYM_IDS[name]}", env)
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
