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
    filter: { nonFinite: 0, clamped: 0, rateLimited: 0, torqueBounded: 0 },
  };
}

export type TickListener = (ring: TelemetryRing, fromSeq: number, toSeq: number) => void;
export type EventListener = (event: SafetyEvent) => void;

export class TelemetryRing {
  private readonly records: TickRecord[];
  private nextSeq = 0;
  private notifiedSeq = 0;
  private scheduled = false;
  private readonly tickListeners = new Set<TickListener>();
  private readonly eventListeners = new Set<EventListener>();

  constructor(
    readonly size: number,
    readonly maxK: number,
    readonly actionSize: number,
    readonly obsSize: number,
  ) {
    this.records = Array.from({ length: size }, () => record(maxK, actionSize, obsSize));
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

  /** A committed record still in the ring, or null if it was overwritten (or not written yet). */
  get(seq: number): TickRecord | null {
    if (seq < 0 || seq >= this.nextSeq || seq < this.nextSeq - this.size) return null;
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
    const from = Math.max(this.notifiedSeq, this.nextSeq - this.size);
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
