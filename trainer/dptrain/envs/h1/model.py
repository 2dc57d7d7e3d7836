"""One MuJoCo scene of the H1 driven by motor commands: loading, the motor law, stepping, robot state.

Stepping follows HumanoidBench (Gymnasium's MujocoEnv): set the command, `mj_step` 10 times, and no
`mj_forward` afterwards. So qpos/qvel are the state after the last integration while everything the
forward pass computes (site_xpos, xmat, sensordata, actuator_force, contacts) is one substep (2 ms)
older: it belongs to the last substep's forward pass. Rewards read those, exactly as HumanoidBench does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from .robot import HB_KD, HB_KP, JOINT_NAMES, NUM_JOINTS

FRAME_SKIP = 10          # physics substeps per control step (HumanoidBench's Task.frame_skip)
TIMESTEP = 0.002         # the scenes' option timestep; checked at load
CONTROL_DT = FRAME_SKIP * TIMESTEP
CONTROL_RATE_HZ = 50.0

SCENE_FILES = {"h1_flat": "h1_flat.xml", "h1_balance_simple": "h1_balance_simple.xml"}
IMU_SENSORS = ("imu_quat", "imu_gyro", "imu_acc")


def sim_dir() -> Path:
    """The directory of the project's MJCF scenes: $DPTRAIN_SIM_DIR, else the repository's `sim/`."""
    override = os.environ.get("DPTRAIN_SIM_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[4] / "sim"


def scene_path(scene: str) -> Path:
    return sim_dir() / SCENE_FILES[scene]


@dataclass
class MotorCommand:
    """One command per joint, in joint order, as the real robot's LowCmd carries it: the motor applies
    tau = kp (q - q_meas) + kd (dq - dq_meas) + tau, clamped to the effort limit."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    kp: np.ndarray
    kd: np.ndarray

    def __post_init__(self):
        for name in ("q", "dq", "tau", "kp", "kd"):
            value = np.asarray(getattr(self, name), np.float64)
            if value.shape != (NUM_JOINTS,):
                raise ValueError(f"MotorCommand.{name} must have {NUM_JOINTS} entries, got shape {value.shape}")
            setattr(self, name, value)

    @classmethod
    def position(cls, q: np.ndarray, kp: np.ndarray = HB_KP, kd: np.ndarray = HB_KD) -> MotorCommand:
        """A pure position target with dq* = 0 and tau_ff = 0 (HumanoidBench's actuators by default)."""
        zeros = np.zeros(NUM_JOINTS)
        return cls(q=q, dq=zeros, tau=zeros, kp=kp, kd=kd)

    def to_json(self) -> dict:
        return {k: getattr(self, k).tolist() for k in ("q", "dq", "tau", "kp", "kd")}


@dataclass
class RobotState:
    """What the real robot reports (LowState), from the simulator. q, dq: joint order. tau_est: the
    clamped actuator force. IMU on the torso: quaternion (w, x, y, z) of the imu site in the world,
    gyro (rad/s) and accelerometer (m/s^2, includes gravity: +9.81 up at rest) in the imu frame.
    tick counts physics substeps (2 ms each) since the last reset, like the real robot's time counter.
    q/dq are post-step; tau_est and the IMU come from the last substep's forward pass (2 ms older)."""

    q: np.ndarray
    dq: np.ndarray
    tau_est: np.ndarray
    imu_quat: np.ndarray
    imu_gyro: np.ndarray
    imu_acc: np.ndarray
    tick: int = 0


def apply_motor_command(model: mujoco.MjModel, data: mujoco.MjData, cmd: MotorCommand) -> None:
    """The contract's five assignments (docs/simulation.md, "The motor law"). With gaintype fixed and
    biastype affine MuJoCo then computes kp (q* - q) + kd (dq* - dq) + tau_ff at every substep and
    clamps it to forcerange."""
    data.ctrl[:] = cmd.q
    model.actuator_gainprm[:, 0] = cmd.kp
    model.actuator_biasprm[:, 0] = cmd.kd * cmd.dq + cmd.tau
    model.actuator_biasprm[:, 1] = -cmd.kp
    model.actuator_biasprm[:, 2] = -cmd.kd


class H1Sim:
    """An H1 scene (ours or HumanoidBench's: same names and joint order) stepped at 50 Hz."""

    def __init__(self, model_path: str | os.PathLike):
        self.model_path = Path(model_path)
        self.model = mujoco.MjModel.from_xml_path(str(self.model_path))
        self.data = mujoco.MjData(self.model)
        m = self.model
        if abs(m.opt.timestep - TIMESTEP) > 1e-12:
            raise ValueError(f"{self.model_path}: timestep {m.opt.timestep}, expected {TIMESTEP}")
        if m.nu != NUM_JOINTS:
            raise ValueError(f"{self.model_path}: {m.nu} actuators, expected {NUM_JOINTS}")
        joint_ids = [m.joint(name).id for name in JOINT_NAMES]
        actuator_joints = [int(m.actuator_trnid[i, 0]) for i in range(m.nu)]
        if actuator_joints != joint_ids:
            raise ValueError(f"{self.model_path}: actuators must drive the joints in order {JOINT_NAMES}")
        self.qpos_adr = np.array([m.jnt_qposadr[j] for j in joint_ids])
        self.qvel_adr = np.array([m.jnt_dofadr[j] for j in joint_ids])
        self.head_site = m.site("head").id
        self.imu_site = m.site("imu").id
        self.torso_body = m.body("torso_link").id
        self.pelvis_body = m.body("pelvis").id
        self.com_vel_adr = int(m.sensor("pelvis_subtreelinvel").adr[0])
        self.imu_adr = self._imu_sensor_addresses()
        self.keyframe = self._home_keyframe()
        # The gains the scene was written with, restored on reset so episodes start alike.
        self._gainprm0 = m.actuator_gainprm.copy()
        self._biasprm0 = m.actuator_biasprm.copy()
        self.tick = 0

    def _home_keyframe(self) -> int:
        """Keyframe `home` (ours); HumanoidBench's scenes call it `qpos0` and use index 0."""
        names = [self.model.key(i).name for i in range(self.model.nkey)]
        if "home" in names:
            return names.index("home")
        if self.model.nkey == 0:
            raise ValueError(f"{self.model_path}: no keyframe")
        return 0

    def _imu_sensor_addresses(self) -> tuple[int, int, int] | None:
        """Sensor addresses of imu_quat, imu_gyro, imu_acc, or None when the scene has no IMU sensors
        (HumanoidBench's): then the IMU is computed from the imu site, see `imu`."""
        try:
            return tuple(int(self.model.sensor(n).adr[0]) for n in IMU_SENSORS)
        except KeyError:
            return None

    # -- state -------------------------------------------------------------------------------------------

    def reset_keyframe(self) -> None:
        """Keyframe `home`, default gains, mj_forward; tick back to 0."""
        self.model.actuator_gainprm[:] = self._gainprm0
        self.model.actuator_biasprm[:] = self._biasprm0
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.keyframe)
        mujoco.mj_forward(self.model, self.data)
        self.tick = 0

    def set_state(self, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Gymnasium's set_state: write qpos/qvel as given (no normalisation), then mj_forward."""
        self.data.qpos[:] = qpos
        self.data.qvel[:] = qvel
        mujoco.mj_forward(self.model, self.data)

    # -- stepping ----------------------------------------------------------------------------------------

    def step(self, cmd: MotorCommand) -> None:
        """One control step: the command, then 10 substeps, then nothing (HumanoidBench's staleness)."""
        apply_motor_command(self.model, self.data, cmd)
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        self.tick += FRAME_SKIP

    # -- readouts (HumanoidBench's `robot` helpers) -----------------------------------------------------

    def head_height(self) -> float:
        return float(self.data.site_xpos[self.head_site, 2])

    def torso_upright(self) -> float:
        return float(self.data.xmat[self.torso_body, 8])  # xmat zz

    def center_of_mass_velocity(self) -> np.ndarray:
        return self.data.sensordata[self.com_vel_adr:self.com_vel_adr + 3].copy()

    def actuator_forces(self) -> np.ndarray:
        return self.data.actuator_force.copy()

    def joint_positions(self) -> np.ndarray:
        return self.data.qpos[self.qpos_adr].copy()

    def joint_velocities(self) -> np.ndarray:
        return self.data.qvel[self.qvel_adr].copy()

    def imu(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(quat w x y z, gyro, acc) of the torso IMU, from the sensors when the scene has them."""
        if self.imu_adr is not None:
            qa, ga, aa = self.imu_adr
            s = self.data.sensordata
            return s[qa:qa + 4].copy(), s[ga:ga + 3].copy(), s[aa:aa + 3].copy()
        # HumanoidBench's scenes have no IMU sensors: the same quantities from the imu site, read from
        # the same (last) forward pass as the sensors would be. Orientation and gyro match the sensors
        # exactly; the acceleration is recomputed from the post-step qvel (as Gymnasium's
        # mj_rnePostConstraint does), so it differs from an accelerometer by O(timestep * qacc).
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, self.data.site_xmat[self.imu_site])
        vel, acc = np.zeros(6), np.zeros(6)
        mujoco.mj_objectVelocity(self.model, self.data, mujoco.mjtObj.mjOBJ_SITE, self.imu_site, vel, 1)
        mujoco.mj_rnePostConstraint(self.model, self.data)  # cacc, as Gymnasium's step leaves it
        mujoco.mj_objectAcceleration(self.model, self.data, mujoco.mjtObj.mjOBJ_SITE, self.imu_site, acc, 1)
        return quat, vel[:3].copy(), acc[3:].copy()

    def robot_state(self) -> RobotState:
        quat, gyro, acc = self.imu()
        return RobotState(q=self.joint_positions(), dq=self.joint_velocities(), tau_est=self.actuator_forces(),
                          imu_quat=quat, imu_gyro=gyro, imu_acc=acc, tick=self.tick)

    def contact_geom_pairs(self) -> np.ndarray:
        """(ncon, 2) geom ids of the contacts of the last collision pass."""
        return self.data.contact.geom[: self.data.ncon].copy()
