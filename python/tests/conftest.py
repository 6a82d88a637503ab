"""Runs the test session against a live Hangar server started from this checkout.

The server is not built here: build it first with ``npx tsc -b packages/server`` (from the repo
root). The fixture starts ``node packages/server/dist/bin.js`` on an OS-chosen port with a fresh
data directory, waits for its banner, hands out the URL and admin credentials, and stops it with
SIGTERM at the end (failing the session if it does not exit 0).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from hangar_sdk import Client

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_BIN = REPO_ROOT / "packages" / "server" / "dist" / "bin.js"
BANNER = re.compile(r"Hangar \S+ ready at (http://[^\s/]+:(\d+))/")
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30


@dataclass(frozen=True)
class LiveServer:
    """A running server: ``url`` and the bootstrap admin's credentials."""

    url: str
    port: int
    username: str
    password: str
    token: str
    data_dir: Path
    stderr_path: Path
    stdout_path: Path

    def logs(self) -> str:
        out = []
        for p in (self.stderr_path, self.stdout_path):
            if p.exists():
                out.append(f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)


def _server_env(password: str, token: str) -> dict:
    # Any HANGAR_* in the caller's environment (HANGAR_DB, HANGAR_CONFIG, ...) could point the
    # server somewhere else: start from a clean slate and set only what the tests rely on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env["HANGAR_ADMIN_PASSWORD"] = password
    env["HANGAR_ADMIN_TOKEN"] = token
    return env


@pytest.fixture(scope="session", autouse=True)
def _isolate_client_env() -> Iterator[None]:
    """Tests must not pick up a developer's HANGAR_URL / HANGAR_TOKEN, nor send 127.0.0.1 to a proxy."""
    saved = {k: os.environ.pop(k) for k in ("HANGAR_URL", "HANGAR_TOKEN") if k in os.environ}
    saved_no_proxy = {k: os.environ.get(k) for k in ("no_proxy", "NO_PROXY")}
    for k in ("no_proxy", "NO_PROXY"):
        parts = [p for p in (os.environ.get(k) or "").split(",") if p]
        os.environ[k] = ",".join(parts + ["127.0.0.1", "localhost"])
    yield
    os.environ.update(saved)
    for k, v in saved_no_proxy.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, _isolate_client_env: None) -> Iterator[LiveServer]:
    if not SERVER_BIN.is_file():
        pytest.fail(
            f"the Hangar server is not built: {SERVER_BIN} is missing. "
            "Build it first from the repo root with: npx tsc -b packages/server",
            pytrace=False,
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH; the live Hangar server needs Node.js >= 20", pytrace=False)

    work = tmp_path_factory.mktemp("hangar-server")
    data_dir = work / "data"
    stderr_path = work / "server.stderr.log"
    stdout_path = work / "server.stdout.log"
    password = "pw-" + secrets.token_urlsafe(12)
    # hgr_ prefix: the server only accepts a token in Basic's password slot when it has it.
    token = "hgr_" + secrets.token_urlsafe(24)

    with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
        proc = subprocess.Popen(
            [node, str(SERVER_BIN), "--port", "0", "--data-dir", str(data_dir), "--log-level", "warn"],
            cwd=str(REPO_ROOT),
            env=_server_env(password, token),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )

    def read(p: Path) -> str:
        return p.read_text(errors="replace") if p.exists() else ""

    deadline = time.monotonic() + START_TIMEOUT_S
    match = None
    while match is None:
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
        port=int(match.group(2)),
        username="admin",
        password=password,
        token=token,
        data_dir=data_dir,
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
def client(server: LiveServer) -> Client:
    """An admin client authenticated with the bootstrap API token (Bearer)."""
    return Client(server.url, token=server.token, timeout=30)


@pytest.fixture()
def anon(server: LiveServer) -> Client:
    """A client with no credentials."""
    return Client(server.url)
