"""Export a trained policy as a policy package (format version 1, docs/policy-package.md).

Writes denoiser.onnx, critic.onnx, sampler.onnx, weights.f32 (the networks' weights for the runtime's
native sampler, native_weights.py) and policy.json (a one-step policy: actor.onnx, critic.onnx and
policy.json, no diffusion section), then verifies what it wrote: ONNX
Runtime on each graph must reproduce PyTorch within `tolerance` on random inputs (with batch sizes
other than the ones traced, so dynamic axes are exercised), or the export fails with the difference.
The difference is absolute for values up to 1 in size and relative beyond. The numpy reference of the
native sampler over weights.f32 must reproduce FastSampler's candidates and the critic's values of them within
max(tolerance, 1e-4).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import inspect
import json
import subprocess
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from . import __version__
from .fast_sampler import FastSampler
from .native_weights import reference_max_diff, write_native_weights
from .networks import Mish
from .policy import ActorPolicy, ActorPolicySpec, DiffusionPolicy, PolicySpec, build_actor_policy, build_policy
from .run import load_trusted

FORMAT_VERSION = 1
OPSET = 17
TOLERANCE = 1e-5
NATIVE_TOLERANCE = 1e-4  # the numpy reference (float32, another summation order) against FastSampler, over the chain


class ExportError(RuntimeError):
    pass


class _DenoiserGraph(nn.Module):
    def __init__(self, policy: DiffusionPolicy):
        super().__init__()
        self.diffusion = policy.diffusion

    def forward(self, noisy_action, step, observation):
        return self.diffusion.implied_noise(noisy_action, step, observation)


class _ActorGraph(nn.Module):
    def __init__(self, policy: ActorPolicy):
        super().__init__()
        self.actor = policy.actor

    def forward(self, observation, noise):
        return self.actor(observation, noise)


class _CriticGraph(nn.Module):
    def __init__(self, policy: DiffusionPolicy | ActorPolicy):
        super().__init__()
        self.critic = policy.critic

    def forward(self, observation, action):
        return self.critic(observation, action)


def tensor(name: str, shape: list, dtype: str = "float32") -> dict:
    return {"name": name, "dtype": dtype, "shape": shape}


def graph_signatures(spec: PolicySpec | ActorPolicySpec) -> dict:
    """Inputs and outputs of each role, as written into the manifest (strings are dynamic axes)."""
    O, A, M = spec.obs_dim, spec.act_dim, spec.critic_members
    critic = {"inputs": [tensor("observation", ["n", O]), tensor("action", ["n", A])], "outputs": [tensor("q", ["n", M])]}
    if isinstance(spec, ActorPolicySpec):
        return {"actor": {"inputs": [tensor("observation", ["n", O]), tensor("noise", ["n", A])],
                          "outputs": [tensor("action", ["n", A])]},
                "critic": critic}
    T = spec.T
    return {
        "denoiser": {"inputs": [tensor("noisy_action", ["n", A]), tensor("step", ["n"], "int64"),
                                tensor("observation", ["n", O])],
                     "outputs": [tensor("predicted_noise", ["n", A])]},
        "critic": {"inputs": [tensor("observation", ["n", O]), tensor("action", ["n", A])],
                   "outputs": [tensor("q", ["n", M])]},
        "sampler": {"inputs": [tensor("observation", ["batch", O]), tensor("noise", [T + 1, "batch_x_k", A])],
                    "outputs": [tensor("action", ["batch", A]), tensor("candidates", ["batch", "k", A]),
                                tensor("scores", ["batch", "k"])]},
    }


def _export(module: nn.Module, args: tuple, path: Path, signature: dict) -> None:
    names_in = [t["name"] for t in signature["inputs"]]
    names_out = [t["name"] for t in signature["outputs"]]
    dynamic = {t["name"]: {i: d for i, d in enumerate(t["shape"]) if isinstance(d, str)}
               for t in signature["inputs"] + signature["outputs"]}
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: same graphs from PyTorch 1.13 and 2.x
    with warnings.catch_warnings():
        # The unrolled chain registers each step index as a constant on purpose.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, args, str(path), input_names=names_in, output_names=names_out,
                          dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True, **kwargs)


def _max_diff(session: ort.InferenceSession, module: nn.Module, inputs: dict[str, np.ndarray]) -> float:
    """Largest |ONNX - PyTorch| / max(1, |PyTorch|): absolute for values up to 1 (actions, noise), relative
    beyond (critic values of hundreds carry float32 rounding of 1e-5 on their own)."""
    got = session.run(None, inputs)
    with torch.no_grad():
        want = module(*[torch.from_numpy(v) for v in inputs.values()])
    want = want if isinstance(want, tuple) else (want,)
    return max(float(np.max(np.abs(g - w.numpy()) / np.maximum(1.0, np.abs(w.numpy())))) if g.size else 0.0
               for g, w in zip(got, want))


def _verify(path: Path, module: nn.Module, inputs: dict[str, np.ndarray], tolerance: float) -> float:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    diff = _max_diff(session, module, inputs)
    if not diff <= tolerance:
        raise ExportError(f"{path.name}: ONNX Runtime differs from PyTorch by {diff:.3g} (tolerance {tolerance:g})")
    return diff


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_commit() -> str | None:
    """The trainer's commit, with '-dirty' when trainer/ has uncommitted changes (outputs written elsewhere,
    such as packages in models/, do not count); None outside git."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, cwd=here)

    try:
        head = git("rev-parse", "--verify", "HEAD")
        if head.returncode != 0:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(here.parent)).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def normalizer_section(policy: DiffusionPolicy) -> dict | None:
    n = policy.normalizer
    if n is None:
        return None
    return {"mean": [float(v) for v in n.mean.to(torch.float32)], "std": [float(v) for v in n.std32()],
            "clip": float(n.clip)}


def build_manifest(name: str, policy: DiffusionPolicy | ActorPolicy, spec: PolicySpec | ActorPolicySpec,
                   deployment: dict, files: dict, provenance: dict, native_sampler: dict | None = None) -> dict:
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "algorithm": provenance["algorithm"],
        "robot": deployment["robot"],
        "task": deployment["task"],
        "control_rate_hz": deployment["control_rate_hz"],
        "observation": {"size": spec.obs_dim, "terms": deployment["observation_terms"],
                        "normalizer": normalizer_section(policy)},
        "action": {"size": spec.act_dim, "joints": deployment["joints"], **deployment["action_mapping"]},
        "pd_gains": deployment["pd_gains"],
        "critic": {"members": spec.critic_members},
        "selection": {"K": spec.K, "aggregation": spec.aggregation, "beta": spec.beta, "rule": spec.rule,
                      "temperature": spec.temperature},
        "files": files,
        **({"native_sampler": native_sampler} if native_sampler is not None else {}),
        "provenance": provenance,
    }
    if isinstance(policy, DiffusionPolicy):  # a one-step (actor) package has no diffusion section
        d = policy.diffusion
        manifest["diffusion"] = {"schedule": d.schedule, "schedule_params": d.schedule_params, "steps": d.T,
                                 "prediction": "epsilon", "clip_x0": d.clip_x0, "variance": d.variance,
                                 "noise_ratio": d.noise_ratio}
    return manifest


SAMPLER_GRAPHS = ("fast", "straightforward", "softplus")


@contextlib.contextmanager
def _mish_as_softplus():
    """Mish traced as x * tanh(softplus(x)), the textbook formula: what a straightforward export of the
    networks gives (the benchmark's baseline; ONNX Runtime's Softplus kernel is scalar and slow)."""
    fast = Mish.forward
    Mish.forward = lambda self, x: x * torch.tanh(nn.functional.softplus(x))
    try:
        yield
    finally:
        Mish.forward = fast


def export_policy(policy: DiffusionPolicy | ActorPolicy, spec: PolicySpec | ActorPolicySpec, deployment: dict, out_dir: str | Path, name: str,
                  provenance: dict, tolerance: float = TOLERANCE, seed: int = 0, sampler_graph: str = "fast") -> dict:
    """Write and verify the package; returns the manifest. `provenance` needs at least 'algorithm'.
    sampler_graph: "fast" (FastSampler: the same mathematics with less work per tick), "straightforward"
    (DiffusionPolicy.forward as it is) or "softplus" (straightforward with Mish traced as x tanh(softplus(x)),
    for benchmarks); each is verified against DiffusionPolicy.forward."""
    if sampler_graph not in SAMPLER_GRAPHS:
        raise ValueError(f"sampler_graph must be one of {SAMPLER_GRAPHS}, got {sampler_graph!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy = policy.cpu().eval()
    sigs = graph_signatures(spec)
    rng = np.random.default_rng(seed)
    O, A = spec.obs_dim, spec.act_dim
    randn = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    critic_graph = (_CriticGraph(policy), lambda n: {"observation": randn(n, O), "action": randn(n, A)})

    if isinstance(policy, ActorPolicy):
        graphs = {"actor": (_ActorGraph(policy), lambda n: {"observation": randn(n, O), "noise": randn(n, A)}),
                  "critic": critic_graph}
        sampler_graph = None
    else:
        T = spec.T
        graphs = {
            "denoiser": (_DenoiserGraph(policy),
                         lambda n: {"noisy_action": randn(n, A), "step": rng.integers(0, T, n).astype(np.int64),
                                    "observation": randn(n, O)}),
            "critic": critic_graph,
            "sampler": (policy, lambda n: {"observation": randn(n, O), "noise": randn(T + 1, n * spec.K, A)}),
        }
    exported = {"sampler": FastSampler(policy).eval()} if sampler_graph == "fast" else {}
    files, diffs = {}, {}
    for role, (module, make_inputs) in graphs.items():
        path = out / f"{role}.onnx"
        trace_inputs = make_inputs(2)
        textbook_mish = role == "sampler" and sampler_graph == "softplus"
        with _mish_as_softplus() if textbook_mish else contextlib.nullcontext():
            _export(exported.get(role, module), tuple(torch.from_numpy(v) for v in trace_inputs.values()), path, sigs[role])
        diffs[role] = max(_verify(path, module, make_inputs(n), tolerance) for n in (1, 3))
        files[role] = {"path": path.name, "sha256": sha256(path), **sigs[role]}
    native = None
    if isinstance(policy, DiffusionPolicy):
        native = write_native_weights(policy, out)
        diffs["native_sampler"] = verify_native_weights(policy, native, out, rng, max(tolerance, NATIVE_TOLERANCE))

    provenance = {"trainer": "dptrain", "trainer_version": __version__, "commit": git_commit(),
                  "torch_version": torch.__version__, "onnx_opset": OPSET,
                  "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "export_max_diff": diffs, **({"sampler_graph": sampler_graph} if sampler_graph else {}), **provenance}
    manifest = build_manifest(name, policy, spec, deployment, files, provenance, native)
    (out / "policy.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def verify_native_weights(policy: DiffusionPolicy, section: dict, out_dir: Path, rng: np.random.Generator,
                          tolerance: float) -> float:
    """The native sampler's numpy reference over the written file against FastSampler's candidates and the
    critic's values of them (random normalised observations, two batch sizes, the package's K); ExportError
    beyond tolerance."""
    O, A, T, K = policy.diffusion.denoiser.obs_dim, policy.diffusion.act_dim, policy.diffusion.T, policy.selection.K
    diff = 0.0
    for B in (1, 3):
        obs = rng.standard_normal((B, O)).astype(np.float32)
        noise = rng.standard_normal((T + 1, B * K, A)).astype(np.float32)
        diff = max(diff, reference_max_diff(policy, section, out_dir, obs, noise))
    if not diff <= tolerance:
        raise ExportError(f"{section['path']}: the native sampler's reference differs from FastSampler by {diff:.3g} "
                          f"(tolerance {tolerance:g})")
    return diff


def load_checkpoint_policy(path: str | Path) -> tuple[DiffusionPolicy | ActorPolicy, PolicySpec | ActorPolicySpec, dict]:
    """A run directory (its best.pt, else checkpoint.pt) or a checkpoint file -> (policy, spec, checkpoint)."""
    path = Path(path)
    if path.is_dir():
        path = path / "best.pt" if (path / "best.pt").exists() else path / "checkpoint.pt"
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = load_trusted(path)
    if state["spec"].get("kind") == "actor":
        spec = ActorPolicySpec(**state["spec"])
        policy = build_actor_policy(spec)
    else:
        spec = PolicySpec(**state["spec"])
        policy = build_policy(spec)
    policy.load_state_dict(state["policy"])
    return policy.eval(), spec, state
