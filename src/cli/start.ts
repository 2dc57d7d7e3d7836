// npm start: the main job. For now (until the control node drives the simulated H1) it runs a shipped
// policy at its control rate on a random observation stream, with absolute deadlines, and reports the
// tick latency and the joint targets the policy would command.
//
//   npm start -- [--policy models/NAME] [--duration SECONDS] [--path fused|stepwise] [--K N]
//                [--threads N] [--provider cpu|cuda|auto] [--seed S] [--rate HZ]
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { PolicyEngine } from "../policy/engine.ts";
import { SeededNormal } from "../policy/noise.ts";
import type { ProviderRequest } from "../policy/providers.ts";
import type { SamplerPath } from "../policy/samplers.ts";
import { consoleLogger } from "../util/log.ts";
import { summarize } from "../util/stats.ts";

export const DEFAULT_POLICY = "models/pendulum-qvpo";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      policy: { type: "string", default: DEFAULT_POLICY },
      duration: { type: "string", default: "0" },
      path: { type: "string" },
      K: { type: "string" },
      threads: { type: "string", default: "1" },
      provider: { type: "string", default: "cpu" },
      seed: { type: "string", default: "0" },
      rate: { type: "string" },
    },
  });
  const duration = Number(values.duration);
  if (!(duration >= 0)) throw new Error(`--duration must be >= 0 seconds, got ${values.duration}`);
  const engine = await PolicyEngine.load(values.policy!, {
    path: values.path as SamplerPath | undefined,
    K: values.K ? Number(values.K) : undefined,
    seed: Number(values.seed),
    session: { threads: Number(values.threads), provider: values.provider as ProviderRequest },
    logger: consoleLogger,
  });
  const m = engine.manifest;
  const rate = values.rate ? Number(values.rate) : m.control_rate_hz;
  if (!(rate > 0 && rate <= 1000)) throw new Error(`--rate must be in (0, 1000] Hz, got ${rate}`);
  const periodMs = 1000 / rate;
  console.log(
    `running ${m.name} (${m.algorithm}, ${m.robot}/${m.task}) at ${rate} Hz: K=${engine.candidatesPerObservation}, ` +
      `T=${m.diffusion!.steps}, ${engine.path} sampler on ${engine.provider.toUpperCase()}, random observations` +
      (duration > 0 ? `, for ${duration} s` : ", Ctrl-C to stop"),
  );

  // The stream: standard normal in the policy's normalised space (raw = mean + std * z when it has a normaliser).
  const rng = new SeededNormal(Number(values.seed) + 1);
  const obs = new Float32Array(m.observation.size);
  const norm = m.observation.normalizer;
  const targets = new Float64Array(m.action.size);

  let stopping = false;
  process.once("SIGINT", () => (stopping = true));
  process.once("SIGTERM", () => (stopping = true));
  const start = performance.now();
  const latencies: number[] = [];
  let window: number[] = [];
  let ticks = 0;
  let misses = 0;
  let nonFinite = 0;
  let nextReport = start + 1000;
  while (!stopping && (duration === 0 || performance.now() - start < duration * 1000)) {
    const deadline = start + (ticks + 1) * periodMs; // absolute: no drift
    rng.fill(obs);
    if (norm) for (let i = 0; i < obs.length; i++) obs[i] = norm.mean[i] + norm.std[i] * obs[i];
    const t0 = performance.now();
    const r = await engine.sample(obs);
    const latency = performance.now() - t0;
    latencies.push(latency);
    window.push(latency);
    if (!r.finite) nonFinite++;
    for (let j = 0; j < targets.length; j++) targets[j] = m.action.offset[j] + m.action.scale[j] * r.action[j];
    ticks++;
    const now = performance.now();
    if (now > deadline) misses++;
    if (now >= nextReport) {
      const s = summarize(window);
      const shown = m.action.joints.slice(0, 4).map((name, j) => `${name}=${targets[j].toFixed(3)}`).join(" ");
      console.log(`t=${((now - start) / 1000).toFixed(0)}s ticks=${ticks} p50=${s.p50_ms}ms p99=${s.p99_ms}ms max=${s.max_ms}ms misses=${misses} ${m.action.target}: ${shown}`);
      window = [];
      nextReport += 1000;
    }
    await sleep(Math.max(0, deadline - performance.now()));
  }
  await engine.close();
  const summary = { policy: m.name, rate_hz: rate, ticks, deadline_misses: misses, non_finite: nonFinite, latency: summarize(latencies) };
  console.log(JSON.stringify(summary));
  return nonFinite > 0 ? 1 : 0;
}

process.exitCode = await main();
