// The native sampler path: a whole tick in C (native/sampler, a Node-API addon): the reverse chain and the
// critic members' values of the candidates, which the runtime aggregates and selects from as on the other
// paths. It computes what the fused graph computes, from the package's `native_sampler` weights file, with
// every layer's bias and Mish applied while the products' sums are still in registers: ONNX Runtime spends as
// long on those elementwise passes as on the products (docs/performance.md). No ONNX Runtime call per tick.
// The engine checks it against the fused or stepwise path at load, like any other path.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { PolicyPackageError, type PolicyManifest } from "./manifest.ts";
import type { PolicyPackage } from "./package.ts";
import type { CandidateBatch, CandidateSampler } from "./samplers.ts";
import { reverseConstants } from "./schedule.ts";
import { aggregate } from "./selection.ts";
import { ThreadChoice } from "./thread-choice.ts";

interface NativeAddon {
  create(
    dims: { A: number; O: number; H: number; T: number; hiddenLayers: number; M: number; Hc: number; criticLayers: number },
    weights: Float32Array,
    rx: Float32Array,
    rout: Float32Array,
    coef1: Float32Array,
    coef2: Float32Array,
    std: Float32Array,
    clipX0: number,
    threads: 1 | 2,
  ): object;
  run(handle: object, obs: Float32Array, B: number, K: number, noise: Float32Array, candidates: Float32Array, q: Float32Array, alone?: boolean): void;
  isa(): "avx512" | "generic";
  close(handle: object): void;
  shares(handle: object): [number, number];
  /** The fewest candidates (B * K) a two-thread call shares with the helper. */
  readonly sharedFrom: number;
}

export const NATIVE_ADDON_PATH = new URL("../../native/sampler/build/h1_sampler.node", import.meta.url);

export interface NativeAvailability {
  /** The kernel this CPU gets; null when the addon is not built or does not load. */
  isa: "avx512" | "generic" | null;
  reason: string;
}

let addon: NativeAddon | null | undefined;
let loadError = "";

function loadAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  try {
    addon = createRequire(import.meta.url)(fileURLToPath(NATIVE_ADDON_PATH)) as NativeAddon;
  } catch (err) {
    addon = null;
    loadError = (err as Error).message.split("\n")[0];
  }
  return addon;
}

export function nativeAvailability(): NativeAvailability {
  const a = loadAddon();
  if (!a) return { isa: null, reason: `the native sampler addon is not built (npm run build:native): ${loadError}` };
  const isa = a.isa();
  return { isa, reason: isa === "avx512" ? "AVX-512 kernel" : "portable C kernel (no AVX-512 on this CPU)" };
}

/** The weights file as one Float32Array (little-endian float32, the manifest's tensors in order). */
function readWeights(pkg: PolicyPackage): Float32Array {
  const bytes = readFileSync(pkg.nativeWeights!);
  const weights = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < weights.length; i++) weights[i] = view.getFloat32(4 * i, true);
  return weights;
}

export class NativeSampler implements CandidateSampler {
  readonly path = "native" as const;
  /** The kernel this sampler runs: AVX-512, or the portable C one. */
  readonly kernel: "avx512" | "generic";
  /** 2: a second thread shares the candidates of a call (each thread claims chunks of them). */
  readonly threads: 1 | 2;
  /** With two threads, whether each call shares or runs alone, by which has been faster (threads auto); null: always share. */
  private readonly choice: ThreadChoice | null;
  private readonly handle: object;
  private x = new Float32Array(0);
  private q = new Float32Array(0);
  private scores = new Float32Array(0);

  constructor(
    private readonly native: NativeAddon,
    pkg: PolicyPackage,
    private readonly m: PolicyManifest,
    threads: 1 | 2,
    adaptive = false,
  ) {
    const n = m.native_sampler!;
    const d = m.diffusion!;
    const c = reverseConstants(d);
    const x0Net = n.output === "x0";
    // Per step: x0 = rx * x + rout * out (the noise-prediction identity, or the out layer itself).
    const rx = x0Net ? new Float32Array(c.T) : Float32Array.from(c.sqrtRecipAlphasCumprod);
    const rout = x0Net ? new Float32Array(c.T).fill(1) : Float32Array.from(c.sqrtRecipm1AlphasCumprod, (v) => -v);
    const dims = {
      ...{ A: m.action.size, O: m.observation.size, H: n.hidden, T: d.steps, hiddenLayers: n.hidden_layers },
      ...{ M: m.critic.members, Hc: n.critic_hidden, criticLayers: n.critic_hidden_layers },
    };
    const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
    try {
      this.handle = native.create(dims, readWeights(pkg), rx, rout, f32(c.posteriorMeanCoef1), f32(c.posteriorMeanCoef2), f32(c.noiseStd), d.clip_x0 ?? 0, threads);
    } catch (err) {
      throw new PolicyPackageError(`${pkg.nativeWeights}: the native sampler refuses it: ${(err as Error).message}`);
    }
    this.kernel = native.isa(); // the same choice the kernel made at create
    this.threads = threads;
    this.choice = threads === 2 && adaptive ? new ThreadChoice() : null;
  }

  /**
   * threads: the policy's thread setting (policy.threads): 2 or more shares every call with a helper thread;
   * "auto", where there are two CPUs, shares or not call by call, by which has been faster (ThreadChoice).
   */
  static open(pkg: PolicyPackage, threads: number | "auto" = 1): NativeSampler {
    const m = pkg.manifest;
    if (!m.native_sampler || !pkg.nativeWeights || !m.diffusion) {
      throw new PolicyPackageError(`${pkg.dir}/policy.json: /native_sampler: this package has no native sampler weights (re-export it)`);
    }
    const a = loadAddon();
    if (!a) throw new Error(nativeAvailability().reason);
    const two = threads === "auto" ? availableParallelism() >= 2 : threads >= 2;
    return new NativeSampler(a, pkg, m, two ? 2 : 1, threads === "auto");
  }

  async run(obs: Float32Array, B: number, K: number, noise: Float32Array): Promise<CandidateBatch> {
    const A = this.m.action.size;
    const M = this.m.critic.members;
    const N = B * K;
    if (this.x.length < N * A) {
      this.x = new Float32Array(N * A);
      this.q = new Float32Array(N * M);
      this.scores = new Float32Array(N);
    }
    const x = this.x.subarray(0, N * A);
    const shared = this.choice?.next() ?? true;
    const started = performance.now();
    this.native.run(this.handle, obs, B, K, noise, x, this.q, !shared);
    if (this.choice && N >= this.native.sharedFrom) this.choice.record(shared, performance.now() - started, N);
    const { aggregation, beta } = this.m.selection;
    return { candidates: x, scores: aggregate(this.q, N, M, aggregation, beta, this.scores.subarray(0, N)), graphAction: null };
  }

  /** Per-candidate times of calls alone and shared (threads auto with two CPUs); null otherwise. */
  get threadTimes(): { alone: number; shared: number } | null {
    return this.choice?.averages ?? null;
  }

  /** Chunks of the candidates run so far by the calling thread and by the helper (two threads only). */
  chunkShares(): { caller: number; helper: number } {
    const [caller, helper] = this.native.shares(this.handle);
    return { caller, helper };
  }

  async release(): Promise<void> {
    this.native.close(this.handle); // joins the helper thread now rather than at garbage collection
  }
}
