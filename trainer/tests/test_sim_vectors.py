"""Cross-language simulation vectors (test/fixtures/sim/): Python's own are reproduced by the current
code; the TypeScript side's, once it writes them, are replayed here and must agree.

Regenerate Python's after a change to the scenes or the sim code: .venv/bin/python trainer/scripts/make_sim_vectors.py
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from dptrain.envs.h1 import EFFORT_LIMIT, TASKS
from dptrain.envs.h1.model import SCENE_FILES
from dptrain.envs.h1.vectors import divergence, replay, replay_one_step, scene_sim

FIXTURES = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "sim"
PYTHON_VECTORS = FIXTURES / "python-vectors.json"
TS_VECTORS = FIXTURES / "ts-vectors.json"
REGENERATE = "regenerate with: .venv/bin/python trainer/scripts/make_sim_vectors.py"

# Regression: on the machine that wrote the file the replay is bitwise equal. The cases are picked to be well
# conditioned (a relative 1e-15 perturbation moves no qpos by 1e-8 over a case), and MuJoCo builds as different
# as mujoco-js 3.3.8 (WebAssembly) and mujoco 3.3.7 (native) agree on them within 4e-13 in qpos and 2e-10 in
# any recorded value, so 1e-9 (relative for large values) catches any change of code or scene, not rounding.
REGRESSION_TOL = 1e-9

# Cross-language. Measured between mujoco-js 3.3.8 (WebAssembly) and mujoco 3.3.7 (native) on frozen scenes:
# python-vectors.json's cases agree within 4e-13 (qpos), 9e-12 (qvel), 4e-11 N m (tau_est), 2e-10 m/s^2 (acc)
# over whole runs, and one step from the same state within 1.2e-14, 1.9e-12, 2.2e-12 and 1.9e-11. But a step
# in which a contact comes or goes with the last bit (a foot touching down one substep earlier, a fallen robot
# rocking on several contacts) can legitimately jump by up to ~1 rad/s in qvel between two builds, or in
# Python alone when its start state is perturbed by 1e-15 or the solver's warm start (which no record carries)
# changes. So the comparison is:
#
# One step at a time, from the other side's record of the step before (zero warm start, as a case starts):
#  - a step whose dynamics agree to ONE_STEP_DYNAMICS must also agree on everything derived from them
#    (ONE_STEP_DERIVED: forces, IMU, reward) and on the termination flag;
#  - a step whose dynamics do not agree must be one where Python itself jumps: perturbing its start state
#    in the last bit or its warm start moves Python's own qvel by more than ONE_STEP_DYNAMICS. Any other
#    disagreement is a real difference between the implementations.
# Whole runs from qpos0/qvel0, while Python's own run is well conditioned (last-bit perturbations move no
# qpos by more than 1e-9 up to that step): FULL_RUN tolerances, 1e4-1e6 times the measured differences
# (a well-conditioned run amplifies a last-bit difference at most ~1e6 times by definition).
ONE_STEP_DYNAMICS = {"qpos": 1e-10, "qvel": 1e-8}
ONE_STEP_DERIVED = {"tau_est": 1e-7, "quat": 1e-10, "gyro": 1e-8, "acc": 1e-6, "reward": 1e-9}
FULL_RUN = {"qpos": 1e-7, "qvel": 1e-5, "tau_est": 1e-4, "quat": 1e-7, "gyro": 1e-5, "acc": 1e-3, "reward": 1e-7}
WELL_CONDITIONED = 1e-9


def fields(rec: dict) -> dict[str, np.ndarray]:
    return {"qpos": np.asarray(rec["qpos"]), "qvel": np.asarray(rec["qvel"]), "tau_est": np.asarray(rec["tau_est"]),
            "quat": np.asarray(rec["imu"]["quat"]), "gyro": np.asarray(rec["imu"]["gyro"]),
            "acc": np.asarray(rec["imu"]["acc"]), "reward": np.asarray([rec["reward"]])}


def load(path: Path) -> dict:
    doc = json.loads(path.read_text())
    check_format(doc, path.name)
    return doc


def check_format(doc: dict, label: str) -> None:
    assert set(doc) == {"generated_by", "mujoco_version", "cases"}, label
    assert doc["cases"], label
    for case in doc["cases"]:
        assert set(case) == {"name", "scene", "task", "qpos0", "qvel0", "steps"}, (label, case.get("name"))
        assert case["scene"] in SCENE_FILES and case["task"] in TASKS
        assert TASKS[case["task"]].scene == case["scene"], (label, case["name"])
        sim = scene_sim(case["scene"])
        assert len(case["qpos0"]) == sim.model.nq and len(case["qvel0"]) == sim.model.nv
        for step in case["steps"]:
            assert set(step) == {"command", "qpos", "qvel", "reward", "terminated", "imu", "tau_est"}
            assert set(step["command"]) == {"q", "dq", "tau", "kp", "kd"}
            assert all(len(v) == 19 for v in step["command"].values())
            assert len(step["qpos"]) == sim.model.nq and len(step["qvel"]) == sim.model.nv
            assert isinstance(step["terminated"], bool) and isinstance(step["reward"], float)
            assert [len(step["imu"][k]) for k in ("quat", "gyro", "acc")] == [4, 3, 3] and len(step["tau_est"]) == 19


# -- (a) Python's vectors ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def python_vectors() -> dict:
    if not PYTHON_VECTORS.exists():
        pytest.fail(f"{PYTHON_VECTORS} is missing; {REGENERATE}")
    return load(PYTHON_VECTORS)


def test_python_vectors_cover_what_the_typescript_side_needs(python_vectors):
    doc = python_vectors
    assert doc["generated_by"] == "trainer/scripts/make_sim_vectors.py" and doc["mujoco_version"] == "3.3.7"
    cases = doc["cases"]
    assert len(cases) >= 4 and all(len(c["steps"]) >= 60 for c in cases)
    assert {c["task"] for c in cases} >= {"stand", "walk", "balance_simple"}
    assert any(s["terminated"] for c in cases for s in c["steps"])  # some case reaches termination
    general = [c for c in cases if any(np.any(s["command"]["dq"]) for s in c["steps"])]
    assert general, "no case with general motor commands"
    steps = general[0]["steps"]
    assert all(np.any(s["command"]["tau"]) for s in steps)
    assert len({tuple(s["command"]["kp"]) for s in steps}) > 1 and len({tuple(s["command"]["kd"]) for s in steps}) > 1
    clamped = [np.isclose(np.abs(s["tau_est"]), EFFORT_LIMIT, rtol=0, atol=1e-9) for s in steps]
    assert np.any(clamped), "the general case never reaches an effort limit"


def test_python_vectors_are_reproduced(python_vectors):
    for case in python_vectors["cases"]:
        sim = scene_sim(case["scene"])
        for k, (mine, theirs) in enumerate(zip(replay(case, sim), case["steps"])):
            assert mine["terminated"] == theirs["terminated"], f"{case['name']} step {k}: terminated; {REGENERATE}"
            for name, value in fields(mine).items():
                expected = fields(theirs)[name]
                np.testing.assert_allclose(value, expected, rtol=REGRESSION_TOL, atol=REGRESSION_TOL,
                                           err_msg=f"{case['name']} step {k} {name}; {REGENERATE} if the scene changed")


# -- (b) the cross-language comparison -------------------------------------------------------------------------

def _max_diff(a: dict, b: dict, field: str) -> tuple[float, int]:
    err = np.abs(fields(a)[field] - fields(b)[field])
    i = int(np.argmax(err))
    return float(err[i]), i


def _jumps_in_python(case: dict, k: int, sim, mine: dict, rng: np.random.Generator) -> bool:
    """Whether Python's own step k (from the same recorded start) moves by more than ONE_STEP_DYNAMICS when
    its warm start or, in the last bit, its start state change."""
    prev = case["steps"][k - 1] if k > 0 else {"qpos": case["qpos0"], "qvel": case["qvel0"]}
    probes = [replay_one_step(case, k, sim, warmstart="forward")]
    for warmstart in ("zero", "forward", "zero"):
        start = {key: (np.asarray(prev[key]) * (1 + 1e-15 * rng.standard_normal(len(prev[key])))).tolist()
                 for key in ("qpos", "qvel")}
        shifted = copy.copy(case)
        if k > 0:
            shifted["steps"] = [*case["steps"][:k - 1], {**prev, **start}, *case["steps"][k:]]
        else:
            shifted = {**case, "qpos0": start["qpos"], "qvel0": start["qvel"]}
        probes.append(replay_one_step(shifted, k, sim, warmstart=warmstart))
    return any(_max_diff(p, mine, "qvel")[0] > ONE_STEP_DYNAMICS["qvel"] for p in probes)


def cross_check(doc: dict) -> list[str]:
    """Replays every case of another implementation's vectors; returns the disagreements (see above)."""
    problems: list[str] = []
    rng = np.random.default_rng(0)
    for case in doc["cases"]:
        sim = scene_sim(case["scene"])
        name = case["name"]
        for k, theirs in enumerate(case["steps"]):
            mine = replay_one_step(case, k, sim)
            dynamics = {f: _max_diff(mine, theirs, f) for f in ONE_STEP_DYNAMICS}
            if all(dynamics[f][0] <= tol for f, tol in ONE_STEP_DYNAMICS.items()):
                for field, tol in ONE_STEP_DERIVED.items():
                    err, i = _max_diff(mine, theirs, field)
                    if err > tol:
                        problems.append(f"{name} step {k} (one step) {field}[{i}]: {fields(theirs)[field][i]!r} vs "
                                        f"Python {fields(mine)[field][i]!r} (|diff| {err:.2e} > {tol:.0e})")
                if mine["terminated"] != theirs["terminated"]:
                    problems.append(f"{name} step {k} (one step): terminated {theirs['terminated']} vs Python "
                                    f"{mine['terminated']}")
            elif not _jumps_in_python(case, k, sim, mine, rng):
                field = max(dynamics, key=lambda f: dynamics[f][0] / ONE_STEP_DYNAMICS[f])
                err, i = dynamics[field]
                problems.append(f"{name} step {k} (one step) {field}[{i}]: {fields(theirs)[field][i]!r} vs Python "
                                f"{fields(mine)[field][i]!r} (|diff| {err:.2e}), where Python's own step is stable")
        spread = divergence(case, trials=4, sim=sim)
        for k, (mine, theirs) in enumerate(zip(replay(case, sim), case["steps"])):
            if spread[: k + 1].max() > WELL_CONDITIONED:
                break
            for field, tol in FULL_RUN.items():
                err, i = _max_diff(mine, theirs, field)
                if err > tol:
                    problems.append(f"{name} step {k} (whole run) {field}[{i}]: |diff| {err:.2e} > {tol:.0e}")
            if mine["terminated"] != theirs["terminated"]:
                problems.append(f"{name} step {k} (whole run): terminated {theirs['terminated']} vs Python "
                                f"{mine['terminated']}")
    return problems


def test_cross_check_accepts_python_vectors_and_catches_errors(python_vectors):
    """The comparison itself: Python's own vectors pass it (the tolerances sit above the warm-start
    floor), and small semantic differences do not."""
    assert cross_check(python_vectors) == []
    case = copy.deepcopy(python_vectors["cases"][0])
    doc = {**python_vectors, "cases": [case]}
    case["steps"][5]["reward"] += 1e-6
    case["steps"][7]["qvel"][8] += 1e-4
    case["steps"][9]["tau_est"][3] += 1e-4
    case["steps"][11]["terminated"] = not case["steps"][11]["terminated"]
    problems = cross_check(doc)
    for needle in ("step 5 (one step) reward", "step 7 (one step) qvel", "step 9 (one step) tau_est",
                   "step 11 (one step): terminated", "step 7 (whole run) qvel"):
        assert any(needle in p for p in problems), (needle, problems[:5])


def test_typescript_vectors_agree():
    if not TS_VECTORS.exists():
        pytest.skip(f"{TS_VECTORS.relative_to(FIXTURES.parents[2])} does not exist yet (the TypeScript side writes it)")
    problems = cross_check(load(TS_VECTORS))
    assert not problems, (f"{len(problems)} disagreements (if sim/ changed after ts-vectors.json was written, "
                          f"regenerate it first: npm run fixtures), first ones:\n" + "\n".join(problems[:20]))
