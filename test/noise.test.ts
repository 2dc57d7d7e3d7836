import assert from "node:assert/strict";
import { test } from "node:test";
import { SeededNormal } from "../src/policy/noise.ts";

test("the same seed gives the same stream, other seeds other streams", () => {
  const a = new SeededNormal(42).fill(new Float32Array(1000));
  const b = new SeededNormal(42).fill(new Float32Array(1000));
  const c = new SeededNormal(43).fill(new Float32Array(1000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("values are standard normal (moments and tails of 200k draws)", () => {
  const x = new SeededNormal(1).fill(new Float32Array(200_000));
  let sum = 0;
  let sq = 0;
  let beyond2 = 0;
  for (const v of x) {
    sum += v;
    sq += v * v;
    if (Math.abs(v) > 2) beyond2++;
  }
  const mean = sum / x.length;
  const variance = sq / x.length - mean * mean;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.01, `variance ${variance}`);
  assert.ok(Math.abs(beyond2 / x.length - 0.0455) < 0.002, `P(|x|>2) = ${beyond2 / x.length}`);
  assert.ok(x.every(Number.isFinite));
});

test("the distribution fits the normal CDF (chi-square over 24 bins, 400k draws) including the tails", () => {
  const n = 400_000;
  const edges = Array.from({ length: 23 }, (_, i) => -4 + (8 * (i + 1)) / 24); // 24 bins over (-inf, inf)
  const counts = new Array(24).fill(0);
  const rng = new SeededNormal(9);
  let beyond35 = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.normal();
    let b = 0;
    while (b < 23 && v >= edges[b]) b++;
    counts[b]++;
    if (Math.abs(v) > 3.5) beyond35++;
  }
  const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
  let chi2 = 0;
  for (let b = 0; b < 24; b++) {
    const lo = b === 0 ? 0 : cdf(edges[b - 1]);
    const hi = b === 23 ? 1 : cdf(edges[b]);
    const expected = n * (hi - lo);
    chi2 += (counts[b] - expected) ** 2 / expected;
  }
  assert.ok(chi2 < 49.7, `chi-square ${chi2.toFixed(1)} with 23 degrees of freedom (p = 0.001 at 49.7)`);
  // P(|x| > 3.5) = 4.65e-4: the ziggurat's tail algorithm is exercised (186 expected, sd ~14).
  assert.ok(Math.abs(beyond35 - 186) < 60, `beyond 3.5: ${beyond35}`);
});

/** Abramowitz-Stegun 7.1.26 (error < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

test("uniforms lie in [0, 1) and cover it", () => {
  const rng = new SeededNormal(5);
  const bins = new Array(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]++;
  }
  for (const b of bins) assert.ok(Math.abs(b - 10_000) < 500, `bin count ${b}`);
});

test("fill() gives exactly the stream of repeated normal() calls", () => {
  const a = new SeededNormal(3);
  const b = new SeededNormal(3);
  const filled = a.fill(new Float32Array(50_000));
  for (let i = 0; i < filled.length; i++) assert.equal(filled[i], Math.fround(b.normal()), `value ${i}`);
  assert.equal(a.uniform(), b.uniform(), "and leaves the generator in the same state");
});
