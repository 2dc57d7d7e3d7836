"""dm_control's tolerance (dptrain.envs.h1.rewards) against its definition (docs: humanoidbench.md §7)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dptrain.envs.h1.rewards import SIGMOIDS, tolerance

# s(d) written independently from the closed forms of the definition, for a value v at d = 1.
CLOSED_FORMS = {
    "gaussian": lambda d, v: v ** (d * d),
    "hyperbolic": lambda d, v: 1 / math.cosh(d * math.acosh(1 / v)),
    "long_tail": lambda d, v: 1 / ((d * math.sqrt(1 / v - 1)) ** 2 + 1),
    "reciprocal": lambda d, v: 1 / (d * (1 / v - 1) + 1),
    "cosine": lambda d, v: (1 + math.cos(d * math.acos(2 * v - 1))) / 2 if d * math.acos(2 * v - 1) / math.pi < 1 else 0.0,
    "linear": lambda d, v: 1 - d * (1 - v) if d * (1 - v) < 1 else 0.0,
    "quadratic": lambda d, v: 1 - d * d * (1 - v) if d * math.sqrt(1 - v) < 1 else 0.0,
    "tanh_squared": lambda d, v: 1 - math.tanh(d * math.atanh(math.sqrt(1 - v))) ** 2,
}


def test_every_sigmoid_is_tested():
    assert set(CLOSED_FORMS) == set(SIGMOIDS)


@pytest.mark.parametrize("kind", SIGMOIDS)
def test_in_bounds_is_one_and_margin_sets_the_scale(kind):
    bounds, margin, v = (1.0, 2.0), 0.5, 0.3
    for x in (1.0, 1.5, 2.0):
        assert tolerance(x, bounds, margin, kind, v) == 1.0
    # s(0) = 1 at the bounds, s(1) = v one margin outside on either side
    assert tolerance(2.0 + margin, bounds, margin, kind, v) == pytest.approx(v, abs=1e-12)
    assert tolerance(1.0 - margin, bounds, margin, kind, v) == pytest.approx(v, abs=1e-12)
    assert tolerance(2.0 + 1e-9, bounds, margin, kind, v) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("kind", SIGMOIDS)
@pytest.mark.parametrize("v", [0.1, 0.5, 0.9])
def test_matches_the_closed_form(kind, v):
    margin = 2.0
    for d in (0.0, 0.25, 0.5, 1.0, 1.3, 1.9, 2.5, 4.0):
        x = 3.0 + d * margin  # distance d margins above the upper bound 3
        assert tolerance(x, (-1.0, 3.0), margin, kind, v) == pytest.approx(CLOSED_FORMS[kind](d, v), abs=1e-12), d


def test_known_values():
    assert tolerance(4.0, margin=2.0) == pytest.approx(1e-4, rel=1e-9)  # gaussian 0.1^(d^2), d = 2
    assert tolerance(-4.0, margin=1.0) == pytest.approx(1e-16, rel=1e-9)  # d = 4
    assert tolerance(3.0, margin=1.0, sigmoid="linear", value_at_margin=0.5) == pytest.approx(0.0)  # d(1-v) = 1.5
    assert tolerance(1.5, margin=1.0, sigmoid="linear", value_at_margin=0.5) == pytest.approx(0.25)
    assert tolerance(1.2, margin=1.0, sigmoid="quadratic", value_at_margin=0.5) == pytest.approx(1 - 1.44 * 0.5)
    assert tolerance(2.0, margin=1.0, sigmoid="long_tail", value_at_margin=0.5) == pytest.approx(0.2)
    assert tolerance(-3.0, margin=1.0, sigmoid="reciprocal", value_at_margin=0.5) == pytest.approx(0.25)
    assert tolerance(0.5, margin=1.0, sigmoid="cosine", value_at_margin=0.5) == pytest.approx((1 + math.cos(math.pi / 4)) / 2)
    assert tolerance(2.0, margin=1.0, sigmoid="cosine", value_at_margin=0.5) == 0.0
    assert tolerance(1.0, margin=1.0, sigmoid="hyperbolic", value_at_margin=0.5) == pytest.approx(0.5)
    # the value at a bound is exactly 1 even for an infinite other bound
    assert tolerance(1.65, bounds=(1.65, float("inf")), margin=0.4125) == 1.0


def test_zero_margin_is_a_hard_indicator_without_sigmoid_checks():
    assert tolerance(0.0) == 1.0
    assert tolerance(1e-12) == 0.0
    assert tolerance(5.0, (0, 1), 0.0) == 0.0
    # margin 0 never evaluates the sigmoid, so neither its value_at_margin nor its name is checked
    assert tolerance(5.0, (0, 1), 0.0, sigmoid="no_such", value_at_margin=7.0) == 0.0


def test_argument_errors():
    with pytest.raises(ValueError, match="Lower bound"):
        tolerance(0.0, bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="margin"):
        tolerance(0.0, margin=-1.0)
    with pytest.raises(ValueError, match="Unknown sigmoid"):
        tolerance(5.0, margin=1.0, sigmoid="no_such")
    for kind in ("gaussian", "hyperbolic", "long_tail", "reciprocal", "tanh_squared"):
        for v in (0.0, 1.0, -0.1, 1.5):
            with pytest.raises(ValueError, match="strictly between 0 and 1"):
                tolerance(5.0, margin=1.0, sigmoid=kind, value_at_margin=v)
    for kind in ("linear", "quadratic", "cosine"):
        assert tolerance(5.0, margin=10.0, sigmoid=kind, value_at_margin=0.0) >= 0.0  # v = 0 allowed
        for v in (1.0, -0.1):
            with pytest.raises(ValueError, match="nonnegative and smaller than 1"):
                tolerance(5.0, margin=1.0, sigmoid=kind, value_at_margin=v)
    # the check runs whenever margin > 0, even if x is in bounds
    with pytest.raises(ValueError):
        tolerance(0.0, margin=1.0, value_at_margin=0.0)


def test_scalar_in_float_out_array_in_array_out():
    assert isinstance(tolerance(0.3, margin=1.0), float)
    assert isinstance(tolerance(np.float64(0.3), margin=1.0), float)
    out = tolerance(np.array([0.0, 1.0, 2.0]), margin=1.0)
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    np.testing.assert_allclose(out, [1.0, 0.1, 1e-4])


def test_humanoidbench_standing_gaussian():
    # tol(head, (1.65, inf), margin 1.65/4): 1 at/above 1.65, 0.1^(((1.65 - head)/0.4125)^2) below
    for head in (1.7, 1.65, 1.5, 1.2375, 1.0, 0.2):
        expected = 1.0 if head >= 1.65 else 0.1 ** (((1.65 - head) / 0.4125) ** 2)
        assert tolerance(head, (1.65, float("inf")), 1.65 / 4) == pytest.approx(expected, rel=1e-12)
    assert tolerance(1.65 - 0.4125, (1.65, float("inf")), 1.65 / 4) == pytest.approx(0.1)


def test_humanoidbench_upright_and_move_linear():
    # upright: tol(zz, (0.9, inf), margin 1.9, linear, 0) = 1 - (0.9 - zz)/1.9 below 0.9, 0 at zz = -1
    for zz in (1.0, 0.9, 0.5, 0.0, -0.5, -1.0):
        expected = 1.0 if zz >= 0.9 else max(0.0, 1 - (0.9 - zz) / 1.9)
        assert tolerance(zz, (0.9, float("inf")), 1.9, "linear", 0) == pytest.approx(expected, abs=1e-12)
    # move (speed s): max(0, v/s) below s, 1 above; negative speeds give 0
    for s in (1.0, 5.0):
        for v in (-1.0, 0.0, 0.5, 2.5, 5.0, 7.0):
            expected = 1.0 if v >= s else max(0.0, v / s)
            assert tolerance(v, (s, float("inf")), s, "linear", 0) == pytest.approx(expected, abs=1e-12)


def test_humanoidbench_small_control_quadratic():
    forces = np.array([0.0, 1.0, -5.0, 9.99, 10.0, -250.0])
    per_actuator = tolerance(forces, margin=10, sigmoid="quadratic", value_at_margin=0)
    np.testing.assert_allclose(per_actuator, np.maximum(0.0, 1 - (forces / 10) ** 2), atol=1e-12)
    assert per_actuator[4] == 0.0 and per_actuator[5] == 0.0
    small_control = (4 + per_actuator.mean()) / 5
    assert 0.8 <= small_control <= 1.0
