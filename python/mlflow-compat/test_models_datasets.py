"""MLflow 3 logged models, scikit-learn autolog and dataset inputs through the unmodified client."""

from __future__ import annotations

import numpy as np
import mlflow
import mlflow.data
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from conftest import unique


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


def test_log_model_and_load_it_back_by_run_and_model_uri(iris) -> None:
    X_train, X_test, y_train, _ = iris
    mlflow.set_experiment(unique("sk"))
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    expected = model.predict(X_test)
    with mlflow.start_run() as run:
        mlflow.log_param("max_iter", 500)
        info = mlflow.sklearn.log_model(model, name="model", input_example=X_train.head(3))

    # The logged model is an entity of its own: READY, linked to the run, with the run's params.
    logged = mlflow.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.source_run_id == run.info.run_id
    assert logged.name == "model"
    assert logged.params.get("max_iter") == "500"
    assert MlflowClient().get_run(run.info.run_id).outputs.model_outputs[0].model_id == info.model_id

    for uri in (f"runs:/{run.info.run_id}/model", f"models:/{info.model_id}", info.model_uri):
        loaded = mlflow.sklearn.load_model(uri)
        assert (loaded.predict(X_test) == expected).all(), uri
        pyfunc = mlflow.pyfunc.load_model(uri)
        assert (np.asarray(pyfunc.predict(X_test)) == expected).all(), uri

    # Its files: MLmodel, the pickle, the environment files the registry will use later.
    files = {f.path for f in MlflowClient().list_logged_model_artifacts(info.model_id)}
    assert {"MLmodel", "requirements.txt", "python_env.yaml"} <= files
    assert files & {"model.pkl", "model.skops"}


def test_search_and_tag_logged_models(iris) -> None:
    X_train, _, y_train, _ = iris
    exp = mlflow.set_experiment(unique("lm"))
    ids = []
    for c in (0.1, 1.0, 10.0):
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(LogisticRegression(C=c, max_iter=300).fit(X_train, y_train), name=f"m{int(c * 10)}")
            ids.append(info.model_id)
    client = MlflowClient()
    client.set_logged_model_tags(ids[0], {"stage": "candidate"})
    found = mlflow.search_logged_models(experiment_ids=[exp.experiment_id], filter_string="tags.stage = 'candidate'", output_format="list")
    assert [m.model_id for m in found] == [ids[0]]
    by_name = mlflow.search_logged_models(experiment_ids=[exp.experiment_id], filter_string="name = 'm100'", output_format="list")
    assert [m.model_id for m in by_name] == [ids[2]]
    everything = mlflow.search_logged_models(
        experiment_ids=[exp.experiment_id],
        order_by=[{"field_name": "creation_timestamp", "ascending": True}],
        output_format="list",
    )
    assert [m.model_id for m in everything] == ids
    page = client.search_logged_models(experiment_ids=[exp.experiment_id], max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_logged_models(experiment_ids=[exp.experiment_id], max_results=2, page_token=page.token)
    assert {m.model_id for m in list(page) + list(rest)} == set(ids)
    client.delete_logged_model_tag(ids[0], "stage")
    assert "stage" not in client.get_logged_model(ids[0]).tags
    client.delete_logged_model(ids[1])
    with pytest.raises(MlflowException) as info:
        client.get_logged_model(ids[1])
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as info:
        mlflow.search_logged_models(experiment_ids=[exp.experiment_id], filter_string="bogus.x = 1")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_sklearn_autolog_on_a_real_fit(iris) -> None:
    X_train, X_test, y_train, y_test = iris
    mlflow.set_experiment(unique("auto"))
    mlflow.sklearn.autolog(log_input_examples=True, silent=True)
    try:
        with mlflow.start_run() as run:
            model = LogisticRegression(C=0.5, max_iter=400).fit(X_train, y_train)
            model.score(X_test, y_test)
    finally:
        mlflow.sklearn.autolog(disable=True)
    data = MlflowClient().get_run(run.info.run_id).data
    assert data.params["C"] == "0.5" and data.params["max_iter"] == "400"
    assert 0.8 < data.metrics["training_accuracy_score"] <= 1.0
    assert data.tags["estimator_name"] == "LogisticRegression"
    outputs = MlflowClient().get_run(run.info.run_id).outputs.model_outputs
    assert len(outputs) == 1
    loaded = mlflow.sklearn.load_model(f"models:/{outputs[0].model_id}")
    assert (loaded.predict(X_test) == model.predict(X_test)).all()


def test_log_input_of_a_pandas_dataset_lands_as_a_dataset_version(iris) -> None:
    X_train, X_test, y_train, _ = iris
    exp = mlflow.set_experiment(unique("data"))
    frame = X_train.assign(target=y_train)
    dataset = mlflow.data.from_pandas(frame, source="s3://bucket/iris.csv", name="iris-train", targets="target")
    holdout = mlflow.data.from_pandas(X_test, name="iris-holdout")
    with mlflow.start_run() as first:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(holdout, context="validation")
    with mlflow.start_run() as second:
        mlflow.log_input(dataset, context="training")

    run = MlflowClient().get_run(first.info.run_id)
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(inputs) == {"iris-train", "iris-holdout"}
    train = inputs["iris-train"]
    assert train.dataset.digest == dataset.digest
    assert {t.key: t.value for t in train.tags}["mlflow.data.context"] == "training"
    assert '"num_rows": 105' in train.dataset.profile
    # The same content is one version: both runs reference the same digest, and search finds both.
    found = mlflow.search_runs(
        experiment_ids=[exp.experiment_id],
        filter_string=f"datasets.digest = '{dataset.digest}' AND datasets.context = 'training'",
        output_format="list",
    )
    assert {r.info.run_id for r in found} == {first.info.run_id, second.info.run_id}
    only_validation = mlflow.search_runs(
        experiment_ids=[exp.experiment_id], filter_string="datasets.context = 'validation'", output_format="list"
    )
    assert [r.info.run_id for r in only_validation] == [first.info.run_id]
    source = mlflow.data.get_source(train)
    assert source.uri == "s3://bucket/iris.csv"
    assert isinstance(frame, pd.DataFrame)


def test_a_run_without_a_model_records_its_own_environment(tmp_path, admin_api) -> None:
    # The recipe of docs/tracking.md: the environment files under the run's environment/ folder.
    import platform
    import subprocess
    import sys

    mlflow.set_experiment(unique("env"))
    env_file = tmp_path / "python_env.yaml"
    env_file.write_text(f"python: {platform.python_version()}\n")
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    req_file = tmp_path / "requirements.txt"
    req_file.write_text(frozen)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(env_file), "environment")
        mlflow.log_artifact(str(req_file), "environment")
        mlflow.log_param("lr", 0.1)
    record = admin_api.request("GET", f"/api/v1/runs/{run.info.run_id}/reproducibility")
    env = record["environment"]
    assert env["source"] == "run" and env["fromModelId"] is None, env
    assert env["python"] == platform.python_version()
    expected = [line.strip() for line in frozen.splitlines() if line.strip() and not line.startswith("#")]
    assert env["requirements"] == expected
    assert any(r.startswith("mlflow==") for r in env["requirements"])
