"""The hand-written stand controller and its data collector (scripts/collect_stand_data.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from dptrain.algos import diffusion_ql
from dptrain.cli import main as dptrain
from dptrain.controllers import StandController, run_episode
from dptrain.envs import make_env
from dptrain.envs.h1 import HOME_ACTION
from dptrain.replay import ReplayBuffer

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "collect_stand_data.py"


@pytest.fixture(scope="module")
def env():
    e = make_env("h1-stand")
    yield e
    e.close()


@pytest.fixture(scope="module")
def controller():
    return StandController()


def load_collector():
    spec = importlib.util.spec_from_file_location("collect_stand_data", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_controller_keeps_the_robot_up(env, controller):
    # holding the home pose falls backwards at step ~79 (HumanoidBench's H1 does the same)
    ep = run_episode(env, controller, seed=3, steps=300)
    assert not ep["terminated"] and ep["length"] == 300
    # reward per step: small_control ~0.94 x standing 1 x upright 1 x dont_move ~1; the first steps
    # (leaving the home pose) cost a little
    assert 0.90 < ep["return"] / 300 < 0.97
    assert env.unwrapped.sim.head_height() > 1.65


def test_controller_survives_its_data_noise(env, controller):
    ep = run_episode(env, controller, seed=4, steps=300, noise_std=0.1, rng=np.random.default_rng(0))
    assert not ep["terminated"] and ep["return"] / 300 > 0.85


def test_controller_is_a_function_of_the_observation(env, controller):
    obs, _ = env.reset(seed=5)
    a = controller(obs)
    assert a.shape == (19,) and np.all(np.abs(a) <= 1.0)
    controller(np.asarray(env.step(a)[0]))  # its own MjData carries nothing over
    np.testing.assert_array_equal(controller(obs), a)


def test_balance_state_ignores_position_and_heading(controller, env):
    obs, _ = env.reset(seed=6)
    for _ in range(20):
        obs = env.step(controller(obs))[0]
    moved = obs.copy()
    yaw = 0.7
    rot = np.array([np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)])  # about world z
    w1, v1 = rot[0], rot[1:]
    w2, v2 = obs[3], obs[4:7]
    moved[3] = w1 * w2 - v1 @ v2
    moved[4:7] = w1 * v2 + w2 * v1 + np.cross(v1, v2)
    c, s = np.cos(yaw), np.sin(yaw)
    moved[0:2] = [c * obs[0] - s * obs[1] + 3.0, s * obs[0] + c * obs[1] - 2.0]
    moved[26:28] = [c * obs[26] - s * obs[27], s * obs[26] + c * obs[27]]  # free joint linear velocity (world)
    a, b = controller.balance_state(obs), controller.balance_state(moved)
    np.testing.assert_allclose(a["com"], b["com"], atol=1e-9)
    np.testing.assert_allclose(a["com_vel"], b["com_vel"], atol=1e-9)
    np.testing.assert_allclose(controller(obs), controller(moved), atol=1e-9)


def test_terminals_mark_termination_only(env):
    fall = run_episode(env, lambda obs: HOME_ACTION, seed=0, record=True)
    assert fall["terminated"] and fall["length"] < 200
    t = fall["transitions"]["terminals"]
    assert t[-1] == 1.0 and t[:-1].sum() == 0.0
    env.unwrapped.max_episode_steps = 40  # a truncated episode: no terminal anywhere
    try:
        cut = run_episode(env, StandController(), seed=0, record=True)
    finally:
        env.unwrapped.max_episode_steps = 1000
    assert cut["length"] == 40 and not cut["terminated"]
    assert cut["transitions"]["terminals"].sum() == 0.0


def test_a_guest_takes_steps_that_are_executed_but_not_recorded(env, controller):
    guest_action = np.clip(HOME_ACTION + 0.05, -1, 1)
    seen = []

    def guest(obs):
        seen.append(obs.copy())
        return guest_action

    ep = run_episode(env, controller, seed=5, steps=60, record=True, guest=guest, guest_share=0.5,
                     rng=np.random.default_rng(0))
    t = ep["transitions"]
    assert ep["length"] == 60 and 15 < ep["guest_steps"] < 45 and len(seen) == ep["guest_steps"]
    assert len(t["rewards"]) == 60 - ep["guest_steps"]
    assert not any(np.array_equal(a, guest_action.astype(np.float32)) for a in t["actions"])
    # every recorded step starts where the last one ended, unless a guest step came between
    chained = [np.array_equal(t["next_observations"][i], t["observations"][i + 1]) for i in range(len(t["rewards"]) - 1)]
    assert sum(not c for c in chained) > 0 and sum(chained) > 0
    # no guest share: the plain controller episode
    a = run_episode(env, controller, seed=5, steps=60, record=True, guest=guest, guest_share=0.0,
                    rng=np.random.default_rng(0))
    b = run_episode(env, controller, seed=5, steps=60, record=True)
    np.testing.assert_array_equal(a["transitions"]["actions"], b["transitions"]["actions"])
    assert a["guest_steps"] == 0


def test_controller_labels_record_the_noise_free_action_on_every_step(env):
    """labels="controller": the same noisy rollout, but each recorded action is what the controller
    wanted in that state (DART), and a guest's steps are recorded too with that label (DAgger)."""
    controller = StandController()
    executed = run_episode(env, controller, seed=6, steps=40, noise_std=0.05, rng=np.random.default_rng(1), record=True)
    labelled = run_episode(env, controller, seed=6, steps=40, noise_std=0.05, rng=np.random.default_rng(1), record=True,
                           labels="controller")
    e, c = executed["transitions"], labelled["transitions"]
    np.testing.assert_array_equal(e["observations"], c["observations"])  # the same rollout
    wanted = np.array([np.clip(controller(o), -1, 1) for o in c["observations"]], np.float32)
    np.testing.assert_allclose(c["actions"], wanted, atol=1e-6)
    assert np.abs(e["actions"] - c["actions"]).max() > 0.005  # the executed actions carried the noise

    def guest(obs):
        return HOME_ACTION

    hosted = run_episode(env, controller, seed=6, steps=40, record=True, guest=guest, guest_share=0.5,
                         rng=np.random.default_rng(2), labels="controller")
    t = hosted["transitions"]
    assert 0 < hosted["guest_steps"] < 40 and len(t["rewards"]) == 40
    np.testing.assert_array_equal(t["next_observations"][:-1], t["observations"][1:])
    np.testing.assert_allclose(t["actions"], [np.clip(controller(o), -1, 1) for o in t["observations"]], atol=1e-6)
    with pytest.raises(ValueError, match="labels"):
        run_episode(env, controller, seed=6, steps=1, labels="noisy")


def test_collector_takes_gain_overrides_and_labels(tmp_path):
    collector = load_collector()
    out = tmp_path / "walk.npz"
    assert collector.main(["--task", "walk", "--episodes", "1", "--steps", "20", "--eval-episodes", "0",
                           "--gain", "lift=0.06", "--labels", "controller", "--out", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["gain_overrides"] == ["lift=0.06"] and meta["labels"] == "controller"
    assert collector.parse_gains("walk", ["lift=0.06"]).lift == 0.06
    for bad in (["lift"], ["nonsense=1"], ["lift=high"]):
        with pytest.raises((SystemExit, ValueError)):
            collector.parse_gains("walk", bad)


def test_collector_writes_a_valid_dataset(tmp_path):
    collector = load_collector()
    out = tmp_path / "stand.npz"
    assert collector.main(["--episodes", "2", "--steps", "30", "--eval-episodes", "1", "--out", str(out)]) == 0
    buf = ReplayBuffer.from_dataset(str(out))
    d = buf.data
    assert buf.size == 60 and d["observations"].shape == (60, 51) and d["actions"].shape == (60, 19)
    assert np.all(np.abs(d["actions"]) <= 1.0) and d["terminals"].sum() == 0.0
    assert np.all(d["rewards"] > 0.5)
    # consecutive transitions chain within an episode
    np.testing.assert_array_equal(d["next_observations"][:29], d["observations"][1:30])
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["transitions"] == 60 and len(meta["episodes_detail"]) == 2
    assert all(0.0 <= e["noise_std"] <= 0.1 for e in meta["episodes_detail"])
    # the same seed gives the same data
    out2 = tmp_path / "again.npz"
    collector.main(["--episodes", "2", "--steps", "30", "--eval-episodes", "0", "--out", str(out2)])
    with np.load(out) as a, np.load(out2) as b:
        for k in a.files:
            np.testing.assert_array_equal(a[k], b[k])


def test_collector_hands_steps_to_a_trained_policy(tmp_path):
    collector = load_collector()
    data = tmp_path / "stand.npz"
    collector.main(["--episodes", "2", "--steps", "30", "--eval-episodes", "0", "--out", str(data)])
    cfg = diffusion_ql.DiffusionQLConfig(dataset=str(data), env="h1-stand", seed=0, total_steps=20, batch_size=16,
                                         hidden=32, critic_hidden=32, eval_interval=20, eval_episodes=1,
                                         checkpoint_interval=20, log_interval=20, threads=1)
    diffusion_ql.train(cfg, str(tmp_path / "run"))
    out = tmp_path / "guest.npz"
    assert collector.main(["--episodes", "2", "--steps", "30", "--eval-episodes", "0", "--guest", str(tmp_path / "run"),
                           "--guest-share", "0.5", "--guest-samples", "4", "--out", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["guest"] == {"run": str(tmp_path / "run"), "share": 0.5, "samples": 4}
    guest_steps = sum(e["guest_steps"] for e in meta["episodes_detail"])
    lengths = sum(e["length"] for e in meta["episodes_detail"])
    assert 0 < guest_steps < lengths and meta["transitions"] == lengths - guest_steps
    assert ReplayBuffer.from_dataset(f"{data},{out}").size == 60 + meta["transitions"]
    # the export's own evaluation is reproducible: reset seeds and sampling noise are both seeded
    evaluations = []
    for name in ("a", "b"):
        assert dptrain(["export", str(tmp_path / "run"), "--out", str(tmp_path / name), "--eval-episodes", "2"]) in (0, None)
        evaluations.append(json.loads((tmp_path / name / "policy.json").read_text())["provenance"]["evaluation"])
    assert evaluations[0] == evaluations[1] and evaluations[0]["noise_seed"] == 20_000
