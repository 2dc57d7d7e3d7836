"""Regenerate the runtime's cross-language test fixtures in test/fixtures/ (run: npm run fixtures).

Trains two small policies with the real trainer on the contextual bandit, exports them as policy
packages, and writes test vectors computed by the trainer's PyTorch code:
  qvpo-bandit/   QVPO, cosine schedule, T = 20, argmax over min-Q, with an observation normaliser
  dql-bandit/    Diffusion-QL on a noisy behaviour dataset, vp schedule, T = 5, softmax selection
  qe-bandit/     the entropy-regularised Q-ensemble method on the same data: mean-reverting schedule, T = 5,
                 a 5-member critic ensemble, softmax over its lower confidence bound (lcb, beta 1)
  dtql-bandit/   DTQL on the same data: a one-step actor graph and a twin critic (no diffusion section);
                 its vectors.json holds the actor path's noise [1, B*K, A]
  */vectors.json observations, noise, uniforms -> PyTorch's candidates, scores, chosen index and action
  nan-output/    qvpo-bandit with a NaN in its sampler graph (for the runtime's probe)
  h1-untrained/  an untrained policy with the H1 stand task's manifest (for the runtime's episode runner)
  math-vectors.json  schedules and reverse-step constants, critic aggregations, softmax draws
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from dptrain.algos import diffusion_ql, dtql, qe_diffusion, qvpo
from dptrain.cli import export_untrained
from dptrain.envs import deployment_info, make_env
from dptrain.envs.bandit import ContextualBandit
from dptrain.export import export_policy, load_checkpoint_policy, sha256
from dptrain.policy import ActorPolicy, DiffusionPolicy
from dptrain.replay import ReplayBuffer
from dptrain.schedules import make_betas, reverse_constants
from dptrain.selection import aggregate, select_index

ROOT = Path(__file__).resolve().parents[2]
SMALL_NET = dict(hidden=64, layers=3, t_dim=32, t_hidden=64, critic_hidden=64)


def floats(t) -> list[float]:
    return [float(v) for v in np.asarray(t, dtype=np.float64).reshape(-1)]


def write_vectors(policy: DiffusionPolicy | ActorPolicy, out: Path, seed: int, B: int = 3) -> None:
    g = torch.Generator().manual_seed(seed)
    spec_K = policy.selection.K
    if isinstance(policy, ActorPolicy):  # one noise row per candidate; stored as the one slice [1, B*K, A]
        obs = torch.rand(B, policy.actor.obs_dim, generator=g) * 2 - 1
        noise = torch.randn(1, B * spec_K, policy.actor.act_dim, generator=g)
        u = torch.rand(B, generator=g)
        r = policy.sample(obs, noise=noise[0], u=u)
    else:
        obs = torch.rand(B, policy.diffusion.denoiser.obs_dim, generator=g) * 2 - 1
        noise = policy.diffusion.draw_noise(B * spec_K, g)
        u = torch.rand(B, generator=g)
        r = policy.sample(obs, noise=noise, u=u)
    vectors = {
        "B": B, "K": spec_K, "obs": floats(obs), "noise": floats(noise), "u": floats(u),
        "expected": {"candidates": floats(r["candidates"]), "scores": floats(r["scores"]),
                     "index": [int(i) for i in r["index"]], "action": floats(r["action"])},
        "generated_by": "trainer/scripts/make_fixtures.py (PyTorch sampler)",
    }
    (out / "vectors.json").write_text(json.dumps(vectors) + "\n")


def export_run(run_dir: Path, out: Path, name: str) -> DiffusionPolicy:
    policy, spec, state = load_checkpoint_policy(run_dir)
    if out.exists():
        shutil.rmtree(out)
    env = make_env(state["env"])
    export_policy(policy, spec, deployment_info(state["env"], env), out, name,
                  {"algorithm": state["algorithm"], "seed": state["seed"], "steps": state["step"], "env": state["env"],
                   "evaluation": {"env": state["env"], "episodes": state.get("eval_episodes"),
                                  "return_mean": state.get("eval_return"),
                                  "return_std": state.get("eval_return_std")},
                   "command": "npm run fixtures"})
    return policy


def make_qvpo(tmp: Path, fixtures: Path) -> dict:
    cfg = qvpo.QVPOConfig(env="bandit", seed=1, total_steps=1200, warmup_steps=300, batch_size=64, T=20,
                          train_sample=16, eval_sample=16, eval_interval=600, eval_episodes=50,
                          checkpoint_interval=1200, log_interval=300, normalize_obs=True, actor_lr=3e-4, threads=1,
                          **SMALL_NET)
    result = qvpo.train(cfg, str(tmp / "qvpo"))
    policy = export_run(tmp / "qvpo", fixtures / "qvpo-bandit", "qvpo-bandit")
    write_vectors(policy, fixtures / "qvpo-bandit", seed=11)
    return result


def behaviour_dataset(path: Path, n: int = 4000, noise: float = 0.35, seed: int = 0) -> float:
    """Noisy expert on the bandit; returns the behaviour's mean reward."""
    env, rng = ContextualBandit(), np.random.default_rng(seed)
    buf = ReplayBuffer(2, 2, n)
    rewards = []
    for _ in range(n):
        s = rng.uniform(-1, 1, 2).astype(np.float32)
        a = np.clip(env.best_action(s) + rng.normal(0, noise, 2), -1, 1).astype(np.float32)
        r = env.reward(s, a)
        rewards.append(r)
        buf.add(s, a, r, s, 1.0)
    buf.save_dataset(str(path))
    return float(np.mean(rewards))


def make_dql(tmp: Path, fixtures: Path) -> dict:
    data = tmp / "bandit.npz"
    behaviour = behaviour_dataset(data)
    cfg = diffusion_ql.DiffusionQLConfig(dataset=str(data), env="bandit", seed=2, total_steps=1000, batch_size=64,
                                         T=5, eval_sample=16, eval_interval=500, eval_episodes=50,
                                         checkpoint_interval=1000, log_interval=250, ema_start=200, threads=1,
                                         hidden=64, layers=3, t_dim=16, t_hidden=32, critic_hidden=64)
    result = diffusion_ql.train(cfg, str(tmp / "dql"))
    policy = export_run(tmp / "dql", fixtures / "dql-bandit", "dql-bandit")
    write_vectors(policy, fixtures / "dql-bandit", seed=12)
    return {**result, "behaviour_mean_reward": behaviour}


def make_qe(tmp: Path, fixtures: Path) -> dict:
    data = tmp / "bandit.npz"
    behaviour = behaviour_dataset(data)
    cfg = qe_diffusion.QEDiffusionConfig(dataset=str(data), env="bandit", seed=3, total_steps=1000, batch_size=64,
                                         T=5, eval_sample=16, eval_interval=500, eval_episodes=50,
                                         checkpoint_interval=1000, log_interval=250, ema_start=200, threads=1,
                                         num_critics=5, lcb_coef=1.0, loss_type="NML", action_clip=True,
                                         hidden=64, layers=3, t_dim=16, t_hidden=32, critic_hidden=64)
    result = qe_diffusion.train(cfg, str(tmp / "qe"))
    policy = export_run(tmp / "qe", fixtures / "qe-bandit", "qe-bandit")
    write_vectors(policy, fixtures / "qe-bandit", seed=13)
    return {**result, "behaviour_mean_reward": behaviour}


def make_dtql(tmp: Path, fixtures: Path) -> dict:
    data = tmp / "bandit.npz"
    behaviour = behaviour_dataset(data)
    cfg = dtql.DTQLConfig(dataset=str(data), env="bandit", seed=4, total_steps=800, pretrain_steps=200,
                          batch_size=64, eval_sample=16, eval_interval=400, eval_episodes=50, checkpoint_interval=800,
                          log_interval=200, ema_decay=0.9, threads=1, hidden=64, bc_hidden=64, critic_hidden=64)
    result = dtql.train(cfg, str(tmp / "dtql"))
    policy = export_run(tmp / "dtql", fixtures / "dtql-bandit", "dtql-bandit")
    write_vectors(policy, fixtures / "dtql-bandit", seed=14)
    return {**result, "behaviour_mean_reward": behaviour}


def make_nan_output(fixtures: Path) -> None:
    """A copy of qvpo-bandit whose sampler graph computes NaN scores (one critic bias set to NaN), hashes
    updated: only the runtime's probe run can catch it."""
    import onnx
    from onnx import numpy_helper

    out = fixtures / "nan-output"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(fixtures / "qvpo-bandit", out)
    (out / "vectors.json").unlink()
    model = onnx.load(str(out / "sampler.onnx"))
    biases = [i for i in model.graph.initializer if i.name.endswith("bias") and "critic" in i.name]
    if not biases:
        raise RuntimeError("no critic bias initializer found in sampler.onnx")
    target = biases[-1]
    target.CopyFrom(numpy_helper.from_array(np.full_like(numpy_helper.to_array(target), np.nan), target.name))
    onnx.save(model, str(out / "sampler.onnx"))
    manifest = json.loads((out / "policy.json").read_text())
    manifest["name"] = "nan-output"
    manifest["files"]["sampler"]["sha256"] = sha256(out / "sampler.onnx")
    (out / "policy.json").write_text(json.dumps(manifest, indent=2) + "\n")


def math_vectors(fixtures: Path) -> None:
    schedules = []
    for name, T in [("cosine", 20), ("vp", 5), ("linear", 10), ("cosine", 1), ("vp", 50), ("mean_reverting", 5),
                    ("mean_reverting", 20)]:
        for variance in ("posterior", "beta"):
            c = reverse_constants(make_betas(name, T), variance)
            schedules.append({
                "schedule": name, "T": T, "variance": variance, "betas": floats(c.betas),
                "alphas_cumprod": floats(c.alphas_cumprod),
                "float32": {k: floats(np.asarray(getattr(c, k), np.float32)) for k in
                            ("sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_mean_coef1",
                             "posterior_mean_coef2", "noise_std")},
            })
    g = torch.Generator().manual_seed(3)
    q = torch.randn(40, 5, generator=g) * 10
    scores = torch.randn(6, 8, generator=g) * 2
    u = torch.rand(6, generator=g)
    vectors = {
        "schedules": schedules,
        "aggregation": {"q": floats(q), "N": 40, "M": 5, "beta": 2.0,
                        "min": floats(aggregate(q, "min")), "mean": floats(aggregate(q, "mean")),
                        "lcb": floats(aggregate(q, "lcb", 2.0))},
        "selection": {"scores": floats(scores), "B": 6, "K": 8, "u": floats(u), "temperature": 0.7,
                      "argmax": [int(i) for i in select_index(scores, "argmax")],
                      "softmax": [int(i) for i in select_index(scores, "softmax", 0.7, u)]},
    }
    (fixtures / "math-vectors.json").write_text(json.dumps(vectors) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "test" / "fixtures")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        summary = {"qvpo-bandit": make_qvpo(Path(tmp), args.out), "dql-bandit": make_dql(Path(tmp), args.out),
                   "qe-bandit": make_qe(Path(tmp), args.out), "dtql-bandit": make_dtql(Path(tmp), args.out)}
    make_nan_output(args.out)
    export_untrained(args.out / "h1-untrained", env="h1-stand", hidden=32, K=8, steps=5, command="npm run fixtures")
    math_vectors(args.out)
    summary["wall_s"] = round(time.time() - started, 1)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
