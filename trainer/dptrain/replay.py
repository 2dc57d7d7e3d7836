"""Transition storage: a ring buffer for online training and the offline dataset format.

Offline datasets are `.npz` files with float32 arrays `observations` [N, O], `actions` [N, A] (already
in [-1, 1]), `rewards` [N], `next_observations` [N, O] and `terminals` [N] (1.0 where the episode
ended by termination, not by a time limit). docs/datasets.md describes it.
"""

from __future__ import annotations

import numpy as np
import torch

FIELDS = ("observations", "actions", "rewards", "next_observations", "terminals")


class ReplayBuffer:
    def __init__(self, obs_dim: int, act_dim: int, capacity: int):
        self.capacity, self.size, self.pos = capacity, 0, 0
        self.data = {
            "observations": np.zeros((capacity, obs_dim), np.float32),
            "actions": np.zeros((capacity, act_dim), np.float32),
            "rewards": np.zeros(capacity, np.float32),
            "next_observations": np.zeros((capacity, obs_dim), np.float32),
            "terminals": np.zeros(capacity, np.float32),
        }

    def add(self, obs, action, reward, next_obs, terminal) -> None:
        i = self.pos
        for key, value in zip(FIELDS, (obs, action, reward, next_obs, float(terminal))):
            self.data[key][i] = value
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator, device="cpu") -> dict[str, torch.Tensor]:
        idx = rng.integers(0, self.size, batch_size)
        return {k: torch.as_tensor(v[idx], device=device) for k, v in self.data.items()}

    def state_dict(self) -> dict:
        return {"size": self.size, "pos": self.pos, **{k: v[: self.size].copy() for k, v in self.data.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.size, self.pos = int(state["size"]), int(state["pos"])
        for k in FIELDS:
            self.data[k][: self.size] = state[k]

    @classmethod
    def from_dataset(cls, path: str) -> "ReplayBuffer":
        """One .npz, or several separated by commas (concatenated: e.g. a controller's data and a DAgger round's)."""
        parts = []
        for one in path.split(","):
            with np.load(one) as f:
                missing = [k for k in FIELDS if k not in f]
                if missing:
                    raise ValueError(f"{one}: dataset lacks {missing}; expected arrays {FIELDS}")
                parts.append({k: np.asarray(f[k], np.float32) for k in FIELDS})
            if parts[-1]["observations"].shape[1:] != parts[0]["observations"].shape[1:] or \
                    parts[-1]["actions"].shape[1:] != parts[0]["actions"].shape[1:]:
                raise ValueError(f"{one}: observation/action sizes differ from the first dataset's in {path}")
        arrays = {k: np.concatenate([p[k] for p in parts]) for k in FIELDS}
        n, obs_dim = arrays["observations"].shape
        buf = cls(obs_dim, arrays["actions"].shape[1], n)
        for k, v in arrays.items():
            buf.data[k][:] = v.reshape(buf.data[k].shape)
        buf.size, buf.pos = n, 0
        return buf

    def save_dataset(self, path: str) -> None:
        np.savez_compressed(path, **{k: v[: self.size] for k, v in self.data.items()})
