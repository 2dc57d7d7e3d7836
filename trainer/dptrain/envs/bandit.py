"""A continuous contextual bandit: cheap enough to train on in unit tests, hard enough for a random policy.

Observation s ~ U[-1, 1]^2; the best action is a*(s) = 0.8 * R(pi/3) s (a rotation, so it must be
learned per context); reward exp(-|a - a*|^2 / (2 * 0.25^2)). One step per episode. A uniform random
policy scores about 0.1, a perfect one 1.0.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


class ContextualBandit(gym.Env):
    metadata = {"render_modes": []}

    def __init__(self, width: float = 0.25):
        self.width = width
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        c, s = np.cos(np.pi / 3), np.sin(np.pi / 3)
        self._rotation = 0.8 * np.array([[c, -s], [s, c]])
        self._obs = np.zeros(2, np.float32)

    def best_action(self, obs: np.ndarray) -> np.ndarray:
        return self._rotation @ obs

    def reward(self, obs: np.ndarray, action: np.ndarray) -> float:
        d2 = float(np.sum((np.asarray(action, np.float64) - self.best_action(obs)) ** 2))
        return float(np.exp(-d2 / (2 * self.width**2)))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._obs = self.np_random.uniform(-1.0, 1.0, 2).astype(np.float32)
        return self._obs.copy(), {}

    def step(self, action):
        r = self.reward(self._obs, np.clip(action, -1.0, 1.0))
        obs = self._obs.copy()
        return obs, r, True, False, {}
