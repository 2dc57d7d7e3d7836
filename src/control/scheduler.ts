// A fixed-rate scheduler with absolute deadlines: tick k is due at start + k * period, so lateness never
// accumulates into drift. A tick that ends after the next deadline counts as a deadline miss and the
// missed slots are skipped (no burst of catch-up ticks).
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

export interface SchedulerStats {
  ticks: number;
  deadlineMisses: number;
  /** Largest start lateness seen (ms). */
  maxLatenessMs: number;
}

/** The clock a scheduler runs on (tests give it a virtual one). */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

// Node's timers count whole milliseconds and drop the fraction, which would wake a tick early: round up.
export const realClock: Clock = { now: () => performance.now(), sleep: (ms) => sleep(Math.ceil(ms)) };

export class Scheduler {
  readonly stats: SchedulerStats = { ticks: 0, deadlineMisses: 0, maxLatenessMs: 0 };
  private running = false;
  private stopped: Promise<void> | null = null;

  constructor(
    readonly periodMs: number,
    private readonly tick: (index: number, missedPrevious: boolean, latenessMs: number) => Promise<void>,
    private readonly clock: Clock = realClock,
  ) {
    if (!(periodMs > 0)) throw new RangeError(`period must be positive, got ${periodMs}`);
  }

  /** Run until stop() (or `maxTicks`). Resolves when the loop has ended. */
  start(maxTicks = Infinity): Promise<void> {
    if (this.stopped) return this.stopped;
    this.running = true;
    this.stopped = this.loop(maxTicks);
    return this.stopped;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.stopped;
  }

  private async loop(maxTicks: number): Promise<void> {
    const { now } = this.clock;
    const start = now();
    let slot = 0;
    let missed = false;
    while (this.running && this.stats.ticks < maxTicks) {
      const due = start + slot * this.periodMs;
      const wait = due - now();
      if (wait > 0) await this.clock.sleep(wait);
      const lateness = now() - due;
      this.stats.maxLatenessMs = Math.max(this.stats.maxLatenessMs, lateness);
      await this.tick(this.stats.ticks, missed, lateness);
      this.stats.ticks++;
      const next = Math.floor((now() - start) / this.periodMs) + 1;
      missed = next > slot + 1;
      if (missed) this.stats.deadlineMisses++;
      slot = Math.max(slot + 1, next);
    }
    this.running = false;
  }
}
