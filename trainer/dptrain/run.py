"""A training run on disk: config, CSV logs, checkpoints (atomic, resumable) and a progress bar.

Layout of a run directory:
  config.json        the algorithm, its full config and the trainer version
  train.csv          one row per logged update (losses, Q statistics)
  eval.csv           one row per evaluation (step, return mean/std over episodes, wall time)
  checkpoint.pt      the latest state: networks, optimisers, replay, RNGs, step (written atomically)
  best.pt            the policy of the best evaluation so far
"""

from __future__ import annotations

import csv
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import __version__


class Run:
    def __init__(self, path: str | Path, algorithm: str, config: dict):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        self.elapsed_before = 0.0
        (self.path / "config.json").write_text(
            json.dumps({"algorithm": algorithm, "config": config, "trainer_version": __version__}, indent=2))

    @property
    def wall_s(self) -> float:
        return self.elapsed_before + time.time() - self.started

    def log(self, name: str, row: dict) -> None:
        """Append a row to NAME.csv; the first row of a file fixes its columns."""
        file = self.path / f"{name}.csv"
        new = not file.exists()
        with file.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row.keys()), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})

    def save(self, state: dict, name: str = "checkpoint.pt") -> None:
        state = {**state, "wall_s": self.wall_s, "rng": rng_state()}
        tmp = self.path / (name + ".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.path / name)  # never leaves a half-written checkpoint

    def load(self, name: str = "checkpoint.pt") -> dict | None:
        file = self.path / name
        if not file.exists():
            return None
        state = load_trusted(file)
        self.elapsed_before = float(state.get("wall_s", 0.0))
        set_rng_state(state["rng"])
        return state

    def progress(self, total: int, initial: int, desc: str) -> tqdm:
        return tqdm(total=total, initial=initial, desc=desc, unit="step", dynamic_ncols=True, mininterval=1.0,
                    disable=os.environ.get("DPTRAIN_NO_PROGRESS") == "1")


def load_trusted(path: str | Path) -> dict:
    """torch.load of a checkpoint this trainer wrote: it holds RNG states and plain Python objects, which
    PyTorch >= 2.6 refuses unless weights_only=False (an argument PyTorch 1.13 also accepts)."""
    return torch.load(path, map_location="cpu", weights_only=False)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def rng_state() -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
