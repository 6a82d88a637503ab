"""The evaluation gate through the unmodified MLflow client: a model's evaluation spec names a held-out
CSV dataset; ``log_model(..., registered_model_name=...)`` registers a version; the server gates it in
the background (scikit-learn flavors through MLflow's pyfunc loader in a venv built from the version's
own requirements; ONNX in-process with onnxruntime) and every metric it stores equals scikit-learn's on
the same data to 1e-9, computed here (binary, multiclass and regression). A version whose model
file cannot be loaded fails its gate at once, with the loader's error, and is not retried.

The first pyfunc gate builds the model's virtualenv from PyPI (the package registry is the only
network it needs); later ones reuse it (cached by requirements hash).
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
import warnings
from typing import Iterator

import mlflow
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from conftest import Hangar, unique

# Building the pyfunc venv (mlflow, scikit-learn, pandas...) from PyPI takes a few minutes the first time.
GATE_TIMEOUT_S = 900
TOL = 1e-9


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(autouse=True)
def _experiment_in_default_project() -> None:
    # Runs (the held-out CSV, the logged models) must be in the models' project: the admin's
    # unscoped token creates experiments in 'default', as the registry calls act there.
    mlflow.set_experiment(unique("gate"))


def _f32(X: np.ndarray) -> np.ndarray:
    """Values float32 holds exactly: the server reads features as float32, so both sides see the same."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


def ece(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top-label confidence over equal-width bins (as the server's)."""
    conf = proba.max(axis=1)
    pred = classes[proba.argmax(axis=1)]
    correct = (pred == y_true).astype(float)
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        mask = (conf > lo) & (conf <= hi) if b > 0 else (conf >= lo) & (conf <= hi)
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)


def classification_metrics(y: np.ndarray, labels: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict:
    proba = np.asarray(proba, dtype=np.float64)
    pos = classes[1]
    return {
        "accuracy": accuracy_score(y, labels),
        "precision": precision_score(y, labels, pos_label=pos, zero_division=0),
        "recall": recall_score(y, labels, pos_label=pos, zero_division=0),
        "f1": f1_score(y, labels, pos_label=pos, zero_division=0),
        "rocAuc": roc_auc_score(y, proba[:, 1]),
        "logLoss": log_loss(y, proba, labels=classes),
        "brier": brier_score_loss(y, proba[:, 1], pos_label=pos),
        "ece": ece(y, proba, classes),
    }


def multiclass_metrics(y: np.ndarray, labels: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> dict:
    """The server's multiclass metrics: macro averages over the labels seen (true or predicted),
    one-vs-rest macro ROC AUC, and the multiclass Brier score (squared errors summed over classes,
    averaged over rows: scikit-learn's, not halved for more than two classes)."""
    proba = np.asarray(proba, dtype=np.float64)
    return {
        "accuracy": accuracy_score(y, labels),
        "precision": precision_score(y, labels, average="macro", zero_division=0),
        "recall": recall_score(y, labels, average="macro", zero_division=0),
        "f1": f1_score(y, labels, average="macro", zero_division=0),
        "rocAuc": roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes),
        "logLoss": log_loss(y, proba, labels=classes),
        "brier": brier_score_loss(y, proba, labels=classes),
        "ece": ece(y, proba, classes),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    pred = np.asarray(pred, dtype=np.float64).ravel()
    return {
        "mae": mean_absolute_error(y, pred),
        "rmse": float(np.sqrt(mean_squared_error(y, pred))),
        "r2": r2_score(y, pred),
        "mape": mean_absolute_percentage_error(y, pred),
    }


def assert_metrics_equal(got: dict, want: dict) -> None:
    for k, v in want.items():
        assert got.get(k) is not None, f"{k} missing from the gate's metrics {got}"
        assert abs(got[k] - float(v)) <= TOL, f"{k}: server {got[k]!r} vs scikit-learn {float(v)!r}"


def held_out_dataset(api: Hangar, X: np.ndarray, y: np.ndarray, names: list[str], label: str) -> str:
    """Logs the held-out set as a CSV artifact of a run and registers it as a dataset version."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "heldout.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([*names, label])
            for row, target in zip(X, y):
                w.writerow([repr(float(v)) for v in row] + [target.item() if hasattr(target, "item") else target])
        with mlflow.start_run() as run:
            mlflow.log_artifact(path, "heldout")
    uri = f"{run.info.artifact_uri}/heldout/heldout.csv"
    assert uri.startswith("mlflow-artifacts:/"), uri
    res = api.request("POST", "/api/v1/projects/default/datasets", {"name": unique("heldout"), "artifactUri": uri})
    return res["dataset"]["datasetId"]


def set_spec(api: Hangar, model: str, spec: dict) -> None:
    api.request("POST", "/api/v1/projects/default/models", {"name": model})
    api.request("PUT", f"/api/v1/projects/default/models/{model}/evaluation-spec", spec)


def cancer_classifier_with_spec(api: Hangar, cancer, prefix: str):
    """A scaler + logistic regression on the cancer data, and a model whose gate needs accuracy >= 0.9
    on its held-out part."""
    X_train, X_test, y_train, y_test, names = cancer
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5)).fit(X_train, y_train)
    model = unique(prefix)
    dataset = held_out_dataset(api, X_test, y_test, names, "label")
    set_spec(
        api,
        model,
        {
            "datasetId": dataset,
            "task": "binary",
            "labelColumn": "label",
            "thresholds": [{"metric": "accuracy", "op": ">=", "threshold": 0.9}],
            "championRule": None,
        },
    )
    return clf, model, X_test, y_test


def log_onnx_version(onx, model: str) -> int:
    """Logs an ONNX graph with the onnx flavor and registers it as a version of ``model``."""
    with mlflow.start_run():
        info = mlflow.onnx.log_model(onx, name="model", registered_model_name=model)
    return int(info.registered_model_version)


def wait_for_gate(api: Hangar, model: str, version: int) -> dict:
    deadline = time.monotonic() + GATE_TIMEOUT_S
    while True:
        r = api.request("GET", f"/api/v1/projects/default/models/{model}/versions/{version}/gate")
        gate = r["gate"]
        if gate and gate["status"] not in ("pending", "running"):
            return gate
        assert time.monotonic() < deadline, f"the gate of {model} v{version} is still {gate and gate['status']}"
        time.sleep(1)


@pytest.fixture(scope="module")
def cancer():
    data = load_breast_cancer()
    X = _f32(data.data)
    names = [f"f{i}" for i in range(X.shape[1])]
    return train_test_split(X, data.target, test_size=0.3, random_state=3, stratify=data.target) + [names]


@pytest.fixture(scope="module")
def three_classes():
    """Three overlapping, imbalanced classes whose labels are not column indexes: every metric is far
    from its perfect value, and macro averages differ from micro and weighted ones."""
    X, y = make_classification(
        n_samples=900,
        n_features=8,
        n_informative=5,
        n_redundant=1,
        n_classes=3,
        n_clusters_per_class=1,
        weights=[0.5, 0.3, 0.2],
        class_sep=0.8,
        flip_y=0.05,
        random_state=5,
    )
    X = _f32(X)
    y = np.array([3, 7, 11])[y]
    names = [f"x{i}" for i in range(X.shape[1])]
    return train_test_split(X, y, test_size=0.3, random_state=3, stratify=y) + [names]


@pytest.fixture(scope="module")
def diabetes():
    data = load_diabetes()
    X = _f32(data.data)
    return train_test_split(X, data.target, test_size=0.3, random_state=3) + [list(data.feature_names)]


def test_sklearn_classifier_gated_through_pyfunc(admin_api: Hangar, cancer) -> None:
    clf, model, X_test, y_test = cancer_classifier_with_spec(admin_api, cancer, "gated-clf")
    import pandas as pd

    with mlflow.start_run():
        info = mlflow.sklearn.log_model(clf, name="model", registered_model_name=model)
    gate = wait_for_gate(admin_api, model, int(info.registered_model_version))
    assert gate["status"] == "passed", gate
    assert gate["scorer"] == "pyfunc"
    assert gate["rows"] == len(y_test)
    frame = pd.DataFrame(X_test, columns=cancer[4])
    want = classification_metrics(y_test, clf.predict(frame), clf.predict_proba(frame), clf.classes_)
    assert_metrics_equal(gate["metrics"], want)


def test_sklearn_regressor_gated_through_pyfunc(admin_api: Hangar, diabetes) -> None:
    X_train, X_test, y_train, y_test, names = diabetes
    reg = LinearRegression().fit(X_train, y_train)
    model = unique("gated-reg")
    dataset = held_out_dataset(admin_api, X_test, y_test, names, "target")
    set_spec(
        admin_api,
        model,
        {
            "datasetId": dataset,
            "task": "regression",
            "labelColumn": "target",
            # Below what this model reaches: the gate must fail, naming the metric.
            "thresholds": [{"metric": "r2", "op": ">=", "threshold": 0.99}],
            "championRule": None,
        },
    )
    import pandas as pd

    with mlflow.start_run():
        info = mlflow.sklearn.log_model(reg, name="model", registered_model_name=model)
    gate = wait_for_gate(admin_api, model, int(info.registered_model_version))
    assert gate["status"] == "failed", gate
    assert "r2" in gate["reason"], gate
    assert gate["scorer"] == "pyfunc"
    want = regression_metrics(y_test, reg.predict(pd.DataFrame(X_test, columns=names)))
    assert_metrics_equal(gate["metrics"], want)


def onnx_pipeline(data):
    """A scaler + logistic regression fitted on ``data``'s training part, and its ONNX graph (no
    ZipMap), with the graph's own labels and probabilities on the held-out part: the server scores
    in float32, so the oracle is scikit-learn's metrics on those."""
    import onnxruntime
    import skl2onnx

    X_train, X_test, y_train, _, _ = data
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5)).fit(X_train, y_train)
    onx = skl2onnx.to_onnx(
        clf, X_train[:1].astype(np.float32), options={id(clf.steps[-1][1]): {"zipmap": False}}
    )
    sess = onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    labels, proba = sess.run(None, {sess.get_inputs()[0].name: X_test.astype(np.float32)})
    return clf, onx, labels, proba


def test_onnx_classifier_gated_in_process(admin_api: Hangar, cancer) -> None:
    _, X_test, _, y_test, names = cancer
    clf, onx, labels, proba = onnx_pipeline(cancer)
    model = unique("gated-onnx")
    dataset = held_out_dataset(admin_api, X_test, y_test, names, "label")
    set_spec(
        admin_api,
        model,
        {
            "datasetId": dataset,
            "task": "binary",
            "labelColumn": "label",
            "thresholds": [{"metric": "rocAuc", "op": ">=", "threshold": 0.9}],
            "championRule": {"metric": "rocAuc", "maxDegradation": 0.05},
        },
    )
    gate = wait_for_gate(admin_api, model, log_onnx_version(onx, model))
    assert gate["status"] == "passed", gate
    assert gate["scorer"] == "onnx"
    want = classification_metrics(y_test, labels, proba, clf.classes_)
    assert_metrics_equal(gate["metrics"], want)


def multiclass_spec(dataset: str) -> dict:
    return {
        "datasetId": dataset,
        "task": "multiclass",
        "labelColumn": "label",
        "thresholds": [{"metric": "accuracy", "op": ">=", "threshold": 0.5}],
        "championRule": None,
    }


def test_sklearn_multiclass_classifier_gated_through_pyfunc(admin_api: Hangar, three_classes) -> None:
    X_train, X_test, y_train, y_test, names = three_classes
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5)).fit(X_train, y_train)
    model = unique("gated-multi")
    set_spec(admin_api, model, multiclass_spec(held_out_dataset(admin_api, X_test, y_test, names, "label")))
    import pandas as pd

    with mlflow.start_run():
        info = mlflow.sklearn.log_model(clf, name="model", registered_model_name=model)
    gate = wait_for_gate(admin_api, model, int(info.registered_model_version))
    assert gate["status"] == "passed", gate
    assert gate["scorer"] == "pyfunc"
    assert gate["rows"] == len(y_test)
    frame = pd.DataFrame(X_test, columns=names)
    want = multiclass_metrics(y_test, clf.predict(frame), clf.predict_proba(frame), clf.classes_)
    assert_metrics_equal(gate["metrics"], want)


def test_onnx_multiclass_classifier_gated_in_process(admin_api: Hangar, three_classes) -> None:
    _, X_test, _, y_test, names = three_classes
    clf, onx, labels, proba = onnx_pipeline(three_classes)
    model = unique("gated-onnx-multi")
    set_spec(admin_api, model, multiclass_spec(held_out_dataset(admin_api, X_test, y_test, names, "label")))
    gate = wait_for_gate(admin_api, model, log_onnx_version(onx, model))
    assert gate["status"] == "passed", gate
    assert gate["scorer"] == "onnx"
    assert gate["rows"] == len(y_test)
    want = multiclass_metrics(y_test, labels, proba, clf.classes_)
    assert_metrics_equal(gate["metrics"], want)


def test_unloadable_pyfunc_model_fails_its_gate_without_retries(admin_api: Hangar, cancer) -> None:
    clf, model, _, _ = cancer_classifier_with_spec(admin_api, cancer, "gated-corrupt")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(clf, name="model")
    # The serialized estimator overwritten, through the artifact API, with bytes no loader reads; what
    # MLflow's own loader says of the same files here is what the gate's reason must carry.
    model_file = info.flavors["sklearn"]["pickled_model"]
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=d)
        with open(os.path.join(local, model_file), "wb") as f:
            f.write(b"\x00\xffnot a model\n" * 64)
        with pytest.raises(Exception) as load_error:
            mlflow.pyfunc.load_model(local)
        mlflow.MlflowClient().log_model_artifact(info.model_id, os.path.join(local, model_file))
    version = int(mlflow.register_model(info.model_uri, model).version)
    gate = wait_for_gate(admin_api, model, version)
    assert gate["status"] == "failed", gate
    assert gate["metrics"] is None and gate["checks"] is None, gate
    reason = gate["reason"]
    # One line naming the loader's error, without its traceback (which holds the server's paths).
    first_line = str(load_error.value).strip().splitlines()[0]
    assert reason == (
        "scoring the held-out set failed: the model could not be loaded: "
        f"{type(load_error.value).__name__}: {first_line}"
    ), (load_error.value, reason)
    # A permanent failure: its one attempt failed the job, with retries left that it did not take.
    deadline = time.monotonic() + 30
    while (job := admin_api.request("GET", f"/api/v1/jobs/{gate['jobId']}"))["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    assert job["state"] == "failed", job
    assert job["attempt"] == 1 < job["maxAttempts"], job
