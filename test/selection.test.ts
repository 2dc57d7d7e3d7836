import assert from "node:assert/strict";
import { test } from "node:test";
import { aggregate, argmax, selectIndices, softmaxDraw } from "../src/policy/selection.ts";
import { fixturePath, readJson } from "./helpers/fixtures.ts";

test("min, mean and lcb aggregation match the trainer", () => {
  const v = readJson(fixturePath("math-vectors.json")).aggregation;
  const q = Float32Array.from(v.q);
  for (const how of ["min", "mean", "lcb"] as const) {
    const out = aggregate(q, v.N, v.M, how, v.beta, new Float32Array(v.N));
    v[how].forEach((want: number, i: number) => assert.ok(Math.abs(out[i] - want) < 1e-4, `${how}[${i}]: ${out[i]} vs ${want}`));
  }
});

test("lcb is mean - beta * sample std", () => {
  const out = aggregate(Float32Array.from([1, 3, 5, 2, 2, 2]), 2, 3, "lcb", 0.5, new Float32Array(2));
  assert.ok(Math.abs(out[0] - (3 - 0.5 * 2)) < 1e-6);
  assert.equal(out[1], 2);
});

test("argmax and softmax selection match the trainer", () => {
  const v = readJson(fixturePath("math-vectors.json")).selection;
  const scores = Float32Array.from(v.scores);
  assert.deepEqual(Array.from(selectIndices(scores, v.B, v.K, "argmax", 1, null, new Int32Array(v.B))), v.argmax);
  assert.deepEqual(Array.from(selectIndices(scores, v.B, v.K, "softmax", v.temperature, v.u, new Int32Array(v.B))), v.softmax);
});

test("softmax draws follow softmax probabilities", () => {
  const scores = Float32Array.from([0, Math.log(3), -Infinity, Math.log(6)]); // probabilities 0.1, 0.3, 0, 0.6
  const counts = [0, 0, 0, 0];
  const n = 10000;
  for (let i = 0; i < n; i++) counts[softmaxDraw(scores, 0, 4, 1, (i + 0.5) / n)]++;
  assert.deepEqual(counts, [1000, 3000, 0, 6000]);
  // A low temperature approaches argmax.
  assert.equal(softmaxDraw(scores, 0, 4, 1e-3, 0.01), 3);
});

test("NaN scores never win an argmax", () => {
  assert.equal(argmax(Float32Array.from([NaN, 1, 2, NaN]), 0, 4), 2);
  assert.equal(argmax(Float32Array.from([NaN, NaN]), 0, 2), 0);
  assert.equal(argmax(Float32Array.from([-Infinity, -Infinity]), 0, 2), 0);
});
