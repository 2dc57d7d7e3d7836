// Observation terms by name (the manifest's `observation.terms`), computed from what the robot reports
// (motor states, torso IMU) plus, for simulation-only terms, the simulator's full state. The trainer's
// dptrain/envs/h1/observations.py computes the same terms; docs/simulation.md lists them.
import { H1_JOINTS, H1_NUM_JOINTS } from "../robot/h1.ts";
import type { ObservationTerm } from "../policy/manifest.ts";
import type { RobotState } from "../sim/h1-sim.ts";

export interface ObservationSources {
  state: RobotState;
  /** The simulator's qpos and qvel of the whole model (simulation only). */
  qpos?: Float64Array;
  qvel?: Float64Array;
  lastAction: ArrayLike<number>;
  /** Commanded base velocity: vx, vy (m/s), yaw rate (rad/s). */
  velocityCommand: ArrayLike<number>;
  /** Seconds since the policy started (for the gait phase). */
  timeS: number;
}

interface TermDefinition {
  simOnly: boolean;
  /** Fixed size, or null where it depends on the model or policy (checked when the term is written). */
  size: number | null;
  write(src: ObservationSources, out: Float32Array, at: number, term: ObservationTerm): void;
}

/** Gravity (0, 0, -1) in the frame of the quaternion w x y z (body to world). */
export function projectedGravity(q: ArrayLike<number>, out: Float64Array = new Float64Array(3)): Float64Array {
  const [w, x, y, z] = [q[0], q[1], q[2], q[3]];
  out[0] = 2 * (w * y - x * z);
  out[1] = -2 * (y * z + w * x);
  out[2] = 2 * (x * x + y * y) - 1;
  return out;
}

/** Rotate v about z by angle: Rz(angle) v. */
function rotateZ(angle: number, v: ArrayLike<number>, out: Float64Array): Float64Array {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const [x, y, z] = [v[0], v[1], v[2]];
  out[0] = c * x - s * y;
  out[1] = s * x + c * y;
  out[2] = z;
  return out;
}

const TORSO = H1_JOINTS.findIndex((j) => j.name === "torso");
const HOME = H1_JOINTS.map((j) => j.home);
const scratch = new Float64Array(3);
const scratch2 = new Float64Array(3);

function copy(values: ArrayLike<number>, out: Float32Array, at: number, n = values.length): void {
  for (let k = 0; k < n; k++) out[at + k] = values[k];
}

function fromSim(name: "qpos" | "qvel") {
  return (src: ObservationSources, out: Float32Array, at: number, term: ObservationTerm) => {
    const values = src[name];
    if (!values) throw new Error(`observation term "${name}" needs the simulator's state; this link has none`);
    if (values.length !== term.size) throw new Error(`observation term "${name}" has ${values.length} values here, the policy expects ${term.size}`);
    copy(values, out, at);
  };
}

export const OBSERVATION_TERMS: Record<string, TermDefinition> = {
  qpos: { simOnly: true, size: null, write: fromSim("qpos") },
  qvel: { simOnly: true, size: null, write: fromSim("qvel") },
  projected_gravity: { simOnly: false, size: 3, write: (s, out, at) => copy(projectedGravity(s.state.imuQuat, scratch), out, at) },
  imu_angular_velocity: { simOnly: false, size: 3, write: (s, out, at) => copy(s.state.imuGyro, out, at) },
  // Pelvis frame through the torso joint: R_pelvis = R_torso Rz(q)^T, so v_pelvis = Rz(q) v_torso and
  // w_pelvis = Rz(q) w_torso - (0, 0, dq).
  projected_gravity_pelvis: {
    simOnly: false,
    size: 3,
    write: (s, out, at) => copy(rotateZ(s.state.q[TORSO], projectedGravity(s.state.imuQuat, scratch), scratch2), out, at),
  },
  angular_velocity_pelvis: {
    simOnly: false,
    size: 3,
    write: (s, out, at) => {
      rotateZ(s.state.q[TORSO], s.state.imuGyro, scratch);
      scratch[2] -= s.state.dq[TORSO];
      copy(scratch, out, at);
    },
  },
  // q - offset; params.offset (the policy's default pose) defaults to the home pose.
  joint_positions: {
    simOnly: false,
    size: H1_NUM_JOINTS,
    write: (s, out, at, term) => {
      const offset = (term.params?.offset as number[] | undefined) ?? HOME;
      for (let j = 0; j < H1_NUM_JOINTS; j++) out[at + j] = s.state.q[j] - offset[j];
    },
  },
  joint_velocities: { simOnly: false, size: H1_NUM_JOINTS, write: (s, out, at) => copy(s.state.dq, out, at) },
  last_action: {
    simOnly: false,
    size: null,
    write: (s, out, at, term) => {
      if (s.lastAction.length !== term.size) throw new Error(`last_action has ${s.lastAction.length} values, the policy expects ${term.size}`);
      copy(s.lastAction, out, at);
    },
  },
  velocity_command: { simOnly: false, size: 3, write: (s, out, at) => copy(s.velocityCommand, out, at, 3) },
  gait_phase: {
    simOnly: false,
    size: 2,
    write: (s, out, at, term) => {
      const period = Number(term.params?.period_s ?? DEFAULT_GAIT_PERIOD_S);
      const phase = (2 * Math.PI * s.timeS) / period;
      out[at] = Math.sin(phase);
      out[at + 1] = Math.cos(phase);
    },
  },
  // min(t / horizon, 1): what a policy needs to know of the clock during its start-up, constant afterwards
  time_since_start: {
    simOnly: false,
    size: 1,
    write: (s, out, at, term) => {
      out[at] = Math.min(s.timeS / Number(term.params?.horizon_s ?? DEFAULT_START_HORIZON_S), 1);
    },
  },
};

export const DEFAULT_GAIT_PERIOD_S = 0.8;
export const DEFAULT_START_HORIZON_S = 2.5;

/** The params a term understands (the trainer's names, dptrain/envs/h1/observations.py), checked up front. */
const PARAMS: Record<string, (value: unknown) => boolean> = {
  "joint_positions.offset": (v) => Array.isArray(v) && v.length === H1_NUM_JOINTS && v.every(Number.isFinite),
  "velocity_command.default": (v) => Array.isArray(v) && v.length === 3 && v.every(Number.isFinite),
  "gait_phase.period_s": (v) => typeof v === "number" && v > 0,
  "time_since_start.horizon_s": (v) => typeof v === "number" && v > 0,
};

function checkParams(term: ObservationTerm): void {
  for (const [key, value] of Object.entries(term.params ?? {})) {
    const ok = PARAMS[`${term.name}.${key}`];
    if (!ok) throw new Error(`observation term "${term.name}" has no parameter "${key}"`);
    if (!ok(value)) throw new Error(`observation term "${term.name}": invalid ${key} ${JSON.stringify(value)}`);
  }
}

/** The velocity command a policy asks for when nobody commands one: its velocity_command term's default. */
export function defaultVelocityCommand(terms: readonly ObservationTerm[]): number[] | null {
  const v = terms.find((t) => t.name === "velocity_command")?.params?.default;
  return Array.isArray(v) ? (v as number[]) : null;
}

/** Builds a policy's observation from its manifest terms; refuses unknown terms and wrong sizes up front. */
export class ObservationBuilder {
  readonly size: number;
  readonly simOnlyTerms: string[];
  private readonly plan: { term: ObservationTerm; def: TermDefinition; at: number }[] = [];

  constructor(terms: readonly ObservationTerm[]) {
    let at = 0;
    for (const term of terms) {
      const def = OBSERVATION_TERMS[term.name];
      if (!def) throw new Error(`unknown observation term "${term.name}"; known: ${Object.keys(OBSERVATION_TERMS).join(", ")}`);
      if (def.size !== null && def.size !== term.size) {
        throw new Error(`observation term "${term.name}" has ${def.size} values, the policy declares ${term.size}`);
      }
      if (def.simOnly && !term.sim_only) throw new Error(`observation term "${term.name}" needs simulation-only state but the policy marks it sim_only: false`);
      checkParams(term);
      this.plan.push({ term, def, at });
      at += term.size;
    }
    this.size = at;
    this.simOnlyTerms = terms.filter((t) => OBSERVATION_TERMS[t.name].simOnly).map((t) => t.name);
  }

  /** Write the observation into out[offset .. offset + size). */
  build(src: ObservationSources, out: Float32Array, offset = 0): void {
    for (const { term, def, at } of this.plan) def.write(src, out, offset + at, term);
  }
}
