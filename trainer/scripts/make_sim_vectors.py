"""Write test/fixtures/sim/python-vectors.json: motor commands and the states the Python simulator
reaches under them, for the TypeScript simulator to replay (docs/simulation.md, "Trainer side").

Run from the repository root: .venv/bin/python trainer/scripts/make_sim_vectors.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from dptrain.envs.h1 import EFFORT_LIMIT
from dptrain.envs.h1.vectors import python_cases, vectors_document

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "test" / "fixtures" / "sim" / "python-vectors.json")
    parser.add_argument("--steps", type=int, default=60, help="control steps per case (at least 60)")
    args = parser.parse_args()

    cases = python_cases(args.steps)
    general = next(c for c in cases if "general" in c["name"])
    clamped = sum(int(np.sum(np.isclose(np.abs(s["tau_est"]), EFFORT_LIMIT, rtol=0, atol=1e-9)))
                  for s in general["steps"])
    if clamped == 0:
        raise SystemExit("the general motor-command case never reached an effort limit")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Python's float repr round-trips exactly; no rounding anywhere.
    args.out.write_text(json.dumps(vectors_document(cases), separators=(",", ":")) + "\n")
    for c in cases:
        fell = next((i for i, s in enumerate(c["steps"]) if s["terminated"]), None)
        print(f"{c['name']}: {len(c['steps'])} steps, return {sum(s['reward'] for s in c['steps']):.4f}, "
              f"first terminated step {fell}")
    print(f"clamped torques in the general case: {clamped} joint-steps; wrote {args.out}")


if __name__ == "__main__":
    main()
