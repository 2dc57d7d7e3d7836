#!/usr/bin/env bash
# models/h1-TASK from scratch, in one command (docs/training.md has the numbers and wall times):
#   1. the dataset: the task's hand-written controller with noise (dptrain.controllers), 200 episodes
#      (skipped when present);
#   2. Diffusion-QL on it (trainer/configs/h1-TASK-dql.yaml, seed 0); interrupted, it resumes from its
#      last checkpoint when run again;
#   3. the export of the best evaluated checkpoint, with 20 fresh evaluation episodes in PyTorch;
#   4. the evaluation through the runtime's control loop: 20 seeded episodes, K candidates, Q selection.
# Usage: bash trainer/scripts/train_h1_policy.sh stand|walk [RUN_DIR] [OUT_DIR]
#        (defaults runs/h1-TASK-dql, models/h1-TASK)
set -euo pipefail
cd "$(dirname "$0")/../.."
task=${1:?usage: train_h1_policy.sh stand|walk [RUN_DIR] [OUT_DIR]}
# per task: the env the data is recorded in (its observation terms are the policy's), the noise level and
# how the controller runs and is recorded
case "$task" in
  stand) env=h1-stand; noise_max=0.1; data=runs/data/h1-stand-ctrl.npz; extra=()
    ;;  # 0.1 rad: the largest joint-target noise the controller survives every episode
  walk) env=h1-walk-clock; noise_max=0.04; data=runs/data/h1-walk-clock-armclock.npz
    # the controller's own actions as labels (DART), 6 cm foot clearance, its gait clock shown on the elbows
    # (controllers/walk.py says why; docs/results/policies.md what each gave)
    extra=(--labels controller --gain lift=0.06 --gain arm_clock=0.5) ;;
  *) echo "unknown task $task (stand or walk)" >&2; exit 2 ;;
esac
run_dir=${2:-runs/h1-$task-dql}
out=${3:-models/h1-$task}
python=${DPTRAIN_PYTHON:-.venv/bin/python}

[ -x "$python" ] || bash scripts/setup.sh
if [ ! -f "$data" ]; then
  "$python" trainer/scripts/collect_stand_data.py --task "$task" --env "$env" --episodes 200 --seed 0 \
    --noise-max "$noise_max" "${extra[@]}" --out "$data"
fi
resume=()
[ -f "$run_dir/checkpoint.pt" ] && resume=(--resume)
"$python" -m dptrain train diffusion_ql --config "trainer/configs/h1-$task-dql.yaml" --run-dir "$run_dir" "${resume[@]}"
"$python" -m dptrain export "$run_dir" --out "$out" --name "h1-$task" --eval-episodes 20
# the recipe and what the data scored, beside the export's own provenance
"$python" - "$out/policy.json" "${data%.npz}.json" "$task" <<'PY'
import json, sys
manifest, data, task = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
m = json.load(open(manifest))
m["provenance"]["recipe"] = f"bash trainer/scripts/train_h1_policy.sh {task} (docs/training.md)"
m["provenance"]["dataset_behaviour"] = {"command": data["command"], "return_mean": data["behaviour"]["return_mean"],
                                        "return_std": data["behaviour"]["return_std"], "episodes": data["episodes"],
                                        "controller_noise_free": data["controller_noise_free"]}
json.dump(m, open(manifest, "w"), indent=2)
PY
npm run eval -- --policy "$out" --task "h1-$task" --episodes 20 --seed 0 --json "$run_dir/eval-through-loop.json"
