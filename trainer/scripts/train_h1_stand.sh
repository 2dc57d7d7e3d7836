#!/usr/bin/env bash
# models/h1-stand from scratch, in one command (docs/training.md has the numbers and wall times):
#   1. the dataset: the hand-written balance controller with noise, 200 episodes (skipped when present);
#   2. Diffusion-QL on it (trainer/configs/h1-stand-dql.yaml, seed 0); interrupted, it resumes from its
#      last checkpoint when run again;
#   3. the export of the best evaluated checkpoint, with 20 fresh evaluation episodes in PyTorch;
#   4. the evaluation through the runtime's control loop: 20 seeded episodes, K candidates, Q selection.
# Usage: bash trainer/scripts/train_h1_stand.sh [RUN_DIR] [OUT_DIR]   (defaults runs/h1-stand-dql, models/h1-stand)
set -euo pipefail
cd "$(dirname "$0")/../.."
run_dir=${1:-runs/h1-stand-dql}
out=${2:-models/h1-stand}
python=${DPTRAIN_PYTHON:-.venv/bin/python}
data=runs/data/h1-stand-ctrl.npz

[ -x "$python" ] || bash scripts/setup.sh
if [ ! -f "$data" ]; then
  "$python" trainer/scripts/collect_stand_data.py --episodes 200 --seed 0 --noise-max 0.1 --out "$data"
fi
resume=()
[ -f "$run_dir/checkpoint.pt" ] && resume=(--resume)
"$python" -m dptrain train diffusion_ql --config trainer/configs/h1-stand-dql.yaml --run-dir "$run_dir" "${resume[@]}"
"$python" -m dptrain export "$run_dir" --out "$out" --name h1-stand --eval-episodes 20
# the recipe and what the data scored, beside the export's own provenance
"$python" - "$out/policy.json" "${data%.npz}.json" <<'PY'
import json, sys
manifest, data = sys.argv[1], json.load(open(sys.argv[2]))
m = json.load(open(manifest))
m["provenance"]["recipe"] = "bash trainer/scripts/train_h1_stand.sh (docs/training.md)"
m["provenance"]["dataset_behaviour"] = {"command": data["command"], "return_mean": data["behaviour"]["return_mean"],
                                        "return_std": data["behaviour"]["return_std"], "episodes": data["episodes"],
                                        "controller_noise_free": data["controller_noise_free"]}
json.dump(m, open(manifest, "w"), indent=2)
PY
npm run eval -- --policy "$out" --task h1-stand --episodes 20 --seed 0 --json "$run_dir/eval-through-loop.json"
