"""Commitments agreed with the communities (benefit sharing, compensation, mitigation) and
their follow-up; the rules are :mod:`consultation.agreements`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consultation import agreements as ag
from consultation import record as rec
from fondo.consultation.chain import load_consultation, lock_chain, record_event
from fondo.consultation.clock import local_today
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import ConsultationCommitment
from fondo.errors import Conflict, InvalidInput, NotFound

#: Phases in which commitments may be recorded (agreed in consultiva, amended in seguimiento).
COMMITMENT_PHASES = ("consultiva", "seguimiento")
#: Fields a domain error may name, in the order its message is searched for them.
_COMMITMENT_FIELDS = ("commitment_id", "description", "owner", "due_date", "amount_mxn", "kind")


def commitment_domain(row: ConsultationCommitment) -> ag.Commitment:
    """The domain's view of a stored commitment."""
    return ag.Commitment(row.commitment_code, ag.CommitmentKind(row.kind), row.description,
                         row.owner, row.due_date, row.agreed_on, ag.CommitmentStatus(row.status),
                         row.amount_mxn, row.status_reason or "", row.fulfilled_on)


def commitment_rows(session: Session, consultation_id: int) -> list[ConsultationCommitment]:
    """Every commitment of a consultation, in the order they were recorded."""
    return list(session.scalars(select(ConsultationCommitment).where(
        ConsultationCommitment.consultation_id == consultation_id)
        .order_by(ConsultationCommitment.id)).all())


def list_commitments(session: Session, consultation_id: Any) -> dict[str, Any]:
    """Public status of every commitment, with a ``late`` flag."""
    consultation = load_consultation(session, consultation_id)
    today = local_today(clock_now())
    rows = commitment_rows(session, consultation.id)
    return {"consultation_id": consultation.id,
            "commitments": ag.public_commitments([commitment_domain(r) for r in rows], today)}


def add_commitment(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record a commitment; only in the consultiva or seguimiento phase.

    Body: as loaded by :class:`~fondo.consultation.schemas.CommitmentRequestSchema` (``kind``,
    ``description``, ``owner``, ``due_date`` (a date), optional ``amount_mxn`` and
    ``commitment_id``).
    """
    consultation = lock_chain(session, consultation_id)
    if consultation.phase not in COMMITMENT_PHASES:
        raise Conflict(f"commitments are recorded in {' or '.join(COMMITMENT_PHASES)}; the "
                       f"consultation is in {consultation.phase}", field="phase")
    now = clock_now()
    amount = body.get("amount_mxn")
    n = session.scalar(select(func.count()).select_from(ConsultationCommitment).where(
        ConsultationCommitment.consultation_id == consultation.id))
    code = body.get("commitment_id") or f"C-{n + 1}"
    try:
        c = ag.new_commitment(str(code), body.get("kind"), body.get("description"),
                              body.get("owner"), body.get("due_date"), local_today(now),
                              float(amount) if amount is not None else None)
    except ValueError as exc:
        field = next((f for f in _COMMITMENT_FIELDS if f in str(exc)), "kind")
        raise InvalidInput(str(exc), field=field) from None
    if session.scalar(select(ConsultationCommitment.id).where(
            ConsultationCommitment.consultation_id == consultation.id,
            ConsultationCommitment.commitment_code == c.commitment_id)) is not None:
        raise Conflict(f"commitment {c.commitment_id} already exists", field="commitment_id")
    row = ConsultationCommitment(consultation_id=consultation.id, commitment_code=c.commitment_id,
                                 kind=c.kind.value, description=c.description, owner=c.owner,
                                 due_date=c.due_date, agreed_on=c.agreed_on, status=c.status.value,
                                 amount_mxn=c.amount_mxn, is_demo=consultation.is_demo)
    session.add(row)
    session.flush()
    record_event(session, consultation, rec.EventKind.COMMITMENT_RECORDED.value, {
        "commitment_id": c.commitment_id, "kind": c.kind.value, "description": c.description,
        "owner": c.owner, "due_date": c.due_date.isoformat(), "agreed_on": c.agreed_on.isoformat(),
        "amount_mxn": c.amount_mxn, "by": actor}, now)
    return ag.public_commitments([c], local_today(now))[0]


def change_commitment(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                      commitment_id: str, body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Follow-up: change a commitment's status (body as loaded by
    :class:`~fondo.consultation.schemas.CommitmentStatusRequestSchema`: ``status``, ``reason``;
    cancelling needs a reason)."""
    consultation = lock_chain(session, consultation_id)
    row = session.scalars(select(ConsultationCommitment).where(
        ConsultationCommitment.consultation_id == consultation.id,
        ConsultationCommitment.commitment_code == str(commitment_id))).first()
    if row is None:
        raise NotFound(f"commitment {commitment_id} does not exist in consultation {consultation.id}")
    status = body["status"]
    reason = body.get("reason") or ""
    now = clock_now()
    try:
        c = ag.change_status(commitment_domain(row), status, local_today(now), reason)
    except ValueError as exc:
        field = "reason" if "reason" in str(exc) else "status"
        raise (InvalidInput if field == "reason" else Conflict)(str(exc), field=field) from None
    before = row.status
    row.status, row.status_reason, row.fulfilled_on = c.status.value, c.status_reason, c.fulfilled_on
    session.flush()
    record_event(session, consultation, rec.EventKind.COMMITMENT_STATUS_CHANGED.value, {
        "commitment_id": c.commitment_id, "from": before, "to": c.status.value,
        "reason": reason, "by": actor}, now)
    return ag.public_commitments([c], local_today(now))[0]
