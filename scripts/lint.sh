#!/usr/bin/env bash
# Lint (ruff) and types (mypy, strict): the routing runtime's code, then the bot's code against the bot runtime's
# packages (Python 3.10, Rasa SDK). Both tools are pinned in requirements/routing.lock; config in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/routing/bin
status=0
"$BIN/ruff" check . || status=1
"$BIN/mypy" routing launcher bench clock fuzz scripts/settings_table.py || status=1
# scripts/settings_table.py imports the routing service's settings: it runs (and is checked) with the routing runtime
"$BIN/mypy" --python-executable .venv/bot/bin/python --python-version 3.10 actions bot_nlu bot_policies bot_runtime scripts \
  clock --exclude 'scripts/settings_table\.py$' || status=1
exit $status
