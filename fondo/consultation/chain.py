"""The consultation's record in the database: the hash chain, its anchor, and what it says.

Every state change is appended to the consultation's chain (``consultation_events``) in the
same transaction as the change, through :func:`record_event`, the only writer of that table.
Chain payloads never hold a submitter's name or contact, an e-mail address or a phone
number: deliveries carry a SHA-256 of the address, feedback its public view plus the SHA-256
of its text, so that the record proves content without keeping personal data forever.

The phase a consultation is in, and the evidence recorded in that phase, are read back
from the chain (:func:`state_of`, :func:`evidence_of`), never from a mutable column alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import protocol as pr
from consultation import record as rec
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import Consultation, ConsultationAnchor, ConsultationEvent
from fondo.errors import Conflict, NotFound, invalid_from
from fondo.orm import utcnow

#: Event kinds that start a phase (the opening, and every phase change).
PHASE_EVENTS = (rec.EventKind.CONSULTATION_OPENED.value, rec.EventKind.PHASE_CHANGED.value)


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

    The consultation row is locked (``SELECT … FOR UPDATE`` on PostgreSQL) so that two
    concurrent appends cannot take the same ``seq``; the anchor moves to the new head.
    """
    now = now or clock_now()
    session.execute(select(Consultation.id).where(Consultation.id == consultation.id)
                    .with_for_update())
    last = session.scalars(
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
    anchor = session.get(ConsultationAnchor, consultation.id)
    if anchor is None:
        anchor = ConsultationAnchor(consultation_id=consultation.id)
        session.add(anchor)
    anchor.head_hash, anchor.event_count, anchor.updated_at = new.hash, new.seq + 1, utcnow()
    session.flush()
    return row


def verify_consultation(session: Session, consultation_id: int) -> dict[str, Any]:
    """Check a consultation's chain against itself and its anchor; name the first broken event."""
    load_consultation(session, consultation_id)
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
                                history[-1].entered_at, tuple(history))


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
    for r in phase_rows(rows):
        if r["kind"] in got:
            got[r["kind"]].add(r["payload"]["id"])
    return pr.PhaseEvidence(steps=got["step_completed"], artefacts=got["artefact_added"],
                            conditions=got["condition_met"], reason=reason)


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
