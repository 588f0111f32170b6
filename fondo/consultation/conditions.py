"""Exit conditions of protocol version 2 that the record can check, checked when asserted.

An officer asserting one of these conditions gets a 409 naming what the record lacks,
instead of a condition met on the officer's word alone:

===========================================  ==============================================
condition                                    the record must hold
===========================================  ==============================================
communities_identified                       an identification, when the trigger said
                                             "identification required"
fpic_determination_recorded                  a consent determination
study_made_with_community                    the study's co-production record
independent_advice_resources_recorded        the advice resources with their budget
no_premature_decision                        no permit, land contract or SIA resolution
                                             dated before the protocol allows it
languages_agreed                             the languages, and an accepted translator and
                                             interpreter for each one other than Spanish
participation_agreed, results_scope_agreed   their records
information_delivered_in_community_language  a notice of this phase in each agreed language
no_coercion_reported                         no open coercion report
no_coercion_at_assembly                      a decision assembly of this phase whose
                                             no-coercion check passed
women_voices_heard                           a meeting of this phase with women attending
                                             (or a separate session of women)
community_position_recorded                  the community's answer, recorded in this phase
good_faith_negotiation_documented            the six negotiation elements
===========================================  ==============================================
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consultation import safeguards as sg
from fondo.consultation.chain import latest_payload, phase_rows
from fondo.consultation.models import Consultation, ConsultationNotice
from fondo.consultation.project_status import project_consultation_gates
from fondo.consultation.safeguards import (
    FACT_EVENTS,
    IDENTIFICATION_EVENT,
    agent_rows,
    agreed_languages,
    opening_requirement,
)
from fondo.errors import Conflict

_FACT_OF_CONDITION = {
    "fpic_determination_recorded": "fpic_determination",
    "study_made_with_community": "study_coproduction",
    "independent_advice_resources_recorded": "advice_resources",
    "participation_agreed": "participation",
    "results_scope_agreed": "results_scope",
    "good_faith_negotiation_documented": "negotiation",
}


def _refuse(message: str) -> None:
    raise Conflict(message, field="conditions")


def phase_meetings(rows: list[dict]) -> list[dict]:
    """Payloads of the meetings held in the current phase."""
    return [r["payload"] for r in phase_rows(rows) if r["kind"] == "meeting_held"]


def assembly_check_passed(rows: list[dict]) -> bool:
    """True when a decision assembly of the current phase passed its no-coercion check."""
    return any((m.get("no_coercion_check") or {}).get("passed")
               for m in phase_meetings(rows) if m.get("decision_assembly"))


def check_condition_v2(session: Session, consultation: Consultation, condition: str,
                       rows: list[dict]) -> None:
    """409 when the record does not show ``condition`` (others pass through unchecked)."""
    if condition in _FACT_OF_CONDITION:
        kind = _FACT_OF_CONDITION[condition]
        if latest_payload(rows, FACT_EVENTS[kind]) is None:
            _refuse(f"{condition}: no '{kind}' record yet (POST …/records with kind '{kind}')")
    elif condition == "communities_identified":
        if (opening_requirement(rows) == "identification_required"
                and latest_payload(rows, IDENTIFICATION_EVENT) is None):
            _refuse("communities_identified: the trigger said identification required and no "
                    "identification is recorded")
    elif condition == "no_premature_decision":
        premature = project_consultation_gates(session, consultation.project_id)["premature_decisions"]
        if premature:
            first = premature[0]
            _refuse(f"no_premature_decision: {len(premature)} decision(s) recorded before the "
                    f"protocol allows, first a {first['kind']} of {first['date']}")
    elif condition == "languages_agreed":
        agreed = agreed_languages(rows)
        if agreed is None:
            _refuse("languages_agreed: no 'languages' record yet")
        agents = [{"role": a.role, "language": a.language, "variant": a.variant}
                  for a in agent_rows(session, consultation.id)]
        missing = sg.languages_missing_agents(agreed, agents)
        if missing:
            _refuse("languages_agreed: no accepted " + "; no accepted ".join(missing))
    elif condition == "information_delivered_in_community_language":
        agreed = agreed_languages(rows) or []
        notices = session.scalars(select(ConsultationNotice).where(
            ConsultationNotice.consultation_id == consultation.id,
            ConsultationNotice.phase == consultation.phase)).all()
        if not notices:
            _refuse(f"{condition}: no notice published in this phase")
        versions = [{"language": t.get("inali_language"), "variant": t.get("inali_variant")}
                    for n in notices for t in n.translations or [] if t.get("inali_language")]
        missing = sg.missing_language_versions(agreed, versions)
        if missing:
            _refuse(f"{condition}: no notice of this phase in {', '.join(missing)}")
    elif condition == "no_coercion_at_assembly":
        if not assembly_check_passed(rows):
            _refuse("no_coercion_at_assembly: record the decision assembly with a no-coercion "
                    "check that passed (asked publicly, nothing reported, guarantor present)")
    elif condition == "women_voices_heard":
        if not any((m.get("attendance_women") or 0) > 0 or m.get("separate_session_for") == "women"
                   for m in phase_meetings(rows)):
            _refuse("women_voices_heard: no meeting of this phase with women attending or a "
                    "separate session of women")
    elif condition == "community_position_recorded":
        if not any(r["kind"] == "community_position_recorded" for r in phase_rows(rows)):
            _refuse("community_position_recorded: record the community's answer "
                    "(community_position) first")
    elif condition == "no_coercion_reported":
        if any(r["kind"] == "consultation_suspended" and r["payload"].get("kind") == "coercion_report"
               for r in phase_rows(rows)) and not any(
                r["kind"] == "consultation_resumed" for r in phase_rows(rows)):
            _refuse("no_coercion_reported: a coercion report of this phase is still open")
