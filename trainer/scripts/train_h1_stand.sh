#!/usr/bin/env bash
# models/h1-stand from scratch: trainer/scripts/train_h1_policy.sh for the stand task (kept for the recipe
# recorded in models/h1-stand/policy.json).
exec bash "$(dirname "$0")/train_h1_policy.sh" stand "$@"
