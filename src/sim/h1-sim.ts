// The simulated H1: one compiled scene, N independent worlds (MjData) stepped together, driven by motor
// commands exactly as the robot's motors take them. The motor law tau = kp (q* - q) + kd (dq* - dq) + tau_ff,
// clamped to the effort limit, is MuJoCo's own `general` actuator, evaluated at every physics substep from
// the latest command (docs/simulation.md, "The motor law").
import type { MjData, MjModel } from "mujoco-js";
import { H1_JOINTS, H1_JOINT_NAMES, H1_NUM_JOINTS } from "../robot/h1.ts";
import { idOf, loadScene, type Mujoco, type SceneName } from "./mujoco.ts";

/** Per-joint motor command in H1 joint order (src/robot/h1.ts). */
export interface MotorCommand {
  q: Float64Array;
  dq: Float64Array;
  tau: Float64Array;
  kp: Float64Array;
  kd: Float64Array;
}

export function motorCommand(): MotorCommand {
  const n = H1_NUM_JOINTS;
  return { q: new Float64Array(n), dq: new Float64Array(n), tau: new Float64Array(n), kp: new Float64Array(n), kd: new Float64Array(n) };
}

export function copyCommand(from: MotorCommand, to: MotorCommand): void {
  to.q.set(from.q);
  to.dq.set(from.dq);
  to.tau.set(from.tau);
  to.kp.set(from.kp);
  to.kd.set(from.kd);
}

/** HumanoidBench's position control: target q* with its kp and kv, no velocity target, no feed-forward. */
export function positionCommand(targets: ArrayLike<number>, out: MotorCommand = motorCommand()): MotorCommand {
  for (let j = 0; j < H1_NUM_JOINTS; j++) {
    out.q[j] = targets[j];
    out.dq[j] = 0;
    out.tau[j] = 0;
    out.kp[j] = H1_JOINTS[j].kp;
    out.kd[j] = H1_JOINTS[j].kv;
  }
  return out;
}

/** What the real robot reports (LowState): per motor q, dq, estimated torque; the torso IMU; a tick. */
export interface RobotState {
  q: Float64Array;
  dq: Float64Array;
  tauEst: Float64Array;
  imuQuat: Float64Array; // w x y z
  imuGyro: Float64Array; // rad/s, IMU frame
  imuAcc: Float64Array; // m/s², IMU frame
  /** Physics substeps since reset (the robot's tick counts its 500 Hz-or-faster motor cycles the same way). */
  tick: number;
}

export function robotState(): RobotState {
  const n = H1_NUM_JOINTS;
  return {
    q: new Float64Array(n),
    dq: new Float64Array(n),
    tauEst: new Float64Array(n),
    imuQuat: new Float64Array(4),
    imuGyro: new Float64Array(3),
    imuAcc: new Float64Array(3),
    tick: 0,
  };
}

export const SUBSTEPS_PER_CONTROL_STEP = 10; // 0.002 s x 10 = 50 Hz, HumanoidBench's frame_skip

/** Addresses the task and state code reads, resolved once by name. */
export interface SimIndex {
  jointQpos: Int32Array; // qpos address of each H1 joint
  jointDof: Int32Array; // qvel address of each H1 joint
  actuator: Int32Array; // actuator id of each H1 joint
  site: Record<"head" | "imu" | "left_foot" | "right_foot" | "com", number>;
  body: Record<"pelvis" | "torso_link", number>;
  sensorAdr: Record<"pelvis_subtreelinvel" | "imu_quat" | "imu_gyro" | "imu_acc", number>;
  keyHome: number;
}

export class H1Sim {
  readonly index: SimIndex;
  readonly datas: MjData[];
  private readonly commands: MotorCommand[];
  private readonly ticks: number[];

  private constructor(
    readonly mj: Mujoco,
    readonly model: MjModel,
    readonly scene: SceneName,
    count: number,
  ) {
    this.index = resolveIndex(mj, model);
    this.datas = Array.from({ length: count }, () => new mj.MjData(model));
    this.commands = Array.from({ length: count }, () => motorCommand());
    this.ticks = new Array(count).fill(0);
    for (let i = 0; i < count; i++) this.resetToHome(i);
  }

  static async create(scene: SceneName, count = 1, simDir?: string): Promise<H1Sim> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    const { mj, model } = await loadScene(scene, simDir);
    return new H1Sim(mj, model, scene, count);
  }

  get count(): number {
    return this.datas.length;
  }

  get timestep(): number {
    return this.model.opt.timestep;
  }

  /** Keyframe "home", then an optional perturbation of qpos (HumanoidBench's reset noise); command = hold home. */
  resetToHome(i: number, qposNoise?: (k: number) => number): void {
    const { mj, model } = this;
    const d = this.datas[i];
    mj.mj_resetDataKeyframe(model, d, this.index.keyHome);
    if (qposNoise) {
      const qpos = d.qpos;
      for (let k = 0; k < model.nq; k++) qpos[k] += qposNoise(k);
    }
    mj.mj_forward(model, d);
    positionCommand(H1_JOINTS.map((j) => j.home), this.commands[i]);
    this.ticks[i] = 0;
  }

  /** Set the full state (qpos, qvel) of world i and recompute derived quantities. */
  setState(i: number, qpos: ArrayLike<number>, qvel: ArrayLike<number>): void {
    const d = this.datas[i];
    d.qpos.set(qpos);
    d.qvel.set(qvel);
    this.mj.mj_forward(this.model, d);
    this.ticks[i] = 0;
  }

  /** The command world i follows until the next one (copied). */
  setCommand(i: number, command: MotorCommand): void {
    copyCommand(command, this.commands[i]);
  }

  /** Advance world i by `substeps` physics steps under its command. Like HumanoidBench, no mj_forward after:
   * positions are current, derived quantities (site poses, sensors, forces) are one substep old. */
  step(i: number, substeps = SUBSTEPS_PER_CONTROL_STEP): void {
    const { mj, model } = this;
    const d = this.datas[i];
    this.applyCommand(i, d);
    for (let s = 0; s < substeps; s++) mj.mj_step(model, d);
    this.ticks[i] += substeps;
  }

  stepAll(substeps = SUBSTEPS_PER_CONTROL_STEP): void {
    for (let i = 0; i < this.datas.length; i++) this.step(i, substeps);
  }

  /** The five assignments of the motor law. The gains live in the model, which the worlds share, so each
   * world's command is written just before that world steps. */
  private applyCommand(i: number, d: MjData): void {
    const c = this.commands[i];
    const gain = this.model.actuator_gainprm as Float64Array;
    const bias = this.model.actuator_biasprm as Float64Array;
    const ctrl = d.ctrl as Float64Array;
    const act = this.index.actuator;
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      const a = act[j];
      ctrl[a] = c.q[j];
      gain[a * 10] = c.kp[j];
      bias[a * 10] = c.kd[j] * c.dq[j] + c.tau[j];
      bias[a * 10 + 1] = -c.kp[j];
      bias[a * 10 + 2] = -c.kd[j];
    }
  }

  /** What the robot would report for world i. */
  readState(i: number, out: RobotState = robotState()): RobotState {
    const d = this.datas[i];
    const qpos = d.qpos as Float64Array;
    const qvel = d.qvel as Float64Array;
    const force = d.actuator_force as Float64Array;
    const sensors = d.sensordata as Float64Array;
    const ix = this.index;
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      out.q[j] = qpos[ix.jointQpos[j]];
      out.dq[j] = qvel[ix.jointDof[j]];
      out.tauEst[j] = force[ix.actuator[j]];
    }
    out.imuQuat.set(sensors.subarray(ix.sensorAdr.imu_quat, ix.sensorAdr.imu_quat + 4));
    out.imuGyro.set(sensors.subarray(ix.sensorAdr.imu_gyro, ix.sensorAdr.imu_gyro + 3));
    out.imuAcc.set(sensors.subarray(ix.sensorAdr.imu_acc, ix.sensorAdr.imu_acc + 3));
    out.tick = this.ticks[i];
    return out;
  }

  /** Release the worlds and the model (the WebAssembly heap does not know JavaScript's garbage collector). */
  dispose(): void {
    for (const d of this.datas) d.delete();
    this.datas.length = 0;
    this.model.delete();
  }
}

function resolveIndex(mj: Mujoco, model: MjModel): SimIndex {
  const jntQposAdr = model.jnt_qposadr as Int32Array;
  const jntDofAdr = model.jnt_dofadr as Int32Array;
  const sensorAdr = model.sensor_adr as Int32Array;
  const joints = H1_JOINT_NAMES.map((n) => idOf(mj, model, "joint", n));
  const sensor = (name: string) => sensorAdr[idOf(mj, model, "sensor", name)];
  return {
    jointQpos: Int32Array.from(joints, (j) => jntQposAdr[j]),
    jointDof: Int32Array.from(joints, (j) => jntDofAdr[j]),
    actuator: Int32Array.from(H1_JOINT_NAMES, (n) => idOf(mj, model, "actuator", n)),
    site: {
      head: idOf(mj, model, "site", "head"),
      imu: idOf(mj, model, "site", "imu"),
      left_foot: idOf(mj, model, "site", "left_foot"),
      right_foot: idOf(mj, model, "site", "right_foot"),
      com: idOf(mj, model, "site", "com"),
    },
    body: { pelvis: idOf(mj, model, "body", "pelvis"), torso_link: idOf(mj, model, "body", "torso_link") },
    sensorAdr: {
      pelvis_subtreelinvel: sensor("pelvis_subtreelinvel"),
      imu_quat: sensor("imu_quat"),
      imu_gyro: sensor("imu_gyro"),
      imu_acc: sensor("imu_acc"),
    },
    keyHome: idOf(mj, model, "key", "home"),
  };
}
