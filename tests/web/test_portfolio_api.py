"""``/api/v1/funds`` and ``/api/v1/portfolio`` (issue 11): money in and out as exact
decimals, bad input refused naming the field with nothing stored, investors limited to
their fund and their own LP, and ``fondo portfolio`` printing the API's JSON."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fondo.db import session_scope
from fondo.fund.ledger_models import Allocation, LedgerEntry
from fondo.fund.models import LimitedPartner

sys.path.insert(0, str(Path(__file__).parents[1] / "fondo"))
from portfolio_support import equity_of, make_project, make_study  # noqa: E402

FUND = {"name": "API fund", "base_currency": "USD", "vintage_year": 2026}
LP = {"name": "Pension", "country": "CA", "kind": "pension_fund",
      "commitment_amount": "137500000.00", "commitment_currency": "CAD", "fx_rate": "1.375",
      "fx_rate_date": "2026-11-27", "fx_source": "illustrative test rate"}


def count(settings, table) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(table))


@pytest.fixture
def officer(auth_headers):
    return auth_headers("officer")


@pytest.fixture
def fund(client, officer):
    response = client.post("/api/v1/funds", json=FUND, headers=officer)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def _lp(client, officer, fund_id, **change):
    return client.post(f"/api/v1/funds/{fund_id}/limited-partners", json=LP | change,
                       headers=officer)


def test_commitment_ledger_round_trip_exact(client, officer, fund):
    created = _lp(client, officer, fund["id"])
    assert created.status_code == 201, created.get_data(as_text=True)
    lp = created.json
    assert lp["commitment_amount"] == "137500000.00"
    assert lp["commitment_fund_currency"] == "100000000.00"
    assert lp["fx"] == {"from_currency": "CAD", "to_currency": "USD", "rate": "1.375",
                        "rate_date": "2026-11-27", "source": "illustrative test rate"}
    call = client.post(f"/api/v1/funds/{fund['id']}/ledger", headers=officer, json={
        "limited_partner_id": lp["id"], "kind": "capital_call", "amount": "0.30",
        "effective_date": "2026-11-30", "fx_rate": "1.375", "fx_rate_date": "2026-11-30"})
    assert call.status_code == 201, call.get_data(as_text=True)
    assert call.json["amount"] == "0.30" and call.json["amount_fund_currency"] == "0.22"
    listing = client.get(f"/api/v1/funds/{fund['id']}/limited-partners", headers=officer).json
    position = listing["limited_partners"][0]["position"]
    assert position["called"] == "0.30" and position["unfunded"] == "137499999.70"
    assert position["nav_share"] == "1.000000000000"


BAD = [
    ("negative commitment", {"commitment_amount": "-1.00"}, "commitment_amount"),
    ("unknown currency", {"commitment_currency": "ABC"}, "commitment_currency"),
    ("more decimals than the currency", {"commitment_amount": "100.001"}, "commitment_amount"),
    ("yen with decimals", {"commitment_currency": "JPY", "commitment_amount": 10.5}, "commitment_amount"),
    ("amount not a number", {"commitment_amount": True}, "commitment_amount"),
    ("unknown kind", {"kind": "hedge_fund"}, "kind"),
    ("no rate for another currency", {"fx_rate": None}, "fx_rate"),
]


@pytest.mark.parametrize(("label", "change", "field"), BAD, ids=[b[0] for b in BAD])
def test_bad_commitment_is_a_422_naming_the_field(client, officer, fund, settings, label,
                                                   change, field):
    response = _lp(client, officer, fund["id"], **change)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["field"] == field
    assert count(settings, LimitedPartner) == 0


def test_allocation_beyond_commitment_is_a_409_and_stores_nothing(client, officer, fund, settings):
    lp = _lp(client, officer, fund["id"], commitment_amount="13.75").json  # 10.00 USD
    with session_scope(settings) as session:
        project = make_project(session, fund["id"], "P")
        session.commit()
        pid = project.id
    response = client.post(f"/api/v1/funds/{fund['id']}/allocations", headers=officer, json={
        "project_id": pid, "tranche_kind": "equity", "amount": "10.01", "currency": "USD"})
    assert response.status_code == 409 and response.json["field"] == "amount"
    assert "commitments" in response.json["detail"]
    too_fine = client.post(f"/api/v1/funds/{fund['id']}/allocations", headers=officer, json={
        "project_id": pid, "tranche_kind": "equity", "amount": "1.001", "currency": "USD"})
    assert too_fine.status_code == 422 and too_fine.json["field"] == "amount"
    beyond = client.post(f"/api/v1/funds/{fund['id']}/ledger", headers=officer, json={
        "limited_partner_id": lp["id"], "kind": "capital_call", "amount": "13.76",
        "effective_date": "2026-11-30", "fx_rate": "1.375", "fx_rate_date": "2026-11-30"})
    assert beyond.status_code == 409 and beyond.json["field"] == "amount"
    assert count(settings, Allocation) == 0 and count(settings, LedgerEntry) == 0
    ok = client.post(f"/api/v1/funds/{fund['id']}/allocations", headers=officer, json={
        "project_id": pid, "tranche_kind": "equity", "amount": "10.00", "currency": "USD"})
    assert ok.status_code == 201 and ok.json["amount"] == "10.00"


def _investor(settings, make_user, lp_id):
    from fondo.accounts.service import link_limited_partner

    email, _password, token = make_user("investor")
    with session_scope(settings) as session:
        link_limited_partner(session, email, lp_id)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_an_investor_sees_their_fund_and_only_their_own_position(client, officer, fund,
                                                                 settings, make_user):
    mine = _lp(client, officer, fund["id"]).json
    other = _lp(client, officer, fund["id"], name="Other LP").json
    second = client.post("/api/v1/funds", json=FUND | {"name": "Other fund"}, headers=officer).json
    investor = _investor(settings, make_user, mine["id"])
    funds = client.get("/api/v1/funds", headers=investor).json["funds"]
    assert [f["id"] for f in funds] == [fund["id"]]
    assert client.get(f"/api/v1/funds/{second['id']}", headers=investor).status_code == 404
    lps = client.get(f"/api/v1/funds/{fund['id']}/limited-partners", headers=investor).json
    assert [x["id"] for x in lps["limited_partners"]] == [mine["id"]]
    for lp_id in (mine["id"], other["id"]):
        assert client.post(f"/api/v1/funds/{fund['id']}/ledger", headers=officer, json={
            "limited_partner_id": lp_id, "kind": "capital_call", "amount": "1.00",
            "effective_date": "2026-11-30", "fx_rate": "1.375",
            "fx_rate_date": "2026-11-30"}).status_code == 201
    entries = client.get(f"/api/v1/funds/{fund['id']}/ledger", headers=investor).json["entries"]
    assert [e["limited_partner_id"] for e in entries] == [mine["id"]]
    assert client.get(f"/api/v1/portfolio/lp/{mine['id']}", headers=investor).status_code == 200
    hidden = client.get(f"/api/v1/portfolio/lp/{other['id']}", headers=investor)
    assert hidden.status_code == 404 and "Other LP" not in hidden.get_data(as_text=True)
    assert client.get(f"/api/v1/portfolio/summary?fund_id={second['id']}",
                      headers=investor).status_code == 404
    summary = client.get("/api/v1/portfolio/summary", headers=investor)
    assert summary.status_code == 200 and summary.json["fund"]["id"] == fund["id"]
    assert "Other LP" not in summary.get_data(as_text=True)
    assert client.post(f"/api/v1/funds/{fund['id']}/ledger", headers=investor, json={
        "limited_partner_id": mine["id"], "kind": "distribution", "amount": "1.00",
        "effective_date": "2026-11-30", "fx_rate": "1.375",
        "fx_rate_date": "2026-11-30"}).status_code == 403
    analyst = {"Authorization": f"Bearer {make_user('analyst')[2]}"}
    assert client.get(f"/api/v1/portfolio/lp/{mine['id']}", headers=analyst).status_code == 403
    officer_view = client.get(f"/api/v1/portfolio/lp/{other['id']}", headers=officer)
    assert officer_view.status_code == 200


def test_summary_lists_capacity_and_equals_the_command(client, officer, fund, settings):
    from fondo.cli import main

    _lp(client, officer, fund["id"], commitment_amount="82500000.00")  # 60 M USD
    with session_scope(settings) as session:
        study = make_study(session, "pv", 96_000, {"model": 0.03, "interannual_variability": 0.04},
                           lat=22.0, lon=-102.0, station="766860")
        a = make_project(session, fund["id"], "=HYPERLINK(\"http://x\") <b>", capacity_mw=40.0,
                         study=study)
        make_project(session, fund["id"], "B", technology="wind", capacity_mw=120.0, case=False)
        session.commit()
        pid, equity = a.id, equity_of(session, a.id)
    client.post(f"/api/v1/funds/{fund['id']}/allocations", headers=officer, json={
        "project_id": pid, "tranche_kind": "equity", "amount": f"{equity:.2f}",
        "currency": "USD", "start_year": 2026})
    query = f"fund_id={fund['id']}&as_of_year=2027"
    api = client.get(f"/api/v1/portfolio/summary?{query}", headers=officer)
    assert api.status_code == 200, api.get_data(as_text=True)
    body = api.json
    assert [p["capacity_mw"] for p in body["projects"]] == [40.0, 120.0]
    assert body["capacity_mw"] == 160.0
    assert body["projects"][0]["name"] == '=HYPERLINK("http://x") <b>'  # text, as typed
    result = CliRunner().invoke(main, ["portfolio", "summary", "--fund-id", str(fund["id"]),
                                       "--as-of-year", "2027"], obj={"settings": settings})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body
    xlsx = client.get(f"/api/v1/portfolio/esg.xlsx?fund_id={fund['id']}&lang=es", headers=officer)
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["summary", "projects", "ifrs_s2"]
    summary_rows = {r[3]: r[1] for r in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary_rows["clean_energy_mwh_per_year"] == 96_000
    names = [row[1] for row in wb["projects"].iter_rows(min_row=2, values_only=True)]
    assert names[0] == "'=HYPERLINK(\"http://x\") <b>"  # a name is never a formula
    assert wb["projects"]["B2"].data_type == "s"
    esg = client.get(f"/api/v1/portfolio/esg?fund_id={fund['id']}", headers=officer).json
    assert esg["clean_energy_mwh_per_year"] == 96_000
    assert esg["avoided_tco2e_per_year"] == pytest.approx(96_000 * 0.438, rel=1e-12)
    assert esg["projects"][0]["pcaf_attribution"] == pytest.approx(
        equity / (equity + esg_debt(settings, pid)), rel=1e-6)


def esg_debt(settings, project_id):
    from fondo.finance import service as finance_service

    with session_scope(settings) as session:
        return finance_service.list_cases(session, project_id)[0].result["metrics"]["debt_usd"]


def test_cli_errors_are_one_line_and_store_nothing(settings, fund, tmp_path):
    from fondo.cli import main

    body = tmp_path / "lp.json"
    body.write_text(json.dumps(LP | {"commitment_amount": "-5"}))
    result = CliRunner().invoke(main, ["portfolio", "lp-create", str(fund["id"]), "--input",
                                       str(body)], obj={"settings": settings})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "commitment_amount" in result.stderr
    assert count(settings, LimitedPartner) == 0


def test_fund_montecarlo_runs_as_a_task_and_as_a_command(client, officer, fund, settings,
                                                         auth_headers):
    from fondo.cli import main

    _lp(client, officer, fund["id"], commitment_amount="82500000.00")
    with session_scope(settings) as session:
        a = make_project(session, fund["id"], "A")
        session.commit()
        pid, equity = a.id, equity_of(session, a.id)
    client.post(f"/api/v1/funds/{fund['id']}/allocations", headers=officer, json={
        "project_id": pid, "tranche_kind": "equity", "amount": f"{equity:.2f}", "currency": "USD"})
    body = {"fund_id": fund["id"], "draws": 200, "seed": 3}
    started = client.post("/api/v1/portfolio/montecarlo", json=body, headers=officer)
    assert started.status_code == 202, started.get_data(as_text=True)
    task = client.get(started.headers["Location"], headers=officer).json
    assert task["state"] == "SUCCESS" and task["kind"] == "portfolio_montecarlo"
    result = client.get(task["result_url"], headers=officer).json
    mc = result["montecarlo"]
    assert mc["n_draws"] == 200 and mc["gross_irr"]["p10"] <= mc["gross_irr"]["p90"]
    investor = auth_headers("investor")
    assert client.post("/api/v1/portfolio/montecarlo", json=body, headers=investor).status_code == 403
    bad = client.post("/api/v1/portfolio/montecarlo", json=body | {"draws": 0}, headers=officer)
    assert bad.status_code == 422 and bad.json["field"] == "draws"
    # the command runs the same task here and now: the same draws, the same numbers
    path = Path(settings["INSTANCE_PATH"]) / "mc.json"
    path.write_text(json.dumps(body))
    from fondo.config import load_settings

    out = CliRunner().invoke(main, ["portfolio", "montecarlo", "--input", str(path)],
                             obj={"settings": load_settings(settings)})
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["result"] == result
