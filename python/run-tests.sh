#!/usr/bin/env bash
# Runs the Python SDK's tests against a live Hangar server started from this checkout.
#
#   python/run-tests.sh [pytest args...]
#
# Creates python/.venv (from python3) on first use, installs the SDK in editable mode plus pytest
# through pip's normal configuration, then runs pytest from the repo root and exits with its code.
# The server must already be built: npx tsc -b packages/server
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV=python/.venv
PY="$VENV/bin/python"

if ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "run-tests.sh: creating $VENV with $(command -v python3)" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi

# Editable installs of pyproject-only projects (PEP 660) need pip >= 21.3; old bundled pips lack it.
"$PY" -m pip install --quiet --disable-pip-version-check "pip>=21.3"
"$PY" -m pip install --quiet --disable-pip-version-check -e python/hangar_sdk pytest

set +e
"$PY" -m pytest python/tests -q "$@"
rc=$?
set -e
exit "$rc"
