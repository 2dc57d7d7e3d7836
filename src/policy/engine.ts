// The policy engine: load a package (validated, hash-checked, graphs checked, probed) and sample actions.
// One call per tick: normalise the observation, draw noise [T+1, B*K, A], get K candidates per observation
// with their scores (native, fused or stepwise), select one per observation (argmax or softmax).
import { performance } from "node:perf_hooks";
import { consoleLogger, type Logger } from "../util/log.ts";
import { PolicyPackageError, type PolicyManifest, type Role } from "./manifest.ts";
import { DdimSampler } from "./ddim.ts";
import { DeadlineGovernor, degradationLadder, type DegradationLevel, type GovernorOptions } from "./deadline.ts";
import { SeededNormal } from "./noise.ts";
import { readPolicyPackage, type PolicyPackage } from "./package.ts";
import { nativeAvailability, NativeSampler } from "./native.ts";
import { chooseProvider, DEFAULT_SESSION_SETTINGS, intraOpThreads, type SessionSettings } from "./providers.ts";
import { ActorSampler, availablePaths, FusedSampler, noiseSlices, StepwiseSampler, type CandidateSampler, type SamplerPath } from "./samplers.ts";
import { selectIndices } from "./selection.ts";
import { openSessions } from "./sessions.ts";

export interface EngineOptions {
  /** native, fused, stepwise, or actor (one-step policies); "auto" (the default): native where the package
   * ships its weights and this CPU has the AVX-512 kernel (and the provider is the CPU), else fused, else what
   * the package allows (availablePaths(manifest)). */
  path?: SamplerPath | "auto";
  /** Candidates per observation; default: the manifest's selection.K. */
  K?: number;
  /** Seed of the noise stream (and of softmax draws). */
  seed?: number;
  session?: Partial<SessionSettings>;
  logger?: Logger;
  /** Check fused against stepwise at load when the package has both (default true). */
  crossCheck?: boolean;
  /** Deadline-aware sampling: the time budget of one call in ms (null/absent: always the full sampler). */
  budgetMs?: number | null;
  governor?: GovernorOptions;
  /** The fewest DDIM steps deadline-aware sampling may use (default: half the trained steps, rounded up). */
  minDdimSteps?: number | null;
}

export interface SampleTimings {
  noise_ms: number;
  inference_ms: number;
  selection_ms: number;
  total_ms: number;
}

/** One tick's result. The object and its arrays are the engine's own: valid until the next call; copy to keep. */
export interface PolicySample {
  B: number;
  K: number;
  action: Float32Array; // [B, A] in [-1, 1]
  index: Int32Array; // [B] chosen candidate per observation
  candidates: Float32Array; // [B*K, A]
  scores: Float32Array; // [B*K]
  /** False when any candidate or score is NaN/Inf: the caller must not use this action. */
  finite: boolean;
  timings: SampleTimings;
  /** The degradation level this call ran at (rank 0: undegraded); null without a time budget. */
  level: DegradationLevel | null;
  /** Denoising steps run per candidate (fewer than the level's when its deadline cut a DDIM call short). */
  steps: number;
}

export const PARITY_TOLERANCE = 1e-5;

/** Noise [T+1, B*K, A] and uniforms [B] of sampler call n. */
interface Draws {
  n: number;
  B: number;
  K: number;
  noise: Float32Array;
  uniforms: Float64Array;
}

export class PolicyEngine {
  readonly manifest: PolicyManifest;
  readonly provider: "cpu" | "cuda";
  readonly path: SamplerPath;
  /** Threads per sampler call: the native sampler's (1 or 2), or ONNX Runtime's intra-op threads (0: its choice). */
  readonly threads: number;
  private K: number;
  private readonly rng: SeededNormal;
  private readonly seed: number;
  private calls = 0;
  /** The next call's draws, made ahead; `spare`: buffers free for reuse (never those of a call in flight). */
  private ahead: Draws | null = null;
  private spare: Draws | null = null;
  private prefillScheduled = false;
  private obsNorm = new Float32Array(0);
  private action = new Float32Array(0);
  private index = new Int32Array(0);
  private busy = false;
  private governor: DeadlineGovernor | null = null;
  private ddim: DdimSampler | null = null;
  private readonly result: PolicySample = {
    B: 0,
    K: 0,
    action: new Float32Array(0),
    index: new Int32Array(0),
    candidates: new Float32Array(0),
    scores: new Float32Array(0),
    finite: true,
    timings: { noise_ms: 0, inference_ms: 0, selection_ms: 0, total_ms: 0 },
    level: null,
    steps: 0,
  };

  private constructor(
    readonly pkg: PolicyPackage,
    private readonly sampler: CandidateSampler,
    provider: "cpu" | "cuda",
    threads: SessionSettings["threads"],
    K: number,
    seed: number,
  ) {
    this.manifest = pkg.manifest;
    this.provider = provider;
    this.path = sampler.path;
    this.threads = sampler instanceof NativeSampler ? sampler.threads : intraOpThreads(threads);
    this.K = K;
    this.seed = seed;
    this.rng = new SeededNormal(seed);
  }

  static async load(dir: string, options: EngineOptions = {}): Promise<PolicyEngine> {
    const logger = options.logger ?? consoleLogger;
    const pkg = readPolicyPackage(dir);
    const m = pkg.manifest;
    const K = options.K ?? m.selection.K;
    checkK(K); // before any session exists
    const settings = { ...DEFAULT_SESSION_SETTINGS, ...options.session };
    const path = choosePath(m, options.path ?? "auto", settings, logger);
    if (path !== "actor" && !m.diffusion) throw new PolicyPackageError(`${pkg.dir}/policy.json: /diffusion: the ${path} path samples a diffusion policy; the package has none`);
    const { sampler, provider } = await openSampler(pkg, path, settings, logger);
    const engine = new PolicyEngine(pkg, sampler, provider, settings.threads, K, options.seed ?? 0);
    try {
      if (options.budgetMs != null) {
        await engine.enableDeadline(options.budgetMs, options.governor ?? {}, options.minDdimSteps ?? undefined, settings, logger);
      }
      await engine.probe(options.crossCheck ?? true, settings, logger);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  /**
   * The share of the candidates the native sampler's helper thread has computed so far: about half while its
   * calls share, low when most run alone (threads auto, sharing not paying) or the helper starts late; null
   * without a helper.
   */
  get helperShare(): number | null {
    if (!(this.sampler instanceof NativeSampler) || this.sampler.threads < 2) return null;
    const { caller, helper } = this.sampler.chunkShares();
    return caller + helper > 0 ? helper / (caller + helper) : 0;
  }

  get candidatesPerObservation(): number {
    return this.K;
  }

  setK(K: number): void {
    checkK(K);
    this.K = K;
    if (this.governor) this.governor = new DeadlineGovernor(this.ladder(), this.governor.budgetMs, this.governorOptions);
  }

  /** The current degradation level (null without a time budget). */
  get level(): DegradationLevel | null {
    return this.governor?.level ?? null;
  }

  private governorOptions: GovernorOptions = {};
  private minDdimSteps: number | undefined;
  /** The one-step actor as the last level of a diffusion package's ladder (when it ships one). */
  private actorFallback: ActorSampler | null = null;

  private ladder(): DegradationLevel[] {
    const m = this.manifest;
    if (this.path === "actor" || !m.diffusion) {
      // a one-step policy: only fewer candidates
      return degradationLadder(this.K, 1, false, 1).map((l) => ({ ...l, name: `actor K${l.K}` }));
    }
    const levels = degradationLadder(this.K, m.diffusion.steps, this.actorFallback !== null, this.minDdimSteps);
    return this.ddim ? levels : levels.filter((l) => l.path !== "ddim"); // DDIM needs the denoiser and critic graphs
  }

  private async enableDeadline(budgetMs: number, options: GovernorOptions, minDdimSteps: number | undefined, settings: SessionSettings, logger: Logger): Promise<void> {
    const m = this.manifest;
    if (this.path !== "actor" && m.files.denoiser && m.files.critic) {
      const { sessions } = await openSessions(this.pkg, ["denoiser", "critic"], settings, silent(logger));
      this.ddim = new DdimSampler(sessions.denoiser!, sessions.critic!, m);
    }
    if (this.path !== "actor" && m.files.actor) {
      const { sessions } = await openSessions(this.pkg, m.files.critic ? ["actor", "critic"] : ["actor"], settings, silent(logger));
      this.actorFallback = new ActorSampler(sessions.actor!, sessions.critic ?? null, m);
    }
    this.minDdimSteps = minDdimSteps;
    this.governorOptions = options;
    this.governor = new DeadlineGovernor(this.ladder(), budgetMs, options);
  }

  /** Sample with noise from the engine's seed: call n uses stream n of the seed (SeededNormal.reseed), so
   * the result depends on the call's number, not on when its noise was drawn. The next call's draws are
   * made ahead, when the event loop is idle after a call (in a control loop: between ticks), which takes
   * them off the tick's critical path; a call whose batch size or K changed draws its own. */
  async sample(obs: Float32Array, B = 1): Promise<PolicySample> {
    const started = performance.now();
    const n = this.calls++;
    const a = this.ahead;
    this.ahead = null;
    const K = this.callK();
    const draws = a && a.n === n && a.B === B && a.K === K ? a : this.draw(n, B, a ?? this.spare);
    const noiseMs = performance.now() - started;
    try {
      const result = await this.sampleWithNoise(obs, B, draws.noise, draws.uniforms, started);
      result.timings.noise_ms = noiseMs;
      result.timings.total_ms = performance.now() - started;
      this.governor?.observe(result.timings.total_ms);
      return result;
    } finally {
      this.spare = draws;
      this.prefill(n + 1, B);
    }
  }

  /** Candidates of the next call: the governor's level's, or K. */
  private callK(): number {
    return this.governor ? this.governor.level.K : this.K;
  }

  private draw(n: number, B: number, reuse: Draws | null): Draws {
    const m = this.manifest;
    const K = this.callK();
    const size = noiseSlices(m, this.path) * B * K * m.action.size;
    const noise = reuse && reuse.noise.length === size ? reuse.noise : new Float32Array(size);
    const uniforms = reuse && reuse.uniforms.length === B ? reuse.uniforms : new Float64Array(B);
    this.rng.reseed(this.seed, n);
    this.rng.fill(noise);
    for (let b = 0; b < B; b++) uniforms[b] = this.rng.uniform();
    if (!reuse) return { n, B, K, noise, uniforms };
    return Object.assign(reuse, { n, B, K, noise, uniforms }); // no new object per tick
  }

  private prefill(n: number, B: number): void {
    if (this.prefillScheduled) return;
    this.prefillScheduled = true;
    setImmediate(() => {
      this.prefillScheduled = false;
      if (this.ahead || this.busy || this.calls !== n) return;
      const reuse = this.spare;
      this.spare = null;
      this.ahead = this.draw(n, B, reuse);
    });
  }

  /** Sample with the given noise [T+1, B*K, A] ([1, B*K, A] on the actor path) (and uniforms [B] for softmax selection): reproducible. With
   * a time budget, at the governor's level, and a DDIM level stops early to end within the budget from `started`. */
  async sampleWithNoise(
    obs: Float32Array,
    B: number,
    noise: Float32Array,
    u: ArrayLike<number> | null = null,
    started = performance.now(),
  ): Promise<PolicySample> {
    const m = this.manifest;
    const O = m.observation.size;
    const A = m.action.size;
    const K = this.callK();
    const level = this.governor?.level ?? null;
    if (obs.length < B * O) throw new RangeError(`observation has ${obs.length} values, expected ${B} x ${O}`);
    const needed = noiseSlices(m, this.path) * B * K * A;
    if (noise.length < needed) throw new RangeError(`noise has ${noise.length} values, expected ${needed}`);
    if (this.busy) throw new Error("PolicyEngine.sample called while a previous call is still running");
    this.busy = true;
    try {
      const t0 = performance.now();
      const x = this.normalize(obs, B);
      let steps = this.path === "actor" ? 1 : m.diffusion!.steps; // the actor path: one network evaluation
      let batch;
      if (level?.path === "ddim") {
        batch = await this.ddim!.run(x, B, K, noise, level.steps, started + this.governor!.budgetMs);
        steps = batch.stepsRun;
      } else if (level?.path === "actor" && this.actorFallback) {
        batch = await this.actorFallback.run(x, B, K, noise);
        steps = 1;
      } else {
        batch = await this.sampler.run(x, B, K, noise);
      }
      const t1 = performance.now();
      if (this.action.length < B * A) {
        this.action = new Float32Array(B * A);
        this.index = new Int32Array(B);
      }
      const index = selectIndices(batch.scores, B, K, m.selection.rule, m.selection.temperature, u, this.index.subarray(0, B));
      const action = this.action.subarray(0, B * A);
      for (let b = 0; b < B; b++) action.set(batch.candidates.subarray((b * K + index[b]) * A, (b * K + index[b] + 1) * A), b * A);
      const finite = allFinite(batch.scores) && allFinite(batch.candidates);
      const t2 = performance.now();
      // One result object per engine, refilled every call (like the arrays it points to).
      const r = this.result;
      r.B = B;
      r.K = K;
      r.action = action;
      r.index = index;
      r.candidates = batch.candidates;
      r.scores = batch.scores;
      r.finite = finite;
      r.level = level;
      r.steps = steps;
      r.timings.noise_ms = 0;
      r.timings.inference_ms = t1 - t0;
      r.timings.selection_ms = t2 - t1;
      r.timings.total_ms = t2 - t0;
      return r;
    } finally {
      this.busy = false;
    }
  }

  /** Apply the manifest's normaliser (float32 arithmetic, as the trainer does); identity without one. */
  private normalize(obs: Float32Array, B: number): Float32Array {
    const n = this.manifest.observation.normalizer;
    const O = this.manifest.observation.size;
    if (!n) return obs;
    if (this.obsNorm.length < B * O) this.obsNorm = new Float32Array(B * O);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < O; i++) {
        const v = Math.fround(Math.fround(obs[b * O + i] - n.mean[i]) / n.std[i]);
        this.obsNorm[b * O + i] = v > n.clip ? n.clip : v < -n.clip ? -n.clip : v;
      }
    }
    return this.obsNorm;
  }


  /** Load-time checks on random observations: finite outputs, actions in [-1, 1], the fused graph's own
   * pick equal to the argmax candidate, and this path equal to another within PARITY_TOLERANCE when the
   * package has one (checkPathFor: native against the graphs, fused against stepwise and back). */
  private async probe(crossCheck: boolean, settings: SessionSettings, logger: Logger): Promise<void> {
    const m = this.manifest;
    const file = this.path === "native" ? this.pkg.nativeWeights! : this.pkg.paths[this.path === "fused" ? "sampler" : this.path === "actor" ? "actor" : "denoiser"]!;
    const B = 2;
    const probeRng = new SeededNormal(12345);
    const obs = probeRng.fill(new Float32Array(B * m.observation.size));
    const noise = probeRng.fill(new Float32Array(noiseSlices(m, this.path) * B * this.K * m.action.size));
    const batch = await this.sampler.run(this.normalize(obs, B), B, this.K, noise);
    if (!allFinite(batch.scores) || !allFinite(batch.candidates)) {
      throw new PolicyPackageError(`${file}: probe run on random observations gave non-finite output`);
    }
    if (batch.candidates.some((v) => v < -1 || v > 1)) throw new PolicyPackageError(`${file}: probe run gave actions outside [-1, 1]`);
    if (batch.graphAction) {
      const A = m.action.size;
      const idx = selectIndices(batch.scores, B, this.K, "argmax", 1, null, new Int32Array(B));
      for (let b = 0; b < B; b++) {
        const want = batch.candidates.subarray((b * this.K + idx[b]) * A, (b * this.K + idx[b] + 1) * A);
        if (maxAbsDiff(batch.graphAction.subarray(b * A, (b + 1) * A), want) > 0) {
          throw new PolicyPackageError(`${file}: the graph's selected action is not its best-scored candidate`);
        }
      }
    }
    const other = crossCheck ? checkPathFor(this.path, availablePaths(m)) : null;
    if (other) {
      const candidates = Float32Array.from(batch.candidates);
      const scores = Float32Array.from(batch.scores);
      const { sampler } = await openSampler(this.pkg, other, settings, silent(logger));
      try {
        const b2 = await sampler.run(this.normalize(obs, B), B, this.K, noise);
        const diff = Math.max(maxAbsDiff(candidates, b2.candidates), maxAbsDiff(scores, b2.scores) / Math.max(1, maxAbs(scores)));
        if (!(diff <= PARITY_TOLERANCE)) {
          throw new PolicyPackageError(`${this.pkg.dir}: ${this.path} and ${other} paths disagree by ${diff.toExponential(2)} on the same noise`);
        }
      } finally {
        await sampler.release();
      }
    }
  }

  async close(): Promise<void> {
    await this.sampler.release();
    await this.ddim?.release();
    await this.actorFallback?.release();
  }
}

/** The path a load asked for, or for "auto" the fastest this package and machine allow (said in the log). */
function choosePath(m: PolicyManifest, requested: SamplerPath | "auto", settings: SessionSettings, logger: Logger): SamplerPath {
  const known: (SamplerPath | "auto")[] = ["auto", "native", "fused", "stepwise", "actor"];
  if (!known.includes(requested)) throw new RangeError(`sampler path must be one of ${known.map((p) => `"${p}"`).join(", ")}, got ${JSON.stringify(requested)}`);
  if (requested !== "auto") return requested;
  const paths = availablePaths(m);
  if (paths[0] === "native") {
    const native = nativeAvailability();
    const cpu = chooseProvider(settings.provider).provider === "cpu";
    if (native.isa === "avx512" && cpu) return "native";
    paths.shift();
    logger.log("info", `policy ${m.name}: not the native sampler (${cpu ? native.reason : "the CUDA provider runs the fused graph"}); ${paths[0] ?? "stepwise"} path`);
  }
  return paths[0] ?? "stepwise";
}

/** A path's sampler with its ONNX Runtime sessions (none on the native path, which runs on the CPU). */
async function openSampler(pkg: PolicyPackage, path: SamplerPath, settings: SessionSettings, logger: Logger): Promise<{ sampler: CandidateSampler; provider: "cpu" | "cuda" }> {
  const m = pkg.manifest;
  if (path === "native") {
    const sampler = NativeSampler.open(pkg, settings.threads);
    logger.log("info", `policy ${m.name}: native sampler on the CPU (${sampler.kernel} kernel, ${sampler.threads} thread${sampler.threads > 1 ? "s" : ""}), no ONNX Runtime call per tick`);
    return { sampler, provider: "cpu" };
  }
  const roles: Role[] = path === "fused" ? ["sampler"] : path === "stepwise" ? ["denoiser", "critic"] : m.files.critic ? ["actor", "critic"] : ["actor"];
  const { sessions, provider } = await openSessions(pkg, roles, settings, logger);
  const sampler =
    path === "fused"
      ? new FusedSampler(sessions.sampler!, m)
      : path === "stepwise"
        ? new StepwiseSampler(sessions.denoiser!, sessions.critic!, m)
        : new ActorSampler(sessions.actor!, sessions.critic ?? null, m);
  return { sampler, provider };
}

/** The path a load-time probe checks another against: the graphs for the native path (fused first), the
 * other graph path for fused and stepwise; none for the actor path. */
function checkPathFor(path: SamplerPath, available: SamplerPath[]): SamplerPath | null {
  const order: SamplerPath[] = path === "native" ? ["fused", "stepwise"] : path === "fused" ? ["stepwise"] : path === "stepwise" ? ["fused"] : [];
  return order.find((p) => available.includes(p)) ?? null;
}

function checkK(K: number): void {
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`K must be a positive integer, got ${K}`);
}

function silent(logger: Logger): Logger {
  return { log: (level, msg, fields) => (level === "warn" || level === "error" ? logger.log(level, msg, fields) : undefined) };
}

export function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (Number.isNaN(e)) return Infinity;
    if (e > d) d = e;
  }
  return d;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
