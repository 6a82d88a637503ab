"""Serving's acceptance with real clients and real models (issue 6).

Models are trained here, logged and registered with the unmodified ``mlflow`` client, deployed through
Hangar's native API (``POST /api/v1/projects/{p}/deployments``, polled until ready) and then called
the way their users would: NVIDIA's ``tritonclient.http`` with its default binary tensor data, the
MLflow-style records endpoint, and plain JSON over HTTP. Every answer is compared with the Python
library that trained the model:

- a scikit-learn classifier exported with skl2onnx (no ZipMap), served in-process by onnxruntime;
- an XGBoost classifier converted with onnxmltools;
- a PyTorch MLP exported with torch.onnx (a committed fixture: see fixtures/README.md);
- an MLflow pyfunc (scikit-learn) model served by the MLServer process runtime;
- a canary whose candidate answers very differently is aborted by the server and traffic returns to
  the stable version;
- bad input through tritonclient is a 400 that names the input; an unknown model is a 404;
- scikit-learn, XGBoost and LightGBM models logged with their own MLflow flavors are converted to
  ONNX by the conversion job (each in a venv built from the version's requirements), checked on the
  held-out set, and served.

The process runtime builds a virtualenv with MLServer from PyPI on first use, which takes minutes.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any, Iterator, Optional

import mlflow
import numpy as np
import pandas as pd
import pytest
import tritonclient.http as httpclient
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from tritonclient.utils import InferenceServerException

from conftest import Hangar, LiveServer, unique

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT = "default"
# Loading an ONNX model in-process takes well under a second; the margin is for a busy 2-core machine.
ONNX_READY_S = 120
# The process runtime's first deployment builds a venv with MLServer and the model's requirements
# from PyPI (as the evaluation gate's pyfunc venv does in test_gate.py).
PROCESS_READY_S = 900
CANARY_TIMEOUT_S = 60
TOL = 1e-5
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
INPUT = "features"


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(autouse=True)
def _experiment_in_default_project() -> None:
    # The admin's unscoped token registers models in 'default', where the deployments are made.
    mlflow.set_experiment(unique("serving"))


# ---------------------------------------------------------------------------------------------
# helpers


def auth(server: LiveServer) -> dict:
    """A fresh header dict per call: tritonclient's infer() writes Inference-Header-Content-Length
    into the dict it is given, which would poison the next (JSON) request sharing it."""
    return {"Authorization": f"Bearer {server.token}"}


def host_port(server: LiveServer) -> str:
    """tritonclient takes host:port without a scheme."""
    return server.url.split("://", 1)[1]


@dataclass
class Reply:
    status: int
    headers: Message
    body: Any


def http(server: LiveServer, method: str, path: str, body: Optional[dict] = None, headers: Optional[dict] = None) -> Reply:
    """One data-plane call as the admin; answers any status instead of raising, with the headers."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(server.url + path, data=data, method=method)
    for k, v in {**auth(server), **(headers or {})}.items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            status, hdrs, text = res.status, res.headers, res.read().decode()
    except urllib.error.HTTPError as err:
        status, hdrs, text = err.code, err.headers, err.read().decode(errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Reply(status, hdrs, parsed)


def _view(res: Any, key: str) -> Any:
    """The resource itself, whether the API answers it bare or wrapped as {key: {...}}."""
    if isinstance(res, dict) and isinstance(res.get(key), dict) and "name" not in res and "status" not in res:
        return res[key]
    return res


def f32(X: np.ndarray) -> np.ndarray:
    """Values float32 holds exactly: the ONNX models read float32, so both sides see the same."""
    return np.asarray(X, dtype=np.float32).astype(np.float64)


@contextmanager
def as_admin(server: LiveServer) -> Iterator[None]:
    """The MLflow client pointed at the server as the admin, for module-scoped fixtures (the
    function-scoped mlflow_env fixture of conftest.py does this for tests)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", server.url)
        mp.setenv("MLFLOW_TRACKING_TOKEN", server.token)
        mlflow.set_experiment(unique("serving"))
        try:
            yield
        finally:
            while mlflow.active_run() is not None:
                mlflow.end_run()


def log_onnx(onx: Any, model: str, signature: Any = None) -> int:
    """Logs an ONNX graph with mlflow.onnx, registers it under `model` and returns the version."""
    with mlflow.start_run():
        info = mlflow.onnx.log_model(onx, name="model", registered_model_name=model, signature=signature)
    return int(info.registered_model_version)


def sklearn_onnx(clf: Any) -> Any:
    """skl2onnx export of a classifier with one float input named `features` and no ZipMap, so the
    outputs are tensors: `label` (INT64) and `probabilities` (FP32)."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    return convert_sklearn(
        clf, initial_types=[(INPUT, FloatTensorType([None, len(COLUMNS)]))], options={id(clf): {"zipmap": False}}
    )


def deploy(
    api: Hangar,
    server: LiveServer,
    model: str,
    versions: list[tuple[int, int]],
    runtime: Optional[str] = None,
    timeout_s: float = ONNX_READY_S,
) -> dict:
    """Creates a deployment of `model` (name derived from it) and polls it until it is ready."""
    name = unique("dep")
    body: dict = {
        "name": name,
        "model": model,
        "environment": "staging",
        "versions": [{"version": v, "weight": w} for v, w in versions],
    }
    if runtime is not None:
        body["runtime"] = runtime
    created = _view(api.request("POST", f"/api/v1/projects/{PROJECT}/deployments", body), "deployment")
    assert created["name"] == name, created
    assert created["status"] in ("deploying", "ready"), created
    return wait_ready(api, server, name, timeout_s)


def wait_ready(api: Hangar, server: LiveServer, name: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        d = _view(api.request("GET", f"/api/v1/projects/{PROJECT}/deployments/{name}"), "deployment")
        if d["status"] == "ready":
            return d
        if d["status"] == "failed":
            pytest.fail(f"deployment {name} failed: {d.get('failure')}\n{server.logs()}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"deployment {name} is still {d['status']} after {timeout_s} s\n{server.logs()}", pytrace=False)
        time.sleep(0.5)


def undeploy(api: Hangar, name: str) -> None:
    api.request("DELETE", f"/api/v1/projects/{PROJECT}/deployments/{name}")


def infer_input(name: str, data: np.ndarray, datatype: str, binary: bool = True) -> httpclient.InferInput:
    inp = httpclient.InferInput(name, list(data.shape), datatype)
    inp.set_data_from_numpy(data, binary_data=binary)
    return inp


def assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs {want.shape}"
    worst = float(np.max(np.abs(got - want))) if got.size else 0.0
    assert worst <= TOL, f"{what}: largest difference {worst} > {TOL}"


# ---------------------------------------------------------------------------------------------
# models


@pytest.fixture(scope="module")
def iris():
    data = load_iris()
    X = f32(data.data)
    X_train, X_test, y_train, y_test = train_test_split(X, data.target, test_size=0.3, random_state=7, stratify=data.target)
    return X_train, X_test, y_train, y_test


@dataclass(frozen=True)
class Served:
    name: str
    model: str
    version: int
    clf: Any
    X: np.ndarray


@pytest.fixture(scope="module")
def sk_onnx(server: LiveServer, iris) -> Iterator[Served]:
    """A scikit-learn classifier as ONNX, logged with a column signature (for the records endpoint),
    registered and deployed; deleted at the end of the module."""
    X_train, X_test, y_train, _ = iris
    clf = LogisticRegression(max_iter=1000, C=0.7).fit(X_train, y_train)
    model = unique("iris-onnx")
    signature = infer_signature(pd.DataFrame(X_train.astype(np.float32), columns=COLUMNS))
    api = Hangar.bearer(server.url, server.token)
    with as_admin(server):
        version = log_onnx(sklearn_onnx(clf), model, signature)
    d = deploy(api, server, model, [(version, 100)])
    yield Served(d["name"], model, version, clf, X_test)
    undeploy(api, d["name"])


@pytest.fixture()
def triton(server: LiveServer) -> Iterator[httpclient.InferenceServerClient]:
    client = httpclient.InferenceServerClient(url=host_port(server))
    yield client
    client.close()


# ---------------------------------------------------------------------------------------------
# 1. tritonclient, scikit-learn through skl2onnx


def test_tritonclient_serves_sklearn_onnx_classifier(server: LiveServer, triton, sk_onnx: Served) -> None:
    name, clf = sk_onnx.name, sk_onnx.clf
    X = sk_onnx.X.astype(np.float32)
    want_labels = clf.predict(sk_onnx.X)
    want_proba = clf.predict_proba(sk_onnx.X)

    assert triton.is_server_live(headers=auth(server))
    assert triton.is_server_ready(headers=auth(server))
    assert triton.is_model_ready(name, headers=auth(server))
    assert triton.is_model_ready(name, model_version=str(sk_onnx.version), headers=auth(server))

    md = triton.get_model_metadata(name, headers=auth(server))
    assert md["name"] == name, md
    assert [(i["name"], i["datatype"], i["shape"]) for i in md["inputs"]] == [(INPUT, "FP32", [-1, 4])], md
    outs = {o["name"]: o for o in md["outputs"]}
    assert outs["label"]["datatype"] == "INT64", md
    assert outs["probabilities"]["datatype"] == "FP32", md
    assert outs["probabilities"]["shape"][-1] == 3, md

    # Every mix of binary and JSON outputs; the input in the client's default binary encoding.
    for label_binary in (True, False):
        for proba_binary in (True, False):
            request_id = f"req-{uuid.uuid4().hex[:8]}"
            res = triton.infer(
                name,
                [infer_input(INPUT, X, "FP32")],
                outputs=[
                    httpclient.InferRequestedOutput("label", binary_data=label_binary),
                    httpclient.InferRequestedOutput("probabilities", binary_data=proba_binary),
                ],
                request_id=request_id,
                headers=auth(server),
            )
            what = f"label binary={label_binary}, probabilities binary={proba_binary}"
            for out, binary in (("label", label_binary), ("probabilities", proba_binary)):
                desc = res.get_output(out)
                assert desc is not None, f"{what}: no output {out} in {res.get_response()}"
                # The server honours the per-output choice: binary outputs carry only their size.
                assert ("binary_data_size" in (desc.get("parameters") or {})) == binary, f"{what}: {desc}"
                assert ("data" in desc) != binary, f"{what}: {desc}"
            assert res.get_response()["id"] == request_id
            assert res.get_response()["model_name"] == name
            np.testing.assert_array_equal(res.as_numpy("label"), want_labels, err_msg=what)
            assert_close(res.as_numpy("probabilities"), want_proba, what)

    # No outputs named: tritonclient asks for all of them in binary.
    res = triton.infer(name, [infer_input(INPUT, X, "FP32")], headers=auth(server))
    np.testing.assert_array_equal(res.as_numpy("label"), want_labels)
    assert_close(res.as_numpy("probabilities"), want_proba, "all outputs, binary")

    # JSON input, and the version-pinned route.
    res = triton.infer(
        name, [infer_input(INPUT, X[:5], "FP32", binary=False)], model_version=str(sk_onnx.version), headers=auth(server)
    )
    assert res.get_response()["model_version"] == str(sk_onnx.version)
    np.testing.assert_array_equal(res.as_numpy("label"), want_labels[:5])
    assert_close(res.as_numpy("probabilities"), want_proba[:5], "JSON input, pinned version")


# ---------------------------------------------------------------------------------------------
# 2. XGBoost through onnxmltools


def test_xgboost_onnx_matches_xgboost(server: LiveServer, admin_api: Hangar, triton, iris) -> None:
    import xgboost
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    X_train, X_test, y_train, _ = iris
    booster = xgboost.XGBClassifier(n_estimators=30, max_depth=3, learning_rate=0.3, random_state=0)
    booster.fit(X_train.astype(np.float32), y_train)
    onx = convert_xgboost(booster, initial_types=[(INPUT, FloatTensorType([None, 4]))])
    model = unique("iris-xgb")
    version = log_onnx(onx, model)
    d = deploy(admin_api, server, model, [(version, 100)])
    try:
        md = triton.get_model_metadata(d["name"], headers=auth(server))
        names = [o["name"] for o in md["outputs"]]
        assert names == ["label", "probabilities"], md
        X = X_test.astype(np.float32)
        res = triton.infer(d["name"], [infer_input(INPUT, X, "FP32")], headers=auth(server))
        np.testing.assert_array_equal(res.as_numpy("label"), booster.predict(X))
        assert_close(res.as_numpy("probabilities"), booster.predict_proba(X), "xgboost probabilities")
    finally:
        undeploy(admin_api, d["name"])


# ---------------------------------------------------------------------------------------------
# 3. PyTorch through torch.onnx (committed fixture)


def test_torch_mlp_matches_torch(server: LiveServer, admin_api: Hangar, triton) -> None:
    import onnx

    expected = json.loads((FIXTURES / "torch_mlp_expected.json").read_text())
    graph = onnx.load(str(FIXTURES / "torch_mlp.onnx"))
    model = unique("torch-mlp")
    version = log_onnx(graph, model)
    d = deploy(admin_api, server, model, [(version, 100)])
    try:
        X = np.asarray(expected["inputs"], dtype=np.float32)
        want = np.asarray(expected["outputs"], dtype=np.float32)
        assert X.shape == (20, 4) and want.shape == (20, 3)
        inp, out = expected["input_name"], expected["output_name"]
        md = triton.get_model_metadata(d["name"], headers=auth(server))
        assert [(i["name"], i["datatype"]) for i in md["inputs"]] == [(inp, "FP32")], md
        res = triton.infer(d["name"], [infer_input(inp, X, "FP32")], headers=auth(server))
        assert_close(res.as_numpy(out), want, "torch MLP, 20 rows")
        res = triton.infer(d["name"], [infer_input(inp, X[3:4], "FP32", binary=False)], headers=auth(server))
        assert_close(res.as_numpy(out), want[3:4], "torch MLP, 1 row, JSON")
    finally:
        undeploy(admin_api, d["name"])


# ---------------------------------------------------------------------------------------------
# 4. MLflow pyfunc through the MLServer process runtime


def test_pyfunc_model_serves_through_mlserver(server: LiveServer, admin_api: Hangar, triton, iris) -> None:
    X_train, X_test, y_train, _ = iris
    train = pd.DataFrame(X_train, columns=COLUMNS)
    test = pd.DataFrame(X_test, columns=COLUMNS)
    clf = LogisticRegression(max_iter=1000).fit(train, y_train)
    want = clf.predict(test)
    model = unique("iris-pyfunc")
    # log_model writes the pip requirements of this environment (mlflow, scikit-learn, ...): the
    # process runtime builds the model server's venv from them.
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            clf, name="model", registered_model_name=model, signature=infer_signature(train, clf.predict(train))
        )
    version = int(info.registered_model_version)
    d = deploy(admin_api, server, model, [(version, 100)], runtime="process", timeout_s=PROCESS_READY_S)
    name = d["name"]
    try:
        assert d["runtime"] == "process", d

        # MLflow's scoring-server format through the records endpoint.
        r = http(
            server,
            "POST",
            f"/v1/deployments/{name}/predict",
            {"dataframe_split": {"columns": COLUMNS, "data": test.to_numpy().tolist()}},
        )
        assert r.status == 200, r.body
        assert r.body["model_version"] == str(version), r.body
        assert r.headers.get("x-hangar-model-version") == str(version)
        np.testing.assert_array_equal(np.asarray(r.body["predictions"]).ravel(), want)

        # Open Inference Protocol: MLServer's mlflow runtime declares one input per signature column.
        assert triton.is_model_ready(name, headers=auth(server))
        md = triton.get_model_metadata(name, headers=auth(server))
        declared = {i["name"]: i for i in md["inputs"]}
        assert sorted(declared) == sorted(COLUMNS), md
        numpy_of = {"FP64": np.float64, "FP32": np.float32}
        inputs = []
        for col in COLUMNS:
            spec = declared[col]
            values = test[col].to_numpy().astype(numpy_of[spec["datatype"]])
            values = values.reshape(-1, 1) if len(spec["shape"]) == 2 else values
            inputs.append(infer_input(col, values, spec["datatype"]))
        res = triton.infer(name, inputs, headers=auth(server))
        first = res.get_response()["outputs"][0]["name"]
        np.testing.assert_array_equal(res.as_numpy(first).ravel(), want)

        # The model server killed mid-traffic: Hangar restarts it. Requests fail only while it is
        # down, as 503s (never a hang or a 500), and each failure is counted in /metrics.
        before = model_server_groups(name)
        assert before, "no model server process group found for the deployment"
        for pgid in before:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        body = {"dataframe_split": {"columns": COLUMNS, "data": test.to_numpy()[:1].tolist()}}
        failures, statuses, streak = 0, set(), 0
        deadline = time.monotonic() + 300
        while streak < 20:
            assert time.monotonic() < deadline, f"not serving again after the kill ({failures} failures)\n{server.logs()}"
            r = http(server, "POST", f"/v1/deployments/{name}/predict", body)
            if r.status == 200:
                streak += 1
            else:
                failures, streak = failures + 1, 0
                statuses.add(r.status)
                time.sleep(0.05)
        assert statuses <= {503}, statuses
        after = model_server_groups(name)
        assert after and not set(after) & set(before), (before, after)
        metrics = urllib.request.urlopen(f"{server.url}/metrics", timeout=30).read().decode()
        errors = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("hangar_inference_requests_total{") and f'deployment="{name}"' in line and 'outcome="error"' in line
        )
        assert errors >= failures, (errors, failures)
    finally:
        undeploy(admin_api, name)


def model_server_groups(deployment: str) -> list[int]:
    """Process groups of the deployment's model servers: leaders whose working directory is under
    the data dir's work/serving/<deployment>/ (where the process runtime starts MLServer)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
            if f"/work/serving/{deployment}/" in cwd and os.getpgid(pid) == pid:
                found.append(pid)
        except (OSError, ProcessLookupError):
            continue
    return found


# ---------------------------------------------------------------------------------------------
# 5. the records endpoint on the ONNX deployment


def test_records_endpoint_on_onnx_deployment(server: LiveServer, sk_onnx: Served) -> None:
    rows = sk_onnx.X[:6]
    instances = [{c: float(v) for c, v in zip(COLUMNS, row)} for row in rows]
    request_id = f"rec-{uuid.uuid4().hex[:8]}"
    r = http(server, "POST", f"/v1/deployments/{sk_onnx.name}/predict", {"instances": instances}, {"x-request-id": request_id})
    assert r.status == 200, r.body
    assert r.body["id"] == request_id, r.body
    assert r.headers.get("x-request-id") == request_id
    assert r.body["model_version"] == str(sk_onnx.version), r.body
    assert r.headers.get("x-hangar-model-version") == str(sk_onnx.version)
    predictions = r.body["predictions"]
    assert len(predictions) == len(rows), r.body
    # Two outputs: one object per row keyed by output name, as MLflow's scoring server answers.
    assert all(set(p) == {"label", "probabilities"} for p in predictions), predictions
    np.testing.assert_array_equal([p["label"] for p in predictions], sk_onnx.clf.predict(rows))
    assert_close(np.asarray([p["probabilities"] for p in predictions]), sk_onnx.clf.predict_proba(rows), "records")

    # Without a request id the server makes one and returns it.
    r = http(server, "POST", f"/v1/deployments/{sk_onnx.name}/predict", {"instances": instances[:1]})
    assert r.status == 200, r.body
    assert r.body["id"] and r.headers.get("x-request-id") == r.body["id"], (r.body, dict(r.headers))

    # A missing column is the caller's error, named.
    partial = [{c: v for c, v in inst.items() if c != "petal_width"} for inst in instances]
    r = http(server, "POST", f"/v1/deployments/{sk_onnx.name}/predict", {"instances": partial})
    assert r.status == 400, r.body
    assert "petal_width" in r.body["error"], r.body


# ---------------------------------------------------------------------------------------------
# 6. a skewed canary is aborted automatically


def test_skewed_canary_is_aborted_and_traffic_returns_to_stable(server: LiveServer, admin_api: Hangar, iris) -> None:
    X_train, _, y_train, _ = iris
    stable = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    # Trained on rotated labels: the candidate names every flower wrongly.
    skewed = LogisticRegression(max_iter=1000).fit(X_train, (y_train + 1) % 3)
    # Requests are all setosa rows: stable answers 0 and the candidate 1, so the label distributions
    # the canary analysis compares are as far apart as they can be (a shift of 1).
    everything = load_iris()
    setosa = everything.data[everything.target == 0].astype(np.float32)
    assert (stable.predict(setosa) == 0).all() and (skewed.predict(setosa) == 1).all()

    model = unique("iris-canary")
    assert log_onnx(sklearn_onnx(stable), model) == 1
    assert log_onnx(sklearn_onnx(skewed), model) == 2
    d = deploy(admin_api, server, model, [(1, 100)])
    name = d["name"]
    base = f"/api/v1/projects/{PROJECT}/deployments/{name}"
    try:
        started = _view(
            admin_api.request(
                "POST",
                f"{base}/rollouts",
                {
                    "strategy": "canary",
                    "version": 2,
                    "steps": [50, 100],
                    "stepSeconds": 2,
                    "minRequests": 20,
                    "maxDistributionShift": 0.2,
                },
            ),
            "rollout",
        )
        assert started["status"] == "running", started

        # (served version, label answered) -> count
        served: dict[tuple[str, int], int] = {}
        rollout: dict = started
        deadline = time.monotonic() + CANARY_TIMEOUT_S
        next_check = 0.0
        sent = 0
        # Bounded in time and count: a few thousand small requests at most.
        while sent < 20_000:
            row = setosa[sent % len(setosa)]
            r = http(server, "POST", f"/v2/models/{name}/infer", v2_body(row))
            assert r.status == 200, r.body
            key = (r.headers.get("x-hangar-model-version"), label_of(r.body))
            served[key] = served.get(key, 0) + 1
            sent += 1
            now = time.monotonic()
            if now >= next_check:
                rollout = _view(admin_api.request("GET", f"{base}/rollout"), "rollout")
                if rollout["status"] not in ("running", "paused"):
                    break
                next_check = now + 0.5
            assert now < deadline, f"the canary is still {rollout['status']} after {CANARY_TIMEOUT_S} s: {rollout}"
            time.sleep(0.005)

        assert rollout["status"] == "aborted", rollout
        assert "distribution shift" in (rollout.get("reason") or ""), rollout
        # Both versions answered during the canary, each as trained: stable 0, the candidate 1.
        assert set(served) == {("1", 0), ("2", 1)}, f"(version, label) -> requests during the canary: {served}"
        last = rollout["analyses"][-1]
        assert last["decision"] == "fail", last
        assert last["shift"]["value"] > 0.2, last

        after = _view(admin_api.request("GET", base), "deployment")
        assert after["traffic"] == [{"version": 1, "weight": 100}], after
        assert after["stableVersion"] == 1, after
        assert after["rollout"]["status"] == "aborted", after

        # The abort is applied in-process right after it is committed; give that moment its due.
        time.sleep(1)
        for i in range(40):
            r = http(server, "POST", f"/v2/models/{name}/infer", v2_body(setosa[i % len(setosa)]))
            assert r.status == 200, r.body
            assert r.headers.get("x-hangar-model-version") == "1", (i, dict(r.headers))
            assert r.body["model_version"] == "1", r.body
            assert label_of(r.body) == 0, r.body
    finally:
        undeploy(admin_api, name)


def v2_body(row: np.ndarray) -> dict:
    """One row as an OIP JSON request. All outputs: the canary's analysis reads the first, which is
    the label in skl2onnx's order."""
    return {"inputs": [{"name": INPUT, "datatype": "FP32", "shape": [1, len(row)], "data": [float(v) for v in row]}]}


def label_of(body: dict) -> int:
    (label,) = next(o for o in body["outputs"] if o["name"] == "label")["data"]
    return int(label)


# ---------------------------------------------------------------------------------------------
# 7. bad input through tritonclient


def _rejected(call) -> InferenceServerException:
    """The error tritonclient raises; its message must be the string OIP puts in {"error": "..."}
    (tritonclient cannot even print an error that is an object)."""
    with pytest.raises(InferenceServerException) as info:
        call()
    err = info.value
    assert isinstance(err.message(), str), f'OIP errors are {{"error": "<text>"}}: got HTTP {err.status()} with {err.message()!r}'
    return err


def _why(err: InferenceServerException) -> str:
    return f"HTTP {err.status()}: {err.message()}"


def test_tritonclient_bad_input_is_400_naming_the_input(server: LiveServer, triton, sk_onnx: Served) -> None:
    name = sk_onnx.name
    X = sk_onnx.X.astype(np.float32)

    wrong_shape = _rejected(lambda: triton.infer(name, [infer_input(INPUT, X[:, :3].copy(), "FP32")], headers=auth(server)))
    assert wrong_shape.status() == "400", _why(wrong_shape)
    assert INPUT in wrong_shape.message(), _why(wrong_shape)

    wrong_type = _rejected(lambda: triton.infer(name, [infer_input(INPUT, X.astype(np.float64), "FP64")], headers=auth(server)))
    assert wrong_type.status() == "400", _why(wrong_type)
    assert INPUT in wrong_type.message(), _why(wrong_type)

    strings = np.array([[b"a", b"b", b"c", b"d"]], dtype=np.object_)
    not_numbers = _rejected(lambda: triton.infer(name, [infer_input(INPUT, strings, "BYTES")], headers=auth(server)))
    assert not_numbers.status() == "400", _why(not_numbers)
    assert INPUT in not_numbers.message(), _why(not_numbers)

    # The declared input is missing (an unknown one is sent instead): either name identifies it.
    missing = _rejected(lambda: triton.infer(name, [infer_input("bogus_input", X, "FP32")], headers=auth(server)))
    assert missing.status() == "400", _why(missing)
    assert INPUT in missing.message() or "bogus_input" in missing.message(), _why(missing)

    # The same, JSON-encoded: the input is checked whatever its encoding.
    json_shape = _rejected(
        lambda: triton.infer(name, [infer_input(INPUT, X[:, :3].copy(), "FP32", binary=False)], headers=auth(server))
    )
    assert json_shape.status() == "400" and INPUT in json_shape.message(), _why(json_shape)

    # The deployment still answers after all that.
    res = triton.infer(name, [infer_input(INPUT, X[:2], "FP32")], headers=auth(server))
    np.testing.assert_array_equal(res.as_numpy("label"), sk_onnx.clf.predict(sk_onnx.X[:2]))


def test_tritonclient_unknown_model_is_404(server: LiveServer, triton) -> None:
    ghost = unique("no-such-model")
    assert triton.is_model_ready(ghost, headers=auth(server)) is False
    meta = _rejected(lambda: triton.get_model_metadata(ghost, headers=auth(server)))
    assert meta.status() == "404", _why(meta)
    X = np.zeros((1, 4), dtype=np.float32)
    infer = _rejected(lambda: triton.infer(ghost, [infer_input(INPUT, X, "FP32")], headers=auth(server)))
    assert infer.status() == "404", _why(infer)
    assert ghost in infer.message(), _why(infer)


# ---------------------------------------------------------------------------------------------
# 8. conversion to ONNX: a scikit-learn pipeline logged with mlflow.sklearn, converted in a
#    managed environment, checked against the original on the held-out set, registered as a new
#    version and served in-process


def _heldout_dataset(api: Hangar, X_test: np.ndarray, y_test: np.ndarray) -> str:
    """Logs the held-out rows as a CSV artifact and registers it as a dataset; returns its id."""
    import csv
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "heldout.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([*COLUMNS, "label"])
            for row, target in zip(X_test, y_test):
                w.writerow([repr(float(v)) for v in row] + [int(target)])
        with mlflow.start_run() as run:
            mlflow.log_artifact(path, "heldout")
    uri = f"{run.info.artifact_uri}/heldout/heldout.csv"
    dataset = api.request("POST", f"/api/v1/projects/{PROJECT}/datasets", {"name": unique("heldout"), "artifactUri": uri})
    return dataset["dataset"]["datasetId"]


def _convert(api: Hangar, server: LiveServer, model: str, version: int, flavor: str, dataset_id: str) -> int:
    """Gives the model a held-out set, runs the conversion job and returns the converted version."""
    api.request(
        "PUT",
        f"/api/v1/projects/{PROJECT}/models/{model}/evaluation-spec",
        {"datasetId": dataset_id, "task": "multiclass", "labelColumn": "label", "thresholds": [], "championRule": None},
    )
    started = api.request("POST", f"/api/v1/projects/{PROJECT}/models/{model}/versions/{version}/convert")
    assert started["flavor"] == flavor, started
    deadline = time.monotonic() + PROCESS_READY_S
    while True:
        job = api.request("GET", f"/api/v1/jobs/{started['jobId']}")
        state = job.get("state") or job.get("job", {}).get("state")
        if state in ("succeeded", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, f"conversion job still {state}\n{server.logs()}"
        time.sleep(1)
    assert state == "succeeded", f"{job}\n{server.logs()}"
    result = job.get("result") or job.get("job", {}).get("result")
    converted = int(result["version"])
    assert result["report"]["equivalent"] is True, result
    assert result["report"]["maxAbsDiff"] <= 1e-4
    assert result["report"]["labelAgreement"] == 1.0
    tags = mlflow.MlflowClient().get_model_version(model, str(converted)).tags
    assert tags["hangar.converted_from"] == str(version)
    return converted


def _serves_like(api: Hangar, server: LiveServer, triton, model: str, version: int, clf: Any, X: np.ndarray) -> None:
    """The converted version, deployed, answers tritonclient as the original model does."""
    d = deploy(api, server, model, [(version, 100)])
    try:
        meta = triton.get_model_metadata(d["name"], headers=auth(server))
        assert meta["platform"] == "onnxruntime_onnx", meta
        inp = meta["inputs"][0]
        res = triton.infer(d["name"], [infer_input(inp["name"], X.astype(np.float32), "FP32")], headers=auth(server))
        outputs = {o["name"]: res.as_numpy(o["name"]) for o in res.get_response()["outputs"]}
        labels = next(v for v in outputs.values() if v.dtype.kind in "iu")
        proba = next(v for v in outputs.values() if v.dtype.kind == "f" and v.ndim == 2)
        np.testing.assert_array_equal(labels.reshape(-1), clf.predict(X))
        assert_close(proba, clf.predict_proba(X), "converted probabilities")
    finally:
        undeploy(api, d["name"])


def test_sklearn_pipeline_converted_to_onnx_and_served(server: LiveServer, triton, iris) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = iris
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, C=0.7)).fit(X_train, y_train)
    model = unique("iris-convert")
    api = Hangar.bearer(server.url, server.token)
    signature = infer_signature(pd.DataFrame(X_train, columns=COLUMNS), clf.predict(X_train))
    with as_admin(server):
        dataset_id = _heldout_dataset(api, X_test, y_test)
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(clf, name="model", registered_model_name=model, signature=signature)
        version = int(info.registered_model_version)
        converted = _convert(api, server, model, version, "sklearn", dataset_id)
    _serves_like(api, server, triton, model, converted, clf, X_test)

    # A version that is ONNX already is refused, naming why.
    with pytest.raises(Exception, match="ONNX model already"):
        api.request("POST", f"/api/v1/projects/{PROJECT}/models/{model}/versions/{converted}/convert")


@pytest.mark.parametrize("flavor", ["xgboost", "lightgbm"])
def test_boosted_trees_converted_to_onnx_and_served(server: LiveServer, triton, iris, flavor: str) -> None:
    # Logged with their own MLflow flavors; the conversion job converts them with onnxmltools in a
    # venv built from the version's requirements, checks them on the held-out set, and they serve.
    X_train, X_test, y_train, y_test = iris
    X32 = X_train.astype(np.float32)
    model = unique(f"iris-{flavor}")
    api = Hangar.bearer(server.url, server.token)
    with as_admin(server):
        dataset_id = _heldout_dataset(api, X_test, y_test)
        with mlflow.start_run():
            if flavor == "xgboost":
                import xgboost

                clf = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X32, y_train)
                info = mlflow.xgboost.log_model(clf, name="model", registered_model_name=model)
            else:
                import lightgbm

                clf = lightgbm.LGBMClassifier(n_estimators=20, num_leaves=7, random_state=0, verbose=-1).fit(X32, y_train)
                info = mlflow.lightgbm.log_model(clf, name="model", registered_model_name=model)
        version = int(info.registered_model_version)
        converted = _convert(api, server, model, version, flavor, dataset_id)
    _serves_like(api, server, triton, model, converted, clf, X_test)