"""Observation terms: HumanoidBench's privileged state, and terms a real H1 can provide.

Each term is `{name, size, sim_only}` plus a function. Terms marked sim_only read the simulator (world
position, task objects); the others read only `RobotState` (what LowState carries), the last action,
the velocity command and the time since reset, so the runtime can compute them on the real robot with
the same formulas (documented in docs/simulation.md, "Trainer side").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .model import H1Sim, RobotState
from .robot import HOME_Q, NUM_JOINTS, TORSO_INDEX

DEFAULT_TERMS = ("qpos", "qvel")  # HumanoidBench's observation: concat(qpos, qvel) of the whole model
DEFAULT_GAIT_PERIOD_S = 0.8
DEFAULT_START_HORIZON_S = 2.5  # time_since_start saturates here (the walk controller's start and speed ramp: 2.3 s)


@dataclass
class ObservationInput:
    sim: H1Sim
    state: RobotState | None       # None when the layout has only sim_only terms
    last_action: np.ndarray        # the action (in [-1, 1]) applied at the last step; zeros after reset
    velocity_command: np.ndarray   # (vx, vy, yaw rate)
    time_s: float                  # simulated time since reset = tick * 0.002


def projected_gravity(quat: np.ndarray) -> np.ndarray:
    """R^T (0, 0, -1): gravity's direction in the frame of the unit quaternion (w, x, y, z)."""
    w, x, y, z = quat
    return np.array([2 * (w * y - x * z), -2 * (w * x + y * z), 2 * (x * x + y * y) - 1])


def rot_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def imu_to_pelvis(gravity_imu: np.ndarray, gyro: np.ndarray, q_torso: float, dq_torso: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Torso IMU data in the pelvis frame. The torso joint turns torso_link about the pelvis z axis,
    R_torso = R_pelvis Rz(q), so R_pelvis^T = Rz(q) R_torso^T and
    w_pelvis = Rz(q) w_imu - (0, 0, dq) (checked against MuJoCo's pelvis in tests/test_h1_env.py)."""
    rz = rot_z(q_torso)
    return rz @ gravity_imu, rz @ gyro - np.array([0.0, 0.0, dq_torso])


@dataclass(frozen=True)
class ObservationTerm:
    name: str
    sim_only: bool
    size: Callable[[H1Sim], int]
    compute: Callable[[ObservationInput, dict], np.ndarray]
    default_params: dict = field(default_factory=dict)


def _joints(n: int) -> Callable[[H1Sim], int]:
    return lambda sim: n


def _gait_phase(inp: ObservationInput, params: dict) -> np.ndarray:
    phase = 2 * np.pi * inp.time_s / params["period_s"]
    return np.array([np.sin(phase), np.cos(phase)])


def _time_since_start(inp: ObservationInput, params: dict) -> np.ndarray:
    # clipped, so that a policy sees the same value for the whole episode once its start-up has passed
    return np.array([min(inp.time_s / params["horizon_s"], 1.0)])


def _pelvis(inp: ObservationInput) -> tuple[np.ndarray, np.ndarray]:
    s = inp.state
    return imu_to_pelvis(projected_gravity(s.imu_quat), s.imu_gyro, s.q[TORSO_INDEX], s.dq[TORSO_INDEX])


TERMS: dict[str, ObservationTerm] = {t.name: t for t in [
    ObservationTerm("qpos", True, lambda sim: sim.model.nq, lambda inp, p: inp.sim.data.qpos.copy()),
    ObservationTerm("qvel", True, lambda sim: sim.model.nv, lambda inp, p: inp.sim.data.qvel.copy()),
    ObservationTerm("projected_gravity", False, _joints(3), lambda inp, p: projected_gravity(inp.state.imu_quat)),
    ObservationTerm("imu_angular_velocity", False, _joints(3), lambda inp, p: inp.state.imu_gyro.copy()),
    ObservationTerm("projected_gravity_pelvis", False, _joints(3), lambda inp, p: _pelvis(inp)[0]),
    ObservationTerm("angular_velocity_pelvis", False, _joints(3), lambda inp, p: _pelvis(inp)[1]),
    ObservationTerm("joint_positions", False, _joints(NUM_JOINTS),
                    lambda inp, p: inp.state.q - np.asarray(p["offset"], np.float64),
                    {"offset": HOME_Q.tolist()}),
    ObservationTerm("joint_velocities", False, _joints(NUM_JOINTS), lambda inp, p: inp.state.dq.copy()),
    ObservationTerm("last_action", False, _joints(NUM_JOINTS), lambda inp, p: inp.last_action.astype(np.float64)),
    ObservationTerm("velocity_command", False, _joints(3), lambda inp, p: inp.velocity_command.astype(np.float64)),
    ObservationTerm("gait_phase", False, _joints(2), _gait_phase, {"period_s": DEFAULT_GAIT_PERIOD_S}),
    ObservationTerm("time_since_start", False, _joints(1), _time_since_start, {"horizon_s": DEFAULT_START_HORIZON_S}),
]}


@dataclass(frozen=True)
class ObservationLayout:
    """The chosen terms, in order, with their params and sizes for one scene."""

    terms: tuple[tuple[ObservationTerm, dict], ...]
    sizes: tuple[int, ...]

    @classmethod
    def build(cls, sim: H1Sim, spec=None) -> ObservationLayout:
        """spec: names, or {"name": ..., "params": {...}} entries; None gives HumanoidBench's (qpos, qvel)."""
        chosen = []
        for entry in spec if spec is not None else DEFAULT_TERMS:
            name, params = (entry, {}) if isinstance(entry, str) else (entry["name"], dict(entry.get("params", {})))
            if name not in TERMS:
                raise ValueError(f"unknown observation term {name!r}; known: {sorted(TERMS)}")
            term = TERMS[name]
            unknown = set(params) - set(term.default_params)
            if unknown:
                raise ValueError(f"observation term {name!r} has no params {sorted(unknown)}")
            chosen.append((term, {**term.default_params, **params}))
        if not chosen:
            raise ValueError("an observation needs at least one term")
        return cls(tuple(chosen), tuple(term.size(sim) for term, _ in chosen))

    @property
    def size(self) -> int:
        return sum(self.sizes)

    @property
    def reads_robot_state(self) -> bool:
        return any(not term.sim_only for term, _ in self.terms)

    def compute(self, inp: ObservationInput) -> np.ndarray:
        parts = [np.asarray(term.compute(inp, params), np.float64) for term, params in self.terms]
        for (term, _), part, size in zip(self.terms, parts, self.sizes):
            if part.shape != (size,):
                raise RuntimeError(f"observation term {term.name} gave shape {part.shape}, expected ({size},)")
        return np.concatenate(parts)

    def describe(self, extra_params: dict | None = None) -> list[dict]:
        """The manifest's observation.terms: {name, size, sim_only, params?} (params only where a term has them)."""
        out = []
        for (term, params), size in zip(self.terms, self.sizes):
            item = {"name": term.name, "size": size, "sim_only": term.sim_only}
            params = {**params, **(extra_params or {}).get(term.name, {})}
            if params:
                item["params"] = params
            out.append(item)
        return out
