"""Artifacts through the unmodified MLflow client: the mlflow-artifacts proxy of a live Hangar."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from conftest import Hangar, LiveServer, unique  # noqa: E402


def _files(client: MlflowClient, run_id: str, path: str | None = None) -> dict[str, int | None]:
    return {f.path: (None if f.is_dir else f.file_size) for f in client.list_artifacts(run_id, path)}


def test_log_artifact_file_folder_dict_text_figure(tmp_path: Path) -> None:
    mlflow.set_experiment(unique("art"))
    single = tmp_path / "notes.txt"
    single.write_text("héllo artifacts\n", encoding="utf-8")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "sub" / "b.json").write_text('{"k": 1}')
    (folder / "sub" / "empty.bin").write_bytes(b"")

    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="copies")
        mlflow.log_artifacts(str(folder), artifact_path="data")
        mlflow.log_dict({"alpha": 0.5, "layers": [1, 2]}, "config/params.json")
        mlflow.log_dict({"alpha": 0.5}, "config/params.yaml")
        mlflow.log_text("some text ✓", "text/readme.md")
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [2, 1, 3])
        mlflow.log_figure(fig, "plots/curve.png")
        plt.close(fig)

    client = MlflowClient()
    root = _files(client, run.info.run_id)
    assert set(root) == {"notes.txt", "copies", "data", "config", "text", "plots"}
    assert root["notes.txt"] == len("héllo artifacts\n".encode())
    assert root["data"] is None  # a folder
    assert _files(client, run.info.run_id, "data") == {"data/a.csv": 8, "data/sub": None}
    assert _files(client, run.info.run_id, "data/sub") == {"data/sub/b.json": 8, "data/sub/empty.bin": 0}
    # A file listed as a folder lists as empty, like MLflow's server.
    assert client.list_artifacts(run.info.run_id, "notes.txt") == []

    # Everything comes back byte for byte.
    out = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "down")))
    assert (out / "notes.txt").read_text(encoding="utf-8") == "héllo artifacts\n"
    assert (out / "data" / "sub" / "b.json").read_text() == '{"k": 1}'
    assert (out / "data" / "sub" / "empty.bin").read_bytes() == b""
    assert json.loads((out / "config" / "params.json").read_text()) == {"alpha": 0.5, "layers": [1, 2]}
    assert (out / "text" / "readme.md").read_text(encoding="utf-8") == "some text ✓"
    assert (out / "plots" / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/config/params.json")["layers"] == [1, 2]
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/text/readme.md") == "some text ✓"


def test_large_artifact_streams_and_ranges(tmp_path: Path, server: LiveServer) -> None:
    mlflow.set_experiment(unique("big"))
    big = tmp_path / "big.bin"
    chunk = os.urandom(1 << 20)
    with big.open("wb") as f:
        for _ in range(24):  # 24 MiB: more than the JSON body limit, so it must stream
            f.write(chunk)
    digest = hashlib.sha256(big.read_bytes()).hexdigest()
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), "blobs")
    got = Path(MlflowClient().download_artifacts(run.info.run_id, "blobs/big.bin", str(tmp_path / "d")))
    assert hashlib.sha256(got.read_bytes()).hexdigest() == digest

    # HTTP ranges on the proxy.
    exp = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{exp}/blobs/big.bin"
    r = requests.get(url, headers={"Range": "bytes=10-19"}, auth=(server.username, server.password))
    assert r.status_code == 206 and r.content == chunk[10:20]
    assert r.headers["content-range"] == f"bytes 10-19/{24 << 20}"
    r = requests.get(url, headers={"Range": f"bytes={25 << 20}-"}, auth=(server.username, server.password))
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{24 << 20}"


def test_proxy_multipart_upload_falls_back_to_one_put(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer
) -> None:
    # A client set up for multipart uploads through the proxy (as for MLflow's S3-backed servers):
    # Hangar says it has none, in the words the client looks for, and the client PUTs the file whole.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1024")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", "4096")
    mlflow.set_experiment(unique("mpu"))
    data = os.urandom(64 * 1024)
    big = tmp_path / "weights.bin"
    big.write_bytes(data)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), "model")
    got = Path(MlflowClient().download_artifacts(run.info.run_id, "model/weights.bin", str(tmp_path / "d")))
    assert got.read_bytes() == data

    exp = run.info.artifact_uri.removeprefix("mlflow-artifacts:/")
    r = requests.post(
        f"{server.url}/api/2.0/mlflow-artifacts/mpu/create/{exp}/model/x.bin",
        json={"path": "x.bin", "num_parts": 2},
        auth=(server.username, server.password),
    )
    assert r.status_code == 501
    assert r.json()["error_code"] == "NOT_IMPLEMENTED"


@pytest.mark.parametrize(
    "bad",
    [
        "../escape.txt",
        "a/../../escape.txt",
        "/etc/passwd",
        "%2e%2e/escape.txt",
        "a/%2e%2e/%2e%2e/escape.txt",
        "..\\escape.txt",
        "\uff0e\uff0e/escape.txt",
        "a/\u2024\u2024/escape.txt",
        "a/%00/b",
    ],
)
def test_path_traversal_is_refused_in_every_form(bad: str, server: LiveServer) -> None:
    mlflow.set_experiment(unique("trav"))
    with mlflow.start_run() as run:
        pass
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{run.info.artifact_uri.removeprefix('mlflow-artifacts:/')}"
    auth = (server.username, server.password)
    for method in ("PUT", "GET", "DELETE"):
        r = requests.request(method, f"{base}/{bad}", data=b"x" if method == "PUT" else None, auth=auth)
        assert 400 <= r.status_code < 500, (method, bad, r.status_code, r.text)
        assert r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "ENDPOINT_NOT_FOUND")
    r = requests.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": f"1/{bad}"}, auth=auth)
    assert 400 <= r.status_code < 500
    # Through the client too: its own check or ours, it is an error and nothing is written.
    with pytest.raises((MlflowException, Exception)):
        MlflowClient().log_text(run.info.run_id, "x", bad)
    assert MlflowClient().list_artifacts(run.info.run_id) == []


def test_writes_stay_inside_runs(server: LiveServer) -> None:
    exp = mlflow.set_experiment(unique("plant"))
    auth = (server.username, server.password)
    base = f"{server.url}/api/2.0/mlflow-artifacts/artifacts"
    for target in (f"{exp.experiment_id}/planted.txt", f"{exp.experiment_id}/{'0' * 32}/artifacts/x.txt"):
        r = requests.put(f"{base}/{target}", data=b"x", auth=auth)
        assert r.status_code in (400, 404), (target, r.status_code, r.text)


def test_viewer_reads_artifacts_but_cannot_write(admin_api: Hangar, mlflow_env, tmp_path: Path) -> None:
    # A team of its own: members of a project's team are its developers.
    team, project = unique("t"), unique("p")
    admin_api.create_team(team)
    admin_api.create_project(project, team=team)
    viewer = unique("viewer")
    admin_api.create_user(viewer, "viewer-password-1")
    admin_api.grant(project, viewer, "viewer")
    dev_token = admin_api.create_token(unique("dev"), project=project)
    mlflow_env.token(dev_token)
    mlflow.set_experiment(unique("shared"))
    with mlflow.start_run() as run:
        mlflow.log_text("visible", "r.txt")

    mlflow_env.basic(viewer, "viewer-password-1")
    client = MlflowClient()
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["r.txt"]
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/r.txt") == "visible"
    # The artifact client raises the HTTP error as it is (MLflow's own server gives the same).
    with pytest.raises((MlflowException, requests.HTTPError)) as info:
        client.log_text(run.info.run_id, "nope", "w.txt")
    assert "PERMISSION_DENIED" in str(info.value)

    mlflow_env.none()
    with pytest.raises(MlflowException):
        MlflowClient().list_artifacts(run.info.run_id)
