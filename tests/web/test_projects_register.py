"""``GET /api/v1/register``: the public register (issue 11 item 7), JSON and CSV, no
account, and nothing private in it: no personal data of community members, nothing of the
limited partners, no finance figure."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from fondo.db import session_scope
from fondo.fund.register import REGISTER_COLUMNS
from fondo.seed import seed_all

#: Personal data a community member gives with a named grievance (fictitious).
PERSON = {"name": "Rosa Privada Ejemplo", "email": "rosa.privada@example.org",
          "phone": "+524441234567", "text": "Texto privado: el camino pasa por mi parcela"}


@pytest.fixture
def demo(settings):
    """The demo fund, and a named grievance with contact details on its consultation."""
    from fondo.consultation.schemas import FeedbackRequestSchema
    from fondo.consultation.service import list_consultations, submit_feedback
    from fondo.request_body import load_request

    seed_all(settings, demo=True)
    with session_scope(settings) as session:
        [consultation] = list_consultations(session, settings)["consultations"]
        submit_feedback(session, settings, consultation["id"], load_request(
            FeedbackRequestSchema(), {"kind": "grievance", "category": "land_and_territory",
                                      "anonymous": False, **PERSON}))
    return consultation


def _private_strings(settings) -> list[str]:
    """Strings that must never appear: the person's data, the LPs', finance figures."""
    from fondo.finance.models import FinanceCase
    from fondo.fund.models import LimitedPartner, Site

    out = list(PERSON.values())
    with session_scope(settings) as session:
        for lp in session.scalars(select(LimitedPartner)):
            out += [lp.name, f"{lp.commitment_amount}", f"{lp.commitment_amount:.0f}"]
        for case in session.scalars(select(FinanceCase)):
            out += [f"{case.capex_usd}", f"{case.capex_usd:.0f}", f"{case.npv_usd}"]
        for site in session.scalars(select(Site)):
            lon, lat = site.geometry.exterior.coords[0]
            out += [f"{lon:.4f}", f"{lat:.4f}"]
    return out


def test_the_register_is_public_and_holds_nothing_private(client, settings, demo):
    response = client.get("/api/v1/register")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["columns"] == list(REGISTER_COLUMNS)
    assert all(list(row) == list(REGISTER_COLUMNS) for row in body["projects"])
    assert len(body["projects"]) == 4
    slp = next(p for p in body["projects"] if "San Luis" in p["name"])
    assert slp["consultation_status"] == "seguimiento"
    assert slp["stage"] == "financial_close" and slp["stage_label"] == "Cierre financiero"
    english = client.get("/api/v1/register?lang=en").json["projects"]
    assert {p["stage_label"] for p in english} >= {"Financial close", "Screening"}
    # the demo's anonymous grievance (answered) and the named one above (not yet)
    assert (slp["grievances_received"], slp["grievances_answered"]) == (2, 1)
    text = response.get_data(as_text=True)
    csv_text = client.get("/api/v1/register.csv").get_data(as_text=True)
    for secret in _private_strings(settings):
        assert secret not in text, secret
        assert secret not in csv_text, secret
    for word in ("capex", "irr", "dscr", "npv", "commitment", "email", "phone", "geometry"):
        assert word not in text.lower() and word not in csv_text.lower(), word


def test_csv_has_the_same_rows(client, settings, demo):
    as_json = client.get("/api/v1/register").json["projects"]
    response = client.get("/api/v1/register.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(REGISTER_COLUMNS)
    assert [(int(r["id"]), r["name"], r["stage"], float(r["capacity_ac_mw"]),
             int(r["grievances_received"])) for r in rows] == [
        (p["id"], p["name"], p["stage"], p["capacity_ac_mw"], p["grievances_received"])
        for p in as_json]
    negotiated = client.get("/api/v1/register", headers={"Accept": "text/csv"})
    assert negotiated.mimetype == "text/csv"
    assert negotiated.get_data(as_text=True) == response.get_data(as_text=True)


def test_a_name_that_a_spreadsheet_would_run_is_quoted(client, settings, auth_headers):
    from fund_support import add_fund

    with session_scope(settings) as session:
        fund_id = add_fund(session).id
    officer = auth_headers("officer")
    name = '=HYPERLINK("http://example.org","x")'
    created = client.post("/api/v1/projects", json={
        "name": name, "technology": "pv", "capacity_ac_mw": 10.0, "fund_id": fund_id},
        headers=officer)
    assert created.status_code == 201
    rows = list(csv.DictReader(io.StringIO(
        client.get("/api/v1/register.csv").get_data(as_text=True))))
    assert [r["name"] for r in rows] == ["'" + name]
    assert client.get("/api/v1/register").json["projects"][0]["name"] == name


def test_a_project_without_a_fund_is_not_in_the_register(client, auth_headers):
    officer = auth_headers("officer")
    client.post("/api/v1/projects", json={"name": "draft", "technology": "pv",
                                          "capacity_ac_mw": 5.0}, headers=officer)
    assert client.get("/api/v1/register").json["projects"] == []
