"""The hand-written walk controller (dptrain/controllers/walk.py) and `collect_stand_data.py --task walk`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from dptrain.controllers import StandController, WalkController, run_episode
from dptrain.controllers.walk import LEG_JOINTS, SIDE, _rot_z, leg_ik
from dptrain.envs import make_env
from dptrain.replay import ReplayBuffer

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "collect_stand_data.py"


@pytest.fixture(scope="module")
def env():
    e = make_env("h1-walk")
    yield e
    e.close()


def load_collector():
    spec = importlib.util.spec_from_file_location("collect_stand_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_leg_ik_inverts_the_model_kinematics():
    import mujoco

    c = WalkController()
    m, d = c.model, c.data
    rng = np.random.default_rng(0)
    for _ in range(5):
        d.qpos[:] = m.key_qpos[0]
        qs = {}
        for leg in (0, 1):
            q = [rng.uniform(-0.2, 0.2), rng.uniform(-0.3, 0.3), rng.uniform(-0.8, 0.2), rng.uniform(0.1, 1.2)]
            qs[leg] = q
            for k, v in zip(LEG_JOINTS[leg], q):
                d.qpos[7 + k] = v
        mujoco.mj_kinematics(m, d)
        R = d.xmat[c.pelvis].reshape(3, 3)
        for leg in (0, 1):
            rel = _rot_z(-qs[leg][0]) @ (R.T @ (d.xpos[c.ankle_body[leg]] - d.xanchor[c.roll_joint[leg]]))
            np.testing.assert_allclose(leg_ik(rel, SIDE[leg])[:3], qs[leg][1:4], atol=1e-6)


def test_controller_walks_forward(env):
    c = WalkController()
    ep = run_episode(env, c, seed=7, steps=400)
    assert not ep["terminated"] and ep["length"] == 400
    sim = env.unwrapped.sim
    # 8 s: 0.8 s weight shift, the speed ramp, then ~0.9 m/s (stepping in place drifts ~1 m, 0.14 m/s)
    assert sim.data.qpos[0] > 3.5
    assert ep["return"] / 400 > 0.6  # standing still earns ~0.16 per step
    assert sim.head_height() > 1.6


def test_reset_restarts_the_gait_clock(env):
    c = WalkController()
    obs, _ = env.reset(seed=1)
    first = c(obs)
    for _ in range(60):
        obs = env.step(c(obs))[0]
    assert c.time > 1.0
    obs, _ = env.reset(seed=1)
    c.reset()
    np.testing.assert_array_equal(c(obs), first)
    a = c(obs)
    assert a.shape == (19,) and np.all(np.abs(a) <= 1.0)


def test_run_episode_resets_the_controller(env):
    c = WalkController()
    a = run_episode(env, c, seed=2, steps=30)["return"]
    b = run_episode(env, c, seed=2, steps=30)["return"]
    assert a == b
    # a stateless controller goes through unchanged
    assert run_episode(make_env("h1-stand"), StandController(), seed=0, steps=5)["length"] == 5


def test_collector_walk_task_writes_a_valid_dataset(tmp_path):
    collector = load_collector()
    out = tmp_path / "walk.npz"
    assert collector.main(["--task", "walk", "--episodes", "2", "--steps", "40", "--eval-episodes", "1",
                           "--out", str(out)]) == 0
    d = ReplayBuffer.from_dataset(str(out)).data
    assert d["observations"].shape == (80, 51) and d["actions"].shape == (80, 19)
    assert np.all(np.abs(d["actions"]) <= 1.0)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["env"] == "h1-walk" and "WalkController" in meta["controller"]


def test_arm_clock_shows_the_gait_clock_in_the_elbow_targets(env):
    """With arm_clock the elbows carry theta = pi (stance + step progress) as (cos, sin): 0 in the
    initial double support, continuous across stance switches, and the legs' targets are unchanged."""
    from dptrain.controllers.walk import ELBOWS, WalkGains
    from dptrain.envs.h1.robot import position_to_action

    plain, clocked = WalkController(), WalkController(WalkGains(arm_clock=0.5, arm_clock_bias=0.5))
    obs, _ = env.reset(seed=3)
    elbows, stances = [], []
    for _ in range(150):
        p, q = plain.targets(obs), clocked.targets(obs)
        np.testing.assert_array_equal(np.delete(p, ELBOWS), np.delete(q, ELBOWS))
        assert np.all(p[list(ELBOWS)] == 0.0)
        elbows.append(q[list(ELBOWS)])
        stances.append(clocked.stance)
        obs = env.step(np.clip(position_to_action(q), -1, 1))[0]
    elbows = np.array(elbows)
    theta = np.arctan2(elbows[:, 1] - 0.5, elbows[:, 0] - 0.5) % (2 * np.pi)
    np.testing.assert_allclose(np.hypot(elbows[:, 0] - 0.5, elbows[:, 1] - 0.5), 0.5, atol=1e-9)
    start = [i for i, s in enumerate(stances) if s is None]
    np.testing.assert_allclose(theta[start], 0.0, atol=1e-9)
    # stepping: left stance shows the upper half circle, right stance the lower
    assert {0, 1} <= set(stances)
    eps = 1e-9
    for i, s in enumerate(stances):
        upper = theta[i] <= np.pi + eps
        lower = theta[i] >= np.pi - eps or theta[i] < eps  # 2 pi shows as 0 at the end of a right stance
        assert (upper if s == 0 else lower) if s is not None else True, (i, s, theta[i])
    # continuous: the elbow targets never move more than one control step's advance (pi dt / T)
    assert np.abs(np.diff(elbows, axis=0)).max() <= 0.5 * np.pi * 0.02 / 0.3 + 1e-9
