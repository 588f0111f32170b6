"""Portal fixes for a community member: errors beside the field in the page's language,
local times, translated labels, links on the public base URL, a data manifest link."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess

import pytest
import shapely

from consultation_support import complete_phase

import fondo.consultation.clock as consultation_clock
import fondo.consultation.service as cs
from fondo.consultation.schemas import NoticeRequestSchema
from fondo.db import session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology
from fondo.request_body import load_request

UTC = dt.timezone.utc
TAMAZUNCHALE = (21.26274, -98.79152)
#: Submissions arrive at 16:00 UTC: 10:00 in central Mexico (UTC-06:00 since 2022).
SUBMITTED = dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC)



def make_consultation(settings) -> int:
    """A wind project's consultation near Tamazunchale, S.L.P."""
    lat, lon = TAMAZUNCHALE
    with session_scope(settings) as session:
        site = Site(name="s", technology=Technology.WIND, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        project = Project(name="Parque Eólico Huasteca", technology=Technology.WIND,
                          site_id=site.id)
        session.add(project)
        session.flush()
        return cs.create_consultation(session, settings, {"project_id": project.id}, "ana")["id"]


def publish_notice(settings, cid: int, monkeypatch) -> int:
    """Close the preparation phase (20 days later) and publish a meeting notice."""
    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED + dt.timedelta(days=20))
    with session_scope(settings) as session:
        complete_phase(session, settings, cid)  # protocol version 2's preparacion
        cs.change_phase(session, settings, cid, {"to_phase": "acuerdos_previos"}, "ana")
        notice = cs.publish_notice(session, settings, cid, load_request(NoticeRequestSchema(), {
            "community": "Tamazunchale", "starts_at": "2026-04-02T10:00:00-06:00",
            "ends_at": "2026-04-02T14:00:00-06:00", "place": "Auditorio municipal",
            "meeting_language": "Náhuatl"}), "ana")
    return notice["id"]


@pytest.fixture
def cid(settings, monkeypatch):
    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED)
    return make_consultation(settings)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _submit(client, cid, lang="es", **fields):
    page = client.get(f"/consulta/{cid}/opinion?lang={lang}").get_data(as_text=True)
    token = re.search(r'name="client_token" value="([^"]+)"', page).group(1)
    data = {"csrf_token": _csrf(page), "client_token": token, "kind": "feedback",
            "category": "other"} | fields
    return client.post(f"/consulta/{cid}/opinion?lang={lang}", data=data)


@pytest.mark.parametrize("lang, message, english", [
    ("es", "Escriba su mensaje", "is required"),
    ("fr", "Écrivez votre message", "is required"),
])
def test_missing_message_is_told_beside_the_field_in_the_page_language(
        client, cid, lang, message, english):
    response = _submit(client, cid, lang=lang, text="")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    beside = re.search(r'<textarea[^>]*aria-describedby="e-text"[^>]*>.*?</label>\s*'
                       r'<span class="field-message error" id="e-text">([^<]*)</span>',
                       page, re.S)
    assert beside is not None and message in beside.group(1)
    assert english not in page and "Missing data" not in page


@pytest.mark.parametrize("fields, field, message", [
    ({"email": "no-es-correo"}, "email", "Escriba un correo electrónico válido"),
    ({"latitude": "95", "longitude": "-98.8"}, "latitude", "Escriba la latitud y la longitud"),
], ids=["email", "location"])
def test_bad_field_is_marked_on_its_own_input_and_nothing_is_stored(
        client, cid, settings, fields, field, message):
    response = _submit(client, cid, text="Hola", **fields)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert f'aria-describedby="e-{field}"' in page
    beside = re.search(rf'<span class="field-message error" id="e-{field}">([^<]*)', page)
    assert beside is not None and message in beside.group(1)
    with session_scope(settings) as session:
        assert cs.public_feedback_list(session, cid) == []


def test_receipt_time_is_the_community_local_time(client, cid):
    response = _submit(client, cid, text="Una pregunta sobre el camino")
    page = response.get_data(as_text=True)
    assert response.status_code == 201
    assert "10:00" in page and "(UTC-06:00)" in page
    assert "16:00" not in page and " UTC<" not in page


def test_french_pages_translate_the_protocol_labels(client, cid):
    page = html.unescape(client.get(f"/consulta/{cid}?lang=fr").get_data(as_text=True))
    assert "Préparation (plan de consultation)" in page and "Accords préalables" in page
    form = html.unescape(client.get(f"/consulta/{cid}/opinion?lang=fr").get_data(as_text=True))
    assert "Terres et territoire" in form


def _poster_text(client, cid, notice_id, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = client.get(f"/consulta/{cid}/avisos/{notice_id}/cartel.pdf")
    assert pdf.status_code == 200
    path = tmp_path / "poster.pdf"
    path.write_bytes(pdf.data)
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_poster_links_to_the_address_the_portal_was_reached_by(client, cid, settings,
                                                               tmp_path, monkeypatch):
    notice_id = publish_notice(settings, cid, monkeypatch)
    text = _poster_text(client, cid, notice_id, tmp_path)
    assert f"http://localhost/consulta/{cid}" in text and "127.0.0.1:5000" not in text


def test_poster_links_to_the_configured_public_base_url(settings, cid, tmp_path, monkeypatch):
    from web import create_app

    app = create_app(settings | {"PUBLIC_BASE_URL": "https://consulta.fondo.example"})
    notice_id = publish_notice(settings, cid, monkeypatch)
    text = _poster_text(app.test_client(), cid, notice_id, tmp_path)
    assert f"https://consulta.fondo.example/consulta/{cid}" in text


def test_unknown_values_are_shown_gracefully(app):
    from web.portal import label

    with app.test_request_context("/?lang=fr"):
        # a state added later with no French yet: its English label, not an error
        assert label("Estado futuro", "Future state") == "Future state"
    with app.test_request_context("/?lang=es"):
        assert label("Estado futuro", "Future state") == "Estado futuro"
