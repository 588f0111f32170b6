"""What the consultation says about a project, for the fund's pipeline gates (issue 13).

:func:`project_consultation_gates` answers, in a few queries, the questions the Fund
feature's gates ask before due diligence and financial close: is a consultation required
(three-valued trigger), is an identification still pending, did the community agree or
withhold its consent, are grievances overdue, was any permit, land contract or social impact
assessment resolution taken before the phase the protocol allows, and may the project reach
financial close.

Rules (protocol version 2, ``prior_decisions`` in ``consultation/protocol_v2.yaml``; the
same phase rules are applied to consultations opened under version 1):

- ``requirement`` is the trigger's answer recorded when the project's latest consultation
  was opened, raised to ``"required"`` once an identification found that a community may be
  affected; with no consultation, the trigger run on the project's site (or, with no site,
  on its municipality's typology); ``"unknown"`` when there is neither.
- A decision or financial close is allowed from the (Mexico City) date on which the
  consultation entered the phase the protocol names for it (with the community's agreement
  or consent when the rule says so); when the identification found no community that may be
  affected, from the date it was recorded; always when the trigger says not required.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import feedback as fb
from consultation import protocol as pr
from consultation import sla
from consultation import suspension as sp
from consultation import trigger as tg
from fondo.consultation.chain import event_rows
from fondo.consultation.communities import load_datasets
from fondo.consultation.clock import local_today
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import Consultation, ConsultationFeedback, ProjectDecision
from fondo.config import PROJECT_ROOT
from fondo.errors import NotFound
from fondo.fund.service import Project

#: Requirement when the project has neither a site nor a municipality to evaluate.
UNKNOWN = "unknown"
#: Positions of the community that count as agreement (consent is agreement too).
AGREEMENT_POSITIONS = ("agreement", "consent")


def _default_data_dir() -> str:
    return str(PROJECT_ROOT / "data")


@functools.lru_cache(maxsize=4)
def _datasets(data_dir: str, stamp: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    return load_datasets({"DATA_DIR": data_dir})


def _stamp(data_dir: str) -> tuple:
    """Names and modification times of the bundled tables: a new file version, a new read."""
    folder = Path(data_dir) / "geo"
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.csv"))) \
        if folder.is_dir() else ()


def _cached_datasets(data_dir: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The trigger's datasets, read (and their checksums verified) once per file version."""
    return _datasets(data_dir, _stamp(data_dir))


def trigger_requirement(project: Project, data_dir: str) -> str:
    """The three-valued trigger for a project with no consultation yet: on its site's
    centroid within :data:`consultation.trigger.SCREENING_DISTANCE_KM`, else on its
    municipality's typology, else ``"unknown"`` (cached per site and dataset version)."""
    site = project.site
    if site is not None and site.geometry is not None:
        point = site.geometry.centroid
        return _site_requirement(data_dir, _stamp(data_dir), float(point.y), float(point.x))
    key = project.municipality_key
    if key:
        typology, _ = _cached_datasets(data_dir)
        row = typology.loc[typology["cvegeo"].astype(str) == str(key)]
        if len(row):
            return tg.requirement_for_municipality(
                str(row["tipo_code"].iloc[0]), float(row["pob_indigena_hogares"].iloc[0]))
    return UNKNOWN


@functools.lru_cache(maxsize=1024)
def _site_requirement(data_dir: str, stamp: tuple, latitude: float, longitude: float) -> str:
    typology, localities = _datasets(data_dir, stamp)
    near = tg.localities_within_km(localities, latitude, longitude, tg.SCREENING_DISTANCE_KM)
    return tg.consultation_required(typology, near).requirement


def _at(row: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(row["occurred_at"].replace("Z", "+00:00"))


def _facts(consultation: Consultation, rows: list[dict], now: dt.datetime) -> dict[str, Any]:
    """What one consultation's chain says: phases entered, positions, identification, pauses."""
    entered: dict[str, dt.datetime] = {}
    phase = None
    last_position: str | None = None
    consultiva_position: str | None = None
    agreement_at: dt.datetime | None = None
    identification = None
    requirement = None
    for r in rows:
        kind, payload = r["kind"], r["payload"]
        if kind == "consultation_opened":
            phase = payload["phase"]
            entered.setdefault(phase, _at(r))
            trig = payload.get("trigger") or {}
            requirement = trig.get("requirement") or (
                tg.Requirement.REQUIRED.value if trig.get("required") else
                tg.Requirement.IDENTIFICATION_REQUIRED.value if trig.get("review_recommended")
                else tg.Requirement.NOT_REQUIRED.value)
        elif kind == "phase_changed":
            if payload["from"] == "consultiva" and payload["to"] == "seguimiento":
                consultiva_position = last_position
                if last_position in AGREEMENT_POSITIONS or (
                        consultation.protocol_version == pr.V1_PROTOCOL_VERSION
                        and last_position != "refusal"):
                    agreement_at = agreement_at or _at(r)
            phase = payload["to"]
            entered.setdefault(phase, _at(r))
        elif kind == "community_position_recorded":
            last_position = payload["position"]
        elif kind == "identification_recorded":
            identification = {"outcome": payload["outcome"], "at": _at(r)}
    suspensions = sp.suspensions_from_events(rows)
    return {"entered": entered, "phase": phase, "last_position": last_position,
            "consultiva_position": consultiva_position, "agreement_at": agreement_at,
            "identification": identification, "requirement": requirement,
            "suspensions": suspensions, "suspended": sp.is_suspended(suspensions)}


def _closed_without_consent(consultation: Consultation, facts: dict) -> bool:
    if facts["phase"] == pr.CLOSED_WITHOUT_CONSENT:
        return True
    # Version 1 had no such state: a refusal as the last answer withholds consent.
    return (consultation.protocol_version == pr.V1_PROTOCOL_VERSION
            and facts["last_position"] == "refusal" and facts["agreement_at"] is None)


def _allowed_from(rule: pr.PriorDecisionRule, requirement: str, facts: dict | None,
                  ) -> dt.date | None:
    """First (Mexico City) date a decision of ``rule.kind`` is allowed, or None (not yet).

    With no consultation, only a "not required" trigger allows it (from any date); with a
    consultation, an identification that found no community that may be affected allows it
    from the date it was recorded, otherwise the protocol's phase (and agreement) rule.
    """
    if requirement == UNKNOWN:
        return None
    if facts is None or facts["phase"] is None:
        return dt.date.min if requirement == tg.Requirement.NOT_REQUIRED.value else None
    ident = facts["identification"]
    if ident is not None and ident["outcome"] == pr.NO_COMMUNITY_AFFECTED:
        return local_today(ident["at"])
    at = facts["agreement_at"] if rule.requires_agreement else facts["entered"].get(rule.phase)
    return local_today(at) if at is not None else None


def _overdue_grievances(session: Session, consultations: list[Consultation],
                        by_id_facts: dict[int, dict], now: dt.datetime) -> int:
    ids = [c.id for c in consultations]
    if not ids:
        return 0
    rows = session.execute(select(
        ConsultationFeedback.consultation_id, ConsultationFeedback.submitted_at,
        ConsultationFeedback.acknowledged_at, ConsultationFeedback.answered_at).where(
        ConsultationFeedback.consultation_id.in_(ids),
        ConsultationFeedback.kind == fb.FeedbackKind.GRIEVANCE.value,
        ConsultationFeedback.status != fb.FeedbackStatus.CLOSED.value,
        ConsultationFeedback.answered_at.is_(None))).all()  # an answered one is never overdue
    if not rows:
        return 0
    total = 0
    protocols = {c.id: pr.load_protocol(c.protocol_version) for c in consultations}
    for cid in {r[0] for r in rows}:
        mine = [r for r in rows if r[0] == cid]
        frame = pd.DataFrame({
            "received_at": pd.to_datetime([r[1] for r in mine], utc=True),
            "acknowledged_at": pd.to_datetime([r[2] for r in mine], utc=True),
            "answered_at": pd.to_datetime([r[3] for r in mine], utc=True)})
        facts = by_id_facts.get(cid)
        paused = sp.paused_local_days(facts["suspensions"], now) if facts else ()
        flagged = sla.overdue(frame, now, protocols[cid].sla, extra_rest_days=paused)
        total += int(flagged["overdue"].sum())
    return total


def project_context(session: Session, project_id: Any,
                    settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the gates and the decision records share: the project, its consultations and what
    their chains say, the effective requirement and whether consent is withheld."""
    try:
        pid = int(project_id)
    except (TypeError, ValueError):
        raise NotFound(f"project {project_id!r} does not exist") from None
    project = session.get(Project, pid) if -2**31 <= pid < 2**31 else None
    if project is None:
        raise NotFound(f"project {pid} does not exist")
    now = clock_now()
    consultations = list(session.scalars(
        select(Consultation).where(Consultation.project_id == pid).order_by(Consultation.id)))
    current = consultations[-1] if consultations else None
    facts_by_id: dict[int, dict] = {}
    withheld = False
    for c in consultations:
        facts = _facts(c, event_rows(session, c.id), now)
        facts_by_id[c.id] = facts
        if _closed_without_consent(c, facts):
            withheld = True
        elif facts["agreement_at"] is not None:
            withheld = False
    facts = facts_by_id.get(current.id) if current is not None else None
    if facts is not None and facts["requirement"] is not None:
        requirement = facts["requirement"]
    else:
        data_dir = str((settings or {}).get("DATA_DIR") or _default_data_dir())
        requirement = trigger_requirement(project, data_dir)
    ident = facts["identification"] if facts else None
    if ident is not None and ident["outcome"] == pr.COMMUNITY_MAY_BE_AFFECTED:
        requirement = tg.Requirement.REQUIRED.value
    return {"project": project, "now": now, "consultations": consultations, "current": current,
            "facts": facts, "facts_by_id": facts_by_id, "withheld": withheld,
            "requirement": requirement,
            "identification_pending": (requirement == tg.Requirement.IDENTIFICATION_REQUIRED.value
                                       and ident is None)}


def decision_allowed_from(context: dict[str, Any], kind: str) -> dt.date | None:
    """First date a decision of ``kind`` (or ``"financial_close"``) is allowed, or None."""
    rule = pr.prior_decision_rules()[kind]
    if context["withheld"] or context["identification_pending"]:
        return None
    return _allowed_from(rule, context["requirement"], context["facts"])


def project_consultation_gates(session: Session, project_id: int,
                               settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The consultation facts the pipeline gates of a project need.

    Parameters
    ----------
    session : Session
    project_id : int
    settings : mapping, optional
        Only ``DATA_DIR`` is read (the bundled trigger datasets), when the project has no
        consultation yet; defaults to the project's ``data/`` folder.

    Returns
    -------
    dict
        ``requirement`` ("required" | "identification_required" | "not_required" |
        "unknown"), ``identification_pending`` (bool), ``consultation_id`` and ``state``
        (the latest consultation and its phase, ``"suspendida"`` while suspended, or None),
        ``agreement_reached`` (bool), ``consent_withheld`` (bool), ``overdue_grievances``
        (int), ``premature_decisions`` (list of {kind, date, reason}) and
        ``financial_close_allowed_by_protocol`` (bool).

    Raises
    ------
    NotFound
        No such project.
    """
    ctx = project_context(session, project_id, settings)
    facts, current, requirement = ctx["facts"], ctx["current"], ctx["requirement"]
    rules = pr.prior_decision_rules()
    premature = []
    decisions = session.scalars(select(ProjectDecision).where(
        ProjectDecision.project_id == ctx["project"].id)
        .order_by(ProjectDecision.decision_date, ProjectDecision.id))
    for d in decisions:
        rule = rules[d.kind]
        allowed = _allowed_from(rule, requirement, facts)
        if allowed is None or d.decision_date < allowed:
            premature.append({"kind": d.kind, "date": d.decision_date.isoformat(),
                              "reason": premature_reason(rule, allowed, requirement)})
    close_from = decision_allowed_from(ctx, pr.FINANCIAL_CLOSE)
    suspended = bool(facts and facts["suspended"])
    close_ok = (close_from is not None and close_from <= local_today(ctx["now"])
                and not suspended)
    return {
        "requirement": requirement,
        "identification_pending": ctx["identification_pending"],
        "consultation_id": current.id if current is not None else None,
        "state": (pr.SUSPENDED if suspended else facts["phase"]) if facts else None,
        "agreement_reached": bool(facts and facts["agreement_at"] is not None),
        "consent_withheld": ctx["withheld"],
        "overdue_grievances": _overdue_grievances(session, ctx["consultations"],
                                                  ctx["facts_by_id"], ctx["now"]),
        "premature_decisions": premature,
        "financial_close_allowed_by_protocol": bool(close_ok),
    }


def premature_reason(rule: pr.PriorDecisionRule, allowed: dt.date | None,
                     requirement: str) -> str:
    """Why a decision of ``rule.kind`` is (or would be) premature, in English."""
    if requirement == UNKNOWN:
        return "the project has no site or municipality: the consultation requirement is unknown"
    need = (f"the consultiva phase left with the community's agreement or consent (phase "
            f"{rule.phase})" if rule.requires_agreement else f"the {rule.phase} phase reached")
    if allowed is None:
        return f"the protocol requires {need} before a {rule.kind}; not reached yet"
    return f"dated before {allowed.isoformat()}, the date of {need}"
