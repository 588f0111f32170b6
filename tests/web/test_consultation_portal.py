"""Public portal ``/consulta/``: Spanish first, no account, escaped and redacted, printable."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
import shapely

import fondo.consultation.clock as consultation_clock
import fondo.consultation.service as cs
from fondo.consultation.schemas import NoticeRequestSchema
from consultation_support import complete_phase
from fondo.db import session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology
from fondo.request_body import load_request

UTC = dt.timezone.utc
TAMAZUNCHALE = (21.26274, -98.79152)
SCRIPT = "<script>document.title='pwned'</script>"


@pytest.fixture
def cid(settings, monkeypatch):
    monkeypatch.setattr(consultation_clock, "clock", lambda: dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    lat, lon = TAMAZUNCHALE
    with session_scope(settings) as session:
        site = Site(name="s", technology=Technology.WIND, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        project = Project(name="Parque Eólico Huasteca", technology=Technology.WIND,
                          site_id=site.id)
        session.add(project)
        session.flush()
        c = cs.create_consultation(session, settings, {"project_id": project.id}, "ana")
    return c["id"]


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _form(client, cid):
    page = client.get(f"/consulta/{cid}/opinion").get_data(as_text=True)
    token = re.search(r'name="client_token" value="([^"]+)"', page).group(1)
    return _csrf(page), token


def test_portal_is_spanish_first_and_lists_the_consultation(client, cid):
    page = client.get("/consulta/").get_data(as_text=True)
    assert '<html lang="es">' in page and "Consultas a las comunidades" in page
    assert "Parque Eólico Huasteca" in page and "Tamazunchale" in page
    detail = client.get(f"/consulta/{cid}").get_data(as_text=True)
    assert "Etapa actual" in detail and "Preparación (plan de consulta)" in detail
    english = client.get(f"/consulta/{cid}?lang=en").get_data(as_text=True)
    assert "Current phase" in english and "Preparation (consultation plan)" in english


def test_form_submission_without_account_gives_a_receipt_and_stores_once(client, cid, settings):
    csrf, token = _form(client, cid)
    data = {"csrf_token": csrf, "client_token": token, "kind": "grievance",
            "category": "water_and_environment", "text": "El pozo " + SCRIPT,
            "name": "Ana Hernández", "email": "ana@example.org", "phone": "4811234567",
            "attachment": (io.BytesIO(b"nota en texto plano\n"), "nota.txt", "text/plain")}
    first = client.post(f"/consulta/{cid}/opinion", data=data, content_type="multipart/form-data")
    assert first.status_code == 201
    page = first.get_data(as_text=True)
    code = html.unescape(re.search(r'class="code">([^<]+)<', page).group(1))
    assert SCRIPT not in page and "&lt;script&gt;" in page
    assert "ana@example.org" not in page and "Ana Hern" not in page
    data["attachment"] = (io.BytesIO(b"nota en texto plano\n"), "nota.txt", "text/plain")
    again = client.post(f"/consulta/{cid}/opinion", data=data, content_type="multipart/form-data")
    assert code in html.unescape(again.get_data(as_text=True))  # same client token: the same receipt
    with session_scope(settings) as session:
        assert len(cs.list_feedback(session, cid)["feedback"]) == 1
    lookup = client.get("/consulta/recibo", query_string={"codigo": code}).get_data(as_text=True)
    assert "recibido" in lookup and SCRIPT not in lookup and "ana@example.org" not in lookup
    public = client.get(f"/consulta/{cid}").get_data(as_text=True)
    assert "El pozo" not in public and "ana@example.org" not in public  # list shows no text


def test_form_errors_are_shown_and_nothing_stored(client, cid, settings):
    csrf, token = _form(client, cid)
    bad = client.post(f"/consulta/{cid}/opinion", content_type="multipart/form-data", data={
        "csrf_token": csrf, "client_token": token, "kind": "feedback", "category": "other",
        "text": "hola", "attachment": (io.BytesIO(b"MZ\x90\x00\x00\x01"), "virus.exe",
                                       "application/octet-stream")})
    assert bad.status_code == 422 and 'class="field-error"' in bad.get_data(as_text=True)
    no_csrf = client.post(f"/consulta/{cid}/opinion", data={"kind": "feedback", "text": "x"})
    assert no_csrf.status_code == 400
    with session_scope(settings) as session:
        assert cs.list_feedback(session, cid)["feedback"] == []
    missing = client.get("/consulta/recibo?codigo=ABCDE-FGHJK")
    assert missing.status_code == 404 and "Ningún envío tiene este folio" in missing.get_data(
        as_text=True)


def test_notice_page_poster_and_subscription(client, cid, settings, monkeypatch):
    start = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    monkeypatch.setattr(consultation_clock, "clock", lambda: start + dt.timedelta(days=20))
    with session_scope(settings) as session:
        complete_phase(session, settings, cid)  # protocol version 2's preparacion
        cs.change_phase(session, settings, cid, {"to_phase": "acuerdos_previos"}, "ana")
        n = cs.publish_notice(session, settings, cid, load_request(NoticeRequestSchema(), {
            "community": "Tamazunchale", "starts_at": "2026-04-02T10:00:00-06:00",
            "ends_at": "2026-04-02T14:00:00-06:00", "place": "Auditorio <b>municipal</b>",
            "meeting_language": "Náhuatl"}), "ana")
        cs.add_notice_translation(session, settings, cid, n["id"], {
            "language_name": "Náhuatl de la Huasteca", "language_code": "nhe",
            "title": "Tlanonotzaliztli", "body": "Texto del intérprete " + SCRIPT,
            "translated_by": "Intérprete comunitario"}, "ana")
    page = client.get(f"/consulta/{cid}/avisos/{n['id']}").get_data(as_text=True)
    assert "jueves 2 de abril de 2026" in page and "10:00 a 14:00" in page
    assert "Auditorio &lt;b&gt;municipal&lt;/b&gt;" in page and SCRIPT not in page
    assert "Traducción al Náhuatl de la Huasteca" in page and "@media print" in page
    pdf = client.get(f"/consulta/{cid}/avisos/{n['id']}/cartel.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    home = client.get(f"/consulta/{cid}").get_data(as_text=True)
    ok = client.post(f"/consulta/{cid}/suscribir",
                     data={"csrf_token": _csrf(home), "email": "vecina@example.org"})
    assert ok.status_code == 200 and "recibirá los avisos" in ok.get_data(as_text=True)


@pytest.mark.browser
def test_script_in_feedback_never_runs_in_a_browser(app, cid, backend):
    if backend != "sqlite":
        pytest.skip("one browser run is enough")
    from browser_support import browser_page, live_server

    with live_server(app) as base, browser_page() as page:
        page.goto(f"{base}/consulta/{cid}/opinion")
        page.fill("textarea[name=text]", "Hola " + SCRIPT)
        page.click("button[type=submit]")
        page.wait_for_selector(".code")
        assert page.title() != "pwned"
        assert SCRIPT in page.inner_text("blockquote")
