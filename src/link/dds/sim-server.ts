// The simulated H1 as a robot on DDS, for its own process (`npm run sim -- --link dds`): it speaks what the
// H1 speaks. It reads rt/lowcmd, drops frames the robot would drop (header, CRC over the C layout, motor
// modes, slot 9), and applies the latest accepted command at every physics substep (the motor law of
// src/sim/h1-sim.ts); it writes rt/lowstate after every substep (500 Hz: motors, torso IMU, tick, the
// remote's 40 bytes) and rt/wirelesscontroller at 50 Hz. Before the first command the motors are off
// (zero torque), as the robot in debug mode is close to. An optional elastic band holds the pelvis like
// the gantry of a real bring-up (unitree_mujoco has the same idea).
import { performance } from "node:perf_hooks";
import { H1_NUM_JOINTS } from "../../robot/h1.ts";
import { H1Sim, motorCommand, robotState, type MotorCommand } from "../../sim/h1-sim.ts";
import { lowCmdProblem, motorCommandFromLowCmd } from "../unitree/lowcmd.ts";
import { LOWCMD_SIZE, unpackLowCmd } from "../unitree/lowcmd-layout.ts";
import { buildLowState } from "../unitree/lowstate.ts";
import { comboMask, encodeRemote } from "../unitree/remote.ts";
import { interfaceConfigXml, loadDds, type DdsBinding } from "./binding.ts";
import { LOWSTATE_SIZE, packLowState, packWireless, WIRELESS_SIZE } from "./layout.ts";

export interface SimServerOptions {
  domainId: number;
  /** Network interface (lo for a node on this machine); null: CYCLONEDDS_URI or CycloneDDS's default. */
  interface: string | null;
  topics?: { lowcmd: string; lowstate: string; wirelesscontroller: string };
  /** The elastic band (a virtual gantry) on the pelvis. */
  band: boolean;
  simDir?: string;
}

export interface SimStatus {
  t: number; // simulated seconds
  tick: number;
  lowcmd_received: number;
  lowcmd_rejected: number;
  last_problem: string | null;
  pelvis_z: number;
  tilt_rad: number;
  /** The command being applied: its largest kp and kd (0/0 before the first command). */
  kp_max: number;
  kd_max: number;
  keys: number;
  realtime_lag_ms: number;
}

// N/m, N·s/m, m; and N·m/rad, N·m·s/rad keeping the pelvis upright (a gantry's harness holds the trunk).
const BAND = { stiffness: 200, damping: 100, anchorAbovePelvis: 2.0, rotStiffness: 400, rotDamping: 40 };
const WIRELESS_EVERY = 10; // substeps: 50 Hz

export class DdsSimServer {
  private readonly command: MotorCommand = motorCommand(); // zero: motors off until the first LowCmd
  private readonly state = robotState();
  private readonly stateBytes = new Uint8Array(LOWSTATE_SIZE);
  private readonly wirelessBytes = new Uint8Array(WIRELESS_SIZE);
  private readonly participant: number;
  private readonly lowstate: number;
  private readonly wireless: number;
  private tick = 0;
  private received = 0;
  private rejected = 0;
  private lastProblem: string | null = null;
  private keys = 0;
  private keysUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private lagMs = 0;
  private readonly anchor: [number, number, number];

  private constructor(
    readonly sim: H1Sim,
    private readonly dds: DdsBinding,
    private readonly o: SimServerOptions,
  ) {
    const t = o.topics ?? { lowcmd: "rt/lowcmd", lowstate: "rt/lowstate", wirelesscontroller: "rt/wirelesscontroller" };
    this.participant = dds.createParticipant(o.domainId, o.interface ? interfaceConfigXml(o.interface) : null);
    this.lowstate = dds.createWriter(this.participant, t.lowstate, "LowState", false, 1);
    this.wireless = dds.createWriter(this.participant, t.wirelesscontroller, "WirelessController", false, 1);
    dds.createReader(this.participant, t.lowcmd, "LowCmd", false, 1, (bytes) => this.onLowCmd(bytes));
    const qpos = sim.datas[0].qpos as Float64Array;
    this.anchor = [qpos[0], qpos[1], qpos[2] + BAND.anchorAbovePelvis];
    sim.setCommand(0, this.command);
  }

  static async create(o: SimServerOptions, dds: DdsBinding = loadDds()): Promise<DdsSimServer> {
    return new DdsSimServer(await H1Sim.create("h1_flat", 1, o.simDir), dds, o);
  }

  private onLowCmd(bytes: Uint8Array): void {
    if (bytes.length !== LOWCMD_SIZE) return;
    const msg = unpackLowCmd(bytes);
    const problem = lowCmdProblem(msg);
    if (problem) {
      // The robot drops such a frame silently; here it is counted and the last reason kept.
      this.rejected++;
      this.lastProblem = problem;
      return;
    }
    this.received++;
    motorCommandFromLowCmd(msg, this.command);
  }

  /** Hold a remote key combination ("L2+B") down for `ms`, as a person would press it. */
  press(combo: string, ms = 200): void {
    this.keys = comboMask(combo);
    this.keysUntil = this.sim.timestep * this.tick + ms / 1000;
  }

  /** One physics substep under the latest command, then the robot's report. */
  step(): void {
    const sim = this.sim;
    if (this.o.band) this.applyBand();
    sim.setCommand(0, this.command);
    sim.step(0, 1);
    this.tick++;
    if (this.keys && this.tick * sim.timestep >= this.keysUntil) this.keys = 0;
    sim.readState(0, this.state);
    const remote = encodeRemote({ keys: this.keys });
    packLowState(buildLowState(this.state, this.tick, remote), this.stateBytes);
    this.dds.write(this.lowstate, this.stateBytes);
    if (this.tick % WIRELESS_EVERY === 0) this.dds.write(this.wireless, packWireless({ lx: 0, ly: 0, rx: 0, ry: 0, keys: this.keys }, this.wirelessBytes));
  }

  /** A spring-damper from a point above the pelvis's start, on the pelvis: the robot hangs as in a gantry. */
  private applyBand(): void {
    const d = this.sim.datas[0];
    const qpos = d.qpos as Float64Array;
    const qvel = d.qvel as Float64Array;
    const f = d.xfrc_applied as Float64Array;
    const at = 6 * this.sim.index.body.pelvis;
    const dx = this.anchor[0] - qpos[0];
    const dy = this.anchor[1] - qpos[1];
    const dz = this.anchor[2] - qpos[2];
    const dist = Math.hypot(dx, dy, dz) || 1;
    const k = BAND.stiffness * dist; // rest length 0: pulls harder the further the pelvis sags
    f[at] = (k * dx) / dist - BAND.damping * qvel[0];
    f[at + 1] = (k * dy) / dist - BAND.damping * qvel[1];
    f[at + 2] = (k * dz) / dist - BAND.damping * qvel[2];
    // Upright: torque about (body z x world z); angular velocity qvel[3..5] is in the body frame.
    const [w, x, y, z] = [qpos[3], qpos[4], qpos[5], qpos[6]];
    const zbx = 2 * (x * z + w * y);
    const zby = 2 * (y * z - w * x);
    const R = [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y), 2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x), zbx, zby, 1 - 2 * (x * x + y * y)];
    const [ox, oy, oz] = [qvel[3], qvel[4], qvel[5]];
    for (let i = 0; i < 3; i++) {
      const omega = R[3 * i] * ox + R[3 * i + 1] * oy + R[3 * i + 2] * oz;
      const tilt = i === 0 ? zby : i === 1 ? -zbx : 0;
      f[at + 3 + i] = BAND.rotStiffness * tilt - BAND.rotDamping * omega;
    }
  }

  /** Run on the wall clock (absolute deadlines; late substeps are simulated late, not skipped). */
  start(): void {
    if (this.timer) return;
    const periodMs = this.sim.timestep * 1000;
    const start = performance.now();
    let steps = 0;
    const run = () => {
      const now = performance.now();
      const due = Math.floor((now - start) / periodMs);
      this.lagMs = Math.max(0, (due - steps) * periodMs);
      while (steps < due) {
        this.step();
        steps++;
      }
      this.timer = setTimeout(run, Math.max(0, start + (steps + 1) * periodMs - performance.now()));
    };
    this.timer = setTimeout(run, periodMs);
  }

  status(): SimStatus {
    const qpos = this.sim.datas[0].qpos as Float64Array;
    const [x, y] = [qpos[4], qpos[5]]; // pelvis quaternion w x y z at qpos[3..6]
    let kp = 0;
    let kd = 0;
    for (let j = 0; j < H1_NUM_JOINTS; j++) {
      kp = Math.max(kp, this.command.kp[j]);
      kd = Math.max(kd, this.command.kd[j]);
    }
    return {
      t: this.tick * this.sim.timestep,
      tick: this.tick,
      lowcmd_received: this.received,
      lowcmd_rejected: this.rejected,
      last_problem: this.lastProblem,
      pelvis_z: qpos[2],
      tilt_rad: Math.acos(Math.min(1, Math.max(-1, 1 - 2 * (x * x + y * y)))),
      kp_max: kp,
      kd_max: kd,
      keys: this.keys,
      realtime_lag_ms: this.lagMs,
    };
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dds.close(this.participant);
    this.sim.dispose();
  }
}
