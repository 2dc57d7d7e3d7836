// Fewer denoising steps than the policy was trained with: the deterministic DDIM sampler (Song et al.,
// 2021, eta = 0) over a subsequence of the trained steps, run over the package's `denoiser` graph, then
// scored with its `critic`. It is the deadline-aware engine's second way to save time (after fewer
// candidates): the same network, S <= T evaluations instead of T.
//
// It is also an anytime sampler: given a deadline, it stops early when the next step would not finish in
// time, and returns the clean-action estimate x0 of the last step it ran (what the last DDIM step to t = 0
// returns anyway). It always runs at least one step.
import * as ort from "onnxruntime-node";
import { performance } from "node:perf_hooks";
import type { PolicyManifest } from "./manifest.ts";
import { betas } from "./schedule.ts";
import { CriticScorer, repeatRows, type CandidateBatch } from "./samplers.ts";

/** S trained steps, evenly spaced from T-1 down to 0 (S = T: every step). */
export function ddimTimesteps(T: number, S: number): number[] {
  if (!Number.isInteger(S) || S < 1 || S > T) throw new RangeError(`DDIM steps must be an integer in 1..${T}, got ${S}`);
  if (S === 1) return [T - 1];
  return Array.from({ length: S }, (_, i) => Math.round(((T - 1) * (S - 1 - i)) / (S - 1)));
}

export interface DdimBatch extends CandidateBatch {
  /** Denoiser evaluations actually run (< the requested steps when the deadline cut it short). */
  stepsRun: number;
}

export class DdimSampler {
  readonly path = "ddim" as const;
  private readonly alphasCumprod: Float64Array;
  private readonly clip: number;
  private readonly denoiserIn: string[];
  private readonly denoiserOut: string;
  private readonly critic: CriticScorer;
  private capacity = 0;
  private obsRep = new Float32Array(0);
  private x = new Float32Array(0);
  private x0 = new Float32Array(0);
  private stepInputs = new Map<number, BigInt64Array>();

  constructor(
    private readonly denoiser: ort.InferenceSession,
    critic: ort.InferenceSession,
    private readonly m: PolicyManifest,
  ) {
    const d = m.diffusion!;
    const b = betas(d.schedule, d.steps, d.schedule_params);
    this.alphasCumprod = new Float64Array(b.length);
    let prod = 1;
    for (let t = 0; t < b.length; t++) this.alphasCumprod[t] = prod *= 1 - b[t];
    this.clip = d.clip_x0 ?? Infinity;
    this.denoiserIn = m.files.denoiser!.inputs.map((t) => t.name);
    this.denoiserOut = m.files.denoiser!.outputs[0].name;
    this.critic = new CriticScorer(critic, m);
  }

  get trainedSteps(): number {
    return this.alphasCumprod.length;
  }

  private ensureCapacity(N: number): void {
    if (N <= this.capacity) return;
    this.capacity = N;
    this.obsRep = new Float32Array(N * this.m.observation.size);
    this.x = new Float32Array(N * this.m.action.size);
    this.x0 = new Float32Array(N * this.m.action.size);
    this.stepInputs.clear();
  }

  private stepInput(t: number, N: number): BigInt64Array {
    let s = this.stepInputs.get(t);
    if (!s) this.stepInputs.set(t, (s = new BigInt64Array(this.capacity).fill(BigInt(t))));
    return s.subarray(0, N);
  }

  /** obs: normalised [B, O]; noise: at least [B*K, A] (the initial x_T). `deadline`: a performance.now()
   * time by which the candidates must be scored; steps are skipped when the next one would end after it. */
  async run(obs: Float32Array, B: number, K: number, noise: Float32Array, steps: number, deadline = Infinity): Promise<DdimBatch> {
    const O = this.m.observation.size;
    const A = this.m.action.size;
    const N = B * K;
    const schedule = ddimTimesteps(this.trainedSteps, steps);
    if (noise.length < N * A) throw new RangeError(`noise has ${noise.length} values, expected at least ${N * A}`);
    this.ensureCapacity(N);
    const obsRep = repeatRows(obs, B, K, O, this.obsRep);
    const x = this.x.subarray(0, N * A);
    const x0 = this.x0.subarray(0, N * A);
    x.set(noise.subarray(0, N * A));
    const obsTensor = new ort.Tensor("float32", obsRep, [N, O]);
    const xTensor = new ort.Tensor("float32", x, [N, A]);
    let stepsRun = 0;
    let slowestStep = 0;
    for (let i = 0; i < schedule.length; i++) {
      const started = performance.now();
      const t = schedule[i];
      const out = await this.denoiser.run({
        [this.denoiserIn[0]]: xTensor,
        [this.denoiserIn[1]]: new ort.Tensor("int64", this.stepInput(t, N), [N]),
        [this.denoiserIn[2]]: obsTensor,
      });
      const eps = out[this.denoiserOut].data as Float32Array;
      if (eps.length !== N * A) throw new Error(`denoiser output ${this.denoiserOut}: ${eps.length} values, expected ${N * A}`);
      stepsRun++;
      const ac = this.alphasCumprod[t];
      const last = i === schedule.length - 1;
      const acPrev = last ? 1 : this.alphasCumprod[schedule[i + 1]];
      const sa = Math.sqrt(ac), s1a = Math.sqrt(1 - ac), sp = Math.sqrt(acPrev), s1p = Math.sqrt(1 - acPrev);
      for (let j = 0; j < N * A; j++) {
        let c = (x[j] - s1a * eps[j]) / sa;
        if (c > this.clip) c = this.clip;
        else if (c < -this.clip) c = -this.clip;
        x0[j] = c;
        // the noise direction consistent with the clipped x0, carried to the next (earlier) step
        if (!last) x[j] = sp * c + s1p * ((x[j] - sa * c) / s1a);
      }
      slowestStep = Math.max(slowestStep, performance.now() - started);
      // Stop when one more step and the critic (each about as slow as the slowest step so far) would
      // end past the deadline.
      if (!last && performance.now() + 2 * slowestStep > deadline) break;
    }
    for (let j = 0; j < N * A; j++) x[j] = x0[j] > 1 ? 1 : x0[j] < -1 ? -1 : x0[j];
    return { candidates: x, scores: await this.critic.score(obsTensor, xTensor, N), graphAction: null, stepsRun };
  }

  async release(): Promise<void> {
    await Promise.all([this.denoiser.release(), this.critic.release()]);
  }
}
