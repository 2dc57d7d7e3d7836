// Deadline-aware sampling under CPU contention: the policy call paced at 50 Hz by the control loop's
// scheduler, with 0, 1 or 2 busy-looping processes beside it (on this 2-core machine one hog takes the
// other core, two take both), once with the full sampler always and once with a time budget. A tick is
// missed when its call ends after the next tick is due (the 20 ms deadline at 50 Hz).
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { Scheduler } from "../control/scheduler.ts";
import { PolicyEngine } from "../policy/engine.ts";
import { SeededNormal } from "../policy/noise.ts";
import { silentLogger } from "../util/log.ts";
import { summarize, type LatencySummary } from "../util/stats.ts";

export interface DeadlineRecord extends LatencySummary {
  name: string;
  kind: "deadline";
  obs: number;
  act: number;
  K: number;
  T: number;
  hogs: number;
  /** Threads per call (the runtime's default, threads auto) and the native helper's share of the candidates. */
  threads: number;
  helper_share: number | null;
  budget_ms: number | null;
  deadline_ms: number;
  deadline_misses: number;
  /** Calls per degradation level, by level name (absent without a budget). */
  levels: Record<string, number>;
  worst_level: string;
}

function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
}

export async function measureDeadline(
  dir: string,
  seconds: number,
  hogs: number,
  budgetMs: number | null,
  rateHz = 50,
  threads: number | "auto" = "auto",
): Promise<DeadlineRecord> {
  const engine = await PolicyEngine.load(dir, { logger: silentLogger, crossCheck: false, budgetMs, session: { threads } });
  const m = engine.manifest;
  const obs = new SeededNormal(7).fill(new Float32Array(m.observation.size));
  const period = 1000 / rateHz;
  const calls: number[] = [];
  const levels: Record<string, number> = {};
  let worst = -1;
  let worstName = "";
  let misses = 0;
  let helperShare: number | null = null;
  for (let i = 0; i < 20; i++) await engine.sample(obs); // warm-up, unloaded
  const children = startHogs(hogs);
  await new Promise((r) => setTimeout(r, 300)); // let the hogs get going
  const ticks = Math.round(seconds * rateHz);
  try {
    const scheduler = new Scheduler(period, async (i, _missed, late) => {
      const started = performance.now();
      const s = await engine.sample(obs);
      const took = performance.now() - started;
      calls.push(took);
      if (late + took > period) misses++;
      if (s.level) {
        levels[s.level.name] = (levels[s.level.name] ?? 0) + 1;
        if (s.level.rank > worst) [worst, worstName] = [s.level.rank, s.level.name];
      }
    });
    await scheduler.start(ticks);
    helperShare = engine.helperShare;
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await engine.close();
  }
  const K = m.selection.K;
  return {
    name: `deadline/o${m.observation.size}a${m.action.size}/K${K}xT${m.diffusion!.steps}/hogs${hogs}/${budgetMs === null ? "no-budget" : `budget${budgetMs}ms`}`,
    kind: "deadline",
    obs: m.observation.size,
    act: m.action.size,
    K,
    T: m.diffusion!.steps,
    hogs,
    threads: engine.threads,
    helper_share: helperShare,
    budget_ms: budgetMs,
    deadline_ms: period,
    deadline_misses: misses,
    levels,
    worst_level: worstName,
    ...summarize(calls),
  };
}
