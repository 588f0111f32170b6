"""A project's permits, land contracts and social impact assessment resolution, tied to the
protocol's phases ("prior" tied to the pipeline, issue 13).

A decision dated before the phase the protocol allows (``prior_decisions`` of
``consultation/protocol_v2.yaml``) is refused with a 409 that names the phase and the date
from which it would be allowed. A decision already taken (an acquired project, a permit
granted before the fund came in) is recorded as a past fact only with ``premature_reason``:
it then shows in :func:`~fondo.consultation.project_status.project_consultation_gates` as
premature, which blocks the project's gates. When the project has a consultation, the
decision is appended to its chain in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import protocol as pr
from fondo.consultation.chain import iso, lock_chain, record_event
from fondo.consultation.clock import local_today
from fondo.consultation.models import ProjectDecision
from fondo.consultation.project_status import (
    decision_allowed_from,
    premature_reason,
    project_context,
)
from fondo.errors import Conflict, InvalidInput

DECISION_EVENT = "project_decision_recorded"


def decision_view(d: ProjectDecision) -> dict[str, Any]:
    """A recorded decision."""
    return {"id": d.id, "project_id": d.project_id, "consultation_id": d.consultation_id,
            "kind": d.kind, "decision_date": d.decision_date.isoformat(),
            "reference": d.reference, "authority": d.authority, "description": d.description,
            "premature": d.premature_reason is not None, "premature_reason": d.premature_reason,
            "recorded_by": d.recorded_by, "recorded_at": iso(d.recorded_at)}


def record_project_decision(session: Session, settings: Mapping[str, Any], project_id: Any,
                            body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record a permit, land contract or SIA resolution (body as loaded by
    :class:`~fondo.consultation.schemas_v2.DecisionRequestSchema`); 409 before the phase the
    protocol allows, unless recorded as a premature past fact."""
    ctx = project_context(session, project_id, settings)
    current = ctx["current"]
    if current is not None:
        lock_chain(session, current.id)  # the chain lock first, then read and decide
        ctx = project_context(session, project_id, settings)
    kind, date = body["kind"], body["decision_date"]
    today = local_today(ctx["now"])
    if date > today:
        raise InvalidInput(f"decision_date {date.isoformat()} is in the future (today is "
                           f"{today.isoformat()} in central Mexico): record a decision once taken",
                           field="decision_date")
    rule = pr.prior_decision_rules()[kind]
    allowed = decision_allowed_from(ctx, kind)
    premature = allowed is None or date < allowed
    reason = body.get("premature_reason")
    why = premature_reason(rule, allowed, ctx["requirement"])
    if ctx["withheld"]:
        why = "the community withheld its consent (closed without consent)"
    elif ctx["identification_pending"]:
        why = "the identification of communities that may be affected is still pending"
    if premature and not reason:
        raise Conflict(
            f"a {kind} dated {date.isoformat()} is refused: {why}; give premature_reason only "
            "to record one already taken", field="decision_date",
            extra={"kind": kind, "required_phase": rule.phase,
                   "requires_agreement": rule.requires_agreement,
                   "allowed_from": None if allowed is None or allowed.year == 1 else
                   allowed.isoformat(), "requirement": ctx["requirement"]})
    if reason and not premature:
        raise InvalidInput("premature_reason is only for a decision taken before the protocol "
                           "allows it; this one is allowed", field="premature_reason")
    decision = ProjectDecision(
        project_id=ctx["project"].id, consultation_id=current.id if current else None, kind=kind,
        decision_date=date, reference=body["reference"], authority=body.get("authority"),
        description=body.get("description"), premature_reason=reason, recorded_by=actor,
        recorded_at=ctx["now"])
    session.add(decision)
    session.flush()
    if current is not None:
        record_event(session, current, DECISION_EVENT, {
            "decision_id": decision.id, "kind": kind, "decision_date": date.isoformat(),
            "reference": decision.reference, "authority": decision.authority,
            "premature": premature, "premature_reason": reason, "by": actor}, ctx["now"])
    return decision_view(decision)


def list_project_decisions(session: Session, settings: Mapping[str, Any],
                           project_id: Any) -> dict[str, Any]:
    """A project's recorded decisions, oldest first."""
    ctx = project_context(session, project_id, settings)
    rows = session.scalars(select(ProjectDecision).where(
        ProjectDecision.project_id == ctx["project"].id)
        .order_by(ProjectDecision.decision_date, ProjectDecision.id))
    return {"project_id": ctx["project"].id, "decisions": [decision_view(d) for d in rows]}
