#!/usr/bin/env bash
# README command (2): installs everything the tests need and runs the whole suite.
# Needs only Node >= 20, npm and python3 on the machine; system packages come from apt
# (PostgreSQL, Chromium, python3-venv, openssl, Go when missing), JavaScript packages from npm, Python
# ones from pip, the S3-compatible test server (versitygw) from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

step "system packages"
need=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -x "${HANGAR_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
# The HTTPS tests make a throwaway self-signed certificate with the openssl CLI.
command -v openssl >/dev/null || need+=(openssl)
# The S3 test server is built with Go (scripts/services/s3.sh fetches a newer toolchain if this one is old).
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || need+=(golang-go ca-certificates)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# better-sqlite3 compiles from source when no prebuilt binary can be fetched; use the local headers.
[ -d /usr/include/node ] && export npm_config_nodedir=/usr

step "S3-compatible test server (versitygw; built once, then cached)"
bash scripts/services/s3.sh install

step "npm ci (builds every package)"
npm ci --no-audit --no-fund

step "format, lint, typecheck, generated-file drift, unit and integration tests"
npm run check

step "Python SDK suite"
bash python/run-tests.sh

step "MLflow compatibility suite (the mlflow client from PyPI)"
bash python/run-mlflow-tests.sh

step "all suites passed"
