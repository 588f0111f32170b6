"""The officers' consultation desk (``/desk``): the list, a consultation's page with its
phase and missing items, the queue (overdue first) and its actions, refusals that store
nothing, and roles."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from fondo.consultation import clock as consultation_clock
from fondo.consultation import service as cs
from fondo.db import session_scope
from test_portal_phone import SUBMITTED, make_consultation

#: The protocol's acknowledgement SLA is counted in working days from submission; 60
#: calendar days later every acknowledgement and answer deadline of the protocol has passed.
LATER = SUBMITTED + dt.timedelta(days=60)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _sign_in(client, make_user, role="officer"):
    email, password, _ = make_user(role)
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": email, "password": password,
                                "csrf_token": _csrf(page)})
    return email


def _submit(settings, monkeypatch, cid, text, kind="grievance", when=SUBMITTED):
    monkeypatch.setattr(consultation_clock, "clock", lambda: when)
    with session_scope(settings) as session:
        out, _ = cs.submit_feedback(session, settings, cid, {
            "kind": kind, "category": "water_and_environment", "text": text,
            "language": "es", "anonymous": True})
    return out["receipt_code"]


@pytest.fixture
def desk(settings, monkeypatch):
    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED)
    cid = make_consultation(settings)
    return cid


def _feedback_id(settings, cid, code):
    with session_scope(settings) as session:
        items = cs.list_feedback(session, cid)["feedback"]
    return next(i["id"] for i in items if i["receipt_code"] == code)


def test_the_queue_puts_overdue_first_and_flags_it(client, settings, make_user, desk,
                                                    monkeypatch):
    cid = desk
    old = _submit(settings, monkeypatch, cid, "<b>pozo</b> seco", when=SUBMITTED)
    new = _submit(settings, monkeypatch, cid, "ruido", kind="feedback", when=LATER - dt.timedelta(days=1))
    monkeypatch.setattr(consultation_clock, "clock", lambda: LATER)
    _sign_in(client, make_user)
    page = client.get(f"/desk/{cid}?lang=en").get_data(as_text=True)
    assert page.index(old) < page.index(new)  # overdue first, though submitted first too
    first = page[page.index(f"Receipt {old}"):page.index(f"Receipt {new}")]
    assert "OVERDUE" in first
    assert "OVERDUE" not in page[page.index(f"Receipt {new}"):page.index('id="commitments"')]
    # user-typed text is escaped
    assert "&lt;b&gt;pozo&lt;/b&gt;" in page and "<b>pozo</b>" not in page
    listing = client.get("/desk/?lang=en").get_data(as_text=True)
    assert f"/desk/{cid}" in listing


def test_queue_order_by_hand():
    from web.desk_pages import queue_order

    items = [{"id": 1, "status": "closed", "overdue": False, "answer_due_at": "2026-01-01"},
             {"id": 2, "status": "received", "overdue": False, "answer_due_at": "2026-03-01"},
             {"id": 3, "status": "received", "overdue": True, "answer_due_at": "2026-05-01"},
             {"id": 4, "status": "acknowledged", "overdue": False, "answer_due_at": "2026-02-01"}]
    assert [i["id"] for i in queue_order(items)] == [3, 4, 2, 1]


def test_an_officer_acknowledges_then_answers_and_the_receipt_shows_it(
        client, settings, make_user, desk, monkeypatch):
    cid = desk
    code = _submit(settings, monkeypatch, cid, "¿Habrá empleo local?")
    fid = _feedback_id(settings, cid, code)
    _sign_in(client, make_user)
    page = client.get(f"/desk/{cid}").get_data(as_text=True)
    token = _csrf(page)
    r = client.post(f"/desk/{cid}/feedback/{fid}", data={"action": "acknowledge",
                                                         "csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/desk/{cid}#feedback-{fid}")
    r = client.post(f"/desk/{cid}/feedback/{fid}", data={
        "action": "answer", "public_answer": "Sí: 40 puestos locales.", "csrf_token": token})
    assert r.status_code == 303
    receipt = client.get(f"/consulta/recibo?codigo={code}").get_data(as_text=True)
    assert "Sí: 40 puestos locales." in receipt
    with session_scope(settings) as session:
        item = cs.feedback_by_receipt(session, code)
    assert item["status"] == "answered"


@pytest.mark.parametrize(("data", "expected"), [
    ({"action": "answer"}, "public_answer"),          # an answer needs its text
    ({"action": "escalate"}, "reason"),               # an escalation needs its reason
    ({"action": "shred"}, "action"),                  # unknown action
])
def test_a_refused_action_is_told_beside_the_item_and_stores_nothing(
        client, settings, make_user, desk, data, expected, monkeypatch):
    cid = desk
    code = _submit(settings, monkeypatch, cid, "polvo")
    fid = _feedback_id(settings, cid, code)
    _sign_in(client, make_user)
    with session_scope(settings) as session:
        events_before = cs.get_consultation(session, settings, cid)["event_count"]
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    r = client.post(f"/desk/{cid}/feedback/{fid}?lang=en", data={**data, "csrf_token": token})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    block = page[page.index(f'id="feedback-{fid}"'):]
    assert 'role="alert"' in block[:3000] and expected in block[:3000]
    with session_scope(settings) as session:
        assert cs.feedback_by_receipt(session, code)["status"] == "received"
        assert cs.get_consultation(session, settings, cid)["event_count"] == events_before


def test_closing_twice_is_a_conflict_named_on_the_page(client, settings, make_user, desk, monkeypatch):
    cid = desk
    code = _submit(settings, monkeypatch, cid, "camino")
    fid = _feedback_id(settings, cid, code)
    _sign_in(client, make_user)
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    assert client.post(f"/desk/{cid}/feedback/{fid}", data={
        "action": "answer", "public_answer": "Se repara en mayo.", "csrf_token": token,
    }).status_code == 303
    assert client.post(f"/desk/{cid}/feedback/{fid}",
                       data={"action": "close", "csrf_token": token}).status_code == 303
    r = client.post(f"/desk/{cid}/feedback/{fid}", data={"action": "close", "csrf_token": token})
    assert r.status_code == 409


def test_the_phase_section_lists_what_is_missing_and_a_refused_move_stores_nothing(
        client, settings, make_user, desk, monkeypatch):
    cid = desk
    _sign_in(client, make_user)
    with session_scope(settings) as session:
        c = cs.get_consultation(session, settings, cid)
    page = client.get(f"/desk/{cid}?lang=en").get_data(as_text=True)
    for step in c["missing_for_next_phase"]["steps"]:
        assert f'value="{step}"' in page
    token = _csrf(page)
    r = client.post(f"/desk/{cid}/phase?lang=en",
                    data={"to_phase": c["allowed_moves"][0], "csrf_token": token})
    assert r.status_code == 409
    assert 'id="phase-error"' in r.get_data(as_text=True)
    with session_scope(settings) as session:
        assert cs.get_consultation(session, settings, cid)["phase"] == c["phase"]
    # evidence recorded from the form is then no longer missing
    step = c["missing_for_next_phase"]["steps"][0]
    r = client.post(f"/desk/{cid}/evidence", data={"steps": [step], "document": "acta-1.pdf",
                                                   "csrf_token": token})
    assert r.status_code == 303
    with session_scope(settings) as session:
        assert step not in cs.get_consultation(session, settings, cid)[
            "missing_for_next_phase"]["steps"]
    r = client.post(f"/desk/{cid}/evidence", data={"steps": ["not_a_step"],
                                                   "csrf_token": token})
    assert r.status_code in (409, 422)


@pytest.mark.parametrize("role", ["investor", "analyst"])
def test_only_officers_work_the_desk(client, make_user, desk, role):
    _sign_in(client, make_user, role)
    assert client.get(f"/desk/{desk}").status_code == 403
    assert client.get("/desk/").status_code == 403


def test_the_desk_needs_a_sign_in(client, desk):
    r = client.get(f"/desk/{desk}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


#: Templates and views of the work pages (desk, pipeline, finance, investor).
WORK_PAGE_SOURCES = ["web/templates/desk/*.html", "web/templates/finance/*.html",
                     "web/templates/pipeline/*.html", "web/templates/investor/*.html",
                     "web/desk_pages.py", "web/finance_pages.py", "web/pipeline_pages.py",
                     "web/investor_pages.py"]


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_every_work_page_string_has_its_translation(lang):
    """Each msgid of the work pages is translated (catalogue or a feature table), and each
    translation keeps the msgid's ``%(name)s`` variables."""
    from pathlib import Path

    from babel.messages.extract import extract
    from babel.messages.pofile import read_po

    from web.translations import strings_consultation, strings_investor, strings_pages
    from web.work_labels import WORK_VALUE_MSGIDS

    root = Path(__file__).resolve().parents[2]
    found: set[str] = {m for kind in WORK_VALUE_MSGIDS.values() for m in kind.values()}
    for pattern in WORK_PAGE_SOURCES:
        for path in sorted(root.glob(pattern)):
            method = "python" if path.suffix == ".py" else "jinja2"
            with path.open("rb") as fh:
                for _line, message, _c, _x in extract(
                        method, fh, keywords={"_": None, "gettext": None, "page_gettext": None},
                        options={"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}):
                    if isinstance(message, str) and message:
                        found.add(message)
    assert len(found) > 200
    with (root / f"web/translations/{lang}/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = {m.id for m in read_po(fh) if m.id and m.string}
    tables = {}
    for module in (strings_pages, strings_consultation, strings_investor):
        tables.update(getattr(module, lang.upper()))
    assert sorted(m for m in found if m not in catalogue and m not in tables) == []
    mine = getattr(strings_investor, lang.upper())
    for msgid, text in mine.items():
        assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", text)), msgid


def test_a_meeting_and_its_minutes_are_recorded_in_the_communitys_time(
        client, settings, make_user, desk):
    cid = desk
    _sign_in(client, make_user)
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    with session_scope(settings) as session:
        before = cs.get_consultation(session, settings, cid)["event_count"]
    form = {"held_at": "2026-03-02T10:00", "place": "Auditorio municipal",
            "attendance_count": "40", "attendance_women": "22", "attendance_men": "18",
            "minutes_reference": "acta-2026-03-02.pdf", "csrf_token": token}
    for change, field in (({"attendance_count": "cuarenta"}, "attendance_count"),
                          ({"place": ""}, "place"), ({"held_at": "ayer"}, "held_at")):
        r = client.post(f"/desk/{cid}/meetings?lang=en", data={**form, **change})
        assert r.status_code == 422, field
        page = r.get_data(as_text=True)
        assert 'id="meeting-error"' in page and field in page
    with session_scope(settings) as session:
        assert cs.get_consultation(session, settings, cid)["event_count"] == before
    r = client.post(f"/desk/{cid}/meetings", data=form)
    assert r.status_code == 303, r.get_data(as_text=True)[-2000:]
    record = client.get(f"/api/v1/consultations/{cid}/record.json").get_json()
    meeting = [e for e in record["events"] if e["kind"] == "meeting_held"][-1]
    # Tamazunchale, San Luis Potosí keeps central Mexico's time: UTC-06:00 in March 2026
    assert meeting["payload"]["held_at"] == "2026-03-02T10:00:00-06:00"
    assert meeting["payload"]["minutes_reference"] == "acta-2026-03-02.pdf"


def test_a_commitment_is_followed_up_from_the_desk(client, settings, make_user):
    from fondo.seed import seed_demo

    with session_scope(settings) as session:  # the demo: a consultation in seguimiento
        seed_demo(session)
    with session_scope(settings) as session:
        cs.seed_demo_consultation(session, settings)
    with session_scope(settings) as session:
        (consultation,) = cs.list_consultations(session, settings)["consultations"]
        cid = consultation["id"]
        (kept,) = cs.list_commitments(session, cid)["commitments"]
    kid = kept["commitment_id"]
    _sign_in(client, make_user)
    page = client.get(f"/desk/{cid}").get_data(as_text=True)
    assert f'id="commitment-{kid}"' in page
    token = _csrf(page)
    r = client.post(f"/desk/{cid}/commitments/{kid}?lang=en",
                    data={"status": "cancelled", "csrf_token": token})
    assert r.status_code == 422 and "reason" in r.get_data(as_text=True)
    with session_scope(settings) as session:
        assert cs.list_commitments(session, cid)["commitments"][0]["status"] == kept["status"]
    r = client.post(f"/desk/{cid}/commitments/{kid}",
                    data={"status": "fulfilled", "csrf_token": token})
    assert r.status_code == 303
    with session_scope(settings) as session:
        (row,) = cs.list_commitments(session, cid)["commitments"]
    assert row["status"] == "fulfilled"


def test_the_subscribers_are_listed_to_an_officer(app, client, settings, make_user, desk):
    cid = desk
    with session_scope(settings) as session:
        cs.subscribe(session, cid, {"email": "ana@example.org"})
        cs.subscribe(session, cid, {"phone": "+524831234567", "language": "en"})
    _sign_in(client, make_user)
    page = client.get(f"/desk/{cid}").get_data(as_text=True)
    section = page[page.index('id="subscribers"'):page.index('id="record"')]
    assert "Suscriptores" in section and "2 personas reciben los avisos" in section
    assert section.index("+524831234567") < section.index("ana@example.org")  # newest first
    assert 'href="#subscribers"' in page
    for role in ("analyst", "investor"):
        other = app.test_client()
        _sign_in(other, make_user, role)
        r = other.get(f"/desk/{cid}")
        assert r.status_code == 403 and "ana@example.org" not in r.get_data(as_text=True)


#: The notice form as an officer fills it: the meeting in the community's local time.
NOTICE_FORM = {"community": "Tamazunchale", "starts_at": "2026-04-02T10:00",
               "ends_at": "2026-04-02T14:00", "place": "Auditorio municipal",
               "meeting_language": "Náhuatl"}


@pytest.fixture
def in_acuerdos(settings, monkeypatch):
    """A consultation in acuerdos previos (a phase with a public notice), 22 March 2026."""
    from consultation_support import complete_phase

    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED)
    cid = make_consultation(settings)
    later = SUBMITTED + dt.timedelta(days=20)
    monkeypatch.setattr(consultation_clock, "clock", lambda: later)
    with session_scope(settings) as session:
        complete_phase(session, settings, cid)
        cs.change_phase(session, settings, cid, {"to_phase": "acuerdos_previos"}, "ana")
    return cid


def _stored(settings, cid) -> tuple[int, int]:
    """(notices, events) of the consultation."""
    with session_scope(settings) as session:
        return (len(cs.list_notices(session, cid)["notices"]),
                cs.get_consultation(session, settings, cid)["event_count"])


def test_an_officer_publishes_a_notice_and_sends_it_to_the_subscribers(
        client, settings, make_user, in_acuerdos):
    cid = in_acuerdos
    with session_scope(settings) as session:
        cs.subscribe(session, cid, {"phone": "+524831234567"})
    _sign_in(client, make_user)
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    r = client.post(f"/desk/{cid}/notices", data={**NOTICE_FORM, "csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/desk/{cid}#notices")
    with session_scope(settings) as session:
        (notice,) = cs.list_notices(session, cid)["notices"]
    # typed as Tamazunchale's local time: UTC-06:00 in April 2026
    assert dt.datetime.fromisoformat(notice["starts_at"]) == dt.datetime(
        2026, 4, 2, 16, 0, tzinfo=dt.timezone.utc)
    assert notice["place"] == "Auditorio municipal" and notice["meeting_language"] == "Náhuatl"
    nid = notice["id"]
    page = client.get(f"/desk/{cid}").get_data(as_text=True)
    assert f'id="notice-{nid}"' in page and f"/desk/{cid}/notices/{nid}/deliver" in page
    for _ in range(2):  # the second time, the subscriber already served is skipped
        r = client.post(f"/desk/{cid}/notices/{nid}/deliver", data={"csrf_token": token})
        assert r.status_code == 303
        assert r.headers["Location"].endswith(f"/desk/{cid}#notice-{nid}")
    with session_scope(settings) as session:
        deliveries = cs.list_deliveries(session, cid, nid)["deliveries"]
    assert [(d["channel"], d["recipient"], d["status"]) for d in deliveries] == [
        ("sms", "+524831234567", "queued")]
    section = client.get(f"/desk/{cid}").get_data(as_text=True)
    section = section[section.index(f'id="notice-{nid}"'):section.index('id="subscribers"')]
    assert "+524831234567" in section and "queued" in section


@pytest.mark.parametrize(("change", "field"), [
    ({"place": ""}, "place"),                         # required
    ({"starts_at": "mañana"}, "starts_at"),           # not a time
    ({"starts_at": "2026-03-24T10:00"}, "starts_at"),  # less than the protocol's lead time
    ({"ends_at": "2026-04-02T09:00"}, "ends_at"),     # ends before it starts
])
def test_a_refused_notice_is_told_beside_the_form_and_stores_nothing(
        client, settings, make_user, in_acuerdos, change, field):
    cid = in_acuerdos
    _sign_in(client, make_user)
    before = _stored(settings, cid)
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    form = {**NOTICE_FORM, "community": "<b>Tamazunchale</b>", **change, "csrf_token": token}
    r = client.post(f"/desk/{cid}/notices?lang=en", data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    error = page[page.index('id="notice-error"'):]
    assert f"({field})" in error[:error.index("</div>")]
    # what was typed is given back, escaped
    assert 'value="&lt;b&gt;Tamazunchale&lt;/b&gt;"' in page and "<b>Tamazunchale" not in page
    assert _stored(settings, cid) == before


def test_the_notice_forms_need_their_csrf_token_and_an_officer(
        app, client, settings, make_user, in_acuerdos):
    cid = in_acuerdos
    _sign_in(client, make_user)
    before = _stored(settings, cid)
    assert client.post(f"/desk/{cid}/notices", data=NOTICE_FORM).status_code == 400
    assert _stored(settings, cid) == before
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    assert client.post(f"/desk/{cid}/notices",
                       data={**NOTICE_FORM, "csrf_token": token}).status_code == 303
    with session_scope(settings) as session:
        cs.subscribe(session, cid, {"phone": "+524831234567"})
        (notice,) = cs.list_notices(session, cid)["notices"]
    deliver = f"/desk/{cid}/notices/{notice['id']}/deliver"
    assert client.post(deliver).status_code == 400
    for role in ("analyst", "investor"):
        other = app.test_client()
        login = other.get("/login").get_data(as_text=True)
        _sign_in(other, make_user, role)
        token = _csrf(login)
        assert other.post(f"/desk/{cid}/notices",
                          data={**NOTICE_FORM, "csrf_token": token}).status_code == 403
        assert other.post(deliver, data={"csrf_token": token}).status_code == 403
    anonymous = app.test_client()
    r = anonymous.post(deliver, data={"csrf_token": _csrf(anonymous.get("/login").get_data(
        as_text=True))})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    with session_scope(settings) as session:
        assert len(cs.list_notices(session, cid)["notices"]) == 1
        assert cs.list_deliveries(session, cid, notice["id"])["deliveries"] == []


def test_protocol_v2_refuses_a_notice_without_the_agreed_language_version(
        client, settings, make_user, in_acuerdos, monkeypatch):
    """In informativa, with Nahuatl agreed, the notice needs its Nahuatl version (given
    through the API): the form shows the protocol's refusal and stores nothing."""
    from consultation_support import agree_nahuatl, complete_phase

    cid = in_acuerdos
    with session_scope(settings) as session:
        agree_nahuatl(session, settings, cid, "2026-03-22")
        complete_phase(session, settings, cid)
    later = SUBMITTED + dt.timedelta(days=31)  # 2 April 2026: acuerdos previos lasted 11 days
    monkeypatch.setattr(consultation_clock, "clock", lambda: later)
    with session_scope(settings) as session:
        cs.change_phase(session, settings, cid, {"to_phase": "informativa"}, "ana")
    _sign_in(client, make_user)
    before = _stored(settings, cid)
    token = _csrf(client.get(f"/desk/{cid}").get_data(as_text=True))
    r = client.post(f"/desk/{cid}/notices?lang=en", data={
        **NOTICE_FORM, "starts_at": "2026-04-20T10:00", "ends_at": "", "csrf_token": token})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    error = page[page.index('id="notice-error"'):]
    error = error[:error.index("</div>")]
    assert "Náhuatl" in error and "(community_language_versions)" in error
    assert _stored(settings, cid) == before


def _consultation_ids(settings) -> list[int]:
    with session_scope(settings) as session:
        return [c["id"] for c in cs.list_consultations(session, settings)["consultations"]]


def test_an_officer_opens_a_consultation_from_the_list(app, client, settings, make_user,
                                                      monkeypatch):
    from consultation_support import make_project

    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED)
    huasteca = make_project(settings, (21.26274, -98.79152), "Parque <i>Huasteca</i>")
    candela = make_project(settings, (26.84028, -100.66389), "Parque Candela")  # type D, no one near
    _sign_in(client, make_user)
    page = client.get("/desk/?lang=en").get_data(as_text=True)
    assert f'<option value="{huasteca}">Parque &lt;i&gt;Huasteca&lt;/i&gt;' in page
    token = _csrf(page)
    assert client.post("/desk/", data={"project_id": str(huasteca)}).status_code == 400  # CSRF
    for role in ("analyst", "investor"):
        other = app.test_client()
        login = other.get("/login").get_data(as_text=True)
        _sign_in(other, make_user, role)
        assert other.post("/desk/", data={"project_id": str(huasteca),
                                          "csrf_token": _csrf(login)}).status_code == 403
    refusals = [({"project_id": str(huasteca), "max_distance_km": "80"}, 422, "max_distance_km"),
                ({"project_id": str(huasteca), "max_distance_km": "lejos"}, 422,
                 "max_distance_km"),
                ({"project_id": str(huasteca), "known_indigenous_localities": "2403 x"}, 422,
                 "known_indigenous_localities"),
                ({"project_id": "999999"}, 422, "project_id"),
                ({"project_id": str(candela), "max_distance_km": "5"}, 409, "project_id")]
    for data, status, field in refusals:
        r = client.post("/desk/?lang=en", data={**data, "csrf_token": token})
        assert r.status_code == status, (data, r.status_code)
        answer = r.get_data(as_text=True)
        error = answer[answer.index('id="open-error"'):]
        assert f"({field})" in error[:error.index("</div>")], data
        assert _consultation_ids(settings) == []
    r = client.post("/desk/", data={"project_id": str(huasteca), "csrf_token": token,
                                    "known_indigenous_localities": "240370005, 240370010"})
    assert r.status_code == 303
    (cid,) = _consultation_ids(settings)
    assert r.headers["Location"].endswith(f"/desk/{cid}")
    r = client.post("/desk/?lang=en", data={"project_id": str(huasteca), "csrf_token": token})
    assert r.status_code == 409 and "already has consultation" in r.get_data(as_text=True)
    r = client.post("/desk/", data={"project_id": str(candela), "max_distance_km": "5",
                                    "override_reason": "revisión voluntaria",
                                    "csrf_token": token})
    assert r.status_code == 303 and len(_consultation_ids(settings)) == 2
