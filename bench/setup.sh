#!/usr/bin/env bash
# Installs what the benchmarks compare Hangar against: MLflow's tracking server, into bench/.venv
# (ignored by git through the `.venv/` rule). pip uses its normal configuration (index, wheels, CA).
# Idempotent: the benchmarks call it only when bench/.venv/bin/mlflow is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/mlflow" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet mlflow
fi
"$venv/bin/mlflow" --version
