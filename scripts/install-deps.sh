#!/usr/bin/env bash
# Installs everything Sluice needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are skipped, so a second run is instant.
set -euo pipefail

# jq: README's tour reads ids out of answers with it (tests/integration/test_readme_tour.py).
# postgresql: the server of the throwaway test cluster (scripts/pg-test-cluster.sh).
# nodejs, npm: the official OpenAI Node client drives the batch API's integration test
# (tests/integration/openai_client, installed there by the test with `npm ci`).
# clang: only for the -Wthread-safety check of the lock annotations (ctest *.thread_safety)
# and the fuzz build (`make fuzz`); GCC builds everything else.
# libclang-rt-14-dev: the fuzz build's libFuzzer and sanitizer runtimes (only recommended by
# clang, so --no-install-recommends leaves it out).
packages=(
  build-essential cmake ninja-build ccache pkg-config git curl jq python3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libsqlite3-dev sqlite3 libpq-dev postgresql libssl-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev libre2-dev
  libvalijson-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere (a nodesource nodejs bundles npm and conflicts with Debian's npm
# package): only a missing npm command asks for Debian's.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
