"""The synchronous Hangar API client, built on the standard library only (``urllib``, ``json``)."""

from __future__ import annotations

import base64
import datetime as _dt
import http.client
import json
import os
import platform
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union, cast

from ._version import __version__
from .errors import HangarError, WaitTimeoutError
from .models import (
    FINAL_STATES,
    AuditEvent,
    AuditPage,
    AuditVerification,
    CreatedToken,
    CreatedUser,
    Health,
    Job,
    JobLogs,
    JobPage,
    LogChunk,
    Me,
    Project,
    ProjectMember,
    Readiness,
    Secret,
    Team,
    TeamDetail,
    TeamMember,
    Token,
    User,
    UserPage,
    VersionInfo,
)

__all__ = ["Client"]

# The server caps waitMs at 25 s; stay below it so a proxy's idle timeout is less likely to bite.
_LONG_POLL_MS = 20_000
# Largest log page the server serves.
_LOG_PAGE = 1000


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuses to follow redirects: urllib would resend the Authorization header to any host and
    turn a POST into a GET. A 3xx therefore surfaces as a :class:`HangarError`."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def _env(name: str) -> Optional[str]:
    value = os.environ.get(name)
    return value if value else None


def _path_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    return urllib.parse.quote(value, safe="")


def _iso(value: Union[str, _dt.datetime], what: str = "run_at") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{what} must be timezone-aware (e.g. datetime.now(timezone.utc)); a naive datetime is ambiguous")
        utc = value.astimezone(_dt.timezone.utc)
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raise TypeError(f"{what} must be a datetime or an ISO 8601 string, got {type(value).__name__}")


def _page_size(limit: Optional[int]) -> None:
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValueError(f"limit (the page size) must be a positive int, got {limit!r}")


def _given(**fields: Any) -> Dict[str, Any]:
    """The fields that are not ``None``, by their JSON names: an argument left out is not sent, so
    the server applies its default (on create) or leaves the field as it is (on update)."""
    return {name: value for name, value in fields.items() if value is not None}


def _changes(method: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """``body`` of an update, which must change something: an empty PATCH is a caller's mistake,
    better raised here than sent."""
    if not body:
        raise ValueError(f"{method}: nothing to change")
    return body


def _user_path(username: str) -> str:
    return f"/api/v1/users/{_path_id(username, 'username')}"


def _team_path(team: str) -> str:
    return f"/api/v1/teams/{_path_id(team, 'team')}"


def _project_path(project: str) -> str:
    return f"/api/v1/projects/{_path_id(project, 'project')}"


def _job_path(id: str) -> str:
    return f"/api/v1/jobs/{_path_id(id, 'job id')}"


def _member_path(parent: str, username: str) -> str:
    """A member of a team or project (``parent`` is its path)."""
    return f"{parent}/members/{_path_id(username, 'username')}"


def _secret_path(project: str, name: str) -> str:
    return f"{_project_path(project)}/secrets/{_path_id(name, 'secret name')}"


class _Unset:
    """Marks an argument that was not passed, where ``None`` is a meaningful value (clear the e-mail)."""

    def __repr__(self) -> str:
        return "UNSET"


_UNSET: Any = _Unset()


def _follow_pages(fetch: Callable[[Optional[str]], Mapping[str, Any]]) -> Iterator[Any]:
    """Yields the items of every page, following ``nextCursor``; lazily, one request per page."""
    cursor: Optional[str] = None
    seen = set()
    while True:
        page = fetch(cursor)
        for item in page["items"]:
            yield item
        cursor = page.get("nextCursor")
        if not cursor:
            return
        if cursor in seen:
            raise HangarError(0, "invalid_response", f"the server returned cursor {cursor!r} twice; stopping")
        seen.add(cursor)


class Client:
    """A client for one Hangar server.

    Args:
        url: The server's base URL, e.g. ``http://127.0.0.1:8080`` (a path prefix such as
            ``https://example.com/hangar`` is kept). Defaults to ``$HANGAR_URL``.
        token: An API token (``hgr_...``), sent as ``Authorization: Bearer``. Defaults to
            ``$HANGAR_TOKEN`` unless a ``password`` is given.
        username: With ``password``: HTTP Basic with username and password. With a token and no
            password: HTTP Basic with username and token (the form MLflow-style clients use; the
            server then also checks the token belongs to that user).
        password: The user's password; needs ``username`` and excludes an explicit ``token``.
        timeout: Seconds to wait for each HTTP response (connect and read). Long polls add their
            own wait on top of it.

    With no credentials at all only the public endpoints (:meth:`health`, :meth:`ready`,
    :meth:`version`) work; the others raise ``HangarError(401, "unauthenticated", ...)``.

    Raises:
        ValueError: no URL (neither ``url`` nor ``$HANGAR_URL``), a URL that is not http(s), or
            an inconsistent set of credentials.

    Every method either returns the decoded JSON answer or raises :class:`HangarError`: with the
    HTTP status, the server's error ``code``, ``message`` and ``request_id`` when the server
    answered with an error, or with ``status == 0`` (``code`` ``"connection_error"`` or
    ``"timeout"``) when no HTTP response arrived. Requests are not retried. The client keeps no
    connection state, so one instance may be shared between threads. Proxies are taken from the
    usual ``http_proxy``/``https_proxy``/``no_proxy`` variables, as urllib does; redirects are
    never followed.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        timeout: float = 30,
    ) -> None:
        base = url if url is not None else _env("HANGAR_URL")
        if not base:
            raise ValueError("no Hangar server URL: pass url=... or set HANGAR_URL")
        parsed = urllib.parse.urlsplit(base.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"Hangar URL must look like http(s)://host[:port][/prefix], got {base!r}")
        if parsed.query or parsed.fragment:
            raise ValueError(f"Hangar URL must not have a query or fragment, got {base!r}")
        self.url: str = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))
        if not timeout or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout: float = float(timeout)

        if password is not None and username is None:
            raise ValueError("password given without username")
        if password is not None and token is not None:
            raise ValueError("pass either token or password, not both")
        if token is None and password is None:
            token = _env("HANGAR_TOKEN")
        self._auth_kind: str
        if username is not None and (password is not None or token is not None):
            secret = password if password is not None else cast(str, token)
            raw = f"{username}:{secret}".encode("utf-8")
            self._authorization: Optional[str] = "Basic " + base64.b64encode(raw).decode("ascii")
            self._auth_kind = "basic-password" if password is not None else "basic-token"
        elif token is not None:
            self._authorization = f"Bearer {token}"
            self._auth_kind = "bearer"
        else:
            self._authorization = None
            self._auth_kind = "anonymous"
        self._username = username
        self._user_agent = f"hangar-sdk-python/{__version__} (Python {platform.python_version()})"
        # ProxyHandler (from the environment) and the HTTP(S) handlers come by default.
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:
        who = f", username={self._username!r}" if self._username else ""
        return f"Client(url={self.url!r}, auth={self._auth_kind}{who}, timeout={self.timeout})"

    # ------------------------------------------------------------------ transport

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        timeout: Optional[float] = None,
        accept: Tuple[int, ...] = (),
    ) -> Any:
        """Sends one request and returns the decoded JSON body (``None`` for an empty body).

        ``accept`` lists non-2xx statuses whose body is returned instead of raised.
        """
        req, what = self._build(method, path, query, body, "application/json")
        wait = self.timeout if timeout is None else timeout
        try:
            with self._opener.open(req, timeout=wait) as resp:
                status = resp.status
                raw = resp.read()
                request_id = resp.headers.get("x-request-id")
        except urllib.error.HTTPError as err:
            status, raw, request_id = self._read_http_error(err)
            if status in accept:
                return self._decode(raw, status, request_id, what)
            raise self._error_from_response(status, err.reason, raw, request_id, err.headers) from None
        except (OSError, http.client.HTTPException) as err:
            raise self._transport_error(err, what, wait) from err
        return self._decode(raw, status, request_id, what)

    def _build(
        self, method: str, path: str, query: Optional[Mapping[str, Any]], body: Any, accept: str
    ) -> Tuple[urllib.request.Request, str]:
        url = self.url + path
        if query:
            pairs = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        headers = {"Accept": accept, "User-Agent": self._user_agent}
        if self._authorization:
            headers["Authorization"] = self._authorization
        data: Optional[bytes] = None
        if body is not None:
            # ASCII-escaped JSON: any str (even a lone surrogate) encodes; NaN/Infinity are not JSON.
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("ascii")
            headers["Content-Type"] = "application/json"
        return urllib.request.Request(url, data=data, headers=headers, method=method), f"{method} {url}"

    @staticmethod
    def _read_http_error(err: urllib.error.HTTPError) -> Tuple[int, bytes, Optional[str]]:
        try:
            raw = err.read()
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            err.close()
        return err.code, raw, (err.headers.get("x-request-id") if err.headers else None)

    def _transport_error(self, err: BaseException, what: str, wait: float) -> HangarError:
        """The HangarError (status 0) for a request that got no HTTP answer."""
        if isinstance(err, (socket.timeout, TimeoutError)):
            return HangarError(0, "timeout", f"no answer from {what} within {wait:g} s")
        if isinstance(err, urllib.error.URLError):
            if isinstance(err.reason, (socket.timeout, TimeoutError)):
                return HangarError(0, "timeout", f"no answer from {what} within {wait:g} s")
            return HangarError(0, "connection_error", f"cannot reach the Hangar server at {self.url} ({what}): {err.reason}")
        return HangarError(0, "connection_error", f"connection to the Hangar server at {self.url} failed during {what}: {err!r}")

    def _stream_lines(self, path: str, query: Optional[Mapping[str, Any]] = None) -> Iterator[bytes]:
        """GETs a JSON-lines answer and yields it line by line as it arrives (lazily: nothing is
        sent before the first ``next()``). A body that ends mid-line raises ``HangarError(0,
        "connection_error")``, so a cut-off stream is never taken for a complete one."""
        req, what = self._build("GET", path, query, None, "application/x-ndjson")
        wait = self.timeout

        def lines() -> Iterator[bytes]:
            try:
                resp = self._opener.open(req, timeout=wait)
            except urllib.error.HTTPError as err:
                status, raw, request_id = self._read_http_error(err)
                raise self._error_from_response(status, err.reason, raw, request_id, err.headers) from None
            except (OSError, http.client.HTTPException) as err:
                raise self._transport_error(err, what, wait) from err
            with resp:
                while True:
                    try:
                        line = resp.readline()
                    except (OSError, http.client.HTTPException) as err:
                        raise HangarError(0, "connection_error", f"the answer to {what} was cut off: {err!r}") from err
                    if not line:
                        return
                    if not line.endswith(b"\n"):
                        raise HangarError(0, "connection_error", f"the answer to {what} was cut off mid-line")
                    yield line

        return lines()

    @staticmethod
    def _decode(raw: bytes, status: int, request_id: Optional[str], what: str) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            snippet = raw[:200].decode("utf-8", "replace")
            raise HangarError(
                status, "invalid_response", f"{what} answered {status} with a body that is not JSON: {snippet!r}", request_id
            ) from err

    @staticmethod
    def _error_from_response(
        status: int, reason: Any, raw: bytes, request_id: Optional[str], headers: Any
    ) -> HangarError:
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError):
            parsed = None
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            details = error.get("details")
            return HangarError(
                status,
                error["code"],
                str(error.get("message") or f"HTTP {status}"),
                error.get("requestId") or request_id,
                details if isinstance(details, dict) else None,
            )
        # Not a Hangar error body: a proxy, a load balancer, or a redirect.
        if 300 <= status < 400:
            location = headers.get("Location") if headers else None
            message = f"the server redirected (HTTP {status}) to {location!r}; point the client at the final URL"
        else:
            snippet = raw[:200].decode("utf-8", "replace").strip()
            message = f"HTTP {status} {reason or ''}".rstrip() + (f": {snippet}" if snippet else "")
        return HangarError(status, f"http_{status}", message, request_id)

    def _items(self, path: str, query: Optional[Mapping[str, Any]] = None) -> List[Any]:
        """The ``items`` of an unpaged list answer (``{"items": [...]}``)."""
        return cast(List[Any], self._request("GET", path, query=query)["items"])

    def _page(self, path: str, filters: Mapping[str, Any], limit: Optional[int], cursor: Optional[str]) -> Any:
        """One page of a cursor-paged list: ``{"items": [...], "nextCursor": str | None}``."""
        return self._request("GET", path, query={**filters, "limit": limit, "cursor": cursor})

    def _all_pages(self, path: str, filters: Mapping[str, Any], limit: Optional[int]) -> Iterator[Any]:
        """Every item of a cursor-paged list, with ``limit`` as the page size. ``limit`` is checked
        now, so a bad one raises at the call; the pages are fetched lazily, so their errors surface
        on the first ``next()``."""
        _page_size(limit)
        return _follow_pages(lambda cursor: self._page(path, filters, limit, cursor))

    # ------------------------------------------------------------------ system (public)

    def health(self) -> Health:
        """Liveness (``GET /healthz``, no credentials needed): ``{"status": "ok"}``."""
        return cast(Health, self._request("GET", "/healthz"))

    def ready(self) -> Readiness:
        """Readiness (``GET /readyz``, no credentials needed).

        Returns the body both when ready (HTTP 200, ``status == "ready"``) and when not (HTTP 503,
        ``status == "not ready"``, ``checks`` naming what is missing); it does not raise for 503.
        """
        return cast(Readiness, self._request("GET", "/readyz", accept=(503,)))

    def version(self) -> VersionInfo:
        """Server version, Node version, store engine and roles (``GET /version``, public)."""
        return cast(VersionInfo, self._request("GET", "/version"))

    # ------------------------------------------------------------------ identity

    def whoami(self) -> Me:
        """The authenticated caller (``GET /api/v1/me``); ``tokenId`` is ``None`` for a password login.

        Raises ``HangarError(401, "unauthenticated")`` without valid credentials.
        """
        return cast(Me, self._request("GET", "/api/v1/me"))

    def create_token(
        self, name: str, expires_in_days: Optional[int] = None, *, project: Optional[str] = None
    ) -> CreatedToken:
        """Creates an API token for the caller (``POST /api/v1/tokens``).

        Args:
            name: 1-100 characters, not blank.
            expires_in_days: 1-3650, or ``None`` for a token that never expires.
            project: Confine the token to this project (by name): it then acts only there, with at
                most the caller's role. The caller needs a role in it. A caller using a
                project-scoped token can only create tokens for that same project.

        Returns the token's metadata plus ``token``, the secret. The server keeps only a hash: this
        is the only time the secret can be read.
        """
        body = {"name": name, **_given(expiresInDays=expires_in_days, project=project)}
        return cast(CreatedToken, self._request("POST", "/api/v1/tokens", body=body))

    def list_tokens(self, user: Optional[str] = None) -> List[Token]:
        """The caller's API tokens, revoked ones included (``revokedAt`` set); never the secrets.

        ``user``: another user's tokens (platform admins only; others get ``403 "forbidden"``).
        """
        return cast(List[Token], self._items("/api/v1/tokens", {"user": user}))

    def revoke_token(self, id: str) -> None:
        """Revokes one of the caller's tokens (admins: anyone's) by id (``DELETE /api/v1/tokens/{id}``).

        Raises ``HangarError(404, "not_found")`` when there is no such *active* token, including
        one already revoked. On the server process that handled the revoke the token stops working
        at once; other server processes may accept it for up to their auth cache TTL (5 s default).
        """
        self._request("DELETE", f"/api/v1/tokens/{_path_id(id, 'token id')}")

    # ------------------------------------------------------------------ users

    def list_users_page(
        self,
        query: Optional[str] = None,
        *,
        include_disabled: bool = False,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> UserPage:
        """One page of the user directory, by username (``GET /api/v1/users``); any signed-in user.

        Args:
            query: Only users whose username or display name contains this.
            include_disabled: Include disabled accounts (left out by default).
            limit: Page size, 1..500 (server default 100).
            cursor: The ``nextCursor`` of the previous page.
        """
        return cast(UserPage, self._page("/api/v1/users", self._user_filters(query, include_disabled), limit, cursor))

    def list_users(
        self, query: Optional[str] = None, *, include_disabled: bool = False, limit: Optional[int] = None
    ) -> Iterator[User]:
        """Every matching user, following ``nextCursor`` (``limit`` is the page size). Lazy: errors
        surface on the first ``next()``."""
        return cast(Iterator[User], self._all_pages("/api/v1/users", self._user_filters(query, include_disabled), limit))

    @staticmethod
    def _user_filters(query: Optional[str], include_disabled: bool) -> Dict[str, Any]:
        return {"query": query, "includeDisabled": include_disabled or None}

    def get_user(self, username: str) -> User:
        """One user (``GET /api/v1/users/{username}``); ``HangarError(404, "not_found")`` if none."""
        return cast(User, self._request("GET", _user_path(username)))

    def create_user(
        self,
        username: str,
        *,
        display_name: Optional[str] = None,
        email: Optional[str] = None,
        password: Optional[str] = None,
        is_admin: bool = False,
    ) -> CreatedUser:
        """Creates a user (platform admins; ``POST /api/v1/users``). The user joins the ``default``
        team, so they can develop in the ``default`` project at once.

        Args:
            username: Lower-case letters, digits, ``.``, ``_`` and ``-`` (at most 64).
            password: At least 8 characters; ``None`` lets the server generate one, returned once
                as ``generatedPassword``.

        Raises ``HangarError(409, "conflict")`` when the username is taken, ``403 "forbidden"``
        for callers who are not platform admins.
        """
        body = {
            "username": username,
            **_given(displayName=display_name, email=email, password=password, isAdmin=is_admin or None),
        }
        return cast(CreatedUser, self._request("POST", "/api/v1/users", body=body))

    def update_user(
        self,
        username: str,
        *,
        display_name: Optional[str] = None,
        email: Optional[str] = _UNSET,
        is_admin: Optional[bool] = None,
        disabled: Optional[bool] = None,
    ) -> User:
        """Changes a user (``PATCH /api/v1/users/{username}``) and returns it.

        Users may change their own ``display_name`` and ``email`` (``email=None`` removes it);
        platform admins anyone's, and also ``is_admin`` and ``disabled``. The last active platform
        admin can be neither demoted nor disabled (``409 "conflict"``). Arguments left out are
        not changed; passing none raises ``ValueError``.
        """
        body = _given(displayName=display_name, isAdmin=is_admin, disabled=disabled)
        if email is not _UNSET:
            body["email"] = email  # None is sent: it removes the e-mail
        return cast(User, self._request("PATCH", _user_path(username), body=_changes("update_user", body)))

    def disable_user(self, username: str) -> User:
        """Disables an account (platform admins): its password, sessions and tokens stop working."""
        return self.update_user(username, disabled=True)

    def enable_user(self, username: str) -> User:
        """Enables a disabled account again (platform admins)."""
        return self.update_user(username, disabled=False)

    def set_admin(self, username: str, is_admin: bool) -> User:
        """Grants (``True``) or takes away (``False``) platform admin (platform admins)."""
        return self.update_user(username, is_admin=is_admin)

    def set_password(self, username: str, new_password: str, current_password: Optional[str] = None) -> None:
        """Changes a password (``PUT /api/v1/users/{username}/password``).

        Your own needs ``current_password`` (a wrong one raises ``HangarError(401,
        "unauthenticated")``); platform admins may reset anyone else's without it. The user's other
        browser sessions end; API tokens keep working.
        """
        body = {"newPassword": new_password, **_given(currentPassword=current_password)}
        self._request("PUT", f"{_user_path(username)}/password", body=body)

    # ------------------------------------------------------------------ teams

    def list_teams(self) -> List[Team]:
        """All teams (``GET /api/v1/teams``)."""
        return cast(List[Team], self._items("/api/v1/teams"))

    def get_team(self, name: str) -> TeamDetail:
        """A team and its members (``GET /api/v1/teams/{team}``)."""
        return cast(TeamDetail, self._request("GET", _team_path(name)))

    def create_team(self, name: str, *, display_name: Optional[str] = None, description: Optional[str] = None) -> Team:
        """Creates a team (platform admins). ``name``: lower-case letters, digits and ``-``."""
        body = {"name": name, **_given(displayName=display_name, description=description)}
        return cast(Team, self._request("POST", "/api/v1/teams", body=body))

    def update_team(self, name: str, *, display_name: Optional[str] = None, description: Optional[str] = None) -> Team:
        """Changes a team's display name or description (its leads, platform admins)."""
        body = _changes("update_team", _given(displayName=display_name, description=description))
        return cast(Team, self._request("PATCH", _team_path(name), body=body))

    def delete_team(self, name: str) -> None:
        """Deletes a team that owns no projects (platform admins); ``409 "conflict"`` otherwise."""
        self._request("DELETE", _team_path(name))

    def set_team_member(self, team: str, username: str, role: str = "member") -> TeamMember:
        """Adds a user to a team or changes their role, ``"member"`` or ``"lead"`` (team leads,
        platform admins). Leads administer the team's projects; members develop in them."""
        return cast(TeamMember, self._request("PUT", _member_path(_team_path(team), username), body={"role": role}))

    def remove_team_member(self, team: str, username: str) -> None:
        """Removes a user from a team (team leads, platform admins)."""
        self._request("DELETE", _member_path(_team_path(team), username))

    # ------------------------------------------------------------------ projects

    def list_projects(self) -> List[Project]:
        """The projects the caller has a role in (platform admins: all), with ``role`` the caller's."""
        return cast(List[Project], self._items("/api/v1/projects"))

    def get_project(self, name: str) -> Project:
        """One project. Callers without a role in it get ``404 "not_found"``, as if it did not exist."""
        return cast(Project, self._request("GET", _project_path(name)))

    def create_project(
        self, name: str, team: str, *, display_name: Optional[str] = None, description: Optional[str] = None
    ) -> Project:
        """Creates a project owned by ``team`` (the team's leads, platform admins). The team's
        leads become its admins and its members its developers."""
        body = {"name": name, "team": team, **_given(displayName=display_name, description=description)}
        return cast(Project, self._request("POST", "/api/v1/projects", body=body))

    def update_project(
        self,
        name: str,
        *,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        team: Optional[str] = None,
    ) -> Project:
        """Changes a project (project admins); moving it to another ``team`` needs a platform admin."""
        body = _changes("update_project", _given(displayName=display_name, description=description, team=team))
        return cast(Project, self._request("PATCH", _project_path(name), body=body))

    def delete_project(self, name: str) -> None:
        """Deletes a project and everything in it (platform admins)."""
        self._request("DELETE", _project_path(name))

    def list_project_members(self, project: str) -> List[ProjectMember]:
        """Everyone with a role in the project, direct or through the owning team."""
        return cast(List[ProjectMember], self._items(f"{_project_path(project)}/members"))

    def set_project_member(self, project: str, username: str, role: str) -> ProjectMember:
        """Grants ``role`` (``viewer``, ``developer``, ``maintainer`` or ``admin``) in the project
        directly (project admins). The effective role is the strongest of this and the team's."""
        path = _member_path(_project_path(project), username)
        return cast(ProjectMember, self._request("PUT", path, body={"role": role}))

    def remove_project_member(self, project: str, username: str) -> None:
        """Removes a direct grant (project admins); a role through the owning team stays."""
        self._request("DELETE", _member_path(_project_path(project), username))

    def list_secrets(self, project: str) -> List[Secret]:
        """A project's secrets: names and dates, never values (developers)."""
        return cast(List[Secret], self._items(f"{_project_path(project)}/secrets"))

    def set_secret(self, project: str, name: str, value: str) -> Secret:
        """Stores a secret, encrypted at rest, replacing any previous value (maintainers).
        ``name`` looks like an environment variable name. The value is never returned."""
        return cast(Secret, self._request("PUT", _secret_path(project, name), body={"value": value}))

    def delete_secret(self, project: str, name: str) -> None:
        """Deletes a secret (maintainers)."""
        self._request("DELETE", _secret_path(project, name))

    # ------------------------------------------------------------------ audit

    @staticmethod
    def _audit_filters(
        actor: Optional[str],
        target: Optional[str],
        action: Optional[str],
        outcome: Optional[str],
        project: Optional[str],
        since: Optional[Union[str, _dt.datetime]],
        until: Optional[Union[str, _dt.datetime]],
    ) -> Dict[str, Any]:
        return {
            "actor": actor,
            "target": target,
            "action": action,
            "outcome": outcome,
            "project": project,
            "since": None if since is None else _iso(since, "since"),
            "until": None if until is None else _iso(until, "until"),
        }

    def list_audit_events_page(
        self,
        *,
        actor: Optional[str] = None,
        target: Optional[str] = None,
        action: Optional[str] = None,
        outcome: Optional[str] = None,
        project: Optional[str] = None,
        since: Optional[Union[str, _dt.datetime]] = None,
        until: Optional[Union[str, _dt.datetime]] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> AuditPage:
        """One page of audit events, newest first (``GET /api/v1/audit``).

        Platform admins read everything; project maintainers and admins read their projects'
        events (others get ``403 "forbidden"``).

        Args:
            actor: Only events by this username.
            target: Only events about this target (a project, team or user name, a token id).
            action: An action such as ``"project.create"``, or a family: ``"project.*"``.
            outcome: ``"success"``, ``"denied"`` or ``"failure"``.
            project: Only events in this project (needs maintainer there).
            since, until: Time bounds: timezone-aware datetimes or ISO 8601 strings.
            limit: Page size, 1..1000 (server default 100).
            cursor: The ``nextCursor`` of the previous page.
        """
        filters = self._audit_filters(actor, target, action, outcome, project, since, until)
        return cast(AuditPage, self._page("/api/v1/audit", filters, limit, cursor))

    def list_audit_events(
        self,
        *,
        actor: Optional[str] = None,
        target: Optional[str] = None,
        action: Optional[str] = None,
        outcome: Optional[str] = None,
        project: Optional[str] = None,
        since: Optional[Union[str, _dt.datetime]] = None,
        until: Optional[Union[str, _dt.datetime]] = None,
        limit: Optional[int] = None,
    ) -> Iterator[AuditEvent]:
        """Every matching audit event, newest first, following ``nextCursor`` (``limit`` is the
        page size). Lazy: errors surface on the first ``next()``. See :meth:`list_audit_events_page`."""
        filters = self._audit_filters(actor, target, action, outcome, project, since, until)
        return cast(Iterator[AuditEvent], self._all_pages("/api/v1/audit", filters, limit))

    def export_audit_events(
        self,
        *,
        actor: Optional[str] = None,
        target: Optional[str] = None,
        action: Optional[str] = None,
        outcome: Optional[str] = None,
        project: Optional[str] = None,
        since: Optional[Union[str, _dt.datetime]] = None,
        until: Optional[Union[str, _dt.datetime]] = None,
    ) -> Iterator[AuditEvent]:
        """Every matching event, newest first, streamed from ``GET /api/v1/audit/export`` (JSON
        lines) in one request, so memory stays flat however long the log. Lazy: the request is sent
        on the first ``next()``. Same filters and permissions as :meth:`list_audit_events_page`."""
        query = self._audit_filters(actor, target, action, outcome, project, since, until)
        lines = self._stream_lines("/api/v1/audit/export", query)
        return (cast(AuditEvent, json.loads(line.decode("utf-8"))) for line in lines if line.strip())

    def verify_audit_chain(self) -> AuditVerification:
        """Recomputes the audit log's hash chain on the server (platform admins).

        Returns ``{"ok", "checked", "pending", "headSeq", "problem"}``; when ``ok`` is false,
        ``problem`` names the first event that does not verify (``seq``) and why (``reason``).
        It does not raise for a broken chain: check ``ok``.
        """
        return cast(AuditVerification, self._request("GET", "/api/v1/audit/verify"))

    # ------------------------------------------------------------------ jobs

    def enqueue_job(
        self,
        kind: str,
        payload: Optional[Any] = None,
        *,
        priority: Optional[int] = None,
        max_attempts: Optional[int] = None,
        run_at: Optional[Union[str, _dt.datetime]] = None,
    ) -> Job:
        """Enqueues a background job (``POST /api/v1/jobs``) and returns it, normally ``queued``.

        Args:
            kind: A registered job kind, e.g. ``"system.noop"`` or (admins only) ``"system.exec"``.
            payload: JSON-serialisable input validated against the kind's schema; ``None`` sends
                none (the server uses ``{}``). For ``system.exec``: ``{"command": [...],
                "env": {...}, "python": {"requirements": [...]}, "timeoutMs": n}``.
            priority: -1000..1000, higher runs first (default 0).
            max_attempts: 1..100 (server default 3); failed attempts are retried with backoff.
            run_at: Not before this time: a timezone-aware ``datetime`` or an ISO 8601 string.

        Raises ``HangarError(400, "invalid_input")`` for an unknown kind or a bad payload (with
        ``details["field"]``), ``403 "forbidden"`` for an admin-only kind, and ``ValueError`` for
        a payload that cannot be JSON (NaN, infinities).
        """
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"kind must be a non-empty string, got {kind!r}")
        body = {
            "kind": kind,
            **_given(
                payload=payload,
                priority=priority,
                maxAttempts=max_attempts,
                runAt=None if run_at is None else _iso(run_at),
            ),
        }
        return cast(Job, self._request("POST", "/api/v1/jobs", body=body))

    def get_job(self, id: str) -> Job:
        """One job by id (``GET /api/v1/jobs/{id}``); ``HangarError(404, "not_found")`` if there is
        none the caller may see (non-admins see only their own)."""
        return cast(Job, self._request("GET", _job_path(id)))

    def list_jobs_page(
        self,
        state: Optional[str] = None,
        kind: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> JobPage:
        """One page of jobs, newest first (``GET /api/v1/jobs``).

        Args:
            state: Only jobs in this state (``queued``, ``running``, ``succeeded``, ``failed``,
                ``cancelled``).
            kind: Only jobs of this kind.
            limit: Page size, 1..500 (server default 50).
            cursor: The ``nextCursor`` of the previous page; ``None`` for the first page.

        Returns ``{"items": [...], "nextCursor": str | None}``; ``nextCursor`` is ``None`` on the
        last page. Cursors are opaque: pass them back unchanged, with the same filters.
        """
        return cast(JobPage, self._page("/api/v1/jobs", {"state": state, "kind": kind}, limit, cursor))

    def list_jobs(
        self,
        state: Optional[str] = None,
        kind: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Iterator[Job]:
        """Every job matching the filters, newest first, following ``nextCursor`` across pages.

        ``limit`` is the page size (1..500, server default 50), not a cap on the total: to stop
        early, use ``itertools.islice`` or break out of the loop; no further pages are fetched.
        Pages are fetched lazily, so errors (e.g. 401) are raised by the first ``next()``, not by
        this call. Jobs created while iterating are not included (the cursor only moves back in
        time); a job that changes state between pages still appears exactly once.
        """
        return cast(Iterator[Job], self._all_pages("/api/v1/jobs", {"state": state, "kind": kind}, limit))

    def cancel_job(self, id: str) -> Job:
        """Asks for a job to be cancelled (``POST /api/v1/jobs/{id}/cancel``) and returns it.

        A queued job is ``cancelled`` at once. A running one comes back still ``running`` with
        ``cancelRequested`` true: its worker notices on its next lease heartbeat (every
        ``jobLeaseMs / 3``, 10 s by default), kills the process tree, and only then does the state
        become ``cancelled``; use :meth:`wait_job` to see that. Finished jobs are returned
        unchanged (cancelling is idempotent).
        """
        return cast(Job, self._request("POST", f"{_job_path(id)}/cancel"))

    def job_log_chunks(self, id: str, follow: bool = False, *, after: int = 0, timeout: Optional[float] = None) -> Iterator[LogChunk]:
        """The job's log chunks in order, each ``{id, attempt, stream, data, createdAt}``.

        Without ``follow``: what has been written so far, then the iterator ends. With
        ``follow``: long-polls (``waitMs``) for more until the job has finished and every chunk
        has been returned, like ``tail -f`` that stops by itself. Logs of every attempt are
        included (see ``attempt``); ``stream`` is ``stdout``, ``stderr`` or ``system`` (the
        platform's own notes, e.g. about cancellation or truncation).

        Args:
            after: Start after this chunk id (``0``: from the beginning).
            timeout: With ``follow``, give up after this many seconds by raising
                :class:`WaitTimeoutError`; ``None`` follows for as long as the job runs.
        """
        path = f"{_job_path(id)}/logs"
        deadline = None if timeout is None else time.monotonic() + timeout

        def chunks() -> Iterator[LogChunk]:
            cursor = after
            while True:
                wait_ms = 0
                if follow:
                    wait_ms = _LONG_POLL_MS
                    if deadline is not None:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise WaitTimeoutError(f"job {id} was still writing logs after {timeout:g} s")
                        wait_ms = max(0, min(wait_ms, int(left * 1000)))
                started = time.monotonic()
                page = cast(
                    JobLogs,
                    self._request(
                        "GET",
                        path,
                        query={"after": cursor, "limit": _LOG_PAGE, "waitMs": wait_ms},
                        timeout=self.timeout + wait_ms / 1000,
                    ),
                )
                for chunk in page["chunks"]:
                    yield chunk
                cursor = page["next"]
                if page["complete"]:
                    return
                if not page["chunks"]:
                    if not follow:
                        return
                    # A server that answered at once without waiting must not make us spin.
                    if time.monotonic() - started < 0.2:
                        time.sleep(0.2)
                elif not follow and len(page["chunks"]) < _LOG_PAGE:
                    return

        return chunks()

    def job_logs(self, id: str, follow: bool = False, *, timeout: Optional[float] = None) -> Iterator[str]:
        """The job's output as text pieces (stdout, stderr and system notes, interleaved in the
        order they were recorded). ``"".join(client.job_logs(id))`` is the whole log so far.

        See :meth:`job_log_chunks` for ``follow`` and ``timeout`` and for the metadata of each piece.
        Pieces are the chunks the server recorded, not lines: a line may span pieces.
        """
        return (chunk["data"] for chunk in self.job_log_chunks(id, follow, timeout=timeout))

    def wait_job(self, id: str, timeout: Optional[float] = 300.0, *, poll_interval: float = 1.0) -> Job:
        """Polls the job until it is ``succeeded``, ``failed`` or ``cancelled`` and returns it.

        Note that ``failed`` means every attempt failed: between retries a job goes back to
        ``queued`` and waiting goes on. Polls start at 0.1 s apart and slow to ``poll_interval``.

        Args:
            timeout: Seconds to wait; ``None`` waits forever.

        Raises :class:`WaitTimeoutError` (``status`` 0, ``code`` ``"timeout"``, ``.job`` the last
        state seen) when the job has not finished in time; it is not cancelled.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.1
        while True:
            job = self.get_job(id)
            if job["state"] in FINAL_STATES:
                return job
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeoutError(f"job {id} still {job['state']} after {timeout:g} s", job=job)
                time.sleep(min(delay, left))
            else:
                time.sleep(delay)
            delay = min(poll_interval, delay * 1.5)
