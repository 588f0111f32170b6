"""Finance case pages (``/finance``): the short form, its defaults worked by hand, the
stored case equal to the API's for the same body, refusals beside their field with nothing
stored, the result page's tables, the Monte Carlo run page, and roles."""

from __future__ import annotations

import re

import pytest
from numpy.testing import assert_allclose
from sqlalchemy import func, select

from fondo.db import session_scope
from fondo.finance import service as svc
from fondo.fund.models import Project
from fondo.orm import Technology
from siting.parameters import PV_COSTS
from test_desk_pages import _csrf, _sign_in

#: A case typed without a project: capacity and energy given, the rest the form's defaults.
TYPED = {"name": "Caso escrito", "capacity_mw": "50", "energy_p50_mwh": "110000",
         "energy_p90_mwh": "100000", "capex_usd": "40000000", "opex_usd_per_kw_year": "22",
         "ppa_price_usd_per_mwh": "55", "ppa_term_years": "15", "merchant_price_usd_per_mwh": "45", "life_years": "25",
         "discount_rate": "0.08",
         "tranches-0-name": "Senior", "tranches-0-kind": "senior_debt", "tranches-0-rate": "0.068",
         "tranches-0-tenor_years": "15", "tranches-0-target_dscr": "1.35",
         "tranches-0-max_gearing": "0.7",
         "tranches-1-name": "Fondo", "tranches-1-kind": "equity", "tranches-1-share": "1"}
#: Relative tolerance of metrics compared between two runs of the same engine. [-]
SAME_ENGINE_RTOL = 1e-9


def _count(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(svc.FinanceCase))


def _project(settings, capacity_ac_mw=40.0) -> int:
    with session_scope(settings) as session:
        p = Project(name="Parque Solar Prueba", technology=Technology.PV,
                    capacity_ac_mw=capacity_ac_mw)
        session.add(p)
        session.flush()
        return p.id


def test_the_form_takes_capacity_and_sourced_costs_from_the_project(client, settings,
                                                                     make_user):
    pid = _project(settings, 40.0)
    _sign_in(client, make_user, "analyst")
    page = client.get(f"/finance/new?project_id={pid}").get_data(as_text=True)
    capex = re.search(r'id="f-capex_usd"[^>]*value="([^"]+)"', page).group(1)
    # IRENA 2024 PV installed cost 758 USD/kW × 40 000 kW, worked by hand: 30 320 000 USD
    assert float(capex) == pytest.approx(758.0 * 40_000.0) == pytest.approx(30_320_000.0)
    assert PV_COSTS.capital_cost_usd_per_kw == 758.0
    opex = re.search(r'id="f-opex_usd_per_kw_year"[^>]*value="([^"]+)"', page).group(1)
    assert float(opex) == PV_COSTS.fixed_operating_cost_usd_per_kw_year
    capacity = re.search(r'id="f-capacity_mw"[^>]*value="([^"]+)"', page).group(1)
    assert float(capacity) == 40.0


def test_a_case_from_the_form_equals_the_api_case_of_the_same_body(client, settings,
                                                                    make_user, auth_headers):
    _sign_in(client, make_user, "analyst")
    token = _csrf(client.get("/finance/new").get_data(as_text=True))
    r = client.post("/finance/new", data={**TYPED, "csrf_token": token})
    assert r.status_code == 303
    case_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    with session_scope(settings) as session:
        stored = svc.case_json(svc.get_case(session, case_id))
    assert stored["request"]["capex_usd"] == 40_000_000.0
    assert stored["request"]["tranches"][0]["rate"] == 0.068
    api = client.application.test_client().post(
        "/api/v1/finance/cases", headers=auth_headers("analyst"), json=stored["request"])
    assert api.status_code == 201
    for key in ("equity_irr", "min_dscr_senior", "llcr_senior", "lcoe_real_usd_per_mwh"):
        assert_allclose(stored["metrics"][key], api.get_json()["metrics"][key],
                        rtol=SAME_ENGINE_RTOL)
    # the page shows the stored figures in the page's locale, and the cash-flow table
    page = client.get(f"/finance/{case_id}?lang=en").get_data(as_text=True)
    irr = stored["metrics"]["equity_irr"]
    assert f'data-metric="equity_irr">{100 * irr:,.2f} %' in page
    assert page.count("<tr><th scope=\"row\">") >= len(stored["cashflows"])
    fr = client.get(f"/finance/{case_id}?lang=fr").get_data(as_text=True)
    assert f"{100 * irr:.2f}".replace(".", ",") in fr
    for name in ("cashflows", "tornado"):
        svg = client.get(f"/finance/{case_id}/charts/{name}.svg")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


@pytest.mark.parametrize(("change", "field"), [
    ({"ppa_price_usd_per_mwh": "cincuenta"}, "ppa_price_usd_per_mwh"),
    ({"capex_usd": "-5"}, "capex_usd"),
    ({"tranches-1-share": "0.5"}, "tranches"),            # equity shares must sum to 1
    ({"tranches-0-target_dscr": "0.9"}, "tranches-0-target_dscr"),
    ({"life_years": "2.5"}, "life_years"),
])
def test_a_bad_form_is_told_beside_its_field_and_stores_nothing(client, settings, make_user,
                                                                 change, field):
    _sign_in(client, make_user, "analyst")
    token = _csrf(client.get("/finance/new").get_data(as_text=True))
    before = _count(settings)
    r = client.post("/finance/new?lang=en", data={**TYPED, **change, "csrf_token": token})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'role="alert"' in page and f'href="#f-{field}' in page
    assert _count(settings) == before


def test_a_monte_carlo_run_shows_its_percentiles(client, settings, make_user):
    _sign_in(client, make_user, "analyst")
    token = _csrf(client.get("/finance/new").get_data(as_text=True))
    r = client.post("/finance/new", data={**TYPED, "csrf_token": token})
    case_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    r = client.post(f"/finance/{case_id}/montecarlo",
                    data={"n_draws": "400", "seed": "7", "capex_sigma": "0.1",
                          "csrf_token": token})
    assert r.status_code == 303
    page = client.get(r.headers["Location"] + "?lang=en").get_data(as_text=True)
    run_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    with session_scope(settings) as session:
        run = svc.get_montecarlo_run(session, case_id, run_id)
        p50 = run.summary["equity_irr"]["Fondo"]["p50"]
    assert f'data-key="p50">{100 * p50:,.2f} %' in page
    assert client.get(f"/finance/{case_id}/montecarlo/{run_id}/irr.svg").status_code == 200
    bad = client.post(f"/finance/{case_id}/montecarlo",
                      data={"n_draws": "0", "csrf_token": token})
    assert bad.status_code == 422 and "n_draws" in bad.get_data(as_text=True)


def test_editing_keeps_the_old_case_and_stores_a_new_one(client, settings, make_user):
    _sign_in(client, make_user, "analyst")
    token = _csrf(client.get("/finance/new").get_data(as_text=True))
    r = client.post("/finance/new", data={**TYPED, "csrf_token": token})
    case_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    page = client.get(f"/finance/{case_id}/edit").get_data(as_text=True)
    assert 'name="source_case"' in page and 'value="55.0"' in page
    r = client.post("/finance/new", data={**TYPED, "ppa_price_usd_per_mwh": "60",
                                          "source_case": str(case_id), "csrf_token": token})
    assert r.status_code == 303
    new_id = int(r.headers["Location"].rsplit("/", 1)[-1])
    with session_scope(settings) as session:
        assert svc.get_case(session, case_id).request["ppa_price_usd_per_mwh"] == 55.0
        assert svc.get_case(session, new_id).request["ppa_price_usd_per_mwh"] == 60.0


@pytest.mark.parametrize("role", ["investor"])
def test_investors_do_not_use_the_case_form(client, make_user, role):
    _sign_in(client, make_user, role)
    assert client.get("/finance/new").status_code == 403
    assert client.get("/finance/").status_code == 403


def test_investors_read_their_funds_cases_only(client, settings, make_user, auth_headers):
    import sys
    from pathlib import Path

    from fondo.accounts.service import link_limited_partner

    sys.path.insert(0, str(Path(__file__).parents[1] / "fondo"))
    from portfolio_support import make_fund, make_lp

    with session_scope(settings) as session:
        fund = make_fund(session)
        other = make_fund(session, name="Other fund")
        lp = make_lp(session, fund.id)
        ids = []
        for f in (fund, other):
            p = Project(name=f"P{f.id}", technology=Technology.PV, capacity_ac_mw=50.0,
                        fund_id=f.id)
            session.add(p)
            session.flush()
            body = {k: v for k, v in TYPED.items() if not k.startswith("tranches")}
            row = svc.create_case(session, {
                **{k: float(v) if k not in ("name", "ppa_term_years", "life_years") else
                   (int(v) if k != "name" else v) for k, v in body.items()},
                "project_id": p.id, "merchant_price_usd_per_mwh": 45.0,
                "tranches": [{"name": "Senior", "kind": "senior_debt", "rate": 0.068,
                              "tenor_years": 15, "target_dscr": 1.35, "max_gearing": 0.7},
                             {"name": "Fondo", "kind": "equity", "share": 1.0}]})
            ids.append(row.id)
        lp_id = lp.id
    email = _sign_in(client, make_user, "investor")
    with session_scope(settings) as session:
        link_limited_partner(session, email, lp_id)
    page = client.get(f"/finance/{ids[0]}")
    assert page.status_code == 200
    assert "Correr el Monte Carlo" not in page.get_data(as_text=True)  # read-only
    assert client.get(f"/finance/{ids[0]}/charts/tornado.svg").status_code == 200
    assert client.get(f"/finance/{ids[1]}").status_code == 404  # another fund's case
    assert client.get(f"/finance/{ids[1]}/charts/cashflows.svg").status_code == 404
    assert client.get(f"/finance/{ids[0]}/edit").status_code == 403
