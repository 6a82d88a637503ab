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


class Me(TypedDict):
    """``GET /api/v1/me``: the caller. ``tokenId`` is set when it authenticated with a token."""

    id: str
    username: str
    displayName: str
    email: Optional[str]
    isAdmin: bool
    tokenId: Optional[str]


class Token(TypedDict):
    """An API token as listed (the secret is never returned again after creation)."""

    id: str
    name: str
    prefix: str
    createdAt: str
    expiresAt: Optional[str]
    lastUsedAt: Optional[str]
    revokedAt: Optional[str]


class CreatedToken(Token):
    """``POST /api/v1/tokens``: a :class:`Token` plus ``token``, the secret, shown once."""

    token: str


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
