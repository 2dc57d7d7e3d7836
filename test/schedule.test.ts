import assert from "node:assert/strict";
import { test } from "node:test";
import type { DiffusionSpec } from "../src/policy/manifest.ts";
import { betas, reverseConstants } from "../src/policy/schedule.ts";
import { fixturePath, readJson } from "./helpers/fixtures.ts";

const spec = (schedule: DiffusionSpec["schedule"], steps: number, variance: DiffusionSpec["variance"] = "posterior"): DiffusionSpec => ({
  schedule,
  schedule_params: {},
  steps,
  prediction: "epsilon",
  clip_x0: 1,
  variance,
  noise_ratio: 1,
});

test("vp schedule: cumulative product equals its closed form exp(-(b_min t/T + (b_max-b_min) t^2 / 2T^2))", () => {
  const T = 5;
  const c = reverseConstants(spec("vp", T));
  for (let t = 1; t <= T; t++) {
    const closed = Math.exp(-(0.1 * t) / T - (0.5 * (10 - 0.1) * t * t) / (T * T));
    assert.ok(Math.abs(c.alphasCumprod[t - 1] - closed) < 1e-12, `t=${t}`);
  }
  // The reference values of the authors' T = 5 schedule, given to 5 decimals (docs/algorithms.md).
  const reference = [0.19588, 0.45882, 0.63578, 0.75488, 0.83503];
  betas("vp", 5).forEach((b, i) => assert.ok(Math.abs(b - reference[i]) < 1e-5, `beta ${i}: ${b}`));
});

test("cosine schedule: alpha_bar follows cos^2 until the 0.999 clip, reference values for T = 20", () => {
  const T = 20;
  const b = betas("cosine", T);
  const f = (i: number) => Math.cos(((i / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  let ac = 1;
  for (let i = 0; i < T - 1; i++) {
    ac *= 1 - b[i];
    assert.ok(Math.abs(ac - f(i + 1) / f(0)) < 1e-12, `i=${i}`);
  }
  assert.equal(b[T - 1], 0.999);
  assert.equal(Number(b[0].toFixed(5)), 0.00799);
  assert.equal(Number(b[18].toFixed(4)), 0.7485);
});

test("linear schedule spans beta_start to beta_end", () => {
  const b = betas("linear", 10);
  assert.equal(b[0], 1e-4);
  assert.equal(b[9], 2e-2);
  for (let i = 1; i < 10; i++) assert.ok(Math.abs(b[i] - b[i - 1] - (2e-2 - 1e-4) / 9) < 1e-15);
});

test("a perfect noise prediction makes the x0 estimate exact, and the posterior mean matches its definition", () => {
  const c = reverseConstants(spec("cosine", 20));
  const x0 = 0.3;
  const eps = -1.2;
  for (let t = 0; t < 20; t++) {
    const ac = c.alphasCumprod[t];
    const xt = Math.sqrt(ac) * x0 + Math.sqrt(1 - ac) * eps;
    const x0hat = c.sqrtRecipAlphasCumprod[t] * xt - c.sqrtRecipm1AlphasCumprod[t] * eps;
    assert.ok(Math.abs(x0hat - x0) < 1e-6 * Math.max(1, c.sqrtRecipAlphasCumprod[t]), `t=${t}: ${x0hat}`);
    // q(x_{t-1} | x_t, x0) mean from Bayes, with alpha_t = 1 - beta_t.
    const prev = t === 0 ? 1 : c.alphasCumprod[t - 1];
    const alpha = ac / prev;
    const mean = (Math.sqrt(prev) * (1 - alpha) * x0 + Math.sqrt(alpha) * (1 - prev) * xt) / (1 - ac);
    const got = c.posteriorMeanCoef1[t] * x0 + c.posteriorMeanCoef2[t] * xt;
    assert.ok(Math.abs(got - mean) < 1e-5, `t=${t}`);
  }
  assert.equal(c.noiseStd[0], 0, "no noise at the last reverse step");
  assert.ok(c.noiseStd.slice(1).every((s) => s > 0));
});

test("the TypeScript constants equal the trainer's, float32 for float32", () => {
  const v = readJson(fixturePath("math-vectors.json"));
  const names: Record<string, keyof ReturnType<typeof reverseConstants>> = {
    sqrt_recip_alphas_cumprod: "sqrtRecipAlphasCumprod",
    sqrt_recipm1_alphas_cumprod: "sqrtRecipm1AlphasCumprod",
    posterior_mean_coef1: "posteriorMeanCoef1",
    posterior_mean_coef2: "posteriorMeanCoef2",
    noise_std: "noiseStd",
  };
  for (const s of v.schedules) {
    const where = `${s.schedule} T=${s.T} ${s.variance}`;
    const b = betas(s.schedule, s.T);
    s.betas.forEach((want: number, i: number) => assert.ok(Math.abs(b[i] - want) <= 1e-15 * Math.max(1, want), `${where} beta ${i}`));
    const c = reverseConstants(spec(s.schedule, s.T, s.variance));
    for (const [py, ts] of Object.entries(names)) {
      const got = c[ts] as Float32Array;
      s.float32[py].forEach((want: number, i: number) => {
        // Equal, or one float32 ulp apart where the two math libraries round cos/exp differently.
        assert.ok(Math.abs(got[i] - want) <= Math.abs(want) * 2 ** -23, `${where} ${py}[${i}]: ${got[i]} vs ${want}`);
      });
    }
  }
});
