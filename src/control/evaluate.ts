// Policy evaluation through the real control loop: every action passes the observation builder, the
// policy engine, the action mapping and the safety supervisor, as on the robot. Lockstep (default): the
// simulator advances one control step per tick, faster than real time and reproducible. Real time: the
// simulator runs on its own clock while the loop runs on its scheduler, so policy latency matters.
import type { Config } from "../config/config.ts";
import { SimLink } from "../link/sim-link.ts";
import { summarize, type LatencySummary } from "../util/stats.ts";
import type { Logger } from "../util/log.ts";
import type { EpisodeResult } from "../sim/episodes.ts";
import { ControlNode, type PolicySampler } from "./node.ts";
import { Scheduler } from "./scheduler.ts";

export interface EvalReport {
  policy: string;
  task: string;
  mode: "lockstep" | "realtime";
  episodes: EpisodeResult[];
  mean_return: number;
  std_return: number;
  success_bar: number;
  success_rate: number;
  /** Whole control ticks (state to send), milliseconds. */
  tick_latency: LatencySummary;
  deadline_misses: number;
  safety_events: { episode_seed: number; tick: number; from: string; to: string; reason: string }[];
}

export interface EvalOptions {
  config: Config;
  engine: PolicySampler;
  task: string;
  episodes: number;
  seed: number;
  realtime?: boolean;
  logger: Logger;
  onEpisode?: (r: EpisodeResult, done: number, total: number) => void;
}

export async function evaluateThroughLoop(o: EvalOptions): Promise<EvalReport> {
  if (!Number.isInteger(o.episodes) || o.episodes < 1) throw new RangeError(`episodes must be a positive integer, got ${o.episodes}`);
  const link = await SimLink.create(o.task, o.seed);
  const node = new ControlNode({ config: o.config, link, logger: o.logger, engine: o.engine, enforceBudget: !!o.realtime });
  const results: EpisodeResult[] = [];
  const latencies: number[] = [];
  const events: EvalReport["safety_events"] = [];
  let misses = 0;
  let seed = o.seed;
  node.telemetry.onEvent((e) => events.push({ episode_seed: seed, tick: e.tick, from: e.from, to: e.to, reason: e.reason }));
  try {
    for (let k = 0; k < o.episodes; k++) {
      seed = o.seed + k;
      link.reset(seed);
      node.beginSimulatedEpisode();
      const ep = link.episode;
      if (o.realtime) {
        const scheduler = new Scheduler(node.dt * 1000, async (_, missed) => {
          latencies.push((await node.tick(missed)).timings.total);
          if (ep.terminated || ep.truncated) void scheduler.stop();
        });
        link.startRealtime();
        await scheduler.start();
        misses += scheduler.stats.deadlineMisses;
        await link.stopRealtime();
      } else {
        while (!ep.terminated && !ep.truncated) {
          latencies.push((await node.tick()).timings.total);
          link.advance();
        }
      }
      const r: EpisodeResult = { seed, return: ep.return, length: ep.steps, terminated: ep.terminated };
      results.push(r);
      o.onEpisode?.(r, results.length, o.episodes);
    }
  } finally {
    await link.close();
  }
  await new Promise((resolve) => setImmediate(resolve)); // let queued safety events arrive
  const returns = results.map((r) => r.return);
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const bar = link.env.task.successBar;
  return {
    policy: o.engine.manifest.name,
    task: `h1-${link.env.task.name}`,
    mode: o.realtime ? "realtime" : "lockstep",
    episodes: results,
    mean_return: mean,
    std_return: Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / returns.length),
    success_bar: bar,
    success_rate: returns.filter((r) => r >= bar).length / returns.length,
    tick_latency: summarize(latencies),
    deadline_misses: misses,
    safety_events: events,
  };
}
