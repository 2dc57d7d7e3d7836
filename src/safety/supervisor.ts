// The safety supervisor: the mode machine, the command each mode sends, the watchdogs, and the filter that
// every outgoing command passes. It never trusts the policy: a policy command is only an input, and what
// leaves here is always finite and within the limits (src/safety/filter.ts).
//
// Modes: passive (zero torque), damping (kp 0, kd per joint), standup (measured pose -> default pose over
// standup_s), hold (default pose), policy (soft start: blend hold -> policy over soft_start_s), estop
// (latched damping; only reset() leaves it, to passive).
import type { SafetyConfig } from "../config/config.ts";
import { projectedGravity } from "../control/observation.ts";
import { H1_JOINTS } from "../robot/h1.ts";
import { copyCommand, motorCommand, type MotorCommand, type RobotState } from "../sim/h1-sim.ts";
import type { Logger } from "../util/log.ts";
import { emptyStats, filterCommand, type FilterStats } from "./filter.ts";
import type { JointLimits } from "./limits.ts";

export type Mode = "passive" | "damping" | "standup" | "hold" | "policy" | "estop";

/** Which modes an operator (or the start-up sequence) may ask for from each mode. Watchdogs may always
 * drop an active mode to damping; estop is always allowed; only reset() leaves estop. */
export const TRANSITIONS: Readonly<Record<Mode, readonly Mode[]>> = {
  passive: ["damping", "standup", "estop"],
  damping: ["passive", "standup", "estop"],
  standup: ["hold", "damping", "passive", "estop"],
  hold: ["policy", "standup", "damping", "passive", "estop"],
  policy: ["hold", "damping", "passive", "estop"],
  estop: [],
};

const ACTIVE: ReadonlySet<Mode> = new Set(["standup", "hold", "policy"]);

export interface SafetyEvent {
  tick: number;
  from: Mode;
  to: Mode;
  reason: string;
  /** Who asked: an operator request, a watchdog, or the supervisor itself (stand-up complete). */
  source: "request" | "watchdog" | "supervisor";
}

/** What the control loop knows at a tick, for the watchdogs. */
export interface TickInput {
  tick: number;
  /** The latest robot state, or null if none has arrived. */
  state: RobotState | null;
  stateAgeMs: number;
  /** Whether the robot's own tick counter advanced since the previous control tick. */
  stateAdvanced: boolean;
  /** The mapped policy command of this tick; null when there is none (no policy, or not in policy mode). */
  policy: MotorCommand | null;
  /** This tick's observation or action had NaN/Inf: the tick is rejected. */
  nonFinite: boolean;
  /** The policy call did not finish within its budget: `policy` is the previous action's command. */
  overrun: boolean;
}

export interface SupervisorOptions {
  safety: SafetyConfig;
  limits: JointLimits;
  /** Control period (s). */
  dt: number;
  /** The pose stand-up goes to and hold keeps, and the gains used there (H1 joint order). */
  defaultPose?: ArrayLike<number>;
  standKp?: ArrayLike<number>;
  standKd?: ArrayLike<number>;
  logger?: Logger;
  /** Called for every transition (telemetry). */
  onEvent?: (e: SafetyEvent) => void;
}

export class SafetySupervisor {
  private modeValue: Mode = "passive";
  private reasonValue = "start";
  private modeTick = 0;
  private lastTick = 0;
  private readonly out = motorCommand();
  private readonly lastSafe = motorCommand();
  private hasLastSafe = false;
  private readonly entryPose: Float64Array;
  private readonly pose: Float64Array;
  private readonly kp: Float64Array;
  private readonly kd: Float64Array;
  private frozenTicks = 0;
  private nonFiniteTicks = 0;
  private overrunTicks = 0;
  readonly stats: FilterStats = emptyStats();
  readonly events: SafetyEvent[] = [];

  constructor(private readonly o: SupervisorOptions) {
    const n = o.limits.n;
    this.pose = Float64Array.from(o.defaultPose ?? H1_JOINTS.map((j) => j.home));
    this.kp = Float64Array.from(o.standKp ?? H1_JOINTS.map((j) => j.kp));
    this.kd = Float64Array.from(o.standKd ?? H1_JOINTS.map((j) => j.kv));
    this.entryPose = new Float64Array(n);
  }

  get mode(): Mode {
    return this.modeValue;
  }

  get reason(): string {
    return this.reasonValue;
  }

  /** Ticks spent in the current mode. */
  get ticksInMode(): number {
    return this.lastTick - this.modeTick;
  }

  /** An operator's (or the start-up sequence's) request. Returns null when granted, else why not. */
  request(to: Mode, reason: string, ctx: { state: RobotState | null; fresh: boolean; policyLoaded: boolean }): string | null {
    if (to === "estop") {
      this.estop(reason);
      return null;
    }
    const from = this.modeValue;
    if (from === to) return null;
    if (!TRANSITIONS[from].includes(to)) {
      return from === "estop" ? "e-stop is latched: reset it first (it goes to passive)" : `${to} is not reachable from ${from}`;
    }
    if ((to === "standup" || to === "hold" || to === "policy") && !(ctx.state && ctx.fresh)) return `${to} needs a fresh robot state`;
    if (to === "policy" && !ctx.policyLoaded) return "no policy is loaded";
    this.transition(to, reason, "request", ctx.state);
    return null;
  }

  /** Always granted, from any mode; latched until reset(). */
  estop(reason: string): void {
    if (this.modeValue !== "estop") this.transition("estop", reason, "request", null);
  }

  /** Simulation only: the simulator has just reset the robot into the default pose (an episode start), so
   * the supervisor starts there in hold, as a real robot would after stand-up. Refused in e-stop. */
  holdAfterSimulatorReset(tick: number): string | null {
    if (this.modeValue === "estop") return "e-stop is latched: reset it first";
    this.lastTick = tick;
    this.hasLastSafe = false; // the previous episode's targets mean nothing for the new one
    this.transition("hold", "simulator reset to the default pose", "supervisor", null);
    return null;
  }

  /** Leave e-stop, to passive. Returns null when done, else why not. */
  reset(reason: string): string | null {
    if (this.modeValue !== "estop") return "not in e-stop";
    this.transition("passive", reason, "request", null);
    return null;
  }

  /** One control tick: watchdogs, the mode's command, the filter. Returns the command to send (reused buffer). */
  step(input: TickInput): MotorCommand {
    this.lastTick = input.tick;
    this.watchdogs(input);
    const cmd = this.out;
    if (input.nonFinite && this.hasLastSafe && this.modeValue === "policy") {
      copyCommand(this.lastSafe, cmd); // reject this tick: resend the last safe command (filtered again below)
    } else {
      this.modeCommand(input, cmd);
    }
    filterCommand(cmd, input.state, this.hasLastSafe ? this.lastSafe.q : null, this.o.limits, this.o.dt, this.stats);
    copyCommand(cmd, this.lastSafe);
    // With kp = 0 a target has no effect; the next target's rate limit starts from where the joint is, so
    // that leaving passive or damping starts from the measured pose, not from a stale target.
    const q = input.state?.q;
    if (q) for (let j = 0; j < cmd.kp.length; j++) if (cmd.kp[j] === 0 && Number.isFinite(q[j])) this.lastSafe.q[j] = q[j];
    this.hasLastSafe = true;
    return cmd;
  }

  private watchdogs(input: TickInput): void {
    const w = this.o.safety.watchdog;
    this.frozenTicks = input.stateAdvanced ? 0 : this.frozenTicks + 1;
    this.nonFiniteTicks = input.nonFinite ? this.nonFiniteTicks + 1 : 0;
    this.overrunTicks = input.overrun ? this.overrunTicks + 1 : 0;
    if (!ACTIVE.has(this.modeValue)) return;
    const toDamping = (reason: string) => this.transition("damping", reason, "watchdog", input.state);
    if (!input.state) return toDamping("no robot state");
    if (input.stateAgeMs > w.max_state_age_ms) return toDamping(`robot state is ${input.stateAgeMs.toFixed(1)} ms old (limit ${w.max_state_age_ms} ms)`);
    if (this.frozenTicks >= w.max_frozen_ticks) return toDamping(`robot tick counter frozen for ${this.frozenTicks} control ticks`);
    if (this.nonFiniteTicks >= w.max_nonfinite_ticks) return toDamping(`non-finite observation or action ${this.nonFiniteTicks} ticks in a row`);
    if (this.overrunTicks > w.max_overrun_ticks) return toDamping(`policy over its ${w.inference_budget_ms} ms budget ${this.overrunTicks} ticks in a row`);
    const qn = Math.hypot(input.state.imuQuat[0], input.state.imuQuat[1], input.state.imuQuat[2], input.state.imuQuat[3]);
    if (!(Math.abs(qn - 1) < 0.1)) return toDamping(`IMU quaternion invalid (norm ${qn})`);
    const tilt = tiltAngle(input.state.imuQuat);
    if (!(tilt <= w.max_tilt_rad)) return toDamping(`torso tilted ${tilt.toFixed(2)} rad from upright (limit ${w.max_tilt_rad} rad)`);
  }

  private modeCommand(input: TickInput, cmd: MotorCommand): void {
    const n = this.o.limits.n;
    const q = input.state?.q;
    const elapsed = (input.tick - this.modeTick) * this.o.dt;
    switch (this.modeValue) {
      case "passive":
      case "damping":
      case "estop": {
        const damped = this.modeValue !== "passive";
        for (let j = 0; j < n; j++) {
          cmd.q[j] = q && Number.isFinite(q[j]) ? q[j] : this.pose[j];
          cmd.dq[j] = 0;
          cmd.tau[j] = 0;
          cmd.kp[j] = 0;
          cmd.kd[j] = damped ? this.o.limits.dampingKd[j] : 0;
        }
        return;
      }
      case "standup": {
        const a = Math.min(1, elapsed / this.o.safety.standup_s);
        for (let j = 0; j < n; j++) this.set(cmd, j, (1 - a) * this.entryPose[j] + a * this.pose[j], this.kp[j], this.kd[j]);
        if (a >= 1) this.transition("hold", "stand-up complete", "supervisor", input.state);
        return;
      }
      case "hold":
        for (let j = 0; j < n; j++) this.set(cmd, j, this.pose[j], this.kp[j], this.kd[j]);
        return;
      case "policy": {
        const p = input.policy;
        if (!p) {
          // Nothing from the policy this tick (should not happen in policy mode): hold, never the last target.
          for (let j = 0; j < n; j++) this.set(cmd, j, this.pose[j], this.kp[j], this.kd[j]);
          return;
        }
        const b = this.o.safety.soft_start_s > 0 ? Math.min(1, elapsed / this.o.safety.soft_start_s) : 1;
        for (let j = 0; j < n; j++) {
          cmd.q[j] = (1 - b) * this.pose[j] + b * p.q[j];
          cmd.dq[j] = b * p.dq[j];
          cmd.tau[j] = b * p.tau[j];
          cmd.kp[j] = (1 - b) * this.kp[j] + b * p.kp[j];
          cmd.kd[j] = (1 - b) * this.kd[j] + b * p.kd[j];
        }
        return;
      }
    }
  }

  private set(cmd: MotorCommand, j: number, q: number, kp: number, kd: number): void {
    cmd.q[j] = q;
    cmd.dq[j] = 0;
    cmd.tau[j] = 0;
    cmd.kp[j] = kp;
    cmd.kd[j] = kd;
  }

  private transition(to: Mode, reason: string, source: SafetyEvent["source"], state: RobotState | null): void {
    const from = this.modeValue;
    if (to === "standup") {
      // From where the robot is; where it is unknown, from the last target sent.
      for (let j = 0; j < this.entryPose.length; j++) {
        const q = state?.q[j];
        this.entryPose[j] = q !== undefined && Number.isFinite(q) ? q : this.hasLastSafe ? this.lastSafe.q[j] : this.pose[j];
      }
    }
    this.modeValue = to;
    this.reasonValue = reason;
    // A transition inside step() takes effect on this tick; one requested between ticks on the next.
    this.modeTick = this.lastTick;
    this.frozenTicks = this.nonFiniteTicks = this.overrunTicks = 0;
    const event: SafetyEvent = { tick: this.lastTick, from, to, reason, source };
    this.events.push(event);
    if (this.events.length > 1000) this.events.splice(0, this.events.length - 1000);
    this.o.logger?.log(source === "watchdog" || to === "estop" ? "warn" : "info", `safety: ${from} -> ${to}: ${reason}`, { tick: event.tick, source });
    this.o.onEvent?.(event);
  }
}

/** Angle between the torso's up axis and the world's, from the IMU quaternion (w x y z). */
export function tiltAngle(quat: ArrayLike<number>): number {
  const g = projectedGravity(quat, tiltScratch);
  return Math.acos(Math.max(-1, Math.min(1, -g[2])));
}
const tiltScratch = new Float64Array(3);
