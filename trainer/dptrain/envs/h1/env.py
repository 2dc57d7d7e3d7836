"""The simulated H1 as a Gymnasium env with HumanoidBench's semantics (stand, walk, run, balance_simple)."""

from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np

from .model import CONTROL_DT, TIMESTEP, H1Sim, MotorCommand, RobotState, scene_path
from .observations import ObservationInput, ObservationLayout
from .robot import NUM_JOINTS, action_to_position, position_to_action
from .tasks import TASKS, task_reward, task_terminated

MAX_EPISODE_STEPS = 1000   # HB's Task.max_episode_steps (20 s at 50 Hz)
RESET_NOISE = 0.01         # HB's DEFAULT_RANDOMNESS: qpos += U(-0.01, 0.01) on every entry


class H1Env(gym.Env):
    """HumanoidBench's H1 task on an MJCF scene (default: the repository's `sim/` scene for the task).

    step(a): a in [-1, 1]^19 (clipped: HB's MuJoCo clamps ctrl to ctrlrange, our scene does not) becomes
    position targets ctrl = (a + 1)/2 (high - low) + low with HB's gains, dq* = 0, tau_ff = 0, applied by
    the motor law for 10 substeps. step_command(cmd) applies any motor command the same way."""

    metadata = {"render_modes": [], "render_fps": 50}

    def __init__(self, task: str = "stand", seed: int | None = None, model_path: str | os.PathLike | None = None,
                 obs_terms=None, velocity_command=None, reset_noise: float = RESET_NOISE,
                 max_episode_steps: int = MAX_EPISODE_STEPS):
        if task not in TASKS:
            raise ValueError(f"unknown H1 task {task!r}; known: {sorted(TASKS)}")
        self.task = TASKS[task]
        self.sim = H1Sim(Path(model_path) if model_path is not None else scene_path(self.task.scene))
        self.layout = ObservationLayout.build(self.sim, obs_terms)
        self.velocity_command = np.array(velocity_command if velocity_command is not None
                                         else self.task.velocity_command, np.float64)
        self.reset_noise = float(reset_noise)
        self.max_episode_steps = int(max_episode_steps)
        self.dt = CONTROL_DT
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (self.layout.size,), np.float64)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (NUM_JOINTS,), np.float32)
        self.last_action = np.zeros(NUM_JOINTS)
        self.steps = 0
        self._seed = seed
        self.sim.reset_keyframe()

    # -- Gymnasium API -----------------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """HB's reset_model: keyframe home, mj_forward, then qpos + U(-r, r) on all nq entries (the root
        quaternion is not renormalised), qvel = 0 (the keyframe's), mj_forward."""
        if seed is None and self._seed is not None:
            seed, self._seed = self._seed, None  # the constructor's seed applies to the first reset
        super().reset(seed=seed)
        self.sim.reset_keyframe()
        r = self.reset_noise
        qpos = self.sim.data.qpos.copy() + self.np_random.uniform(-r, r, size=self.sim.model.nq)
        self.sim.set_state(qpos, self.sim.data.qvel.copy())
        self.last_action = np.zeros(NUM_JOINTS)
        self.steps = 0
        if options and "velocity_command" in options:
            self.velocity_command = np.array(options["velocity_command"], np.float64)
        return self._observation(), {"success_bar": self.task.success_bar}

    def step(self, action):
        action = np.clip(np.asarray(action, np.float64), -1.0, 1.0)
        return self._advance(MotorCommand.position(action_to_position(action)), action)

    def step_command(self, command: MotorCommand, action: np.ndarray | None = None):
        """One control step under a full motor command (q*, dq*, tau_ff, kp, kd per joint). `last_action`
        becomes `action` if given, else the action whose HB mapping is q* (clipped to [-1, 1])."""
        if action is None:
            action = np.clip(position_to_action(command.q), -1.0, 1.0)
        return self._advance(command, np.asarray(action, np.float64))

    # -- lower level -------------------------------------------------------------------------------------

    def robot_state(self) -> RobotState:
        """What the real robot would report now (tick = physics substeps since reset)."""
        return self.sim.robot_state()

    def observation_terms(self) -> list[dict]:
        """The manifest's observation.terms for this env."""
        return self.layout.describe({"velocity_command": {"default": self.velocity_command.tolist()}})

    # -- internals ---------------------------------------------------------------------------------------

    def _advance(self, command: MotorCommand, action: np.ndarray):
        self.sim.step(command)
        self.steps += 1
        self.last_action = action
        reward, terms = task_reward(self.task, self.sim)
        terminated = task_terminated(self.task, self.sim)
        truncated = self.steps >= self.max_episode_steps  # as Gymnasium's TimeLimit, which HB registers
        info = {**terms, "success_bar": self.task.success_bar}
        return self._observation(), reward, terminated, truncated, info

    def _observation(self) -> np.ndarray:
        # HumanoidBench's (qpos, qvel) needs no robot state; skip reading it on the training path
        state = self.sim.robot_state() if self.layout.reads_robot_state else None
        inp = ObservationInput(sim=self.sim, state=state, last_action=self.last_action,
                               velocity_command=self.velocity_command, time_s=self.sim.tick * TIMESTEP)
        return self.layout.compute(inp)
