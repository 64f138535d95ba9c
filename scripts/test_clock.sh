#!/usr/bin/env bash
# The clock-sensitive suites again with the whole stack's clock started at the given instants (CI runs two:
# every demo queue closed, and a weekday in opening hours). They must pass at any instant: tests set the hours
# or the instant they mean. Usage: scripts/test_clock.sh INSTANT [INSTANT ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CONCIERGE_ENV="${CONCIERGE_ENV:-development}"  # the tests use the development conveniences
status=0
for instant in "$@"; do
  export CONCIERGE_CLOCK_START="$instant"
  export CONCIERGE_CLOCK_ANCHOR="$(date +%s.%N)"
  echo "=== clock-sensitive suites with the clock started at $instant"
  .venv/routing/bin/python -m pytest -q -m "clock and not postgres" tests/routing || status=1
  .venv/bot/bin/python -m pytest -q -p no:cacheprovider tests/actions || status=1
  .venv/routing/bin/python -m pytest -q -m clock tests/e2e || status=1
done
exit $status
