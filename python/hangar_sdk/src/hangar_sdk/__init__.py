"""Python client for the Hangar MLOps platform.

Quick start::

    from hangar_sdk import Client

    client = Client("http://127.0.0.1:8080", token="hgr_...")  # or HANGAR_URL / HANGAR_TOKEN
    job = client.enqueue_job("system.noop")
    print(client.wait_job(job["id"], timeout=60)["state"])

Every failed request raises :class:`HangarError` (``status`` 0 when no HTTP response arrived).
"""

from ._version import __version__
from .client import Client
from .errors import HangarError, WaitTimeoutError
from .models import (
    FINAL_STATES,
    AuditEvent,
    AuditOutcome,
    AuditPage,
    AuditProblem,
    AuditVerification,
    CreatedToken,
    CreatedUser,
    Health,
    Job,
    JobLogs,
    JobPage,
    JobState,
    JobUsage,
    LogChunk,
    Me,
    Project,
    ProjectMember,
    ProjectRole,
    Readiness,
    Secret,
    Team,
    TeamDetail,
    TeamMember,
    TeamRole,
    Token,
    User,
    UserPage,
    VersionInfo,
)

__all__ = [
    "FINAL_STATES",
    "AuditEvent",
    "AuditOutcome",
    "AuditPage",
    "AuditProblem",
    "AuditVerification",
    "Client",
    "CreatedToken",
    "CreatedUser",
    "HangarError",
    "Health",
    "Job",
    "JobLogs",
    "JobPage",
    "JobState",
    "JobUsage",
    "LogChunk",
    "Me",
    "Project",
    "ProjectMember",
    "ProjectRole",
    "Readiness",
    "Secret",
    "Team",
    "TeamDetail",
    "TeamMember",
    "TeamRole",
    "Token",
    "User",
    "UserPage",
    "VersionInfo",
    "WaitTimeoutError",
    "__version__",
]
