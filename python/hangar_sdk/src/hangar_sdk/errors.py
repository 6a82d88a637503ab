"""The one exception type the SDK raises for anything the server or the network says no to."""

from __future__ import annotations

from typing import Any, Dict, Optional


class HangarError(Exception):
    """A request to a Hangar server did not succeed.

    Attributes:
        status: The HTTP status of the error response, or ``0`` when no HTTP response arrived at
            all (connection refused, DNS failure, TLS failure, timeout, or a wait that ran out).
        code: The server's stable machine-readable code (``"unauthenticated"``, ``"not_found"``,
            ``"invalid_input"``, ...). For errors without a Hangar error body it is
            ``"http_<status>"``; for status 0 it is ``"connection_error"`` or ``"timeout"``.
        message: A human-readable explanation (the server's own wording where there is one).
        request_id: The server's request id (from the error body, else the ``x-request-id``
            header); quote it to an operator to find the request in the server logs. ``None``
            when no response arrived.
        details: Extra structured information from the server (e.g. ``{"field": "kind"}``), or
            an empty dict.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: Optional[str] = None,
        details: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.status: int = status
        self.code: str = code
        self.message: str = message
        self.request_id: Optional[str] = request_id
        self.details: Dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no response"
        text = f"{self.message} ({where}, code {self.code}"
        if self.request_id:
            text += f", request id {self.request_id}"
        return text + ")"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> Any:
        # Keep the attributes when pickled (e.g. across multiprocessing boundaries).
        return (type(self), (self.status, self.code, self.message, self.request_id, self.details))


class WaitTimeoutError(HangarError):
    """:meth:`hangar_sdk.Client.wait_job` gave up before the job finished.

    ``status`` is 0 and ``code`` is ``"timeout"``; ``job`` holds the last state seen, so callers
    can report how far it got or cancel it.
    """

    def __init__(self, message: str, job: Any = None) -> None:
        super().__init__(0, "timeout", message)
        self.job = job

    def __reduce__(self) -> Any:
        return (type(self), (self.message, self.job))
