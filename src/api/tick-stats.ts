// Tick statistics for the status route: counters since start and latency percentiles over a sliding
// window, fed from the telemetry ring (constant memory).
import type { TelemetryRing } from "../telemetry/ring.ts";
import { summarize, type LatencySummary } from "../util/stats.ts";

export class TickStats {
  ticks = 0;
  deadlineMisses = 0;
  overruns = 0;
  nonFinite = 0;
  private readonly window: Float64Array;
  private filled = 0;
  private at = 0;

  constructor(ring: TelemetryRing, windowTicks = 500) {
    this.window = new Float64Array(windowTicks);
    ring.onTick((r, from, to) => {
      for (let s = from; s < to; s++) {
        const rec = r.get(s);
        if (!rec) continue;
        this.ticks++;
        if (rec.deadlineMissed) this.deadlineMisses++;
        if (rec.overrun) this.overruns++;
        if (rec.nonFinite) this.nonFinite++;
        this.window[this.at] = rec.timings.total;
        this.at = (this.at + 1) % this.window.length;
        this.filled = Math.min(this.filled + 1, this.window.length);
      }
    });
  }

  /** Tick latency over the last window (ms). */
  latency(): LatencySummary {
    return summarize(this.window.subarray(0, this.filled));
  }
}
