"""A project's consultation facts for the pipeline gates (issue 11) — PROVISIONAL version.

Issue 13 (consultation protocol v2) owns this module and replaces it at merge; this one
derives the same keys from today's (protocol v1) tables so that the Fund issue's gates can
be built and tested:

- ``requirement``: from the trigger recorded when the project's latest consultation was
  opened (``required`` → "required"; review recommended → "identification_required";
  opened on an override → "not_required"); without a consultation, from the site check
  stored on the project's site (its ``consultation_required`` attribute); else "unknown".
- ``identification_pending``: identification required and no consultation opened (v1 has
  no record of an identification).
- ``agreement_reached``: the consultation passed the consultiva phase (it is in seguimiento
  or cerrada) and the community's last recorded position is not a refusal.
- ``consent_withheld``: the community's last recorded position is a refusal.
- ``overdue_grievances``: open grievances past their SLA (:mod:`consultation.sla`).
- ``premature_decisions``: v1 records no permits or land contracts: always empty.
- ``financial_close_allowed_by_protocol``: the consultation passed consultiva (v1 names no
  phase for financial close; agreement is the earliest it can be), or no consultation is
  required.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.consultation.chain import event_rows
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import Consultation
from fondo.consultation.social_risk import consultation_risk
from fondo.errors import NotFound
from fondo.fund.service import Project

#: Phases of protocol v1 that come after the community's answer (the consultiva exit).
AFTER_AGREEMENT_PHASES = frozenset({"seguimiento", "cerrada"})


def _requirement_from_opening(rows: list[dict]) -> str:
    opened = next((r for r in rows if r["kind"] == "consultation_opened"), None)
    trigger = (opened or {}).get("payload", {}).get("trigger") or {}
    if trigger.get("required"):
        return "required"
    if trigger.get("review_recommended"):
        return "identification_required"
    if trigger.get("override_reason"):
        return "not_required"
    return "unknown"


def _requirement_from_site(project: Project) -> str:
    site = project.site
    if site is None or not site.check_result:
        return "unknown"
    attributes = site.check_result.get("attributes") or {}
    if "consultation_required" not in attributes:
        return "unknown"
    return "required" if attributes["consultation_required"] else "not_required"


def project_consultation_gates(session: Session, project_id: int) -> dict[str, Any]:
    """The consultation facts the pipeline gates read for project ``project_id``.

    Raises
    ------
    NotFound
        No such project.
    """
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} does not exist")
    consultation = session.scalars(select(Consultation).where(
        Consultation.project_id == project_id).order_by(Consultation.id.desc())).first()
    if consultation is None:
        requirement = _requirement_from_site(project)
        return {"requirement": requirement,
                "identification_pending": requirement == "identification_required",
                "consultation_id": None, "state": None, "agreement_reached": False,
                "consent_withheld": False, "overdue_grievances": 0, "premature_decisions": [],
                "financial_close_allowed_by_protocol": requirement == "not_required"}
    rows = event_rows(session, consultation.id)
    risk = consultation_risk(session, consultation, clock_now(), rows=rows)
    withheld = bool(risk["consent_withheld"])
    passed = consultation.phase in AFTER_AGREEMENT_PHASES
    return {"requirement": _requirement_from_opening(rows), "identification_pending": False,
            "consultation_id": consultation.id, "state": consultation.phase,
            "agreement_reached": passed and not withheld, "consent_withheld": withheld,
            "overdue_grievances": int(risk["overdue_grievances"]), "premature_decisions": [],
            "financial_close_allowed_by_protocol": passed}
