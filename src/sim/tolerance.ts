// dm_control's rewards.tolerance (dm_control/utils/rewards.py), which HumanoidBench's rewards are built from:
// 1 inside [lower, upper]; outside, a sigmoid of the distance in units of `margin` that equals
// `valueAtMargin` at distance 1 (0 outside when margin = 0). ../shared/reference/humanoidbench.md §7.

export type Sigmoid = "gaussian" | "linear" | "quadratic" | "hyperbolic" | "long_tail" | "reciprocal" | "cosine" | "tanh_squared";

export interface ToleranceOptions {
  bounds?: [number, number];
  margin?: number;
  sigmoid?: Sigmoid;
  valueAtMargin?: number;
}

/** s(d) with s(0) = 1 and s(1) = v, for d >= 0. */
export function sigmoid(d: number, v: number, kind: Sigmoid): number {
  switch (kind) {
    case "gaussian": {
      const scale = Math.sqrt(-2 * Math.log(v));
      return Math.exp(-0.5 * (d * scale) ** 2);
    }
    case "hyperbolic": {
      const scale = Math.acosh(1 / v);
      return 1 / Math.cosh(d * scale);
    }
    case "long_tail": {
      const scale = Math.sqrt(1 / v - 1);
      return 1 / ((d * scale) ** 2 + 1);
    }
    case "reciprocal": {
      const scale = 1 / v - 1;
      return 1 / (Math.abs(d) * scale + 1);
    }
    case "cosine": {
      const scale = Math.acos(2 * v - 1) / Math.PI;
      const x = d * scale;
      return Math.abs(x) < 1 ? (1 + Math.cos(Math.PI * x)) / 2 : 0;
    }
    case "linear": {
      const x = d * (1 - v);
      return Math.abs(x) < 1 ? 1 - x : 0;
    }
    case "quadratic": {
      const x = d * Math.sqrt(1 - v);
      return Math.abs(x) < 1 ? 1 - x * x : 0;
    }
    case "tanh_squared": {
      const scale = Math.atanh(Math.sqrt(1 - v));
      return 1 - Math.tanh(d * scale) ** 2;
    }
  }
}

function checkValue(v: number, kind: Sigmoid): void {
  const zeroAllowed = kind === "linear" || kind === "quadratic" || kind === "cosine";
  if (zeroAllowed ? !(v >= 0 && v < 1) : !(v > 0 && v < 1)) {
    throw new RangeError(`valueAtMargin must be in ${zeroAllowed ? "[0, 1)" : "(0, 1)"} for the ${kind} sigmoid, got ${v}`);
  }
}

export function tolerance(x: number, { bounds = [0, 0], margin = 0, sigmoid: kind = "gaussian", valueAtMargin = 0.1 }: ToleranceOptions = {}): number {
  const [lower, upper] = bounds;
  if (lower > upper) throw new RangeError("lower bound must be <= upper bound");
  if (margin < 0) throw new RangeError("margin must be non-negative");
  const inBounds = lower <= x && x <= upper;
  if (margin === 0) return inBounds ? 1 : 0;
  checkValue(valueAtMargin, kind);
  if (inBounds) return 1;
  const d = (x < lower ? lower - x : x - upper) / margin;
  return sigmoid(d, valueAtMargin, kind);
}
