"""End-to-end tests of hangar_sdk against a live Hangar server (see conftest.py). No mocks."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import re
import socket
import time
import uuid

import pytest

import hangar_sdk
from hangar_sdk import Client, HangarError, Job, WaitTimeoutError

from conftest import LiveServer

UUID_LIKE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _exec(client: Client, command: list, **opts) -> Job:
    return client.enqueue_job("system.exec", {"command": command}, **opts)


def _wait_state(client: Client, job_id: str, state: str, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get_job(job_id)
        if job["state"] == state:
            return job
        assert time.monotonic() < deadline, f"job {job_id} never reached {state}; last: {job}"
        time.sleep(0.1)


# ---------------------------------------------------------------- package


def test_package_metadata_matches_module_version() -> None:
    assert importlib.metadata.version("hangar-sdk") == hangar_sdk.__version__


# ---------------------------------------------------------------- public endpoints


def test_health_ready_and_version_without_auth(anon: Client) -> None:
    assert anon.health() == {"status": "ok"}
    ready = anon.ready()
    assert ready["status"] == "ready", ready
    assert ready["checks"]["store"] == "ok"
    v = anon.version()
    assert set(v) >= {"version", "node", "engine", "roles"}
    assert re.match(r"^\d+\.\d+\.\d+", v["version"])
    assert v["node"].startswith("v")
    assert v["engine"] == "sqlite"
    assert "worker" in v["roles"] and "api" in v["roles"]


def test_public_endpoints_ignore_bad_credentials(server: LiveServer) -> None:
    bad = Client(server.url, token="hgr_not-a-real-token")
    assert bad.health() == {"status": "ok"}
    assert bad.version()["version"]


# ---------------------------------------------------------------- identity


def test_whoami_with_bearer_token(client: Client) -> None:
    me = client.whoami()
    assert me["username"] == "admin"
    assert me["isAdmin"] is True
    assert me["displayName"]
    assert me["tokenId"]  # authenticated with a token
    assert me["id"]


def test_whoami_with_basic_password(server: LiveServer) -> None:
    me = Client(server.url, username=server.username, password=server.password).whoami()
    assert me["username"] == "admin"
    assert me["tokenId"] is None


def test_whoami_with_basic_username_and_token(server: LiveServer, client: Client) -> None:
    me = Client(server.url, username="admin", token=server.token).whoami()
    assert me["username"] == "admin"
    assert me["tokenId"] == client.whoami()["tokenId"]


def test_unauthenticated_is_401_with_code_and_request_id(anon: Client) -> None:
    with pytest.raises(HangarError) as info:
        anon.whoami()
    err = info.value
    assert err.status == 401
    assert err.code == "unauthenticated"
    assert err.message
    assert err.request_id and UUID_LIKE.match(err.request_id)
    assert err.request_id in str(err) and "401" in str(err)


def test_wrong_password_and_unknown_token_are_401(server: LiveServer) -> None:
    for c in (
        Client(server.url, username="admin", password="definitely-wrong"),
        Client(server.url, token="hgr_" + "x" * 32),
        Client(server.url, username="nobody", token=server.token),  # token of another user
    ):
        with pytest.raises(HangarError) as info:
            c.whoami()
        assert (info.value.status, info.value.code) == (401, "unauthenticated"), c
        assert info.value.request_id


def test_client_defaults_from_environment(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANGAR_URL", server.url + "/")
    monkeypatch.setenv("HANGAR_TOKEN", server.token)
    c = Client()
    assert c.url == server.url
    assert c.whoami()["username"] == "admin"
    # An explicit password wins over $HANGAR_TOKEN.
    assert Client(username="admin", password=server.password).whoami()["tokenId"] is None
    assert server.token not in repr(c)


def test_client_rejects_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANGAR_URL", raising=False)
    with pytest.raises(ValueError, match="HANGAR_URL"):
        Client()
    with pytest.raises(ValueError):
        Client("ftp://example.com")
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:1", password="secret")  # no username
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:1", username="a", password="b", token="c")


def test_token_create_list_revoke_then_revoked_token_fails(client: Client, server: LiveServer) -> None:
    name = f"sdk-test-{uuid.uuid4().hex[:8]}"
    created = client.create_token(name, expires_in_days=1)
    assert created["name"] == name
    assert created["token"].startswith("hgr_")
    assert created["token"].startswith(created["prefix"])
    assert created["expiresAt"] is not None and created["revokedAt"] is None
    assert created["project"] is None  # not confined to a project

    listed = {t["id"]: t for t in client.list_tokens()}
    assert created["id"] in listed
    assert "token" not in listed[created["id"]]  # the secret is never listed
    assert listed[created["id"]]["revokedAt"] is None

    bearer = Client(server.url, token=created["token"])
    basic = Client(server.url, username="admin", token=created["token"])
    # Use it (both ways) so the server has cached the successful authentications...
    assert bearer.whoami()["tokenId"] == created["id"]
    assert basic.whoami()["tokenId"] == created["id"]

    assert client.revoke_token(created["id"]) is None

    # ...and the revoke must drop those cache entries: it fails at once, not 5 s later.
    for c in (bearer, basic):
        with pytest.raises(HangarError) as info:
            c.whoami()
        assert (info.value.status, info.value.code) == (401, "unauthenticated")

    after = {t["id"]: t for t in client.list_tokens()}
    assert after[created["id"]]["revokedAt"] is not None

    # Revoking again is fine and keeps the first revocation time; an unknown id is a 404.
    assert client.revoke_token(created["id"]) is None
    again = {t["id"]: t for t in client.list_tokens()}
    assert again[created["id"]]["revokedAt"] == after[created["id"]]["revokedAt"]
    with pytest.raises(HangarError) as info:
        client.revoke_token("06nosuchtoken")
    assert (info.value.status, info.value.code) == (404, "not_found")


def test_token_without_expiry_and_invalid_input(client: Client) -> None:
    t = client.create_token("no-expiry")
    try:
        assert t["expiresAt"] is None
    finally:
        client.revoke_token(t["id"])
    with pytest.raises(HangarError) as info:
        client.create_token("   ")
    assert (info.value.status, info.value.code) == (400, "invalid_input")
    assert info.value.details.get("field") == "name"
    with pytest.raises(HangarError) as info:
        client.create_token("x", expires_in_days=0)
    assert (info.value.status, info.value.code) == (400, "invalid_input")


# ---------------------------------------------------------------- jobs


def test_noop_job_succeeds(client: Client) -> None:
    job = client.enqueue_job("system.noop")
    assert job["kind"] == "system.noop"
    assert job["state"] == "queued"
    assert job["payload"] == {}
    assert job["attempt"] == 0 and job["maxAttempts"] == 3
    done = client.wait_job(job["id"], timeout=30)
    assert done["state"] == "succeeded", done
    assert done["id"] == job["id"]
    assert done["result"] is None and done["error"] is None
    assert done["attempt"] == 1
    assert done["startedAt"] and done["finishedAt"]
    assert done["usage"]["wallSeconds"] is not None


def test_exec_job_logs_contain_stdout_and_stderr(client: Client) -> None:
    job = _exec(client, ["sh", "-c", "echo hi; echo err >&2"])
    done = client.wait_job(job["id"], timeout=60)
    assert done["state"] == "succeeded", done
    assert done["result"]["exitCode"] == 0

    text = "".join(client.job_logs(job["id"]))
    assert "hi\n" in text and "err\n" in text

    chunks = list(client.job_log_chunks(job["id"]))
    by_stream = {}
    for c in chunks:
        by_stream.setdefault(c["stream"], "")
        by_stream[c["stream"]] += c["data"]
        assert c["attempt"] == 1
    assert "hi" in by_stream.get("stdout", "")
    assert "err" in by_stream.get("stderr", "")
    ids = [c["id"] for c in chunks]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # Following a finished job returns the whole log at once and ends.
    t0 = time.monotonic()
    assert "".join(client.job_logs(job["id"], follow=True, timeout=30)) == text
    assert time.monotonic() - t0 < 5
    # Reading from the last chunk on yields nothing more.
    assert list(client.job_log_chunks(job["id"], after=ids[-1])) == []


def test_follow_logs_streams_until_the_job_finishes(client: Client) -> None:
    job = _exec(client, ["sh", "-c", "echo one; sleep 1.5; echo two"])
    started = time.monotonic()
    pieces = list(client.job_logs(job["id"], follow=True, timeout=60))
    text = "".join(pieces)
    assert "one\n" in text and "two\n" in text
    assert text.index("one") < text.index("two")
    assert time.monotonic() - started >= 1.0  # it really waited for the second line
    # Following ends only once the job is finished.
    assert client.get_job(job["id"])["state"] == "succeeded"


def test_list_jobs_paginates_across_three_pages(client: Client) -> None:
    # Five jobs that stay queued (they may run only next year), so the filter
    # state=queued & kind=system.noop selects exactly them.
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365)
    created = [client.enqueue_job("system.noop", {"n": i}, run_at=later) for i in range(5)]
    ids = [j["id"] for j in created]
    try:
        for j in created:
            assert j["state"] == "queued"
            assert j["runAt"].startswith(str(later.year))

        # Page by page: 2 + 2 + 1, and the last page says there is no more.
        sizes = []
        seen = []
        cursor = None
        while True:
            page = client.list_jobs_page(state="queued", kind="system.noop", limit=2, cursor=cursor)
            sizes.append(len(page["items"]))
            seen.extend(j["id"] for j in page["items"])
            cursor = page["nextCursor"]
            if cursor is None:
                break
            assert len(sizes) < 10, "pagination does not end"
        assert sizes == [2, 2, 1]
        assert sorted(seen) == sorted(ids)

        # The iterator follows the cursors itself: same jobs, same order, no duplicates.
        via_iter = [j["id"] for j in client.list_jobs(state="queued", kind="system.noop", limit=2)]
        assert via_iter == seen
        assert via_iter == sorted(via_iter, reverse=True)  # newest (largest id) first

        # Across every job (other tests' included), pages of 2 still give each job exactly once.
        everything = [j["id"] for j in client.list_jobs(limit=2)]
        assert len(everything) == len(set(everything)) >= 5
        assert set(ids) <= set(everything)
        assert everything == [j["id"] for j in client.list_jobs()]  # default page size agrees
    finally:
        for job_id in ids:
            assert client.cancel_job(job_id)["state"] == "cancelled"  # queued: cancelled at once


def test_list_jobs_rejects_bad_filters(client: Client) -> None:
    with pytest.raises(HangarError) as info:
        next(client.list_jobs(state="bogus"))
    assert (info.value.status, info.value.code) == (400, "invalid_input")
    with pytest.raises(ValueError):
        client.list_jobs(limit=0)
    with pytest.raises(HangarError) as info:
        client.list_jobs_page(cursor="not-a-cursor")
    assert (info.value.status, info.value.code) == (400, "invalid_input")


def test_cancel_running_sleep_job(client: Client) -> None:
    job = _exec(client, ["sleep", "30"])
    _wait_state(client, job["id"], "running", timeout=15)
    asked = time.monotonic()
    answer = client.cancel_job(job["id"])
    assert answer["state"] in ("running", "cancelled")
    assert answer["cancelRequested"] is True or answer["state"] == "cancelled"
    # The worker notices the request on its next lease heartbeat (jobLeaseMs/3 = 10 s by
    # default), then SIGTERMs the process tree; so allow up to 15 s, far below the 30 s sleep.
    done = client.wait_job(job["id"], timeout=15)
    took = time.monotonic() - asked
    assert done["state"] == "cancelled", done
    assert done["finishedAt"] is not None
    assert took < 15
    assert done["usage"]["wallSeconds"] is not None and done["usage"]["wallSeconds"] < 25
    text = "".join(client.job_logs(job["id"]))
    assert "cancelled" in text
    # Cancelling a finished job is idempotent.
    assert client.cancel_job(job["id"])["state"] == "cancelled"


def test_failing_exec_job_fails_with_exit_code(client: Client) -> None:
    job = _exec(client, ["sh", "-c", "exit 3"], max_attempts=1)
    assert job["maxAttempts"] == 1
    done = client.wait_job(job["id"], timeout=60)
    assert done["state"] == "failed", done
    assert done["attempt"] == 1
    assert done["error"] and re.search(r"\b3\b", done["error"]), done["error"]
    assert done["finishedAt"] is not None


def test_wait_job_times_out_with_last_state(client: Client) -> None:
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    job = client.enqueue_job("system.noop", run_at=later)
    try:
        with pytest.raises(WaitTimeoutError) as info:
            client.wait_job(job["id"], timeout=0.5)
        assert info.value.status == 0 and info.value.code == "timeout"
        assert info.value.job["state"] == "queued"
        assert isinstance(info.value, HangarError)
    finally:
        client.cancel_job(job["id"])


def test_missing_job_is_404(client: Client) -> None:
    missing = "0" * 26
    for call in (
        lambda: client.get_job(missing),
        lambda: client.cancel_job(missing),
        lambda: list(client.job_logs(missing)),
        lambda: client.get_job("no such/job?x=1"),  # quoted into one path segment
    ):
        with pytest.raises(HangarError) as info:
            call()
        assert (info.value.status, info.value.code) == (404, "not_found")
        assert info.value.request_id


def test_invalid_job_input_is_400(client: Client) -> None:
    with pytest.raises(HangarError) as info:
        client.enqueue_job("no.such.kind")
    assert (info.value.status, info.value.code) == (400, "invalid_input")
    assert info.value.details.get("field") == "kind"
    with pytest.raises(HangarError) as info:
        client.enqueue_job("system.exec", {"command": []})
    assert (info.value.status, info.value.code) == (400, "invalid_input")
    with pytest.raises(HangarError) as info:
        client.enqueue_job("system.noop", max_attempts=0)
    assert (info.value.status, info.value.code) == (400, "invalid_input")
    with pytest.raises(ValueError):
        client.enqueue_job("system.noop", {"x": float("nan")})
    with pytest.raises(ValueError):
        client.enqueue_job("system.noop", run_at=dt.datetime(2030, 1, 1))  # naive


def test_unicode_payload_round_trip(client: Client) -> None:
    payload = {
        "latin": "héllo wörld ñ",
        "cjk": "日本語テキスト",
        "emoji": "🚀✨👩‍🔬",
        "rtl": "שלום مرحبا",
        "combining": "e\u0301",
        "controls": "tab\tnewline\nquote\"backslash\\",
        "keys": {"ключ": ["значение", 1, 2.5, True, None]},
        "🔑": "emoji key",
    }
    job = client.enqueue_job("system.noop", payload)
    assert job["payload"] == payload
    assert client.get_job(job["id"])["payload"] == payload
    done = client.wait_job(job["id"], timeout=30)
    assert done["state"] == "succeeded"
    assert done["payload"] == payload
    listed = next(j for j in client.list_jobs(kind="system.noop") if j["id"] == job["id"])
    assert listed["payload"] == payload


def test_unicode_in_exec_env_and_logs(client: Client) -> None:
    message = "héllo 日本 🚀"
    job = client.enqueue_job("system.exec", {"command": ["sh", "-c", 'printf "%s\\n" "$MSG"'], "env": {"MSG": message}})
    done = client.wait_job(job["id"], timeout=60)
    assert done["state"] == "succeeded", done
    assert message + "\n" in "".join(client.job_logs(job["id"]))


# ---------------------------------------------------------------- transport errors


def test_connection_failure_is_status_0(server: LiveServer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens there now.
    c = Client(f"http://127.0.0.1:{port}", token=server.token, timeout=5)
    with pytest.raises(HangarError) as info:
        c.health()
    err = info.value
    assert err.status == 0
    assert err.code == "connection_error"
    assert f"127.0.0.1:{port}" in err.message
    assert err.request_id is None


def test_unknown_route_is_404_hangar_error(client: Client) -> None:
    with pytest.raises(HangarError) as info:
        client._request("GET", "/api/v1/definitely-not-a-route")
    assert (info.value.status, info.value.code) == (404, "not_found")
    assert info.value.request_id
