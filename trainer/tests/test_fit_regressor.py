"""scripts/fit_regressor.py: the plain-regressor diagnostic (does the observation hold what the behaviour uses?)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

from dptrain.envs.h1.robot import JOINT_HIGH, JOINT_LOW
from dptrain.replay import ReplayBuffer

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regressor_fits_controller_labels_and_runs_as_a_policy(tmp_path, capsys):
    data = tmp_path / "stand.npz"
    assert load("collect_stand_data").main(["--episodes", "4", "--steps", "50", "--eval-episodes", "0", "--noise-max", "0.05",
                                            "--labels", "controller", "--out", str(data)]) == 0
    d = ReplayBuffer.from_dataset(str(data)).data
    regressor = load("fit_regressor")
    act, errors = regressor.fit(d["observations"], d["actions"], hidden=64, layers=2, steps=2000, seed=0)
    # better than the best constant (the labels' own spread), in radians on the legs
    spread = float(np.sqrt((((d["actions"] - d["actions"].mean(0)) * (JOINT_HIGH - JOINT_LOW) / 2)[:, :10] ** 2).mean()))
    assert errors["held_out"] == 40 and errors["legs_rad_rms"] < 0.6 * spread, (errors, spread)
    a = act(d["observations"][0])
    assert a.shape == (19,) and np.all(np.abs(a) <= 1.0)

    capsys.readouterr()
    assert regressor.main(["--dataset", f"{data},{data}", "--env", "h1-stand", "--episodes", "1", "--steps", "50",
                           "--hidden", "32", "--layers", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["transitions"] == 400 and report["fit"]["held_out"] == 80
    (episode,) = report["episodes"]
    assert episode["seed"] == 10_000 and 1 <= episode["length"] <= 1000 and np.isfinite(episode["return"])
