"""The Bar's desk scenario in a real browser (Debian chromium, Playwright): an officer
acknowledges and answers a grievance at the desk, and the community's receipt page shows
the answer; axe-core finds no serious or critical violation. Screenshots in
``test-artefacts/screenshots/desk/``."""

from __future__ import annotations

import pytest

from browser_support import live_server
from fondo.consultation import clock as consultation_clock
from fondo.consultation import service as cs
from fondo.db import session_scope
from test_pages_browser import _only_once, blocking_violations, browser, shoot
from test_portal_phone import SUBMITTED, make_consultation

pytestmark = pytest.mark.browser

ANSWER = "El parque no usará agua del pozo; habrá monitoreo trimestral."


def sign_in(page, base, email, password, next_url):
    page.goto(f"{base}/login?next={next_url}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{base}{next_url}")


def test_an_officer_acknowledges_and_answers_a_grievance_and_the_receipt_shows_it(
        app, settings, make_user, backend, monkeypatch):
    _only_once(backend)
    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED)
    cid = make_consultation(settings)
    with session_scope(settings) as session:
        out, _ = cs.submit_feedback(session, settings, cid, {
            "kind": "grievance", "category": "water_and_environment",
            "text": "¿Afectará el parque al pozo del ejido?", "language": "es",
            "anonymous": True})
        code = out["receipt_code"]
    email, password, _ = make_user("officer")
    with live_server(app) as base, browser() as page:
        sign_in(page, base, email, password, "/desk/")
        assert blocking_violations(page) == []
        shoot(page, "desk", "1-consultations")
        page.get_by_role("link", name=f"Consulta {cid}").click()
        page.wait_for_url(f"{base}/desk/{cid}")
        item = page.locator("article.item", has_text=code)
        assert "Recibido" in item.locator("h3").inner_text()
        assert blocking_violations(page) == []
        shoot(page, "desk", "2-consultation")
        item.get_by_role("radio", name="Acusar recibo").check()
        item.get_by_role("button", name=f"Aplicar a {code}").click()
        page.wait_for_url(f"{base}/desk/{cid}#feedback-*")
        item = page.locator("article.item", has_text=code)
        assert "Acusado de recibo" in item.locator("h3").inner_text()
        item.get_by_role("radio", name="Responder").check()
        item.get_by_role("textbox", name="Respuesta pública").fill(ANSWER)
        item.get_by_role("button", name=f"Aplicar a {code}").click()
        page.wait_for_load_state()
        item = page.locator("article.item", has_text=code)
        assert "Respondido" in item.locator("h3").inner_text()
        assert ANSWER in item.inner_text()
        shoot(page, "desk", "3-answered")
        page.goto(f"{base}/consulta/recibo?codigo={code}")
        assert ANSWER in page.content()
        assert blocking_violations(page) == []
        shoot(page, "desk", "4-receipt")
    with session_scope(settings) as session:
        assert cs.feedback_by_receipt(session, code)["status"] == "answered"
