"""The model registry through the unmodified MLflow client: registering from runs and logged
models, aliases, stages, search, loading registered models with pyfunc, and the roles around them.

Registry calls act in one project, as experiments created through MLflow do: the project of a
project-scoped token, otherwise the default project.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from typing import Iterator, NamedTuple

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from conftest import Credentials, Hangar, LiveServer, unique


def _error_code(call) -> str:
    try:
        call()
    except MlflowException as e:
        return e.error_code
    return "no error"


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.fixture(autouse=True)
def _quiet_stage_deprecation() -> Iterator[None]:
    # Stages are deprecated in MLflow 3 but still part of its API, which this suite exercises.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def _train_and_log(iris, *, C: float = 1.0, registered_model_name: str | None = None):
    X_train, X_test, y_train, _ = iris
    model = LogisticRegression(C=C, max_iter=500).fit(X_train, y_train)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=X_train.head(3), registered_model_name=registered_model_name
        )
    return run.info.run_id, info, model.predict(X_test)


def _files_checksum(client: MlflowClient, name: str, version: str) -> str:
    """The registry's checksum, recomputed from the files the client downloads."""
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(artifact_uri=client.get_model_version_download_uri(name, version), dst_path=tmp)
        lines = []
        for root, _, files in os.walk(local):
            for f in files:
                path = os.path.join(root, f)
                rel = os.path.relpath(path, local).replace(os.sep, "/")
                with open(path, "rb") as fh:
                    lines.append((rel.encode(), f"{hashlib.sha256(fh.read()).hexdigest()}  {rel}\n"))
        lines.sort()
        return "sha256:" + hashlib.sha256("".join(line for _, line in lines).encode()).hexdigest()


def test_register_from_run_and_logged_model_then_load_by_version_and_alias(
    iris, server: LiveServer, admin_api: Hangar
) -> None:
    _, X_test, _, _ = iris
    mlflow.set_experiment(unique("reg"))
    name = unique("iris-clf")
    run_id, info, expected = _train_and_log(iris)

    v1 = mlflow.register_model(f"runs:/{run_id}/model", name)
    assert v1.version == "1" and v1.status == "READY" and v1.run_id == run_id
    v2 = mlflow.register_model(info.model_uri, name)
    assert v2.version == "2" and v2.run_id == run_id
    client = MlflowClient()
    # MLflow's client drops the model_id the server returns for a version; the native API shows it.
    assert admin_api.request("GET", f"/api/v1/projects/default/models/{name}/versions/2")["loggedModelId"] == info.model_id
    # The client records the registration on the logged model.
    assert name in client.get_logged_model(info.model_id).tags["mlflow.modelVersions"]

    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert client.get_registered_model(name).aliases == {"champion": "2"}

    for uri in (f"models:/{name}/1", f"models:/{name}@champion", f"models:/{name}/latest"):
        loaded = mlflow.pyfunc.load_model(uri)
        assert (np.asarray(loaded.predict(X_test)) == expected).all(), uri

    # What the registry recorded about the files, through the native API.
    native = admin_api.request("GET", f"/api/v1/projects/default/models/{name}/versions/2")
    assert native["framework"] == "sklearn"
    assert native["format"] in ("skops", "cloudpickle", "pickle")
    assert native["fileCount"] >= 3 and native["sizeBytes"] > 0
    assert native["signature"]["inputs"][0] == {"type": "double", "name": "sepal length (cm)", "required": True}
    assert native["checksum"] == _files_checksum(client, name, "2")


def test_log_model_with_registered_model_name(iris) -> None:
    _, X_test, _, _ = iris
    mlflow.set_experiment(unique("reg-log"))
    name = unique("logged-and-registered")
    _, info, expected = _train_and_log(iris, registered_model_name=name)
    assert str(info.registered_model_version) == "1"
    _, info2, _ = _train_and_log(iris, C=0.5, registered_model_name=name)
    assert str(info2.registered_model_version) == "2"
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert (np.asarray(loaded.predict(X_test)) == expected).all()


def test_stages_and_latest_versions(iris) -> None:
    mlflow.set_experiment(unique("reg-stages"))
    name = unique("staged")
    run_id, _, _ = _train_and_log(iris)
    client = MlflowClient()
    for _ in range(3):
        mlflow.register_model(f"runs:/{run_id}/model", name)
    client.transition_model_version_stage(name, "1", "Production")
    client.transition_model_version_stage(name, "2", "staging")
    assert {v.version: v.current_stage for v in client.get_latest_versions(name)} == {
        "1": "Production",
        "2": "Staging",
        "3": "None",
    }
    moved = client.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert [v.version for v in client.get_latest_versions(name, stages=["Production"])] == ["3"]
    assert mlflow.pyfunc.load_model(f"models:/{name}/Production").metadata.run_id == run_id
    with pytest.raises(MlflowException) as err:
        client.transition_model_version_stage(name, "1", "Shipped")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_registered_models_and_versions(iris) -> None:
    mlflow.set_experiment(unique("reg-search"))
    prefix = unique("srch")
    run_a, _, _ = _train_and_log(iris)
    run_b, _, _ = _train_and_log(iris, C=0.3)
    client = MlflowClient()
    client.create_registered_model(f"{prefix}-alpha", tags={"team": "red"}, description="first")
    client.create_registered_model(f"{prefix}-beta", tags={"team": "blue"})
    for name, run in ((f"{prefix}-alpha", run_a), (f"{prefix}-alpha", run_b), (f"{prefix}-beta", run_b)):
        client.create_model_version(name, f"runs:/{run}/model", run_id=run)

    names = lambda f, **kw: [m.name for m in client.search_registered_models(filter_string=f, **kw)]  # noqa: E731
    assert names(f"name LIKE '{prefix}-%'") == [f"{prefix}-alpha", f"{prefix}-beta"]
    assert names(f"name ILIKE '{prefix.upper()}-B%'") == [f"{prefix}-beta"]
    assert names(f"name LIKE '{prefix}-%' AND tags.team = 'red'") == [f"{prefix}-alpha"]
    assert names(f"name LIKE '{prefix}-%'", order_by=["name DESC"]) == [f"{prefix}-beta", f"{prefix}-alpha"]
    found = client.search_registered_models(filter_string=f"name = '{prefix}-alpha'")[0]
    assert found.description == "first" and found.tags == {"team": "red"}
    assert [v.version for v in found.latest_versions] == ["2"]
    page = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", max_results=1)
    assert len(page) == 1 and page.token
    rest = client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", max_results=1, page_token=page.token)
    assert [m.name for m in rest] == [f"{prefix}-beta"]

    versions = lambda f, **kw: sorted((v.name, v.version) for v in client.search_model_versions(f, **kw))  # noqa: E731
    assert versions(f"name = '{prefix}-alpha'") == [(f"{prefix}-alpha", "1"), (f"{prefix}-alpha", "2")]
    assert versions(f"run_id = '{run_b}'") == [(f"{prefix}-alpha", "2"), (f"{prefix}-beta", "1")]
    assert versions(f"name LIKE '{prefix}-%' AND version_number > 1") == [(f"{prefix}-alpha", "2")]
    assert versions(f"run_id IN ('{run_a}', '{run_b}') AND name = '{prefix}-beta'") == [(f"{prefix}-beta", "1")]
    ordered = client.search_model_versions(f"name = '{prefix}-alpha'", order_by=["version_number ASC"])
    assert [v.version for v in ordered] == ["1", "2"]
    for bad in ("name = 'a' OR name = 'b'", "metrics.acc > 1", "version_number = 1.5"):
        assert _error_code(lambda: client.search_model_versions(bad)) == "INVALID_PARAMETER_VALUE", bad


def test_rename_update_tags_delete_and_errors(iris) -> None:
    mlflow.set_experiment(unique("reg-edit"))
    run_id, _, _ = _train_and_log(iris)
    client = MlflowClient()
    name = unique("édition modèle")
    client.create_registered_model(name, description="before")
    mv = client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id, tags={"stage": "candidate"})
    assert mv.tags == {"stage": "candidate"}
    client.update_registered_model(name, description="after")
    client.update_model_version(name, mv.version, description="the first one")
    client.set_registered_model_tag(name, "owner", "risk")
    client.set_model_version_tag(name, mv.version, "validated", "yes")
    client.delete_model_version_tag(name, mv.version, "stage")

    new_name = unique("renamed")
    client.rename_registered_model(name, new_name)
    model = client.get_registered_model(new_name)
    assert model.description == "after" and model.tags == {"owner": "risk"}
    version = client.get_model_version(new_name, mv.version)
    assert version.description == "the first one" and version.tags == {"validated": "yes"}
    assert _error_code(lambda: client.get_registered_model(name)) == "RESOURCE_DOES_NOT_EXIST"

    # Errors the client sees as MLflow's own.
    assert _error_code(lambda: client.create_registered_model(new_name)) == "RESOURCE_ALREADY_EXISTS"
    assert _error_code(lambda: client.get_model_version(new_name, "99")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.create_registered_model("bad/name")) == "INVALID_PARAMETER_VALUE"
    assert _error_code(lambda: client.set_registered_model_alias(new_name, "latest", "1")) == "INVALID_PARAMETER_VALUE"
    assert _error_code(lambda: client.create_model_version(new_name, "s3://bucket/model")) == "INVALID_PARAMETER_VALUE"
    assert _error_code(lambda: client.create_model_version(new_name, "file:///etc")) == "INVALID_PARAMETER_VALUE"
    assert _error_code(lambda: mlflow.register_model("runs:/0123456789abcdef0123456789abcdef/model", new_name)) != "no error"

    client.delete_model_version(new_name, mv.version)
    assert _error_code(lambda: client.get_model_version(new_name, mv.version)) == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model(new_name)
    assert _error_code(lambda: client.get_registered_model(new_name)) == "RESOURCE_DOES_NOT_EXIST"


class Team(NamedTuple):
    project: str
    owner_token: str
    viewer_token: str
    developer_token: str
    maintainer_token: str


@pytest.fixture()
def team(server: LiveServer, admin_api: Hangar) -> Team:
    """A project of its own team with a viewer, a developer and a maintainer (scoped tokens)."""
    project = unique("regproj")
    admin_api.create_team(project)
    admin_api.create_project(project, team=project)
    tokens = {}
    for role in ("viewer", "developer", "maintainer"):
        user = unique(role)
        password = "pw-" + unique("secret")
        admin_api.create_user(user, password)
        admin_api.grant(project, user, role)
        tokens[role] = Hangar.basic(server.url, user, password).create_token(unique("tok"), project=project)
    return Team(
        project=project,
        owner_token=admin_api.create_token(unique("owner"), project=project),
        viewer_token=tokens["viewer"],
        developer_token=tokens["developer"],
        maintainer_token=tokens["maintainer"],
    )


def test_roles_viewer_reads_developer_registers_maintainer_deletes(
    iris, team: Team, admin_api: Hangar, mlflow_env: Credentials
) -> None:
    _, X_test, _, _ = iris
    mlflow_env.token(team.developer_token)
    mlflow.set_experiment(unique("team-exp"))
    name = unique("team-model")
    run_id, _, expected = _train_and_log(iris)
    assert mlflow.register_model(f"runs:/{run_id}/model", name).version == "1"
    # The model lives in the token's project.
    assert admin_api.request("GET", f"/api/v1/projects/{team.project}/models/{name}")["ownerTeam"] == team.project

    mlflow_env.token(team.viewer_token)
    client = MlflowClient()
    assert client.get_registered_model(name).name == name
    assert [m.name for m in client.search_registered_models(filter_string=f"name = '{name}'")] == [name]
    assert (np.asarray(mlflow.pyfunc.load_model(f"models:/{name}/1").predict(X_test)) == expected).all()
    refused = {
        "register_model": lambda: mlflow.register_model(f"runs:/{run_id}/model", name),
        "create_registered_model": lambda: client.create_registered_model(unique("nope")),
        "set_alias": lambda: client.set_registered_model_alias(name, "champion", "1"),
        "transition": lambda: client.transition_model_version_stage(name, "1", "Staging"),
        "set_tag": lambda: client.set_registered_model_tag(name, "k", "v"),
        "rename": lambda: client.rename_registered_model(name, unique("x")),
        "delete_version": lambda: client.delete_model_version(name, "1"),
    }
    assert {k: _error_code(c) for k, c in refused.items()} == {k: "PERMISSION_DENIED" for k in refused}

    # Developers register, alias and move stages, but do not delete.
    mlflow_env.token(team.developer_token)
    client = MlflowClient()
    client.set_registered_model_alias(name, "champion", "1")
    assert _error_code(lambda: client.delete_registered_model(name)) == "PERMISSION_DENIED"
    mlflow_env.token(team.maintainer_token)
    MlflowClient().delete_registered_model(name)
    assert _error_code(lambda: MlflowClient().get_registered_model(name)) == "RESOURCE_DOES_NOT_EXIST"


def test_source_in_another_project_is_refused(iris, team: Team, mlflow_env: Credentials) -> None:
    # A run in the default project cannot become a version of a model in the team's project.
    mlflow.set_experiment(unique("default-exp"))
    run_id, _, _ = _train_and_log(iris)
    mlflow_env.token(team.owner_token)
    name = unique("scoped-model")
    MlflowClient().create_registered_model(name)
    with pytest.raises(MlflowException) as err:
        MlflowClient().create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    assert err.value.error_code in ("PERMISSION_DENIED", "INVALID_PARAMETER_VALUE")
