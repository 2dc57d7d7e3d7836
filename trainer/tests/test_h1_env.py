"""The simulated H1 env: HumanoidBench's semantics on the project's scenes (and on HB's own model when the
reference copy is present), the motor law, robot state and the observation terms."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from dptrain.envs import deployment_info, make_env
from dptrain.envs.h1 import (EFFORT_LIMIT, HB_KD, HB_KP, HOME_ACTION, HOME_Q, JOINT_HIGH, JOINT_LOW, JOINT_NAMES,
                             OBSERVATION_TERMS, TASKS, H1Env, H1Sim, MotorCommand, action_to_position,
                             apply_motor_command, scene_path, task_reward, task_terminated)
from dptrain.envs.h1.observations import projected_gravity
from dptrain.envs.h1.rewards import tolerance

REPO = Path(__file__).resolve().parents[2]
HB_DIR = REPO.parent / "shared" / "reference" / "humanoidbench"
needs_hb = pytest.mark.skipif(
    not (HB_DIR / "assets" / "envs").is_dir(),
    reason=f"HumanoidBench's own H1 model is not at {HB_DIR} (a reference copy only the project's build machine has)")

# HB's documented keyframe-pose action (humanoidbench.md §1.4), rounded there to 4 decimals.
HB_DOCUMENTED_HOME_ACTION = [0, 0, -0.0335, -0.0823, -0.3237, 0, 0, -0.0335, -0.0823, -0.3237, 0, 0, -0.8029,
                             -0.5478, -0.3523, 0, 0.8029, 0.5478, -0.3523]
REAL_ROBOT_TERMS = ["projected_gravity", "imu_angular_velocity", "projected_gravity_pelvis", "angular_velocity_pelvis",
                    "joint_positions", "joint_velocities", "last_action", "velocity_command", "gait_phase",
                    "time_since_start"]


def hb_model(task: str) -> Path:
    return HB_DIR / "assets" / "envs" / f"h1_pos_{task}.xml"


def scenes():
    """(label, path) of every scene to check: ours always, HB's when present."""
    out = [("ours-flat", scene_path("h1_flat")), ("ours-balance", scene_path("h1_balance_simple"))]
    if hb_model("stand").exists():
        out += [("hb-flat", hb_model("stand")), ("hb-balance", hb_model("balance_simple"))]
    return out


def run_home_action(env: H1Env, steps: int = 1000) -> tuple[list[float], int | None]:
    rewards = []
    for k in range(steps):
        _, r, terminated, truncated, _ = env.step(HOME_ACTION)
        rewards.append(r)
        if terminated:
            return rewards, k + 1
    return rewards, None


# -- the scene and the task definition agree -------------------------------------------------------------------

@pytest.mark.parametrize("label,path", scenes())
def test_scene_matches_humanoidbench_constants(label, path):
    sim = H1Sim(path)
    m = sim.model
    joints = [m.joint(n).id for n in JOINT_NAMES]
    np.testing.assert_allclose(m.jnt_range[joints, 0], JOINT_LOW, atol=1e-12)
    np.testing.assert_allclose(m.jnt_range[joints, 1], JOINT_HIGH, atol=1e-12)
    np.testing.assert_allclose(m.actuator_gainprm[:, 0], HB_KP)
    np.testing.assert_allclose(m.actuator_biasprm[:, :3], np.stack([0 * HB_KP, -HB_KP, -HB_KD], 1))
    np.testing.assert_allclose(m.actuator_forcerange, np.stack([-EFFORT_LIMIT, EFFORT_LIMIT], 1))
    assert (m.actuator_gaintype == mujoco.mjtGain.mjGAIN_FIXED).all()
    assert (m.actuator_biastype == mujoco.mjtBias.mjBIAS_AFFINE).all()
    assert m.actuator_forcelimited.all()
    np.testing.assert_allclose(m.key_qpos[sim.keyframe][sim.qpos_adr], HOME_Q)
    np.testing.assert_allclose(m.dof_damping[sim.qvel_adr], 1.0)
    np.testing.assert_allclose(m.dof_armature[sim.qvel_adr], 0.1)
    assert m.opt.timestep == 0.002 and m.geom(0).name == "floor"
    if label.startswith("ours"):
        assert not m.actuator_ctrllimited.any()  # the contract: targets outside the range are not clamped
    else:
        np.testing.assert_allclose(m.actuator_ctrlrange, np.stack([JOINT_LOW, JOINT_HIGH], 1))


@pytest.mark.parametrize("task,size", [("stand", 51), ("walk", 51), ("run", 51), ("balance_simple", 64)])
def test_observation_is_qpos_qvel_of_the_whole_model(task, size):
    env = H1Env(task)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (size,) and obs.dtype == np.float64 and env.observation_space.shape == (size,)
    np.testing.assert_array_equal(obs, np.concatenate([env.sim.data.qpos, env.sim.data.qvel]))
    obs, *_ = env.step(np.zeros(19))
    np.testing.assert_array_equal(obs, np.concatenate([env.sim.data.qpos, env.sim.data.qvel]))
    if hb_model(task).exists():
        assert H1Env(task, model_path=hb_model(task)).reset(seed=0)[0].shape == (size,)


# -- action mapping --------------------------------------------------------------------------------------------

def test_action_mapping():
    np.testing.assert_allclose(action_to_position(np.zeros(19)), (JOINT_LOW + JOINT_HIGH) / 2)
    np.testing.assert_allclose(action_to_position(-np.ones(19)), JOINT_LOW)
    np.testing.assert_allclose(action_to_position(np.ones(19)), JOINT_HIGH)
    # HB's documented values for a = 0: hip pitch -0.305, knee 0.895, ankle -0.175, L shoulder roll 1.385
    np.testing.assert_allclose(action_to_position(np.zeros(19))[[2, 3, 4, 12, 13, 14]],
                               [-0.305, 0.895, -0.175, 1.385, 1.575, 0.68], atol=1e-12)
    np.testing.assert_allclose(action_to_position(HOME_ACTION), HOME_Q, atol=1e-12)
    np.testing.assert_allclose(HOME_ACTION, HB_DOCUMENTED_HOME_ACTION, atol=5e-5)
    np.testing.assert_allclose(action_to_position(np.array(HB_DOCUMENTED_HOME_ACTION)), HOME_Q, atol=2e-4)


def test_env_applies_the_mapping_with_humanoidbench_gains_and_clips():
    env = H1Env("stand")
    env.reset(seed=0)
    env.step(np.zeros(19))
    np.testing.assert_allclose(env.sim.data.ctrl, (JOINT_LOW + JOINT_HIGH) / 2, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(env.sim.model.actuator_gainprm[:, 0], HB_KP)
    np.testing.assert_array_equal(env.sim.model.actuator_biasprm[:, :3], np.stack([0 * HB_KP, -HB_KP, -HB_KD], 1))
    # HB's MuJoCo clamps ctrl to ctrlrange; our scene does not, so the env clips the action
    env.step(np.full(19, 3.0))
    np.testing.assert_allclose(env.sim.data.ctrl, JOINT_HIGH)
    np.testing.assert_array_equal(env.last_action, np.ones(19))


# -- reset -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("task", ["stand", "balance_simple"])
def test_reset_noise_is_humanoidbench_draw(task):
    env = H1Env(task)
    key = env.sim.model.key_qpos[env.sim.keyframe]
    obs_a, _ = env.reset(seed=7)
    qpos = env.sim.data.qpos.copy()
    # HB: one uniform(-0.01, 0.01, nq) draw from the env's np_random = Generator(PCG64(seed))
    np.testing.assert_array_equal(qpos, key + np.random.default_rng(7).uniform(-0.01, 0.01, env.sim.model.nq))
    assert np.all(np.abs(qpos - key) <= 0.01) and np.all(qpos != key)
    assert abs(np.linalg.norm(qpos[3:7]) - 1.0) > 1e-9  # the root quaternion is not renormalised
    np.testing.assert_array_equal(env.sim.data.qvel, 0.0)
    assert env.robot_state().tick == 0
    obs_b, _ = env.reset(seed=7)
    np.testing.assert_array_equal(obs_a, obs_b)
    obs_c, _ = env.reset(seed=8)
    assert np.abs(obs_a - obs_c).max() > 1e-4
    assert np.array_equal(H1Env(task, seed=7).reset()[0], obs_a)  # the constructor's seed seeds the first reset


def test_reset_restores_default_gains_after_motor_commands():
    env = H1Env("stand")
    env.reset(seed=0)
    env.step_command(MotorCommand(HOME_Q, np.ones(19), np.ones(19), HB_KP * 2, HB_KD * 3))
    env.reset(seed=0)
    np.testing.assert_array_equal(env.sim.model.actuator_gainprm[:, 0], HB_KP)
    np.testing.assert_array_equal(env.sim.model.actuator_biasprm[:, :3], np.stack([0 * HB_KP, -HB_KP, -HB_KD], 1))


# -- HumanoidBench's own model: sanity values of humanoidbench.md §5 ------------------------------------------

@needs_hb
def test_stand_sanity_values_on_humanoidbench_model():
    env = H1Env("stand", model_path=hb_model("stand"), reset_noise=0.0)
    env.reset(seed=0)
    rewards, fell_at = run_home_action(env)
    assert rewards[0] == pytest.approx(0.987, abs=2e-3)
    assert fell_at is not None and abs(fell_at - 79) <= 3, fell_at
    assert sum(rewards) == pytest.approx(52, abs=2.0)


@needs_hb
@pytest.mark.parametrize("task", ["walk", "run"])
def test_walk_run_first_reward_on_humanoidbench_model(task):
    env = H1Env(task, model_path=hb_model(task), reset_noise=0.0)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(HOME_ACTION)
    assert reward == pytest.approx(0.17, abs=0.01)
    assert info["move"] == pytest.approx(0.17, abs=0.01)


@needs_hb
def test_five_assignments_reproduce_humanoidbench_position_actuators_exactly():
    """HB's step on its own model (ctrl = target, model untouched, mj_step x 10) against the env; the
    reward recomputed by hand from HB's readouts (stale: no mj_forward after stepping)."""
    env = H1Env("walk", model_path=hb_model("walk"))
    env.reset(seed=3)
    m = mujoco.MjModel.from_xml_path(str(hb_model("walk")))
    d = mujoco.MjData(m)
    d.qpos[:], d.qvel[:] = env.sim.data.qpos, env.sim.data.qvel
    mujoco.mj_forward(m, d)
    rng = np.random.default_rng(0)
    for _ in range(25):
        a = np.clip(HOME_ACTION + rng.normal(0, 0.1, 19), -1, 1)
        _, reward, *_ = env.step(a)
        d.ctrl[:] = (a + 1) / 2 * (m.actuator_ctrlrange[:, 1] - m.actuator_ctrlrange[:, 0]) + m.actuator_ctrlrange[:, 0]
        mujoco.mj_step(m, d, nstep=10)
        np.testing.assert_array_equal(env.sim.data.qpos, d.qpos)
        np.testing.assert_array_equal(env.sim.data.qvel, d.qvel)
        standing = tolerance(d.site("head").xpos[2], (1.65, float("inf")), 1.65 / 4)
        upright = tolerance(d.body("torso_link").xmat[8], (0.9, float("inf")), 1.9, "linear", 0)
        small = (4 + tolerance(d.actuator_force, margin=10, sigmoid="quadratic", value_at_margin=0).mean()) / 5
        move = (5 * tolerance(d.sensor("pelvis_subtreelinvel").data[0], (1, float("inf")), 1, "linear", 0) + 1) / 6
        assert reward == small * (standing * upright) * move


# -- stepping: staleness, termination, truncation, success bars ------------------------------------------------

def test_reward_reads_the_last_substeps_forward_pass():
    env = H1Env("stand")
    env.reset(seed=0)
    for _ in range(5):
        _, reward, *_ = env.step(HOME_ACTION + 0.2)
    stale_head = env.sim.head_height()
    fresh = mujoco.MjData(env.sim.model)
    fresh.qpos[:], fresh.qvel[:], fresh.ctrl[:] = env.sim.data.qpos, env.sim.data.qvel, env.sim.data.ctrl
    mujoco.mj_forward(env.sim.model, fresh)
    assert abs(fresh.site("head").xpos[2] - stale_head) > 1e-6  # no mj_forward after the substeps
    assert reward == task_reward(TASKS["stand"], env.sim)[0]


def _set_root(sim: H1Sim, xyz, quat=(1, 0, 0, 0)):
    qpos = sim.model.key_qpos[sim.keyframe].copy()
    qpos[:3], qpos[3:7] = xyz, quat
    sim.set_state(qpos, np.zeros(sim.model.nv))
    return qpos


def test_flat_termination_is_pelvis_height_only():
    sim = H1Sim(scene_path("h1_flat"))
    sim.reset_keyframe()
    assert sim.data.ncon > 0 and not task_terminated(TASKS["stand"], sim)  # feet on the floor are fine
    _set_root(sim, (0, 0, 0.21))
    assert not task_terminated(TASKS["walk"], sim)
    _set_root(sim, (0, 0, 0.19))
    assert all(task_terminated(TASKS[t], sim) for t in ("stand", "walk", "run"))


def _contact_names(sim: H1Sim) -> set[tuple[str, str]]:
    return {tuple(sorted((sim.model.geom(int(a)).name, sim.model.geom(int(b)).name)))
            for a, b in sim.contact_geom_pairs()}


@pytest.mark.parametrize("label,path", [s for s in scenes() if "balance" in s[0]])
def test_balance_simple_termination(label, path):
    task = TASKS["balance_simple"]
    sim = H1Sim(path)
    sim.reset_keyframe()
    assert ("pivot_sphere_collision", "stand_board_collision") in _contact_names(sim)
    assert not task_terminated(task, sim)
    key = sim.model.key_qpos[sim.keyframe].copy()

    # pelvis below 0.8
    qpos = key.copy()
    qpos[2] = 0.79
    sim.set_state(qpos, np.zeros(sim.model.nv))
    assert task_terminated(task, sim)

    # the robot standing on the floor beside the board: a floor contact without the sphere
    qpos = key.copy()
    qpos[:3] = (1.5, 0, 0.98)
    sim.set_state(qpos, np.zeros(sim.model.nv))
    assert any("floor" in pair and "pivot_sphere_collision" not in pair for pair in _contact_names(sim))
    assert task_terminated(task, sim)

    # the board on the floor, the robot in the air
    qpos = key.copy()
    qpos[2] = 3.0
    qpos[26:29] = (0, 2.0, 0.029)
    sim.set_state(qpos, np.zeros(sim.model.nv))
    assert ("floor", "stand_board_collision") in _contact_names(sim)
    assert task_terminated(task, sim)

    # the robot's left foot on the sphere, the board away: a sphere contact with neither floor nor board
    qpos = key.copy()
    qpos[26:29] = (5.0, 5.0, 3.0)
    sim.set_state(qpos, np.zeros(sim.model.nv))
    foot = sim.data.site("left_foot").xpos.copy()
    qpos[:2] -= foot[:2]
    for z in np.arange(1.6, 1.0, -0.005):
        qpos[2] = z
        sim.set_state(qpos, np.zeros(sim.model.nv))
        if any("pivot_sphere_collision" in pair for pair in _contact_names(sim)):
            break
    pairs = _contact_names(sim)
    assert pairs and all("pivot_sphere_collision" in p and "floor" not in p and "stand_board_collision" not in p
                         for p in pairs), pairs
    assert task_terminated(task, sim)


def test_success_bars_and_truncation():
    bars = {"stand": 800, "walk": 700, "run": 700, "balance_simple": 800}
    for task, bar in bars.items():
        assert TASKS[task].success_bar == bar
    env = H1Env("walk", max_episode_steps=3)
    _, info = env.reset(seed=0)
    assert info["success_bar"] == 700
    flags = [env.step(HOME_ACTION)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]
    assert H1Env("stand").max_episode_steps == 1000
    assert gym.make("H1Stand-v0").spec.max_episode_steps == 1000


# -- the motor-command path ------------------------------------------------------------------------------------

def test_step_command_with_hb_gains_equals_step():
    a_env, c_env = H1Env("walk"), H1Env("walk")
    a_env.reset(seed=5)
    c_env.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = np.clip(HOME_ACTION + rng.normal(0, 0.2, 19), -1, 1)
        out_a = a_env.step(a)
        out_c = c_env.step_command(MotorCommand(action_to_position(a), np.zeros(19), np.zeros(19), HB_KP, HB_KD))
        np.testing.assert_array_equal(out_a[0], out_c[0])
        assert out_a[1:4] == out_c[1:4]
        np.testing.assert_allclose(c_env.last_action, a, atol=1e-12)


def test_motor_law_with_a_general_command_clamps_at_the_effort_limit():
    sim = H1Sim(scene_path("h1_flat"))
    sim.reset_keyframe()
    rng = np.random.default_rng(2)
    qpos = sim.data.qpos.copy()
    qpos[sim.qpos_adr] += rng.uniform(-0.2, 0.2, 19)
    qvel = np.zeros(sim.model.nv)
    qvel[sim.qvel_adr] = rng.uniform(-2, 2, 19)
    sim.set_state(qpos, qvel)
    cmd = MotorCommand(q=HOME_Q + rng.uniform(-0.3, 0.3, 19), dq=rng.uniform(-1, 1, 19),
                       tau=rng.uniform(-0.5, 0.5, 19) * EFFORT_LIMIT, kp=HB_KP * rng.uniform(0.5, 1.5, 19),
                       kd=HB_KD * rng.uniform(0.5, 2, 19))
    cmd.tau[[4, 13]] = [100.0, -50.0]  # beyond the ankle's 40 and the shoulder yaw's 18 N m
    apply_motor_command(sim.model, sim.data, cmd)
    mujoco.mj_forward(sim.model, sim.data)
    q, dq = sim.joint_positions(), sim.joint_velocities()
    expected = np.clip(cmd.kp * (cmd.q - q) + cmd.kd * (cmd.dq - dq) + cmd.tau, -EFFORT_LIMIT, EFFORT_LIMIT)
    np.testing.assert_allclose(sim.data.actuator_force, expected, rtol=1e-12, atol=1e-9)
    assert sim.data.actuator_force[4] == 40.0 and sim.data.actuator_force[13] == -18.0


# -- robot state and observation terms -------------------------------------------------------------------------

def test_robot_state_reads_the_motors_and_the_imu():
    env = H1Env("stand")
    env.reset(seed=0)
    for k in range(1, 4):
        env.step(HOME_ACTION)
        s = env.robot_state()
        assert s.tick == 10 * k  # physics substeps since reset
    d = env.sim.data
    np.testing.assert_array_equal(s.q, d.qpos[7:26])
    np.testing.assert_array_equal(s.dq, d.qvel[6:25])
    np.testing.assert_array_equal(s.tau_est, d.actuator_force)
    np.testing.assert_array_equal(s.imu_quat, d.sensor("imu_quat").data)
    np.testing.assert_array_equal(s.imu_gyro, d.sensor("imu_gyro").data)
    np.testing.assert_array_equal(s.imu_acc, d.sensor("imu_acc").data)
    assert np.linalg.norm(s.imu_quat) == pytest.approx(1.0, abs=1e-12)
    # the site-based IMU used for HB's sensorless scenes agrees with the sensors
    sensors = env.sim.imu()
    env.sim.imu_adr = None
    site_based = env.sim.imu()
    np.testing.assert_allclose(site_based[0] * np.sign(site_based[0][0] * sensors[0][0]), sensors[0], atol=1e-12)
    np.testing.assert_allclose(site_based[1], sensors[1], atol=1e-10)
    # its accelerometer recomputes cacc with the post-step qvel (the sensor used the pre-step one): O(h qacc)
    np.testing.assert_allclose(site_based[2], sensors[2], rtol=1e-2, atol=0.05)


def test_projected_gravity():
    env = H1Env("stand", obs_terms=["projected_gravity", "projected_gravity_pelvis"], reset_noise=0.0)
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs, [0, 0, -1, 0, 0, -1], atol=1e-12)  # upright home pose
    obs, _ = H1Env("stand", obs_terms=["projected_gravity"]).reset(seed=1)
    np.testing.assert_allclose(obs, [0, 0, -1], atol=0.05)  # the reset noise tilts it by < 0.01 rad per axis
    # a tilted robot: R^T (0, 0, -1) from MuJoCo's imu site frame
    sim = env.sim
    quat = np.array([0.9, 0.2, -0.3, 0.25])
    _set_root(sim, (0, 0, 2.0), quat / np.linalg.norm(quat))
    expected = sim.data.site("imu").xmat.reshape(3, 3).T @ np.array([0.0, 0.0, -1.0])
    np.testing.assert_allclose(projected_gravity(sim.robot_state().imu_quat), expected, atol=1e-12)


def test_pelvis_frame_terms_match_mujocos_pelvis_while_the_torso_turns():
    env = H1Env("stand", obs_terms=["projected_gravity_pelvis", "angular_velocity_pelvis"])
    sim = env.sim
    rng = np.random.default_rng(4)
    for q_torso, dq_torso in [(0.0, 0.0), (0.7, 1.3), (-1.9, -2.5), (2.3, 0.4)]:
        qpos = sim.model.key_qpos[sim.keyframe].copy()
        quat = rng.normal(size=4)
        qpos[3:7] = quat / np.linalg.norm(quat)
        qpos[7 + 10] = q_torso
        qvel = rng.normal(size=sim.model.nv)
        qvel[6 + 10] = dq_torso
        sim.set_state(qpos, qvel)  # mj_forward: sensors and pelvis pose from the same state
        obs = env._observation()
        pelvis_rot = sim.data.body("pelvis").xmat.reshape(3, 3)
        np.testing.assert_allclose(obs[:3], pelvis_rot.T @ np.array([0.0, 0.0, -1.0]), atol=1e-12)
        pelvis_vel = np.zeros(6)
        mujoco.mj_objectVelocity(sim.model, sim.data, mujoco.mjtObj.mjOBJ_XBODY, sim.pelvis_body, pelvis_vel, 1)
        np.testing.assert_allclose(obs[3:], pelvis_vel[:3], atol=1e-10)
        np.testing.assert_allclose(obs[3:], qvel[3:6], atol=1e-10)  # the free joint's local angular velocity


def test_real_robot_terms():
    for name, term in OBSERVATION_TERMS.items():
        assert term.sim_only == (name in ("qpos", "qvel")), name
    env = H1Env("walk", obs_terms=REAL_ROBOT_TERMS)
    sizes = dict(zip(REAL_ROBOT_TERMS, env.layout.sizes))
    assert sizes == {"projected_gravity": 3, "imu_angular_velocity": 3, "projected_gravity_pelvis": 3,
                     "angular_velocity_pelvis": 3, "joint_positions": 19, "joint_velocities": 19, "last_action": 19,
                     "velocity_command": 3, "gait_phase": 2, "time_since_start": 1}
    offsets = dict(zip(REAL_ROBOT_TERMS, np.cumsum([0, *env.layout.sizes[:-1]])))

    def part(obs, name):
        return obs[offsets[name]:offsets[name] + sizes[name]]

    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(part(obs, "last_action"), np.zeros(19))
    np.testing.assert_array_equal(part(obs, "gait_phase"), [0.0, 1.0])
    np.testing.assert_array_equal(part(obs, "time_since_start"), [0.0])
    np.testing.assert_array_equal(part(obs, "velocity_command"), [1.0, 0.0, 0.0])
    a = np.clip(HOME_ACTION + 0.1, -1, 1)
    for k in range(1, 4):
        obs, *_ = env.step(a)
    s = env.robot_state()
    np.testing.assert_array_equal(part(obs, "last_action"), a)
    np.testing.assert_allclose(part(obs, "joint_positions"), s.q - HOME_Q)
    np.testing.assert_array_equal(part(obs, "joint_velocities"), s.dq)
    np.testing.assert_array_equal(part(obs, "imu_angular_velocity"), s.imu_gyro)
    phase = 2 * np.pi * 3 * 0.02 / 0.8
    np.testing.assert_allclose(part(obs, "gait_phase"), [np.sin(phase), np.cos(phase)], atol=1e-12)
    np.testing.assert_allclose(part(obs, "time_since_start"), [3 * 0.02 / 2.5], atol=1e-12)
    assert env.observation_space.shape == (sum(sizes.values()),)

    assert np.array_equal(H1Env("run", obs_terms=["velocity_command"]).reset()[0], [5.0, 0, 0])
    assert np.array_equal(H1Env("stand", obs_terms=["velocity_command"]).reset()[0], [0.0, 0, 0])
    assert np.array_equal(H1Env("walk", obs_terms=["velocity_command"], velocity_command=(0.5, 0.1, 0.2)).reset()[0],
                          [0.5, 0.1, 0.2])
    env = H1Env("stand", obs_terms=[{"name": "gait_phase", "params": {"period_s": 0.5}}])
    env.reset(seed=0)
    obs, *_ = env.step(HOME_ACTION)
    np.testing.assert_allclose(obs, [np.sin(2 * np.pi * 0.02 / 0.5), np.cos(2 * np.pi * 0.02 / 0.5)], atol=1e-12)
    env = H1Env("stand", obs_terms=[{"name": "time_since_start", "params": {"horizon_s": 0.05}}])
    env.reset(seed=0)
    assert [env.step(HOME_ACTION)[0][0] for _ in range(4)] == pytest.approx([0.4, 0.8, 1.0, 1.0])  # saturates
    with pytest.raises(ValueError, match="unknown observation term"):
        H1Env("stand", obs_terms=["base_height"])
    with pytest.raises(ValueError, match="no params"):
        H1Env("stand", obs_terms=[{"name": "gait_phase", "params": {"period": 1.0}}])


# -- registration and the manifest section ---------------------------------------------------------------------

def test_make_env_and_deployment_info():
    env = make_env("h1-walk", seed=0)
    assert isinstance(env, H1Env)  # already in [-1, 1]: no RescaleAction wrapper
    assert env.action_space.shape == (19,) and np.all(env.action_space.low == -1) and np.all(env.action_space.high == 1)
    info = deployment_info("h1-walk", env)
    assert info["robot"] == "h1" and info["task"] == "h1-walk" and info["control_rate_hz"] == 50.0
    assert info["joints"] == list(JOINT_NAMES)
    mapping = info["action_mapping"]
    assert mapping["target"] == "position"
    np.testing.assert_allclose(np.array(mapping["offset"]) + np.array(mapping["scale"]) * HOME_ACTION, HOME_Q,
                               atol=1e-12)
    assert info["pd_gains"] == {"kp": HB_KP.tolist(), "kd": HB_KD.tolist()}
    assert info["observation_terms"] == [{"name": "qpos", "size": 26, "sim_only": True},
                                         {"name": "qvel", "size": 25, "sim_only": True}]

    env = make_env("h1-stand", obs_terms=REAL_ROBOT_TERMS)
    terms = deployment_info("h1-stand", env)["observation_terms"]
    assert sum(t["size"] for t in terms) == env.observation_space.shape[0]
    assert not any(t["sim_only"] for t in terms)
    assert {t["name"]: t.get("params") for t in terms}["gait_phase"] == {"period_s": 0.8}

    gym_env = gym.make("H1BalanceSimple-v0")
    assert gym_env.observation_space.shape == (64,)
    assert deployment_info("H1BalanceSimple-v0", gym_env)["task"] == "h1-balance_simple"


def test_walk_variant_observes_the_last_action():
    env = make_env("h1-walk-last-action")
    info = deployment_info("h1-walk-last-action", env)
    assert info["task"] == "h1-walk"  # the runtime evaluates it on walk's reward
    assert [t["name"] for t in info["observation_terms"]] == ["qpos", "qvel", "last_action"]
    obs, _ = env.reset(seed=0)
    assert obs.shape == (70,) and np.all(obs[51:] == 0)
    action = np.linspace(-0.5, 0.5, 19)
    obs, reward, *_ = env.step(action)
    np.testing.assert_array_equal(obs[51:], action)
    plain = make_env("h1-walk")
    plain_obs, _ = plain.reset(seed=0)
    assert plain.step(action)[1] == reward  # the same task: the extra term changes nothing else
