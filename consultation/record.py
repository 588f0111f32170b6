"""The consultation record: an append-only, per-consultation sha256 hash chain.

Each event carries exactly the columns of the ``consultation_events`` table:
``consultation_id``, ``seq`` (0, 1, 2, …), ``kind``, ``payload`` (JSON), ``occurred_at``
(UTC ISO-8601), ``prev_hash`` and ``hash``. The functions accept plain mappings (rows)
or :class:`ChainEvent` instances.

Notes
-----
hash_n = sha256( prev_hash_n (64 lowercase hex, ASCII) ‖ canonical_json(content_n) )

where content_n = {consultation_id, seq, kind, payload, occurred_at}, prev_hash_0 =
:data:`GENESIS_HASH` and prev_hash_n = hash_{n-1}.

Canonical JSON follows RFC 8785 (JSON Canonicalization Scheme), written by the ``rfc8785``
package: object members sorted by the UTF-16 code units of their names, no insignificant
whitespace, strings escaped as ECMAScript ``JSON.stringify`` does (only ``"``, ``\\`` and
control characters), numbers in ECMAScript shortest round-trip form, UTF-8 output.
Integers must lie within ±(2^53 − 1) (I-JSON, RFC 7493) and floats must be finite, so a
payload survives a round trip through PostgreSQL ``jsonb``, SQLite JSON text or JavaScript
with the same hash.

What verification can and cannot see: any edit, insertion, reordering or deletion of an
event *followed by other events* breaks the chain at the first touched position. Cutting
off the *tail* leaves a shorter valid chain; pass the last published head hash
(``expected_head``) or length (``expected_length``) to :func:`verify` to detect that.

References
----------
.. [1] A. Rundgren, B. Jordan, S. Erdtman, "JSON Canonicalization Scheme (JCS)",
   RFC 8785, 2020.
.. [2] T. Bray, "The I-JSON Message Format", RFC 7493, 2015.
.. [3] NIST FIPS 180-4, Secure Hash Standard (SHA-256), 2015.
.. [4] Trail of Bits, ``rfc8785`` (Apache-2.0), https://github.com/trailofbits/rfc8785.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import math
import re
from typing import Any, Mapping, Sequence

import rfc8785

__all__ = [
    "GENESIS_HASH",
    "MAX_SAFE_INTEGER",
    "EVENT_FIELDS",
    "CONTENT_FIELDS",
    "EventKind",
    "ChainEvent",
    "VerificationResult",
    "canonical_json",
    "format_occurred_at",
    "event_content",
    "event_hash",
    "append",
    "verify",
]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first event (seq 0) of every consultation."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer allowed in a payload (I-JSON, RFC 7493 section 2.2)."""

EVENT_FIELDS = ("consultation_id", "seq", "kind", "payload", "occurred_at", "prev_hash", "hash")
"""Columns of the ``consultation_events`` table."""

CONTENT_FIELDS = ("consultation_id", "seq", "kind", "payload", "occurred_at")
"""Fields covered by an event's hash (besides ``prev_hash``)."""

_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_OCCURRED_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class EventKind(str, enum.Enum):
    """Known event kinds. Any ``snake_case`` kind is accepted; these are the standard ones."""

    CONSULTATION_OPENED = "consultation_opened"
    COMMUNITY_ADDED = "community_added"
    COMMUNITY_REMOVED = "community_removed"
    PHASE_CHANGED = "phase_changed"
    STEP_COMPLETED = "step_completed"
    ARTEFACT_ADDED = "artefact_added"
    CONDITION_MET = "condition_met"
    NOTICE_PUBLISHED = "notice_published"
    TRANSLATION_ADDED = "translation_added"
    NOTICE_DELIVERED = "notice_delivered"
    MEETING_HELD = "meeting_held"
    FEEDBACK_RECEIVED = "feedback_received"
    FEEDBACK_ACKNOWLEDGED = "feedback_acknowledged"
    FEEDBACK_ANSWERED = "feedback_answered"
    FEEDBACK_ESCALATED = "feedback_escalated"
    FEEDBACK_CLOSED = "feedback_closed"
    AGREEMENT_RECORDED = "agreement_recorded"
    COMMITMENT_RECORDED = "commitment_recorded"
    COMMITMENT_STATUS_CHANGED = "commitment_status_changed"
    # protocol version 2 (issue 13)
    COMMUNITY_POSITION_RECORDED = "community_position_recorded"
    IDENTIFICATION_RECORDED = "identification_recorded"
    FPIC_DETERMINED = "fpic_determined"
    STUDY_COPRODUCTION_RECORDED = "study_coproduction_recorded"
    ADVICE_RESOURCES_RECORDED = "advice_resources_recorded"
    LANGUAGES_AGREED = "languages_agreed"
    LANGUAGE_AGENT_ACCEPTED = "language_agent_accepted"
    PARTICIPATION_AGREED = "participation_agreed"
    RESULTS_SCOPE_RECORDED = "results_scope_recorded"
    NEGOTIATION_RECORDED = "negotiation_recorded"
    CONSULTATION_SUSPENDED = "consultation_suspended"
    CONSULTATION_RESUMED = "consultation_resumed"
    PROJECT_DECISION_RECORDED = "project_decision_recorded"


@dataclasses.dataclass(frozen=True)
class ChainEvent:
    """One row of ``consultation_events``."""

    consultation_id: str
    seq: int
    kind: str
    payload: Any
    occurred_at: str
    prev_hash: str
    hash: str

    def as_row(self) -> dict:
        """The event as a plain dict with exactly :data:`EVENT_FIELDS`."""
        return {f: getattr(self, f) for f in EVENT_FIELDS}


@dataclasses.dataclass(frozen=True)
class VerificationResult:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    ok : bool
    first_broken_seq : int or None
        Position (expected ``seq``) of the first event that fails, None when ok.
    reason : str
        Why it fails ("" when ok).
    length : int
        Number of events examined.
    head_hash : str
        Hash of the last valid event (GENESIS_HASH for an empty record).
    """

    ok: bool
    first_broken_seq: int | None
    reason: str
    length: int
    head_hash: str


def _json_tree(obj: Any, path: str) -> Any:
    """``obj`` as plain JSON types (mappings become dicts), or ValueError naming ``path``.

    Checks every value before :func:`rfc8785.dumps` sees it, so a refusal names where the
    offending value sits (``$.payload.rows[3]``), which the library's errors do not.
    """
    if obj is None or obj is True or obj is False:
        return obj
    if isinstance(obj, int):
        if abs(obj) > MAX_SAFE_INTEGER:
            raise ValueError(f"{path}: integer {obj} outside ±(2**53 - 1) (I-JSON)")
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"{path}: non-finite number {obj!r} has no JSON form")
        return obj
    if isinstance(obj, str):
        _check_utf8(obj, path, "string")
        return obj
    if isinstance(obj, Mapping):
        for key in obj:
            if not isinstance(key, str):
                raise ValueError(f"{path}: object key {key!r} is not a string")
            _check_utf8(key, path, f"object key {key!r}")
        return {key: _json_tree(value, f"{path}.{key}") for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_tree(v, f"{path}[{i}]") for i, v in enumerate(obj)]
    raise ValueError(f"{path}: {type(obj).__name__} is not a JSON value")


def _check_utf8(text: str, path: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{path}: {what} has a lone surrogate and is not UTF-8") from exc


def canonical_json(obj: Any) -> bytes:
    """Canonical JSON (RFC 8785) of ``obj`` as UTF-8 bytes.

    Parameters
    ----------
    obj : None, bool, int, float, str, list, tuple or mapping with str keys

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        On a non-JSON value, a non-string key, a non-finite float, an integer beyond
        ±(2^53 − 1) or a string with a lone surrogate; the message names the path.

    Notes
    -----
    The value is checked here (the error names its path, e.g. ``$.a[1]``) and then
    serialized by :func:`rfc8785.dumps` (Trail of Bits' implementation of RFC 8785,
    whose number formatting follows Rundgren's reference code). The output is the same,
    byte for byte, as the hand-written encoder this replaced, so existing chain hashes
    verify unchanged (a property test keeps that encoder as its reference).

    Examples
    --------
    >>> canonical_json({"b": [1, 2.5, None], "a": "ñ"})
    b'{"a":"\\xc3\\xb1","b":[1,2.5,null]}'
    """
    return rfc8785.dumps(_json_tree(obj, "$"))


def format_occurred_at(value: dt.datetime | str) -> str:
    """Normalise an instant to the record's form ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC).

    Parameters
    ----------
    value : datetime (timezone-aware) or str (ISO-8601 with an offset or ``Z``)

    Raises
    ------
    ValueError
        On a naive datetime or a string without a UTC offset.
    """
    if isinstance(value, str):
        if _OCCURRED_RE.match(value):
            return value
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"occurred_at {value!r} is not ISO-8601") from exc
        value = parsed
    if not isinstance(value, dt.datetime):
        raise ValueError(f"occurred_at must be a datetime or ISO-8601 string, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"occurred_at must carry a timezone, got naive {value.isoformat()}")
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond:06d}Z"


def _field(event: Mapping | ChainEvent, name: str):
    if isinstance(event, Mapping):
        if name not in event:
            raise ValueError(f"event lacks field {name!r}")
        return event[name]
    return getattr(event, name)


def event_content(event: Mapping | ChainEvent) -> dict:
    """The hashed content of an event: :data:`CONTENT_FIELDS`, ``occurred_at`` normalised."""
    seq = _field(event, "seq")
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise ValueError(f"seq must be an int, got {seq!r}")
    return {
        "consultation_id": str(_field(event, "consultation_id")),
        "seq": seq,
        "kind": str(_field(event, "kind")),
        "payload": _field(event, "payload"),
        "occurred_at": format_occurred_at(_field(event, "occurred_at")),
    }


def event_hash(prev_hash: str, event: Mapping | ChainEvent) -> str:
    """sha256 over ``prev_hash`` and the canonical JSON of the event's content.

    Parameters
    ----------
    prev_hash : str
        64 lowercase hex characters.
    event : mapping or ChainEvent
        Needs at least :data:`CONTENT_FIELDS`; ``prev_hash``/``hash`` fields are ignored.

    Returns
    -------
    str
        64 lowercase hex characters.
    """
    if not isinstance(prev_hash, str) or not _HASH_RE.match(prev_hash):
        raise ValueError(f"prev_hash must be 64 lowercase hex characters, got {prev_hash!r}")
    digest = hashlib.sha256(prev_hash.encode("ascii"))
    digest.update(canonical_json(event_content(event)))
    return digest.hexdigest()


def append(
    chain: Sequence[Mapping | ChainEvent],
    kind: str,
    payload: Any,
    occurred_at: dt.datetime | str,
    consultation_id: str | None = None,
) -> ChainEvent:
    """The next event of ``chain`` (the chain itself is not modified).

    Parameters
    ----------
    chain : sequence of events
        The consultation's events in ``seq`` order (at least the last one is used).
    kind : str
        Event kind, ``snake_case`` (see :class:`EventKind`).
    payload : JSON value
    occurred_at : datetime (timezone-aware) or ISO-8601 str
        Must not be earlier than the last event's.
    consultation_id : str, optional
        Required for the first event; must match the chain's otherwise.

    Returns
    -------
    ChainEvent
    """
    kind = kind.value if isinstance(kind, EventKind) else kind
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise ValueError(f"kind must be snake_case (e.g. 'notice_published'), got {kind!r}")
    canonical_json(payload)  # validate early with a path in the message
    occurred = format_occurred_at(occurred_at)
    if chain:
        last = chain[-1]
        last_id = str(_field(last, "consultation_id"))
        if consultation_id is not None and consultation_id != last_id:
            raise ValueError(
                f"consultation_id {consultation_id!r} differs from the chain's {last_id!r}"
            )
        consultation_id = last_id
        prev_hash = str(_field(last, "hash"))
        seq = int(_field(last, "seq")) + 1
        last_at = format_occurred_at(_field(last, "occurred_at"))
        if occurred < last_at:
            raise ValueError(
                f"occurred_at {occurred} is earlier than the last event's {last_at}"
            )
    else:
        if not consultation_id:
            raise ValueError("consultation_id is required for the first event of a chain")
        prev_hash, seq = GENESIS_HASH, 0
    content = {
        "consultation_id": str(consultation_id),
        "seq": seq,
        "kind": kind,
        "payload": payload,
        "occurred_at": occurred,
    }
    return ChainEvent(**content, prev_hash=prev_hash, hash=event_hash(prev_hash, content))


def verify(
    events: Sequence[Mapping | ChainEvent],
    expected_head: str | None = None,
    expected_length: int | None = None,
) -> VerificationResult:
    """Check a consultation's chain and name the first broken event.

    Parameters
    ----------
    events : sequence of events
        All events of one consultation in ``seq`` order (``ORDER BY seq``).
    expected_head : str, optional
        Last head hash published or stored elsewhere; detects a truncated tail.
    expected_length : int, optional
        Number of events known to exist; detects a truncated tail.

    Returns
    -------
    VerificationResult
        ``first_broken_seq`` is the position (the ``seq`` it should carry) of the first
        event that fails, in this order of checks: well-formed row, consultation id,
        ``seq`` equal to its position, ``prev_hash`` equal to the previous hash,
        ``hash`` equal to the recomputed hash, time not going backwards.
    """
    prev = GENESIS_HASH
    consultation_id = None
    prev_at = None
    for i, event in enumerate(events):
        def broken(reason, i=i):
            return VerificationResult(False, i, reason, len(events), prev)
        try:
            content = event_content(event)
            stored_prev = _field(event, "prev_hash")
            stored_hash = _field(event, "hash")
        except ValueError as exc:
            return broken(f"malformed event at position {i}: {exc}")
        if consultation_id is None:
            consultation_id = content["consultation_id"]
        elif content["consultation_id"] != consultation_id:
            return broken(
                f"event {i} belongs to consultation {content['consultation_id']!r}, "
                f"not {consultation_id!r}"
            )
        if content["seq"] != i:
            return broken(f"event at position {i} carries seq {content['seq']} (missing, "
                          "inserted or reordered event)")
        if stored_prev != prev:
            return broken(f"event {i}: prev_hash does not match the hash of event {i - 1}"
                          if i else "event 0: prev_hash is not the genesis hash")
        try:
            recomputed = event_hash(prev, content)
        except ValueError as exc:
            return broken(f"event {i}: content cannot be hashed: {exc}")
        if stored_hash != recomputed:
            return broken(f"event {i}: hash does not match its content (edited event)")
        if prev_at is not None and content["occurred_at"] < prev_at:
            return broken(f"event {i}: occurred_at goes backwards")
        prev_at = content["occurred_at"]
        prev = recomputed
    n = len(events)
    if expected_length is not None and n != expected_length:
        return VerificationResult(
            False, min(n, expected_length),
            f"record has {n} events, {expected_length} expected (truncated or extended)",
            n, prev,
        )
    if expected_head is not None and prev != expected_head:
        return VerificationResult(
            False, n, "head hash differs from the published head (truncated or extended)", n, prev
        )
    return VerificationResult(True, None, "", n, prev)
