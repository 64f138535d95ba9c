#!/usr/bin/env bash
# Install whatever is missing: the bot runtime (.venv/bot, Python 3.10 + Rasa 3.6.21)
# and the routing runtime (.venv/routing, Python >= 3.11 + SQLAlchemy 2).
# Each venv is (re)built only when its lock file or interpreter changed (hash marker).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { printf '[setup] %s\n' "$*" >&2; }

# find_python MAJOR.MINOR [min]: print an interpreter path of that version (or newer with "min").
find_python() {
  local want=$1 mode=${2:-exact} candidates=() root
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  if [ "$mode" = exact ]; then
    candidates+=("python$want" "$root"/versions/"$want".*/bin/python "/usr/bin/python$want" "/usr/local/bin/python$want")
  else
    candidates+=(python3 "python$want" "$root"/versions/3.1[1-3].*/bin/python /usr/bin/python3)
  fi
  local check="import sys; v=sys.version_info[:2]; w=tuple(map(int,'$want'.split('.'))); sys.exit(0 if (v==w if '$mode'=='exact' else v>=w) else 1)"
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c "$check" >/dev/null 2>&1; then
      "$c" -c 'import sys; print(sys.executable)'; return 0
    fi
  done
  return 1
}

# ensure_venv NAME PYTHON LOCKFILE
ensure_venv() {
  local name=$1 py=$2 lock=$3 dir="$ROOT/.venv/$1" marker want
  want="$(sha256sum "$lock" | cut -c1-64) $("$py" -c 'import sys; print(sys.version.split()[0])')"
  marker="$dir/.concierge-installed"
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then
    return 0
  fi
  log "installing the $name runtime with $py (one time, reused afterwards)"
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$lock" 2>&1 \
    | grep -vE "is ignored: it is neither|DEPRECATION|pip 23.1 will enforce|discussion can be found" >&2 || true
  "$dir/bin/pip" check >/dev/null 2>&1 || log "warning: pip check reports issues in $name (see '$dir/bin/pip check')"
  echo "$want" > "$marker"
}

PY310=$(find_python 3.10) || { log "Python 3.10 not found (looked in PATH and $(pyenv root 2>/dev/null || echo ~/.pyenv)/versions/3.10.*). Install it, e.g. 'pyenv install 3.10'."; exit 1; }
PY311=$(find_python 3.11 min) || { log "Python >= 3.11 not found for the routing service."; exit 1; }

ensure_venv bot "$PY310" requirements/bot.lock
ensure_venv routing "$PY311" requirements/routing.lock

# Browser for the web page tests: Debian's chromium (Playwright never downloads its own).
if [ "${CONCIERGE_NEED_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing Debian chromium for the browser tests"
    apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null)
  else
    log "chromium is missing and cannot be installed here; browser tests will be skipped"
  fi
fi
# The cluster's front door (`make run-cluster`, `make test-cluster`): Debian's nginx, run by the launcher as a child
# process with its own configuration (never as a system service).
if [ "${CONCIERGE_NEED_NGINX:-0}" = 1 ] && ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing Debian nginx for the cluster's front door"
    apt-get install -y -q nginx >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q nginx >/dev/null)
  else
    log "nginx is missing and cannot be installed here: install Debian's nginx (apt-get install nginx)"; exit 1
  fi
fi
# Browser assets of the pages: socket.io-client (chat widget) and Chart.js (console dashboard) from the npm registry
# (web/package-lock.json), never a CDN. `npm ci` runs only when the lock changed (stamp); the dist builds are copied
# into the static files.
ensure_web_assets() {
  local stamp="$ROOT/web/node_modules/.concierge-installed" want modules="$ROOT/web/node_modules"
  local vendor="$ROOT/routing/web/static/vendor" pair dist target
  local assets=("socket.io-client/dist/socket.io.min.js:socket.io.min.js" "chart.js/dist/chart.umd.min.js:chart.umd.min.js")
  want=$(sha256sum "$ROOT/web/package-lock.json" | cut -c1-64)
  local missing=0
  for pair in "${assets[@]}"; do [ -f "$modules/${pair%%:*}" ] || missing=1; done
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ "$missing" = 1 ]; then
    command -v npm >/dev/null 2>&1 || { log "npm not found: install Node.js 18+ with npm (e.g. 'apt-get install nodejs npm'); the chat widget and the dashboard need socket.io-client and chart.js from the npm registry"; exit 1; }
    log "installing the web assets (npm ci in web/)"
    (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
  fi
  for pair in "${assets[@]}"; do
    dist="$modules/${pair%%:*}"; target="$vendor/${pair#*:}"
    cmp -s "$dist" "$target" || cp "$dist" "$target"
  done
}
ensure_web_assets

mkdir -p var models
