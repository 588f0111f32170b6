"""REST API of consultations: roles, problem details naming the field (nothing stored),
privacy of submitters, receipts, rate limit, attachments, record export and verification."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import shapely

import fondo.consultation.clock as consultation_clock
from fondo.db import session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology

PROBLEM = "application/problem+json"
UTC = dt.timezone.utc
TAMAZUNCHALE = (21.26274, -98.79152)
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def officer(auth_headers):
    return auth_headers("officer")


@pytest.fixture
def cid(settings, client, officer, monkeypatch):
    monkeypatch.setattr(consultation_clock, "clock", lambda: dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    lat, lon = TAMAZUNCHALE
    with session_scope(settings) as session:
        site = Site(name="s", technology=Technology.WIND, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        project = Project(name="Parque Eólico <b>Huasteca</b>", technology=Technology.WIND,
                          site_id=site.id)
        session.add(project)
        session.flush()
        pid = project.id
    r = client.post("/api/v1/consultations", json={"project_id": pid}, headers=officer)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _count(settings, model) -> int:
    from sqlalchemy import func, select

    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_roles(client, cid, auth_headers):
    investor = auth_headers("investor")
    assert client.get(f"/api/v1/consultations/{cid}", headers=investor).status_code == 200
    for method, url in (("post", f"/api/v1/consultations/{cid}/phase"),
                        ("get", f"/api/v1/consultations/{cid}/feedback"),
                        ("get", f"/api/v1/consultations/{cid}/record.json")):
        r = getattr(client, method)(url, headers=investor, json={})
        assert r.status_code == 403 and r.mimetype == PROBLEM
    assert client.get(f"/api/v1/consultations/{cid}/feedback").status_code == 401


def test_phase_refusal_is_409_listing_what_is_missing(client, cid, officer):
    r = client.post(f"/api/v1/consultations/{cid}/phase", json={"to_phase": "acuerdos_previos"},
                    headers=officer)
    assert r.status_code == 409 and r.mimetype == PROBLEM
    assert r.json["field"] == "to_phase"
    assert "designate_roles" in r.json["missing"]["steps"]
    assert r.json["missing"]["days_remaining"] == 15
    assert r.json["allowed_moves"] == ["acuerdos_previos"]


BAD_SUBMISSIONS = [
    ({"kind": "complaint", "category": "other", "text": "x"}, "kind"),
    ({"kind": "feedback", "category": "weather", "text": "x"}, "category"),
    ({"kind": "feedback", "category": "other", "text": "   "}, "text"),
    ({"kind": "feedback", "category": "other", "text": "x", "email": "not-an-email"}, "email"),
    ({"kind": "feedback", "category": "other", "text": "x", "anonymous": True, "name": "Ana"},
     "anonymous"),
    ({"kind": "feedback", "category": "other", "text": "x",
      "location": {"latitude": 45.5, "longitude": -73.6}}, "location"),
    ({"kind": "feedback", "category": "other", "text": "x", "client_token": "a b"},
     "client_token"),
    ({"kind": "feedback", "category": "other", "text": "x",
      "attachment": {"filename": "x.exe", "content_base64": base64.b64encode(b"MZ\x90\x00\x03").decode()}},
     "attachment"),
    ({"kind": "feedback", "category": "other", "text": "x",
      "attachment": {"filename": "a.png", "content_type": "image/png",
                     "content_base64": base64.b64encode(PNG_1PX + b"\0" * (5 * 1024 * 1024)).decode()}},
     "attachment"),
]


def test_bad_submissions_name_the_field_and_store_nothing(settings, client, cid):
    from fondo.consultation.models import ConsultationFeedback

    for body, field in BAD_SUBMISSIONS:
        r = client.post(f"/api/v1/consultations/{cid}/feedback", json=body)
        assert r.status_code == 422 and r.mimetype == PROBLEM, r.json
        assert r.json["field"] == field, (field, r.json)
    not_json = client.post(f"/api/v1/consultations/{cid}/feedback", data="x",
                           content_type="text/plain")
    assert not_json.status_code == 422 and not_json.json["field"] == "body"
    assert _count(settings, ConsultationFeedback) == 0


def test_privacy_receipt_and_officer_views(client, cid, officer):
    body = {"kind": "grievance", "category": "water_and_environment",
            "text": "El manantial <script>alert(1)</script>", "name": "Ana Hernández",
            "email": "ana@example.org", "phone": "+52 481 123 4567",
            "location": {"latitude": 21.263456, "longitude": -98.791234},
            "attachment": {"filename": "foto.png", "content_type": "image/png",
                           "content_base64": base64.b64encode(PNG_1PX).decode()}}
    r = client.post(f"/api/v1/consultations/{cid}/feedback", json=body)
    assert r.status_code == 201
    code = r.json["receipt_code"]
    public = client.get(f"/api/v1/feedback/{code}")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    for secret in ("Ana Hern", "ana@example.org", "4567", "21.263456", "foto"):
        assert secret not in text
    assert public.json["location"] == {"latitude": 21.26, "longitude": -98.79}
    assert public.json["status"] == "received" and public.json["public_answer"] is None
    officer_list = client.get(f"/api/v1/consultations/{cid}/feedback", headers=officer).json
    item = officer_list["feedback"][0]
    assert item["email"] == "ana@example.org" and item["phone"] == "+524811234567"
    assert item["name"] == "Ana Hernández" and item["location"]["latitude"] == 21.263456
    att = client.get(f"/api/v1/consultations/{cid}/feedback/{item['id']}/attachment",
                     headers=officer)
    assert att.status_code == 200 and att.data == PNG_1PX
    assert client.get(f"/api/v1/consultations/{cid}/feedback/{item['id']}/attachment").status_code == 401
    # The record keeps no contact details either.
    record = client.get(f"/api/v1/consultations/{cid}/record.json", headers=officer)
    assert "ana@example.org" not in record.get_data(as_text=True)
    assert "Ana Hern" not in record.get_data(as_text=True)
    # Answer: visible to anyone with the code.
    a = client.post(f"/api/v1/consultations/{cid}/feedback/{item['id']}/actions",
                    json={"action": "answer"}, headers=officer)
    assert a.status_code == 422 and a.json["field"] == "public_answer"
    a = client.post(f"/api/v1/consultations/{cid}/feedback/{item['id']}/actions",
                    json={"action": "answer", "public_answer": "Se hará monitoreo.",
                          "officer_notes": "llamar a Ana"}, headers=officer)
    assert a.status_code == 200 and a.json["status"] == "answered"
    public = client.get(f"/api/v1/feedback/{code.lower()}").json
    assert public["public_answer"] == "Se hará monitoreo." and "officer_notes" not in public


def test_unknown_receipt_is_404_and_leaks_nothing(client, cid):
    from consultation.feedback import crockford_check_symbol

    valid_unknown = "ABCDEFGHJ" + crockford_check_symbol("ABCDEFGHJ")
    answers = [client.get(f"/api/v1/feedback/{c}") for c in (valid_unknown, "ZZZZZZZZZZ", "x")]
    for r in answers:
        assert r.status_code == 404 and r.mimetype == PROBLEM
    bodies = [{k: v for k, v in r.json.items() if k != "instance"} for r in answers]
    assert bodies[0] == bodies[1] == bodies[2]


def test_public_submissions_are_rate_limited(settings, client, cid):
    from web import create_app

    app = create_app({**settings, "RATELIMIT_PUBLIC": "2 per minute"})
    c = app.test_client()
    body = {"kind": "feedback", "category": "other", "text": "hola"}
    codes = [c.post(f"/api/v1/consultations/{cid}/feedback", json=body).status_code
             for _ in range(3)]
    assert codes == [201, 201, 429]


def test_commitment_outside_consultiva_is_refused(client, cid, officer):
    r = client.post(f"/api/v1/consultations/{cid}/commitments", headers=officer,
                    json={"kind": "mitigation", "description": "x", "owner": "y",
                          "due_date": "2026-12-01"})
    assert r.status_code == 409 and r.json["field"] == "phase"


def test_notice_lead_time_and_fields(client, cid, officer, settings, monkeypatch):
    # Notices exist from acuerdos_previos on; preparacion has none.
    notice = {"community": "Tamazunchale", "starts_at": "2026-04-02T10:00:00-06:00",
              "place": "Auditorio", "meeting_language": "Español"}
    r = client.post(f"/api/v1/consultations/{cid}/notices", headers=officer, json=notice)
    assert r.status_code == 409 and r.json["field"] == "phase"
    # The body's shape is checked first: a body without the notice's fields is a 422.
    r = client.post(f"/api/v1/consultations/{cid}/notices", headers=officer, json={})
    assert r.status_code == 422 and r.json["field"] == "community"


def test_verify_and_record_exports(client, cid, officer):
    v = client.get(f"/api/v1/consultations/{cid}/verify", headers=officer).json
    assert v["ok"] and v["length"] == 1
    rec = client.get(f"/api/v1/consultations/{cid}/record.json", headers=officer).json
    assert rec["events"][0]["kind"] == "consultation_opened"
    assert rec["verification"]["ok"]
    pdf = client.get(f"/api/v1/consultations/{cid}/record.pdf", headers=officer)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")


def test_social_risk_endpoint(client, cid, officer):
    c = client.get(f"/api/v1/consultations/{cid}", headers=officer).json
    r = client.get(f"/api/v1/projects/{c['project_id']}/social-risk", headers=officer)
    assert r.status_code == 200
    assert r.json["social_risk"] == "medium" and r.json["phase"] == "preparacion"
    assert c["social_risk"] == "medium"
    assert client.get("/api/v1/projects/999999/social-risk", headers=officer).status_code == 404


# --- request schemas -------------------------------------------------------------------

#: (path under /api/v1/consultations/{cid}, raw JSON body, field the 422 problem names).
BAD_BODIES = [
    # NaN and Infinity are not JSON numbers (strict JSON, before the schema).
    ("", '{"project_id": NaN}', "project_id"),
    ("/commitments", '{"kind": "mitigation", "description": "x", "owner": "y", '
                     '"due_date": "2026-12-01", "amount_mxn": Infinity}', "amount_mxn"),
    # Wrong types.
    ("", '{"project_id": "1"}', "project_id"),
    ("", '{"project_id": true}', "project_id"),
    ("", '{"project_id": 1, "max_distance_km": "10"}', "max_distance_km"),
    ("", '{"project_id": 1, "known_indigenous_localities": "240370001"}',
     "known_indigenous_localities"),
    ("/phase", '{"to_phase": 5}', "to_phase"),
    ("/evidence", '{"steps": "identify_communities"}', "steps"),
    ("/evidence", '{"steps": [1]}', "steps[0]"),
    ("/meetings", '{"held_at": "2026-03-02T10:00:00", "place": "Auditorio", '
                  '"attendance_count": 5}', "held_at"),
    ("/meetings", '{"held_at": "2026-03-02T10:00:00-06:00", "place": "Auditorio", '
                  '"attendance_count": 5.5}', "attendance_count"),
    ("/feedback", '{"kind": "feedback", "category": "other", "text": "x", "anonymous": "yes"}',
     "anonymous"),
    ("/feedback", '{"kind": "feedback", "category": "other", "text": "x", '
                  '"location": {"latitude": "norte", "longitude": -98.8}}', "location.latitude"),
    ("/feedback", '{"kind": "feedback", "category": "other", "text": "x", '
                  '"attachment": {"content_base64": "%%%"}}', "attachment"),
    ("/commitments", '{"kind": "mitigation", "description": "x", "owner": "y", '
                     '"due_date": "next year"}', "due_date"),
    ("/commitments/C-1/status", '{"status": "done"}', "status"),
    ("/subscribers", '{"email": "ana@example.org", "language": "fr"}', "language"),
    # Missing required fields.
    ("", "{}", "project_id"),
    ("/communities", '{"action": "add", "cvegeo": "240370005"}', "reason"),
    ("/communities", '{"action": "add", "cvegeo": "240370005", "reason": "   "}', "reason"),
    ("/feedback", '{"kind": "feedback", "category": "other"}', "text"),
    ("/phase", '{"reason": "x"}', "to_phase"),
    # Unknown fields.
    ("", '{"project_id": 1, "colour": "red"}', "colour"),
    ("/evidence", '{"step": ["identify_communities"]}', "step"),
    ("/feedback", '{"kind": "feedback", "category": "other", "text": "x", "nombre": "Ana"}',
     "nombre"),
    ("/subscribers", '{"email": "ana@example.org", "sms": true}', "sms"),
    # Not an object.
    ("/phase", '["acuerdos_previos"]', "body"),
]


@pytest.mark.parametrize(("path", "raw", "field"), BAD_BODIES)
def test_bad_bodies_are_422_naming_the_field_and_store_nothing(client, cid, officer, settings,
                                                               path, raw, field):
    from fondo.consultation.models import (
        ConsultationEvent,
        ConsultationFeedback,
        ConsultationSubscriber,
    )

    before = [_count(settings, m) for m in (ConsultationEvent, ConsultationFeedback,
                                            ConsultationSubscriber)]
    r = client.post(f"/api/v1/consultations{'/' + str(cid) if path else ''}{path}", data=raw,
                    content_type="application/json", headers=officer)
    assert r.status_code == 422 and r.mimetype == PROBLEM, r.get_data(as_text=True)
    assert r.json["field"] == field, r.json
    after = [_count(settings, m) for m in (ConsultationEvent, ConsultationFeedback,
                                           ConsultationSubscriber)]
    assert after == before


def test_the_role_is_checked_before_the_body(client, cid, auth_headers):
    r = client.post(f"/api/v1/consultations/{cid}/phase", data="{NaN",
                    content_type="application/json", headers=auth_headers("investor"))
    assert r.status_code == 403


def test_openapi_documents_every_request_body(client):
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    posts = {path: ops["post"] for path, ops in doc["paths"].items()
             if path.startswith("/api/v1/consultations") and "post" in ops
             and not path.endswith("/deliver")}
    assert len(posts) == 17  # 12 of version 1, 5 of version 2 (issue 13)
    for path, op in posts.items():
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[-1]]
        assert schema["additionalProperties"] is False, path
    feedback = posts["/api/v1/consultations/{consultation_id}/feedback"]["requestBody"]
    assert "multipart/form-data" in feedback["content"]
    created = schemas["ConsultationRequest"]
    assert created["required"] == ["project_id"]
    assert created["properties"]["max_distance_km"]["maximum"] == 50.0


def test_subscribers_are_listed_to_officers_only(client, cid, officer, auth_headers):
    """Subscribers' addresses are community members' personal data: officers and admins
    read them, analysts and investors get 403, nobody anonymous, the portal never."""
    for body in ({"email": "ana@example.org"}, {"phone": "+524831234567", "language": "en"}):
        assert client.post(f"/api/v1/consultations/{cid}/subscribers",
                           json=body).status_code == 201
    url = f"/api/v1/consultations/{cid}/subscribers"
    for headers in (officer, auth_headers("admin")):
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.json
        assert r.json["subscriber_count"] == 2
        assert [(s["email"], s["phone"], s["channels"]) for s in r.json["subscribers"]] == [
            (None, "+524831234567", ["sms"]), ("ana@example.org", None, ["email"])]
    for role in ("analyst", "investor"):
        r = client.get(url, headers=auth_headers(role))
        assert r.status_code == 403 and r.mimetype == PROBLEM
        assert "ana@example.org" not in r.get_data(as_text=True)
    r = client.get(url)
    assert r.status_code == 401 and r.mimetype == PROBLEM
    r = client.get("/api/v1/consultations/999999/subscribers", headers=officer)
    assert r.status_code == 404 and r.mimetype == PROBLEM
    portal = client.get(f"/consulta/{cid}").get_data(as_text=True)
    assert "ana@example.org" not in portal and "4831234567" not in portal


def test_openapi_documents_the_subscribers_listing(client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/api/v1/consultations/{consultation_id}/subscribers"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    listing = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(listing["properties"]) == {"consultation_id", "subscriber_count", "subscribers"}
    assert {"401", "403", "404"} <= set(op["responses"])
