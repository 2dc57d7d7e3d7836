import assert from "node:assert/strict";
import { test } from "node:test";
import { sigmoid, tolerance, type Sigmoid } from "../src/sim/tolerance.ts";

const ALL: Sigmoid[] = ["gaussian", "linear", "quadratic", "hyperbolic", "long_tail", "reciprocal", "cosine", "tanh_squared"];
const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test("every sigmoid is 1 at distance 0 and value_at_margin at distance 1", () => {
  for (const kind of ALL) {
    for (const v of [0.1, 0.5, 0.9]) {
      close(sigmoid(0, v, kind), 1);
      close(sigmoid(1, v, kind), v, 1e-12);
    }
  }
});

test("sigmoids match their closed forms elsewhere", () => {
  // dm_control's definitions, evaluated at d = 0.5 and 2 with v = 0.1.
  const v = 0.1;
  for (const d of [0.5, 2]) {
    close(sigmoid(d, v, "gaussian"), v ** (d * d), 1e-12);
    close(sigmoid(d, v, "linear"), Math.max(0, 1 - d * (1 - v)), 1e-12);
    close(sigmoid(d, v, "quadratic"), d * Math.sqrt(1 - v) < 1 ? 1 - d * d * (1 - v) : 0, 1e-12);
    close(sigmoid(d, v, "hyperbolic"), 1 / Math.cosh(d * Math.acosh(1 / v)), 1e-12);
    close(sigmoid(d, v, "long_tail"), 1 / (d * d * (1 / v - 1) + 1), 1e-12);
    close(sigmoid(d, v, "reciprocal"), 1 / (d * (1 / v - 1) + 1), 1e-12);
    const x = (d * Math.acos(2 * v - 1)) / Math.PI;
    close(sigmoid(d, v, "cosine"), x < 1 ? (1 + Math.cos(Math.PI * x)) / 2 : 0, 1e-12);
    close(sigmoid(d, v, "tanh_squared"), 1 - Math.tanh(d * Math.atanh(Math.sqrt(1 - v))) ** 2, 1e-12);
  }
});

test("tolerance: 1 in bounds, the sigmoid of distance/margin outside, 0 outside with no margin", () => {
  assert.equal(tolerance(1.7, { bounds: [1.65, Infinity], margin: 0.4125 }), 1);
  close(tolerance(1.65 - 0.4125, { bounds: [1.65, Infinity], margin: 0.4125 }), 0.1);
  close(tolerance(1.65 - 0.2, { bounds: [1.65, Infinity], margin: 0.4125 }), 0.1 ** ((0.2 / 0.4125) ** 2));
  // HumanoidBench's uses: upright (linear, v 0), small control (quadratic, v 0), move (linear, v 0).
  close(tolerance(0.5, { bounds: [0.9, Infinity], sigmoid: "linear", margin: 1.9, valueAtMargin: 0 }), 1 - 0.4 / 1.9);
  close(tolerance(5, { margin: 10, sigmoid: "quadratic", valueAtMargin: 0 }), 0.75);
  assert.equal(tolerance(-12, { margin: 10, sigmoid: "quadratic", valueAtMargin: 0 }), 0);
  close(tolerance(0.25, { bounds: [1, Infinity], margin: 1, sigmoid: "linear", valueAtMargin: 0 }), 0.25);
  assert.equal(tolerance(0.5, { bounds: [0, 1] }), 1);
  assert.equal(tolerance(1.5, { bounds: [0, 1] }), 0);
  assert.equal(tolerance(0), 1);
});

test("tolerance rejects the arguments dm_control rejects", () => {
  assert.throws(() => tolerance(0, { bounds: [1, 0] }), /lower bound must be <= upper bound/);
  assert.throws(() => tolerance(0, { margin: -1 }), /margin must be non-negative/);
  assert.throws(() => tolerance(0, { margin: 1, valueAtMargin: 0 }), /\(0, 1\) for the gaussian sigmoid/);
  assert.throws(() => tolerance(0, { margin: 1, valueAtMargin: 1, sigmoid: "linear" }), /\[0, 1\) for the linear sigmoid/);
  // As in dm_control, the check happens even for values in bounds.
  assert.throws(() => tolerance(0, { margin: 1, valueAtMargin: 1.5 }), /valueAtMargin/);
});
