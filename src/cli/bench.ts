// npm run bench -- [--json FILE] [options]: policy latency per tick (noise + inference + selection), p50/p99/max,
// and the simulated H1's speed.
//
// Policy records: untrained packages of the reference sizes, exported by the real trainer into .cache/bench/
// (network weights do not change the cost): H1 (obs 51, act 19) and H1-hand (151, 61), for K in {1, 8, 32, 64},
// T in {5, 20}, the native, fused and stepwise sampler paths. `--package DIR` measures given packages instead.
// Simulation records: physics steps per second and real-time factor of 1 and 16 worlds holding the home pose
// (`--sim-envs 1,16`). Jitter records: tick start lateness of the real loop with the API idle and loaded
// by 50 WebSocket clients at full rate plus HTTP on /api/status from a second process (`--jitter-s`).
// Compare records (the reference configuration, K 32, T 20, per size): the native sampler (C kernel; one
// thread, and two), the fused graph as exported (fast), the straightforward export of the same loop (with
// Mish as the exported networks compute it, and with the textbook x tanh(softplus(x)) a plain export gives)
// and the fast graph's matrix products alone (ONNX Runtime's floor), timed tick by tick in turn; then the
// trainer's own PyTorch sampler; with the ratios.
// Deadline records: deadline-aware sampling at 50 Hz with 0, 1, 2 CPU hogs, without and with a time budget
// (`--hogs`, `--budget`, `--deadline-s`). DDS records (src/bench/dds.ts): the CycloneDDS round trip on loopback
// and the 500 Hz LowCmd stream's intervals (`--dds-domain`, `--dds-trips`, `--dds-s`, `--dds-sim`), by default
// only where the addon is built. Choose with `--what policy,compare,deadline,sim,jitter,dds`.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { PolicyEngine } from "../policy/engine.ts";
import { SeededNormal } from "../policy/noise.ts";
import { readPolicyPackage } from "../policy/package.ts";
import { DEFAULT_SESSION_SETTINGS, sessionOptions } from "../policy/providers.ts";
import { availablePaths, type SamplerPath } from "../policy/samplers.ts";
import { measureDeadline, type DeadlineRecord } from "../bench/deadline.ts";
import { formatDds, measureDds, type DdsRecord } from "../bench/dds.ts";
import { measureJitter, type JitterRecord } from "../bench/jitter.ts";
import { ddsAvailable } from "../link/dds/binding.ts";
import { H1Sim, SUBSTEPS_PER_CONTROL_STEP } from "../sim/h1-sim.ts";
import { silentLogger } from "../util/log.ts";
import { summarize, type LatencySummary } from "../util/stats.ts";

export interface BenchRecord extends LatencySummary {
  name: string;
  obs: number;
  act: number;
  K: number;
  T: number;
  path: SamplerPath;
  threads: number;
  provider: string;
  inference_p50_ms: number;
  noise_p50_ms: number;
}

const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
const numbers = (s: string) => list(s).map(Number);

function trainerPython(): string {
  return process.env.DPTRAIN_PYTHON ?? resolve(".venv/bin/python");
}

/** A digest of the trainer's sources: cached exports made by another version of the trainer are stale (a cache
 * from before the restructured sampler once made the bench time the old graph under the new graph's name). */
let digest: string | undefined; // the sources do not change during a bench run: read them once
function trainerDigest(): string {
  if (digest) return digest;
  const dir = resolve("trainer/dptrain");
  const hash = createHash("sha256");
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".py")) hash.update(path.slice(dir.length)).update(readFileSync(path));
    }
  };
  walk(dir);
  digest = hash.digest("hex").slice(0, 16);
  return digest;
}

/** Run the trainer's exporter into `dir` unless `dir` holds an export by this version of the trainer. */
function cachedExport(dir: string, marker: string, args: string[]): void {
  const stamp = join(dir, ".trainer-digest");
  const current = trainerDigest();
  if (existsSync(join(dir, marker)) && existsSync(stamp) && readFileSync(stamp, "utf8") === current) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(trainerPython(), ["-W", "ignore", ...args], { stdio: ["ignore", "ignore", "inherit"] });
  writeFileSync(stamp, current);
}

/** An untrained package exported by the trainer and cached: of the given sizes, or (env) with the
 * H1 stand task's manifest, so that the control node accepts it. */
export function untrainedPackage(obs: number, act: number, T: number, cacheDir: string, env?: string, graph: "fast" | "straightforward" | "softplus" = "fast"): string {
  const dir = join(cacheDir, (env ? `untrained-${env}-T${T}` : `untrained-o${obs}-a${act}-T${T}`) + (graph === "fast" ? "" : `-${graph}`));
  const sizes = env ? ["--env", env] : ["--obs", `${obs}`, "--act", `${act}`];
  cachedExport(dir, "policy.json", ["-m", "dptrain", "export-untrained", ...sizes, "--steps", `${T}`, "--sampler-graph", graph, "--out", dir]);
  return dir;
}

/** The sampler's matrix products alone (trainer/scripts/export_gemm_floor.py), cached like the packages. */
function gemmFloorGraph(obs: number, act: number, T: number, cacheDir: string): string {
  const dir = join(cacheDir, `gemm-floor-o${obs}-a${act}-T${T}`);
  cachedExport(dir, "floor.onnx", ["trainer/scripts/export_gemm_floor.py", "--obs", `${obs}`, "--act", `${act}`, "--T", `${T}`, "--out", join(dir, "floor.onnx")]);
  return join(dir, "floor.onnx");
}

/** One variant of a comparison: a tick, which returns its inference time (ms) when it knows it. */
interface Timed {
  tick(): Promise<number | null>;
  close(): Promise<void>;
  /** The native sampler's helper thread's share of the candidates so far (engine variants with one). */
  helperShare?(): number | null;
}

/** A bare ONNX graph with the sampler's inputs, with the engine's CPU session settings (1 thread). */
async function graphVariant(path: string, obs: number, act: number, K: number, T: number): Promise<Timed> {
  const session = await ort.InferenceSession.create(path, sessionOptions(DEFAULT_SESSION_SETTINGS, "cpu"));
  const normal = new SeededNormal(7);
  const feeds = {
    observation: new ort.Tensor("float32", normal.fill(new Float32Array(obs)), [1, obs]),
    noise: new ort.Tensor("float32", normal.fill(new Float32Array((T + 1) * K * act)), [T + 1, K, act]),
  };
  return { tick: async () => (await session.run(feeds), null), close: () => session.release() };
}

/** A package's engine on one path, sampling one observation per tick. */
async function engineVariant(dir: string, path: SamplerPath, K: number, threads: number | "auto" = 1): Promise<Timed> {
  const engine = await PolicyEngine.load(dir, { path, K, session: { threads }, logger: silentLogger, crossCheck: false });
  const obs = new SeededNormal(99).fill(new Float32Array(engine.manifest.observation.size));
  return { tick: async () => (await engine.sample(obs)).timings.inference_ms, close: () => engine.close(), helperShare: () => engine.helperShare };
}

/** Time the variants tick by tick in turn (a, b, c, a, b, c, ...), so that a noisy spell of the shared
 * machine falls on all of them alike: their ratios are then fair even when their absolute times are not.
 * Each tick yields to the event loop first, as a control loop idles between ticks. The caller closes them. */
async function interleaved(variants: Timed[], ticks: number, warmup: number): Promise<(LatencySummary & { inference_p50_ms: number | null })[]> {
  const total = variants.map(() => [] as number[]);
  const inference = variants.map(() => [] as number[]);
  for (let i = 0; i < warmup + ticks; i++) {
    for (const [v, variant] of variants.entries()) {
      await new Promise((resolve) => setImmediate(resolve));
      const started = performance.now();
      const inf = await variant.tick();
      const elapsed = performance.now() - started;
      if (i < warmup) continue;
      total[v].push(elapsed);
      if (inf !== null) inference[v].push(inf);
    }
  }
  return total.map((t, v) => ({ ...summarize(t), inference_p50_ms: inference[v].length ? summarize(inference[v]).p50_ms : null }));
}

async function measure(dir: string, path: SamplerPath, K: number, threads: number, ticks: number, warmup: number): Promise<BenchRecord> {
  const engine = await PolicyEngine.load(dir, { path, K, session: { threads }, logger: silentLogger, crossCheck: false });
  const m = engine.manifest;
  const obs = new SeededNormal(99).fill(new Float32Array(m.observation.size));
  const total: number[] = [];
  const inference: number[] = [];
  const noise: number[] = [];
  for (let i = 0; i < warmup + ticks; i++) {
    // A control loop is idle between ticks; the engine uses that time to draw the next tick's noise.
    await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    const r = await engine.sample(obs);
    const elapsed = performance.now() - started;
    if (i >= warmup) {
      total.push(elapsed);
      inference.push(r.timings.inference_ms);
      noise.push(r.timings.noise_ms);
    }
  }
  await engine.close();
  return {
    name: `${m.name}/${path}/K${K}/threads${threads}`,
    obs: m.observation.size,
    act: m.action.size,
    K,
    T: m.diffusion!.steps,
    path,
    threads,
    provider: engine.provider,
    ...summarize(total),
    inference_p50_ms: summarize(inference).p50_ms,
    noise_p50_ms: summarize(noise).p50_ms,
  };
}

export interface CompareRecord {
  name: string;
  kind: "compare";
  obs: number;
  act: number;
  K: number;
  T: number;
  /** p50 / p99 / max (ms) of each variant, measured tick by tick in turn in this run (PyTorch after them). */
  native: LatencySummary;
  /** The native sampler with policy.threads 2: every call shared with the helper thread. */
  native_two_threads: LatencySummary;
  /** The native sampler with policy.threads auto (the default): each call shared or alone, whichever has been
   * faster lately, and the share of the calls' candidates its helper computed. */
  native_threads_auto: LatencySummary & { helper_share: number | null };
  fast: LatencySummary;
  straightforward: LatencySummary;
  softplus: LatencySummary;
  pytorch: LatencySummary & { torch: string };
  /** The fast graph's matrix products alone (bare session.run), and their share of the fast graph's own
   * run time (its inference p50, without noise and selection): what only a faster GEMM could shrink. */
  gemm_floor: LatencySummary;
  gemm_share_of_inference_p50: number;
  /** How many times faster the exported graph is than each other variant (theirs / fast), at p50 and p99. */
  speedup_vs_straightforward: { p50: number; p99: number };
  speedup_vs_softplus: { p50: number; p99: number };
  speedup_vs_pytorch: { p50: number; p99: number };
  /** How many times faster the native sampler is than each variant (theirs / native), at p50 and p99. */
  native_speedup: Record<"fast" | "straightforward" | "softplus" | "pytorch", { p50: number; p99: number }>;
}

/** The trainer's PyTorch sampler timed by trainer/scripts/bench_torch_sampler.py (one thread, as the runtime). */
function measureTorch(obs: number, act: number, K: number, T: number, ticks: number, warmup: number): LatencySummary & { torch: string } {
  const args = ["--obs", `${obs}`, "--act", `${act}`, "--K", `${K}`, "--T", `${T}`, "--ticks", `${ticks}`, "--warmup", `${warmup}`];
  const out = execFileSync(trainerPython(), ["-W", "ignore", "trainer/scripts/bench_torch_sampler.py", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const r = JSON.parse(out.trim().split("\n").at(-1)!);
  return { n: r.n, p50_ms: r.p50_ms, p99_ms: r.p99_ms, max_ms: r.max_ms, mean_ms: r.mean_ms, torch: r.torch };
}

async function measureCompare(obs: number, act: number, cache: string, ticks: number, warmup: number): Promise<CompareRecord> {
  const K = 32;
  const T = 20;
  const fastDir = untrainedPackage(obs, act, T, cache);
  const variants = [
    await engineVariant(fastDir, "native", K),
    await engineVariant(fastDir, "native", K, 2),
    await engineVariant(fastDir, "native", K, "auto"),
    await engineVariant(fastDir, "fused", K),
    await engineVariant(untrainedPackage(obs, act, T, cache, undefined, "straightforward"), "fused", K),
    await engineVariant(untrainedPackage(obs, act, T, cache, undefined, "softplus"), "fused", K),
    await graphVariant(gemmFloorGraph(obs, act, T, cache), obs, act, K, T),
  ];
  const [native, nativeTwo, nativeAuto, fast, plain, softplus, floor] = await interleaved(variants, ticks, warmup);
  const autoHelperShare = variants[2].helperShare!();
  for (const variant of variants) await variant.close();
  const torch = measureTorch(obs, act, K, T, ticks, warmup); // another process: timed after the others, not among them
  const pick = (r: LatencySummary): LatencySummary => ({ n: r.n, p50_ms: r.p50_ms, p99_ms: r.p99_ms, max_ms: r.max_ms, mean_ms: r.mean_ms });
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const vsNative = (r: LatencySummary) => ({ p50: ratio(r.p50_ms, native.p50_ms), p99: ratio(r.p99_ms, native.p99_ms) });
  return {
    name: `compare/o${obs}a${act}/K${K}xT${T}`,
    kind: "compare",
    obs,
    act,
    K,
    T,
    native: pick(native),
    native_two_threads: pick(nativeTwo),
    native_threads_auto: { ...pick(nativeAuto), helper_share: autoHelperShare },
    fast: pick(fast),
    straightforward: pick(plain),
    softplus: pick(softplus),
    pytorch: torch,
    gemm_floor: pick(floor),
    gemm_share_of_inference_p50: ratio(floor.p50_ms, fast.inference_p50_ms!),
    speedup_vs_straightforward: { p50: ratio(plain.p50_ms, fast.p50_ms), p99: ratio(plain.p99_ms, fast.p99_ms) },
    speedup_vs_softplus: { p50: ratio(softplus.p50_ms, fast.p50_ms), p99: ratio(softplus.p99_ms, fast.p99_ms) },
    speedup_vs_pytorch: { p50: ratio(torch.p50_ms, fast.p50_ms), p99: ratio(torch.p99_ms, fast.p99_ms) },
    native_speedup: { fast: vsNative(fast), straightforward: vsNative(plain), softplus: vsNative(softplus), pytorch: vsNative(torch) },
  };
}

export interface SimRecord extends LatencySummary {
  name: string;
  kind: "sim";
  envs: number;
  physics_steps_per_s: number;
  real_time_factor: number;
}

/** Step `envs` worlds holding the home pose for `controlSteps` 50 Hz steps (after 20 of warm-up, which
 * WebAssembly's tiered compiler needs); latency is per step of all worlds. */
async function measureSim(envs: number, controlSteps: number): Promise<SimRecord> {
  const sim = await H1Sim.create("h1_flat", envs);
  for (let s = 0; s < 20; s++) sim.stepAll();
  const latencies: number[] = [];
  const began = performance.now();
  for (let s = 0; s < controlSteps; s++) {
    const t0 = performance.now();
    sim.stepAll();
    latencies.push(performance.now() - t0);
  }
  const wall = (performance.now() - began) / 1000;
  const simulated = controlSteps * SUBSTEPS_PER_CONTROL_STEP * sim.timestep * envs;
  sim.dispose();
  return {
    name: `sim/h1_flat/envs${envs}`,
    kind: "sim",
    envs,
    physics_steps_per_s: Math.round((envs * controlSteps * SUBSTEPS_PER_CONTROL_STEP) / wall),
    real_time_factor: Math.round((simulated / wall) * 10) / 10,
    ...summarize(latencies),
  };
}

function table(records: BenchRecord[]): string {
  const head = ["name", "obs", "act", "K", "T", "path", "threads", "p50_ms", "p99_ms", "max_ms", "n"] as const;
  const rows = records.map((r) => head.map((h) => String(r[h])));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      json: { type: "string" },
      package: { type: "string", multiple: true },
      sizes: { type: "string", default: "51x19,151x61" },
      K: { type: "string", default: "1,8,32,64" },
      T: { type: "string", default: "5,20" },
      paths: { type: "string", default: "native,fused,stepwise" },
      threads: { type: "string", default: "1" },
      ticks: { type: "string", default: "200" },
      warmup: { type: "string", default: "20" },
      cache: { type: "string", default: ".cache/bench" },
      what: { type: "string" },
      hogs: { type: "string", default: "0,1,2" },
      budget: { type: "string", default: "8" },
      "deadline-s": { type: "string", default: "10" },
      "jitter-s": { type: "string", default: "10" },
      "jitter-policy": { type: "string" },
      "ws-clients": { type: "string", default: "50" },
      "sim-envs": { type: "string", default: "1,16" },
      "sim-steps": { type: "string", default: "250" },
      "dds-domain": { type: "string", default: "50" },
      "dds-trips": { type: "string", default: "300" },
      "dds-s": { type: "string", default: "5" },
      "dds-sim": { type: "string", default: "on" },
    },
  });
  // DDS only where CycloneDDS and the addon are here; asked for (or by default) without them: one line, skipped.
  const what = new Set(list(values.what ?? "policy,compare,deadline,sim,jitter,dds"));
  const dds = what.has("dds") ? ddsAvailable() : null;
  if (dds && !dds.ok) {
    console.error(`dds: skipped: ${dds.why}`);
    what.delete("dds");
  }
  const ticks = Number(values.ticks);
  const warmup = Number(values.warmup);
  if (!(ticks >= 1 && warmup >= 0)) throw new Error("--ticks must be >= 1 and --warmup >= 0");
  const packages = !what.has("policy")
    ? []
    : values.package ??
    list(values.sizes!).flatMap((size) => {
      const [obs, act] = size.split("x").map(Number);
      if (!(obs > 0 && act > 0)) throw new Error(`--sizes: expected OBSxACT, got ${size}`);
      return numbers(values.T!).map((T) => untrainedPackage(obs, act, T, values.cache!));
    });
  const records: BenchRecord[] = [];
  for (const dir of packages) {
    const m = readPolicyPackage(dir).manifest;
    for (const path of list(values.paths!) as SamplerPath[]) {
      if (!["native", "fused", "stepwise"].includes(path)) throw new Error(`--paths: unknown path ${path}`);
      if (!availablePaths(m).includes(path)) continue;
      for (const K of numbers(values.K!)) {
        for (const threads of numbers(values.threads!)) {
          const r = await measure(dir, path, K, threads, ticks, warmup);
          records.push(r);
          console.error(`${r.name}: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, max ${r.max_ms} ms`);
        }
      }
    }
  }
  const sizes = list(values.sizes!).map((size) => {
    const [obs, act] = size.split("x").map(Number);
    if (!(obs > 0 && act > 0)) throw new Error(`--sizes: expected OBSxACT, got ${size}`);
    return { obs, act };
  });
  const compareRecords: CompareRecord[] = [];
  if (what.has("compare")) {
    for (const { obs, act } of sizes) {
      const r = await measureCompare(obs, act, values.cache!, ticks, warmup);
      compareRecords.push(r);
      console.error(`${r.name}: native p99 ${r.native.p99_ms} ms, fast p99 ${r.fast.p99_ms} ms, straightforward p99 ${r.straightforward.p99_ms} ms, softplus p99 ${r.softplus.p99_ms} ms, PyTorch p99 ${r.pytorch.p99_ms} ms`);
    }
  }
  const deadlineRecords: DeadlineRecord[] = [];
  if (what.has("deadline")) {
    const budget = Number(values.budget);
    if (!(budget > 0)) throw new Error("--budget must be > 0 (ms)");
    for (const { obs, act } of sizes) {
      const dir = untrainedPackage(obs, act, 20, values.cache!);
      for (const hogs of numbers(values.hogs!)) {
        for (const b of [null, budget]) {
          const r = await measureDeadline(dir, Number(values["deadline-s"]), hogs, b);
          deadlineRecords.push(r);
          console.error(`${r.name}: p99 ${r.p99_ms} ms, max ${r.max_ms} ms, ${r.deadline_misses} misses, worst level ${r.worst_level || "-"}`);
        }
      }
    }
  }
  const simRecords: SimRecord[] = [];
  if (what.has("sim")) {
    for (const envs of numbers(values["sim-envs"]!)) {
      const r = await measureSim(envs, Number(values["sim-steps"]));
      simRecords.push(r);
      console.error(`${r.name}: ${r.physics_steps_per_s} physics steps/s, ${r.real_time_factor}x real time`);
    }
  }
  const jitterRecords: JitterRecord[] = [];
  if (what.has("jitter")) {
    // A realistic tick: an H1-sized package with K 32, T 20 unless one is given.
    const dir = values["jitter-policy"] ?? untrainedPackage(51, 19, 20, values.cache!, "h1-stand");
    jitterRecords.push(...(await measureJitter(dir, Number(values["jitter-s"]), Number(values["ws-clients"]), 4)));
  }
  const ddsRecords: DdsRecord[] = [];
  if (what.has("dds")) {
    const o = { domainId: Number(values["dds-domain"]), interface: "lo", roundTrips: Number(values["dds-trips"]), streamSeconds: Number(values["dds-s"]), hz: 500, sim: values["dds-sim"] !== "off" };
    if (!(Number.isInteger(o.domainId) && o.domainId >= 1 && o.domainId < 232 && o.roundTrips >= 1 && o.streamSeconds > 0)) {
      throw new Error("--dds-domain must be an integer in 1..231 (it and the next one are used), --dds-trips >= 1, --dds-s > 0");
    }
    try {
      ddsRecords.push(...(await measureDds(o)));
    } catch (err) {
      console.error(`dds: not measured: ${(err as Error).message}`); // the other records still count
    }
  }
  if (records.length) console.log(table(records));
  for (const r of compareRecords) {
    const n = r.native_speedup;
    console.log(
      `${r.name}: p50/p99/max ms: native ${r.native.p50_ms}/${r.native.p99_ms}/${r.native.max_ms} (2 threads ${r.native_two_threads.p50_ms}/${r.native_two_threads.p99_ms}/${r.native_two_threads.max_ms}; threads auto ${r.native_threads_auto.p50_ms}/${r.native_threads_auto.p99_ms}/${r.native_threads_auto.max_ms}, helper ${r.native_threads_auto.helper_share === null ? "-" : `${Math.round(100 * r.native_threads_auto.helper_share)} %`}), fast ${r.fast.p50_ms}/${r.fast.p99_ms}/${r.fast.max_ms}, straightforward ${r.straightforward.p50_ms}/${r.straightforward.p99_ms}/${r.straightforward.max_ms}, ` +
        `softplus ${r.softplus.p50_ms}/${r.softplus.p99_ms}/${r.softplus.max_ms}, PyTorch ${r.pytorch.torch} ${r.pytorch.p50_ms}/${r.pytorch.p99_ms}/${r.pytorch.max_ms}; ` +
        `fast is ${r.speedup_vs_straightforward.p99}x the straightforward export, ${r.speedup_vs_softplus.p99}x it with textbook Mish and ${r.speedup_vs_pytorch.p99}x PyTorch at p99 ` +
        `(${r.speedup_vs_straightforward.p50}x, ${r.speedup_vs_softplus.p50}x, ${r.speedup_vs_pytorch.p50}x at p50); ` +
        `its matrix products alone ${r.gemm_floor.p50_ms}/${r.gemm_floor.p99_ms}/${r.gemm_floor.max_ms}, ${r.gemm_share_of_inference_p50} of the graph's run at p50; ` +
        `native is ${n.fast.p99}x fast, ${n.straightforward.p99}x the straightforward export, ${n.softplus.p99}x it with textbook Mish and ${n.pytorch.p99}x PyTorch at p99 ` +
        `(${n.fast.p50}x, ${n.straightforward.p50}x, ${n.softplus.p50}x, ${n.pytorch.p50}x at p50)`,
    );
  }
  for (const r of deadlineRecords) {
    const levels = Object.entries(r.levels).map(([k, v]) => `${k}: ${v}`).join(", ");
    const threads = `${r.threads} thread${r.threads === 1 ? "" : "s"}` + (r.helper_share === null ? "" : ` (helper ${Math.round(100 * r.helper_share)} %)`);
    console.log(`${r.name}: ${threads}, call p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms max ${r.max_ms} ms, ${r.deadline_misses}/${r.n} ticks past the ${r.deadline_ms} ms deadline` + (levels ? `; levels ${levels}` : ""));
  }
  for (const r of simRecords) {
    console.log(`${r.name}: ${r.physics_steps_per_s} physics steps/s, real-time factor ${r.real_time_factor}, step of all worlds p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms`);
  }
  for (const r of jitterRecords) {
    console.log(
      `${r.name}: tick start lateness p50 ${r.p50_ms} ms p99 ${r.p99_ms} ms max ${r.max_ms} ms over ${r.n} ticks, tick p99 ${r.tick_p99_ms} ms, ` +
        `${r.deadline_misses} deadline misses` + (r.load === "loaded" ? `; load: ${r.ws_clients} WebSocket clients got ${r.ws_frames} frames, ${r.http_requests} HTTP requests` : ""),
    );
  }
  for (const r of ddsRecords) console.log(formatDds(r));
  if (values.json) {
    const all = [...records, ...compareRecords, ...deadlineRecords, ...simRecords, ...jitterRecords, ...ddsRecords];
    writeFileSync(values.json, JSON.stringify(all, null, 2) + "\n");
    console.log(`wrote ${all.length} records to ${values.json}`);
  }
  return 0;
}

process.exitCode = await main();
