"""Command line: train, resume, export, and export untrained graphs of any size (for benchmarks).

  python -m dptrain train qvpo --env Pendulum-v1 --run-dir runs/pendulum [--config FILE] [--resume]
  python -m dptrain train {diffusion_ql,qe_diffusion,dtql} --dataset data.npz --env ENV --run-dir runs/NAME
  python -m dptrain export runs/pendulum --out models/pendulum-qvpo [--name NAME]
  python -m dptrain export-untrained --obs 51 --act 19 --steps 20 --out .cache/bench/h1-T20
  python -m dptrain export-untrained --env h1-stand --hidden 32 --out test/fixtures/h1-untrained
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from .algos import diffusion_ql, dtql, qe_diffusion, qvpo
from .common import evaluate, policy_actor
from .config import add_config_arguments, build_config
from .envs import deployment_info, make_env
from .export import SAMPLER_GRAPHS, export_policy, load_checkpoint_policy
from .policy import PolicySpec, build_policy

EXPORT_EVAL_SEED = 20_000
ALGORITHMS = {"qvpo": (qvpo.QVPOConfig, qvpo.train),
              "diffusion_ql": (diffusion_ql.DiffusionQLConfig, diffusion_ql.train),
              "qe_diffusion": (qe_diffusion.QEDiffusionConfig, qe_diffusion.train),
              "dtql": (dtql.DTQLConfig, dtql.train)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="dptrain", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    train_p = commands.add_parser("train", help="train a policy (resumable)")
    algos = train_p.add_subparsers(dest="algorithm", required=True)
    for name, (cfg_cls, _) in ALGORITHMS.items():
        p = algos.add_parser(name)
        p.add_argument("--run-dir", required=True, help="logs and checkpoints go here")
        p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint.pt")
        p.add_argument("--stop-at", type=int, help="stop (with a checkpoint) at this step; resume later")
        add_config_arguments(p, cfg_cls)

    export_p = commands.add_parser("export", help="write a policy package from a run or checkpoint")
    export_p.add_argument("checkpoint", help="run directory (uses best.pt) or .pt file")
    export_p.add_argument("--out", required=True)
    export_p.add_argument("--name", help="package name (default: the output directory's name)")
    export_p.add_argument("--K", type=int, help="candidates per tick (default: the algorithm's)")
    export_p.add_argument("--eval-episodes", type=int, default=0,
                          help="evaluate the exported policy on this many fresh episodes for the manifest's provenance")

    untrained_p = commands.add_parser("export-untrained",
                                      help="export randomly initialised graphs (benchmarks, runtime tests)")
    untrained_p.add_argument("--env", help="take sizes, robot, joints and observation terms from this env")
    untrained_p.add_argument("--obs", type=int, help="observation size (without --env)")
    untrained_p.add_argument("--act", type=int, help="action size (without --env)")
    untrained_p.add_argument("--steps", type=int, default=20)
    untrained_p.add_argument("--K", type=int, default=32)
    untrained_p.add_argument("--hidden", type=int, default=256)
    untrained_p.add_argument("--schedule", default="cosine")
    untrained_p.add_argument("--seed", type=int, default=0)
    untrained_p.add_argument("--sampler-graph", choices=SAMPLER_GRAPHS, default="fast",
                             help="the fused sampler as exported normally (fast), as written (straightforward), or as written with Mish as x tanh(softplus(x)) (softplus)")
    untrained_p.add_argument("--out", required=True)

    args = parser.parse_args(argv)
    if args.command == "train":
        cfg_cls, train = ALGORITHMS[args.algorithm]
        cfg = build_config(cfg_cls, args)
        started = time.time()
        result = train(cfg, args.run_dir, resume=args.resume, stop_at=args.stop_at)
        print(json.dumps({**result, "wall_s": round(time.time() - started, 1)}))
        return 0
    if args.command == "export":
        policy, spec, state = load_checkpoint_policy(args.checkpoint)
        if args.K:
            spec.K = policy.selection.K = args.K
        env = make_env(state["env"])
        provenance = _provenance(state, argv, args.checkpoint)
        if args.eval_episodes > 0:
            # the sampling noise is seeded too, so that exporting again reports the same numbers
            noise = torch.Generator().manual_seed(EXPORT_EVAL_SEED)
            returns = evaluate(policy_actor(policy, spec.K, generator=noise), state["env"], args.eval_episodes,
                               seed=EXPORT_EVAL_SEED)
            provenance["evaluation"] = {"env": state["env"], "episodes": args.eval_episodes, "K": spec.K,
                                        "return_mean": float(returns.mean()), "return_std": float(returns.std()),
                                        "seeds": f"{EXPORT_EVAL_SEED}..{EXPORT_EVAL_SEED + args.eval_episodes - 1}",
                                        "noise_seed": EXPORT_EVAL_SEED,
                                        "when": "at export, on seeds not used during training"}
        manifest = export_policy(policy, spec, deployment_info(state["env"], env), args.out,
                                 args.name or _dir_name(args.out), provenance)
        print(json.dumps({"out": args.out, "files": {r: f["sha256"][:12] for r, f in manifest["files"].items()},
                          "export_max_diff": manifest["provenance"]["export_max_diff"],
                          "evaluation": manifest["provenance"]["evaluation"]}))
        return 0
    if args.command == "export-untrained":
        if not (args.env or (args.obs and args.act)):
            parser.error("export-untrained needs --env, or --obs and --act")
        export_untrained(args.out, env=args.env, obs=args.obs, act=args.act, steps=args.steps, K=args.K,
                         hidden=args.hidden, schedule=args.schedule, seed=args.seed, command=_command(argv),
                         sampler_graph=args.sampler_graph)
        print(json.dumps({"out": args.out}))
        return 0
    return 2


def export_untrained(out: str, env: str | None = None, obs: int | None = None, act: int | None = None,
                     steps: int = 20, K: int = 32, hidden: int = 256, schedule: str = "cosine", seed: int = 0,
                     command: str = "", sampler_graph: str = "fast") -> dict:
    """A package of randomly initialised graphs: sizes, robot and terms from `env`, or benchmark sizes."""
    torch.manual_seed(seed)
    if env:
        e = make_env(env)
        deployment = deployment_info(env, e)
        obs, act = e.observation_space.shape[0], e.action_space.shape[0]
    else:
        deployment = _benchmark_deployment(obs, act)
    spec = PolicySpec(obs, act, hidden=hidden, critic_hidden=hidden, schedule=schedule, T=steps, K=K)
    return export_policy(build_policy(spec), spec, deployment, out, _dir_name(str(out)),
                         {"algorithm": "untrained", "seed": seed, "steps": 0, "command": command},
                         sampler_graph=sampler_graph)


def _benchmark_deployment(obs: int, act: int) -> dict:
    return {"robot": "untrained", "task": "benchmark", "control_rate_hz": 50.0,
            "observation_terms": [{"name": "benchmark_input", "size": obs, "sim_only": True}],
            "joints": [f"joint_{i}" for i in range(act)],
            "action_mapping": {"target": "raw", "offset": [0.0] * act, "scale": [1.0] * act},
            "pd_gains": {"kp": [0.0] * act, "kd": [0.0] * act}}


def _dir_name(path: str) -> str:
    return path.rstrip("/").split("/")[-1]


def _command(argv: list[str]) -> str:
    return "python -m dptrain " + " ".join(shlex.quote(a) for a in argv)


def _provenance(state: dict, argv: list[str], checkpoint: str) -> dict:
    evaluation = None
    if "eval_return" in state:
        evaluation = {"env": state["env"], "episodes": state.get("eval_episodes"),
                      "return_mean": state["eval_return"], "return_std": state.get("eval_return_std"),
                      "when": "during training (the best of the periodic evaluations)"}
    return {"algorithm": state["algorithm"], "seed": state["seed"], "steps": state["step"],
            "env": state["env"], "dataset": state.get("dataset"), "evaluation": evaluation,
            "training": _training_record(state, checkpoint), "command": _command(argv)}


def _training_record(state: dict, checkpoint: str) -> dict | None:
    """The run's config and wall time, from the run directory next to the checkpoint."""
    run_dir = Path(checkpoint) if Path(checkpoint).is_dir() else Path(checkpoint).parent
    config = run_dir / "config.json"
    if not config.exists():
        return None
    return {**json.loads(config.read_text()), "wall_s_at_checkpoint": round(float(state.get("wall_s", 0.0)), 1)}
