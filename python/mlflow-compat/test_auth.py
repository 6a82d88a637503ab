"""Authentication and roles as the MLflow client meets them: credentials come only from the
client's environment variables; users, projects and roles are set up through Hangar's own API."""

from __future__ import annotations

from typing import Iterator, NamedTuple

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from conftest import Credentials, Hangar, LiveServer, unique


def _error_code(call) -> str:
    """The error code of the MlflowException the call raises, or "no error"."""
    try:
        call()
    except MlflowException as e:
        return e.error_code
    return "no error"


def _who_logs(exp_name: str) -> str:
    """Creates a run through the fluent API and returns the user the server recorded for it."""
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
    return MlflowClient().get_run(run.info.run_id).info.user_id


def test_bearer_token(server: LiveServer, mlflow_env: Credentials) -> None:
    mlflow_env.token(server.token)
    assert _who_logs(unique("bearer")) == "admin"


def test_username_and_password(server: LiveServer, mlflow_env: Credentials) -> None:
    mlflow_env.basic(server.username, server.password)
    assert _who_logs(unique("basic")) == "admin"


def test_username_and_token_in_password_slot(server: LiveServer, mlflow_env: Credentials) -> None:
    mlflow_env.basic(server.username, server.token)
    assert _who_logs(unique("basic-token")) == "admin"


def test_unauthenticated_client_is_refused(server: LiveServer, mlflow_env: Credentials) -> None:
    exp_id = MlflowClient().create_experiment(unique("private"))
    mlflow_env.none()
    client = MlflowClient()
    for call in (
        lambda: client.get_experiment(exp_id),
        lambda: client.get_experiment("0"),
        lambda: client.create_experiment(unique("anon")),
        lambda: mlflow.set_experiment(unique("anon")),
        lambda: client.create_run(exp_id),
    ):
        assert _error_code(call) == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "set_creds",
    [
        lambda c, s: c.token("hgr_not-a-real-token"),
        lambda c, s: c.basic(s.username, "wrong-password"),
        lambda c, s: c.basic("nobody", s.password),
    ],
    ids=["bad-token", "bad-password", "unknown-user"],
)
def test_wrong_credentials_are_refused(server: LiveServer, mlflow_env: Credentials, set_creds) -> None:
    set_creds(mlflow_env, server)
    assert _error_code(lambda: MlflowClient().get_experiment("0")) == "UNAUTHENTICATED"


class Team(NamedTuple):
    project: str
    owner_token: str  # the admin's token, scoped to the project
    viewer_token: str
    viewer: str
    viewer_password: str
    developer_token: str
    outsider_token: str


@pytest.fixture()
def team(server: LiveServer, admin_api: Hangar) -> Iterator[Team]:
    """A fresh project with a viewer and a developer (project-scoped tokens) and an outsider.

    The project belongs to a team of its own: every new user joins the default team, whose
    members develop in its projects, so a default-team project would make everyone a developer.
    """
    project = unique("proj")
    admin_api.create_team(project)
    admin_api.create_project(project, team=project)
    tokens = {}
    passwords = {}
    for role in ("viewer", "developer", "outsider"):
        user = unique(role)
        passwords[role] = "pw-" + unique("secret")
        admin_api.create_user(user, passwords[role])
        if role != "outsider":
            admin_api.grant(project, user, role)
        own = Hangar.basic(server.url, user, passwords[role])
        tokens[role] = (user, own.create_token(unique("tok"), project=None if role == "outsider" else project))
    yield Team(
        project=project,
        owner_token=admin_api.create_token(unique("owner"), project=project),
        viewer_token=tokens["viewer"][1],
        viewer=tokens["viewer"][0],
        viewer_password=passwords["viewer"],
        developer_token=tokens["developer"][1],
        outsider_token=tokens["outsider"][1],
    )


def test_project_scoped_token_puts_experiments_in_its_project(
    team: Team, admin_api: Hangar, server: LiveServer, mlflow_env: Credentials
) -> None:
    name = unique("scoped")
    mlflow_env.token(team.owner_token)
    exp = mlflow.set_experiment(name)
    assert [e["experimentId"] for e in admin_api.experiments(team.project) if e["name"] == name] == [exp.experiment_id]
    assert all(e["name"] != name for e in admin_api.experiments("default"))
    # The same name is free in the default project (names are unique per project).
    mlflow_env.token(server.token)
    assert mlflow.set_experiment(name).experiment_id != exp.experiment_id


def test_viewer_can_read_but_not_log(team: Team, mlflow_env: Credentials) -> None:
    mlflow_env.token(team.owner_token)
    exp = mlflow.set_experiment(unique("shared"))
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.set_tag("t", "v")
    run_id = run.info.run_id

    for scoped, creds in (
        (True, lambda: mlflow_env.token(team.viewer_token)),
        (False, lambda: mlflow_env.basic(team.viewer, team.viewer_password)),
    ):
        creds()
        client = MlflowClient()
        # Reads work.
        got = client.get_run(run_id)
        assert got.data.params == {"p": "1"} and got.data.metrics == {"loss": 1.0 / 3}
        assert [m.step for m in client.get_metric_history(run_id, "loss")] == [0, 1, 2]
        assert client.get_experiment(exp.experiment_id).name == exp.name
        if scoped:
            # Names resolve in the token's project (unscoped credentials: the default project).
            assert client.get_experiment_by_name(exp.name).experiment_id == exp.experiment_id
        # Writes are refused.
        refused = {
            "log_metric": lambda: client.log_metric(run_id, "loss", 0.1, step=3),
            "log_param": lambda: client.log_param(run_id, "q", "2"),
            "set_tag": lambda: client.set_tag(run_id, "t", "changed"),
            "delete_tag": lambda: client.delete_tag(run_id, "t"),
            "log_batch": lambda: client.log_batch(run_id, params=[mlflow.entities.Param("r", "3")]),
            "set_terminated": lambda: client.set_terminated(run_id, "KILLED"),
            "delete_run": lambda: client.delete_run(run_id),
            "create_run": lambda: client.create_run(exp.experiment_id),
            "rename_experiment": lambda: client.rename_experiment(exp.experiment_id, unique("renamed")),
            "delete_experiment": lambda: client.delete_experiment(exp.experiment_id),
        }
        if scoped:
            # Unscoped credentials create in the default project, where every user develops.
            refused["create_experiment"] = lambda: client.create_experiment(unique("viewer-exp"))
        assert {what: _error_code(call) for what, call in refused.items()} == {
            what: "PERMISSION_DENIED" for what in refused
        }

    mlflow_env.token(team.owner_token)
    after = MlflowClient().get_run(run_id)
    assert after.data.params == {"p": "1"} and after.data.tags["t"] == "v"
    assert after.info.status == "FINISHED" and after.info.lifecycle_stage == "active"
    assert len(MlflowClient().get_metric_history(run_id, "loss")) == 3


def test_developer_can_log(team: Team, mlflow_env: Credentials) -> None:
    mlflow_env.token(team.owner_token)
    exp = mlflow.set_experiment(unique("dev"))
    mlflow_env.token(team.developer_token)
    mlflow.set_experiment(experiment_id=exp.experiment_id)
    with mlflow.start_run() as run:
        mlflow.log_param("p", "1")
        mlflow.log_metric("m", 2.0)
    assert MlflowClient().get_run(run.info.run_id).data.metrics == {"m": 2.0}


def test_outsider_sees_nothing(team: Team, mlflow_env: Credentials) -> None:
    mlflow_env.token(team.owner_token)
    exp = mlflow.set_experiment(unique("hidden"))
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
    mlflow_env.token(team.outsider_token)
    client = MlflowClient()
    # Someone without a role in the project cannot even tell the run exists.
    assert _error_code(lambda: client.get_run(run.info.run_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.get_experiment(exp.experiment_id)) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.log_metric(run.info.run_id, "m", 2.0)) == "RESOURCE_DOES_NOT_EXIST"

