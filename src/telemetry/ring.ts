// The in-process telemetry of the control loop: a ring of preallocated tick records that the tick writes
// into (no allocation per tick), and listeners told asynchronously which records are new. A listener that
// falls behind by more than the ring's size loses the oldest records, never memory; the tick never waits.
import type { FilterStats } from "../safety/filter.ts";
import type { Mode, SafetyEvent } from "../safety/supervisor.ts";
import { H1_NUM_JOINTS } from "../robot/h1.ts";

export const STAGES = ["state", "observation", "inference", "selection", "safety", "send"] as const;
export type Stage = (typeof STAGES)[number];

export interface TickRecord {
  seq: number;
  tick: number;
  /** performance.now() at the start of the tick (ms). */
  timeMs: number;
  mode: Mode;
  stateAgeMs: number;
  robotTick: number;
  /** Milliseconds per stage, and the whole tick. */
  timings: Record<Stage | "total", number>;
  deadlineMissed: boolean;
  overrun: boolean;
  nonFinite: boolean;
  /** The measured joint state and the command sent (H1 joint order). */
  q: Float64Array;
  dq: Float64Array;
  tauEst: Float64Array;
  imuQuat: Float64Array;
  command: { q: Float64Array; dq: Float64Array; tau: Float64Array; kp: Float64Array; kd: Float64Array };
  /** The policy's side of the tick (when it ran): its observation, the candidates (K x actionSize) and
   * their scores, the chosen one, its action. Only the first obsSize / K / actionSize entries are valid. */
  policyRan: boolean;
  obsSize: number;
  observation: Float32Array;
  K: number;
  actionSize: number;
  candidates: Float32Array;
  scores: Float32Array;
  chosen: number;
  action: Float32Array;
  /** Deadline-aware sampling: the degradation level's name and rank (0: undegraded; -1: no time budget),
   * and the denoising steps the call ran. */
  level: string;
  levelRank: number;
  steps: number;
  filter: FilterStats;
}

function record(maxK: number, actionSize: number, obsSize: number): TickRecord {
  const n = H1_NUM_JOINTS;
  const f = () => new Float64Array(n);
  return {
    seq: -1,
    tick: 0,
    timeMs: 0,
    mode: "passive",
    stateAgeMs: 0,
    robotTick: 0,
    timings: { state: 0, observation: 0, inference: 0, selection: 0, safety: 0, send: 0, total: 0 },
    deadlineMissed: false,
    overrun: false,
    nonFinite: false,
    q: f(),
    dq: f(),
    tauEst: f(),
    imuQuat: new Float64Array(4),
    command: { q: f(), dq: f(), tau: f(), kp: f(), kd: f() },
    policyRan: false,
    obsSize: 0,
    observation: new Float32Array(obsSize),
    K: 0,
    actionSize: 0,
    candidates: new Float32Array(maxK * actionSize),
    scores: new Float32Array(maxK),
    chosen: -1,
    action: new Float32Array(actionSize),
    level: "",
    levelRank: -1,
    steps: 0,
    filter: { nonFinite: 0, clamped: 0, rateLimited: 0, torqueBounded: 0 },
  };
}

export type TickListener = (ring: TelemetryRing, fromSeq: number, toSeq: number) => void;
export type EventListener = (event: SafetyEvent) => void;

export class TelemetryRing {
  private readonly records: TickRecord[];
  private capacity: { K: number; action: number; obs: number };
  private nextSeq = 0;
  private notifiedSeq = 0;
  private scheduled = false;
  private readonly tickListeners = new Set<TickListener>();
  private readonly eventListeners = new Set<EventListener>();

  /** `size` records whose policy fields hold K candidates of `actionSize` and an observation of `obsSize`;
   * ensureCapacity() grows them (at policy load, between ticks). */
  constructor(
    readonly size: number,
    K = 1,
    actionSize = 1,
    obsSize = 1,
  ) {
    this.capacity = { K, action: actionSize, obs: obsSize };
    this.records = Array.from({ length: size }, () => record(K, actionSize, obsSize));
  }

  /** Make every record's policy fields large enough (reallocates only what is too small). */
  ensureCapacity(K: number, actionSize: number, obsSize: number): void {
    const c = this.capacity;
    if (K <= c.K && actionSize <= c.action && obsSize <= c.obs) return;
    this.capacity = { K: Math.max(K, c.K), action: Math.max(actionSize, c.action), obs: Math.max(obsSize, c.obs) };
    for (const r of this.records) {
      r.observation = new Float32Array(this.capacity.obs);
      r.candidates = new Float32Array(this.capacity.K * this.capacity.action);
      r.scores = new Float32Array(this.capacity.K);
      r.action = new Float32Array(this.capacity.action);
    }
  }

  /** The record to fill for the next tick (reused memory: fill every field, then commit()). */
  next(): TickRecord {
    return this.records[this.nextSeq % this.size];
  }

  commit(): void {
    this.records[this.nextSeq % this.size].seq = this.nextSeq;
    this.nextSeq++;
    if (!this.scheduled && this.tickListeners.size) {
      this.scheduled = true;
      setImmediate(() => this.notify());
    }
  }

  /** Sequence number the next committed record will get. */
  get seq(): number {
    return this.nextSeq;
  }

  /** A committed record still in the ring, or null if it was overwritten or not written yet. The oldest
   * slot is excluded: it is the one the next tick writes into. */
  get(seq: number): TickRecord | null {
    if (seq < 0 || seq >= this.nextSeq || seq <= this.nextSeq - this.size) return null;
    return this.records[seq % this.size];
  }

  latest(): TickRecord | null {
    return this.get(this.nextSeq - 1);
  }

  onTick(listener: TickListener): () => void {
    this.tickListeners.add(listener);
    return () => this.tickListeners.delete(listener);
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  emitEvent(event: SafetyEvent): void {
    for (const l of this.eventListeners) {
      queueMicrotask(() => {
        try {
          l(event);
        } catch {
          // as for tick listeners
        }
      });
    }
  }

  private notify(): void {
    this.scheduled = false;
    const from = Math.max(this.notifiedSeq, this.nextSeq - this.size + 1);
    const to = this.nextSeq;
    this.notifiedSeq = to;
    for (const l of this.tickListeners) {
      try {
        l(this, from, to);
      } catch {
        // A failing consumer never affects the loop or the other consumers.
      }
    }
  }
}

/** A tick record as a plain message (structured-clone friendly, sliced to its valid sizes), for another thread. */
export function recordToMessage(r: TickRecord): TickRecord {
  return {
    ...r,
    timings: { ...r.timings },
    q: r.q.slice(),
    dq: r.dq.slice(),
    tauEst: r.tauEst.slice(),
    imuQuat: r.imuQuat.slice(),
    command: { q: r.command.q.slice(), dq: r.command.dq.slice(), tau: r.command.tau.slice(), kp: r.command.kp.slice(), kd: r.command.kd.slice() },
    observation: r.observation.slice(0, r.policyRan ? r.obsSize : 0),
    candidates: r.candidates.slice(0, r.policyRan ? r.K * r.actionSize : 0),
    scores: r.scores.slice(0, r.policyRan ? r.K : 0),
    action: r.action.slice(0, r.policyRan ? r.actionSize : 0),
    filter: { ...r.filter },
  };
}

/** Commit a record received as a message into this ring (the API thread's mirror of the node's ring). */
export function commitMessage(ring: TelemetryRing, m: TickRecord): void {
  ring.ensureCapacity(m.scores.length, m.action.length, m.observation.length);
  const r = ring.next();
  const { q, dq, tauEst, imuQuat, command, observation, candidates, scores, action, timings, filter, ...scalars } = m;
  Object.assign(r, scalars);
  Object.assign(r.timings, timings);
  Object.assign(r.filter, filter);
  r.q.set(q);
  r.dq.set(dq);
  r.tauEst.set(tauEst);
  r.imuQuat.set(imuQuat);
  for (const k of ["q", "dq", "tau", "kp", "kd"] as const) r.command[k].set(command[k]);
  r.observation.set(observation);
  r.candidates.set(candidates);
  r.scores.set(scores);
  r.action.set(action);
  ring.commit();
}
