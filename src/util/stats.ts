// Latency statistics for benchmarks and the control loop's status lines.

/** Nearest-rank percentile of an ascending-sorted array (p in [0, 100]). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface LatencySummary {
  n: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

export function summarize(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.length ? sorted[sorted.length - 1] : NaN),
    mean_ms: round(sorted.length ? sum / sorted.length : NaN),
  };
}

/** Latencies in fixed buckets (10 µs up to 1 s): constant memory for runs of any length. */
export class LatencyHistogram {
  private static readonly BUCKET_MS = 0.01;
  private readonly counts = new Float64Array(100_001);
  private total = 0;
  private sum = 0;
  private max = 0;

  add(ms: number): void {
    const b = Math.min(this.counts.length - 1, Math.max(0, Math.round(ms / LatencyHistogram.BUCKET_MS)));
    this.counts[b]++;
    this.total++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Nearest-rank percentile, to the bucket's resolution. */
  percentile(p: number): number {
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= rank) return b * LatencyHistogram.BUCKET_MS;
    }
    return NaN;
  }

  summary(): LatencySummary {
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      n: this.total,
      p50_ms: round(this.percentile(50)),
      p99_ms: round(this.percentile(99)),
      max_ms: round(this.max),
      mean_ms: round(this.total ? this.sum / this.total : NaN),
    };
  }
}
