#!/usr/bin/env bash
# Run every test suite with the runtime it needs. Arguments are passed to each pytest run.
# CONCIERGE_CLOCK_START=<ISO instant> runs the whole suite with every process's clock started at that instant
# (one anchor for all of them: see clock/__init__.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONCIERGE_ENV="${CONCIERGE_ENV:-development}"  # the tests use the development conveniences
if [ -n "${CONCIERGE_CLOCK_START:-}" ]; then
  export CONCIERGE_CLOCK_ANCHOR="${CONCIERGE_CLOCK_ANCHOR:-$(date +%s.%N)}"
  echo "=== the clock of every process starts at $CONCIERGE_CLOCK_START"
fi
status=0
run() { echo "=== $1"; shift; "$@" || status=1; }
run "lint and types (ruff, mypy)" scripts/lint.sh
run "data validation" .venv/bot/bin/python scripts/validate_data.py
run "dialogue test stories" .venv/bot/bin/rasa test core --stories tests/test_stories.yml \
  --model models/concierge.tar.gz --fail-on-prediction-errors --out var/results --quiet
run "NLU accuracy gate (Bitext, fixed sample)" .venv/bot/bin/python scripts/eval_nlu.py --limit 2000 --min-accuracy 0.85
run "NLU generalisation gate (challenge set, never trained on)" .venv/bot/bin/python scripts/eval_nlu.py \
  --data tests/nlu/challenge.csv --out var/challenge --min-accuracy 0.92 --min-macro-f1 0.935 --min-oos-rejection 0.89
run "routing service tests" .venv/routing/bin/python -m pytest -q tests/routing "$@"
run "action tests" .venv/bot/bin/python -m pytest -q -p no:cacheprovider tests/actions "$@"
run "bot runtime tests" .venv/bot/bin/python -m pytest -q -p no:cacheprovider tests/bot_runtime "$@"
run "trainer tooling tests" .venv/bot/bin/python -m pytest -q -p no:cacheprovider tests/trainers "$@"
run "end-to-end tests, channel fuzzer (150 cases, fixed seed)" .venv/routing/bin/python -m pytest -q tests/e2e tests/fuzz "$@"
run "conversation fuzzer (300 conversations, fixed seed)" .venv/routing/bin/python -m fuzz --conversations 300 --seed 1
run "reliability drills" .venv/routing/bin/python -m pytest -q tests/reliability "$@"
run "cluster (100 conversations over 2 replicas of each process behind nginx, Chromium, kill -9 mid-run)" \
  timeout 600 .venv/routing/bin/python -m pytest -q tests/cluster "$@"
exit $status
