// Noise schedules and DDPM reverse-step constants, the same formulas as trainer/dptrain/schedules.py:
// computed in float64, then rounded to float32 once, so both sides hold identical constants.
import type { DiffusionSpec, ScheduleName } from "./manifest.ts";

export const LOG_VARIANCE_FLOOR = 1e-20;

export const DEFAULT_SCHEDULE_PARAMS: Record<ScheduleName, Record<string, number>> = {
  vp: { b_min: 0.1, b_max: 10.0 },
  cosine: { s: 0.008, max_beta: 0.999 },
  linear: { beta_start: 1e-4, beta_end: 2e-2 },
  mean_reverting: { s: 0.008 },
};

/** beta_t for t = 0..T-1 (float64). */
export function betas(schedule: ScheduleName, T: number, params: Record<string, number> = {}): Float64Array {
  const p = { ...DEFAULT_SCHEDULE_PARAMS[schedule], ...params };
  const out = new Float64Array(T);
  if (schedule === "vp") {
    for (let i = 0; i < T; i++) {
      const t = i + 1;
      out[i] = 1 - Math.exp(-p.b_min / T - (0.5 * (p.b_max - p.b_min) * (2 * t - 1)) / (T * T));
    }
  } else if (schedule === "cosine") {
    const f = (i: number) => Math.cos((((i / T) + p.s) / (1 + p.s)) * Math.PI * 0.5) ** 2;
    const f0 = f(0);
    for (let i = 0; i < T; i++) {
      const beta = 1 - f(i + 1) / f0 / (f(i) / f0);
      out[i] = Math.min(Math.max(beta, 0), p.max_beta);
    }
  } else if (schedule === "linear") {
    // As numpy.linspace: i * step + start, the last point exactly the end.
    const step = T > 1 ? (p.beta_end - p.beta_start) / (T - 1) : 0;
    for (let i = 0; i < T; i++) out[i] = i * step + p.beta_start;
    if (T > 1) out[T - 1] = p.beta_end;
  } else if (schedule === "mean_reverting") {
    // The Q-ensemble method's mean-reverting SDE as a DDPM (trainer/dptrain/schedules.py): cosine thetas on
    // T+2 points, dt such that exp(-dt * sum theta) = 1e-3, beta = 1 - exp(-2 theta dt).
    const f = (i: number) => Math.cos((((i / (T + 1)) + p.s) / (1 + p.s)) * Math.PI * 0.5) ** 2;
    const theta = Array.from({ length: T }, (_, i) => 1 - f(i + 1) / f(0));
    const dt = -Math.log(1e-3) / theta.reduce((a, b) => a + b, 0);
    for (let i = 0; i < T; i++) out[i] = 1 - Math.exp(-2 * theta[i] * dt);
  } else {
    throw new Error(`unknown noise schedule ${JSON.stringify(schedule)}`);
  }
  return out;
}

/** Per-step float32 constants of the reverse step x_{t-1} = c1*x0 + c2*x_t + std*z (x0 = recip*x_t - recipm1*eps). */
export interface ReverseConstants {
  T: number;
  alphasCumprod: Float64Array;
  sqrtRecipAlphasCumprod: Float32Array;
  sqrtRecipm1AlphasCumprod: Float32Array;
  posteriorMeanCoef1: Float32Array;
  posteriorMeanCoef2: Float32Array;
  noiseStd: Float32Array; // includes noise_ratio; 0 at t = 0
}

export function reverseConstants(spec: DiffusionSpec): ReverseConstants {
  const b = betas(spec.schedule, spec.steps, spec.schedule_params);
  const T = b.length;
  const ac = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) ac[t] = prod *= 1 - b[t];
  const c: ReverseConstants = {
    T,
    alphasCumprod: ac,
    sqrtRecipAlphasCumprod: new Float32Array(T),
    sqrtRecipm1AlphasCumprod: new Float32Array(T),
    posteriorMeanCoef1: new Float32Array(T),
    posteriorMeanCoef2: new Float32Array(T),
    noiseStd: new Float32Array(T),
  };
  for (let t = 0; t < T; t++) {
    const prev = t === 0 ? 1 : ac[t - 1];
    c.sqrtRecipAlphasCumprod[t] = Math.sqrt(1 / ac[t]);
    c.sqrtRecipm1AlphasCumprod[t] = Math.sqrt(1 / ac[t] - 1);
    c.posteriorMeanCoef1[t] = (b[t] * Math.sqrt(prev)) / (1 - ac[t]);
    c.posteriorMeanCoef2[t] = ((1 - prev) * Math.sqrt(1 - b[t])) / (1 - ac[t]);
    const variance = spec.variance === "posterior" ? (b[t] * (1 - prev)) / (1 - ac[t]) : b[t];
    const std = Math.exp(0.5 * Math.log(Math.max(variance, LOG_VARIANCE_FLOOR)));
    c.noiseStd[t] = t === 0 ? 0 : std * spec.noise_ratio;
  }
  return c;
}
