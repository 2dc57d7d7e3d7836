// The episode runner: plays a policy package on a HumanoidBench task for N seeded episodes in parallel
// simulated worlds (one batched policy call per control step for all running worlds), as fast as the CPU
// allows, and reports returns, lengths, terminations and the success rate against the task's bar.
import { performance } from "node:perf_hooks";
import { defaultVelocityCommand, ObservationBuilder, type ObservationSources } from "../control/observation.ts";
import type { PolicyEngine } from "../policy/engine.ts";
import { ActionMapper } from "../control/action.ts";
import { motorCommand, robotState, SUBSTEPS_PER_CONTROL_STEP, type RobotState } from "./h1-sim.ts";
import { H1TaskEnv } from "./task-env.ts";

export interface EpisodeResult {
  seed: number;
  return: number;
  length: number;
  terminated: boolean;
}

export interface EpisodeReport {
  policy: string;
  task: string;
  episodes: EpisodeResult[];
  mean_return: number;
  std_return: number;
  success_bar: number;
  success_rate: number;
  control_steps: number;
  wall_s: number;
  /** Simulated seconds per wall-clock second. */
  real_time_factor: number;
}

export interface RunOptions {
  task: string;
  episodes: number;
  /** Episode e uses seed + e for its reset noise. */
  seed?: number;
  /** Worlds simulated side by side (default min(episodes, 16)). */
  parallel?: number;
  simDir?: string;
  onEpisode?: (result: EpisodeResult, done: number, total: number) => void;
}

/** The velocity command a task asks for: forward at its speed. */
export function taskVelocityCommand(moveSpeed: number): Float64Array {
  return Float64Array.of(moveSpeed, 0, 0);
}

export async function runEpisodes(engine: PolicyEngine, options: RunOptions): Promise<EpisodeReport> {
  const m = engine.manifest;
  if (m.robot !== "h1") throw new Error(`policy ${m.name} is for robot "${m.robot}", not the H1`);
  const total = options.episodes;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`episodes must be a positive integer, got ${total}`);
  const seed0 = options.seed ?? 0;
  const parallel = Math.min(total, options.parallel ?? 16);
  const builder = new ObservationBuilder(m.observation.terms);
  const mapper = new ActionMapper(m);
  const env = await H1TaskEnv.create(options.task, parallel, options.simDir);
  const O = m.observation.size;
  const A = m.action.size;
  const dt = env.sim.timestep * SUBSTEPS_PER_CONTROL_STEP;
  const velocityCommand = Float64Array.from(defaultVelocityCommand(m.observation.terms) ?? taskVelocityCommand(env.task.moveSpeed));

  interface World {
    seed: number;
    ret: number;
    active: boolean;
    lastAction: Float32Array;
    state: RobotState;
    qpos: Float64Array;
    qvel: Float64Array;
  }
  let nextEpisode = 0;
  const worlds: World[] = Array.from({ length: parallel }, () => ({
    seed: 0,
    ret: 0,
    active: false,
    lastAction: new Float32Array(A),
    state: robotState(),
    qpos: new Float64Array(env.sim.model.nq),
    qvel: new Float64Array(env.sim.model.nv),
  }));
  const start = (w: World, i: number) => {
    w.seed = seed0 + nextEpisode++;
    w.ret = 0;
    w.active = true;
    w.lastAction.fill(0);
    env.reset(i, w.seed);
  };
  worlds.forEach((w, i) => start(w, i));

  const results: EpisodeResult[] = [];
  const obs = new Float32Array(parallel * O);
  const running: number[] = [];
  const command = motorCommand();
  let controlSteps = 0;
  const began = performance.now();
  try {
    while (results.length < total) {
      running.length = 0;
      worlds.forEach((w, i) => w.active && running.push(i));
      running.forEach((i, b) => {
        const w = worlds[i];
        const d = env.sim.datas[i];
        env.sim.readState(i, w.state);
        w.qpos.set(d.qpos as Float64Array);
        w.qvel.set(d.qvel as Float64Array);
        const src: ObservationSources = {
          state: w.state,
          qpos: w.qpos,
          qvel: w.qvel,
          lastAction: w.lastAction,
          velocityCommand,
          timeS: env.stepsTaken(i) * dt,
        };
        builder.build(src, obs, b * O);
      });
      const sample = await engine.sample(obs, running.length);
      if (!sample.finite) throw new Error(`policy ${m.name} produced a non-finite action`);
      running.forEach((i, b) => {
        const w = worlds[i];
        const action = sample.action.subarray(b * A, (b + 1) * A);
        w.lastAction.set(action);
        const r = env.stepCommand(i, mapper.toCommand(action, command));
        controlSteps++;
        w.ret += r.reward;
        if (r.terminated || r.truncated) {
          const result = { seed: w.seed, return: w.ret, length: env.stepsTaken(i), terminated: r.terminated };
          results.push(result);
          options.onEpisode?.(result, results.length, total);
          if (nextEpisode < total) start(w, i);
          else w.active = false;
        }
      });
    }
  } finally {
    env.dispose();
  }
  const wall = (performance.now() - began) / 1000;
  results.sort((a, b) => a.seed - b.seed);
  const returns = results.map((r) => r.return);
  const mean = returns.reduce((s, r) => s + r, 0) / returns.length;
  const std = Math.sqrt(returns.reduce((s, r) => s + (r - mean) ** 2, 0) / returns.length);
  return {
    policy: m.name,
    task: `h1-${env.task.name}`,
    episodes: results,
    mean_return: mean,
    std_return: std,
    success_bar: env.task.successBar,
    success_rate: returns.filter((r) => r >= env.task.successBar).length / returns.length,
    control_steps: controlSteps,
    wall_s: wall,
    real_time_factor: (controlSteps * dt) / wall,
  };
}
