#!/usr/bin/env bash
# Installs what `make bench` needs besides the build: redis-server and Node.js/npm from Debian's
# packages (skipped when already on the PATH, e.g. a newer nodejs), then the BullMQ peer from npm
# into bench/peers/node_modules exactly as bench/peers/package-lock.json says (npm ci).
# Idempotent: a second run only checks. Never starts or enables the system redis service: the
# benchmarks run their own redis-server processes on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-bench-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # policy-rc.d-free containers may try to start the packaged redis service; it is not used.
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

peers=bench/peers
stamp="$peers/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$peers/package-lock.json" -nt "$stamp" ]; then
  echo "install-bench-deps: npm ci in $peers"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
fi
