// The ways to get K candidate actions and their scores from a package, given the same noise:
//  - fused: one call of the `sampler` graph (the whole reverse chain and the critic inside ONNX);
//  - stepwise: the runtime runs the T reverse steps itself over `denoiser`, then scores with `critic`;
//  - native: the reverse chain and the critic in C, from the package's native_sampler weights (native.ts).
// All lay out candidates of observation b as rows b*K .. b*K+K-1 and must agree to 1e-5.
// A one-step policy (DTQL) has a fourth: actor, K draws of the `actor` graph scored with `critic`.
import * as ort from "onnxruntime-node";
import type { PolicyManifest } from "./manifest.ts";
import { reverseConstants, type ReverseConstants } from "./schedule.ts";
import { aggregate } from "./selection.ts";

export type SamplerPath = "native" | "fused" | "stepwise" | "actor";

/** The paths a package's graphs allow: native (it ships the weights), fused, stepwise, then the one-step actor
 * path. The engine's default is the first that this machine runs fastest (PolicyEngine.load). */
export function availablePaths(m: PolicyManifest): SamplerPath[] {
  const paths: SamplerPath[] = [];
  if (m.native_sampler && m.diffusion) paths.push("native");
  if (m.files.sampler && m.diffusion) paths.push("fused");
  if (m.files.denoiser && m.files.critic && m.diffusion) paths.push("stepwise");
  if (m.files.actor) paths.push("actor");
  return paths;
}

/** Noise slices of one call on a path: [T+1, B*K, A] for the denoising paths, [1, B*K, A] for the actor. */
export function noiseSlices(m: PolicyManifest, path: SamplerPath): number {
  return path === "actor" ? 1 : m.diffusion!.steps + 1;
}

export interface CandidateBatch {
  candidates: Float32Array; // [B*K, A]
  scores: Float32Array; // [B*K]
  /** The fused graph's own pick (argmax of its scores), [B, A]; null for the stepwise path. */
  graphAction: Float32Array | null;
}

export interface CandidateSampler {
  readonly path: SamplerPath;
  /** obs: normalised observations [B, O]; noise [T+1, B*K, A]. Returned arrays are valid until the next run. */
  run(obs: Float32Array, B: number, K: number, noise: Float32Array): Promise<CandidateBatch>;
  release(): Promise<void>;
}

function expectLength(what: string, data: ArrayLike<number>, n: number): void {
  if (data.length !== n) throw new Error(`${what}: ONNX Runtime returned ${data.length} values, expected ${n}`);
}

/** Observations [B, O] repeated K times each into `out` [B*K, O]: candidate rows b*K .. b*K+K-1 share row b. */
export function repeatRows(obs: Float32Array, B: number, K: number, O: number, out: Float32Array): Float32Array {
  for (let b = 0; b < B; b++) {
    const row = obs.subarray(b * O, (b + 1) * O);
    for (let k = 0; k < K; k++) out.set(row, (b * K + k) * O);
  }
  return out.subarray(0, B * K * O);
}

/** The package's `critic` graph as a scorer: every member's Q of N (observation, action) rows, aggregated by
 * the manifest's rule (min, mean, lcb). The returned scores are valid until the next call. */
export class CriticScorer {
  private readonly inputs: string[];
  private readonly output: string;
  private scores = new Float32Array(0);

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly m: PolicyManifest,
  ) {
    this.inputs = m.files.critic!.inputs.map((t) => t.name);
    this.output = m.files.critic!.outputs[0].name;
  }

  async score(obs: ort.Tensor, actions: ort.Tensor, N: number): Promise<Float32Array> {
    const q = (await this.session.run({ [this.inputs[0]]: obs, [this.inputs[1]]: actions }))[this.output].data as Float32Array;
    const M = this.m.critic.members;
    expectLength(`critic output ${this.output}`, q, N * M);
    if (this.scores.length < N) this.scores = new Float32Array(N);
    return aggregate(q, N, M, this.m.selection.aggregation, this.m.selection.beta, this.scores.subarray(0, N));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export class FusedSampler implements CandidateSampler {
  readonly path = "fused" as const;
  private readonly inputNames: string[];
  private readonly outputNames: string[];

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly m: PolicyManifest,
  ) {
    const entry = m.files.sampler!;
    this.inputNames = entry.inputs.map((t) => t.name);
    this.outputNames = entry.outputs.map((t) => t.name);
  }

  async run(obs: Float32Array, B: number, K: number, noise: Float32Array): Promise<CandidateBatch> {
    const O = this.m.observation.size;
    const A = this.m.action.size;
    const T = this.m.diffusion!.steps;
    const out = await this.session.run({
      [this.inputNames[0]]: new ort.Tensor("float32", obs.subarray(0, B * O), [B, O]),
      [this.inputNames[1]]: new ort.Tensor("float32", noise.subarray(0, (T + 1) * B * K * A), [T + 1, B * K, A]),
    });
    const [action, candidates, scores] = this.outputNames.map((n) => out[n].data as Float32Array);
    expectLength(`sampler output ${this.outputNames[0]}`, action, B * A);
    expectLength(`sampler output ${this.outputNames[1]}`, candidates, B * K * A);
    expectLength(`sampler output ${this.outputNames[2]}`, scores, B * K);
    return { candidates, scores, graphAction: action };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

export class StepwiseSampler implements CandidateSampler {
  readonly path = "stepwise" as const;
  private readonly c: ReverseConstants;
  private readonly clip: number;
  private readonly denoiserIn: string[];
  private readonly denoiserOut: string;
  private readonly critic: CriticScorer;
  private capacity = 0;
  private obsRep = new Float32Array(0);
  private x = new Float32Array(0);
  private steps: BigInt64Array[] = [];

  constructor(
    private readonly denoiser: ort.InferenceSession,
    critic: ort.InferenceSession,
    private readonly m: PolicyManifest,
  ) {
    this.c = reverseConstants(m.diffusion!);
    this.clip = m.diffusion!.clip_x0 ?? Infinity;
    this.denoiserIn = m.files.denoiser!.inputs.map((t) => t.name);
    this.denoiserOut = m.files.denoiser!.outputs[0].name;
    this.critic = new CriticScorer(critic, m);
  }

  private ensureCapacity(N: number): void {
    if (N <= this.capacity) return;
    this.capacity = N;
    this.obsRep = new Float32Array(N * this.m.observation.size);
    this.x = new Float32Array(N * this.m.action.size);
    this.steps = Array.from({ length: this.c.T }, (_, t) => new BigInt64Array(N).fill(BigInt(t)));
  }

  async run(obs: Float32Array, B: number, K: number, noise: Float32Array): Promise<CandidateBatch> {
    const O = this.m.observation.size;
    const A = this.m.action.size;
    const N = B * K;
    this.ensureCapacity(N);
    const c = this.c;
    const obsRep = repeatRows(obs, B, K, O, this.obsRep);
    const x = this.x.subarray(0, N * A);
    x.set(noise.subarray(0, N * A));
    const obsTensor = new ort.Tensor("float32", obsRep, [N, O]);
    const xTensor = new ort.Tensor("float32", x, [N, A]);
    const f = Math.fround; // every operation rounded to float32, as PyTorch and ONNX Runtime compute it
    for (let i = 0; i < c.T; i++) {
      const t = c.T - 1 - i;
      const out = await this.denoiser.run({
        [this.denoiserIn[0]]: xTensor,
        [this.denoiserIn[1]]: new ort.Tensor("int64", this.steps[t].subarray(0, N), [N]),
        [this.denoiserIn[2]]: obsTensor,
      });
      const eps = out[this.denoiserOut].data as Float32Array;
      expectLength(`denoiser output ${this.denoiserOut}`, eps, N * A);
      const recip = c.sqrtRecipAlphasCumprod[t];
      const recipm1 = c.sqrtRecipm1AlphasCumprod[t];
      const c1 = c.posteriorMeanCoef1[t];
      const c2 = c.posteriorMeanCoef2[t];
      const std = c.noiseStd[t];
      const z = noise.subarray((i + 1) * N * A, (i + 2) * N * A);
      for (let j = 0; j < N * A; j++) {
        let x0 = f(f(recip * x[j]) - f(recipm1 * eps[j]));
        if (x0 > this.clip) x0 = this.clip;
        else if (x0 < -this.clip) x0 = -this.clip;
        const mean = f(f(c1 * x0) + f(c2 * x[j]));
        x[j] = t > 0 ? f(mean + f(std * z[j])) : mean;
      }
    }
    for (let j = 0; j < N * A; j++) x[j] = x[j] > 1 ? 1 : x[j] < -1 ? -1 : x[j];
    return { candidates: x, scores: await this.critic.score(obsTensor, xTensor, N), graphAction: null };
  }

  async release(): Promise<void> {
    await Promise.all([this.denoiser.release(), this.critic.release()]);
  }
}

/** One-step policies: each of the B*K candidates is one call row of the `actor` graph (observation, noise row)
 * -> action; the `critic`, when the package has one, scores them (without one every score is 0, so K = 1 makes
 * sense). noise: [1, B*K, A], the same layout as the first slice of the denoising paths' noise. */
export class ActorSampler implements CandidateSampler {
  readonly path = "actor" as const;
  private readonly actorIn: string[];
  private readonly actorOut: string;
  private readonly critic: CriticScorer | null;
  private obsRep = new Float32Array(0);
  private zeros = new Float32Array(0);

  constructor(
    private readonly actor: ort.InferenceSession,
    critic: ort.InferenceSession | null,
    private readonly m: PolicyManifest,
  ) {
    this.actorIn = m.files.actor!.inputs.map((t) => t.name);
    this.actorOut = m.files.actor!.outputs[0].name;
    this.critic = critic ? new CriticScorer(critic, m) : null;
  }

  async run(obs: Float32Array, B: number, K: number, noise: Float32Array): Promise<CandidateBatch> {
    const O = this.m.observation.size;
    const A = this.m.action.size;
    const N = B * K;
    if (this.obsRep.length < N * O) {
      this.obsRep = new Float32Array(N * O);
      this.zeros = new Float32Array(N);
    }
    const obsTensor = new ort.Tensor("float32", repeatRows(obs, B, K, O, this.obsRep), [N, O]);
    const out = await this.actor.run({
      [this.actorIn[0]]: obsTensor,
      [this.actorIn[1]]: new ort.Tensor("float32", noise.subarray(0, N * A), [N, A]),
    });
    const candidates = out[this.actorOut].data as Float32Array;
    expectLength(`actor output ${this.actorOut}`, candidates, N * A);
    if (!this.critic) return { candidates, scores: this.zeros.subarray(0, N), graphAction: null };
    return { candidates, scores: await this.critic.score(obsTensor, new ort.Tensor("float32", candidates, [N, A]), N), graphAction: null };
  }

  async release(): Promise<void> {
    await Promise.all([this.actor.release(), this.critic?.release()]);
  }
}
