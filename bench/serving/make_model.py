"""Makes the one model bench/serving serves on every system, in the three forms they load.

A scikit-learn pipeline (StandardScaler + LogisticRegression) trained on the breast-cancer data set
(30 numeric features, binary label), written to OUT as:
  hangar/    mlflow.onnx.save_model of its skl2onnx conversion (input "X" float32 [N, 30], outputs
             "label" and "probabilities", ZipMap off), with the column signature, as a user would
             register it in Hangar;
  mlflow/    mlflow.sklearn.save_model of the pipeline, for `mlflow models serve`;
  mlserver/  model.joblib + model-settings.json for MLServer's scikit-learn runtime (the benchmark
             adds settings.json with its ports);
  sample.json  the feature names, a few held-out rows and scikit-learn's predict_proba for them,
             so the benchmark can check every server answers like the original model.
Before writing anything it checks that onnxruntime's probabilities match scikit-learn's on the
held-out set (float32 vs float64: within 1e-5) and that the labels agree; it exits non-zero if not.

Usage: python make_model.py OUT
"""

import copy
import json
import os
import sys

import joblib
import mlflow.onnx
import mlflow.sklearn
import numpy as np
import onnxruntime as ort
from mlflow.models import infer_signature
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

TOLERANCE = 1e-5


def main(out: str) -> None:
    data = load_breast_cancer(as_frame=True)
    x_train, x_test, y_train, _ = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_train, y_train)
    classifier = pipe.steps[-1][1]

    onx = convert_sklearn(
        pipe,
        initial_types=[("X", FloatTensorType([None, x_train.shape[1]]))],
        options={id(classifier): {"zipmap": False}},
    )
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    labels, probabilities = session.run(None, {"X": x_test.to_numpy(dtype=np.float32)})
    expected = pipe.predict_proba(x_test)
    worst = float(np.max(np.abs(probabilities - expected)))
    if worst > TOLERANCE or not np.array_equal(labels, pipe.predict(x_test)):
        sys.exit(f"the ONNX conversion does not match scikit-learn: max |delta p| = {worst:.3g}")

    signature = infer_signature(x_test, pipe.predict(x_test))
    mlflow.onnx.save_model(onx, os.path.join(out, "hangar"), signature=signature)
    mlflow.sklearn.save_model(pipe, os.path.join(out, "mlflow"), signature=signature)

    mlserver_dir = os.path.join(out, "mlserver")
    os.makedirs(mlserver_dir)
    # MLServer hands the model a numpy array: without the fitted column names, scikit-learn would
    # warn (and write to stderr) on every request. The same fitted pipeline, names dropped.
    unnamed = copy.deepcopy(pipe)
    for _, step in unnamed.steps:
        if hasattr(step, "feature_names_in_"):
            del step.feature_names_in_
    joblib.dump(unnamed, os.path.join(mlserver_dir, "model.joblib"))
    model_settings = {
        "name": "bc",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "1"},
    }
    with open(os.path.join(mlserver_dir, "model-settings.json"), "w") as f:
        json.dump(model_settings, f, indent=2)

    rows = x_test.head(8)
    sample = {
        "columns": list(data.feature_names),
        "rows": rows.to_numpy().tolist(),
        "probabilities": pipe.predict_proba(rows).tolist(),
        "labels": pipe.predict(rows).tolist(),
        "onnxMaxDelta": worst,
        "heldOutRows": len(x_test),
    }
    with open(os.path.join(out, "sample.json"), "w") as f:
        json.dump(sample, f)
    print(f"model written to {out}: ONNX vs scikit-learn max |delta p| {worst:.2e} on {len(x_test)} held-out rows")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_model.py OUT")
    main(sys.argv[1])
