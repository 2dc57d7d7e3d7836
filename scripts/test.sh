#!/usr/bin/env bash
# npm test: set up, then every test: TypeScript (type check + node:test) and Python (pytest).
# Both suites run even if the first fails; the exit status says whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

status=0
echo "== TypeScript: type check"
npx tsc --noEmit || status=1
echo "== TypeScript: tests"
node --import tsx --test --test-reporter=dot test/*.test.ts || status=1
echo "== Python: trainer tests"
DPTRAIN_NO_PROGRESS=1 .venv/bin/python -m pytest -q -p no:cacheprovider trainer/tests || status=1

[ "$status" = 0 ] && echo "all tests passed" || echo "some tests failed"
exit "$status"
