"""Errors the shell raises for the web and the command line to turn into answers.

The web layer maps each to an RFC 9457 problem-details response with the given status;
the command line prints the message and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class FondoError(Exception):
    """Base of the errors a user can be shown; ``status`` is the HTTP status to answer."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = dict(extra or {})


class InvalidInput(FondoError):
    """A request value is invalid; ``field`` names it."""

    status = 422
    title = "Invalid input"


class NotFound(FondoError):
    """The requested record does not exist (or the caller may not know it does)."""

    status = 404
    title = "Not found"


class Conflict(FondoError):
    """The request conflicts with stored state (a duplicate, an illegal transition)."""

    status = 409
    title = "Conflict"


class Busy(FondoError):
    """The database stayed busy (locked, deadlocked, serialisation failures) through every
    retry; the caller may send the same request again after ``retry_after_s`` seconds."""

    status = 503
    title = "Service busy"

    def __init__(self, detail: str, *, retry_after_s: int = 1, field: str | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(detail, field=field, extra={"retry_after_s": retry_after_s,
                                                     **(extra or {})})
        self.retry_after_s = retry_after_s


class QueueUnavailable(Busy):
    """The task queue (Celery's broker or result store) cannot be reached: the long task was
    not sent and nothing was stored; the caller may try again after ``retry_after_s``."""

    title = "Task queue unavailable"


def invalid_from(exc: ValueError, default_field: str | None = None) -> InvalidInput:
    """Wrap a domain ``ValueError`` (which may carry ``field``) as :class:`InvalidInput`."""
    return InvalidInput(str(exc), field=getattr(exc, "field", None) or default_field)
