"""Shapes of the JSON the Hangar API returns.

These are ``TypedDict`` s: at run time every value is a plain ``dict`` decoded from JSON, so
fields the server adds later appear without an SDK upgrade. Timestamps are ISO 8601 strings in
UTC (``"2026-01-31T12:00:00.000Z"``); ids are opaque strings.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
"""A job's lifecycle state. ``succeeded``, ``failed`` and ``cancelled`` are final."""

FINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})


class Health(TypedDict):
    """``GET /healthz``: ``{"status": "ok"}`` while the process is alive."""

    status: str


class Readiness(TypedDict):
    """``GET /readyz``: ``status`` is ``"ready"`` or ``"not ready"``; ``checks`` says why."""

    status: str
    checks: Dict[str, str]


class VersionInfo(TypedDict):
    """``GET /version``."""

    version: str
    node: str
    engine: str
    roles: List[str]


ProjectRole = Literal["viewer", "developer", "maintainer", "admin"]
"""A role in a project, weakest first; each includes the powers of the ones before it."""

TeamRole = Literal["member", "lead"]
"""A role in a team: members develop in the team's projects, leads administer them."""

AuditOutcome = Literal["success", "denied", "failure"]


class User(TypedDict):
    """A user account (``GET /api/v1/users/{username}``)."""

    id: str
    username: str
    displayName: str
    email: Optional[str]
    isAdmin: bool
    disabled: bool
    createdAt: str


class Me(User):
    """``GET /api/v1/me``: the caller. ``tokenId`` is set when it authenticated with a token;
    ``projectId`` when that token is confined to one project (the project's id, not its name)."""

    tokenId: Optional[str]
    projectId: Optional[str]


class UserPage(TypedDict):
    """One page of ``GET /api/v1/users``; pass ``nextCursor`` back for the next (``None``: last)."""

    items: List[User]
    nextCursor: Optional[str]


class CreatedUser(TypedDict):
    """``POST /api/v1/users``: the user, plus the generated password when none was given (shown once)."""

    user: User
    generatedPassword: Optional[str]


class Team(TypedDict):
    """A team (``GET /api/v1/teams``)."""

    id: str
    name: str
    displayName: str
    description: str
    memberCount: int
    createdAt: str


class TeamMember(TypedDict):
    """A member of a team."""

    username: str
    displayName: str
    role: TeamRole
    addedAt: str


class TeamDetail(Team):
    """``GET /api/v1/teams/{team}``: the team and its members."""

    members: List[TeamMember]


class Project(TypedDict):
    """A project; ``role`` is the caller's effective role in it, ``team`` the owning team's name."""

    id: str
    name: str
    displayName: str
    description: str
    team: str
    role: ProjectRole
    createdAt: str
    updatedAt: str


class ProjectMember(TypedDict):
    """Someone with a role in a project: ``role`` is the effective one, the strongest of
    ``directRole`` (a grant on the project) and what ``teamRole`` in the owning team gives."""

    username: str
    displayName: str
    role: ProjectRole
    directRole: Optional[ProjectRole]
    teamRole: Optional[TeamRole]


class Secret(TypedDict):
    """A project secret's metadata; the value is never returned."""

    name: str
    createdBy: Optional[str]
    createdAt: str
    updatedAt: str


class Token(TypedDict):
    """An API token as listed (the secret is never returned again after creation).
    ``project`` is the name of the project it is confined to, ``None`` for an unscoped token."""

    id: str
    name: str
    prefix: str
    project: Optional[str]
    createdAt: str
    expiresAt: Optional[str]
    lastUsedAt: Optional[str]
    revokedAt: Optional[str]


class CreatedToken(Token):
    """``POST /api/v1/tokens``: a :class:`Token` plus ``token``, the secret, shown once."""

    token: str


class AuditEvent(TypedDict):
    """One entry of the hash-chained audit log. ``seq`` and ``hash`` are ``None`` until the event
    is linked into the chain (normally within a second)."""

    id: str
    seq: Optional[int]
    at: str
    actor: str
    actorId: Optional[str]
    action: str
    targetType: str
    target: str
    projectId: Optional[str]
    outcome: AuditOutcome
    requestId: Optional[str]
    ip: Optional[str]
    details: Dict[str, Any]
    hash: Optional[str]


class AuditPage(TypedDict):
    """One page of ``GET /api/v1/audit``, newest first."""

    items: List[AuditEvent]
    nextCursor: Optional[str]


class AuditProblem(TypedDict):
    """The first event of the chain that does not verify, and why."""

    seq: int
    reason: str


class AuditVerification(TypedDict):
    """``GET /api/v1/audit/verify``: ``ok`` when every linked event up to ``headSeq`` verifies;
    ``pending`` counts events not linked yet."""

    ok: bool
    checked: int
    pending: int
    headSeq: int
    problem: Optional[AuditProblem]


class JobUsage(TypedDict):
    """Resources the job's last attempt used; ``None`` until an attempt has finished."""

    wallSeconds: Optional[float]
    cpuSeconds: Optional[float]
    peakRssBytes: Optional[float]


class Job(TypedDict):
    """A background job."""

    id: str
    kind: str
    state: JobState
    payload: Any
    result: Any
    error: Optional[str]
    priority: int
    attempt: int
    maxAttempts: int
    runAt: str
    cancelRequested: bool
    worker: Optional[str]
    createdBy: Optional[str]
    createdAt: str
    startedAt: Optional[str]
    finishedAt: Optional[str]
    usage: JobUsage
    logBytes: int
    logsTruncated: bool


class JobPage(TypedDict):
    """One page of ``GET /api/v1/jobs``; pass ``nextCursor`` back for the next (``None``: last)."""

    items: List[Job]
    nextCursor: Optional[str]


class LogChunk(TypedDict):
    """One piece of a job's output. ``stream`` is ``stdout``, ``stderr`` or ``system``."""

    id: int
    attempt: int
    stream: str
    data: str
    createdAt: str


class JobLogs(TypedDict):
    """``GET /api/v1/jobs/{id}/logs``."""

    chunks: List[LogChunk]
    next: int
    complete: bool
    state: JobState
