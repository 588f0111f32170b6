"""A consultation's life: opened when the siting rule says so, walked through the protocol's
phases on recorded evidence, with its communities, meetings and the officer's view of it.

The state machine is :mod:`consultation.protocol` (pure); every change here is appended to
the chain in the same transaction (:func:`fondo.consultation.chain.record_event`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consultation import agreements as ag
from consultation import feedback as fb
from consultation import protocol as pr
from consultation import record as rec
from consultation import safeguards as sg
from consultation import trigger as tg
from fondo.consultation.chain import (
    event_rows,
    evidence_of,
    iso,
    load_consultation,
    lock_chain,
    protocol_of,
    record_event,
    record_missing_evidence,
    state_of,
)
from fondo.consultation.clock import now as clock_now
from fondo.consultation.conditions import assembly_check_passed, check_condition_v2
from fondo.consultation.communities import (
    community_rows,
    municipalities,
    officer_community,
    run_trigger,
)
from fondo.consultation.models import (
    Consultation,
    ConsultationAnchor,
    ConsultationCommitment,
    ConsultationFeedback,
    ConsultationLanguageAgent,
)
from fondo.consultation.notices import portal_url
from fondo.consultation.safeguards import (
    accepted_agent,
    agreed_languages,
    opening_requirement,
    refuse_if_suspended,
)
from fondo.consultation.social_risk import consultation_risk
from fondo.errors import Conflict, InvalidInput
from fondo.fund.service import Project


def create_consultation(session: Session, settings: Mapping[str, Any], body: Mapping[str, Any],
                        actor: str) -> dict[str, Any]:
    """Open a consultation for a project whose site meets the trigger rule.

    Body: as loaded by :class:`~fondo.consultation.schemas.ConsultationRequestSchema`
    (``project_id``; optional ``max_distance_km`` (default 10), ``known_indigenous_localities``
    (9-digit INEGI keys), ``override_reason`` (open although the rule does not require it)).
    """
    project_id = body["project_id"]
    project = session.get(Project, project_id)
    if project is None:
        raise InvalidInput(f"project {project_id} does not exist", field="project_id")
    distance = float(body.get("max_distance_km", tg.SCREENING_DISTANCE_KM))
    known = list(body.get("known_indigenous_localities", []))
    override = body.get("override_reason")
    open_ = session.scalar(select(Consultation).where(
        Consultation.project_id == project.id,
        Consultation.phase.notin_(("cerrada", pr.CLOSED_WITHOUT_CONSENT,
                                   pr.CLOSED_NO_COMMUNITY_AFFECTED))))
    if open_ is not None:
        raise Conflict(f"project {project.id} already has consultation {open_.id} in progress",
                       field="project_id", extra={"consultation_id": open_.id})
    result, lat, lon, typology = run_trigger(settings, project, distance, known)
    if result.requirement == tg.Requirement.NOT_REQUIRED.value and not override:
        raise Conflict(
            "the siting rule does not require a consultation for this site (no locality with "
            "indigenous population within the distance); give override_reason to open one anyway",
            field="project_id",
            extra={"requirement": result.requirement,
                   "review_recommended": result.review_recommended,
                   "review_municipalities": result.review_municipalities["cvegeo"].tolist()})
    now = clock_now()
    protocol = pr.load_protocol()
    state = pr.start_consultation(now, protocol)
    communities = community_rows(result, typology)
    consultation = Consultation(project_id=project.id, protocol_version=protocol.version,
                                phase=state.phase_id, communities=communities,
                                is_demo=bool(project.is_demo), created_at=now)
    session.add(consultation)
    session.flush()
    record_event(session, consultation, rec.EventKind.CONSULTATION_OPENED.value, {
        "project_id": project.id, "project_name": project.name,
        "protocol_version": protocol.version, "phase": state.phase_id,
        "trigger": {"required": result.required, "review_recommended": result.review_recommended,
                    "requirement": result.requirement,
                    "identification_municipalities":
                        result.identification_municipalities["cvegeo"].tolist(),
                    "rule": result.rule, "max_distance_km": result.max_distance_km,
                    "site": {"latitude": round(lat, 6), "longitude": round(lon, 6)},
                    "override_reason": override},
        "municipalities": municipalities(communities),
        "communities": communities, "by": actor}, now)
    return consultation_resource(session, settings, consultation)


def consultation_resource(session: Session, settings: Mapping[str, Any],
                          consultation: Consultation) -> dict[str, Any]:
    """A consultation as the API shows it (public facts plus the officer's next-step view)."""
    protocol = protocol_of(consultation)
    rows = event_rows(session, consultation.id)
    state = state_of(consultation, rows)
    now = clock_now()
    phase = protocol.phase(state.phase_id)
    missing = None
    if not phase.terminal:
        m = pr.missing_for_exit(protocol, phase.phase_id, evidence_of(rows), state.phase_started_at,
                                max(now, state.phase_started_at), state.suspensions)
        missing = {"steps": list(m.steps), "artefacts": list(m.artefacts),
                   "conditions": list(m.conditions), "days_remaining": m.days_remaining,
                   "facts": list(m.facts)}
    project = session.get(Project, consultation.project_id)
    anchor = session.get(ConsultationAnchor, consultation.id)
    return {
        "id": consultation.id, "project_id": consultation.project_id,
        "project_name": project.name if project else None,
        "protocol_version": consultation.protocol_version, "phase": state.phase_id,
        "state": pr.SUSPENDED if state.suspended else state.phase_id,
        "suspended": state.suspended, "requirement": opening_requirement(rows),
        "suspensions": [{"kind": x.kind, "reason": x.reason, "started_at": x.started_at.isoformat(),
                         "ended_at": iso(x.ended_at)} for x in state.suspensions],
        "languages": agreed_languages(rows),
        "identification": _identification_summary(rows),
        "phase_name_es": phase.name_es, "phase_name_en": phase.name_en,
        "phase_started_at": state.phase_started_at.isoformat(),
        "history": [{"phase": h.phase_id, "entered_at": h.entered_at.isoformat(),
                     "reason": h.reason} for h in state.history],
        "allowed_moves": list(pr.allowed_moves(state, protocol, evidence_of(rows))),
        "missing_for_next_phase": missing,
        "communities": consultation.communities,
        "municipalities": municipalities(consultation.communities),
        "is_demo": consultation.is_demo,
        "created_at": iso(consultation.created_at),
        "portal_url": portal_url(settings, consultation.id),
        "event_count": anchor.event_count if anchor else 0,
        "head_hash": anchor.head_hash if anchor else None,
        "social_risk": consultation_risk(session, consultation, now, rows=rows)["social_risk"],
    }


def _identification_summary(rows: list[dict]) -> dict[str, Any] | None:
    """The identification recorded (outcome, methods, who decided, why), or None."""
    for r in reversed(rows):
        if r["kind"] == "identification_recorded":
            p = r["payload"]
            return {"outcome": p["outcome"], "methods": p["methods"],
                    "decided_by": p["decided_by"], "reason": p["reason"],
                    "localities": p["localities"], "recorded_at": r["occurred_at"]}
    return None


def get_consultation(session: Session, settings: Mapping[str, Any], consultation_id: Any) -> dict:
    """One consultation (404 if unknown)."""
    return consultation_resource(session, settings, load_consultation(session, consultation_id))


def list_consultations(session: Session, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every consultation, newest first, with its id, project and phase."""
    out = []
    for c in session.scalars(select(Consultation).order_by(Consultation.id.desc())):
        project = session.get(Project, c.project_id)
        phase = protocol_of(c).phase(c.phase)
        out.append({"id": c.id, "project_id": c.project_id,
                    "project_name": project.name if project else None,
                    "phase": c.phase, "phase_name_es": phase.name_es, "phase_name_en": phase.name_en,
                    "protocol_version": c.protocol_version, "is_demo": c.is_demo,
                    "municipalities": municipalities(c.communities),
                    "portal_url": portal_url(settings, c.id)})
    return {"consultations": out}


def change_communities(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                       body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Add or remove one community, with the reason recorded (body as loaded by
    :class:`~fondo.consultation.schemas.CommunityChangeRequestSchema`: action, cvegeo, reason,
    optional name)."""
    consultation = lock_chain(session, consultation_id)
    action, cvegeo, reason = body["action"], body["cvegeo"], body["reason"]
    current = list(consultation.communities or [])
    entry = next((c for c in current if c["cvegeo"] == cvegeo), None)
    if action == "add":
        entry = officer_community(settings, cvegeo, body.get("name"), reason)
    name = entry["name"] if entry else str(body.get("name") or cvegeo)
    try:
        tg.apply_community_changes([c["cvegeo"] for c in current],
                                   [tg.CommunityChange(action, cvegeo, name, reason, actor)])
    except ValueError as exc:
        raise Conflict(str(exc).split(": ", 1)[-1], field="cvegeo") from None
    if action == "add":
        current.append(entry)
    else:
        current = [c for c in current if c["cvegeo"] != cvegeo]
    consultation.communities = current
    kind = (rec.EventKind.COMMUNITY_ADDED if action == "add" else rec.EventKind.COMMUNITY_REMOVED).value
    record_event(session, consultation, kind, {"cvegeo": cvegeo, "name": name, "reason": reason,
                                               "by": actor})
    return consultation_resource(session, settings, consultation)


def _check_condition(session: Session, consultation: Consultation, condition: str,
                     rows: list[dict]) -> None:
    """Conditions the database can check are checked, not merely asserted."""
    if consultation.protocol_version != pr.V1_PROTOCOL_VERSION:
        check_condition_v2(session, consultation, condition, rows)
    if condition == "no_open_grievances":
        n = session.scalar(select(func.count()).select_from(ConsultationFeedback).where(
            ConsultationFeedback.consultation_id == consultation.id,
            ConsultationFeedback.status.in_([s.value for s in fb.OPEN_STATUSES])))
        if n:
            raise Conflict(f"{n} submission(s) still open: answer them first", field="conditions")
    if condition == "all_commitments_closed":
        n = session.scalar(select(func.count()).select_from(ConsultationCommitment).where(
            ConsultationCommitment.consultation_id == consultation.id,
            ConsultationCommitment.status.notin_([s.value for s in ag.CLOSED_COMMITMENT_STATUSES])))
        if n:
            raise Conflict(f"{n} commitment(s) neither fulfilled nor cancelled", field="conditions")
    if condition == "agreements_recorded":
        n = session.scalar(select(func.count()).select_from(ConsultationCommitment).where(
            ConsultationCommitment.consultation_id == consultation.id))
        if not n:
            raise Conflict("no commitment recorded yet", field="conditions")


def record_evidence(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                    body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record steps done, artefacts held and exit conditions met in the current phase.

    Body: as loaded by :class:`~fondo.consultation.schemas.EvidenceRequestSchema` (``steps``,
    ``artefacts``, ``conditions`` (lists of protocol ids), optional ``note``, optional
    ``document`` (a reference: file name, archive number) and, in consultiva,
    ``community_position`` (consent, agreement or refusal)).
    """
    consultation = lock_chain(session, consultation_id)
    phase = protocol_of(consultation).phase(consultation.phase)
    note, document = body.get("note"), body.get("document")
    rows = event_rows(session, consultation.id)
    refuse_if_suspended(state_of(consultation, rows))
    have = evidence_of(rows)
    wanted = []
    for field, items, kind, done in (("steps", phase.steps, "step_completed", have.steps),
                                     ("artefacts", phase.artefacts, "artefact_added", have.artefacts),
                                     ("conditions", phase.exit_conditions, "condition_met",
                                      have.conditions)):
        ids = body.get(field) or []
        valid = [i.item_id for i in items]
        unknown = [i for i in ids if i not in valid]
        if unknown:
            raise InvalidInput(f"{field} {unknown} are not in phase {phase.phase_id}; valid: "
                               f"{', '.join(valid) or 'none'}", field=field)
        wanted += [(kind, i) for i in dict.fromkeys(ids) if i not in done]
    position = body.get("community_position")
    if position is not None and phase.phase_id != "consultiva":
        raise Conflict("the community's position is recorded in the consultiva phase",
                       field="community_position")
    if (position is not None and consultation.protocol_version != pr.V1_PROTOCOL_VERSION
            and not assembly_check_passed(rows)):
        raise Conflict("the community's answer is recorded from the decision assembly, after its "
                       "no-coercion check passed: record the assembly (meeting with "
                       "decision_assembly and no_coercion_check) first",
                       field="community_position")
    if not wanted and position is None:
        raise InvalidInput("nothing new to record: give steps, artefacts, conditions or "
                           "community_position", field="steps")
    # the answer given in the same request counts for the conditions checked with it
    seen = rows + ([{"kind": "community_position_recorded", "payload": {"position": position}}]
                   if position is not None else [])
    for kind, item in wanted:
        if kind == "condition_met":
            _check_condition(session, consultation, item, seen)
    for kind, item in wanted:
        record_event(session, consultation, kind, {"phase": phase.phase_id, "id": item,
                                                   "note": note, "document": document,
                                                   "by": actor})
    if position is not None:
        record_event(session, consultation, "community_position_recorded",
                     {"phase": phase.phase_id, "position": position, "note": note, "by": actor})
        if consultation.protocol_version != pr.V1_PROTOCOL_VERSION:
            record_missing_evidence(session, consultation, phase, "step_completed",
                                    "record_community_decision", f"position {position}", actor)
    return consultation_resource(session, settings, consultation)


def change_phase(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                 body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Move the consultation (body as loaded by
    :class:`~fondo.consultation.schemas.PhaseChangeRequestSchema`: ``to_phase``, ``reason``);
    409 lists what is missing."""
    consultation = lock_chain(session, consultation_id)
    protocol = protocol_of(consultation)
    to_phase = body["to_phase"]
    if to_phase not in protocol.phase_ids:
        raise InvalidInput(f"to_phase must be one of {', '.join(protocol.phase_ids)}",
                           field="to_phase")
    reason = body.get("reason") or ""
    rows = event_rows(session, consultation.id)
    state = state_of(consultation, rows)
    now = max(clock_now(), state.phase_started_at)
    try:
        new = pr.advance(state, to_phase, evidence_of(rows, reason), now, protocol)
    except pr.TransitionError as exc:
        missing = None
        if exc.missing is not None:
            missing = {"steps": list(exc.missing.steps), "artefacts": list(exc.missing.artefacts),
                       "conditions": list(exc.missing.conditions),
                       "days_remaining": exc.missing.days_remaining}
        raise Conflict(str(exc), field="to_phase",
                       extra={"from_phase": exc.from_phase, "to_phase": exc.to_phase,
                              "missing": missing,
                              "allowed_moves": list(pr.allowed_moves(state, protocol,
                                                                     evidence_of(rows)))}) from None
    consultation.phase = new.phase_id
    record_event(session, consultation, rec.EventKind.PHASE_CHANGED.value,
                 {"from": state.phase_id, "to": new.phase_id, "reason": reason, "by": actor}, now)
    return consultation_resource(session, settings, consultation)


def record_meeting(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                   body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record a meeting held (body as loaded by
    :class:`~fondo.consultation.schemas.MeetingRequestSchema`: held_at, place, attendance_count,
    optional interpreter_language, minutes_reference, summary).

    Version 2 also needs the attendance by sex (``attendance_women``, ``attendance_men``,
    optional ``attendance_other_or_unstated`` and, where the community agreed,
    ``attendance_by_age_group``), ``interpreter_ids`` (an accepted interpreter for each agreed
    language other than Spanish), and, for the decision assembly (``decision_assembly``), the
    ``no_coercion_check`` done at the assembly itself.
    """
    consultation = lock_chain(session, consultation_id)
    payload = {"phase": consultation.phase, "held_at": body["held_at"].isoformat(),
               "place": body["place"], "attendance_count": body["attendance_count"],
               "interpreter_language": body.get("interpreter_language"),
               "minutes_reference": body.get("minutes_reference"),
               "summary": body.get("summary"), "by": actor}
    if consultation.protocol_version != pr.V1_PROTOCOL_VERSION:
        payload.update(_meeting_v2(session, consultation, body))
    event = record_event(session, consultation, rec.EventKind.MEETING_HELD.value, payload)
    if consultation.protocol_version != pr.V1_PROTOCOL_VERSION:
        phase = protocol_of(consultation).phase(consultation.phase)
        note = f"meeting seq {event.seq}"
        if payload.get("interpreter_ids"):
            record_missing_evidence(session, consultation, phase, "artefact_added",
                                    "interpreter_present", note, actor)
        if payload.get("decision_assembly"):
            record_missing_evidence(session, consultation, phase, "step_completed",
                                    "consultive_assembly", note, actor)
            record_missing_evidence(session, consultation, phase, "step_completed",
                                    "no_coercion_check_at_assembly", note, actor)
    return {"consultation_id": consultation.id, "seq": event.seq, **payload}


def _meeting_v2(session: Session, consultation: Consultation,
                body: Mapping[str, Any]) -> dict[str, Any]:
    """Version 2's part of a meeting: attendance by sex, interpreters, no-coercion check."""
    rows = event_rows(session, consultation.id)
    refuse_if_suspended(state_of(consultation, rows))
    participation = next((r["payload"] for r in reversed(rows)
                          if r["kind"] == "participation_agreed"), None)
    try:
        attendance = sg.check_attendance(body, bool(participation and
                                                    participation["disaggregate_by_age"]))
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise InvalidInput(str(exc), field=field) from None
    total = (attendance["attendance_women"] + attendance["attendance_men"]
             + attendance["attendance_other_or_unstated"])
    if total != body["attendance_count"]:
        raise InvalidInput(f"attendance_count {body['attendance_count']} differs from the "
                           f"attendance by sex ({total})", field="attendance_count")
    ids = list(body.get("interpreter_ids") or [])
    agents = [accepted_agent(session, consultation.id, i, "interpreter", a.language, a.variant,
                             "interpreter_ids")
              for i, a in ((i, _agent_language(session, i)) for i in ids)]
    needed = [a for a in agreed_languages(rows) or [] if not a["spanish"]]
    covered = {sg.language_key(a.language, a.variant) for a in agents}
    lacking = [f"{a['language']} ({a['variant']})" for a in needed
               if sg.language_key(a["language"], a["variant"]) not in covered]
    if lacking:
        raise InvalidInput("no accepted interpreter for " + ", ".join(lacking),
                           field="interpreter_ids")
    out = {**attendance, "interpreter_ids": [a.id for a in agents],
           "decision_assembly": bool(body.get("decision_assembly"))}
    if out["decision_assembly"]:
        if consultation.phase != "consultiva":
            raise Conflict("the decision assembly is held in the consultiva phase",
                           field="decision_assembly")
        if body.get("no_coercion_check") is None:
            raise InvalidInput("the decision assembly records its no-coercion check",
                               field="no_coercion_check")
        try:
            out["no_coercion_check"] = sg.check_no_coercion(body["no_coercion_check"])
        except ValueError as exc:
            raise InvalidInput(str(exc), field="no_coercion_check." + str(exc).split(":")[0]) from None
    return out


def _agent_language(session: Session, agent_id: Any) -> ConsultationLanguageAgent:
    agent = session.get(ConsultationLanguageAgent, agent_id) if isinstance(agent_id, int) else None
    if agent is None:
        raise InvalidInput(f"{agent_id!r} is not an interpreter of this consultation",
                           field="interpreter_ids")
    return agent
