"""The Python side of bench/registry/gate.ts: builds the held-out set and the model, and times the
evaluation a data scientist would run instead of Hangar's gate (scikit-learn's predict_proba plus the
same metrics, with scikit-learn's functions).

    python gate_python.py make <dir> <rows>      # heldout.csv, model.onnx (zipmap off), model.pkl
    python gate_python.py time <dir> <rounds>    # JSON timings on stdout

Deterministic (fixed seeds).
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = 20


def make(out: Path, rows: int) -> None:
    X, y = make_classification(n_samples=rows + 20_000, n_features=FEATURES, n_informative=8, random_state=11)
    X = X.astype(np.float32).astype(np.float64)  # what the gate reads: float32 features
    X_train, y_train, X_test, y_test = X[:20_000], y[:20_000], X[20_000:], y[20_000:]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    from skl2onnx import to_onnx

    onx = to_onnx(model, X_train[:1].astype(np.float32), options={id(model.steps[-1][1]): {"zipmap": False}})
    (out / "model.onnx").write_bytes(onx.SerializeToString())
    (out / "model.pkl").write_bytes(pickle.dumps(model))
    frame = pd.DataFrame(X_test, columns=[f"f{i}" for i in range(FEATURES)])
    frame["label"] = y_test
    frame.to_csv(out / "heldout.csv", index=False, float_format="%.9g")


def ece(y: np.ndarray, proba: np.ndarray, classes: np.ndarray, bins: int = 10) -> float:
    conf = proba.max(axis=1)
    correct = (classes[proba.argmax(axis=1)] == y).astype(float)
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.mean() * abs(correct[mask].mean() - conf[mask].mean())
    return float(total)


def evaluate(model, X: np.ndarray, y: np.ndarray) -> dict:
    proba = model.predict_proba(X)
    classes = model.classes_
    labels = classes[proba.argmax(axis=1)]
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


def timings(out: Path, rounds: int) -> None:
    model = pickle.loads((out / "model.pkl").read_bytes())
    score, total, metrics = [], [], None
    for _ in range(rounds + 1):  # the first round warms caches and is dropped
        t0 = time.perf_counter()
        frame = pd.read_csv(out / "heldout.csv")
        y = frame.pop("label").to_numpy()
        X = frame.to_numpy(dtype=np.float64)
        t1 = time.perf_counter()
        metrics = evaluate(model, X, y)
        t2 = time.perf_counter()
        score.append(t2 - t1)
        total.append(t2 - t0)
    json.dump({"rows": int(len(y)), "score_s": score[1:], "total_s": total[1:], "metrics": metrics}, sys.stdout)


if __name__ == "__main__":
    cmd, where, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    make(where, n) if cmd == "make" else timings(where, n)
