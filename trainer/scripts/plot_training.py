"""Plot a training run's evaluation return against training steps (from RUN_DIR/eval.csv).

    .venv/bin/python trainer/scripts/plot_training.py runs/h1-stand-dql --out docs/results/h1-stand-training.png \
        --bar 800 --reference 901.9 --reference-label "behaviour data (noisy controller)"

Writes the PNG and prints the points it plotted as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_eval(run_dir: Path) -> list[dict]:
    with open(run_dir / "eval.csv", newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--title", default=None)
    p.add_argument("--bar", type=float, default=None, help="a success bar to draw (HumanoidBench's)")
    p.add_argument("--reference", type=float, default=None, help="a reference return to draw (e.g. the data's)")
    p.add_argument("--reference-label", default="reference")
    args = p.parse_args(argv)
    rows = read_eval(args.run_dir)
    if not rows:
        raise SystemExit(f"{args.run_dir}/eval.csv has no evaluations")
    config = json.loads((args.run_dir / "config.json").read_text())
    steps = [r["step"] for r in rows]
    mean = [r["return_mean"] for r in rows]
    std = [r["return_std"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    ax.errorbar(steps, mean, yerr=std, marker="o", capsize=3, label=f"policy ({int(rows[0]['episodes'])} episodes per point)")
    if args.bar is not None:
        ax.axhline(args.bar, color="tab:red", linestyle="--", linewidth=1, label=f"success bar {args.bar:g}")
    if args.reference is not None:
        ax.axhline(args.reference, color="tab:gray", linestyle=":", linewidth=1, label=args.reference_label)
    cfg = config.get("config", {})
    ax.set_title(args.title or f"{config.get('algorithm', '?')} on {cfg.get('env', '?')} (seed {cfg.get('seed', '?')})")
    ax.set_xlabel("gradient steps")
    ax.set_ylabel("episode return")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out)
    print(json.dumps({"out": str(args.out), "steps": steps, "return_mean": mean, "return_std": std}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
