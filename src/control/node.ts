// The control node's tick: the latest robot state (its age, whether its tick counter moved), the
// observation from the policy's manifest terms, the policy engine, the action mapped to joint commands by
// name, the safety supervisor, the link, a telemetry record with per-stage timings. Nothing here touches
// the disk or the network (but the link), and the telemetry never makes the tick wait.
import { performance } from "node:perf_hooks";
import type { Config } from "../config/config.ts";
import type { RobotLink, LinkState } from "../link/link.ts";
import type { DegradationLevel } from "../policy/deadline.ts";
import type { PolicyEngine, PolicySample } from "../policy/engine.ts";
import { jointLimits, type JointLimits } from "../safety/limits.ts";
import { SafetySupervisor, type Mode } from "../safety/supervisor.ts";
import { ActionMapper } from "./action.ts";
import { motorCommand, robotState, type MotorCommand } from "../sim/h1-sim.ts";
import { TelemetryRing, type TickRecord } from "../telemetry/ring.ts";
import type { Logger } from "../util/log.ts";
import { defaultVelocityCommand, ObservationBuilder, type ObservationSources } from "./observation.ts";

/** What the node needs of a policy engine (PolicyEngine; tests wrap one to inject faults). */
export type PolicySampler = Pick<PolicyEngine, "manifest" | "candidatesPerObservation" | "sample" | "setK">;

export class PolicyRefused extends Error {
  override name = "PolicyRefused";
}

export interface ControlNodeOptions {
  config: Config;
  link: RobotLink;
  logger: Logger;
  engine?: PolicySampler | null;
  /** Enforce the inference budget (real time). In lockstep the simulator waits for the policy instead. */
  enforceBudget?: boolean;
  telemetry?: TelemetryRing;
}

interface LoadedPolicy {
  engine: PolicySampler;
  builder: ObservationBuilder;
  mapper: ActionMapper;
  obs: Float32Array;
  lastAction: Float32Array;
  velocityCommand: Float64Array;
  /** The observation builder's inputs, refilled every tick. */
  sources: ObservationSources;
}

const now = () => performance.now();

export class ControlNode {
  readonly supervisor: SafetySupervisor;
  readonly limits: JointLimits;
  readonly telemetry: TelemetryRing;
  readonly dt: number;
  private policy: LoadedPolicy | null = null;
  private readonly linkState: LinkState = { robot: robotState(), receivedAtMs: -Infinity };
  private haveState = false;
  private lastRobotTick = -1;
  private tickIndex = 0;
  private policyTicks = 0;
  private readonly policyCommand: MotorCommand = motorCommand();
  private pending: Promise<PolicySample> | null = null;
  private policyErrors = 0;
  private lastLevelRank = -1;

  constructor(private readonly o: ControlNodeOptions) {
    this.dt = 1 / o.config.control.rate_hz;
    this.limits = jointLimits(o.config.safety);
    this.telemetry = o.telemetry ?? new TelemetryRing(o.config.telemetry.ring_size);
    this.supervisor = new SafetySupervisor({
      safety: o.config.safety,
      limits: this.limits,
      dt: this.dt,
      logger: o.logger,
      onEvent: (e) => this.telemetry.emitEvent(e),
    });
    if (o.engine) this.setPolicy(o.engine);
  }

  get link(): RobotLink {
    return this.o.link;
  }

  get engine(): PolicySampler | null {
    return this.policy?.engine ?? null;
  }

  /** Check a policy against this node and link; throws PolicyRefused with the reason. */
  checkPolicy(engine: PolicySampler): ObservationBuilder {
    const m = engine.manifest;
    if (m.robot !== "h1") throw new PolicyRefused(`policy ${m.name} is for robot "${m.robot}", this node drives the H1`);
    if (Math.abs(m.control_rate_hz - this.o.config.control.rate_hz) > 1e-9) {
      throw new PolicyRefused(`policy ${m.name} was trained at ${m.control_rate_hz} Hz; this loop runs at ${this.o.config.control.rate_hz} Hz`);
    }
    const builder = new ObservationBuilder(m.observation.terms);
    if (this.o.link.real && builder.simOnlyTerms.length) {
      throw new PolicyRefused(
        `policy ${m.name} needs simulation-only observation terms (${builder.simOnlyTerms.join(", ")}); refused on a real-robot link`,
      );
    }
    if (builder.size !== m.observation.size) throw new PolicyRefused(`policy ${m.name}: its terms add up to ${builder.size}, not ${m.observation.size}`);
    return builder;
  }

  /** Install a policy: only in passive or hold, never while one drives the robot. */
  setPolicy(engine: PolicySampler): void {
    const mode = this.supervisor.mode;
    if (mode !== "passive" && mode !== "hold") throw new PolicyRefused(`a policy can be loaded in passive or hold, not in ${mode}`);
    const builder = this.checkPolicy(engine);
    const m = engine.manifest;
    this.telemetry.ensureCapacity(engine.candidatesPerObservation, m.action.size, m.observation.size);
    const lastAction = new Float32Array(m.action.size);
    const velocityCommand = Float64Array.from(this.o.config.control.velocity_command ?? defaultVelocityCommand(m.observation.terms) ?? [0, 0, 0]);
    this.policy = {
      engine,
      builder,
      mapper: new ActionMapper(m),
      obs: new Float32Array(m.observation.size),
      lastAction,
      velocityCommand,
      sources: { state: this.linkState.robot, lastAction, velocityCommand, timeS: 0 },
    };
  }

  /** Candidates per tick of the running policy (between ticks; the telemetry grows to hold them). */
  setK(K: number): void {
    const p = this.policy;
    if (!p) throw new PolicyRefused("no policy is loaded");
    p.engine.setK(K);
    this.telemetry.ensureCapacity(K, p.lastAction.length, p.obs.length);
  }

  /** The base velocity command given to policies that observe one (vx, vy, yaw rate). */
  get velocityCommand(): number[] | null {
    return this.policy ? Array.from(this.policy.velocityCommand) : null;
  }

  setVelocityCommand(v: ArrayLike<number>): void {
    if (v.length !== 3 || !Array.from(v).every(Number.isFinite)) throw new RangeError("a velocity command is 3 finite numbers");
    this.policy?.velocityCommand.set(v);
  }

  /** An operator request; null when granted, else why not. */
  request(mode: Mode, reason: string): string | null {
    const fresh = this.stateIsFresh();
    const granted = this.supervisor.request(mode, reason, {
      state: this.haveState ? this.linkState.robot : null,
      fresh,
      policyLoaded: this.policy !== null,
    });
    if (granted === null && mode === "policy" && this.policy) {
      this.policy.lastAction.fill(0);
      this.policyTicks = 0;
    }
    return granted;
  }

  /** Simulation only: a new episode has just been reset into the default pose; hold, then run the policy
   * from the next tick (as the trainer's episodes start). */
  beginSimulatedEpisode(): void {
    if (this.o.link.kind !== "sim") throw new Error("episodes exist only in simulation");
    const refused = this.supervisor.holdAfterSimulatorReset(this.tickIndex) ?? this.request("policy", "episode start");
    if (refused) throw new Error(`cannot start the episode: ${refused}`);
  }

  private stateIsFresh(): boolean {
    this.haveState = this.o.link.readState(this.linkState) || this.haveState;
    return this.haveState && now() - this.linkState.receivedAtMs <= this.o.config.safety.watchdog.max_state_age_ms;
  }

  /** One control tick. `deadlineMissed` is recorded (the scheduler knows it). */
  async tick(deadlineMissed = false): Promise<TickRecord> {
    const rec = this.telemetry.next();
    const t0 = now();
    const got = this.o.link.readState(this.linkState);
    this.haveState ||= got;
    const state = this.haveState ? this.linkState.robot : null;
    const ageMs = this.haveState ? Math.max(0, t0 - this.linkState.receivedAtMs) : Infinity;
    const advanced = this.haveState && state!.tick !== this.lastRobotTick;
    if (state) this.lastRobotTick = state.tick;
    const t1 = now();

    let nonFinite = false;
    let overrun = false;
    let policyCmd: MotorCommand | null = null;
    let t2 = t1;
    let inferenceMs = 0;
    let selectionMs = 0;
    rec.policyRan = false;
    const p = this.policy;
    if (p && this.supervisor.mode === "policy" && state) {
      try {
        const src = p.sources;
        src.qpos = this.linkState.qpos;
        src.qvel = this.linkState.qvel;
        src.timeS = this.policyTicks * this.dt;
        p.builder.build(src, p.obs);
        nonFinite = !allFinite(p.obs);
        t2 = now();
        if (!nonFinite) {
          const sample = await this.infer(p);
          if (sample === null) overrun = true;
          else if (!sample.finite || !allFinite(sample.action)) nonFinite = true;
          else {
            p.lastAction.set(sample.action.subarray(0, p.lastAction.length));
            selectionMs = sample.timings.selection_ms;
            rec.policyRan = true;
            rec.obsSize = p.obs.length;
            rec.observation.set(p.obs);
            rec.K = sample.K;
            rec.actionSize = p.lastAction.length;
            rec.candidates.set(sample.candidates.subarray(0, sample.K * p.lastAction.length));
            rec.chosen = sample.index[0];
            rec.scores.set(sample.scores.subarray(0, sample.K));
            rec.action.set(p.lastAction);
            rec.level = sample.level?.name ?? "";
            rec.levelRank = sample.level?.rank ?? -1;
            rec.steps = sample.steps;
            if (rec.levelRank !== this.lastLevelRank) this.reportLevel(sample.level);
          }
        }
      } catch (err) {
        // A failing policy call is a rejected tick, like a non-finite one: the supervisor takes it from here.
        nonFinite = true;
        if (this.policyErrors++ < 10) this.o.logger.log("error", `policy call failed: ${(err as Error).message}`);
      }
      inferenceMs = now() - t2;
      if (!nonFinite) policyCmd = p.mapper.toCommand(p.lastAction, this.policyCommand);
      this.policyTicks++;
    }
    const t3 = now();
    const cmd = this.supervisor.step({ tick: this.tickIndex, state, stateAgeMs: ageMs, stateAdvanced: advanced, policy: policyCmd, nonFinite, overrun });
    const t4 = now();
    this.o.link.send(cmd);
    const t5 = now();

    rec.tick = this.tickIndex++;
    rec.timeMs = t0;
    rec.mode = this.supervisor.mode;
    rec.stateAgeMs = ageMs;
    rec.robotTick = state ? state.tick : -1;
    rec.timings.state = t1 - t0;
    rec.timings.observation = t2 - t1;
    rec.timings.inference = inferenceMs - selectionMs;
    rec.timings.selection = selectionMs;
    rec.timings.safety = t4 - t3;
    rec.timings.send = t5 - t4;
    rec.timings.total = t5 - t0;
    rec.deadlineMissed = deadlineMissed;
    rec.overrun = overrun;
    rec.nonFinite = nonFinite;
    if (state) {
      rec.q.set(state.q);
      rec.dq.set(state.dq);
      rec.tauEst.set(state.tauEst);
      rec.imuQuat.set(state.imuQuat);
    }
    rec.command.q.set(cmd.q);
    rec.command.dq.set(cmd.dq);
    rec.command.tau.set(cmd.tau);
    rec.command.kp.set(cmd.kp);
    rec.command.kd.set(cmd.kd);
    Object.assign(rec.filter, this.supervisor.stats);
    this.telemetry.commit();
    return rec;
  }

  /** The policy's sample for this tick, or null when it is over budget (real time only). */
  /** Deadline-aware sampling changed level: say so in the log (and with it on the API's log channel). */
  private reportLevel(level: DegradationLevel | null): void {
    const from = this.lastLevelRank;
    this.lastLevelRank = level?.rank ?? -1;
    if (!level || from === -1) return; // no budget, or the first policy tick
    const how = level.rank > from ? "degraded" : "recovered";
    const why = level.rank > from ? "calls ran over" : "calls fit again in";
    this.o.logger.log(level.rank > from ? "warn" : "info", `policy ${how} to ${level.name}: ${why} the ${this.o.config.policy.budget_ms} ms time budget`, { rank: level.rank });
  }

  private async infer(p: LoadedPolicy): Promise<PolicySample | null> {
    if (!this.o.enforceBudget) return p.engine.sample(p.obs);
    if (this.pending) return null; // the previous call is still running: this tick reuses the last action
    const call = p.engine.sample(p.obs);
    const budget = this.o.config.safety.watchdog.inference_budget_ms;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), budget)));
    const first = await Promise.race([call, late]);
    clearTimeout(timer);
    if (first === null) {
      this.pending = call;
      call.then(
        () => (this.pending = null),
        () => (this.pending = null),
      );
    }
    return first;
  }
}

function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}
