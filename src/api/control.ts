// What the API may do to the control node, as one asynchronous interface: the API runs in its own thread
// (src/api/thread.ts) and reaches the node through messages; InProcessControl is the node-side
// implementation (also used directly when API and node share a thread, e.g. in tests).
import type { Config } from "../config/config.ts";
import { PolicyRefused, type ControlNode } from "../control/node.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import { updateJointLimits } from "../safety/limits.ts";
import type { Mode, SafetyEvent } from "../safety/supervisor.ts";
import type { Logger } from "../util/log.ts";

export interface Params {
  K: number | null;
  soft_start_s: number;
  standup_s: number;
  soft_limit_factor: number;
  velocity_limit_factor: number;
  max_tilt_rad: number;
  max_state_age_ms: number;
  velocity_command: number[] | null;
}
export type ParamsPatch = Partial<Omit<Params, "K" | "velocity_command"> & { K: number; velocity_command: number[] }>;

export interface NodeStatus {
  mode: Mode;
  reason: string;
  policy: {
    name: string;
    algorithm: string;
    K: number;
    T: number | undefined;
    path: string;
    provider: string;
    threads: number;
    /** The native sampler's helper thread's share of the candidates so far; null without one. */
    helper_share: number | null;
  } | null;
  link: { kind: string; real: boolean };
  params: Params;
  episode: object | null;
  events: SafetyEvent[];
}

/** A refusal with an HTTP-like status: 404 unknown, 409 not now (mode, state), 422 invalid package. */
export class ControlError extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
  ) {
    super(message);
  }
}

export interface NodeControl {
  status(): Promise<NodeStatus>;
  /** Always granted; resolves with the mode after it. */
  estop(reason: string): Promise<Mode>;
  /** Leave e-stop (to passive); null when done, else why not. */
  reset(reason: string): Promise<string | null>;
  /** A mode request; null when granted, else why not. */
  request(mode: Mode, reason: string): Promise<string | null>;
  setParams(patch: ParamsPatch): Promise<Params>;
  /** Load, probe and install the policy in `dir` (only in passive or hold). */
  loadPolicy(dir: string): Promise<void>;
  recording(action: "start" | "stop" | "status"): Promise<object>;
}

export interface InProcessOptions {
  config: Config;
  node: ControlNode;
  engine: PolicyEngine | null;
  loadPolicy: (dir: string) => Promise<PolicyEngine>;
  logger: Logger;
  episode?: () => object;
}

export class InProcessControl implements NodeControl {
  private engine: PolicyEngine | null;
  /** Recording lives with the telemetry consumers (the API thread); set there when available. */
  recorder: { start(): Promise<object>; stop(): Promise<object>; status(): object } | null = null;

  constructor(private readonly o: InProcessOptions) {
    this.engine = o.engine;
  }

  async status(): Promise<NodeStatus> {
    const { node } = this.o;
    const e = this.engine;
    return {
      mode: node.supervisor.mode,
      reason: node.supervisor.reason,
      policy: e
        ? {
            ...{ name: e.manifest.name, algorithm: e.manifest.algorithm, K: e.candidatesPerObservation, T: e.manifest.diffusion?.steps },
            ...{ path: e.path, provider: e.provider, threads: e.threads, helper_share: e.helperShare },
          }
        : null,
      link: { kind: node.link.kind, real: node.link.real },
      params: this.params(),
      episode: this.o.episode?.() ?? null,
      events: node.supervisor.events.slice(-10),
    };
  }

  async estop(reason: string): Promise<Mode> {
    this.o.node.supervisor.estop(reason);
    return this.o.node.supervisor.mode;
  }

  async reset(reason: string): Promise<string | null> {
    return this.o.node.supervisor.reset(reason);
  }

  async request(mode: Mode, reason: string): Promise<string | null> {
    return this.o.node.request(mode, reason);
  }

  async setParams(p: ParamsPatch): Promise<Params> {
    const { node, config } = this.o;
    const safety = config.safety;
    if (p.K !== undefined) {
      if (!this.engine) throw new ControlError(409, "no policy is loaded");
      node.setK(p.K);
    }
    if (p.soft_start_s !== undefined) safety.soft_start_s = p.soft_start_s;
    if (p.standup_s !== undefined) safety.standup_s = p.standup_s;
    if (p.soft_limit_factor !== undefined) safety.soft_limit_factor = p.soft_limit_factor;
    if (p.velocity_limit_factor !== undefined) safety.velocity_limit_factor = p.velocity_limit_factor;
    if (p.max_tilt_rad !== undefined) safety.watchdog.max_tilt_rad = p.max_tilt_rad;
    if (p.max_state_age_ms !== undefined) safety.watchdog.max_state_age_ms = p.max_state_age_ms;
    if (p.velocity_command !== undefined) node.setVelocityCommand(p.velocity_command);
    updateJointLimits(node.limits, safety);
    this.o.logger.log("info", "runtime parameters changed", p);
    return this.params();
  }

  async loadPolicy(dir: string): Promise<void> {
    const sup = this.o.node.supervisor;
    const allowed = () => sup.mode === "passive" || sup.mode === "hold";
    if (!allowed()) throw new ControlError(409, `policies are loaded in passive or hold, not in ${sup.mode}`);
    let engine: PolicyEngine;
    try {
      engine = await this.o.loadPolicy(dir);
    } catch (err) {
      throw new ControlError(422, (err as Error).message);
    }
    try {
      if (!allowed()) throw new PolicyRefused(`the mode changed to ${sup.mode} while the policy loaded`);
      this.o.node.setPolicy(engine);
    } catch (err) {
      await engine.close();
      throw new ControlError(err instanceof PolicyRefused ? 409 : 422, (err as Error).message);
    }
    const previous = this.engine;
    this.engine = engine;
    await previous?.close();
    this.o.logger.log("info", `policy ${engine.manifest.name} loaded`);
  }

  async recording(action: "start" | "stop" | "status"): Promise<object> {
    if (!this.recorder) {
      if (action === "status") return { available: false };
      throw new ControlError(409, "recording is not available in this node");
    }
    if (action === "status") return this.recorder.status();
    try {
      return await this.recorder[action]();
    } catch (err) {
      throw new ControlError(409, (err as Error).message);
    }
  }

  private params(): Params {
    const s = this.o.config.safety;
    return {
      K: this.engine?.candidatesPerObservation ?? null,
      soft_start_s: s.soft_start_s,
      standup_s: s.standup_s,
      soft_limit_factor: s.soft_limit_factor,
      velocity_limit_factor: s.velocity_limit_factor,
      max_tilt_rad: s.watchdog.max_tilt_rad,
      max_state_age_ms: s.watchdog.max_state_age_ms,
      velocity_command: this.o.node.velocityCommand,
    };
  }
}
