"""Noise schedules and the DDPM reverse-step constants.

The formulas are those of the reference implementations (QVPO, Diffusion-QL and DIPO share
`helpers.py`); see docs/policy-package.md. Everything is computed in float64 and rounded to float32
once, so the TypeScript runtime can derive bit-identical constants from the manifest alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCHEDULES = ("vp", "cosine", "linear", "mean_reverting")
VARIANCES = ("posterior", "beta")
LOG_VARIANCE_FLOOR = 1e-20


def vp_betas(T: int, b_min: float = 0.1, b_max: float = 10.0) -> np.ndarray:
    """Variance-preserving schedule (Xiao et al.), t = 1..T."""
    t = np.arange(1, T + 1, dtype=np.float64)
    alpha = np.exp(-b_min / T - 0.5 * (b_max - b_min) * (2 * t - 1) / T**2)
    return 1.0 - alpha


def cosine_betas(T: int, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Cosine schedule (Nichol & Dhariwal): alpha_bar(i) for i = 0..T, betas clipped."""
    i = np.arange(T + 1, dtype=np.float64)
    f = np.cos(((i / T) + s) / (1 + s) * np.pi * 0.5) ** 2
    alpha_bar = f / f[0]
    return np.clip(1.0 - alpha_bar[1:] / alpha_bar[:-1], 0.0, max_beta)


def linear_betas(T: int, beta_start: float = 1e-4, beta_end: float = 2e-2) -> np.ndarray:
    return np.linspace(beta_start, beta_end, T, dtype=np.float64)


def mean_reverting_betas(T: int, s: float = 0.008) -> np.ndarray:
    """The entropy-regularised Q-ensemble method's mean-reverting SDE (da = -theta a dt + sqrt(2 theta) dw) with
    its cosine theta schedule, as a DDPM: theta_i = 1 - alpha_bar_cos((i+1)/(T+1)), dt chosen so that
    exp(-dt sum theta) = 1e-3; the marginal is a_0 exp(-theta_bar_t) + sqrt(1 - exp(-2 theta_bar_t)) eps, so
    alpha_bar_t = exp(-2 theta_bar_t) and beta_t = 1 - exp(-2 theta_t dt). With these betas the DDPM posterior
    step (mean and variance) is exactly the authors' `posterior_step`."""
    i = np.arange(T + 2, dtype=np.float64)
    f = np.cos(((i / (T + 1)) + s) / (1 + s) * np.pi * 0.5) ** 2
    theta = 1.0 - f[1:-1] / f[0]
    dt = -np.log(1e-3) / sum(float(v) for v in theta)  # left to right, as the runtime sums
    return 1.0 - np.exp(-2.0 * theta * dt)


def make_betas(name: str, T: int, params: dict | None = None) -> np.ndarray:
    params = params or {}
    if name == "vp":
        return vp_betas(T, **params)
    if name == "cosine":
        return cosine_betas(T, **params)
    if name == "linear":
        return linear_betas(T, **params)
    if name == "mean_reverting":
        return mean_reverting_betas(T, **params)
    raise ValueError(f"unknown noise schedule {name!r}; expected one of {SCHEDULES}")


def default_params(name: str) -> dict:
    return {"vp": {"b_min": 0.1, "b_max": 10.0},
            "cosine": {"s": 0.008, "max_beta": 0.999},
            "linear": {"beta_start": 1e-4, "beta_end": 2e-2},
            "mean_reverting": {"s": 0.008}}[name]


@dataclass(frozen=True)
class ReverseConstants:
    """Per-step float64 constants of the forward process and the DDPM reverse step, index t = 0..T-1."""

    betas: np.ndarray
    alphas_cumprod: np.ndarray
    sqrt_alphas_cumprod: np.ndarray
    sqrt_one_minus_alphas_cumprod: np.ndarray
    sqrt_recip_alphas_cumprod: np.ndarray
    sqrt_recipm1_alphas_cumprod: np.ndarray
    posterior_mean_coef1: np.ndarray  # multiplies the x0 estimate
    posterior_mean_coef2: np.ndarray  # multiplies x_t
    noise_std: np.ndarray  # std of the noise added at step t (0 at t = 0)


def reverse_constants(betas: np.ndarray, variance: str = "posterior") -> ReverseConstants:
    betas = np.asarray(betas, dtype=np.float64)
    alphas = 1.0 - betas
    ac = np.cumprod(alphas)
    ac_prev = np.concatenate([[1.0], ac[:-1]])
    if variance == "posterior":
        var = betas * (1.0 - ac_prev) / (1.0 - ac)
    elif variance == "beta":
        var = betas.copy()
    else:
        raise ValueError(f"unknown variance {variance!r}; expected one of {VARIANCES}")
    std = np.exp(0.5 * np.log(np.maximum(var, LOG_VARIANCE_FLOOR)))
    std[0] = 0.0  # no noise at the last reverse step
    return ReverseConstants(
        betas=betas,
        alphas_cumprod=ac,
        sqrt_alphas_cumprod=np.sqrt(ac),
        sqrt_one_minus_alphas_cumprod=np.sqrt(1.0 - ac),
        sqrt_recip_alphas_cumprod=np.sqrt(1.0 / ac),
        sqrt_recipm1_alphas_cumprod=np.sqrt(1.0 / ac - 1.0),
        posterior_mean_coef1=betas * np.sqrt(ac_prev) / (1.0 - ac),
        posterior_mean_coef2=(1.0 - ac_prev) * np.sqrt(alphas) / (1.0 - ac),
        noise_std=std,
    )
