"""The investor dashboard (``/fund``): its figures equal ``GET /api/v1/portfolio/summary``
and the investor's own ``GET /api/v1/portfolio/lp/<id>``; another LP's page is a 404, as in
the API; analysts are refused; downloads hold the same figures; names are escaped and
never formulas."""

from __future__ import annotations

import csv
import io
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from fondo.db import session_scope
from test_desk_pages import _sign_in

sys.path.insert(0, str(Path(__file__).parents[1] / "fondo"))
from portfolio_support import equity_of, make_project, make_study  # noqa: E402

FUND = {"name": "Fondo prueba", "base_currency": "USD", "vintage_year": 2026}
LP = {"name": "Pension", "country": "CA", "kind": "pension_fund",
      "commitment_amount": "137500000.00", "commitment_currency": "CAD", "fx_rate": "1.375",
      "fx_rate_date": "2026-11-27", "fx_source": "illustrative test rate"}
#: A user-typed project name that must stay text on the page and in the downloads.
HOSTILE_NAME = '=HYPERLINK("http://x") <b>'


@pytest.fixture
def portfolio(client, auth_headers, settings):
    officer = auth_headers("officer")
    fund = client.post("/api/v1/funds", json=FUND, headers=officer).json
    mine = client.post(f"/api/v1/funds/{fund['id']}/limited-partners", json=LP,
                       headers=officer).json
    other = client.post(f"/api/v1/funds/{fund['id']}/limited-partners",
                        json={"name": "Otro LP", "country": "MX", "kind": "development_bank",
                              "commitment_currency": "USD",
                              "commitment_amount": "50000000.00"}, headers=officer).json
    for lp_id, amount, fx in ((mine["id"], "13750000.00", "1.375"),
                              (other["id"], "5000000.00", None)):
        body = {"limited_partner_id": lp_id, "kind": "capital_call", "amount": amount,
                "effective_date": "2026-11-30"}
        if fx:
            body |= {"fx_rate": fx, "fx_rate_date": "2026-11-30"}
        assert client.post(f"/api/v1/funds/{fund['id']}/ledger", headers=officer,
                           json=body).status_code == 201
    with session_scope(settings) as session:
        study = make_study(session, "pv", 96_000, {"model": 0.03,
                                                   "interannual_variability": 0.04},
                           lat=22.0, lon=-102.0, station="766860")
        a = make_project(session, fund["id"], HOSTILE_NAME, capacity_mw=40.0, study=study)
        session.commit()
        pid, equity = a.id, equity_of(session, a.id)
    assert client.post(f"/api/v1/funds/{fund['id']}/allocations", headers=officer, json={
        "project_id": pid, "tranche_kind": "equity", "amount": f"{equity:.2f}",
        "currency": "USD", "start_year": 2026}).status_code == 201
    return fund, mine, other


def _investor(client, settings, make_user, lp_id):
    from fondo.accounts.service import link_limited_partner

    email = _sign_in(client, make_user, "investor")
    with session_scope(settings) as session:
        link_limited_partner(session, email, lp_id)
        session.commit()
    return email


def _figure(page: str, attribute: str, key: str) -> str:
    return re.search(rf'{attribute}="{key}" data-value="([^"]*)"', page).group(1)


def test_the_dashboard_shows_the_api_summary_and_the_own_lp_figures(
        client, settings, make_user, portfolio, auth_headers):
    fund, mine, other = portfolio
    _investor(client, settings, make_user, mine["id"])
    page = client.get("/fund?lang=en").get_data(as_text=True)
    api = client.application.test_client()
    officer = auth_headers("officer")
    summary = api.get(f"/api/v1/portfolio/summary?fund_id={fund['id']}", headers=officer).json
    for key in ("committed", "called", "distributed", "unfunded"):
        assert Decimal(_figure(page, "data-figure", key)) == Decimal(summary["ledger"][key])
    for key in ("nav", "irr", "tvpi", "dpi"):
        assert float(_figure(page, "data-figure", key)) == pytest.approx(
            summary["returns"]["net"][key], rel=1e-12)
    assert float(_figure(page, "data-figure", "capacity_mw")) == summary["capacity_mw"] == 40.0
    position = api.get(f"/api/v1/portfolio/lp/{mine['id']}", headers=officer).json
    for key in ("committed", "called", "distributed", "unfunded"):
        assert _figure(page, "data-lp-figure", key) == position["position"][key]
    # the LP's figures are in its own currency, formatted for the page's locale
    assert position["position"]["currency"] == "CAD"
    assert "CA$13,750,000.00" in page  # the call, 13 750 000 CAD (Babel, en)
    assert "Otro LP" not in page
    assert "=HYPERLINK(&#34;http://x&#34;) &lt;b&gt;" in page or \
        "=HYPERLINK(&quot;http://x&quot;) &lt;b&gt;" in page


def test_another_lps_page_is_a_404_and_the_own_is_shown(client, settings, make_user,
                                                         portfolio):
    fund, mine, other = portfolio
    _investor(client, settings, make_user, mine["id"])
    own = client.get(f"/fund/lp/{mine['id']}")
    assert own.status_code == 200
    hidden = client.get(f"/fund/lp/{other['id']}")
    assert hidden.status_code == 404 and "Otro LP" not in hidden.get_data(as_text=True)
    assert client.get(f"/fund?fund_id={fund['id'] + 999}").status_code == 404


def test_downloads_hold_the_figures_and_never_a_formula(client, settings, make_user,
                                                        portfolio, auth_headers):
    fund, mine, _other = portfolio
    _investor(client, settings, make_user, mine["id"])
    text = client.get("/fund/dashboard.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    committed = next(r for r in rows if r[0] == "fund" and r[2] == "committed")
    summary = client.application.test_client().get(
        f"/api/v1/portfolio/summary?fund_id={fund['id']}", headers=auth_headers("officer")).json
    assert committed[3] == summary["ledger"]["committed"]
    assert all(not r[1].startswith("=") for r in rows)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(client.get("/fund/dashboard.xlsx").data))
    names = {row[1] for row in book["dashboard"].iter_rows(min_row=2, values_only=True)}
    assert "'" + HOSTILE_NAME in names
    for name in ("cashflows", "montecarlo", "energy", "exposure"):
        svg = client.get(f"/fund/charts/{name}.svg")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml", name


def test_an_investor_without_an_lp_is_told_how_to_get_one(client, make_user):
    _sign_in(client, make_user, "investor")
    page = client.get("/fund?lang=en").get_data(as_text=True)
    assert "investor dashboard" in page and "GET /api/v1/finance/cases" in page


def test_analysts_do_not_see_lp_pages(client, make_user, portfolio):
    _fund, mine, _other = portfolio
    _sign_in(client, make_user, "analyst")
    assert client.get(f"/fund/lp/{mine['id']}").status_code == 403
    assert client.get("/fund").status_code == 403


def test_the_exposure_map_shows_the_funds_sites_as_their_centroids(client, settings,
                                                                    make_user, portfolio):
    import shapely

    from fondo.fund.models import Project, Site
    from fondo.orm import Technology

    fund, mine, _other = portfolio
    outline = shapely.box(-102.3, 22.0, -102.2, 22.1)
    with session_scope(settings) as session:
        site = Site(name="Sitio", technology=Technology.PV, geometry=outline)
        session.add(site)
        session.flush()
        project = session.query(Project).filter(Project.fund_id == fund["id"]).one()
        project.site_id = site.id
    _investor(client, settings, make_user, mine["id"])
    body = client.get("/fund/projects.geojson").get_json()
    (feature,) = body["features"]
    x, y = feature["geometry"]["coordinates"]
    assert (x, y) == pytest.approx((-102.25, 22.05))  # the box's centre, by hand
    assert feature["properties"]["name"] == HOSTILE_NAME
    assert set(feature["properties"]) == {"name", "technology", "capacity_mw", "state"}
    assert client.get(f"/fund/projects.geojson?fund_id={fund['id'] + 999}").status_code == 404


def test_each_projects_newest_monte_carlo_percentiles_are_on_the_dashboard(
        client, settings, make_user, portfolio):
    from fondo.finance import service as finance_service

    fund, mine, _other = portfolio
    with session_scope(settings) as session:
        (case,) = [c for c in finance_service.list_cases(session)
                   if c.project_id is not None]
        spec = finance_service.montecarlo_spec({"n_draws": 300, "capex_sigma": 0.1})
        _job, run = finance_service.create_montecarlo_run(session, case.id,
                                                          {"n_draws": 300,
                                                           "capex_sigma": 0.1})
        run.summary = finance_service.run_montecarlo_for_case(case.request, spec)
        p = next(iter(run.summary["equity_irr"].values()))
    _investor(client, settings, make_user, mine["id"])
    page = client.get("/fund?lang=en").get_data(as_text=True)
    expected = " / ".join(f"{100 * p[k]:,.2f} %" for k in ("p10", "p50", "p90"))
    assert expected in page


def test_an_empty_fund_in_another_currency_shows_what_it_has(client, make_user,
                                                              auth_headers):
    officer = auth_headers("officer")
    fund = client.post("/api/v1/funds", json=FUND | {"name": "Fondo MXN",
                                                     "base_currency": "MXN"},
                       headers=officer).json
    _sign_in(client, make_user, "officer")
    page = client.get(f"/fund?fund_id={fund['id']}")
    assert page.status_code == 200, page.get_data(as_text=True)[-1500:]
    assert "Fondo MXN" in page.get_data(as_text=True)
    for name in ("cashflows", "montecarlo", "energy", "exposure"):
        assert client.get(f"/fund/charts/{name}.svg?fund_id={fund['id']}").status_code in (
            200, 404), name
    assert client.get(f"/fund/dashboard.csv?fund_id={fund['id']}").status_code == 200
