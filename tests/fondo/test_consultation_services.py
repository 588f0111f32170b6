"""Consultation services on SQLite and PostgreSQL: trigger on real data, phases, record
tamper evidence (edits, deletions, reordering, truncation; Hypothesis), idempotent
submissions, SLA flags, the append-only guard, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from sqlalchemy import select, text

import fondo.consultation.service as cs
from consultation_support import install_clock, make_project
from fondo.consultation.models import ConsultationEvent
from fondo.consultation.schemas import CommunityChangeRequestSchema, ConsultationRequestSchema
from fondo.db import engine_for, session_factory, session_scope
from fondo.errors import Conflict, InvalidInput
from fondo.request_body import load_request
from tests_support import DATA_DIR

UTC = dt.timezone.utc
#: Tamazunchale, San Luis Potosí (INEGI 240370001): municipality 24037 is INPI type A.
TAMAZUNCHALE = (21.26274, -98.79152)
#: Aguascalientes city (INEGI 010010001): municipality 01001 is INPI type C.
AGUASCALIENTES = (21.87982, -102.29605)
#: Candela, Coahuila (INEGI 050050001): municipality 05005 is INPI type D.
CANDELA = (26.84028, -100.66389)
START = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # a Monday, 10:00 in central Mexico


@pytest.fixture
def clock(monkeypatch):
    return install_clock(monkeypatch, START)


@pytest.fixture
def opened(settings, clock):
    """A consultation at Tamazunchale with a handful of events."""
    pid = make_project(settings, TAMAZUNCHALE)
    with session_scope(settings) as session:
        c = cs.create_consultation(session, settings, {"project_id": pid}, "ana@fondo.test")
        cid = c["id"]
        cs.change_communities(session, settings, cid, {"action": "remove", "cvegeo": "240370001",
                                                       "reason": "cabecera urbana"}, "ana")
        cs.record_evidence(session, settings, cid, {"steps": ["identify_communities",
                                                              "designate_roles"]}, "ana")
        for i in range(3):
            clock.advance(hours=1)
            cs.submit_feedback(session, settings, cid, {"kind": "feedback", "category": "other",
                                                        "text": f"pregunta {i}", "anonymous": True})
    return cid


def test_trigger_lists_localities_and_municipalities(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    with session_scope(settings) as session:
        c = cs.create_consultation(session, settings, {"project_id": pid}, "ana")
    assert c["phase"] == "preparacion" and c["protocol_version"] == "fondo-ca-mx-2026.2"
    assert c["requirement"] == "required" and c["state"] == "preparacion"
    keys = {m["cvegeo"]: m for m in c["municipalities"]}
    assert keys["24037"]["name"] == "Tamazunchale" and keys["24037"]["tipo_code"] == "A"
    community = {x["cvegeo"]: x for x in c["communities"]}["240370001"]
    assert community["dist_km"] == pytest.approx(0.0, abs=1e-3)
    assert all(x["dist_km"] <= 10.0 for x in c["communities"])
    with session_scope(settings) as session:
        with pytest.raises(Conflict, match="already has consultation"):
            cs.create_consultation(session, settings, {"project_id": pid}, "ana")


def test_trigger_not_required_is_refused_unless_overridden(settings, clock):
    # Candela, Coahuila (INEGI 050050001): municipality 05005 is INPI type D (no indigenous
    # population in 2020), and no other locality within 5 km.
    pid = make_project(settings, CANDELA)
    with session_scope(settings) as session:
        with pytest.raises(Conflict, match="does not require") as err:
            cs.create_consultation(session, settings, {"project_id": pid, "max_distance_km": 5},
                                   "ana")
        assert err.value.extra["requirement"] == "not_required"
        c = cs.create_consultation(session, settings, {"project_id": pid, "max_distance_km": 5,
                                                       "override_reason": "revisión voluntaria"},
                                   "ana")
    assert c["communities"] == [] and c["requirement"] == "not_required"


def test_type_c_opens_for_identification_without_override(settings, clock):
    # Aguascalientes (type C, 4,318 people in indigenous households): identification required,
    # never "not required" on the typology alone.
    pid = make_project(settings, AGUASCALIENTES)
    with session_scope(settings) as session:
        c = cs.create_consultation(session, settings, {"project_id": pid, "max_distance_km": 5},
                                   "ana")
    assert c["requirement"] == "identification_required" and c["communities"] == []


def test_bad_inputs_name_the_field_and_store_nothing(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    cases = [({"project_id": "x"}, "project_id"), ({"project_id": 999999}, "project_id"),
             ({"project_id": pid, "max_distance_km": 80}, "max_distance_km"),
             ({"project_id": pid, "known_indigenous_localities": ["12"]},
              "known_indigenous_localities")]
    for body, field in cases:
        with session_scope(settings) as session:
            with pytest.raises(InvalidInput) as err:
                request = load_request(ConsultationRequestSchema(), body)  # as the API and CLI
                cs.create_consultation(session, settings, request, "ana")
            assert err.value.field == field
    with session_scope(settings) as session:
        assert cs.list_consultations(session, settings) == {"consultations": []}


def test_communities_changes_are_recorded_with_reason(settings, opened):
    with session_scope(settings) as session:
        with pytest.raises(InvalidInput) as err:
            cs.change_communities(session, settings, opened,
                                  {"action": "add", "cvegeo": "999999999", "reason": "x"}, "ana")
        assert err.value.field == "cvegeo"
        with pytest.raises(InvalidInput) as err:
            load_request(CommunityChangeRequestSchema(), {"action": "add", "cvegeo": "240370005"})
        assert err.value.field == "reason"
        c = cs.get_consultation(session, settings, opened)
        assert "240370001" not in {x["cvegeo"] for x in c["communities"]}
        record = cs.record_json(session, settings, opened)
    removed = [e for e in record["events"] if e["kind"] == "community_removed"]
    assert removed[0]["payload"]["reason"] == "cabecera urbana"


def test_phase_refusal_lists_what_is_missing(settings, opened, clock):
    with session_scope(settings) as session:
        with pytest.raises(Conflict) as err:
            cs.change_phase(session, settings, opened, {"to_phase": "acuerdos_previos"}, "ana")
        missing = err.value.extra["missing"]
        assert "co_produce_social_impact_study" in missing["steps"]
        assert "identify_communities" not in missing["steps"]  # recorded by the fixture
        assert missing["days_remaining"] == 15
        with pytest.raises(Conflict, match="illegal move"):
            cs.change_phase(session, settings, opened, {"to_phase": "informativa"}, "ana")
        with pytest.raises(InvalidInput) as bad:
            cs.change_phase(session, settings, opened, {"to_phase": "nowhere"}, "ana")
        assert bad.value.field == "to_phase"
        assert cs.get_consultation(session, settings, opened)["phase"] == "preparacion"


def _raw(settings, sql: str, **params) -> None:
    with engine_for(settings["DATABASE_URL"]).begin() as conn:
        conn.execute(text(sql), params)


def _verify(settings, cid):
    with session_scope(settings) as session:
        return cs.verify_consultation(session, cid)


def test_intact_record_verifies(settings, opened):
    out = _verify(settings, opened)
    assert out["ok"] and out["length"] == out["expected_length"] >= 7
    assert out["head_hash"] == out["expected_head"]


@pytest.mark.parametrize("mode", ["edit", "delete", "reorder", "truncate", "rehash"])
def test_tampering_names_the_first_broken_event(settings, opened, mode):
    where = "consultation_id = :cid AND seq = :seq"
    if mode == "edit":
        _raw(settings, f"UPDATE consultation_events SET kind = 'meeting_held' WHERE {where}",
             cid=opened, seq=3)
        expected = 3
    elif mode == "delete":
        _raw(settings, f"DELETE FROM consultation_events WHERE {where}", cid=opened, seq=2)
        expected = 2
    elif mode == "reorder":  # swap the positions of events 4 and 5
        _raw(settings, f"UPDATE consultation_events SET seq = -1 WHERE {where}", cid=opened, seq=4)
        _raw(settings, f"UPDATE consultation_events SET seq = 4 WHERE {where}", cid=opened, seq=5)
        _raw(settings, f"UPDATE consultation_events SET seq = 5 WHERE {where}", cid=opened, seq=-1)
        expected = 4
    elif mode == "truncate":  # cut off the last event: still a valid chain, but not the anchor's
        with session_scope(settings) as session:
            last = session.scalar(select(ConsultationEvent.seq).where(
                ConsultationEvent.consultation_id == opened).order_by(
                ConsultationEvent.seq.desc()).limit(1))
        _raw(settings, f"DELETE FROM consultation_events WHERE {where}", cid=opened, seq=last)
        expected = last
    else:  # edit a payload AND recompute that event's own hash: the next link breaks
        with session_scope(settings) as session:
            row = session.scalar(select(ConsultationEvent).where(
                ConsultationEvent.consultation_id == opened, ConsultationEvent.seq == 1))
            forged = {"consultation_id": str(opened), "seq": 1, "kind": row.kind,
                      "payload": {**row.payload, "reason": "otra"}, "occurred_at": row.occurred_at}
            from consultation.record import event_hash

            new_hash = event_hash(row.prev_hash, forged)
        _raw(settings, f"UPDATE consultation_events SET payload = :p, hash = :h WHERE {where}",
             cid=opened, seq=1, p=json.dumps(forged["payload"]), h=new_hash)
        expected = 2
    out = _verify(settings, opened)
    assert not out["ok"]
    assert out["first_broken_seq"] == expected
    assert out["first_broken_event"]["position"] == expected


@hsettings(max_examples=12, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_random_edit_is_detected_at_its_position(settings, opened, data):
    with session_scope(settings) as session:
        n = cs.verify_consultation(session, opened)["length"]
    seq = data.draw(st.integers(0, n - 1), label="seq")
    column = data.draw(st.sampled_from(["kind", "payload", "occurred_at", "prev_hash"]),
                       label="column")
    value = {
        "kind": data.draw(st.from_regex(r"[a-z][a-z_]{2,20}", fullmatch=True)),
        "payload": json.dumps({"x": data.draw(st.integers(-1000, 1000))}),
        "occurred_at": "2030-01-01T00:00:00.000000Z",
        "prev_hash": data.draw(st.from_regex(r"[0-9a-f]{64}", fullmatch=True)),
    }[column]
    engine = engine_for(settings["DATABASE_URL"])
    with engine.connect() as conn:
        outer = conn.begin()
        before = conn.execute(text(f"SELECT {column} FROM consultation_events WHERE "
                                   "consultation_id = :c AND seq = :s"),
                              {"c": opened, "s": seq}).scalar()
        conn.execute(text(f"UPDATE consultation_events SET {column} = :v WHERE "
                          "consultation_id = :c AND seq = :s"), {"v": value, "c": opened, "s": seq})
        session = session_factory(settings)(bind=conn)
        out = cs.verify_consultation(session, opened)
        session.close()
        outer.rollback()
    unchanged = (before == value) or (column == "payload" and json.loads(value) == before)
    if unchanged:
        assert out["ok"]
    else:
        assert not out["ok"] and out["first_broken_seq"] == seq, (column, seq, out)


def test_code_cannot_update_or_delete_events(settings, opened):
    from fondo.consultation.models import RecordIsAppendOnly

    with session_scope(settings) as session:
        row = session.scalar(select(ConsultationEvent).where(
            ConsultationEvent.consultation_id == opened).limit(1))
        row.kind = "forged"
        with pytest.raises(RecordIsAppendOnly):
            session.flush()
        session.rollback()
    with session_scope(settings) as session:
        row = session.scalar(select(ConsultationEvent).where(
            ConsultationEvent.consultation_id == opened).limit(1))
        session.delete(row)
        with pytest.raises(RecordIsAppendOnly):
            session.flush()
        session.rollback()
    assert _verify(settings, opened)["ok"]


def test_same_client_token_is_stored_once(settings, opened):
    body = {"kind": "grievance", "category": "water_and_environment", "text": "El pozo",
            "client_token": "tok-12345678", "email": "ana@example.org"}
    with session_scope(settings) as session:
        first, created = cs.submit_feedback(session, settings, opened, dict(body))
    with session_scope(settings) as session:
        again, created_again = cs.submit_feedback(session, settings, opened, dict(body))
        assert created and not created_again
        assert again["receipt_code"] == first["receipt_code"]
        with pytest.raises(Conflict) as err:
            cs.submit_feedback(session, settings, opened, {**body, "text": "otra cosa"})
        assert err.value.field == "client_token"
        items = cs.list_feedback(session, opened)["feedback"]
    assert sum(i["client_token"] == "tok-12345678" for i in items) == 1


def test_sla_breach_is_flagged_and_raises_the_risk(settings, opened, clock):
    with session_scope(settings) as session:
        view, _ = cs.submit_feedback(session, settings, opened, {
            "kind": "grievance", "category": "land_and_territory", "text": "Linderos",
            "anonymous": True})
        pid = cs.get_consultation(session, settings, opened)["project_id"]
        assert cs.social_risk_for_project(session, settings, pid)["overdue_grievances"] == 0
    # Received Monday 2 March 2026 (central Mexico); 5 working days: Mon 9 March. The
    # acknowledgement is overdue from local midnight closing 9 March (Mon 16 March is a rest
    # day, LFT art. 74 fr. III, but it is after the term).
    clock.now = dt.datetime(2026, 3, 10, 6, 1, tzinfo=UTC)  # 00:01 on 10 March, central Mexico
    with session_scope(settings) as session:
        items = {i["receipt_code"]: i for i in cs.list_feedback(session, opened)["feedback"]}
        item = items[view["receipt_code"]]
        assert item["acknowledge_overdue"] and not item["answer_overdue"]
        assert item["acknowledge_due_at"].startswith("2026-03-10T00:00:00-06:00")
        risk = cs.social_risk_for_project(session, settings, pid)
        assert risk["overdue_grievances"] == 1 and risk["social_risk"] == "medium"
        clock.now = dt.datetime(2026, 3, 10, 5, 59, tzinfo=UTC)  # 23:59 on 9 March: on time
        items = {i["receipt_code"]: i for i in cs.list_feedback(session, opened)["feedback"]}
        assert not items[view["receipt_code"]]["acknowledge_overdue"]


def test_project_without_consultation_has_risk_from_the_rule(settings, clock):
    pid = make_project(settings, TAMAZUNCHALE)
    with session_scope(settings) as session:
        risk = cs.social_risk_for_project(session, settings, pid)
    assert risk["phase"] == "not_started" and risk["consultation_required"]
    assert risk["social_risk"] == "medium"


def test_cli_mirrors_the_services(settings, opened, tmp_path):
    from fondo.cli import main

    runner = CliRunner()
    listed = runner.invoke(main, ["consultation", "list"], obj={"settings": settings})
    assert listed.exit_code == 0, listed.output
    assert [c["id"] for c in json.loads(listed.output)["consultations"]] == [opened]
    body = tmp_path / "phase.json"
    body.write_text(json.dumps({"to_phase": "acuerdos_previos"}))
    refused = runner.invoke(main, ["consultation", "phase", str(opened), "--input", str(body)],
                            obj={"settings": settings})
    assert refused.exit_code == 1 and "minimum duration" in refused.output
    ok = runner.invoke(main, ["consultation", "verify", str(opened)], obj={"settings": settings})
    assert ok.exit_code == 0 and json.loads(ok.output)["ok"]
    _raw(settings, "UPDATE consultation_events SET occurred_at = '2020-01-01T00:00:00.000000Z' "
         "WHERE consultation_id = :c AND seq = 2", c=opened)
    broken = runner.invoke(main, ["consultation", "verify", str(opened)],
                           obj={"settings": settings})
    assert broken.exit_code == 1 and "broken at event seq 2" in broken.output
    pdf = tmp_path / "record.pdf"
    out = runner.invoke(main, ["consultation", "record", str(opened), "--pdf", str(pdf)],
                        obj={"settings": settings})
    assert out.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-")


#: (command and its arguments, raw JSON of --input, field the error names).
CLI_BAD_INPUTS = [
    (["create"], '{"project_id": NaN}', "project_id"),
    (["create"], '{"project_id": "1"}', "project_id"),
    (["create"], "{}", "project_id"),
    (["create"], '{"project_id": 1, "colour": "red"}', "colour"),
    (["communities", "{cid}"], '{"action": "move", "cvegeo": "240370005", "reason": "x"}',
     "action"),
    (["evidence", "{cid}"], '{"steps": [1]}', "steps[0]"),
    (["phase", "{cid}"], '{"to_phase": 5}', "to_phase"),
    (["meeting", "{cid}"], '{"held_at": "2026-03-02T10:00:00-06:00", "place": "Auditorio", '
                           '"attendance_count": -1}', "attendance_count"),
    (["notice", "{cid}"], '{"community": "Tamazunchale", "starts_at": "2026-04-02T10:00:00", '
                          '"place": "Auditorio", "meeting_language": "Español"}', "starts_at"),
    (["translation", "{cid}", "1"], '{"language_name": "Tének", "title": "t", "body": "b"}',
     "translated_by"),
    (["subscribe", "{cid}"], '{"email": "ana@example.org", "language": "fr"}', "language"),
    (["submit", "{cid}"], '{"kind": "feedback", "category": "other"}', "text"),
    (["submit", "{cid}"], '{"kind": "feedback", "category": "other", "text": "x", '
                          '"anonymous": 1}', "anonymous"),
    (["feedback-action", "{cid}", "1"], '{"action": "answer"}', "public_answer"),
    (["feedback-action", "{cid}", "1"], '{"action": "escalate", "public_answer": "x"}', "reason"),
    (["commitment-add", "{cid}"], '{"kind": "mitigation", "description": "x", "owner": "y", '
                                  '"due_date": "2026-12-01", "amount_mxn": Infinity}',
     "amount_mxn"),
    (["commitment-status", "{cid}", "C-1"], '{"status": "fulfilled", "why": "x"}', "why"),
]


def test_cli_bad_inputs_exit_1_naming_the_field_and_store_nothing(settings, opened, tmp_path):
    from fondo.cli import main

    def events() -> int:
        with session_scope(settings) as session:
            return cs.verify_consultation(session, opened)["length"]

    before = events()
    body = tmp_path / "body.json"
    for command, raw, field in CLI_BAD_INPUTS:
        body.write_text(raw)
        args = [a.format(cid=opened) for a in command]
        result = CliRunner().invoke(main, ["consultation", *args, "--input", str(body)],
                                    obj={"settings": settings})
        assert result.exit_code == 1, (command, raw, result.output)
        assert "error:" in result.output and f"({field})" in result.output, (command, raw,
                                                                              result.output)
    assert events() == before
    with session_scope(settings) as session:
        assert [c["id"] for c in cs.list_consultations(session, settings)["consultations"]] == [
            opened]


def test_cli_on_a_fresh_instance_folder_migrates_and_seeds(tmp_path):
    from fondo.cli import main

    instance = tmp_path / "fresh"
    env = {k: None for k in os.environ if k.startswith("FONDO_") and not k.startswith("FONDO_TEST_")}
    env |= {"FONDO_INSTANCE_PATH": str(instance), "FONDO_DATA_DIR": str(DATA_DIR)}
    result = CliRunner().invoke(main, ["consultation", "list"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"consultations": []}
    assert (instance / "fondo.sqlite").is_file()
    result = CliRunner().invoke(main, ["consultation", "show", "1"], env=env)
    assert result.exit_code == 1 and "consultation 1 does not exist" in result.output


def test_a_delivery_claimed_by_another_worker_is_not_sent_twice(settings, opened, clock):
    """Two workers delivering the same notice: the claim row decides who sends each message.

    A fresh claim by another worker is skipped; a claim left by a worker that died (older
    than DELIVERY_CLAIM_STALE_MINUTES) is taken over; a sent/queued delivery is never redone.
    """
    from sqlalchemy import func

    from fondo.consultation.models import ConsultationNotice, ConsultationSubscriber, SmsOutbox

    with session_scope(settings) as session:
        notice = ConsultationNotice(
            consultation_id=opened, phase="preparacion", community="Tamazunchale",
            place="Auditorio", meeting_language="Español", starts_at=clock.now,
            title_es="Aviso", body_es="Texto", title_en="Notice", body_en="Text",
            fields={"protocol_version": "fondo-ca-mx-2026.1",
                    "es": {"date": "2 de marzo de 2026", "time": "10:00"},
                    "en": {"date": "2 March 2026", "time": "10:00"}},
            translations=[], published_at=clock.now)
        subscriber = ConsultationSubscriber(consultation_id=opened, phone="+524831234567")
        session.add_all([notice, subscriber])
        session.flush()
        notice_id, subscriber_id = notice.id, subscriber.id

    def outbox() -> int:
        with session_scope(settings) as session:
            return session.scalar(select(func.count()).select_from(SmsOutbox))

    other_worker = session_factory(settings)()
    try:
        assert cs.claim_delivery(other_worker, opened, notice_id, subscriber_id, "sms") is not None
    finally:
        other_worker.close()
    with session_scope(settings) as session:
        first = cs.deliver_notice(session, settings, opened, notice_id)
    assert (first["queued"], first["skipped"], outbox()) == (0, 1, 0)
    clock.advance(minutes=cs.DELIVERY_CLAIM_STALE_MINUTES + 1)  # the other worker died
    with session_scope(settings) as session:
        second = cs.deliver_notice(session, settings, opened, notice_id)
    assert (second["queued"], second["skipped"], outbox()) == (1, 0, 1)
    with session_scope(settings) as session:
        third = cs.deliver_notice(session, settings, opened, notice_id)
    assert (third["queued"], third["skipped"], outbox()) == (0, 1, 1)


def test_subscribers_are_listed_newest_first_with_their_channels(settings, opened, tmp_path):
    """The officers' list of who receives the notices, from the service and the CLI alike;
    a subscriber who subscribes again is not listed twice."""
    from fondo.cli import main

    with session_scope(settings) as session:
        assert cs.list_subscribers(session, opened) == {
            "consultation_id": opened, "subscriber_count": 0, "subscribers": []}
        cs.subscribe(session, opened, {"email": "Ana@Example.org", "language": "es"})
        cs.subscribe(session, opened, {"phone": "+524831234567", "language": "en"})
        cs.subscribe(session, opened, {"email": "luis@example.org", "phone": "+524831112222"})
        cs.subscribe(session, opened, {"email": "ana@example.org"})  # again: same row
    with session_scope(settings) as session:
        listed = cs.list_subscribers(session, opened)
    assert listed["subscriber_count"] == 3
    rows = listed["subscribers"]
    assert [(r["email"], r["phone"], r["language"], r["channels"]) for r in rows] == [
        ("luis@example.org", "+524831112222", "es", ["email", "sms"]),
        (None, "+524831234567", "en", ["sms"]),
        ("ana@example.org", None, "es", ["email"])]
    assert all(dt.datetime.fromisoformat(r["created_at"]).utcoffset() == dt.timedelta(0)
               for r in rows)
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows),
                                                     reverse=True)
    out = CliRunner().invoke(main, ["consultation", "subscribers", str(opened)],
                             obj={"settings": settings})
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == listed
    missing = CliRunner().invoke(main, ["consultation", "subscribers", "999999"],
                                 obj={"settings": settings})
    assert missing.exit_code == 1 and "consultation 999999 does not exist" in missing.output
