"""A project walked from origination to operation through the API (issue 11 part A): the
real site check of a real place, a stored study linked and approved, a finance case and
its P90 case run by the finance engine, each gate met in turn; then the refusals."""

from __future__ import annotations

import copy

import pytest

from fondo.db import session_scope
from fund_support import CASE, CASE_TARGET_DSCR, CLEAR_SITE_LONLAT, add_fund, add_site, add_study


def test_walk_a_project_through_every_stage(client, settings, auth_headers):
    officer, analyst = auth_headers("officer"), auth_headers("analyst")
    with session_scope(settings) as session:
        fund_id = add_fund(session).id
        site_id = add_site(session, CLEAR_SITE_LONLAT, technology="wind").id
        study_id = add_study(session, site_id, technology="wind", p50=300_000.0,
                             p90=270_000.0).id
    project = client.post("/api/v1/projects", json={
        "name": "Parque eólico de prueba", "technology": "wind", "capacity_ac_mw": 99.0,
        "fund_id": fund_id, "site_id": site_id}, headers=officer).json
    url = f"/api/v1/projects/{project['id']}"

    def move(to, expect=201):
        response = client.post(url + "/transitions", json={"to": to, "reason": f"to {to}"},
                               headers=officer)
        assert response.status_code == expect, response.get_data(as_text=True)
        return response.json

    move("screening")
    refused = move("due_diligence", 409)
    assert [g["name"] for g in refused["unmet_gates"]] == ["site_check_passed",
                                                           "yield_study_stored",
                                                           "indigenous_identification_done"]
    check = client.post(url + "/site-check", headers=officer)
    assert check.status_code == 201 and check.json["checked_by"].startswith("officer-")
    read = client.get(url, headers=officer).json
    assert (read["state_key"], read["municipality_key"]) == ("28", "28037")  # INEGI keys
    linked = client.post(url + "/studies", json={"study_id": study_id}, headers=officer)
    assert linked.status_code == 201 and linked.json["studies"][0]["approved"] is False
    # Protocol version 2 (issue 13): the municipality's typology with indigenous population
    # near the site asks for a locality-level identification before due diligence; the fund
    # opens a consultation to record it (evidence and who decided, in the chain).
    refused = move("due_diligence", 409)
    assert [g["name"] for g in refused["unmet_gates"]] == ["indigenous_identification_done"]
    opened = client.post("/api/v1/consultations", json={"project_id": project["id"]},
                         headers=officer)
    assert opened.status_code == 201, opened.get_data(as_text=True)
    identified = client.post(f"/api/v1/consultations/{opened.json['id']}/identification", json={
        "outcome": "no_community_affected",
        "methods": ["inpi_catalogue", "census_speakers", "field_visit"],
        "evidence": [{"method": "inpi_catalogue", "reference": "Catálogo INPI, municipio"},
                     {"method": "census_speakers", "reference": "Censo 2020, ITER"},
                     {"method": "field_visit", "reference": "Informe de visita de campo"}],
        "decided_by": "Oficial del fondo", "reason": "sin comunidad en el área de influencia"},
        headers=officer)
    assert identified.status_code in (200, 201), identified.get_data(as_text=True)
    move("due_diligence")
    closed = client.post(f"/api/v1/consultations/{opened.json['id']}/phase", json={
        "to_phase": "cerrada_sin_afectacion", "reason": "identificación sin afectación"},
        headers=officer)
    assert closed.status_code in (200, 201), closed.get_data(as_text=True)
    move("consultation")
    refused = move("financial_close", 409)
    assert [g["name"] for g in refused["unmet_gates"]] == ["yield_study_approved",
                                                           "p90_dscr_covenant"]
    approved = client.post(f"{url}/studies/{study_id}/approval", json={"note": "IE report"},
                           headers=officer)
    assert approved.status_code == 201
    assert approved.json["studies"][0]["approved_by"].startswith("officer-")
    # CAPEX high enough that the gearing cap does not bind: the DSCR target does
    body = copy.deepcopy(CASE) | {"project_id": project["id"], "study_id": study_id,
                                  "capacity_mw": 99.0, "capex_usd": 150e6}
    del body["energy_p50_mwh"], body["energy_p90_mwh"]
    base = client.post("/api/v1/finance/cases", json=body, headers=analyst)
    assert base.status_code == 201, base.get_data(as_text=True)
    assert base.json["request"]["energy_p50_mwh"] == 300_000.0
    refused = move("financial_close", 409)
    assert [g["name"] for g in refused["unmet_gates"]] == ["p90_dscr_covenant"]
    p90 = client.post(url + "/p90-case", json={"case_id": base.json["id"]}, headers=officer)
    assert p90.status_code == 201, p90.get_data(as_text=True)
    assert p90.json["metrics"]["min_dscr"] == pytest.approx(CASE_TARGET_DSCR, rel=1e-9)
    closed = move("financial_close")
    assert all(g["passed"] for g in closed["gates"]) and len(closed["gates"]) == 8
    move("construction")
    move("operation")
    final = client.get(url, headers=analyst).json
    assert final["stage"] == "operation"
    assert [h["to"] for h in final["history"]] == [
        "origination", "screening", "due_diligence", "consultation", "financial_close",
        "construction", "operation"]
    assert all(h["by"].startswith("officer-") for h in final["history"])


def test_link_approve_and_p90_refusals(client, settings, auth_headers):
    officer = auth_headers("officer")
    with session_scope(settings) as session:
        site_id = add_site(session).id
        pv_study = add_study(session, site_id).id
        wind_study = add_study(session, site_id, technology="wind").id
    project = client.post("/api/v1/projects", json={
        "name": "P", "technology": "pv", "capacity_ac_mw": 10.0, "site_id": site_id},
        headers=officer).json
    url = f"/api/v1/projects/{project['id']}"
    for body, status, field in (({"study_id": 999_999}, 422, "study_id"),
                                ({"study_id": wind_study}, 422, "study_id"),
                                ({"study_id": "1"}, 422, "study_id")):
        response = client.post(url + "/studies", json=body, headers=officer)
        assert response.status_code == status and response.json["field"] == field, body
    not_linked = client.post(f"{url}/studies/{pv_study}/approval", headers=officer)
    assert not_linked.status_code == 404
    no_case = client.post(url + "/p90-case", json={"case_id": 999_999}, headers=officer)
    assert no_case.status_code == 422 and no_case.json["field"] == "case_id"
    no_site = client.post("/api/v1/projects", json={
        "name": "Q", "technology": "pv", "capacity_ac_mw": 10.0}, headers=officer).json
    refused = client.post(f"/api/v1/projects/{no_site['id']}/site-check", headers=officer)
    assert refused.status_code == 409 and refused.json["field"] == "site_id"
    mismatch = client.patch(url, json={"technology": "wind", "version": 1}, headers=officer)
    assert mismatch.status_code == 422 and mismatch.json["field"] == "site_id"
