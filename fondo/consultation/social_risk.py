"""A project's social risk level, read by the pipeline gates and the portfolio.

The level itself is :func:`consultation.risk.social_risk` (pure); this module counts its
inputs from the database: open, overdue and escalated grievances, late commitments, the
community's last recorded position, or, before any consultation, the siting rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import agreements as ag
from consultation import feedback as fb
from consultation import protocol as pr
from consultation import risk as rk
from consultation import trigger as tg
from fondo.consultation.chain import event_rows, protocol_of
from fondo.consultation.clock import local_today
from fondo.consultation.clock import now as clock_now
from fondo.consultation.commitments import commitment_domain, commitment_rows
from fondo.consultation.communities import run_trigger
from fondo.consultation.feedback import feedback_rows, paused_days_of, sla_frame
from fondo.consultation.models import Consultation
from fondo.errors import NotFound
from fondo.fund.service import Project


def consultation_risk(session: Session, consultation: Consultation, now: dt.datetime,
                      rows: list[dict] | None = None) -> dict[str, Any]:
    """The social risk of a consultation in progress and the counts it comes from.

    ``rows`` are the consultation's chain events when the caller has them already.
    """
    protocol = protocol_of(consultation)
    items = feedback_rows(session, consultation.id)
    rows = rows if rows is not None else event_rows(session, consultation.id)
    frame = sla_frame(items, now, protocol, paused_days_of(session, consultation.id, now, rows))
    grievances = [r for r in items if r.kind == fb.FeedbackKind.GRIEVANCE.value]
    open_statuses = {s.value for s in fb.OPEN_STATUSES}
    open_g = [r for r in grievances if r.status in open_statuses]
    escalated = sum(r.status == fb.FeedbackStatus.ESCALATED.value for r in grievances)
    overdue_g = sum(bool(frame.loc[r.id, "overdue"]) for r in open_g)
    overdue_all = int(frame["overdue"].sum()) if len(frame) else 0
    today = local_today(now)
    late = len(ag.late_commitments(
        [commitment_domain(r) for r in commitment_rows(session, consultation.id)], today))
    positions = [r["payload"]["position"] for r in rows if r["kind"] == "community_position_recorded"]
    withheld = (bool(positions) and positions[-1] == "refusal") or (
        consultation.phase == pr.CLOSED_WITHOUT_CONSENT)
    level = rk.social_risk(consultation.phase, len(open_g), overdue_g, late, escalated, withheld, True)
    return {"consultation_id": consultation.id, "phase": consultation.phase,
            "consultation_required": True, "open_grievances": len(open_g),
            "overdue_grievances": overdue_g, "overdue_submissions": overdue_all,
            "escalated_grievances": escalated, "late_commitments": late,
            "consent_withheld": withheld, "social_risk": level, "as_of": now.isoformat()}


def social_risk_for_project(session: Session, settings: Mapping[str, Any],
                            project_id: Any) -> dict[str, Any]:
    """The project's social risk level (read by the pipeline gates and the portfolio)."""
    try:
        pid = int(project_id)
    except (TypeError, ValueError):
        raise NotFound(f"project {project_id!r} does not exist") from None
    project = session.get(Project, pid)
    if project is None:
        raise NotFound(f"project {pid} does not exist")
    now = clock_now()
    consultation = session.scalars(select(Consultation).where(Consultation.project_id == pid)
                                   .order_by(Consultation.id.desc())).first()
    if consultation is not None:
        return {"project_id": pid, **consultation_risk(session, consultation, now)}
    required, requirement = False, None
    if project.site is not None:
        result = run_trigger(settings, project, tg.SCREENING_DISTANCE_KM, [])[0]
        required, requirement = result.required, result.requirement
    # Version 2: an identification still to do is an open risk too (never cleared on the
    # typology alone).
    level = rk.social_risk(rk.NOT_STARTED, 0, 0, 0, 0, False,
                           required or requirement == tg.Requirement.IDENTIFICATION_REQUIRED.value)
    return {"project_id": pid, "consultation_id": None, "phase": rk.NOT_STARTED,
            "consultation_required": required, "requirement": requirement,
            "open_grievances": 0, "overdue_grievances": 0,
            "overdue_submissions": 0, "escalated_grievances": 0, "late_commitments": 0,
            "consent_withheld": False, "social_risk": level, "as_of": now.isoformat()}
