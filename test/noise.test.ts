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
