"""One consultation through every phase over the REST API, on SQLite and PostgreSQL, with a
real SMTP server on loopback (aiosmtpd): notices e-mailed, feedback answered after an SLA
breach was flagged, a commitment late then followed up, the record verified and exported.

Protocol version 2 (issue 13): the community speaks Nahuatl, so notices from the information
phase on carry the Nahuatl version made by the translator the community accepted, meetings
record the accepted interpreter and the attendance by sex, the decision assembly records its
no-coercion check, and the project's gates allow a permit and financial close only after the
community's agreement."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
import shapely

import fondo.consultation.clock as cs
from consultation.protocol import load_protocol
from fondo.db import session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology

UTC = dt.timezone.utc
TAMAZUNCHALE = (21.26274, -98.79152)
NAHUATL = {"language": "Náhuatl", "variant": "náhuatl de la Huasteca potosina"}
RECORDS = {
    "preparacion": [
        {"kind": "fpic_determination", "circumstances": [], "reason": "sin circunstancias ND7"},
        {"kind": "study_coproduction", "community_participants": 15, "sessions": 4,
         "community_institutions": "Asamblea comunitaria"},
        {"kind": "advice_resources", "budget_mxn": 400000, "adviser_chosen_by_community": True,
         "description": "Asesoría jurídica y técnica independiente"}],
    "acuerdos_previos": [
        {"kind": "languages", "languages": [{"language": "español"}, NAHUATL]},
        {"kind": "participation", "disaggregate_by_age": False, "separate_sessions": ["women"]},
        {"kind": "results_scope", "statement": "Los acuerdos obligan al promovente y al Fondo",
         "binding_on": ["developer", "fund"]}],
}


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class Inbox:
    """aiosmtpd handler keeping every message received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_consultation_through_every_phase(settings, smtp, make_user, monkeypatch):
    from web import create_app

    inbox, port = smtp
    clock = Clock(dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    monkeypatch.setattr(cs, "clock", clock)
    app = create_app({**settings, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                      "MAIL_FROM": "consulta@fondo.test"})
    client = app.test_client()
    _e, _p, token = make_user("officer")
    h = {"Authorization": f"Bearer {token}"}
    lat, lon = TAMAZUNCHALE
    with session_scope(settings) as session:
        site = Site(name="s", technology=Technology.WIND, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        project = Project(name="Parque Eólico Huasteca", technology=Technology.WIND,
                          site_id=site.id)
        session.add(project)
        session.flush()
        pid = project.id
    protocol = load_protocol()

    def ok(response, status=200):
        assert response.status_code == status, response.get_json()
        return response.get_json()

    cid = ok(client.post("/api/v1/consultations", json={"project_id": pid}, headers=h), 201)["id"]
    ok(client.post(f"/api/v1/consultations/{cid}/subscribers",
                   json={"email": "vecina@example.org"}), 201)
    ok(client.post(f"/api/v1/consultations/{cid}/subscribers",
                   json={"phone": "+52 481 555 0101"}), 201)

    agents: dict[str, int] = {}

    def complete_phase(phase, extra=None):
        c = ok(client.get(f"/api/v1/consultations/{cid}", headers=h))
        missing = c["missing_for_next_phase"]
        body = {"steps": missing["steps"], "artefacts": missing["artefacts"],
                "conditions": missing["conditions"], **(extra or {})}
        ok(client.post(f"/api/v1/consultations/{cid}/evidence", json=body, headers=h))
        clock.now += dt.timedelta(days=phase.min_days)
        nxt = protocol.next_phase(phase.phase_id).phase_id
        return ok(client.post(f"/api/v1/consultations/{cid}/phase", json={"to_phase": nxt},
                              headers=h))

    receipt = None
    for phase in [p for p in protocol.phases if not p.terminal]:
        for body in RECORDS.get(phase.phase_id, ()) if phase.phase_id == "preparacion" else ():
            ok(client.post(f"/api/v1/consultations/{cid}/records", json=body, headers=h), 201)
        assert ok(client.get(f"/api/v1/consultations/{cid}", headers=h))["phase"] == phase.phase_id
        if phase.notice_templates is not None:
            meeting = (clock.now + dt.timedelta(days=8)).astimezone(dt.timezone(dt.timedelta(hours=-6)))
            meeting = meeting.replace(hour=10, minute=0, second=0, microsecond=0)
            versions = [{**NAHUATL, "title": "Tlanonotzaliztli", "body": "(texto en náhuatl)",
                         "translator_id": agents["translator"]}] if agents else []
            early = ok(client.post(f"/api/v1/consultations/{cid}/notices", headers=h, json={
                "community": "Tamazunchale", "starts_at": clock.now.isoformat(),
                "place": "Auditorio", "meeting_language": "Náhuatl",
                "community_language_versions": versions}), 422)
            assert early["field"] == "starts_at"  # less than 7 days ahead
            notice = {"community": "Tamazunchale", "starts_at": meeting.isoformat(),
                      "ends_at": (meeting + dt.timedelta(hours=4)).isoformat(),
                      "place": "Auditorio municipal", "meeting_language": "Español",
                      "interpreter_language": "Náhuatl"}
            if phase.notice_requires_community_language:
                refused = ok(client.post(f"/api/v1/consultations/{cid}/notices", headers=h,
                                         json=notice), 422)  # no Nahuatl version: refused
                assert refused["field"] == "community_language_versions"
            n = ok(client.post(f"/api/v1/consultations/{cid}/notices", headers=h, json={
                **notice, "community_language_versions": versions}), 201)
            if not versions:  # acuerdos previos: before the languages are agreed
                ok(client.post(f"/api/v1/consultations/{cid}/notices/{n['id']}/translations",
                               headers=h, json={"language_name": "Náhuatl de la Huasteca",
                                                "language_code": "nhe",
                                                "title": "Tlanonotzaliztli",
                                                "body": "(texto del intérprete)",
                                                "translated_by": "Intérprete comunitario"}), 201)
            task = client.post(f"/api/v1/consultations/{cid}/notices/{n['id']}/deliver", headers=h)
            assert task.status_code == 202 and task.headers["Location"].startswith("/api/v1/tasks/")
            assert ok(client.get(task.headers["Location"], headers=h))["state"] == "SUCCESS"
            again = client.post(f"/api/v1/consultations/{cid}/notices/{n['id']}/deliver",
                                headers=h)  # a second run sends nothing twice
            assert again.status_code == 202
            deliveries = ok(client.get(
                f"/api/v1/consultations/{cid}/notices/{n['id']}/deliveries", headers=h))
            assert sorted(d["status"] for d in deliveries["deliveries"]) == ["queued", "sent"]
            if phase.phase_id == "acuerdos_previos":  # agreed at the prior-agreements meeting
                for body in RECORDS["acuerdos_previos"]:
                    ok(client.post(f"/api/v1/consultations/{cid}/records", json=body,
                                   headers=h), 201)
                for role in ("translator", "interpreter"):
                    agents[role] = ok(client.post(
                        f"/api/v1/consultations/{cid}/language-agents", headers=h, json={
                            "role": role, "name": f"Persona {role}", **NAHUATL,
                            "accepted_on": clock.now.date().isoformat(),
                            "acceptance_reference": "Acta de acuerdos previos"}), 201)["id"]
            assembly = {"decision_assembly": True, "no_coercion_check": {
                "asked_publicly": True, "coercion_reported": False, "guarantor_present": True}} \
                if phase.phase_id == "consultiva" else {}
            ok(client.post(f"/api/v1/consultations/{cid}/meetings", headers=h, json={
                "held_at": meeting.isoformat(), "place": "Auditorio municipal",
                "attendance_count": 57, "attendance_women": 30, "attendance_men": 27,
                "interpreter_language": "Náhuatl", "interpreter_ids": [agents["interpreter"]],
                **assembly}), 201)
        if phase.phase_id == "informativa":
            receipt = ok(client.post(f"/api/v1/consultations/{cid}/feedback", json={
                "kind": "grievance", "category": "water_and_environment",
                "text": "¿Qué pasará con el manantial?", "anonymous": True}), 201)["receipt_code"]
            clock.now += dt.timedelta(days=14)  # nobody acknowledged it: SLA breach
            items = ok(client.get(f"/api/v1/consultations/{cid}/feedback", headers=h))
            assert items["overdue_count"] == 1 and items["feedback"][0]["acknowledge_overdue"]
            risk = ok(client.get(f"/api/v1/projects/{pid}/social-risk", headers=h))
            assert risk["overdue_grievances"] == 1
            fid = items["feedback"][0]["id"]
            ok(client.post(f"/api/v1/consultations/{cid}/feedback/{fid}/actions", headers=h,
                           json={"action": "answer",
                                 "public_answer": "Se instalará monitoreo trimestral."}))
            public = ok(client.get(f"/api/v1/feedback/{receipt}"))
            assert public["status"] == "answered"
            assert public["public_answer"] == "Se instalará monitoreo trimestral."
        if phase.phase_id == "consultiva":
            gates = ok(client.get(f"/api/v1/projects/{pid}/consultation-gates", headers=h))
            assert not gates["agreement_reached"]
            assert not gates["financial_close_allowed_by_protocol"]
            permit = {"kind": "permit", "decision_date": clock.now.date().isoformat(),
                      "reference": "SENER/permiso/1"}
            assert ok(client.post(f"/api/v1/projects/{pid}/decisions", json=permit, headers=h),
                      409)["required_phase"] == "seguimiento"
            ok(client.post(f"/api/v1/consultations/{cid}/records", headers=h, json={
                "kind": "negotiation", "elements": {
                    "willingness_to_engage": "6 reuniones en fechas de la comunidad",
                    "information_for_negotiation": "estudio y costos compartidos",
                    "key_issues_explored": "agua, empleo, caminos",
                    "mutually_acceptable_procedures": "acta de acuerdos previos",
                    "willingness_to_change_position": "se movió el trazo de la línea",
                    "sufficient_time_for_decision": "30 días de deliberación"}}), 201)
            due = (clock.now + dt.timedelta(days=10)).date().isoformat()
            ok(client.post(f"/api/v1/consultations/{cid}/commitments", headers=h, json={
                "kind": "mitigation", "description": "Monitoreo trimestral del manantial",
                "owner": "Promovente", "due_date": due, "amount_mxn": 250000}), 201)
            complete_phase(phase, {"community_position": "agreement"})
            gates = ok(client.get(f"/api/v1/projects/{pid}/consultation-gates", headers=h))
            assert gates["agreement_reached"] and gates["financial_close_allowed_by_protocol"]
            assert gates["state"] == "seguimiento" and gates["requirement"] == "required"
            permit["decision_date"] = clock.now.date().isoformat()
            assert ok(client.post(f"/api/v1/projects/{pid}/decisions", json=permit, headers=h),
                      201)["premature"] is False
            continue
        if phase.phase_id == "seguimiento":
            clock.now += dt.timedelta(days=15)  # past the due date
            late = ok(client.get(f"/api/v1/consultations/{cid}/commitments"))["commitments"][0]
            assert late["late"] and late["status"] == "pending"
            closing = client.post(f"/api/v1/consultations/{cid}/evidence", headers=h,
                                  json={"conditions": ["all_commitments_closed"]})
            assert closing.status_code == 409  # checked against the commitments, not asserted
            ok(client.post(f"/api/v1/consultations/{cid}/commitments/C-1/status", headers=h,
                           json={"status": "in_progress"}))
            done = ok(client.post(f"/api/v1/consultations/{cid}/commitments/C-1/status",
                                  headers=h, json={"status": "fulfilled"}))
            assert done["status"] == "fulfilled" and not done["late"]
        complete_phase(phase)

    final = ok(client.get(f"/api/v1/consultations/{cid}", headers=h))
    assert final["phase"] == "cerrada"
    assert [x["phase"] for x in final["history"]] == [
        p.phase_id for p in protocol.phases if not p.terminal] + ["cerrada"]
    assert final["social_risk"] == "low"
    # E-mails: one per notice (4 phases with notices) to the one e-mail subscriber.
    assert len(inbox.messages) == 4
    rcpts, message = inbox.messages[0]
    assert rcpts == ["vecina@example.org"]
    assert message["From"] == "consulta@fondo.test"
    assert "acuerdos previos" in message["Subject"]
    parts = list(message.walk())
    assert any(p.get_content_type() == "application/pdf" for p in parts)
    text = next(p for p in parts if p.get_content_type() == "text/plain").get_content()
    assert "Lugar: Auditorio municipal" in text and "Náhuatl de la Huasteca" in text
    verified = ok(client.get(f"/api/v1/consultations/{cid}/verify", headers=h))
    assert verified["ok"]
    record = ok(client.get(f"/api/v1/consultations/{cid}/record.json", headers=h))
    kinds = {e["kind"] for e in record["events"]}
    assert {"consultation_opened", "notice_published", "translation_added", "notice_delivered",
            "meeting_held", "feedback_received", "feedback_answered", "commitment_recorded",
            "commitment_status_changed", "phase_changed", "fpic_determined",
            "languages_agreed", "language_agent_accepted", "negotiation_recorded",
            "project_decision_recorded"} <= kinds
    assert "Persona translator" not in str(record)  # names stay with the officers
    assert "vecina@example.org" not in str(record) and "5550101" not in str(record)
    pdf = client.get(f"/api/v1/consultations/{cid}/record.pdf", headers=h)
    assert pdf.data.startswith(b"%PDF-")
