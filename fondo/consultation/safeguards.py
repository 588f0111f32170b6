"""Protocol version 2's records: identification, consent determination, co-produced study,
advice resources, languages and the translators and interpreters the community accepted,
participation, how binding the results are, good-faith negotiation, and suspensions.

The checks are :mod:`consultation.safeguards` and :mod:`consultation.suspension` (pure); each
record is appended to the chain in the same transaction (a translator's or interpreter's name
stays in ``consultation_language_agents``, shown to officers only; the chain keeps its
SHA-256).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import protocol as pr
from consultation import safeguards as sg
from consultation import suspension as sp
from fondo.consultation.chain import (
    event_rows,
    iso,
    latest_payload,
    load_consultation,
    lock_chain,
    protocol_of,
    record_event,
    record_missing_evidence,
    sha256_text,
    state_of,
)
from fondo.consultation.clock import local_today
from fondo.consultation.clock import now as clock_now
from fondo.consultation.models import Consultation, ConsultationLanguageAgent
from fondo.errors import Conflict, InvalidInput

#: Event kind of each record of :data:`consultation.safeguards.FACT_KINDS`.
FACT_EVENTS = {
    "fpic_determination": "fpic_determined",
    "study_coproduction": "study_coproduction_recorded",
    "advice_resources": "advice_resources_recorded",
    "languages": "languages_agreed",
    "participation": "participation_agreed",
    "results_scope": "results_scope_recorded",
    "negotiation": "negotiation_recorded",
}
#: The step and artefact of the phase each record fulfils (ticked when the phase lists them).
FACT_EVIDENCE = {
    "fpic_determination": ("determine_fpic_requirement", "fpic_determination"),
    "study_coproduction": ("co_produce_social_impact_study", "social_impact_study_coproduction_record"),
    "advice_resources": ("allocate_independent_advice_resources", "independent_advice_budget"),
    "languages": ("agree_languages", "language_agreement"),
    "participation": ("agree_participation", "participation_agreement"),
    "results_scope": ("agree_results_scope", "results_scope_statement"),
    "negotiation": ("negotiate_in_good_faith", "good_faith_negotiation_record"),
}
IDENTIFICATION_EVENT = "identification_recorded"
AGENT_EVENT = "language_agent_accepted"


def invalid(exc: ValueError, prefix: str = "") -> InvalidInput:
    """A domain check's ``"field: message"`` as a 422 naming the field."""
    message = str(exc)
    field, _, rest = message.partition(": ")
    if not rest or " " in field:
        return InvalidInput(message, field=prefix.rstrip(".") or None)
    return InvalidInput(message, field=prefix + field)


def open_v2(session: Session, consultation_id: Any, what: str) -> tuple[Consultation, list[dict]]:
    """Lock a consultation that runs under version 2, is not closed and not suspended."""
    consultation = lock_chain(session, consultation_id)
    if consultation.protocol_version == pr.V1_PROTOCOL_VERSION:
        raise Conflict(f"{what} belongs to protocol version 2; consultation {consultation.id} "
                       f"runs under {consultation.protocol_version} (open a new one to use it)",
                       field="consultation_id")
    rows = event_rows(session, consultation.id)
    state = state_of(consultation, rows)
    if protocol_of(consultation).phase(state.phase_id).terminal:
        raise Conflict(f"consultation {consultation.id} is closed ({state.phase_id})",
                       field="consultation_id")
    refuse_if_suspended(state)
    return consultation, rows


def refuse_if_suspended(state: pr.ConsultationState) -> None:
    """409 while the consultation is suspended (the phase is frozen)."""
    if state.suspended:
        last = state.suspensions[-1]
        raise Conflict(f"the consultation is suspended ({last.kind}) since "
                       f"{last.started_at.isoformat()}: resume it first", field="consultation_id",
                       extra={"suspension": {"kind": last.kind,
                                             "started_at": last.started_at.isoformat()}})


def opening_requirement(rows: list[dict]) -> str:
    """The trigger's three-valued answer recorded at opening (version 1: from its booleans)."""
    trig = (rows[0]["payload"].get("trigger") or {}) if rows else {}
    if trig.get("requirement"):
        return trig["requirement"]
    return ("required" if trig.get("required") else
            "identification_required" if trig.get("review_recommended") else "not_required")


def record_identification(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                          body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record the locality-level identification (preparacion; body as loaded by
    :class:`~fondo.consultation.schemas.IdentificationRequestSchema`)."""
    consultation, rows = open_v2(session, consultation_id, "an identification")
    if consultation.phase != "preparacion":
        raise Conflict("the identification is recorded in the preparacion phase", field="outcome")
    if latest_payload(rows, IDENTIFICATION_EVENT) is not None:
        raise Conflict("an identification is already recorded; a new one needs a new consultation",
                       field="outcome")
    try:
        payload = sg.check_identification(body, opening_requirement(rows))
    except ValueError as exc:
        raise invalid(exc) from None
    now = clock_now()
    record_event(session, consultation, IDENTIFICATION_EVENT, {**payload, "by": actor}, now)
    phase = protocol_of(consultation).phase(consultation.phase)
    record_missing_evidence(session, consultation, phase, "artefact_added",
                            "identification_evidence", "identification", actor, now)
    return {"consultation_id": consultation.id, **payload, "recorded_at": now.isoformat()}


def record_fact(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record one of version 2's records (body as loaded by
    :class:`~fondo.consultation.schemas.FactRequestSchema`: ``kind`` and its fields)."""
    kind = body.get("kind")
    if kind not in FACT_EVENTS:
        raise InvalidInput(f"kind must be one of {', '.join(FACT_EVENTS)}", field="kind")
    consultation, rows = open_v2(session, consultation_id, f"the {kind} record")
    if kind == "negotiation" and consultation.phase != "consultiva":
        raise Conflict("good-faith negotiation is recorded in the consultiva phase", field="kind")
    try:
        payload = sg.check_fact(kind, body)
    except ValueError as exc:
        raise invalid(exc) from None
    if kind == "languages" and latest_payload(rows, FACT_EVENTS[kind]) is not None:
        agents = session.scalars(select(ConsultationLanguageAgent).where(
            ConsultationLanguageAgent.consultation_id == consultation.id)).all()
        kept = {sg.language_key(a["language"], a["variant"]) for a in payload["languages"]}
        orphan = [a.id for a in agents if sg.language_key(a.language, a.variant) not in kept]
        if orphan:
            raise Conflict(f"translators/interpreters {orphan} work in a language this list "
                           "drops", field="languages")
    now = clock_now()
    event = record_event(session, consultation, FACT_EVENTS[kind], {**payload, "by": actor}, now)
    phase = protocol_of(consultation).phase(consultation.phase)
    step, artefact = FACT_EVIDENCE[kind]
    record_missing_evidence(session, consultation, phase, "step_completed", step, kind, actor, now)
    record_missing_evidence(session, consultation, phase, "artefact_added", artefact, kind, actor,
                            now)
    return {"consultation_id": consultation.id, "kind": kind, "seq": event.seq, **payload}


def agreed_languages(rows: list[dict]) -> list[dict] | None:
    """The languages last agreed (None before any agreement)."""
    payload = latest_payload(rows, FACT_EVENTS["languages"])
    return None if payload is None else list(payload["languages"])


def agent_rows(session: Session, consultation_id: int) -> list[ConsultationLanguageAgent]:
    """The translators and interpreters of a consultation, in order."""
    return list(session.scalars(select(ConsultationLanguageAgent).where(
        ConsultationLanguageAgent.consultation_id == consultation_id)
        .order_by(ConsultationLanguageAgent.id)))


def agent_view(agent: ConsultationLanguageAgent) -> dict[str, Any]:
    """A translator or interpreter (officers only: holds the name)."""
    return {"id": agent.id, "consultation_id": agent.consultation_id, "role": agent.role,
            "name": agent.name, "language": agent.language, "variant": agent.variant,
            "accepted_on": iso(agent.accepted_on),
            "acceptance_reference": agent.acceptance_reference,
            "recorded_at": iso(agent.recorded_at)}


def add_language_agent(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                       body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Record a translator or interpreter the community accepted (body as loaded by
    :class:`~fondo.consultation.schemas.LanguageAgentRequestSchema`)."""
    consultation, rows = open_v2(session, consultation_id, "a translator or interpreter")
    agreed = agreed_languages(rows)
    if agreed is None:
        raise Conflict("record the agreed languages (kind 'languages') first", field="language")
    now = clock_now()
    try:
        checked = sg.check_language_agent(body, agreed, local_today(now))
    except ValueError as exc:
        raise invalid(exc) from None
    agent = ConsultationLanguageAgent(consultation_id=consultation.id, recorded_by=actor,
                                      recorded_at=now, **checked)
    session.add(agent)
    session.flush()
    record_event(session, consultation, AGENT_EVENT, {
        "agent_id": agent.id, "role": agent.role, "name_sha256": sha256_text(agent.name),
        "language": agent.language, "variant": agent.variant,
        "accepted_on": agent.accepted_on.isoformat(),
        "acceptance_reference": agent.acceptance_reference, "by": actor}, now)
    phase = protocol_of(consultation).phase(consultation.phase)
    record_missing_evidence(session, consultation, phase, "artefact_added",
                            f"{agent.role}_acceptance", f"agent {agent.id}", actor, now)
    return agent_view(agent)


def list_language_agents(session: Session, consultation_id: Any) -> dict[str, Any]:
    """Translators and interpreters of a consultation, with names (officers only)."""
    consultation = load_consultation(session, consultation_id)
    return {"language_agents": [agent_view(a) for a in agent_rows(session, consultation.id)]}


def accepted_agent(session: Session, consultation_id: int, agent_id: Any, role: str,
                   language: str, variant: str | None, field: str) -> ConsultationLanguageAgent:
    """The accepted agent ``agent_id`` of ``role`` for the language, or 422 naming ``field``."""
    agent = None
    if isinstance(agent_id, int) and not isinstance(agent_id, bool):
        agent = session.get(ConsultationLanguageAgent, agent_id)
    if agent is None or agent.consultation_id != consultation_id or agent.role != role:
        raise InvalidInput(f"{agent_id!r} is not a {role} the community accepted in this "
                           "consultation", field=field)
    if sg.language_key(agent.language, agent.variant) != sg.language_key(language, variant):
        raise InvalidInput(f"{role} {agent.id} was accepted for {agent.language} "
                           f"({agent.variant}), not {language} ({variant})", field=field)
    return agent


def suspend_consultation(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                         body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Suspend (body as loaded by :class:`~fondo.consultation.schemas.SuspensionRequestSchema`:
    ``kind``, ``reason``, optional ``reference``): the phase and every clock stop."""
    consultation = lock_chain(session, consultation_id)
    rows = event_rows(session, consultation.id)
    state = state_of(consultation, rows)
    if protocol_of(consultation).phase(state.phase_id).terminal:
        raise Conflict(f"consultation {consultation.id} is closed ({state.phase_id})",
                       field="consultation_id")
    now = max(clock_now(), state.phase_started_at)
    try:
        sp.suspend(state.suspensions, body.get("kind"), now, body.get("reason") or "")
    except ValueError as exc:
        message = str(exc)
        if message.startswith("already suspended"):
            raise Conflict(message, field="kind") from None
        raise InvalidInput(message, field="reason" if message.startswith("reason")
                           else "kind") from None
    record_event(session, consultation, sp.SUSPENDED_EVENT, {
        "kind": body["kind"], "reason": body["reason"].strip(),
        "reference": body.get("reference"), "phase": state.phase_id, "by": actor}, now)
    return suspension_view(session, consultation)


def resume_consultation(session: Session, settings: Mapping[str, Any], consultation_id: Any,
                        body: Mapping[str, Any], actor: str) -> dict[str, Any]:
    """Resume a suspended consultation (body: ``reason``); the clocks restart."""
    consultation = lock_chain(session, consultation_id)
    state = state_of(consultation, event_rows(session, consultation.id))
    if not state.suspended:
        raise Conflict(f"consultation {consultation.id} is not suspended", field="consultation_id")
    reason = (body.get("reason") or "").strip()
    if not reason:
        raise InvalidInput("reason: required", field="reason")
    record_event(session, consultation, sp.RESUMED_EVENT, {
        "kind": state.suspensions[-1].kind, "reason": reason, "phase": state.phase_id,
        "by": actor}, max(clock_now(), state.suspensions[-1].started_at))
    return suspension_view(session, consultation)


def suspension_view(session: Session, consultation: Consultation) -> dict[str, Any]:
    """A consultation's suspensions and whether it is suspended now."""
    state = state_of(consultation, event_rows(session, consultation.id))
    return {"consultation_id": consultation.id, "phase": state.phase_id,
            "suspended": state.suspended,
            "state": pr.SUSPENDED if state.suspended else state.phase_id,
            "suspensions": [{"kind": s.kind, "reason": s.reason,
                             "started_at": s.started_at.isoformat(),
                             "ended_at": iso(s.ended_at)} for s in state.suspensions]}
