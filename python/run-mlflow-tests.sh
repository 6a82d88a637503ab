#!/usr/bin/env bash
# Runs the MLflow compatibility suite (python/mlflow-compat): the unmodified `mlflow` client from
# PyPI against a live Hangar server started from this checkout.
#
#   python/run-mlflow-tests.sh [pytest args...]
#
# Keeps its own virtual environment, python/.venv-mlflow, built from
# python/mlflow-compat/requirements.txt through pip's normal configuration. The environment is
# reused only while the requirements file and the Python interpreter are the ones it was built
# from (a hash of both is kept in the venv) and its install finished; otherwise it is rebuilt from
# scratch, so no package from an older requirements file lingers.
# The server must already be built: npm run build (or npx tsc -b packages/server).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV=python/.venv-mlflow
REQ=python/mlflow-compat/requirements.txt
PY="$VENV/bin/python"
MARKER="$VENV/.requirements.sha256"

want="$( { cat "$REQ"; python3 -c 'import sys; print(sys.version)'; } | sha256sum | cut -d' ' -f1)"
have="$(cat "$MARKER" 2>/dev/null || true)"
if [ "$have" != "$want" ] || ! "$PY" -c 'import mlflow, pytest' >/dev/null 2>&1; then
  echo "run-mlflow-tests.sh: building $VENV from $REQ with $(command -v python3)" >&2
  started=$(date +%s)
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  # Written last: an interrupted install leaves no marker and is redone next time.
  echo "$want" >"$MARKER"
  echo "run-mlflow-tests.sh: installed in $(( $(date +%s) - started )) s" >&2
else
  echo "run-mlflow-tests.sh: reusing $VENV (requirements unchanged)" >&2
fi

set +e
"$PY" -m pytest -c python/mlflow-compat/pytest.ini --rootdir python/mlflow-compat python/mlflow-compat -q "$@"
rc=$?
set -e
exit "$rc"
