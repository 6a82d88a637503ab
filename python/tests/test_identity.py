"""End-to-end tests of the identity parts of hangar_sdk (users, teams, projects, project-scoped
tokens, secrets, audit) against a live Hangar server (see conftest.py). No mocks."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any, Callable, Iterator, Optional

import pytest

from hangar_sdk import Client, HangarError

from conftest import LiveServer


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _status(call: Callable[[], Any]) -> tuple:
    with pytest.raises(HangarError) as info:
        call()
    assert info.value.request_id, info.value
    return info.value.status, info.value.code


def _eventually(check: Callable[[], Optional[Any]], what: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture()
def member(client: Client, server: LiveServer) -> Iterator[tuple]:
    """A fresh user who is no platform admin: ``(username, password, client)``."""
    username = _name("user")
    password = "pw-" + uuid.uuid4().hex
    client.create_user(username, password=password)
    yield username, password, Client(server.url, username=username, password=password)


# ---------------------------------------------------------------- me


def test_whoami_has_profile_and_scope_fields(client: Client) -> None:
    me = client.whoami()
    assert me["disabled"] is False
    assert me["createdAt"].endswith("Z")
    assert me["projectId"] is None  # the bootstrap token is not confined to a project
    assert me["email"] is None or "@" in me["email"]


# ---------------------------------------------------------------- users


def test_create_user_with_generated_password_and_profile(client: Client, server: LiveServer) -> None:
    username = _name("gen")
    created = client.create_user(username, display_name="Gen Erated", email=f"{username}@example.com")
    user = created["user"]
    assert user["username"] == username
    assert user["displayName"] == "Gen Erated"
    assert user["isAdmin"] is False and user["disabled"] is False
    password = created["generatedPassword"]
    assert password and len(password) >= 12
    me = Client(server.url, username=username, password=password).whoami()
    assert me["username"] == username and me["email"] == f"{username}@example.com"

    assert _status(lambda: client.create_user(username, password="another-password")) == (409, "conflict")
    assert client.get_user(username) == user


def test_create_admin_user_with_password(client: Client, server: LiveServer) -> None:
    username = _name("adm")
    created = client.create_user(username, password="admin-password-1", is_admin=True)
    assert created["generatedPassword"] is None
    assert created["user"]["isAdmin"] is True
    assert Client(server.url, username=username, password="admin-password-1").whoami()["isAdmin"] is True
    # Passwords shorter than 8 characters are refused, naming the field.
    with pytest.raises(HangarError) as info:
        client.create_user(_name("short"), password="short")
    assert (info.value.status, info.value.code) == (400, "invalid_input")


def test_update_disable_enable_and_set_admin(client: Client, member: tuple, server: LiveServer) -> None:
    username, password, _ = member
    updated = client.update_user(username, display_name="New Name", email="new@example.com")
    assert updated["displayName"] == "New Name" and updated["email"] == "new@example.com"
    assert client.update_user(username, email=None)["email"] is None  # None clears
    assert client.get_user(username)["displayName"] == "New Name"  # left out: unchanged
    with pytest.raises(ValueError):
        client.update_user(username)

    assert client.disable_user(username)["disabled"] is True
    assert _status(lambda: Client(server.url, username=username, password=password).whoami()) == (401, "unauthenticated")
    assert [u["username"] for u in client.list_users(username)] == []
    assert [u["username"] for u in client.list_users(username, include_disabled=True)] == [username]
    assert client.enable_user(username)["disabled"] is False
    assert Client(server.url, username=username, password=password).whoami()["username"] == username

    assert client.set_admin(username, True)["isAdmin"] is True
    assert Client(server.url, username=username, password=password).whoami()["isAdmin"] is True
    assert client.set_admin(username, False)["isAdmin"] is False


def test_list_users_pages_by_username(client: Client) -> None:
    prefix = _name("page")
    names = sorted(f"{prefix}-{i}" for i in range(3))
    for n in names:
        client.create_user(n, password="page-password-1")
    first = client.list_users_page(prefix, limit=2)
    assert [u["username"] for u in first["items"]] == names[:2]
    assert first["nextCursor"]
    rest = client.list_users_page(prefix, limit=2, cursor=first["nextCursor"])
    assert [u["username"] for u in rest["items"]] == names[2:]
    assert rest["nextCursor"] is None
    assert [u["username"] for u in client.list_users(prefix, limit=2)] == names
    with pytest.raises(ValueError):
        client.list_users(limit=0)


def test_set_password_admin_reset_and_self_change(client: Client, member: tuple, server: LiveServer) -> None:
    username, password, own = member
    client.set_password(username, "reset-password-1")
    assert _status(lambda: Client(server.url, username=username, password=password).whoami())[0] == 401
    own = Client(server.url, username=username, password="reset-password-1")
    assert own.whoami()["username"] == username

    # Changing one's own password needs the current one.
    with pytest.raises(HangarError) as info:
        own.set_password(username, "self-password-2")
    assert (info.value.status, info.value.code) == (400, "invalid_input")
    assert _status(lambda: own.set_password(username, "self-password-2", current_password="wrong")) == (400, "invalid_input")
    own.set_password(username, "self-password-2", current_password="reset-password-1")
    assert Client(server.url, username=username, password="self-password-2").whoami()["username"] == username


def test_unknown_users_and_non_admins(client: Client, member: tuple) -> None:
    username, _, own = member
    ghost = _name("ghost")
    for call in (
        lambda: client.get_user(ghost),
        lambda: client.disable_user(ghost),
        lambda: client.set_password(ghost, "whatever-password"),
        lambda: client.list_tokens(user=ghost),
    ):
        assert _status(call) == (404, "not_found")

    for call in (
        lambda: own.create_user(_name("nope")),
        lambda: own.set_admin(username, True),
        lambda: own.disable_user("admin"),
        lambda: own.update_user("admin", display_name="Mallory"),
        lambda: own.set_password("admin", "hijacked-password"),
        lambda: own.create_team(_name("t")),
        lambda: own.list_tokens(user="admin"),
        lambda: own.verify_audit_chain(),
    ):
        assert _status(call) == (403, "forbidden")
    assert client.get_user(username)["isAdmin"] is False
    # The directory and one's own profile are open to every signed-in user.
    assert any(u["username"] == "admin" for u in own.list_users())
    assert own.update_user(username, display_name="Me Myself")["displayName"] == "Me Myself"


# ---------------------------------------------------------------- teams and projects


def test_teams_projects_and_roles(client: Client, server: LiveServer) -> None:
    lead_name, dev_name = _name("lead"), _name("dev")
    for n in (lead_name, dev_name):
        client.create_user(n, password="member-password-1")
    lead = Client(server.url, username=lead_name, password="member-password-1")
    dev = Client(server.url, username=dev_name, password="member-password-1")

    team = _name("team")
    created = client.create_team(team, display_name="Team T", description="does things")
    assert created["name"] == team and created["memberCount"] == 0
    assert client.set_team_member(team, lead_name, "lead")["role"] == "lead"
    assert client.set_team_member(team, dev_name)["role"] == "member"
    detail = client.get_team(team)
    assert detail["memberCount"] == 2
    assert sorted((m["username"], m["role"]) for m in detail["members"]) == sorted(
        [(lead_name, "lead"), (dev_name, "member")]
    )
    assert team in [t["name"] for t in client.list_teams()]
    # Leads edit their team.
    assert lead.update_team(team, description="by the lead")["description"] == "by the lead"
    assert _status(lambda: dev.update_team(team, description="x")) == (403, "forbidden")

    project = _name("proj")
    # Team leads may create projects for their team; members may not.
    assert _status(lambda: dev.create_project(project, team)) == (403, "forbidden")
    p = lead.create_project(project, team, description="a project")
    assert (p["name"], p["team"], p["role"], p["description"]) == (project, team, "admin", "a project")
    assert {x["name"]: x["role"] for x in dev.list_projects()}[project] == "developer"
    assert dev.get_project(project)["role"] == "developer"
    assert _status(lambda: client.create_project(_name("p"), _name("noteam"))) == (404, "not_found")

    outsider = _name("out")
    client.create_user(outsider, password="member-password-1")
    out = Client(server.url, username=outsider, password="member-password-1")
    assert _status(lambda: out.get_project(project)) == (404, "not_found")  # existence is not disclosed

    granted = lead.set_project_member(project, outsider, "viewer")
    assert (granted["role"], granted["directRole"], granted["teamRole"]) == ("viewer", "viewer", None)
    assert out.get_project(project)["role"] == "viewer"
    members = {m["username"]: m for m in client.list_project_members(project)}
    assert members[dev_name]["role"] == "developer" and members[dev_name]["teamRole"] == "member"
    assert members[outsider]["directRole"] == "viewer"
    assert _status(lambda: dev.set_project_member(project, outsider, "admin")) == (403, "forbidden")
    lead.remove_project_member(project, outsider)
    assert _status(lambda: lead.remove_project_member(project, outsider)) == (404, "not_found")
    assert _status(lambda: out.get_project(project)) == (404, "not_found")

    assert lead.update_project(project, display_name="Renamed")["displayName"] == "Renamed"
    with pytest.raises(ValueError):
        lead.update_project(project)

    assert _status(lambda: client.delete_team(team)) == (409, "conflict")  # it owns a project
    assert _status(lambda: lead.delete_project(project)) == (403, "forbidden")
    client.delete_project(project)
    assert _status(lambda: client.get_project(project)) == (404, "not_found")
    client.remove_team_member(team, dev_name)
    assert [m["username"] for m in client.get_team(team)["members"]] == [lead_name]
    client.delete_team(team)
    assert _status(lambda: client.get_team(team)) == (404, "not_found")


def test_secrets_are_write_only(client: Client, member: tuple) -> None:
    _, _, own = member
    name = "SDK_" + uuid.uuid4().hex[:8].upper()
    stored = client.set_secret("default", name, "s3cret-value")
    assert stored["name"] == name and "value" not in stored
    listed = {s["name"]: s for s in client.list_secrets("default")}
    assert name in listed and "value" not in listed[name]
    assert listed[name]["createdBy"] == "admin"
    # New users develop in the default project: they can list secrets but not write them.
    assert name in [s["name"] for s in own.list_secrets("default")]
    assert _status(lambda: own.set_secret("default", name, "hijack")) == (403, "forbidden")
    assert _status(lambda: client.set_secret("default", "not-a-name", "x"))[0] == 400
    client.delete_secret("default", name)
    assert _status(lambda: client.delete_secret("default", name)) == (404, "not_found")


# ---------------------------------------------------------------- project-scoped tokens


def test_project_scoped_token_bearer_and_basic(client: Client, server: LiveServer) -> None:
    other = _name("other")
    client.create_project(other, "default")
    try:
        created = client.create_token(_name("scoped"), expires_in_days=1, project="default")
        assert created["project"] == "default"
        listed = {t["id"]: t for t in client.list_tokens()}
        assert listed[created["id"]]["project"] == "default"
        default_id = client.get_project("default")["id"]

        bearer = Client(server.url, token=created["token"])
        # MLflow-style: the username with the token in Basic's password slot.
        basic = Client(server.url, username="admin", token=created["token"])
        for c in (bearer, basic):
            me = c.whoami()
            assert me["tokenId"] == created["id"]
            assert me["projectId"] == default_id
            assert c.get_project("default")["name"] == "default"
            # Confined to its project, even though its owner is a platform admin.
            assert _status(lambda: c.get_project(other))[0] in (403, 404)
            assert _status(lambda: c.create_user(_name("x"))) == (403, "forbidden")
            assert [p["name"] for p in c.list_projects()] == ["default"]
        # A scoped token cannot mint an unscoped (wider) one, only one for its own project.
        assert _status(lambda: bearer.create_token("wider")) == (403, "forbidden")
        narrower = bearer.create_token("same-scope", project="default")
        assert narrower["project"] == "default"
        assert _status(lambda: bearer.create_token("elsewhere", project=other))[0] in (403, 404)

        client.revoke_token(narrower["id"])
        client.revoke_token(created["id"])
        for c in (bearer, basic):
            assert _status(c.whoami) == (401, "unauthenticated")
    finally:
        client.delete_project(other)


def test_unscoped_token_basic_auth_still_works(client: Client, server: LiveServer) -> None:
    created = client.create_token(_name("mlflow"))
    try:
        assert created["project"] is None
        me = Client(server.url, username="admin", token=created["token"]).whoami()
        assert me["tokenId"] == created["id"] and me["projectId"] is None
        assert _status(lambda: Client(server.url, username="someone-else", token=created["token"]).whoami())[0] == 401
    finally:
        client.revoke_token(created["id"])


# ---------------------------------------------------------------- audit


def test_audit_list_filters_pages_and_export(client: Client) -> None:
    team = _name("audit")
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    client.create_team(team)
    client.update_team(team, description="one")
    client.update_team(team, description="two")

    events = list(client.list_audit_events(target=team))
    assert [e["action"] for e in events] == ["team.update", "team.update", "team.create"]
    assert all(e["actor"] == "admin" and e["outcome"] == "success" and e["targetType"] == "team" for e in events)
    assert [e["action"] for e in client.list_audit_events(target=team, action="team.create")] == ["team.create"]
    assert len(list(client.list_audit_events(target=team, action="team.*"))) == 3

    page = client.list_audit_events_page(target=team, limit=2)
    assert len(page["items"]) == 2 and page["nextCursor"]
    rest = client.list_audit_events_page(target=team, limit=2, cursor=page["nextCursor"])
    assert [e["id"] for e in page["items"] + rest["items"]] == [e["id"] for e in events]
    assert [e["id"] for e in client.list_audit_events(target=team, limit=1)] == [e["id"] for e in events]

    assert len(list(client.list_audit_events(target=team, since=before))) == 3
    assert list(client.list_audit_events(target=team, until="2000-01-01T00:00:00Z")) == []
    with pytest.raises(ValueError):
        client.list_audit_events(target=team, since=dt.datetime(2030, 1, 1))  # naive
    with pytest.raises(HangarError) as info:
        next(client.list_audit_events(action="Not An Action"))
    assert (info.value.status, info.value.code) == (400, "invalid_input")

    exported = list(client.export_audit_events(target=team))
    assert [e["id"] for e in exported] == [e["id"] for e in events]
    assert exported[0]["action"] == "team.update"
    everything = list(client.export_audit_events())
    assert len(everything) >= 3 and len({e["id"] for e in everything}) == len(everything)
    client.delete_team(team)


def test_audit_denied_events_and_permissions(client: Client, member: tuple) -> None:
    username, _, own = member
    team = _name("denied")
    assert _status(lambda: own.create_team(team)) == (403, "forbidden")
    denied = _eventually(
        lambda: next(iter(client.list_audit_events(actor=username, outcome="denied", target=team)), None),
        "the denied team.create",
    )
    assert denied["action"] == "team.create"
    assert denied["details"]["reason"] == "this action needs a platform admin"

    assert _status(lambda: next(own.list_audit_events())) == (403, "forbidden")
    assert _status(lambda: list(own.export_audit_events())) == (403, "forbidden")
    assert _status(lambda: next(own.list_audit_events(project="default")))[0] == 403  # developer, not maintainer

    # Project maintainers read their project's events.
    client.set_project_member("default", username, "maintainer")
    try:
        scoped = list(own.list_audit_events(project="default", limit=50))
        assert all(e["projectId"] == client.get_project("default")["id"] for e in scoped)
    finally:
        client.remove_project_member("default", username)


def test_audit_chain_verifies(client: Client) -> None:
    result = client.verify_audit_chain()
    assert result["ok"] is True, result
    assert result["problem"] is None
    assert result["checked"] >= 1
    assert result["headSeq"] >= result["checked"]
    assert result["pending"] >= 0
