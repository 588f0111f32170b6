"""The demo consultation: fictitious, labelled as demo, on real localities.

Every step goes through the same request schemas and services as the API, so the demo's
record is a valid chain like any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from marshmallow import Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import protocol as pr
from consultation import safeguards as sg
from consultation import sla
from consultation import trigger as tg
from fondo.consultation.chain import event_rows, evidence_of, load_consultation, protocol_of
from fondo.consultation.clock import clock_replaced
from fondo.consultation.commitments import add_commitment, change_commitment
from fondo.consultation.communities import run_trigger
from fondo.consultation.deliveries import subscribe
from fondo.consultation.feedback import feedback_action, submit_feedback
from fondo.consultation.lifecycle import (
    change_phase,
    create_consultation,
    record_evidence,
    record_meeting,
)
from fondo.consultation.models import Consultation, ConsultationFeedback
from fondo.consultation.notices import publish_notice
from fondo.consultation.schemas import (
    CommitmentRequestSchema,
    CommitmentStatusRequestSchema,
    ConsultationRequestSchema,
    EvidenceRequestSchema,
    FeedbackActionRequestSchema,
    FeedbackRequestSchema,
    MeetingRequestSchema,
    NoticeRequestSchema,
    PhaseChangeRequestSchema,
    SubscriptionRequestSchema,
)
from fondo.consultation.safeguards import record_fact, record_identification
from fondo.consultation.schemas_v2 import FactRequestSchema, IdentificationRequestSchema
from fondo.fund.service import Project
from fondo.orm import utcnow
from fondo.request_body import load_request

#: Demo consultation content (fictitious, labelled as demo; places are real localities).
DEMO_CONSULTATION_PROJECT = "Demo – Parque solar San Luis Potosí Altiplano"
#: How far back the demo consultation starts, so that its phases have run their minimum
#: durations by now. [days]
DEMO_START_DAYS_AGO = 130
_ACTOR = "demo"


def _request(schema: Schema, body: Mapping[str, Any]) -> Any:
    return load_request(schema, dict(body))


def _missing_any(session: Session, consultation_id: int) -> bool:
    c = load_consultation(session, consultation_id)
    phase = protocol_of(c).phase(c.phase)
    have = evidence_of(event_rows(session, c.id))
    return bool({s.item_id for s in phase.steps} - have.steps
                or {a.item_id for a in phase.artefacts} - have.artefacts
                or {x.item_id for x in phase.exit_conditions} - have.conditions)


def seed_demo_consultation(session: Session, settings: Mapping[str, Any]) -> dict[str, int]:
    """A demo consultation in progress on the demo project (idempotent, labelled demo):
    notices published, feedback received and answered, a commitment in follow-up.

    Needs the demo fund (``fondo seed --demo``). Phases are walked with the protocol's
    minimum durations by back-dating the demo's clock, so the record stays a valid chain.
    """
    project = session.scalar(select(Project).where(Project.name == DEMO_CONSULTATION_PROJECT))
    if project is None or session.scalar(select(Consultation.id).where(
            Consultation.project_id == project.id)) is not None:
        return {"demo_consultations": 0}
    moment = [utcnow() - dt.timedelta(days=DEMO_START_DAYS_AGO)]
    with clock_replaced(lambda: moment[0]):
        _walk_demo(session, settings, project, moment)
    return {"demo_consultations": 1}


def _walk_demo(session: Session, settings: Mapping[str, Any], project: Project,
               moment: list[dt.datetime]) -> None:
    protocol = pr.load_protocol()
    result, *_ = run_trigger(settings, project, tg.SCREENING_DISTANCE_KM, [])
    body: dict[str, Any] = {"project_id": project.id}
    if result.requirement == tg.Requirement.NOT_REQUIRED.value:
        body["override_reason"] = "Demostración: consulta voluntaria (datos ficticios)"
    cid = create_consultation(session, settings, _request(ConsultationRequestSchema(), body),
                              _ACTOR)["id"]
    subscribe(session, cid, _request(SubscriptionRequestSchema(), {"email": "vecinos-demo@example.org",
                                                         "language": "es"}))
    for phase_id in ("preparacion", "acuerdos_previos", "informativa", "deliberativa",
                     "consultiva"):  # then into seguimiento
        phase = protocol.phase(phase_id)
        if phase.notice_templates is not None:
            _publish_demo_notice(session, settings, cid, protocol, moment[0])
        for kind, fields_ in DEMO_RECORDS.get(phase_id, ()):
            record_fact(session, settings, cid, _request(FactRequestSchema(),
                                                         {"kind": kind, **fields_}), _ACTOR)
        if phase_id == "preparacion" and result.requirement != tg.Requirement.REQUIRED.value:
            record_identification(session, settings, cid, _request(
                IdentificationRequestSchema(), DEMO_IDENTIFICATION), _ACTOR)
        if phase_id == "informativa":
            view, _ = submit_feedback(session, settings, cid, _request(FeedbackRequestSchema(), {
                "kind": "grievance", "category": "water_and_environment", "anonymous": True,
                "text": "Demostración: ¿afectará el parque al pozo del ejido?"}))
            row = session.scalar(select(ConsultationFeedback).where(
                ConsultationFeedback.receipt_code == view["receipt_code"]))
            feedback_action(session, settings, cid, row.id, _request(FeedbackActionRequestSchema(), {
                "action": "answer",
                "public_answer": "Demostración: el parque no usa agua del pozo; se hará "
                                 "monitoreo trimestral."}), _ACTOR)
        if phase_id == "consultiva":
            record_meeting(session, settings, cid, _request(MeetingRequestSchema(), {
                "held_at": moment[0].isoformat(), "place": "Salón ejidal (demostración)",
                "attendance_count": 74, "attendance_women": 38, "attendance_men": 36,
                "decision_assembly": True,
                "no_coercion_check": {"asked_publicly": True, "coercion_reported": False,
                                      "guarantor_present": True}}), _ACTOR)
            record_evidence(session, settings, cid, _request(EvidenceRequestSchema(), {
                "community_position": "agreement", "note": "Demostración"}), _ACTOR)
            add_commitment(session, settings, cid, _request(CommitmentRequestSchema(), {
                "kind": "mitigation", "owner": "Promovente (demostración)",
                "description": "Monitoreo trimestral del pozo del ejido (demostración)",
                "due_date": (moment[0] + dt.timedelta(days=180)).date().isoformat()}), _ACTOR)
        if _missing_any(session, cid):
            record_evidence(session, settings, cid, _request(EvidenceRequestSchema(), {
                "steps": [s.item_id for s in phase.steps],
                "artefacts": [a.item_id for a in phase.artefacts],
                "conditions": [x.item_id for x in phase.exit_conditions],
                "note": "Demostración"}), _ACTOR)
        moment[0] = moment[0] + dt.timedelta(days=max(phase.min_days, 1))
        change_phase(session, settings, cid, _request(PhaseChangeRequestSchema(), {
            "to_phase": protocol.next_phase(phase.phase_id).phase_id}), _ACTOR)
    change_commitment(session, settings, cid, "C-1",
                      _request(CommitmentStatusRequestSchema(), {"status": "in_progress"}), _ACTOR)


#: Version 2's records of the demo, by phase (fictitious, labelled as demo).
DEMO_RECORDS: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "preparacion": (
        ("fpic_determination", {"circumstances": [],
                                "reason": "Demostración: sin tierras de propiedad tradicional"}),
        ("study_coproduction", {"community_participants": 12, "sessions": 3,
                                "community_institutions": "Asamblea ejidal (demostración)"}),
        ("advice_resources", {"budget_mxn": 250000.0, "adviser_chosen_by_community": True,
                              "description": "Asesoría jurídica independiente (demostración)"}),
    ),
    "acuerdos_previos": (
        ("languages", {"languages": [{"language": "español"}]}),
        ("participation", {"disaggregate_by_age": False, "separate_sessions": ["women"]}),
        ("results_scope", {"statement": "Demostración: los acuerdos obligan al promovente y al "
                                        "Fondo", "binding_on": ["developer", "fund"]}),
    ),
    "consultiva": (
        ("negotiation", {"elements": {e: "Demostración" for e in sg.NEGOTIATION_ELEMENTS}}),
    ),
}
#: The demo's identification (fictitious): a community may be affected, so it is consulted.
DEMO_IDENTIFICATION = {
    "outcome": "community_may_be_affected", "methods": ["field_visit"],
    "evidence": [{"method": "field_visit", "reference": "Visita de campo (demostración)"}],
    "decided_by": "Oficial del Fondo (demostración)",
    "reason": "Demostración: la visita encontró hablantes de lengua indígena"}


def _publish_demo_notice(session: Session, settings: Mapping[str, Any], cid: int,
                         protocol: pr.Protocol, now: dt.datetime) -> None:
    c = load_consultation(session, cid)
    community = c.communities[0]["name"] if c.communities else "Soto la Marina"
    day = now + dt.timedelta(days=protocol.sla.notice_min_lead_days + 1)
    meeting = dt.datetime.combine(day.astimezone(sla.MEXICO_CITY_TZ).date(), dt.time(10, 0),
                                  tzinfo=sla.MEXICO_CITY_TZ)
    publish_notice(session, settings, cid, _request(NoticeRequestSchema(), {
        "community": community, "starts_at": meeting.isoformat(),
        "ends_at": (meeting + dt.timedelta(hours=3)).isoformat(),
        "place": "Salón ejidal (demostración)", "meeting_language": "Español"}), _ACTOR)
