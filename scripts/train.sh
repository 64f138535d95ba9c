#!/usr/bin/env bash
# Train the Rasa model only when config.yml, domain.yml or data/ changed since the last model.
# Usage: scripts/train.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
# one training at a time (parallel `make test`/`make run` in one checkout would race on the model file)
mkdir -p var
exec 9>var/train.lock
flock 9
MODEL=models/concierge.tar.gz
STAMP=models/.fingerprint
fingerprint=$(find config.yml domain.yml data -type f \( -name '*.yml' -o -name '*.yaml' \) -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
if [ "${1:-}" != "--force" ] && [ -f "$MODEL" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$fingerprint" ]; then
  echo "[train] model is up to date ($MODEL)"
  exit 0
fi
echo "[train] training $MODEL (config, domain or data changed)"
start=$(date +%s)
TF_CPP_MIN_LOG_LEVEL=2 .venv/bot/bin/rasa train --fixed-model-name concierge --out models --quiet
echo "$fingerprint" > "$STAMP"
echo "[train] done in $(( $(date +%s) - start ))s"
