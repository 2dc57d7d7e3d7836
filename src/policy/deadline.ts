// Deadline-aware sampling: the engine has a time budget per call and, when a call would not finish within
// it (a slow machine, CPU contention), degrades in a declared order and climbs back when time allows.
//
// The ladder, best first (degradationLadder):
//   1. fewer candidates: K, K/2, K/4, ..., 1, each with the full T-step sampler;
//   2. fewer denoising steps: DDIM over about a quarter fewer of the trained steps per level, down to a
//      declared floor, one candidate. Below some number of steps a policy stops working (the shipped
//      stand policy, T = 5: 3 DDIM steps stand, 2 fall; docs/performance.md), so the floor is
//      configurable: by default half the trained steps, rounded up;
//   3. the one-step actor, when the package has one.
// The governor estimates the call time of the current level as the 75th percentile of its last 8 calls:
// a lasting slowdown shows within three calls, a lone spike (the OS, the garbage collector) does not move
// it. After every call it picks the best level predicted to fit the budget. Other levels are predicted
// from the current one by their share of the work (candidates x steps): calls have a fixed cost too, so
// this overestimates a better level and underestimates a worse one. It steps down at once (further on the
// next call if the prediction was short), but climbs one level at a time, after `climbAfter` calls at a
// level, and only to a level predicted to fit: with the overestimate, it does not oscillate.

export type LevelPath = "full" | "ddim" | "actor";

export interface DegradationLevel {
  /** Position in the ladder: 0 is the undegraded sampler. */
  rank: number;
  path: LevelPath;
  K: number;
  /** Denoiser evaluations per candidate (1 for the actor). */
  steps: number;
  /** e.g. "K32xT20", "ddim K1xS5", "actor K1". */
  name: string;
}

export function degradationLadder(K: number, T: number, hasActor: boolean, minSteps = Math.ceil(T / 2)): DegradationLevel[] {
  if (!Number.isInteger(minSteps) || minSteps < 1) throw new RangeError(`the fewest DDIM steps must be a positive integer, got ${minSteps}`);
  const levels: Omit<DegradationLevel, "rank">[] = [];
  for (let k = K; ; k = Math.max(1, Math.floor(k / 2))) {
    levels.push({ path: "full", K: k, steps: T, name: `K${k}xT${T}` });
    if (k === 1) break;
  }
  for (const s of ddimSteps(T, minSteps)) levels.push({ path: "ddim", K: 1, steps: s, name: `ddim K1xS${s}` });
  if (hasActor) levels.push({ path: "actor", K: 1, steps: 1, name: "actor K1" });
  return levels.map((l, rank) => ({ ...l, rank }));
}

export interface GovernorOptions {
  /** Calls at a level before climbing to the next better one (default 50: one second at 50 Hz). */
  climbAfter?: number;
}

/** DDIM step counts below T: a quarter fewer each time (at least one), ending on minSteps. */
export function ddimSteps(T: number, minSteps: number): number[] {
  const out: number[] = [];
  for (let s = T - Math.max(1, Math.floor(T / 4)); s > minSteps; s -= Math.max(1, Math.floor(s / 4))) out.push(s);
  if (minSteps < T) out.push(minSteps);
  return out;
}

const WINDOW = 8;

export class DeadlineGovernor {
  private rank = 0;
  private callsAtLevel = 0;
  /** The current level's last call times (ms, a ring of WINDOW) and the estimate made from them. */
  private readonly recent = new Float64Array(WINDOW);
  private readonly sorted = new Float64Array(WINDOW);
  private estimate = 0;
  private readonly climbAfter: number;

  constructor(
    readonly ladder: DegradationLevel[],
    readonly budgetMs: number,
    options: GovernorOptions = {},
  ) {
    if (ladder.length === 0) throw new RangeError("the degradation ladder is empty");
    if (!(budgetMs > 0)) throw new RangeError(`the policy's time budget must be > 0 ms, got ${budgetMs}`);
    this.climbAfter = options.climbAfter ?? 50;
  }

  get level(): DegradationLevel {
    return this.ladder[this.rank];
  }

  get degraded(): boolean {
    return this.rank > 0;
  }

  /** The predicted time of `level` given the current level's estimate, by share of the work. */
  predict(level: DegradationLevel): number {
    return (this.estimate * work(level)) / work(this.level);
  }

  /** Report how long the last call at the current level took; returns the level for the next call. */
  observe(ms: number): DegradationLevel {
    this.recent[this.callsAtLevel++ % WINDOW] = ms;
    const n = Math.min(this.callsAtLevel, WINDOW);
    const sorted = this.sorted.subarray(0, n); // no allocation per call
    sorted.set(this.recent.subarray(0, n));
    sorted.sort();
    this.estimate = sorted[Math.min(n - 1, Math.floor(0.75 * n))];
    if (this.estimate > this.budgetMs) {
      // the best level below predicted to fit; the last one if none is
      let r = this.rank + 1;
      while (r < this.ladder.length - 1 && this.predict(this.ladder[r]) > this.budgetMs) r++;
      this.moveTo(Math.min(r, this.ladder.length - 1));
    } else if (this.rank > 0 && this.callsAtLevel >= this.climbAfter) {
      const better = this.ladder[this.rank - 1];
      if (this.predict(better) <= this.budgetMs) this.moveTo(this.rank - 1);
    }
    return this.level;
  }

  private moveTo(rank: number): void {
    if (rank === this.rank) return;
    this.estimate = this.predict(this.ladder[rank]);
    this.rank = rank;
    this.callsAtLevel = 0;
  }
}

/** Denoiser evaluations per call: candidates x steps (the critic's share rides along with the candidates). */
function work(level: DegradationLevel): number {
  return level.K * level.steps;
}
