#!/usr/bin/env bash
# Installs what bench/serving compares Hangar against, pinned: MLflow (for `mlflow models serve` and
# mlflow.sklearn), MLServer with its scikit-learn runtime, and scikit-learn + skl2onnx to make the model.
# Into bench/serving/.venv (ignored by git through the `.venv/` rule); pip uses its normal
# configuration (index, wheels, CA). Idempotent: serving.ts calls it when the venv lacks a package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
if ! "$venv/bin/python" -c 'import mlflow, mlserver, mlserver_sklearn, sklearn, skl2onnx, onnxruntime' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet \
    mlflow==3.17.2 scikit-learn==1.9.1 skl2onnx==1.20.0 onnxruntime \
    mlserver==1.7.1 mlserver-sklearn==1.7.1
fi
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
print(", ".join(f"{p} {md.version(p)}" for p in ["mlflow", "mlserver", "mlserver-sklearn", "scikit-learn", "skl2onnx", "onnxruntime"]))
PY
