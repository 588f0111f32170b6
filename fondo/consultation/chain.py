"""The consultation's record in the database: the hash chain, its anchor, and what it says.

Every state change is appended to the consultation's chain (``consultation_events``) in the
same transaction as the change, through :func:`record_event`, the only writer of that table.
Chain payloads never hold a submitter's name or contact, an e-mail address or a phone
number: deliveries carry a SHA-256 of the address, feedback its public view plus the SHA-256
of its text, so that the record proves content without keeping personal data forever.

The phase a consultation is in, and the evidence recorded in that phase, are read back
from the chain (:func:`state_of`, :func:`evidence_of`), never from a mutable column alone.

Concurrency: a chained write is one transaction (one unit of work,
:func:`fondo.db.run_unit_of_work`) that first takes the consultation's chain lock
(:func:`lock_chain`), then writes its rows and their events, then commits once; so a row and
its event are stored together or not at all, and two writers never take the same ``seq``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from consultation import protocol as pr
from consultation import record as rec
from consultation import suspension as sp
from fondo.consultation.clock import now as clock_now
from fondo.consultation.crosscheck import unrecorded_rows
from fondo.consultation.models import Consultation, ConsultationAnchor, ConsultationEvent
from fondo.db import take_sqlite_write_lock
from fondo.errors import Conflict, NotFound, invalid_from
from fondo.orm import utcnow

#: Event kinds that start a phase (the opening, and every phase change).
PHASE_EVENTS = (rec.EventKind.CONSULTATION_OPENED.value, rec.EventKind.PHASE_CHANGED.value)
#: Longest wait for a consultation's chain lock; past it the unit of work is run again
#: (and, after its last attempt, answered 503). [s]
CHAIN_LOCK_TIMEOUT_S = 10.0
#: Key in ``Session.info`` of the chain locks held: (transaction, {consultation id: chain}).
_CHAIN_LOCKS = "fondo_chain_locks"


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """ISO-8601 text of a date or datetime, or ``None``."""
    return value.isoformat() if value is not None else None


def sha256_text(text: str | None) -> str | None:
    """SHA-256 (hex) of a text's UTF-8 bytes, or ``None`` (what the chain keeps of texts)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def load_consultation(session: Session, consultation_id: Any) -> Consultation:
    """The consultation row, or :class:`~fondo.errors.NotFound`."""
    try:
        cid = int(consultation_id)
    except (TypeError, ValueError):
        raise NotFound(f"consultation {consultation_id!r} does not exist") from None
    consultation = session.get(Consultation, cid)
    if consultation is None:
        raise NotFound(f"consultation {cid} does not exist")
    return consultation


class _HeldChain:
    """What a transaction holding a chain lock keeps of that chain: the consultation, the head
    event and the anchor, by strong reference (the session's identity map is weak), so that
    appends after the first in the same transaction read none of them again."""

    __slots__ = ("anchor", "consultation", "head")

    def __init__(self, consultation: Consultation):
        self.consultation = consultation
        self.head: ConsultationEvent | None = None
        self.anchor: ConsultationAnchor | None = None


def _live(row: Any) -> bool:
    """True when ``row`` is as the transaction left it: persistent and not expired (a
    rolled-back savepoint expunges the rows it inserted and expires those it changed)."""
    if row is None:
        return False
    state = inspect(row)
    return state.persistent and not state.expired_attributes


def _held_chain(session: Session, cid: int) -> _HeldChain | None:
    held = session.info.get(_CHAIN_LOCKS)
    transaction = session.get_transaction()
    if held is None or transaction is None or held[0] is not transaction:
        return None
    return held[1].get(cid)


def lock_chain(session: Session, consultation_id: Any) -> Consultation:
    """Take the consultation's chain lock for the session's transaction; return the row as
    it now is (or :class:`~fondo.errors.NotFound`).

    A chained write calls this FIRST, before it inserts anything that references the
    consultation, and before it reads what it decides on: PostgreSQL locks the consultation
    row (``SELECT … FOR NO KEY UPDATE``, which does not block other transactions' foreign
    key checks, waiting at most :data:`CHAIN_LOCK_TIMEOUT_S`); SQLite takes the database's
    write lock (``BEGIN IMMEDIATE``, :func:`fondo.db.take_sqlite_write_lock`). The lock is
    held until the transaction ends; taking it again in the same transaction costs nothing.
    """
    try:
        cid = int(consultation_id)
    except (TypeError, ValueError):
        raise NotFound(f"consultation {consultation_id!r} does not exist") from None
    chain = _held_chain(session, cid)
    if chain is not None:
        if not _live(chain.consultation):
            chain.consultation = load_consultation(session, cid)
        return chain.consultation
    query = select(Consultation).where(Consultation.id == cid).execution_options(
        populate_existing=True)
    if not take_sqlite_write_lock(session, CHAIN_LOCK_TIMEOUT_S):
        session.execute(text("SELECT set_config('lock_timeout', :t, true)"),
                        {"t": f"{round(CHAIN_LOCK_TIMEOUT_S * 1000)}ms"})
        query = query.with_for_update(key_share=True)
    consultation = session.scalars(query).first()
    if consultation is None:
        raise NotFound(f"consultation {cid} does not exist")
    transaction = session.get_transaction()
    held = session.info.get(_CHAIN_LOCKS)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_CHAIN_LOCKS] = held
    held[1][cid] = _HeldChain(consultation)
    return consultation


def protocol_of(consultation: Consultation) -> pr.Protocol:
    """The protocol version the consultation was opened under."""
    return pr.load_protocol(consultation.protocol_version)


def event_rows(session: Session, consultation_id: int) -> list[dict[str, Any]]:
    """Every event of a consultation's chain, in order, as plain dicts."""
    rows = session.scalars(
        select(ConsultationEvent).where(ConsultationEvent.consultation_id == consultation_id)
        .order_by(ConsultationEvent.seq, ConsultationEvent.id)
    ).all()
    return [{"id": r.id, "consultation_id": r.consultation_id, "seq": r.seq, "kind": r.kind,
             "payload": r.payload, "occurred_at": r.occurred_at, "prev_hash": r.prev_hash,
             "hash": r.hash} for r in rows]


def record_event(session: Session, consultation: Consultation, kind: str, payload: Any,
                 now: dt.datetime | None = None) -> ConsultationEvent:
    """Append one event to the consultation's chain (the only writer of the table).

    The chain lock is taken first if the transaction does not hold it yet
    (:func:`lock_chain`), so that two concurrent appends cannot take the same ``seq``; the
    anchor moves to the new head. The caller commits the event together with the rows it
    records.
    """
    now = now or clock_now()
    lock_chain(session, consultation.id)
    held = _held_chain(session, consultation.id)
    last = held.head if _live(held.head) else session.scalars(
        select(ConsultationEvent).where(ConsultationEvent.consultation_id == consultation.id)
        .order_by(ConsultationEvent.seq.desc()).limit(1)
    ).first()
    chain = []
    if last is not None:
        chain = [{"consultation_id": str(last.consultation_id), "seq": last.seq,
                  "kind": last.kind, "payload": last.payload, "occurred_at": last.occurred_at,
                  "prev_hash": last.prev_hash, "hash": last.hash}]
        last_at = dt.datetime.fromisoformat(last.occurred_at.replace("Z", "+00:00"))
        now = max(now, last_at)  # the record's time never goes backwards
    try:
        new = rec.append(chain, kind, payload, now, consultation_id=str(consultation.id))
    except ValueError as exc:
        raise invalid_from(exc, "payload") from None
    row = ConsultationEvent(consultation_id=consultation.id, seq=new.seq, kind=new.kind,
                            payload=new.payload, occurred_at=new.occurred_at,
                            prev_hash=new.prev_hash, hash=new.hash)
    session.add(row)
    anchor = held.anchor if _live(held.anchor) else session.get(ConsultationAnchor,
                                                                 consultation.id)
    if anchor is None:
        anchor = ConsultationAnchor(consultation_id=consultation.id)
        session.add(anchor)
    anchor.head_hash, anchor.event_count, anchor.updated_at = new.hash, new.seq + 1, utcnow()
    session.flush()
    held.head, held.anchor = row, anchor
    return row


def verify_consultation(session: Session, consultation_id: int) -> dict[str, Any]:
    """Check a consultation's chain against itself and its anchor, and the working tables
    against the chain; name the first broken event and every row the chain does not record.

    ``unrecorded_rows`` lists ({table, id, problem}) each row of the working tables
    (feedback and its status, notices and their translations, deliveries, commitments and
    their status, the consultation's phase and communities) that has no matching event
    (:func:`fondo.consultation.crosscheck.unrecorded_rows`); any such row fails the check.
    """
    consultation = load_consultation(session, consultation_id)
    rows = event_rows(session, consultation_id)
    anchor = session.get(ConsultationAnchor, consultation_id)
    result = rec.verify(rows, expected_head=anchor.head_hash if anchor else None,
                        expected_length=anchor.event_count if anchor else None)
    out = {"consultation_id": consultation_id, "ok": result.ok,
           "first_broken_seq": result.first_broken_seq, "reason": result.reason,
           "length": result.length, "head_hash": result.head_hash,
           "expected_head": anchor.head_hash if anchor else None,
           "expected_length": anchor.event_count if anchor else None,
           "first_broken_event": None}
    if not result.ok and result.first_broken_seq is not None:
        i = result.first_broken_seq
        if i < len(rows):
            r = rows[i]
            out["first_broken_event"] = {"row_id": r["id"], "position": i, "seq": r["seq"],
                                         "kind": r["kind"], "occurred_at": r["occurred_at"]}
        else:
            out["first_broken_event"] = {"row_id": None, "position": i, "seq": i,
                                         "kind": None, "occurred_at": None}
    out["unrecorded_rows"] = unrecorded_rows(session, consultation, rows)
    if out["unrecorded_rows"] and result.ok:
        first, more = out["unrecorded_rows"][0], len(out["unrecorded_rows"]) - 1
        out["ok"] = False
        out["reason"] = (f"{first['table']} row {first['id']}: {first['problem']}"
                         + (f" (and {more} more row(s) not in the record)" if more else ""))
    return out


def state_of(consultation: Consultation, rows: list[dict]) -> pr.ConsultationState:
    """The protocol state (phase, when entered, history) the chain records."""
    history = []
    for r in rows:
        at = dt.datetime.fromisoformat(r["occurred_at"].replace("Z", "+00:00"))
        if r["kind"] == rec.EventKind.CONSULTATION_OPENED.value:
            history.append(pr.PhaseEntry(r["payload"]["phase"], at))
        elif r["kind"] == rec.EventKind.PHASE_CHANGED.value:
            history.append(pr.PhaseEntry(r["payload"]["to"], at, r["payload"].get("reason", "")))
    if not history:
        raise Conflict(f"consultation {consultation.id} has no opening event in its record")
    return pr.ConsultationState(consultation.protocol_version, history[-1].phase_id,
                                history[-1].entered_at, tuple(history),
                                sp.suspensions_from_events(rows))


def phase_rows(rows: list[dict]) -> list[dict]:
    """Events since the current phase was entered."""
    start = 0
    for i, r in enumerate(rows):
        if r["kind"] in PHASE_EVENTS:
            start = i
    return rows[start:]


def evidence_of(rows: list[dict], reason: str = "") -> pr.PhaseEvidence:
    """Steps, artefacts and conditions recorded since the current phase was entered."""
    got: dict[str, set[str]] = {"step_completed": set(), "artefact_added": set(),
                                "condition_met": set()}
    facts: dict[str, str] = {}
    for r in phase_rows(rows):
        if r["kind"] in got:
            got[r["kind"]].add(r["payload"]["id"])
        elif r["kind"] == "community_position_recorded":
            facts["position"] = r["payload"]["position"]
    for r in rows:
        if r["kind"] == "identification_recorded":
            facts["identification"] = r["payload"]["outcome"]
    return pr.PhaseEvidence(steps=got["step_completed"], artefacts=got["artefact_added"],
                            conditions=got["condition_met"], reason=reason, facts=facts)


def latest_payload(rows: list[dict], kind: str) -> dict | None:
    """The payload of the last event of ``kind`` in the chain, or None."""
    for r in reversed(rows):
        if r["kind"] == kind:
            return r["payload"]
    return None


def record_missing_evidence(session: Session, consultation: Consultation, phase: pr.Phase,
                            kind: str, item_id: str, note: str, actor: str,
                            now: dt.datetime | None = None) -> None:
    """Record a step or artefact that an action fulfils, unless the phase already has it.

    ``kind`` is ``step_completed`` or ``artefact_added``; nothing is recorded when the phase
    does not list ``item_id`` among its steps or artefacts.
    """
    listed = phase.steps if kind == "step_completed" else phase.artefacts
    if item_id not in {i.item_id for i in listed}:
        return
    have = evidence_of(event_rows(session, consultation.id))
    if item_id in (have.steps if kind == "step_completed" else have.artefacts):
        return
    record_event(session, consultation, kind, {"phase": phase.phase_id, "id": item_id,
                                               "note": note, "document": None, "by": actor}, now)
