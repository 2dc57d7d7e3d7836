"""The policy's weights as a plain float32 file (weights.f32) for the runtime's native CPU sampler.

The runtime's native sampler runs a whole tick in C (the reverse chain and the critic's scores); it reads
these tensors instead of parsing ONNX. The denoiser's are FastSampler's constants, unscaled: the first layer
split into its action and observation parts and a per-step bias (the first layer's bias plus the time
embedding's share), the hidden layers, and the output layer. Then each critic member's: the first layer split
into its observation and action parts and its bias, the hidden layers, the output layer. All weights are
stored [in, out] (a layer is x @ W + b), concatenated in the manifest's order, float32 little-endian,
row-major, nothing else. The manifest's `native_sampler` section names them (docs/policy-package.md);
`reference_candidates` and `reference_q` are the numpy statement of what the runtime computes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from .fast_sampler import FastSampler

FILE_NAME = "weights.f32"


def native_weight_tensors(policy) -> list[tuple[str, np.ndarray]]:
    """(name, float32 array) in file order; raises FastSampler's ValueError for a trunk it cannot take."""
    fast = FastSampler(policy)
    out = policy.diffusion.denoiser.trunk[-1]
    f32 = lambda t: np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)  # noqa: E731
    with torch.no_grad():
        tensors = [("first.action", f32(fast.w1x_t)), ("first.observation", f32(fast.w1o_t)),
                   ("first.step_bias", f32(torch.cat(fast.c1, dim=0)))]
        for i, layer in enumerate(fast.hidden):
            tensors += [(f"hidden.{i}.weight", f32(layer.weight.t())), (f"hidden.{i}.bias", f32(layer.bias))]
        tensors += [("out.weight", f32(out.weight.t())), ("out.bias", f32(out.bias))]
        tensors += critic_tensors(policy.critic, policy.diffusion.denoiser.obs_dim)
    return tensors


def critic_tensors(critic, obs_dim: int) -> list[tuple[str, np.ndarray]]:
    """Each member's layers; the first split at the observation (the critic's input is cat([obs, action]))."""
    if critic.norms is not None:
        raise ValueError("the native sampler's critic has no LayerNorm (DTQL's critic has; its packages are one-step)")
    f32 = lambda t: np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)  # noqa: E731
    layers = list(critic.layers)
    tensors = []
    for m in range(critic.members):
        w0 = layers[0].weight[m]
        tensors += [(f"critic.{m}.first.observation", f32(w0[:obs_dim])), (f"critic.{m}.first.action", f32(w0[obs_dim:])),
                    (f"critic.{m}.first.bias", f32(layers[0].bias[m, 0]))]
        for i, layer in enumerate(layers[1:-1]):
            tensors += [(f"critic.{m}.hidden.{i}.weight", f32(layer.weight[m])), (f"critic.{m}.hidden.{i}.bias", f32(layer.bias[m, 0]))]
        tensors += [(f"critic.{m}.out.weight", f32(layers[-1].weight[m])), (f"critic.{m}.out.bias", f32(layers[-1].bias[m, 0]))]
    return tensors


def write_native_weights(policy, out_dir: str | Path, name: str = FILE_NAME) -> dict:
    """Write out_dir/weights.f32; returns the manifest's `native_sampler` section."""
    tensors = native_weight_tensors(policy)
    data = b"".join(a.astype("<f4").tobytes(order="C") for _, a in tensors)
    path = Path(out_dir) / name
    path.write_bytes(data)
    H = tensors[0][1].shape[1]
    critic_layers = list(policy.critic.layers)
    return {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "activation": "mish", "hidden": int(H),
            "hidden_layers": sum(n.startswith("hidden.") and n.endswith(".weight") for n, _ in tensors),
            "output": policy.diffusion.prediction,
            "critic_hidden": int(critic_layers[0].weight.shape[-1]), "critic_hidden_layers": len(critic_layers) - 2,
            "tensors": [{"name": n, "shape": [int(s) for s in a.shape]} for n, a in tensors]}


def read_native_weights(section: dict, path_or_dir: str | Path) -> dict[str, np.ndarray]:
    """The file's tensors by name, checking its size and sha256 against the section."""
    path = Path(path_or_dir)
    path = path / section["path"] if path.is_dir() else path
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != section["sha256"]:
        raise ValueError(f"{path}: sha256 differs from the manifest's")
    flat = np.frombuffer(data, dtype="<f4")
    sizes = [int(np.prod(t["shape"])) for t in section["tensors"]]
    if flat.size * 4 != len(data) or flat.size != sum(sizes):
        raise ValueError(f"{path}: {len(data)} bytes, the manifest's tensors need {4 * sum(sizes)}")
    offsets = np.cumsum([0] + sizes)
    return {t["name"]: flat[o:o + s].reshape(t["shape"]).astype(np.float32)
            for t, o, s in zip(section["tensors"], offsets, sizes)}


def chain_constants(diffusion) -> dict:
    """The reverse chain's per-step constants (the manifest's schedule gives the same ones)."""
    return {"recip": diffusion._recip, "recipm1": diffusion._recipm1, "coef1": diffusion._coef1,
            "coef2": diffusion._coef2, "std": diffusion._std, "clip_x0": diffusion.clip_x0}


def _mish(v: np.ndarray) -> np.ndarray:
    n = np.exp(np.minimum(v, np.float32(20.0)))
    p = n * (n + np.float32(2.0))
    return v * p / (p + np.float32(2.0))


def reference_candidates(section: dict, path_or_dir: str | Path, obs: np.ndarray, noise: np.ndarray, recip, recipm1,
                         coef1, coef2, std, clip_x0) -> np.ndarray:
    """What the native sampler computes, in float32 numpy: normalised obs [B, O], noise [T+1, B*K, A] ->
    the candidates [B*K, A] (row b*K + k belongs to observation b)."""
    w = read_native_weights(section, path_or_dir)
    obs, noise = np.asarray(obs, np.float32), np.asarray(noise, np.float32)
    T, B = noise.shape[0] - 1, obs.shape[0]
    f = np.float32
    obs_rows = np.repeat(obs @ w["first.observation"], noise.shape[1] // B, axis=0)  # [B*K, H]
    x = noise[0]
    for i in range(T):
        t = T - 1 - i
        h = _mish(x @ w["first.action"] + obs_rows + w["first.step_bias"][t])
        for layer in range(section["hidden_layers"]):
            h = _mish(h @ w[f"hidden.{layer}.weight"] + w[f"hidden.{layer}.bias"])
        out = h @ w["out.weight"] + w["out.bias"]
        x0 = out if section["output"] == "x0" else f(recip[t]) * x - f(recipm1[t]) * out
        if clip_x0 is not None:
            x0 = np.clip(x0, f(-clip_x0), f(clip_x0))
        x = f(coef1[t]) * x0 + f(coef2[t]) * x
        if t > 0:
            x = x + f(std[t]) * noise[i + 1]
    return np.clip(x, f(-1.0), f(1.0))


def reference_q(section: dict, path_or_dir: str | Path, obs: np.ndarray, candidates: np.ndarray, members: int) -> np.ndarray:
    """Each critic member's Q of the candidates [B*K, A] of observations [B, O], in float32 numpy: [B*K, M]."""
    w = read_native_weights(section, path_or_dir)
    obs, x = np.asarray(obs, np.float32), np.asarray(candidates, np.float32)
    q = []
    for m in range(members):
        c = f"critic.{m}."
        h = _mish(np.repeat(obs @ w[c + "first.observation"], x.shape[0] // obs.shape[0], axis=0)
                  + x @ w[c + "first.action"] + w[c + "first.bias"])
        for layer in range(section["critic_hidden_layers"]):
            h = _mish(h @ w[f"{c}hidden.{layer}.weight"] + w[f"{c}hidden.{layer}.bias"])
        q.append((h @ w[c + "out.weight"] + w[c + "out.bias"])[:, 0])
    return np.stack(q, axis=1)


def reference_max_diff(policy, section: dict, path_or_dir: str | Path, obs: np.ndarray, noise: np.ndarray) -> float:
    """Largest |reference over the file - PyTorch| over FastSampler's candidates and the critic's values of
    them (relative beyond 1), for normalised obs and noise."""
    got = reference_candidates(section, path_or_dir, obs, noise, **chain_constants(policy.diffusion))
    with torch.no_grad():
        _, want, _ = FastSampler(policy).eval()(torch.from_numpy(obs), torch.from_numpy(noise))
        want = want.reshape(got.shape)
        K = want.shape[0] // obs.shape[0]
        want_q = policy.critic(torch.from_numpy(obs).repeat_interleave(K, dim=0), want).numpy()
    got_q = reference_q(section, path_or_dir, obs, want.numpy(), policy.critic.members)
    q_diff = np.max(np.abs(got_q - want_q)) / max(1.0, float(np.max(np.abs(want_q))))
    return float(max(np.max(np.abs(got - want.numpy())), q_diff))
