"""dm_control's `rewards.tolerance` (dm_control/utils/rewards.py), the soft indicator HumanoidBench's
rewards are built from. Same arithmetic, same argument checks, same scalar-in/float-out behaviour.

Corner cases worth knowing when porting it:
- with margin == 0 the sigmoid (and its value_at_margin check) is never evaluated: out of bounds is 0;
- value_at_margin must be in (0, 1), or [0, 1) for linear, quadratic and cosine;
- linear, quadratic and cosine are exactly 0 once the scaled distance reaches 1 (strict `< 1`).
"""

from __future__ import annotations

import numpy as np

DEFAULT_VALUE_AT_MARGIN = 0.1
SIGMOIDS = ("gaussian", "hyperbolic", "long_tail", "reciprocal", "cosine", "linear", "quadratic", "tanh_squared")


def sigmoid(x, value_at_1: float, kind: str):
    """s(x) with s(0) = 1 and s(1) = value_at_1, for distances x >= 0 (in units of the margin)."""
    if kind in ("cosine", "linear", "quadratic"):
        if not 0 <= value_at_1 < 1:
            raise ValueError(f"`value_at_1` must be nonnegative and smaller than 1, got {value_at_1}.")
    elif not 0 < value_at_1 < 1:
        raise ValueError(f"`value_at_1` must be strictly between 0 and 1, got {value_at_1}.")

    if kind == "gaussian":
        scale = np.sqrt(-2 * np.log(value_at_1))
        return np.exp(-0.5 * (x * scale) ** 2)
    if kind == "hyperbolic":
        scale = np.arccosh(1 / value_at_1)
        return 1 / np.cosh(x * scale)
    if kind == "long_tail":
        scale = np.sqrt(1 / value_at_1 - 1)
        return 1 / ((x * scale) ** 2 + 1)
    if kind == "reciprocal":
        scale = 1 / value_at_1 - 1
        return 1 / (abs(x) * scale + 1)
    if kind == "cosine":
        scale = np.arccos(2 * value_at_1 - 1) / np.pi
        scaled_x = x * scale
        with np.errstate(invalid="ignore"):  # cos(inf) for unbounded distances; masked out below
            cos_pi_scaled_x = np.cos(np.pi * scaled_x)
        return np.where(abs(scaled_x) < 1, (1 + cos_pi_scaled_x) / 2, 0.0)
    if kind == "linear":
        scaled_x = x * (1 - value_at_1)
        return np.where(abs(scaled_x) < 1, 1 - scaled_x, 0.0)
    if kind == "quadratic":
        scaled_x = x * np.sqrt(1 - value_at_1)
        return np.where(abs(scaled_x) < 1, 1 - scaled_x**2, 0.0)
    if kind == "tanh_squared":
        scale = np.arctanh(np.sqrt(1 - value_at_1))
        return 1 - np.tanh(x * scale) ** 2
    raise ValueError(f"Unknown sigmoid type {kind!r}.")


def tolerance(x, bounds=(0.0, 0.0), margin: float = 0.0, sigmoid: str = "gaussian",
              value_at_margin: float = DEFAULT_VALUE_AT_MARGIN):
    """1 when lower <= x <= upper; outside, s(distance to the nearest bound / margin), or 0 if margin == 0.
    Returns a float for scalar x and an array otherwise."""
    lower, upper = bounds
    if lower > upper:
        raise ValueError("Lower bound must be <= upper bound.")
    if margin < 0:
        raise ValueError("`margin` must be non-negative.")

    in_bounds = np.logical_and(lower <= x, x <= upper)
    if margin == 0:
        value = np.where(in_bounds, 1.0, 0.0)
    else:
        d = np.where(x < lower, lower - x, x - upper) / margin
        value = np.where(in_bounds, 1.0, _sigmoid(d, value_at_margin, sigmoid))
    return float(value) if np.isscalar(x) else value


_sigmoid = sigmoid  # `tolerance`'s keyword argument is also called `sigmoid`
