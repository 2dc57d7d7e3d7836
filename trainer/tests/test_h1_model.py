"""Checks of the project's own Unitree H1 model (sim/) against docs/simulation.md and HumanoidBench.

The contract tests need only sim/. The comparison tests load HumanoidBench's mesh-collision model
from <repo root>/../shared/reference/humanoidbench and skip when it is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

mujoco = pytest.importorskip("mujoco")

REPO = Path(__file__).resolve().parents[2]
SIM = REPO / "sim"
FLAT = SIM / "h1_flat.xml"
BALANCE = SIM / "h1_balance_simple.xml"
HB_DIR = REPO.parent / "shared" / "reference" / "humanoidbench"
HB_STAND = HB_DIR / "assets" / "envs" / "h1_pos_stand.xml"
HB_BALANCE = HB_DIR / "assets" / "envs" / "h1_pos_balance_simple.xml"

# ---- the contract (docs/simulation.md) ---------------------------------------------------------

JOINTS = [
    "left_hip_yaw", "left_hip_roll", "left_hip_pitch", "left_knee", "left_ankle",
    "right_hip_yaw", "right_hip_roll", "right_hip_pitch", "right_knee", "right_ankle",
    "torso",
    "left_shoulder_pitch", "left_shoulder_roll", "left_shoulder_yaw", "left_elbow",
    "right_shoulder_pitch", "right_shoulder_roll", "right_shoulder_yaw", "right_elbow",
]
# kp, kv (HumanoidBench's classes) and effort limit (H1 URDF), per joint
_GAINS = {
    "hip": (200.0, 5.0, 200.0), "knee": (300.0, 6.0, 300.0), "ankle": (40.0, 2.0, 40.0),
    "torso": (300.0, 6.0, 200.0), "shoulder_pr": (100.0, 2.0, 40.0), "arm18": (100.0, 2.0, 18.0),
}


def _joint_class(name: str) -> str:
    if "hip" in name:
        return "hip"
    if "knee" in name:
        return "knee"
    if "ankle" in name:
        return "ankle"
    if name == "torso":
        return "torso"
    if "shoulder_pitch" in name or "shoulder_roll" in name:
        return "shoulder_pr"
    return "arm18"


KP = np.array([_GAINS[_joint_class(j)][0] for j in JOINTS])
KV = np.array([_GAINS[_joint_class(j)][1] for j in JOINTS])
EFFORT = np.array([_GAINS[_joint_class(j)][2] for j in JOINTS])

ROBOT_BODIES = [
    "pelvis",
    "left_hip_yaw_link", "left_hip_roll_link", "left_hip_pitch_link", "left_knee_link", "left_ankle_link",
    "right_hip_yaw_link", "right_hip_roll_link", "right_hip_pitch_link", "right_knee_link", "right_ankle_link",
    "torso_link",
    "left_shoulder_pitch_link", "left_shoulder_roll_link", "left_shoulder_yaw_link", "left_elbow_link", "left_hand",
    "right_shoulder_pitch_link", "right_shoulder_roll_link", "right_shoulder_yaw_link", "right_elbow_link",
    "right_hand",
]
# compiled order (MuJoCo orders sites by body); parent body and position per the contract
SITES = {
    "com": ("pelvis", (0.0, 0.0, 0.0)),
    "left_foot": ("left_ankle_link", (0.0, 0.0, -0.05)),
    "right_foot": ("right_ankle_link", (0.0, 0.0, -0.05)),
    "head": ("torso_link", (0.0, 0.0, 0.7)),
    "imu": ("torso_link", (-0.04452, -0.01891, 0.27756)),
    "left_hand": ("left_elbow_link", (0.31, 0.0, -0.01)),
    "right_hand": ("right_elbow_link", (0.31, 0.0, -0.01)),
}
S = mujoco.mjtSensor
SENSORS = [  # name, type, dim
    ("left_foot_sensor", S.mjSENS_TOUCH, 1),
    ("right_foot_sensor", S.mjSENS_TOUCH, 1),
    ("pelvis_subtreelinvel", S.mjSENS_SUBTREELINVEL, 3),
    ("left_hand_subtreelinvel", S.mjSENS_SUBTREELINVEL, 3),
    ("right_hand_subtreelinvel", S.mjSENS_SUBTREELINVEL, 3),
    ("body_velocimeter", S.mjSENS_VELOCIMETER, 3),
    ("imu_quat", S.mjSENS_FRAMEQUAT, 4),
    ("imu_gyro", S.mjSENS_GYRO, 3),
    ("imu_acc", S.mjSENS_ACCELEROMETER, 3),
]
HOME_JOINTS = np.array([0, 0, -0.4, 0.8, -0.4] * 2 + [0.0] * 9)
HOME_FLAT = np.concatenate([[0, 0, 0.98, 1, 0, 0, 0], HOME_JOINTS])
HOME_BALANCE = np.concatenate([[-0.1, 0, 1.38, 1, 0, 0, 0], HOME_JOINTS, [0, 0, 0.37, 1, 0, 0, 0]])

SCENES = {
    "flat": dict(path=FLAT, nq=26, nv=25, home=HOME_FLAT,
                 extra_bodies=[], extra_joints=[]),
    "balance_simple": dict(path=BALANCE, nq=33, nv=31, home=HOME_BALANCE,
                           extra_bodies=["stand_board", "rolling_pivot"], extra_joints=["free_stand_board"]),
}

SUBSTEPS = 10  # HumanoidBench's frame_skip: one control step = 10 physics steps of 2 ms


# ---- helpers -----------------------------------------------------------------------------------

def _names(m, objtype, n):
    return [mujoco.mj_id2name(m, objtype, i) for i in range(n)]


def _bid(m, name):
    return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)


def _reset_home(m, d, key=0):
    mujoco.mj_resetDataKeyframe(m, d, key)
    mujoco.mj_forward(m, d)


def _need_hb(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"HumanoidBench reference files not found at {path}")


def _rot(q):
    r = np.zeros(9)
    mujoco.mju_quat2Mat(r, np.asarray(q, dtype=float))
    return r.reshape(3, 3)


def _support(m, g, e):
    """max over geom g of e . p, p in its body frame (exact for primitives, vertices for meshes)."""
    c, r, s, t = m.geom_pos[g], _rot(m.geom_quat[g]), m.geom_size[g], m.geom_type[g]
    if t == mujoco.mjtGeom.mjGEOM_MESH:
        mid = m.geom_dataid[g]
        a, n = m.mesh_vertadr[mid], m.mesh_vertnum[mid]
        return float((m.mesh_vert[a:a + n] @ r.T + c).dot(e).max())
    el = r.T @ e
    if t == mujoco.mjtGeom.mjGEOM_SPHERE:
        return float(c @ e + s[0])
    if t == mujoco.mjtGeom.mjGEOM_CAPSULE:
        return float(c @ e + s[0] + s[1] * abs(el[2]))
    if t == mujoco.mjtGeom.mjGEOM_CYLINDER:
        return float(c @ e + s[0] * np.sqrt(max(0.0, 1 - el[2] ** 2)) + s[1] * abs(el[2]))
    if t == mujoco.mjtGeom.mjGEOM_BOX:
        return float(c @ e + np.abs(el) @ s[:3])
    raise ValueError(f"unexpected geom type {t}")


def _collision_extent(m, body):
    """(min xyz, max xyz) of the body's collidable geoms in the body frame."""
    b = _bid(m, body)
    gs = [g for g in range(m.ngeom) if m.geom_bodyid[g] == b and (m.geom_contype[g] or m.geom_conaffinity[g])]
    eye = np.eye(3)
    hi = np.array([max(_support(m, g, eye[i]) for g in gs) for i in range(3)])
    lo = np.array([-max(_support(m, g, -eye[i]) for g in gs) for i in range(3)])
    return lo, hi


def _steps_until_fall(m, ctrl, key=0, max_steps=200, z_min=0.2):
    """Open loop from the keyframe: hold ctrl, 10 substeps per control step. Control step at which
    the pelvis first drops below z_min (HumanoidBench's stand termination), or None."""
    d = mujoco.MjData(m)
    _reset_home(m, d, key)
    for step in range(1, max_steps + 1):
        d.ctrl[:] = ctrl
        mujoco.mj_step(m, d, nstep=SUBSTEPS)
        if d.qpos[2] < z_min:
            return step
    return None


def _balance_termination(m, ctrl, max_steps=200):
    """balance_simple termination (humanoidbench.md section 4) while holding ctrl from the keyframe."""
    d = mujoco.MjData(m)
    _reset_home(m, d)
    sphere = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, "pivot_sphere_collision")
    board = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, "stand_board_collision")
    for step in range(1, max_steps + 1):
        d.ctrl[:] = ctrl
        mujoco.mj_step(m, d, nstep=SUBSTEPS)
        if d.qpos[2] < 0.8:
            return step
        for c in d.contact[: d.ncon]:
            pair = {c.geom1, c.geom2}
            if sphere in pair and not (pair - {sphere}) <= {0, board}:
                return step
            if 0 in pair and sphere not in pair:
                return step
    return None


@pytest.fixture(scope="module")
def flat():
    return mujoco.MjModel.from_xml_path(str(FLAT))


@pytest.fixture(scope="module")
def balance():
    return mujoco.MjModel.from_xml_path(str(BALANCE))


@pytest.fixture(scope="module")
def hb():
    _need_hb(HB_STAND)
    return mujoco.MjModel.from_xml_path(str(HB_STAND))


@pytest.fixture(scope="module")
def hb_balance():
    _need_hb(HB_BALANCE)
    return mujoco.MjModel.from_xml_path(str(HB_BALANCE))


# ---- 1. the contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("scene", list(SCENES))
def test_scene_matches_contract(scene):
    spec = SCENES[scene]
    m = mujoco.MjModel.from_xml_path(str(spec["path"]))
    O = mujoco.mjtObj
    assert (m.nq, m.nv, m.nu) == (spec["nq"], spec["nv"], 19)

    assert _names(m, O.mjOBJ_JOINT, m.njnt) == ["free_base"] + JOINTS + spec["extra_joints"]
    for i, j in enumerate(JOINTS):
        jid = i + 1
        assert m.jnt_type[jid] == mujoco.mjtJoint.mjJNT_HINGE
        assert m.jnt_qposadr[jid] == 7 + i and m.jnt_dofadr[jid] == 6 + i
    assert _names(m, O.mjOBJ_ACTUATOR, m.nu) == JOINTS
    assert list(m.actuator_trnid[:, 0]) == list(range(1, 20))
    assert _names(m, O.mjOBJ_BODY, m.nbody) == ["world"] + ROBOT_BODIES + spec["extra_bodies"]
    assert _names(m, O.mjOBJ_SITE, m.nsite) == list(SITES)
    for name, (body, pos) in SITES.items():
        s = mujoco.mj_name2id(m, O.mjOBJ_SITE, name)
        assert mujoco.mj_id2name(m, O.mjOBJ_BODY, m.site_bodyid[s]) == body
        np.testing.assert_allclose(m.site_pos[s], pos, atol=1e-9)
        np.testing.assert_allclose(m.site_quat[s], [1, 0, 0, 0], atol=1e-9)  # frames aligned with the body

    assert _names(m, O.mjOBJ_SENSOR, m.nsensor) == [n for n, _, _ in SENSORS]
    for i, (_, typ, dim) in enumerate(SENSORS):
        assert m.sensor_type[i] == typ and m.sensor_dim[i] == dim
    imu = mujoco.mj_name2id(m, O.mjOBJ_SITE, "imu")
    for name in ("imu_quat", "imu_gyro", "imu_acc"):
        s = mujoco.mj_name2id(m, O.mjOBJ_SENSOR, name)
        assert m.sensor_objtype[s] == O.mjOBJ_SITE and m.sensor_objid[s] == imu

    # actuators: the motor law's parameters with HumanoidBench's default gains
    np.testing.assert_array_equal(m.actuator_gaintype, mujoco.mjtGain.mjGAIN_FIXED)
    np.testing.assert_array_equal(m.actuator_biastype, mujoco.mjtBias.mjBIAS_AFFINE)
    np.testing.assert_array_equal(m.actuator_ctrllimited, 0)
    np.testing.assert_array_equal(m.actuator_forcelimited, 1)
    np.testing.assert_array_equal(m.actuator_gear[:, 0], 1)
    np.testing.assert_allclose(m.actuator_gainprm[:, 0], KP)
    np.testing.assert_allclose(m.actuator_biasprm[:, :3], np.stack([0 * KP, -KP, -KV], axis=1))
    np.testing.assert_allclose(m.actuator_forcerange, np.stack([-EFFORT, EFFORT], axis=1))

    assert mujoco.mj_id2name(m, O.mjOBJ_GEOM, 0) == "floor"
    assert m.geom_type[0] == mujoco.mjtGeom.mjGEOM_PLANE
    if scene == "balance_simple":
        board = mujoco.mj_name2id(m, O.mjOBJ_GEOM, "stand_board_collision")
        np.testing.assert_allclose(m.geom_size[board], [0.15, 0.55, 0.03])
        assert m.body_jntnum[_bid(m, "stand_board")] == 1 and m.body_jntnum[_bid(m, "rolling_pivot")] == 0
        sphere = mujoco.mj_name2id(m, O.mjOBJ_GEOM, "pivot_sphere_collision")
        assert m.geom_type[sphere] == mujoco.mjtGeom.mjGEOM_SPHERE and m.geom_size[sphere][0] == 0.17
        np.testing.assert_allclose(m.body_pos[_bid(m, "rolling_pivot")], [0, 0, 0.17])

    key = mujoco.mj_name2id(m, O.mjOBJ_KEY, "home")
    assert key == 0
    np.testing.assert_allclose(m.key_qpos[key], spec["home"])
    np.testing.assert_allclose(m.key_qvel[key], 0)

    opt = m.opt
    assert opt.timestep == 0.002
    assert opt.solver == mujoco.mjtSolver.mjSOL_NEWTON
    assert opt.iterations == 100 and opt.ls_iterations == 50
    assert opt.integrator == mujoco.mjtIntegrator.mjINT_EULER
    assert not (opt.disableflags & mujoco.mjtDisableBit.mjDSBL_EULERDAMP)
    np.testing.assert_allclose(opt.gravity, [0, 0, -9.81])

    # joints: HB's damping / armature; ranges are checked against HB below and against the URDF here
    np.testing.assert_allclose(m.dof_damping[6:25], 1.0)
    np.testing.assert_allclose(m.dof_armature[6:25], 0.1)
    assert m.nmesh == 0  # primitive collision shapes only


def test_no_files_referenced_but_the_robot_include():
    for f in (SIM / "h1.xml", FLAT, BALANCE):
        text = f.read_text()
        assert "<mesh" not in text and "<hfield" not in text
        assert re.findall(r'file="([^"]*)"', text) == ([] if f.name == "h1.xml" else ["h1.xml"])


def test_joint_ranges_are_the_h1_urdf_limits(flat):
    urdf = {  # h1-interface-and-runtimes.md section A12
        "hip_yaw": (-0.43, 0.43), "hip_roll": (-0.43, 0.43), "hip_pitch": (-3.14, 2.53),
        "knee": (-0.26, 2.05), "ankle": (-0.87, 0.52), "shoulder_pitch": (-2.87, 2.87), "elbow": (-1.25, 2.61),
        "left_shoulder_roll": (-0.34, 3.11), "right_shoulder_roll": (-3.11, 0.34),
        "left_shoulder_yaw": (-1.3, 4.45), "right_shoulder_yaw": (-4.45, 1.3), "torso": (-2.35, 2.35),
    }
    for i, j in enumerate(JOINTS):
        key = j if j in urdf else j.split("_", 1)[1]
        assert flat.jnt_limited[i + 1]
        np.testing.assert_allclose(flat.jnt_range[i + 1], urdf[key], err_msg=j)


# ---- 2. the transcription, against HumanoidBench's compiled model ------------------------------

def test_inertial_and_kinematic_figures_match_humanoidbench(flat, hb):
    pel_ours, pel_hb = _bid(flat, "pelvis"), _bid(hb, "pelvis")
    m_ours, m_hb = flat.body_subtreemass[pel_ours], hb.body_subtreemass[pel_hb]
    assert abs(m_ours - m_hb) <= 0.02 * m_hb, (m_ours, m_hb)

    for name in ROBOT_BODIES:
        a, b = _bid(flat, name), _bid(hb, name)
        assert b >= 0, name
        assert flat.body_mass[a] == pytest.approx(hb.body_mass[b], abs=1e-9), name
        np.testing.assert_allclose(flat.body_inertia[a], hb.body_inertia[b], atol=1e-9, err_msg=name)
        np.testing.assert_allclose(flat.body_ipos[a], hb.body_ipos[b], atol=1e-9, err_msg=name)
        np.testing.assert_allclose(flat.body_iquat[a], hb.body_iquat[b], atol=1e-6, err_msg=name)
        np.testing.assert_allclose(flat.body_quat[a], hb.body_quat[b], atol=1e-9, err_msg=name)
        assert mujoco.mj_id2name(flat, mujoco.mjtObj.mjOBJ_BODY, flat.body_parentid[a]) == \
            mujoco.mj_id2name(hb, mujoco.mjtObj.mjOBJ_BODY, hb.body_parentid[b]), name
        if name != "pelvis":  # the root's rest height is arbitrary (HB 2.7, ours 1.045); keyframes set it
            np.testing.assert_allclose(flat.body_pos[a], hb.body_pos[b], atol=1e-9, err_msg=name)

    for j in JOINTS:
        a = mujoco.mj_name2id(flat, mujoco.mjtObj.mjOBJ_JOINT, j)
        b = mujoco.mj_name2id(hb, mujoco.mjtObj.mjOBJ_JOINT, j)
        np.testing.assert_allclose(flat.jnt_range[a], hb.jnt_range[b], err_msg=j)
        np.testing.assert_allclose(flat.jnt_axis[a], hb.jnt_axis[b], err_msg=j)
        np.testing.assert_allclose(flat.jnt_pos[a], hb.jnt_pos[b], err_msg=j)
        da, db = flat.jnt_dofadr[a], hb.jnt_dofadr[b]
        assert flat.dof_damping[da] == hb.dof_damping[db] and flat.dof_armature[da] == hb.dof_armature[db], j

    for name in SITES:
        a = mujoco.mj_name2id(flat, mujoco.mjtObj.mjOBJ_SITE, name)
        b = mujoco.mj_name2id(hb, mujoco.mjtObj.mjOBJ_SITE, name)
        np.testing.assert_allclose(flat.site_pos[a], hb.site_pos[b], atol=1e-9, err_msg=name)
        assert mujoco.mj_id2name(flat, mujoco.mjtObj.mjOBJ_BODY, flat.site_bodyid[a]) == \
            mujoco.mj_id2name(hb, mujoco.mjtObj.mjOBJ_BODY, hb.site_bodyid[b]), name

    # same world poses at the keyframe (sites, bodies)
    da, db = mujoco.MjData(flat), mujoco.MjData(hb)
    _reset_home(flat, da)
    _reset_home(hb, db)
    for name in SITES:
        np.testing.assert_allclose(da.site(name).xpos, db.site(name).xpos, atol=1e-9, err_msg=name)


def test_actuators_match_humanoidbench(flat, hb):
    for i, j in enumerate(JOINTS):
        b = mujoco.mj_name2id(hb, mujoco.mjtObj.mjOBJ_ACTUATOR, j)
        kp, kv = hb.actuator_gainprm[b, 0], -hb.actuator_biasprm[b, 2]
        assert hb.actuator_biasprm[b, 1] == -kp
        assert flat.actuator_gainprm[i, 0] == kp and flat.actuator_biasprm[i, 1] == -kp, j
        assert flat.actuator_biasprm[i, 2] == -kv and flat.actuator_biasprm[i, 0] == 0, j
        np.testing.assert_array_equal(flat.actuator_forcerange[i], hb.actuator_forcerange[b], err_msg=j)
        assert hb.actuator_forcelimited[b] and flat.actuator_forcelimited[i]


def test_options_match_humanoidbench(flat, hb):
    for field in ("timestep", "iterations", "ls_iterations", "solver", "integrator", "cone",
                  "disableflags", "enableflags", "impratio", "tolerance"):
        assert getattr(flat.opt, field) == getattr(hb.opt, field), field
    np.testing.assert_array_equal(flat.opt.gravity, hb.opt.gravity)


def test_collision_shapes_cover_the_mesh_extents(flat, hb):
    """Each link's primitive shapes span what HB's mesh spans (per axis, in the link frame).

    The soles must match exactly (support polygon and sole height). Elsewhere the primitives are
    within 8 mm of the mesh extents; the ankle link's top (the narrow apex under the ankle axis) is
    left 16 mm short on purpose: it sits inside the shin and touches nothing."""
    for foot in ("left_ankle_link", "right_ankle_link"):
        lo, hi = _collision_extent(flat, foot)
        hlo, hhi = _collision_extent(hb, foot)
        np.testing.assert_allclose([lo[0], hi[0], lo[1], hi[1], lo[2]],
                                   [hlo[0], hhi[0], hlo[1], hhi[1], hlo[2]], atol=1e-3, err_msg=foot)
    for name in ROBOT_BODIES:
        if name in ("left_hand", "right_hand"):
            continue
        lo, hi = _collision_extent(flat, name)
        hlo, hhi = _collision_extent(hb, name)
        tol = np.full((2, 3), 0.008)
        if "ankle" in name:
            tol[1, 2] = 0.017
        err = np.abs(np.stack([lo - hlo, hi - hhi]))
        assert (err <= tol).all(), (name, np.round(err * 1000, 1))


def _contact_pairs(m, joint_sets):
    """Per joint configuration (base lifted clear of the floor): the set of touching body pairs."""
    d = mujoco.MjData(m)
    out = []
    for q in joint_sets:
        d.qpos[:] = 0
        d.qpos[2], d.qpos[3] = 5.0, 1.0
        d.qpos[7:26] = q
        mujoco.mj_forward(m, d)
        out.append(frozenset(
            tuple(sorted((mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, m.geom_bodyid[c.geom1]),
                          mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_BODY, m.geom_bodyid[c.geom2]))))
            for c in d.contact[: d.ncon]))
    return out


@pytest.mark.parametrize("spread, min_identical", [("near_home", 0.85), ("full_range", 0.75)])
def test_self_collisions_match_humanoidbench(flat, hb, spread, min_identical):
    """Same link pairs touch as with HB's meshes (no contact excludes in either model).

    Measured on 1000 poses: identical contact-pair sets in 90 % of poses within +-0.5 rad of home
    and 81 % over the full joint ranges; no frequent pair differs by more than 24 % in count."""
    rng = np.random.default_rng(0)
    lo, hi = flat.jnt_range[1:, 0], flat.jnt_range[1:, 1]
    if spread == "near_home":
        qs = np.clip(HOME_JOINTS + rng.uniform(-0.5, 0.5, (1000, 19)), lo, hi)
    else:
        qs = rng.uniform(lo, hi, (1000, 19))
    ours, theirs = _contact_pairs(flat, qs), _contact_pairs(hb, qs)
    identical = np.mean([a == b for a, b in zip(ours, theirs)])
    assert identical >= min_identical, identical
    count_ours = {}
    count_hb = {}
    for a, b in zip(ours, theirs):
        for p in a:
            count_ours[p] = count_ours.get(p, 0) + 1
        for p in b:
            count_hb[p] = count_hb.get(p, 0) + 1
    for pair, n in count_hb.items():
        if n >= 30:
            assert abs(count_ours.get(pair, 0) - n) <= 0.3 * n, (pair, n, count_ours.get(pair, 0))
    for pair, n in count_ours.items():
        assert n < 30 or count_hb.get(pair, 0) > 0, ("only in ours", pair, n)


def _onset(m, joint, pair, values):
    """First joint value (others at 0) at which the two bodies touch, or None."""
    i = JOINTS.index(joint)
    for v in values:
        q = np.zeros(19)
        q[i] = v
        if tuple(sorted(pair)) in _contact_pairs(m, [q])[0]:
            return v
    return None


@pytest.mark.parametrize("joint, pair, values", [
    # thigh against the hip-yaw cylinder when the leg swings back (HB: +0.37 rad)
    ("left_hip_pitch", ("left_hip_pitch_link", "left_hip_yaw_link"), np.arange(0.0, 1.0, 0.005)),
    ("right_hip_pitch", ("right_hip_pitch_link", "right_hip_yaw_link"), np.arange(0.0, 1.0, 0.005)),
    # shoulder motor against the trunk when the arm swings in (HB: -0.046 rad)
    ("left_shoulder_roll", ("left_shoulder_roll_link", "torso_link"), np.arange(0.0, -0.34, -0.005)),
    ("right_shoulder_roll", ("right_shoulder_roll_link", "torso_link"), np.arange(0.0, 0.34, 0.005)),
    # forearm against the thigh with the elbow bent (HB: 1.08 rad)
    ("left_elbow", ("left_elbow_link", "left_hip_pitch_link"), np.arange(0.0, 2.6, 0.01)),
])
def test_contact_onset_angles_match_humanoidbench(flat, hb, joint, pair, values):
    ours, theirs = _onset(flat, joint, pair, values), _onset(hb, joint, pair, values)
    assert theirs is not None and ours is not None, (ours, theirs)
    assert abs(ours - theirs) <= 0.03, (ours, theirs)


# ---- 3. the motor law --------------------------------------------------------------------------

def test_motor_law_matches_the_contract(flat):
    """ctrl = q*, gainprm0 = kp, biasprm = (kd dq* + tau_ff, -kp, -kd) gives
    clip(kp (q* - q) + kd (dq* - dq) + tau_ff, effort) in data.actuator_force."""
    m = mujoco.MjModel.from_xml_path(str(FLAT))  # private copy: the test edits gainprm / biasprm
    d = mujoco.MjData(m)
    rng = np.random.default_rng(7)
    lo, hi = m.jnt_range[1:, 0], m.jnt_range[1:, 1]
    clamped = unclamped = 0
    for trial in range(40):
        _reset_home(m, d)
        d.qpos[7:26] = rng.uniform(lo, hi)
        d.qvel[6:25] = rng.normal(0, 2, 19)
        i = trial % 19
        q_star = rng.uniform(lo[i], hi[i])
        dq_star = rng.normal(0, 1)
        kp = rng.uniform(0, 400)
        kd = rng.uniform(0, 10)
        tau_ff = rng.normal(0, EFFORT[i] / 2) if trial % 4 else EFFORT[i] * 3  # some far past the limit
        d.ctrl[:] = d.qpos[7:26]
        d.ctrl[i] = q_star
        m.actuator_gainprm[i, 0] = kp
        m.actuator_biasprm[i, 0] = kd * dq_star + tau_ff
        m.actuator_biasprm[i, 1] = -kp
        m.actuator_biasprm[i, 2] = -kd
        mujoco.mj_forward(m, d)
        q, dq = d.qpos[7 + i], d.qvel[6 + i]
        raw = kp * (q_star - q) + kd * (dq_star - dq) + tau_ff
        want = np.clip(raw, -EFFORT[i], EFFORT[i])
        assert d.actuator_force[i] == pytest.approx(want, rel=1e-9, abs=1e-9), (JOINTS[i], raw)
        assert d.qfrc_actuator[6 + i] == pytest.approx(want, rel=1e-9, abs=1e-9)
        if abs(raw) > EFFORT[i]:
            clamped += 1
        else:
            unclamped += 1
    assert clamped >= 5 and unclamped >= 5


def test_default_gains_are_humanoidbench_position_servo(flat, hb):
    """With the defaults, ctrl = a HumanoidBench target gives HB's actuator force."""
    da, db = mujoco.MjData(flat), mujoco.MjData(hb)
    rng = np.random.default_rng(3)
    for _ in range(5):
        q = rng.uniform(hb.jnt_range[1:, 0], hb.jnt_range[1:, 1])
        dq = rng.normal(0, 2, 19)
        target = rng.uniform(hb.actuator_ctrlrange[:, 0], hb.actuator_ctrlrange[:, 1])
        for m, d in ((flat, da), (hb, db)):
            _reset_home(m, d)
            d.qpos[7:26], d.qvel[6:25], d.ctrl[:] = q, dq, target
            mujoco.mj_forward(m, d)
        np.testing.assert_allclose(da.actuator_force, db.actuator_force, rtol=1e-12, atol=1e-9)


# ---- 4. physical sanity ------------------------------------------------------------------------

def _foot_geoms(m):
    feet = {_bid(m, "left_ankle_link"), _bid(m, "right_ankle_link")}
    return {g for g in range(m.ngeom) if m.geom_bodyid[g] in feet and m.geom_contype[g]}


def test_home_pose_stands_on_its_soles(flat):
    d = mujoco.MjData(flat)
    _reset_home(flat, d)
    feet = _foot_geoms(flat)
    touching = set()
    for c in d.contact[: d.ncon]:
        pair = {c.geom1, c.geom2}
        assert 0 in pair, "self-contact at the home pose: " + str(
            [mujoco.mj_id2name(flat, mujoco.mjtObj.mjOBJ_BODY, flat.geom_bodyid[g]) for g in pair])
        other = (pair - {0}).pop()
        assert other in feet, mujoco.mj_id2name(flat, mujoco.mjtObj.mjOBJ_BODY, flat.geom_bodyid[other])
        touching.add(flat.geom_bodyid[other])
    assert touching == {_bid(flat, "left_ankle_link"), _bid(flat, "right_ankle_link")}
    for side in ("left", "right"):
        g = mujoco.mj_name2id(flat, mujoco.mjtObj.mjOBJ_GEOM, f"{side}_foot_collision")
        r = d.geom_xmat[g].reshape(3, 3)
        sole_z = d.geom_xpos[g][2] - np.abs(r[2]) @ flat.geom_size[g]
        assert abs(sole_z) < 0.005, (side, sole_z)
        # flat on the floor: all four bottom corners at the same height
        assert abs(r[2, 2]) == pytest.approx(1.0, abs=1e-6)


def test_balance_home_pose_rests_on_board(balance):
    d = mujoco.MjData(balance)
    _reset_home(balance, d)
    board = mujoco.mj_name2id(balance, mujoco.mjtObj.mjOBJ_GEOM, "stand_board_collision")
    sphere = mujoco.mj_name2id(balance, mujoco.mjtObj.mjOBJ_GEOM, "pivot_sphere_collision")
    feet = _foot_geoms(balance)
    pairs = set()
    for c in d.contact[: d.ncon]:
        pair = frozenset((c.geom1, c.geom2))
        assert 0 not in pair, "something touches the floor at the balance home pose"
        assert pair == {board, sphere} or (board in pair and (pair - {board}) <= feet), pair
        pairs.add(pair)
    assert frozenset((board, sphere)) in pairs
    touching_feet = {balance.geom_bodyid[g] for p in pairs for g in p if g in feet}
    assert len(touching_feet) == 2


def test_holding_home_pose_for_one_second(flat):
    d = mujoco.MjData(flat)
    _reset_home(flat, d)
    ctrl = d.qpos[7:26].copy()
    heights = []
    for _ in range(500):
        d.ctrl[:] = ctrl
        mujoco.mj_step(flat, d)
        heights.append(d.qpos[2])
    assert np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all()
    heights = np.array(heights)
    settled = heights[99]  # after 0.2 s
    assert np.abs(heights[100:] - settled).max() < 0.05, (settled, heights[100:].min(), heights[100:].max())
    assert heights.min() > 0.85


def test_imu_reads_the_torso_frame(flat):
    d = mujoco.MjData(flat)
    _reset_home(flat, d)
    np.testing.assert_allclose(d.sensor("imu_quat").data, [1, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(d.site("imu").xpos, [-0.04452, -0.01891, 0.98 + 0.27756], atol=1e-9)
    d.qpos[3:7] = [np.cos(0.1), 0, 0, np.sin(0.1)]  # base yawed by 0.2 rad
    d.qpos[7 + JOINTS.index("torso")] = 0.3  # waist yawed by 0.3 rad
    mujoco.mj_forward(flat, d)
    np.testing.assert_allclose(d.sensor("imu_quat").data, [np.cos(0.25), 0, 0, np.sin(0.25)], atol=1e-12)


# ---- 5. dynamics, against HumanoidBench --------------------------------------------------------
# Open loop from the keyframe, no reset noise, ctrl held, 10 substeps per control step, as in
# humanoidbench.md section 5 ("falls backward ... terminates at step 79"). Measured on mujoco 3.3.7:
# HB 79, ours 79. Perturbed targets: HB [77, 74, 92, 85, 64, 65, 83, 70], ours
# [77, 73, 97, 86, 64, 65, 83, 70]. balance_simple: HB 67, ours 70. See sim/README.md.

FALL_MARGIN = 0.10  # home hold: measured difference 0 steps
BATTERY_MAX_REL = 0.15  # perturbed targets: measured max 5.4 % (92 vs 97)
BATTERY_MAX_MEDIAN = 2  # steps; measured median 0; a 10 cm foot gives 5.5
BALANCE_MARGIN = 0.10  # measured 67 vs 70 (4.5 %)


def _battery_targets(hb):
    rng = np.random.default_rng(1)
    lo, hi = hb.actuator_ctrlrange[:, 0], hb.actuator_ctrlrange[:, 1]
    return [np.clip(HOME_JOINTS + rng.uniform(-0.3, 0.3, 19), lo, hi) for _ in range(8)]


def test_falls_like_humanoidbench_when_holding_home(flat, hb):
    hb_step = _steps_until_fall(hb, HOME_JOINTS)
    our_step = _steps_until_fall(flat, HOME_JOINTS)
    assert hb_step is not None and 60 <= hb_step <= 100, hb_step  # the reference experiment itself
    assert our_step is not None and abs(our_step - hb_step) <= FALL_MARGIN * hb_step, (our_step, hb_step)


def test_first_control_steps_track_humanoidbench(flat, hb):
    """Only the collision shapes differ, so the first 0.2 s must nearly coincide. Measured max over
    steps 1-10: pelvis z 0.64 mm, base quaternion 4e-4, joint angles 0.0031 rad, joint speeds 0.024 rad/s."""
    da, db = mujoco.MjData(flat), mujoco.MjData(hb)
    _reset_home(flat, da)
    _reset_home(hb, db)
    for step in range(10):
        for m, d in ((flat, da), (hb, db)):
            d.ctrl[:] = HOME_JOINTS
            mujoco.mj_step(m, d, nstep=SUBSTEPS)
        assert abs(da.qpos[2] - db.qpos[2]) < 0.002, (step, da.qpos[2], db.qpos[2])
        assert np.abs(da.qpos[3:7] - db.qpos[3:7]).max() < 0.002, step
        assert np.abs(da.qpos[7:26] - db.qpos[7:26]).max() < 0.01, step
        assert np.abs(da.qvel[6:25] - db.qvel[6:25]).max() < 0.1, step


def _battery(m, hb, targets, hb_steps=None):
    ours = [_steps_until_fall(m, t) for t in targets]
    theirs = hb_steps or [_steps_until_fall(hb, t) for t in targets]
    assert None not in theirs and None not in ours, (theirs, ours)
    return np.array(ours), np.array(theirs)


@pytest.fixture(scope="module")
def hb_battery(hb):
    targets = _battery_targets(hb)
    return targets, [_steps_until_fall(hb, t) for t in targets]


def test_perturbed_targets_fall_like_humanoidbench(flat, hb, hb_battery):
    targets, hb_steps = hb_battery
    ours, theirs = _battery(flat, hb, targets, hb_steps)
    diff = np.abs(ours - theirs)
    assert np.median(diff) <= BATTERY_MAX_MEDIAN, (ours, theirs)
    assert (diff <= BATTERY_MAX_REL * theirs).all(), (ours, theirs)


def test_perturbed_battery_detects_a_wrong_foot(hb, hb_battery):
    """Negative control: the same battery on a model whose sole is 0.1 m instead of 0.3 m long."""
    targets, hb_steps = hb_battery
    robot = (SIM / "h1.xml").read_text()
    sole = 'size="0.15 0.015 0.015" pos="0.05 0 -0.055"'
    assert robot.count(sole) == 4
    wrong = robot.replace(sole, 'size="0.05 0.015 0.015" pos="0 0 -0.055"')
    m = mujoco.MjModel.from_xml_string(FLAT.read_text(), {"h1.xml": wrong.encode()})
    ours, theirs = _battery(m, hb, targets, hb_steps)
    assert np.median(np.abs(ours - theirs)) > BATTERY_MAX_MEDIAN, (ours, theirs)


def test_balance_simple_terminates_like_humanoidbench(balance, hb_balance):
    hb_step = _balance_termination(hb_balance, HOME_JOINTS)
    our_step = _balance_termination(balance, HOME_JOINTS)
    assert hb_step is not None and our_step is not None, (hb_step, our_step)
    assert abs(our_step - hb_step) <= BALANCE_MARGIN * hb_step, (our_step, hb_step)


def test_balance_board_matches_humanoidbench(balance, hb_balance):
    for body in ("stand_board", "rolling_pivot"):
        a, b = _bid(balance, body), _bid(hb_balance, body)
        np.testing.assert_allclose(balance.body_pos[a], hb_balance.body_pos[b])
    a, b = _bid(balance, "stand_board"), _bid(hb_balance, "stand_board")
    assert balance.body_mass[a] == pytest.approx(hb_balance.body_mass[b], rel=1e-9)
    np.testing.assert_allclose(balance.body_inertia[a], hb_balance.body_inertia[b], rtol=1e-6)
    np.testing.assert_allclose(balance.key_qpos[0], hb_balance.key_qpos[0])
