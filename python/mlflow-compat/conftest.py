"""MLflow compatibility suite: the unmodified ``mlflow`` client from PyPI against a live Hangar.

The server is not built here: build it first (``npm run build`` from the repo root). The session
fixture starts ``node packages/server/dist/bin.js`` on an OS-chosen loopback port with a fresh data
directory and a known admin password and token (as python/tests/conftest.py does), and stops it
with SIGTERM at the end, failing the session if it does not exit 0.

The client is configured only the way a user would: ``MLFLOW_TRACKING_URI`` and the credential
variables (``MLFLOW_TRACKING_TOKEN`` or ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``).
Setting up users, projects and roles goes through Hangar's own REST API with urllib, so this suite
depends on nothing but the server and ``mlflow``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_BIN = REPO_ROOT / "packages" / "server" / "dist" / "bin.js"
BANNER = re.compile(r"Hangar \S+ ready at (http://[^\s/]+:(\d+))/")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30

CREDENTIAL_VARS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


@dataclass(frozen=True)
class LiveServer:
    """A running server: ``url`` and the bootstrap admin's credentials."""

    url: str
    username: str
    password: str
    token: str
    stderr_path: Path
    stdout_path: Path

    def logs(self) -> str:
        out = []
        for p in (self.stderr_path, self.stdout_path):
            if p.exists():
                out.append(f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)


class HangarApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Hangar:
    """Hangar's native REST API (/api/v1) over urllib, for setting up users, projects and roles."""

    def __init__(self, url: str, authorization: str) -> None:
        self.url = url
        self.authorization = authorization

    @staticmethod
    def bearer(url: str, token: str) -> "Hangar":
        return Hangar(url, f"Bearer {token}")

    @staticmethod
    def basic(url: str, username: str, secret: str) -> "Hangar":
        return Hangar(url, "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode())

    def request(self, method: str, path: str, body: Optional[dict] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("authorization", self.authorization)
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                text = res.read().decode()
        except urllib.error.HTTPError as err:
            raise HangarApiError(err.code, err.read().decode(errors="replace")) from None
        return json.loads(text) if text else None

    def create_user(self, username: str, password: str) -> None:
        self.request("POST", "/api/v1/users", {"username": username, "password": password})

    def create_team(self, name: str) -> None:
        self.request("POST", "/api/v1/teams", {"name": name})

    def create_project(self, name: str, team: str = "default") -> dict:
        return self.request("POST", "/api/v1/projects", {"name": name, "team": team})

    def grant(self, project: str, username: str, role: str) -> None:
        self.request("PUT", f"/api/v1/projects/{project}/members/{username}", {"role": role})

    def create_token(self, name: str, project: Optional[str] = None) -> str:
        body = {"name": name, **({"project": project} if project else {})}
        return self.request("POST", "/api/v1/tokens", body)["token"]

    def experiments(self, project: str) -> list:
        return self.request("GET", f"/api/v1/projects/{project}/experiments")["items"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _server_env(password: str, token: str) -> dict:
    # Any HANGAR_* in the caller's environment (HANGAR_DB, HANGAR_CONFIG, ...) could point the
    # server somewhere else: start from a clean slate and set only what the tests rely on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_") and not k.startswith("MLFLOW_")}
    env["HANGAR_ADMIN_PASSWORD"] = password
    env["HANGAR_ADMIN_TOKEN"] = token
    return env


@pytest.fixture(scope="session", autouse=True)
def _isolate_client_env() -> Iterator[None]:
    """No developer MLFLOW_* setting may leak in; loopback never goes through a proxy.

    The retry and telemetry settings are the client's own environment variables: a 5xx fails a test
    at once instead of being retried for minutes (it is a failure either way), and the client does
    not try to phone home from a machine without a network.
    """
    saved = dict(os.environ)
    for k in list(os.environ):
        if k.startswith("MLFLOW_"):
            del os.environ[k]
    for k in ("no_proxy", "NO_PROXY"):
        parts = [p for p in (os.environ.get(k) or "").split(",") if p]
        os.environ[k] = ",".join(parts + ["127.0.0.1", "localhost"])
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = "60"
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["DO_NOT_TRACK"] = "true"
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, _isolate_client_env: None) -> Iterator[LiveServer]:
    if not SERVER_BIN.is_file():
        pytest.fail(
            f"the Hangar server is not built: {SERVER_BIN} is missing. Build it first from the repo root with: npm run build",
            pytrace=False,
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; the live Hangar server needs Node.js >= 20", pytrace=False)

    work = tmp_path_factory.mktemp("hangar-server")
    stderr_path = work / "server.stderr.log"
    stdout_path = work / "server.stdout.log"
    password = "pw-" + secrets.token_urlsafe(12)
    # hgr_ prefix: the server only accepts a token in Basic's password slot when it has it.
    token = "hgr_" + secrets.token_urlsafe(24)

    with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
        proc = subprocess.Popen(
            [node, str(SERVER_BIN), "--port", "0", "--data-dir", str(work / "data"), "--log-level", "warn"],
            cwd=str(REPO_ROOT),
            env=_server_env(password, token),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )

    def read(p: Path) -> str:
        return p.read_text(errors="replace") if p.exists() else ""

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        match = BANNER.search(read(stderr_path))
        if match:
            break
        if proc.poll() is not None:
            pytest.fail(
                f"the Hangar server exited with code {proc.returncode} before it was ready:\n"
                f"{read(stderr_path)[-4000:]}\n{read(stdout_path)[-4000:]}",
                pytrace=False,
            )
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"the Hangar server printed no banner within {START_TIMEOUT_S} s:\n{read(stderr_path)[-4000:]}", pytrace=False)
        time.sleep(0.05)

    live = LiveServer(
        url=match.group(1),
        username="admin",
        password=password,
        token=token,
        stderr_path=stderr_path,
        stdout_path=stdout_path,
    )
    try:
        yield live
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"the Hangar server did not exit within {STOP_TIMEOUT_S} s of SIGTERM:\n{live.logs()}", pytrace=False)
        if proc.returncode != 0:
            pytest.fail(f"the Hangar server exited with code {proc.returncode} after SIGTERM (expected 0):\n{live.logs()}", pytrace=False)


@pytest.fixture()
def admin_api(server: LiveServer) -> Hangar:
    return Hangar.bearer(server.url, server.token)


class Credentials:
    """Switches the MLflow client's credentials, through its environment variables only."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._mp = monkeypatch

    def none(self) -> None:
        for k in CREDENTIAL_VARS:
            self._mp.delenv(k, raising=False)

    def token(self, token: str) -> None:
        self.none()
        self._mp.setenv("MLFLOW_TRACKING_TOKEN", token)

    def basic(self, username: str, password: str) -> None:
        self.none()
        self._mp.setenv("MLFLOW_TRACKING_USERNAME", username)
        self._mp.setenv("MLFLOW_TRACKING_PASSWORD", password)


@pytest.fixture(autouse=True)
def mlflow_env(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Credentials]:
    """Points the client at the server as the admin (token); no run is left active afterwards."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    creds = Credentials(monkeypatch)
    creds.token(server.token)
    yield creds
    while mlflow.active_run() is not None:
        mlflow.end_run()
