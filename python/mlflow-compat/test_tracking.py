"""Experiment tracking through the unmodified MLflow client (fluent API and MlflowClient)."""

from __future__ import annotations

import math
import random
import time

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException

from conftest import unique


def _error_code(call) -> str:
    with pytest.raises(MlflowException) as info:
        call()
    return info.value.error_code


# ---------------------------------------------------------------- experiments


def test_set_experiment_creates_then_reuses() -> None:
    name = unique("exp")
    client = MlflowClient()
    assert client.get_experiment_by_name(name) is None

    created = mlflow.set_experiment(name)
    assert created.name == name
    assert created.lifecycle_stage == "active"
    assert created.experiment_id not in ("", "0")
    assert created.artifact_location  # where the artifact proxy will put this experiment's files

    again = mlflow.set_experiment(name)
    assert again.experiment_id == created.experiment_id
    assert client.get_experiment_by_name(name).experiment_id == created.experiment_id
    assert client.get_experiment(created.experiment_id).name == name
    # Runs started now land in it.
    with mlflow.start_run() as run:
        assert run.info.experiment_id == created.experiment_id


def test_default_experiment_exists() -> None:
    default = MlflowClient().get_experiment("0")
    assert default.name == "Default" and default.lifecycle_stage == "active"


def test_rename_experiment_and_tags() -> None:
    client = MlflowClient()
    old, new = unique("old"), unique("new")
    exp_id = client.create_experiment(old, tags={"team": "vision"})
    client.rename_experiment(exp_id, new)
    assert client.get_experiment(exp_id).name == new
    assert client.get_experiment_by_name(old) is None
    assert client.get_experiment_by_name(new).experiment_id == exp_id

    client.set_experiment_tag(exp_id, "owner", "ana")
    mlflow.set_experiment(experiment_id=exp_id)
    mlflow.set_experiment_tags({"stage": "dev", "team": "nlp"})
    assert client.get_experiment(exp_id).tags == {"team": "nlp", "owner": "ana", "stage": "dev"}
    client.delete_experiment_tag(exp_id, "stage")
    assert client.get_experiment(exp_id).tags == {"team": "nlp", "owner": "ana"}
    assert _error_code(lambda: client.delete_experiment_tag(exp_id, "stage")) == "RESOURCE_DOES_NOT_EXIST"

    other = client.create_experiment(unique("other"))
    assert _error_code(lambda: client.rename_experiment(other, new)) == "RESOURCE_ALREADY_EXISTS"
    assert client.get_experiment(other).name != new


def test_delete_and_restore_experiment() -> None:
    client = MlflowClient()
    name = unique("doomed")
    exp_id = client.create_experiment(name)
    run = client.create_run(exp_id)

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    # No new runs in a deleted experiment; the client refuses to make it the active one.
    assert _error_code(lambda: client.create_run(exp_id)) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="deleted"):
        mlflow.set_experiment(name)
    # Its runs stay readable.
    assert client.get_run(run.info.run_id).info.experiment_id == exp_id

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert mlflow.set_experiment(name).experiment_id == exp_id
    assert client.create_run(exp_id).info.experiment_id == exp_id


def test_default_experiment_cannot_be_deleted() -> None:
    assert _error_code(lambda: MlflowClient().delete_experiment("0")) == "INVALID_PARAMETER_VALUE"
    assert MlflowClient().get_experiment("0").lifecycle_stage == "active"


# ---------------------------------------------------------------- runs


def test_start_run_and_nested_runs() -> None:
    exp = mlflow.set_experiment(unique("nested"))
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            assert mlflow.active_run().info.run_id == child.info.run_id
            with mlflow.start_run(nested=True) as grandchild:
                pass
        assert mlflow.active_run().info.run_id == parent.info.run_id

    client = MlflowClient()
    p = client.get_run(parent.info.run_id)
    c = client.get_run(child.info.run_id)
    g = client.get_run(grandchild.info.run_id)
    assert p.info.run_name == "parent" and c.info.run_name == "child"
    assert g.info.run_name  # the server names unnamed runs
    assert "mlflow.parentRunId" not in p.data.tags
    assert c.data.tags["mlflow.parentRunId"] == p.info.run_id
    assert g.data.tags["mlflow.parentRunId"] == c.info.run_id
    for r in (p, c, g):
        assert r.info.experiment_id == exp.experiment_id
        assert r.info.status == "FINISHED"
        assert r.info.end_time >= r.info.start_time > 0
        assert r.data.tags["mlflow.runName"] == r.info.run_name


def test_end_run_statuses() -> None:
    mlflow.set_experiment(unique("status"))
    client = MlflowClient()
    for status in ("FINISHED", "FAILED", "KILLED"):
        run = mlflow.start_run()
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
        assert client.get_run(run.info.run_id).info.end_time is None
        mlflow.end_run(status=status)
        info = client.get_run(run.info.run_id).info
        assert info.status == status
        assert info.end_time is not None and info.end_time >= info.start_time

    # An exception inside the block marks the run FAILED.
    with pytest.raises(RuntimeError):
        with mlflow.start_run() as failed:
            raise RuntimeError("boom")
    assert client.get_run(failed.info.run_id).info.status == "FAILED"

    run = client.create_run(failed.info.experiment_id)
    client.set_terminated(run.info.run_id, status=RunStatus.to_string(RunStatus.KILLED), end_time=1_700_000_000_123)
    info = client.get_run(run.info.run_id).info
    assert (info.status, info.end_time) == ("KILLED", 1_700_000_000_123)


def test_get_run_round_trip() -> None:
    exp_id = mlflow.set_experiment(unique("roundtrip")).experiment_id
    client = MlflowClient()
    start = int(time.time() * 1000) - 5000
    created = client.create_run(exp_id, start_time=start, tags={"origin": "test"}, run_name="round-trip")
    run_id = created.info.run_id
    assert created.info.status == "RUNNING"
    assert created.info.run_name == "round-trip"
    assert created.info.start_time == start

    client.log_batch(
        run_id,
        metrics=[Metric("loss", 0.25, 1_700_000_000_000, 3), Metric("acc", 0.75, 1_700_000_000_001, 0)],
        params=[Param("lr", "0.01"), Param("optimizer", "adam")],
        tags=[RunTag("stage", "train")],
    )
    run = client.get_run(run_id)
    assert run.info.run_id == run_id
    assert run.info.experiment_id == exp_id
    assert run.info.run_name == "round-trip"
    assert run.info.start_time == start
    assert run.info.lifecycle_stage == "active"
    assert run.info.user_id == "admin"  # the authenticated user, whatever the client claims
    assert run.info.artifact_uri.endswith(f"{run_id}/artifacts")
    assert run.data.params == {"lr": "0.01", "optimizer": "adam"}
    assert run.data.metrics == {"loss": 0.25, "acc": 0.75}
    assert {k: run.data.tags[k] for k in ("origin", "stage", "mlflow.runName")} == {
        "origin": "test",
        "stage": "train",
        "mlflow.runName": "round-trip",
    }
    # The fluent getter returns the same run.
    same = mlflow.get_run(run_id)
    assert same.info.run_id == run_id and same.data.params == run.data.params

    client.update_run(run_id, name="renamed")
    renamed = client.get_run(run_id)
    assert renamed.info.run_name == "renamed"
    assert renamed.data.tags["mlflow.runName"] == "renamed"
    assert renamed.info.status == "RUNNING"


def test_delete_and_restore_run() -> None:
    mlflow.set_experiment(unique("runlife"))
    client = MlflowClient()
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
    run_id = run.info.run_id

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    # A deleted run takes no more data.
    assert _error_code(lambda: client.log_metric(run_id, "m", 2.0)) == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.metrics == {"m": 1.0}

    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    client.log_metric(run_id, "m", 2.0, step=1)
    assert client.get_run(run_id).data.metrics == {"m": 2.0}


# ---------------------------------------------------------------- params, metrics, tags


def test_log_param_and_params() -> None:
    mlflow.set_experiment(unique("params"))
    with mlflow.start_run() as run:
        assert mlflow.log_param("alpha", 0.5) == 0.5
        mlflow.log_params({"depth": 7, "kernel": "rbf", "none": None, "path": "a/b.c-d e:f"})
        mlflow.log_param("alpha", 0.5)  # the same value again is fine
        mlflow.log_params({"depth": 7})
    params = MlflowClient().get_run(run.info.run_id).data.params
    assert params == {"alpha": "0.5", "depth": "7", "kernel": "rbf", "none": "None", "path": "a/b.c-d e:f"}


def test_changing_a_param_is_refused() -> None:
    mlflow.set_experiment(unique("immutable"))
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        with pytest.raises(MlflowException) as info:
            mlflow.log_param("lr", 0.2)
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "Changing param values is not allowed" in info.value.message
        # In a batch too, and the batch writes nothing.
        with pytest.raises(MlflowException) as info:
            mlflow.log_params({"fresh": "1", "lr": "0.3"})
        assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert MlflowClient().get_run(run.info.run_id).data.params == {"lr": "0.1"}


def test_log_metric_and_metrics_with_steps() -> None:
    mlflow.set_experiment(unique("metrics"))
    with mlflow.start_run() as run:
        for step, loss in enumerate([0.9, 0.5, 0.3, 0.2, 0.15]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metrics({"acc": 0.8, "f1": 0.7}, step=3)
        mlflow.log_metric("at", 42.0, step=2, timestamp=1_700_000_000_777)
        mlflow.log_metric("weird", float("nan"), step=0)
        mlflow.log_metric("weird", float("inf"), step=1)
        mlflow.log_metric("weird", float("-inf"), step=2)
        mlflow.log_metric("big", 1e308, step=0)
        mlflow.log_metric("neg", -12.5)

    client = MlflowClient()
    run_id = run.info.run_id
    metrics = client.get_run(run_id).data.metrics
    assert metrics["loss"] == 0.15  # the value at the highest step
    assert (metrics["acc"], metrics["f1"]) == (0.8, 0.7)
    assert metrics["weird"] == float("-inf")
    assert (metrics["big"], metrics["neg"]) == (1e308, -12.5)

    loss = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in loss] == [(0, 0.9), (1, 0.5), (2, 0.3), (3, 0.2), (4, 0.15)]
    assert all(m.key == "loss" and m.timestamp > 0 for m in loss)
    assert [(m.step, m.timestamp) for m in client.get_metric_history(run_id, "at")] == [(2, 1_700_000_000_777)]

    weird = client.get_metric_history(run_id, "weird")
    assert [m.step for m in weird] == [0, 1, 2]
    assert math.isnan(weird[0].value)
    assert (weird[1].value, weird[2].value) == (float("inf"), float("-inf"))
    assert client.get_metric_history(run_id, "never-logged") == []


def test_ten_thousand_step_history_in_order() -> None:
    exp_id = mlflow.set_experiment(unique("long")).experiment_id
    client = MlflowClient()
    run_id = client.create_run(exp_id).info.run_id
    n, chunk = 10_000, 1000

    def value(step: int) -> float:
        return round(math.sin(step / 100.0) * 10 + step / 1000.0, 9)

    base = 1_700_000_000_000
    chunks = [list(range(i, i + chunk)) for i in range(0, n, chunk)]
    # Sent out of order, so order must come from the steps, not the order of arrival.
    random.Random(7).shuffle(chunks)
    for steps in chunks:
        client.log_batch(run_id, metrics=[Metric("curve", value(s), base + s, s) for s in steps])

    history = client.get_metric_history(run_id, "curve")
    assert len(history) == n
    assert [m.step for m in history] == list(range(n))
    assert all(m.value == value(m.step) and m.timestamp == base + m.step for m in history)
    assert client.get_run(run_id).data.metrics == {"curve": value(n - 1)}


def test_set_tag_set_tags_and_delete_tag() -> None:
    mlflow.set_experiment(unique("tags"))
    client = MlflowClient()
    with mlflow.start_run() as run:
        mlflow.set_tag("stage", "train")
        mlflow.set_tags({"team": "vision", "priority": 1, "stage": "eval"})
        mlflow.delete_tag("priority")
    run_id = run.info.run_id
    client.set_tag(run_id, "note", "x" * 5000)
    tags = client.get_run(run_id).data.tags
    assert {k: tags[k] for k in ("stage", "team", "note")} == {"stage": "eval", "team": "vision", "note": "x" * 5000}
    assert "priority" not in tags

    client.delete_tag(run_id, "team")
    assert "team" not in client.get_run(run_id).data.tags
    assert _error_code(lambda: client.delete_tag(run_id, "team")) == "RESOURCE_DOES_NOT_EXIST"


def test_unicode_letters_in_keys_round_trip() -> None:
    # MLflow's name rule is a Python regex whose \w takes letters and digits of every script.
    mlflow.set_experiment(unique("unicode"))
    with mlflow.start_run() as run:
        mlflow.log_metric("précision", 0.9, step=1)
        mlflow.log_param("損失", "交差エントロピー")
        mlflow.set_tag("Ωmega_2", "ß")
    client = MlflowClient()
    data = client.get_run(run.info.run_id).data
    assert data.metrics == {"précision": 0.9}
    assert data.params == {"損失": "交差エントロピー"}
    assert data.tags["Ωmega_2"] == "ß"
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "précision")] == [(1, 0.9)]


def test_asynchronous_logging() -> None:
    mlflow.set_experiment(unique("async"))
    with mlflow.start_run() as run:
        ops = [mlflow.log_metric("loss", 1.0 / (s + 1), step=s, synchronous=False) for s in range(50)]
        ops.append(mlflow.log_params({"a": "1", "b": "2"}, synchronous=False))
        ops.append(mlflow.set_tag("mode", "async", synchronous=False))
        for op in ops:
            op.wait()
    client = MlflowClient()
    data = client.get_run(run.info.run_id).data
    assert data.params == {"a": "1", "b": "2"} and data.tags["mode"] == "async"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, 1.0 / (s + 1)) for s in range(50)]


# ---------------------------------------------------------------- error cases


def test_unknown_run_and_experiment() -> None:
    client = MlflowClient()
    ghost = "0123456789abcdef0123456789abcdef"
    assert _error_code(lambda: client.get_run(ghost)) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: mlflow.get_run("not-a-run-id")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.log_metric(ghost, "m", 1.0)) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.log_param(ghost, "p", "v")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.set_tag(ghost, "t", "v")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.get_metric_history(ghost, "m")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.set_terminated(ghost)) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.get_experiment("987654321")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.create_run("987654321")) == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_experiment_name() -> None:
    client = MlflowClient()
    name = unique("dup")
    client.create_experiment(name)
    with pytest.raises(MlflowException) as info:
        client.create_experiment(name)
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert name in info.value.message


def test_invalid_keys_and_values_are_refused() -> None:
    mlflow.set_experiment(unique("bad"))
    with mlflow.start_run() as run:
        for call in (
            lambda: mlflow.log_metric("bad\U0001f680key", 1.0),
            lambda: mlflow.log_param("zero\u200bwidth", "v"),
            lambda: mlflow.log_param("../escape", "v"),
            lambda: mlflow.log_param("k" * 251, "v"),
            lambda: mlflow.log_param("long", "v" * 6001),
            lambda: mlflow.set_tag("t", "v" * 8001),
        ):
            assert _error_code(call) == "INVALID_PARAMETER_VALUE"
    data = MlflowClient().get_run(run.info.run_id).data
    assert data.params == {} and data.metrics == {}
    assert "t" not in data.tags


def test_search_runs_with_filter_order_by_and_pagination() -> None:
    exp_id = mlflow.set_experiment(unique("search")).experiment_id
    for i in range(7):
        with mlflow.start_run(run_name=f"r{i}"):
            mlflow.log_metric("acc", i / 10)
            mlflow.log_param("lr", str(i))
            mlflow.set_tag("kind", "even" if i % 2 == 0 else "odd")
    df = mlflow.search_runs([exp_id], filter_string="metrics.acc > 0.25", order_by=["metrics.acc DESC"])
    assert list(df["metrics.acc"]) == [0.6, 0.5, 0.4, 0.3]
    client = MlflowClient()
    odd = client.search_runs([exp_id], "tags.kind = 'odd' AND params.lr != '1'", order_by=["params.lr ASC"])
    assert [r.data.params["lr"] for r in odd] == ["3", "5"]
    seen: list[str] = []
    page = client.search_runs([exp_id], max_results=3)
    seen += [r.info.run_id for r in page]
    while page.token:
        page = client.search_runs([exp_id], max_results=3, page_token=page.token)
        seen += [r.info.run_id for r in page]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert _error_code(lambda: client.search_runs([exp_id], "metrics.acc > 1 OR metrics.acc < 0")) == "INVALID_PARAMETER_VALUE"


def test_search_experiments() -> None:
    name = unique("findme")
    mlflow.set_experiment(name)
    found = MlflowClient().search_experiments(filter_string=f"name = '{name}'")
    assert [e.name for e in found] == [name]
