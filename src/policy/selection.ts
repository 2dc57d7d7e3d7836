// Critic aggregation and candidate selection: the rules of trainer/dptrain/selection.py.
import type { Aggregation, SelectionRule } from "./manifest.ts";

/** q: [N, M] member values (row-major) -> scores[N]. lcb = mean - beta * std (std with Bessel's correction). */
export function aggregate(q: Float32Array, N: number, M: number, how: Aggregation, beta: number, out: Float32Array): Float32Array {
  for (let i = 0; i < N; i++) {
    const row = i * M;
    if (how === "min") {
      let m = q[row];
      for (let j = 1; j < M; j++) if (q[row + j] < m) m = q[row + j];
      out[i] = m;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < M; j++) sum += q[row + j];
    const mean = sum / M;
    if (how === "mean") {
      out[i] = mean;
      continue;
    }
    let ss = 0;
    for (let j = 0; j < M; j++) ss += (q[row + j] - mean) ** 2;
    out[i] = mean - beta * Math.sqrt(ss / (M - 1));
  }
  return out;
}

/** Index of the first maximum of scores[offset .. offset+K); NaN scores never win. */
export function argmax(scores: Float32Array, offset: number, K: number): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let k = 0; k < K; k++) {
    const v = scores[offset + k];
    if (v > bestValue || (best < 0 && v === -Infinity)) {
      best = k;
      bestValue = v;
    }
  }
  return best < 0 ? 0 : best;
}

/** Draw from softmax(scores / temperature) over one row by inverse CDF of u in [0, 1). */
export function softmaxDraw(scores: Float32Array, offset: number, K: number, temperature: number, u: number): number {
  let max = -Infinity;
  for (let k = 0; k < K; k++) if (scores[offset + k] > max) max = scores[offset + k];
  if (!Number.isFinite(max)) return argmax(scores, offset, K);
  let total = 0;
  for (let k = 0; k < K; k++) total += Math.exp((scores[offset + k] - max) / temperature);
  const target = u * total;
  let cdf = 0;
  for (let k = 0; k < K; k++) {
    cdf += Math.exp((scores[offset + k] - max) / temperature);
    if (cdf >= target && cdf > 0) return k;
  }
  return K - 1;
}

/** For each of B rows of K scores, the chosen candidate index (u supplies one uniform per row for softmax). */
export function selectIndices(
  scores: Float32Array,
  B: number,
  K: number,
  rule: SelectionRule,
  temperature: number,
  u: ArrayLike<number> | null,
  out: Int32Array,
): Int32Array {
  for (let b = 0; b < B; b++) {
    out[b] = rule === "argmax" ? argmax(scores, b * K, K) : softmaxDraw(scores, b * K, K, temperature, u ? u[b] : 0.5);
  }
  return out;
}
