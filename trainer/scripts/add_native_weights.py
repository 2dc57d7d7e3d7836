"""Add weights.f32 and the manifest's `native_sampler` section to an already-exported policy package.

    python trainer/scripts/add_native_weights.py --run RUN_DIR --package PKG_DIR

Loads the run's checkpoint (best.pt, else checkpoint.pt) and first proves it is the one the package was
exported from: the package's sampler.onnx (ONNX Runtime) and FastSampler must give the same candidates and
scores (the denoiser's and the critic's work) on random (observation, noise) within 1e-4, else it refuses.
Then writes weights.f32, checks the numpy reference over it against FastSampler and the critic, inserts
`native_sampler` into policy.json just before "provenance" (every other field and the key order kept; no
.onnx file is touched) and validates the manifest against schemas/policy-package.schema.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import onnxruntime as ort
import torch

from dptrain.export import load_checkpoint_policy
from dptrain.fast_sampler import FastSampler
from dptrain.native_weights import reference_max_diff, write_native_weights
from dptrain.policy import DiffusionPolicy

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "policy-package.schema.json"
TOLERANCE = 1e-4


class Refused(RuntimeError):
    pass


def _random_inputs(rng: np.random.Generator, B: int, O: int, K: int, T: int, A: int):
    return (rng.standard_normal((B, O)).astype(np.float32), rng.standard_normal((T + 1, B * K, A)).astype(np.float32))


def add_native_weights(run: str | Path, package: str | Path, seed: int = 0) -> dict:
    """Returns a summary: the differences measured and the section written."""
    package = Path(package)
    manifest_path = package / "policy.json"
    text = manifest_path.read_text()
    manifest = json.loads(text)
    policy, spec, _ = load_checkpoint_policy(run)
    if not isinstance(policy, DiffusionPolicy):
        raise Refused(f"{run}: a one-step (actor) policy has no denoiser for the native sampler")
    d = policy.diffusion
    O, A, T, K = spec.obs_dim, spec.act_dim, d.T, manifest["selection"]["K"]
    if (manifest["observation"]["size"], manifest["action"]["size"], manifest["diffusion"]["steps"]) != (O, A, T):
        raise Refused(f"{run} (obs {O}, act {A}, T {T}) does not have the package's sizes")
    rng = np.random.default_rng(seed)
    fast = FastSampler(policy).eval()
    session = ort.InferenceSession(str(package / manifest["files"]["sampler"]["path"]), providers=["CPUExecutionProvider"])
    onnx_diff = 0.0
    for B in (1, 3):
        obs, noise = _random_inputs(rng, B, O, K, T, A)
        got, got_scores = session.run(["candidates", "scores"], {"observation": obs, "noise": noise})
        with torch.no_grad():
            _, want, want_scores = (t.numpy() for t in fast(torch.from_numpy(obs), torch.from_numpy(noise)))
        score_diff = np.max(np.abs(got_scores - want_scores)) / max(1.0, float(np.max(np.abs(want_scores))))
        onnx_diff = max(onnx_diff, float(np.max(np.abs(got - want))), float(score_diff))
    if not onnx_diff <= TOLERANCE:
        raise Refused(f"{run} is not the checkpoint {package} was exported from: its sampler.onnx and FastSampler "
                      f"differ by {onnx_diff:.3g} in the candidates or scores (tolerance {TOLERANCE:g})")

    section = write_native_weights(policy, package)
    native_diff = 0.0
    for B in (1, 3):
        obs, noise = _random_inputs(rng, B, O, K, T, A)
        native_diff = max(native_diff, reference_max_diff(policy, section, package, obs, noise))
    if not native_diff <= TOLERANCE:
        (package / section["path"]).unlink()
        raise Refused(f"the native reference over {section['path']} differs from FastSampler by {native_diff:.3g}")

    updated = {}
    for key, value in manifest.items():
        if key == "native_sampler":
            continue
        if key == "provenance":
            updated["native_sampler"] = section
        updated[key] = value
    jsonschema.validate(updated, json.loads(SCHEMA.read_text()))
    manifest_path.write_text(json.dumps(updated, indent=2) + ("\n" if text.endswith("\n") else ""))
    return {"package": str(package), "run": str(run), "sampler_onnx_vs_fast_sampler": onnx_diff,
            "native_reference_vs_fast_sampler": native_diff, "output": section["output"], "hidden": section["hidden"],
            "hidden_layers": section["hidden_layers"], "sha256": section["sha256"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="the run directory (or checkpoint) the package was exported from")
    parser.add_argument("--package", required=True, help="the policy package directory")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(add_native_weights(args.run, args.package, args.seed)))
    except Refused as e:
        print(f"refused: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
