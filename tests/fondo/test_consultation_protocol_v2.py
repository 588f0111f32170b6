"""Protocol version 2 through the services, on SQLite and PostgreSQL (issue 13's Bars).

- a refusal reaches "closed without consent" and the project cannot reach financial close;
- a type-C municipality with indigenous population within the distance gives "identification
  required" and the project cannot pass due diligence until the identification is recorded;
- an informativa notice for a Nahuatl-speaking community cannot be published without the
  Nahuatl version and its accepted translator;
- a suspension stops the SLA and phase clocks, and resuming restarts them;
- each new record and condition with a passing and a failing case; decisions refused before
  the protocol's phase; version 1 consultations keep their protocol.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import consultation_support
import fondo.consultation.service as cs
from consultation import protocol as pr
from consultation import safeguards as sg
from consultation import sla
from fondo.consultation.models import Consultation, ConsultationEvent, ProjectDecision
from fondo.consultation.schemas import MeetingRequestSchema, NoticeRequestSchema
from fondo.consultation.schemas_v2 import (
    DecisionRequestSchema,
    FactRequestSchema,
    IdentificationRequestSchema,
    LanguageAgentRequestSchema,
)
from fondo.db import session_scope
from fondo.errors import Conflict, InvalidInput
from fondo.fund.models import Project
from fondo.orm import Technology
from fondo.request_body import load_request

UTC = dt.timezone.utc
MX = sla.MEXICO_CITY_TZ
#: Tamazunchale, San Luis Potosí (INEGI 240370001): municipality 24037 is INPI type A
#: (Huasteca potosina, Nahuatl-speaking).
TAMAZUNCHALE = (21.26274, -98.79152)
#: Aguascalientes city (INEGI 010010001): municipality 01001 is INPI type C with 4,318 people
#: in indigenous households (INPI 2020).
AGUASCALIENTES = (21.87982, -102.29605)
#: Los Aldamas, Nuevo León (INEGI 190030001): its municipality 19003 is type D, but localities
#: of a type-C municipality lie within 5 km.
LOS_ALDAMAS = (26.06414, -99.19673)
#: Candela, Coahuila (INEGI 050050001): type D, nothing else within 5 km.
CANDELA = (26.84028, -100.66389)
START = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Mexico City
NAHUATL = {"language": "Náhuatl", "variant": "náhuatl de la Huasteca potosina"}


@pytest.fixture
def clock(monkeypatch):
    return consultation_support.install_clock(monkeypatch, START)


def make_project(settings, lat_lon, name="Parque v2") -> int:
    """A PV project at ``lat_lon`` (degrees)."""
    return consultation_support.make_project(settings, lat_lon, name, Technology.PV)


def call(settings, fn, *args):
    with session_scope(settings) as session:
        return fn(session, settings, *args)


def gates(settings, pid):
    with session_scope(settings) as session:
        return cs.project_consultation_gates(session, pid, settings)


def fact(settings, cid, body):
    return call(settings, cs.record_fact, cid, load_request(FactRequestSchema(), body), "ana")


def evidence_all(settings, cid, phase_id, **extra):
    phase = pr.load_protocol().phase(phase_id)
    return call(settings, cs.record_evidence, cid, {
        "steps": [s.item_id for s in phase.steps],
        "artefacts": [a.item_id for a in phase.artefacts],
        "conditions": [c.item_id for c in phase.exit_conditions], **extra}, "ana")


def publish(settings, cid, clock, versions=()):
    day = (clock.now + dt.timedelta(days=8)).astimezone(MX).date()
    starts = dt.datetime.combine(day, dt.time(10, 0), tzinfo=MX)
    body = load_request(NoticeRequestSchema(), {
        "community": "Tamazunchale", "starts_at": starts.isoformat(), "place": "Auditorio",
        "meeting_language": "Náhuatl", "community_language_versions": list(versions)})
    return call(settings, cs.publish_notice, cid, body, "ana")


def meeting(settings, cid, clock, **extra):
    body = {"held_at": clock.now.isoformat(), "place": "Auditorio", "attendance_count": 50,
            "attendance_women": 26, "attendance_men": 24, **extra}
    return call(settings, cs.record_meeting, cid, load_request(MeetingRequestSchema(), body),
                "ana")


def move(settings, cid, to_phase, clock, days):
    clock.advance(days=days)
    return call(settings, cs.change_phase, cid, {"to_phase": to_phase}, "ana")


def walk_preparacion(settings, cid, clock):
    fact(settings, cid, {"kind": "fpic_determination", "circumstances": [],
                         "reason": "sin tierras de propiedad tradicional en el sitio"})
    fact(settings, cid, {"kind": "study_coproduction", "community_participants": 14,
                         "sessions": 3, "community_institutions": "Asamblea comunitaria"})
    fact(settings, cid, {"kind": "advice_resources", "budget_mxn": 300000,
                         "adviser_chosen_by_community": True,
                         "description": "Asesoría jurídica independiente"})
    evidence_all(settings, cid, "preparacion")
    move(settings, cid, "acuerdos_previos", clock, 15)


def walk_acuerdos_nahuatl(settings, cid, clock):
    """Languages Spanish and Nahuatl, with an accepted translator and interpreter."""
    publish(settings, cid, clock)  # before the languages are agreed: allowed in this phase
    fact(settings, cid, {"kind": "languages",
                         "languages": [{"language": "español"}, NAHUATL]})
    agents = {}
    for role in ("translator", "interpreter"):
        agents[role] = call(settings, cs.add_language_agent, cid, load_request(
            LanguageAgentRequestSchema(), {
                "role": role, "name": f"Persona {role}", **NAHUATL,
                "accepted_on": clock.now.date().isoformat(),
                "acceptance_reference": "Acta de asamblea 3/2026"}), "ana")["id"]
    fact(settings, cid, {"kind": "participation", "disaggregate_by_age": True,
                         "separate_sessions": ["women"]})
    fact(settings, cid, {"kind": "results_scope", "statement": "Obligan al promovente",
                         "binding_on": ["developer", "fund"]})
    evidence_all(settings, cid, "acuerdos_previos")
    move(settings, cid, "informativa", clock, 10)
    return agents


def nahuatl_version(translator_id):
    return {**NAHUATL, "title": "Tlanahuatili", "body": "Tlen ika tlanonotzalistli...",
            "translator_id": translator_id}


@pytest.fixture
def in_consultiva(settings, clock):
    """A Tamazunchale consultation (type A, Nahuatl) walked into the consultiva phase."""
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    walk_preparacion(settings, cid, clock)
    agents = walk_acuerdos_nahuatl(settings, cid, clock)
    publish(settings, cid, clock, [nahuatl_version(agents["translator"])])
    evidence_all(settings, cid, "informativa")
    move(settings, cid, "deliberativa", clock, 30)
    evidence_all(settings, cid, "deliberativa")
    move(settings, cid, "consultiva", clock, 30)
    publish(settings, cid, clock, [nahuatl_version(agents["translator"])])
    return pid, cid, agents


def assembly(settings, cid, clock, agents, passed=True):
    return meeting(settings, cid, clock, decision_assembly=True,
                   interpreter_ids=[agents["interpreter"]],
                   no_coercion_check={"asked_publicly": True, "coercion_reported": not passed,
                                      "guarantor_present": True})


# --- the right to say no ---------------------------------------------------------------


def test_refusal_closes_without_consent_and_blocks_financial_close(settings, clock, in_consultiva):
    pid, cid, agents = in_consultiva
    # The answer is taken from the decision assembly, after its no-coercion check.
    with pytest.raises(Conflict) as err:
        call(settings, cs.record_evidence, cid, {"community_position": "refusal"}, "ana")
    assert err.value.field == "community_position"
    assembly(settings, cid, clock, agents)
    call(settings, cs.record_evidence, cid, {"community_position": "refusal"}, "ana")
    # Forward to seguimiento needs agreement or consent: refused even with full evidence.
    clock.advance(days=7)
    with pytest.raises(Conflict) as err:
        call(settings, cs.change_phase, cid, {"to_phase": "seguimiento"}, "ana")
    assert "position in (agreement/consent)" in str(err.value)
    # The closure needs no commitments, no impact-benefit agreement, no guarantor attestation.
    call(settings, cs.record_evidence, cid, {"artefacts": ["meeting_minutes"], "conditions": [
        "community_position_recorded", "no_coercion_at_assembly"]}, "ana")
    c = call(settings, cs.change_phase, cid, {"to_phase": pr.CLOSED_WITHOUT_CONSENT,
                                              "reason": "la asamblea dijo no"}, "ana")
    assert c["phase"] == "cerrada_sin_consentimiento" and c["allowed_moves"] == []
    g = gates(settings, pid)
    assert g["consent_withheld"] is True and g["agreement_reached"] is False
    assert g["financial_close_allowed_by_protocol"] is False
    assert g["state"] == "cerrada_sin_consentimiento" and g["requirement"] == "required"
    with session_scope(settings) as session:
        kinds = [e.kind for e in session.scalars(select(ConsultationEvent).where(
            ConsultationEvent.consultation_id == cid).order_by(ConsultationEvent.seq))]
        assert kinds[-1] == "phase_changed" and "community_position_recorded" in kinds
    # The Fund's pipeline reads it: the project cannot reach financial close (nor build).
    from fondo.fund import gates as fund_gates
    from fondo.fund.models import PipelineStage, Project

    with session_scope(settings) as session:
        project = session.get(Project, pid)
        for stage in (PipelineStage.FINANCIAL_CLOSE, PipelineStage.CONSTRUCTION):
            results = {r["name"]: r for r in fund_gates.evaluate_gates(session, project, stage)}
            assert results["consent_not_withheld"]["passed"] is False
        results = {r["name"]: r for r in fund_gates.evaluate_gates(
            session, project, PipelineStage.FINANCIAL_CLOSE)}
        assert results["consultation_agreement"]["passed"] is False
        assert cs.verify_consultation(session, cid)["ok"]
    # Re-opening is a new consultation with its own record; consent stays withheld until it
    # reaches agreement.
    c2 = call(settings, cs.create_consultation, {"project_id": pid}, "ana")
    assert c2["id"] != cid
    assert gates(settings, pid)["consent_withheld"] is True


def test_agreement_reaches_seguimiento_and_allows_financial_close(settings, clock, in_consultiva):
    pid, cid, agents = in_consultiva
    assert gates(settings, pid)["financial_close_allowed_by_protocol"] is False
    assembly(settings, cid, clock, agents)
    call(settings, cs.record_evidence, cid, {"community_position": "agreement"}, "ana")
    fact(settings, cid, {"kind": "negotiation",
                         "elements": {e: "acta 5/2026" for e in sg.NEGOTIATION_ELEMENTS}})
    call(settings, cs.add_commitment, cid, {"kind": "mitigation", "owner": "Promovente",
                                            "description": "Monitoreo del pozo",
                                            "due_date": dt.date(2026, 12, 1)}, "ana")
    evidence_all(settings, cid, "consultiva")
    c = move(settings, cid, "seguimiento", clock, 7)
    assert c["phase"] == "seguimiento"
    g = gates(settings, pid)
    assert g["agreement_reached"] and g["financial_close_allowed_by_protocol"]
    assert not g["consent_withheld"] and g["premature_decisions"] == []
    # A permit dated today is now allowed; dated before the agreement, it is premature.
    today = clock.now.astimezone(MX).date()
    d = call(settings, cs.record_project_decision, pid, load_request(DecisionRequestSchema(), {
        "kind": "permit", "decision_date": today.isoformat(), "reference": "SENER/123"}), "ana")
    assert d["premature"] is False
    with pytest.raises(Conflict) as err:
        call(settings, cs.record_project_decision, pid, load_request(DecisionRequestSchema(), {
            "kind": "land_contract", "decision_date": "2026-03-03", "reference": "Ejido X"}), "ana")
    assert err.value.field == "decision_date" and err.value.extra["required_phase"] == "seguimiento"


def test_assembly_with_coercion_reported_blocks_the_answer(settings, clock, in_consultiva):
    pid, cid, agents = in_consultiva
    assembly(settings, cid, clock, agents, passed=False)
    with pytest.raises(Conflict):
        call(settings, cs.record_evidence, cid, {"community_position": "agreement"}, "ana")
    with pytest.raises(Conflict, match="no_coercion_at_assembly"):
        call(settings, cs.record_evidence, cid, {"conditions": ["no_coercion_at_assembly"]}, "ana")
    # The decision assembly must carry the check; interpreters must cover Nahuatl.
    with pytest.raises(InvalidInput) as err:
        meeting(settings, cid, clock, decision_assembly=True, interpreter_ids=[agents["interpreter"]])
    assert err.value.field == "no_coercion_check"
    with pytest.raises(InvalidInput) as err:
        meeting(settings, cid, clock)
    assert err.value.field == "interpreter_ids" and "Náhuatl" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        meeting(settings, cid, clock, interpreter_ids=[agents["translator"]])
    assert err.value.field == "interpreter_ids"


def test_women_voices_condition(settings, clock, in_consultiva):
    pid, cid, agents = in_consultiva
    with pytest.raises(Conflict, match="women_voices_heard"):
        call(settings, cs.record_evidence, cid, {"conditions": ["women_voices_heard"]}, "ana")
    meeting(settings, cid, clock, interpreter_ids=[agents["interpreter"]], attendance_count=20,
            attendance_women=0, attendance_men=20)
    with pytest.raises(Conflict, match="women_voices_heard"):
        call(settings, cs.record_evidence, cid, {"conditions": ["women_voices_heard"]}, "ana")
    meeting(settings, cid, clock, interpreter_ids=[agents["interpreter"]], attendance_count=18,
            attendance_women=18, attendance_men=0, separate_session_for="women",
            attendance_by_age_group={"18_to_29": 6, "30_to_59": 12})
    call(settings, cs.record_evidence, cid, {"conditions": ["women_voices_heard"]}, "ana")
    # Attendance by sex must add up, and a women's session has no men.
    with pytest.raises(InvalidInput) as err:
        meeting(settings, cid, clock, interpreter_ids=[agents["interpreter"]], attendance_count=51)
    assert err.value.field == "attendance_count"
    with pytest.raises(InvalidInput) as err:
        meeting(settings, cid, clock, interpreter_ids=[agents["interpreter"]],
                separate_session_for="women")
    assert err.value.field == "attendance_men"


# --- identification ----------------------------------------------------------------------


IDENT_CLEAR = {"outcome": "no_community_affected", "methods": ["census_speakers", "field_visit"],
               "evidence": [{"method": "census_speakers", "reference": "INEGI ITER 2020, 01"},
                            {"method": "field_visit", "reference": "Informe de visita 7"}],
               "decided_by": "Comité de inversión del Fondo",
               "reason": "ninguna localidad con hablantes ni comunidad en 5 km"}


@pytest.mark.parametrize("site", [AGUASCALIENTES, LOS_ALDAMAS], ids=["type_c", "type_d_near_c"])
def test_identification_required_blocks_due_diligence_until_recorded(settings, clock, site):
    pid = make_project(settings, site)
    g = gates(settings, pid)  # no consultation yet: the trigger on the site (10 km)
    assert g["requirement"] == "identification_required" and g["identification_pending"]
    assert g["financial_close_allowed_by_protocol"] is False and g["consultation_id"] is None
    cid = call(settings, cs.create_consultation, {"project_id": pid, "max_distance_km": 5},
               "ana")["id"]
    assert gates(settings, pid)["identification_pending"] is True
    # Clearing needs a field visit and a documentary source.
    bad = dict(IDENT_CLEAR, methods=["census_speakers"],
               evidence=IDENT_CLEAR["evidence"][:1])
    with pytest.raises(InvalidInput) as err:
        call(settings, cs.record_identification, cid,
             load_request(IdentificationRequestSchema(), bad), "ana")
    assert err.value.field == "methods"
    assert gates(settings, pid)["identification_pending"] is True
    call(settings, cs.record_identification, cid,
         load_request(IdentificationRequestSchema(), IDENT_CLEAR), "ana")
    c = call(settings, cs.change_phase, cid, {"to_phase": pr.CLOSED_NO_COMMUNITY_AFFECTED,
                                              "reason": "identificación sin afectación"}, "ana")
    assert c["phase"] == "cerrada_sin_afectacion"
    assert c["identification"]["decided_by"] == "Comité de inversión del Fondo"
    assert c["identification"]["methods"] == ["census_speakers", "field_visit"]
    g = gates(settings, pid)
    assert g["identification_pending"] is False and g["financial_close_allowed_by_protocol"]
    with session_scope(settings) as session:
        events = session.scalars(select(ConsultationEvent).where(
            ConsultationEvent.consultation_id == cid, ConsultationEvent.kind ==
            "identification_recorded")).all()
        assert events[0].payload["decided_by"] == "Comité de inversión del Fondo"
        assert events[0].payload["reason"].startswith("ninguna")


def test_identification_finding_a_community_makes_it_required(settings, clock):
    pid = make_project(settings, AGUASCALIENTES)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    with pytest.raises(Conflict, match="communities_identified"):
        call(settings, cs.record_evidence, cid, {"conditions": ["communities_identified"]}, "ana")
    call(settings, cs.record_identification, cid, load_request(IdentificationRequestSchema(), {
        "outcome": "community_may_be_affected", "methods": ["field_visit"],
        "evidence": [{"method": "field_visit", "reference": "Visita 2"}],
        "decided_by": "Oficial", "reason": "familias mazahuas en la colonia"}), "ana")
    call(settings, cs.record_evidence, cid, {"conditions": ["communities_identified"]}, "ana")
    g = gates(settings, pid)
    assert g["requirement"] == "required" and not g["identification_pending"]
    with pytest.raises(Conflict) as err:  # and it cannot be closed as "no community"
        call(settings, cs.change_phase, cid, {"to_phase": pr.CLOSED_NO_COMMUNITY_AFFECTED}, "ana")
    assert "identification in (no_community_affected)" in str(err.value)


def test_required_site_cannot_be_cleared_by_identification(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    with pytest.raises(InvalidInput) as err:
        call(settings, cs.record_identification, cid,
             load_request(IdentificationRequestSchema(), IDENT_CLEAR), "ana")
    assert err.value.field == "outcome" and "cannot clear" in str(err.value)


def test_gates_without_site_and_not_required(settings, clock):
    with session_scope(settings) as session:
        bare = Project(name="Sin sitio", technology=Technology.WIND)
        muni = Project(name="Municipio", technology=Technology.WIND, municipality_key="24037")
        session.add_all([bare, muni])
        session.flush()
        ids = bare.id, muni.id
    g = gates(settings, ids[0])
    assert g["requirement"] == "unknown" and not g["financial_close_allowed_by_protocol"]
    assert gates(settings, ids[1])["requirement"] == "required"  # Tamazunchale, type A
    pid = make_project(settings, CANDELA)
    with session_scope(settings) as session:
        g = cs.project_consultation_gates(session, pid)  # settings optional
    assert g["requirement"] == "not_required" and g["financial_close_allowed_by_protocol"]
    assert set(g) == {"requirement", "identification_pending", "consultation_id", "state",
                      "agreement_reached", "consent_withheld", "overdue_grievances",
                      "premature_decisions", "financial_close_allowed_by_protocol"}
    with pytest.raises(Exception, match="does not exist"):
        gates(settings, 987654)


# --- languages -------------------------------------------------------------------------


def test_nahuatl_notice_needs_nahuatl_version_and_accepted_translator(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    walk_preparacion(settings, cid, clock)
    # Languages not yet agreed: a translator cannot be recorded.
    with pytest.raises(Conflict):
        call(settings, cs.add_language_agent, cid, load_request(LanguageAgentRequestSchema(), {
            "role": "translator", "name": "X", **NAHUATL, "accepted_on": "2026-03-01",
            "acceptance_reference": "acta"}), "ana")
    agents = walk_acuerdos_nahuatl(settings, cid, clock)
    assert call(settings, cs.get_consultation, cid)["phase"] == "informativa"
    with pytest.raises(InvalidInput) as err:
        publish(settings, cid, clock)
    assert err.value.field == "community_language_versions" and "Náhuatl" in str(err.value)
    with pytest.raises(InvalidInput) as err:  # the interpreter is not a translator
        publish(settings, cid, clock, [nahuatl_version(agents["interpreter"])])
    assert err.value.field == "community_language_versions.0.translator_id"
    other = dict(nahuatl_version(agents["translator"]), variant="náhuatl de Guerrero")
    with pytest.raises(InvalidInput) as err:  # a variant the community did not agree
        publish(settings, cid, clock, [other])
    assert err.value.field == "community_language_versions.0.language"
    with pytest.raises(Conflict, match="information_delivered_in_community_language"):
        call(settings, cs.record_evidence, cid,
             {"conditions": ["information_delivered_in_community_language"]}, "ana")
    n = publish(settings, cid, clock, [nahuatl_version(agents["translator"])])
    assert n["translations"][0]["inali_variant"] == NAHUATL["variant"]
    assert n["translations"][0]["translator_id"] == agents["translator"]
    call(settings, cs.record_evidence, cid,
         {"conditions": ["information_delivered_in_community_language"]}, "ana")
    with session_scope(settings) as session:
        assert cs.verify_consultation(session, cid)["ok"]
        listed = cs.list_language_agents(session, cid)["language_agents"]
        assert {a["name"] for a in listed} == {"Persona translator", "Persona interpreter"}
        events = session.scalars(select(ConsultationEvent).where(
            ConsultationEvent.consultation_id == cid,
            ConsultationEvent.kind == "language_agent_accepted")).all()
        assert all("name" not in e.payload and e.payload["name_sha256"] for e in events)


def test_languages_condition_needs_translator_and_interpreter(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    walk_preparacion(settings, cid, clock)
    with pytest.raises(InvalidInput) as err:  # a variant is required but for Spanish
        fact(settings, cid, {"kind": "languages", "languages": [{"language": "Náhuatl"}]})
    assert err.value.field == "languages.0.variant"
    fact(settings, cid, {"kind": "languages", "languages": [NAHUATL]})
    with pytest.raises(Conflict, match="no accepted translator for Náhuatl"):
        call(settings, cs.record_evidence, cid, {"conditions": ["languages_agreed"]}, "ana")
    for role in ("translator", "interpreter"):
        call(settings, cs.add_language_agent, cid, load_request(LanguageAgentRequestSchema(), {
            "role": role, "name": "Y", **NAHUATL, "accepted_on": "2026-03-10",
            "acceptance_reference": "acta"}), "ana")
    call(settings, cs.record_evidence, cid, {"conditions": ["languages_agreed"]}, "ana")


# --- records and their conditions --------------------------------------------------------


@pytest.mark.parametrize("kind,condition,good,bad,field", [
    ("fpic_determination", "fpic_determination_recorded",
     {"circumstances": ["relocation"], "reason": "reubicación de 3 viviendas"},
     {"reason": "sin circunstancias"}, "circumstances"),
    ("study_coproduction", "study_made_with_community",
     {"community_participants": 9, "sessions": 2, "community_institutions": "Comisariado"},
     {"community_participants": 9, "community_institutions": "Comisariado"}, "sessions"),
    ("advice_resources", "independent_advice_resources_recorded",
     {"budget_mxn": 150000.5, "adviser_chosen_by_community": True, "description": "Abogada"},
     {"budget_mxn": 150000, "adviser_chosen_by_community": False, "description": "Abogada"},
     "adviser_chosen_by_community"),
])
def test_preparacion_records(settings, clock, kind, condition, good, bad, field):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    with pytest.raises(Conflict, match=condition):
        call(settings, cs.record_evidence, cid, {"conditions": [condition]}, "ana")
    with pytest.raises(InvalidInput) as err:
        fact(settings, cid, {"kind": kind, **bad})
    assert err.value.field == field
    out = fact(settings, cid, {"kind": kind, **good})
    if kind == "fpic_determination":
        assert out["fpic_required"] is True  # relocation is a PS7 para. 15 circumstance
    call(settings, cs.record_evidence, cid, {"conditions": [condition]}, "ana")
    with pytest.raises(InvalidInput) as err:  # a budget of zero is refused by the schema
        load_request(FactRequestSchema(), {"kind": "advice_resources", "budget_mxn": 0})
    assert err.value.field == "budget_mxn"


def test_negotiation_needs_every_element(settings, clock, in_consultiva):
    pid, cid, agents = in_consultiva
    partial = {e: "acta" for e in sg.NEGOTIATION_ELEMENTS[:-1]}
    with pytest.raises(InvalidInput) as err:
        fact(settings, cid, {"kind": "negotiation", "elements": partial})
    assert err.value.field == "elements.sufficient_time_for_decision"
    with pytest.raises(Conflict, match="good_faith_negotiation_documented"):
        call(settings, cs.record_evidence, cid,
             {"conditions": ["good_faith_negotiation_documented"]}, "ana")


# --- suspension ------------------------------------------------------------------------


def test_suspension_freezes_sla_and_phase_clocks(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    with session_scope(settings) as session:
        cs.submit_feedback(session, settings, cid, {"kind": "grievance", "category": "other",
                                                    "text": "El camino se cerró sin aviso",
                                                    "anonymous": True})
    # Monday 2 March; acknowledgement due by the end of Monday 9 March (5 working days).
    clock.advance(days=1)  # Tuesday 3 March: suspended by a court
    call(settings, cs.suspend_consultation, cid, {"kind": "court_suspension",
                                                  "reason": "amparo 123/2026"}, "ana")
    assert call(settings, cs.get_consultation, cid)["state"] == "suspendida"
    assert gates(settings, pid)["state"] == "suspendida"
    with pytest.raises(Conflict, match="suspended"):
        call(settings, cs.record_evidence, cid, {"steps": ["designate_roles"]}, "ana")
    with pytest.raises(Conflict, match="already suspended"):
        call(settings, cs.suspend_consultation, cid, {"kind": "coercion_report",
                                                      "reason": "x"}, "ana")
    clock.advance(days=20)  # 23 March: far past the SLA, but the clock is stopped
    with session_scope(settings) as session:
        listed = cs.list_feedback(session, cid)
        assert listed["overdue_count"] == 0
    assert gates(settings, pid)["overdue_grievances"] == 0
    c = call(settings, cs.get_consultation, cid)
    assert c["missing_for_next_phase"]["days_remaining"] == 15 - 1  # only 1 active day
    # Resumed on Monday 23 March. Day 0 is Monday 2 March (not counted); the suspension took
    # Tuesday 3 to Sunday 22 March (the resumption day counts again), so none of the 5 working
    # days had been used: Mon 23, Tue 24, Wed 25, Thu 26, Fri 27 March, overdue from Saturday
    # 28 March 00:00 in Mexico City. Without the suspension it would have been Tuesday 10.
    call(settings, cs.resume_consultation, cid, {"reason": "se levantó la suspensión"}, "ana")
    clock.now = dt.datetime(2026, 3, 27, 23, 59, tzinfo=MX)
    with session_scope(settings) as session:
        assert cs.list_feedback(session, cid)["overdue_count"] == 0
    assert gates(settings, pid)["overdue_grievances"] == 0
    clock.now = dt.datetime(2026, 3, 28, 0, 1, tzinfo=MX)
    with session_scope(settings) as session:
        assert cs.list_feedback(session, cid)["overdue_count"] == 1
    assert gates(settings, pid)["overdue_grievances"] == 1
    # Phase clock: 15 days in preparacion, minus the 20 days suspended.
    c = call(settings, cs.get_consultation, cid)
    active = (clock.now - START).total_seconds() / 86400 - 20
    assert c["missing_for_next_phase"]["days_remaining"] == int(-(-(15 - active) // 1))
    with pytest.raises(Conflict, match="not suspended"):
        call(settings, cs.resume_consultation, cid, {"reason": "x"}, "ana")


# --- decisions ("prior") ------------------------------------------------------------------


def test_decisions_refused_before_the_phase_and_premature_ones_block(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    body = {"kind": "sia_resolution", "decision_date": "2026-03-02", "reference": "SENER/EVIS/9"}
    with pytest.raises(Conflict) as err:
        call(settings, cs.record_project_decision, pid,
             load_request(DecisionRequestSchema(), body), "ana")
    assert err.value.field == "decision_date" and err.value.extra["required_phase"] == "consultiva"
    with session_scope(settings) as session:
        assert session.scalars(select(ProjectDecision)).all() == []
    with pytest.raises(InvalidInput) as err:  # a date in the future is not a decision taken
        call(settings, cs.record_project_decision, pid, load_request(DecisionRequestSchema(), dict(
            body, decision_date="2026-04-01")), "ana")
    assert err.value.field == "decision_date"
    with pytest.raises(InvalidInput) as err:
        load_request(DecisionRequestSchema(), dict(body, kind="mining_title"))
    assert err.value.field == "kind"
    # A permit granted before the fund came in is recorded as a past fact, and blocks.
    d = call(settings, cs.record_project_decision, pid, load_request(DecisionRequestSchema(), {
        "kind": "permit", "decision_date": "2025-11-20", "reference": "CRE/G/1",
        "premature_reason": "permiso otorgado al promovente anterior"}), "ana")
    assert d["premature"] is True and d["consultation_id"] == cid
    g = gates(settings, pid)
    assert g["premature_decisions"][0]["kind"] == "permit"
    assert g["premature_decisions"][0]["date"] == "2025-11-20"
    assert "seguimiento" in g["premature_decisions"][0]["reason"]
    with pytest.raises(Conflict, match="no_premature_decision"):
        call(settings, cs.record_evidence, cid, {"conditions": ["no_premature_decision"]}, "ana")
    with session_scope(settings) as session:
        assert cs.verify_consultation(session, cid)["ok"]
        listed = cs.list_project_decisions(session, settings, pid)["decisions"]
        assert [x["reference"] for x in listed] == ["CRE/G/1"]


def test_not_required_project_may_record_decisions(settings, clock):
    pid = make_project(settings, CANDELA)
    d = call(settings, cs.record_project_decision, pid, load_request(DecisionRequestSchema(), {
        "kind": "land_contract", "decision_date": "2026-02-01", "reference": "Contrato 1"}), "ana")
    assert d["premature"] is False and d["consultation_id"] is None
    with pytest.raises(InvalidInput) as err:
        call(settings, cs.record_project_decision, pid, load_request(DecisionRequestSchema(), {
            "kind": "permit", "decision_date": "2026-02-01", "reference": "P",
            "premature_reason": "x"}), "ana")
    assert err.value.field == "premature_reason"


# --- version 1 is kept -------------------------------------------------------------------


def test_version_1_consultations_keep_their_protocol(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    with session_scope(settings) as session:  # as if opened before version 2 existed
        session.get(Consultation, cid).protocol_version = pr.V1_PROTOCOL_VERSION
    c = call(settings, cs.get_consultation, cid)
    assert c["protocol_version"] == "fondo-ca-mx-2026.1"
    assert "social_impact_assessment" in c["missing_for_next_phase"]["steps"]
    with pytest.raises(Conflict, match="protocol version 2"):
        fact(settings, cid, {"kind": "fpic_determination", "circumstances": [], "reason": "x"})


def test_verify_names_v2_rows_the_record_does_not_hold(settings, clock):
    from sqlalchemy import text

    pid = make_project(settings, TAMAZUNCHALE)
    cid = call(settings, cs.create_consultation, {"project_id": pid}, "ana")["id"]
    walk_preparacion(settings, cid, clock)
    fact(settings, cid, {"kind": "languages", "languages": [NAHUATL]})
    agent = call(settings, cs.add_language_agent, cid, load_request(LanguageAgentRequestSchema(), {
        "role": "translator", "name": "Ana", **NAHUATL, "accepted_on": "2026-03-10",
        "acceptance_reference": "acta"}), "ana")
    with session_scope(settings) as session:
        assert cs.verify_consultation(session, cid)["ok"]
        session.execute(text("UPDATE consultation_language_agents SET name = 'Otra' WHERE id = :i"),
                        {"i": agent["id"]})
    with session_scope(settings) as session:
        out = cs.verify_consultation(session, cid)
    assert not out["ok"] and out["unrecorded_rows"][0]["table"] == "consultation_language_agents"
    with session_scope(settings) as session:
        session.execute(text(
            "INSERT INTO project_decisions (project_id, consultation_id, kind, decision_date, "
            "reference, recorded_by, recorded_at) VALUES (:p, :c, 'permit', '2026-01-01', 'x', "
            "'raw', '2026-01-01 00:00:00+00:00')"), {"p": pid, "c": cid})
    with session_scope(settings) as session:
        tables = [r["table"] for r in cs.verify_consultation(session, cid)["unrecorded_rows"]]
    assert "project_decisions" in tables


def test_gates_take_a_few_queries(settings, clock, in_consultiva):
    from sqlalchemy import event

    pid, cid, agents = in_consultiva
    statements = []
    with session_scope(settings) as session:
        engine = session.get_bind()
        listener = lambda *args, **kw: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            cs.project_consultation_gates(session, pid, settings)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    # project, its site, its consultations, one chain, decisions, open grievances
    assert len(statements) <= 6, statements


def test_position_condition_needs_the_answer(settings, clock, in_consultiva):
    pid, cid, agents = in_consultiva
    with pytest.raises(Conflict, match="community_position_recorded"):
        call(settings, cs.record_evidence, cid, {"conditions": ["community_position_recorded"]},
             "ana")
    assembly(settings, cid, clock, agents)
    call(settings, cs.record_evidence, cid, {"conditions": ["community_position_recorded"],
                                             "community_position": "consent"}, "ana")


def test_identification_pending_is_a_social_risk(settings, clock):
    with session_scope(settings) as session:
        pending = cs.social_risk_for_project(session, settings, make_project(settings,
                                                                             AGUASCALIENTES))
        clear = cs.social_risk_for_project(session, settings, make_project(settings, CANDELA))
    assert pending["requirement"] == "identification_required"
    assert pending["social_risk"] == "medium" and not pending["consultation_required"]
    assert clear["requirement"] == "not_required" and clear["social_risk"] == "low"
