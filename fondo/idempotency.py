"""Idempotency keys: a creation request sent twice creates once (the ``idempotency_keys`` table).

A client that may retry a creation (``POST /api/v1/finance/cases``, ``/api/v1/studies``,
``/api/v1/screenings``) sends an ``Idempotency-Key`` header (IETF
draft-ietf-httpapi-idempotency-key-header). The web layer (:mod:`web.api.idempotency`)
calls :func:`claim_key` before the view and :func:`store_response` or
:func:`release_key` after it:

- same user, same key, same method, path and body SHA-256 as a completed request: the
  stored first response is replayed (same status, body and ``Location``), nothing runs;
- same user and key with another body, method or path: :class:`~fondo.errors.Conflict`
  naming ``Idempotency-Key``;
- the first request with that key still running: the later one **waits** (polling the
  row every :data:`POLL_INTERVAL_S`) up to :data:`WAIT_FOR_FIRST_S` and then replays the
  first response; if the first is still running then, :class:`KeyInProgress` (409 with
  ``Retry-After``). The unique constraint on (``user_id``, ``key``) makes exactly one
  request win the claim, on SQLite and on PostgreSQL;
- only 2xx responses are stored: when the view fails (a 422, an exception) the key is
  released, so the client may correct the request and send it again with the same key;
- a key lives :data:`KEY_TTL` after its first use, then it is forgotten (the next use is
  a new request); a claim older than :data:`CLAIM_LEASE` that never completed (its
  process died) is taken over.

Keys belong to a user: two users may use the same key. The body is compared byte for
byte (SHA-256 of the raw body), as a retry sends the same bytes.

This module holds the table and the service functions; it takes a session factory and
knows nothing of Flask.

Examples
--------
>>> from fondo.idempotency import validate_key
>>> validate_key("8e03978e-40d5-43e8-bc93-6894a57f9324")
'8e03978e-40d5-43e8-bc93-6894a57f9324'
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from fondo.errors import Conflict, InvalidInput
from fondo.orm import Base, UTCDateTime, utcnow

__all__ = [
    "CLAIM_LEASE",
    "HEADER",
    "KEY_MAX_CHARS",
    "KEY_TTL",
    "POLL_INTERVAL_S",
    "WAIT_FOR_FIRST_S",
    "Claim",
    "IdempotencyKey",
    "KeyInProgress",
    "StoredResponse",
    "body_sha256",
    "claim_key",
    "release_key",
    "store_response",
    "validate_key",
]

#: The request header, and the ``field`` of every problem about it.
HEADER: str = "Idempotency-Key"

#: Longest key accepted. [characters] Room for a UUID, a ULID or a client's own scheme.
KEY_MAX_CHARS: int = 255

#: How long a key is remembered after its first use. A client retries within seconds or
#: minutes; a day also covers a batch re-run the next morning (Stripe keeps 24 h too).
KEY_TTL: timedelta = timedelta(hours=24)

#: A claim that has not completed after this long is taken to be orphaned (its process
#: died) and may be taken over. Far longer than any creation request runs: the long work
#: of studies and screenings runs in Celery, and gunicorn stops a worker after 30 s.
CLAIM_LEASE: timedelta = timedelta(minutes=5)

#: How long a request waits for the first request with its key to finish. [s] A finance
#: case is computed in well under a second; a study or a screening is only launched.
WAIT_FOR_FIRST_S: float = 10.0

#: Pause between two looks at a running claim while waiting. [s]
POLL_INTERVAL_S: float = 0.05

#: Response headers stored and replayed besides the body (the body's type, where the
#: created resource or its task is).
_REPLAYED_HEADERS: tuple[str, ...] = ("Content-Type", "Location")


class IdempotencyKey(Base):
    """One key a user sent with a creation request, and the first response to it."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(KEY_MAX_CHARS))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_sha256: Mapped[str] = mapped_column(String(64))
    #: None while the first request runs.
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class KeyInProgress(Conflict):
    """The first request with this key is still running; ``retry_after_s`` says when to retry."""

    def __init__(self, detail: str, *, retry_after_s: int):
        super().__init__(detail, field=HEADER, extra={"retry_after_s": retry_after_s})
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class StoredResponse:
    """A first response, as replayed: status, body text and the headers kept."""

    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Claim:
    """What :func:`claim_key` decided: run the request (``row_id``) or ``replay`` an answer."""

    row_id: int | None
    replay: StoredResponse | None


def validate_key(value: str | None) -> str:
    """The key of an ``Idempotency-Key`` header, checked.

    Parameters
    ----------
    value : str
        The header's value.

    Returns
    -------
    str
        The key, unchanged (quotes of an sf-string are part of it).

    Raises
    ------
    InvalidInput
        Empty, longer than :data:`KEY_MAX_CHARS`, or holding a character that is not
        printable ASCII (U+0020 to U+007E); ``field`` is ``Idempotency-Key``.
    """
    if not value or len(value) > KEY_MAX_CHARS:
        length = len(value or "")
        raise InvalidInput(f"{HEADER} must be 1 to {KEY_MAX_CHARS} characters, got {length}",
                           field=HEADER)
    bad = next((char for char in value if not " " <= char <= "~"), None)
    if bad is not None:
        raise InvalidInput(f"{HEADER} must be printable ASCII; it holds U+{ord(bad):04X}",
                           field=HEADER)
    return value


def body_sha256(body: bytes) -> str:
    """SHA-256 of a request body, lower-case hex."""
    return hashlib.sha256(body).hexdigest()


def _stored(row: IdempotencyKey) -> StoredResponse:
    return StoredResponse(row.response_status, row.response_body or "",
                          dict(row.response_headers or {}))


@dataclass(frozen=True)
class _Held:
    """The row that holds a key: what it was used for and its response, if complete."""

    method: str
    path: str
    request_sha256: str
    response: StoredResponse | None


def _forget_stale(session: Session, user_id: int, key: str, now: datetime) -> None:
    """Delete the user's expired keys and an orphaned claim of ``key`` (own transaction)."""
    session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.created_at < now - KEY_TTL))
    session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
        IdempotencyKey.response_status.is_(None), IdempotencyKey.created_at < now - CLAIM_LEASE))
    session.commit()


def _held(session: Session, user_id: int, key: str) -> _Held | None:
    """What holds ``key`` for the user now, None when no row does."""
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                      IdempotencyKey.key == key))
    answer = None if row is None else _Held(
        row.method, row.path, row.request_sha256,
        None if row.response_status is None else _stored(row))
    session.rollback()
    return answer


def _try_claim(session: Session, user_id: int, key: str, method: str, path: str,
               request_sha256: str, now: datetime) -> Claim | _Held | None:
    """Insert the claim; else what holds the key (None when it vanished meanwhile)."""
    row = IdempotencyKey(user_id=user_id, key=key, method=method, path=path,
                         request_sha256=request_sha256, created_at=now)
    session.add(row)
    try:
        session.flush()
        claim = Claim(row_id=row.id, replay=None)
        session.commit()
        return claim
    except IntegrityError:  # the unique (user_id, key): another request holds it
        session.rollback()
    return _held(session, user_id, key)


def claim_key(sessions: Callable[[], Session], *, user_id: int, key: str, method: str,
              path: str, request_sha256: str, wait_s: float = WAIT_FOR_FIRST_S,
              clock: Callable[[], datetime] = utcnow) -> Claim:
    """Claim ``key`` for a request, or find the first response to replay.

    Parameters
    ----------
    sessions : callable
        Session factory; each attempt commits in a session of its own (not the request's).
    user_id : int
        Who sends the request.
    key : str
        The validated key (:func:`validate_key`).
    method, path : str
        The request's method and path (``"POST"``, ``"/api/v1/finance/cases"``).
    request_sha256 : str
        :func:`body_sha256` of the raw body.
    wait_s : float
        How long to wait for a running first request. [s]
    clock : callable
        Current UTC time (tests move it).

    Returns
    -------
    Claim
        ``row_id`` when this request is to run (then :func:`store_response` or
        :func:`release_key`), ``replay`` when the first response is to be sent again.

    Raises
    ------
    Conflict
        The key was used with another body, method or path (``field`` is the header).
    KeyInProgress
        The first request still runs after ``wait_s``.
    """
    deadline = time.monotonic() + wait_s
    with sessions() as session:
        _forget_stale(session, user_id, key, clock())
    while True:
        with sessions() as session:
            outcome = _try_claim(session, user_id, key, method, path, request_sha256, clock())
        if isinstance(outcome, Claim):
            return outcome
        while outcome is not None:  # another request holds the key: look, wait, look again
            if (outcome.method, outcome.path, outcome.request_sha256) != (method, path,
                                                                          request_sha256):
                raise Conflict(
                    f"{HEADER} '{key}' was already used for another request ({outcome.method} "
                    f"{outcome.path}, body SHA-256 {outcome.request_sha256[:12]}…); send a new "
                    "key for a new request", field=HEADER)
            if outcome.response is not None:
                return Claim(row_id=None, replay=outcome.response)
            if time.monotonic() >= deadline:
                raise KeyInProgress(
                    f"the first request with {HEADER} '{key}' is still running; send this "
                    "one again later", retry_after_s=max(1, round(wait_s)))
            time.sleep(POLL_INTERVAL_S)
            with sessions() as session:
                outcome = _held(session, user_id, key)
        # the holder failed and released the key (or it expired): claim it again


def store_response(sessions: Callable[[], Session], row_id: int, status: int, body: str,
                   headers: dict[str, str], clock: Callable[[], datetime] = utcnow) -> None:
    """Keep the first (2xx) response of a claimed key, to be replayed.

    Parameters
    ----------
    sessions : callable
        Session factory.
    row_id : int
        :attr:`Claim.row_id`.
    status : int
        HTTP status of the response.
    body : str
        Its body (JSON text).
    headers : dict
        Its headers; those of :data:`_REPLAYED_HEADERS` are kept.
    """
    kept = {name: headers[name] for name in _REPLAYED_HEADERS if name in headers}
    with sessions() as session:
        row = session.get(IdempotencyKey, row_id)
        if row is None:  # forgotten meanwhile (expired): nothing to keep
            return
        row.response_status, row.response_body, row.response_headers = status, body, kept
        row.completed_at = clock()
        session.commit()


def release_key(sessions: Callable[[], Session], row_id: int) -> None:
    """Forget a claim whose request failed, so the key may be used again."""
    with sessions() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                     IdempotencyKey.response_status.is_(None)))
        session.commit()
