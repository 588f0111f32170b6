"""``/api/v1/finance``: cases stored and served, exports, bad input, Monte Carlo as a task.

The API's numbers are checked against independent computations over the cash-flow table
it returns: numpy-financial's ``irr`` and ``npv``, the LCOE written out as a ratio of
present values, the DSCR as CFADS over senior debt service.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re

import numpy as np
import numpy_financial as npf
import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose
from sqlalchemy import func, select

from fondo.db import session_scope
from fondo.jobs import Job, JobState
from fondo.orm import Technology
from fondo.studies.models import YieldStudy
from fondo.finance.models import FinanceCase, FinanceMonteCarloRun

#: IRR/NPV agreement with numpy-financial on the same flows (issue 4 bar). [-]
IRR_RTOL = 1e-9
#: Agreement of a value recomputed by another route (sums in another order). [-]
RECOMPUTE_RTOL = 1e-9
#: openpyxl writes floats with 16 significant digits (a double needs up to 17). [-]
XLSX_RTOL = 1e-15
#: Absolute floor for values that are zero. [USD]
USD_ATOL = 1e-6

#: A 40 MW solar case with USD senior debt sculpted to a DSCR target and two equity
#: holders (illustrative inputs, not data).
CASE = {
    "name": "Bajío PV 40 MW (test)",
    "capacity_mw": 40,
    "energy_p50_mwh": 96_000,
    "energy_p90_mwh": 88_000,
    "degradation": 0.005,
    "life_years": 25,
    "construction_years": 1,
    "capex_usd": 36e6,
    "opex_usd_per_kw_year": 14,
    "opex_escalation": 0.02,
    "ppa_price_usd_per_mwh": 52,
    "ppa_escalation": 0.01,
    "ppa_term_years": 15,
    "merchant_price_usd_per_mwh": 42,
    "tax_rate": 0.30,
    "ptu_rate": 0.10,
    "depreciation": "mx_renewable_100",
    "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.068,
         "tenor_years": 15, "target_dscr": 1.35, "max_gearing": 0.8, "fee": 0.01},
        {"name": "Guarantee", "kind": "guarantee", "currency": "USD", "covers": "Senior",
         "coverage": 0.5, "fee": 0.004},
        {"name": "Pension", "kind": "equity", "currency": "USD", "share": 0.6},
        {"name": "First loss", "kind": "first_loss_equity", "currency": "USD", "share": 0.4},
    ],
}

#: Contract names of the request (issue 4).
CONTRACT_FIELDS = (
    "capacity_mw", "energy_p50_mwh", "energy_p90_mwh", "degradation", "life_years",
    "construction_years", "capex_usd", "opex_usd_per_kw_year", "opex_escalation",
    "ppa_price_usd_per_mwh", "ppa_escalation", "ppa_term_years", "merchant_price_usd_per_mwh",
    "tax_rate", "ptu_rate", "depreciation", "discount_rate", "tranches",
)
CONTRACT_TRANCHE_FIELDS = ("name", "kind", "currency", "rate", "tenor_years", "grace_years",
                           "target_dscr", "max_gearing", "share", "covers", "coverage", "fee")
CONTRACT_METRICS = ("project_irr_pre_tax", "project_irr_after_tax", "npv_usd",
                    "lcoe_real_usd_per_mwh", "lcoe_nominal_usd_per_mwh", "min_dscr", "avg_dscr",
                    "llcr", "payback_years", "debt_usd", "gearing")
#: Cash-flow columns without a unit suffix, and why.
UNITLESS_COLUMNS = {"year": "model year index", "phase": "text", "dscr": "ratio [-]"}
UNIT_SUFFIXES = ("_usd", "_mwh", "_cad", "_mxn")


def strict_loads(text: str | bytes):
    """json.loads that refuses NaN and Infinity (as a strict JSON parser does)."""
    def refuse(name):
        raise AssertionError(f"non-JSON constant {name} in the response")
    return json.loads(text, parse_constant=refuse)


def case(**changes):
    body = copy.deepcopy(CASE)
    body.update(changes)
    return body


def count(settings, model) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def column(body, name):
    return np.array([row[name] for row in body["cashflows"]], dtype=float)


@pytest.fixture
def analyst(auth_headers):
    return auth_headers("analyst")


@pytest.fixture
def created(client, analyst):
    response = client.post("/api/v1/finance/cases", json=CASE, headers=analyst)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


# ------------------------------------------------------------------ create and read


def test_create_stores_the_case_and_answers_201_with_location(client, analyst, created, settings):
    body = strict_loads(created.get_data())
    assert created.headers["Location"] == f"/api/v1/finance/cases/{body['id']}"
    assert set(CONTRACT_METRICS) <= set(body["metrics"])
    assert body["name"] == CASE["name"]
    assert count(settings, FinanceCase) == 1
    again = client.get(created.headers["Location"], headers=analyst)
    assert again.status_code == 200
    assert strict_loads(again.get_data()) == body


@pytest.mark.parametrize("role", ["analyst", "officer", "admin"])
def test_fund_staff_may_create_and_read(client, auth_headers, role):
    headers = auth_headers(role)
    response = client.post("/api/v1/finance/cases", json=CASE, headers=headers)
    assert response.status_code == 201
    assert client.get(response.headers["Location"], headers=headers).status_code == 200
    listing = client.get("/api/v1/finance/cases", headers=headers).json
    assert [c["id"] for c in listing["cases"]] == [response.json["id"]]


def test_anonymous_callers_are_refused_and_nothing_is_stored(client, settings, created):
    assert client.post("/api/v1/finance/cases", json=CASE).status_code == 401
    assert client.get(created.headers["Location"]).status_code == 401
    assert client.get(created.headers["Location"] + "/cashflows.csv").status_code == 401
    assert count(settings, FinanceCase) == 1


def test_unknown_case_is_a_404_problem(client, analyst):
    for suffix in ("", "/cashflows.csv", "/cashflows.xlsx", "/tornado", "/montecarlo"):
        response = client.get(f"/api/v1/finance/cases/999{suffix}", headers=analyst)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


# ------------------------------------------------------------------ independent checks


def test_project_irr_and_npv_equal_numpy_financial_on_the_returned_columns(created):
    body = strict_loads(created.get_data())
    m = body["metrics"]
    pre, post = column(body, "project_fcf_pre_tax_usd"), column(body, "project_fcf_after_tax_usd")
    assert_allclose(m["project_irr_pre_tax"], npf.irr(pre), rtol=IRR_RTOL)
    assert_allclose(m["project_irr_after_tax"], npf.irr(post), rtol=IRR_RTOL)
    assert_allclose(m["npv_usd"], npf.npv(CASE["discount_rate"], post), rtol=IRR_RTOL)
    # Pre-tax flows are EBITDA - CAPEX, after-tax ones lower by the unlevered tax.
    assert_allclose(pre, column(body, "ebitda_usd") - column(body, "capex_usd"),
                    rtol=RECOMPUTE_RTOL, atol=USD_ATOL)
    assert np.all(post <= pre + USD_ATOL)


def test_equity_and_tranche_irrs_equal_numpy_financial(created):
    body = strict_loads(created.get_data())
    assert_allclose(body["metrics"]["equity_irr"], npf.irr(column(body, "distributions_usd")),
                    rtol=IRR_RTOL)
    flows = {"Senior": "flow_senior_usd", "Pension": "flow_pension_usd",
             "First loss": "flow_first_loss_usd"}
    by_name = {t["name"]: t for t in body["tranches"]}
    for name, col in flows.items():
        assert_allclose(by_name[name]["irr"], npf.irr(column(body, col)), rtol=IRR_RTOL)
        assert_allclose(by_name[name]["npv"], npf.npv(CASE["discount_rate"], column(body, col)),
                        rtol=IRR_RTOL)


def test_lcoe_dscr_gearing_recomputed_from_the_table(created):
    body = strict_loads(created.get_data())
    m = body["metrics"]
    d = CASE["discount_rate"]
    t = column(body, "year")
    disc = (1 + d) ** -t
    cost = column(body, "capex_usd") + column(body, "opex_usd")
    energy = column(body, "energy_mwh")
    # LCOE (contract): PV of costs over PV of energy at discount_rate, tax excluded.
    assert_allclose(m["lcoe_nominal_usd_per_mwh"], (cost * disc).sum() / (energy * disc).sum(),
                    rtol=RECOMPUTE_RTOL)
    service = column(body, "senior_debt_service_usd")
    due = service > 0
    dscr = column(body, "cfads_usd")[due] / service[due]
    assert_allclose(m["min_dscr"], dscr.min(), rtol=RECOMPUTE_RTOL)
    assert_allclose(m["avg_dscr"], dscr.mean(), rtol=RECOMPUTE_RTOL)
    assert_allclose(m["gearing"], m["debt_usd"] / CASE["capex_usd"], rtol=RECOMPUTE_RTOL)
    assert 0 < m["gearing"] <= CASE["tranches"][0]["max_gearing"] + RECOMPUTE_RTOL
    # Sculpted: the DSCR holds the target in every repayment year unless gearing binds.
    assert m["min_dscr"] >= CASE["tranches"][0]["target_dscr"] * (1 - RECOMPUTE_RTOL)


def test_one_row_per_year_with_capex_in_year_zero(created):
    body = strict_loads(created.get_data())
    rows = body["cashflows"]
    assert [r["year"] for r in rows] == list(range(CASE["construction_years"] + CASE["life_years"]))
    assert rows[0]["phase"] == "construction" and rows[0]["energy_mwh"] == 0
    assert all(r["phase"] == "operation" for r in rows[1:])
    assert_allclose(column(body, "capex_usd").sum(), CASE["capex_usd"], rtol=RECOMPUTE_RTOL)
    assert_allclose(rows[1]["energy_mwh"], CASE["energy_p50_mwh"], rtol=RECOMPUTE_RTOL)


# ------------------------------------------------------------------ exports


def test_csv_has_one_row_per_year_unit_named_columns_matching_the_json(client, analyst, created):
    body = created.json
    response = client.get(body["links"]["cashflows_csv"], headers=analyst)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == CASE["construction_years"] + CASE["life_years"]
    columns = list(rows[0])
    assert columns == list(body["cashflows"][0])
    for name in columns:
        assert name in UNITLESS_COLUMNS or name.endswith(UNIT_SUFFIXES), name
    for name in columns:
        if name == "phase":
            assert [r[name] for r in rows] == [r[name] for r in body["cashflows"]]
            continue
        got = np.array([float(r[name]) if r[name] != "" else np.nan for r in rows])
        want = np.array([np.nan if r[name] is None else r[name] for r in body["cashflows"]], float)
        assert_allclose(got, want, rtol=0, equal_nan=True, err_msg=name)


def test_xlsx_opens_with_openpyxl_and_matches_the_json(client, analyst, created):
    from openpyxl import load_workbook

    body = created.json
    response = client.get(body["links"]["cashflows_xlsx"], headers=analyst)
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    assert {"metrics", "cashflows", "inputs"} <= set(wb.sheetnames)
    metrics = {r[0]: r[1] for r in wb["metrics"].iter_rows(min_row=2, values_only=True) if r[0]}
    for key in CONTRACT_METRICS:
        assert_allclose(metrics[key], body["metrics"][key], rtol=XLSX_RTOL, err_msg=key)
    table = list(wb["cashflows"].iter_rows(values_only=True))
    header, data = list(table[0]), table[1:]
    assert header == list(body["cashflows"][0])
    assert len(data) == len(body["cashflows"])
    for name in header:
        got = [dict(zip(header, row))[name] for row in data]
        want = [r[name] for r in body["cashflows"]]
        if name == "phase":
            assert got == want
            continue
        assert_allclose(np.array(got, float), np.array(want, float), rtol=XLSX_RTOL,
                        equal_nan=True, err_msg=name)
    tranches = list(wb["tranches"].iter_rows(values_only=True))
    assert [r[0] for r in tranches[1:]] == [t["name"] for t in body["tranches"]]
    inputs = {r[0]: r[1] for r in wb["inputs"].iter_rows(min_row=2, values_only=True)}
    assert inputs["capex_usd"] == CASE["capex_usd"]
    assert inputs["tranches[0].target_dscr"] == CASE["tranches"][0]["target_dscr"]
    assert inputs["name"] == CASE["name"]


# ------------------------------------------------------------------ bad input


def _set(path, value):
    def change(body):
        target, keys = body, path[:-1]
        for key in keys:
            target = target[key]
        target[path[-1]] = value
        return body
    return change


BAD_INPUTS = [
    ("negative CAPEX", _set(("capex_usd",), -1e6), "capex_usd"),
    ("negative capacity", _set(("capacity_mw",), -40), "capacity_mw"),
    ("equity shares not summing to 1", _set(("tranches", 3, "share"), 0.3), "tranches.share"),
    ("DSCR target 1", _set(("tranches", 0, "target_dscr"), 1.0), "tranches[0].target_dscr"),
    ("DSCR target below 1", _set(("tranches", 0, "target_dscr"), 0.9), "tranches[0].target_dscr"),
    ("tenor beyond life", _set(("tranches", 0, "tenor_years"), 30), "tranches[0].tenor_years"),
    ("guarantee of an unknown tranche", _set(("tranches", 1, "covers"), "Nobody"),
     "tranches[1].covers"),
    ("CAPEX of the wrong type", _set(("capex_usd",), "lots"), "capex_usd"),
    ("tranches of the wrong type", _set(("tranches",), "senior"), "tranches"),
    ("life of the wrong type", _set(("life_years",), 25.5), "life_years"),
    ("missing discount rate", lambda b: {k: v for k, v in b.items() if k != "discount_rate"},
     "discount_rate"),
    ("unknown project", _set(("project_id",), 999), "project_id"),
    ("unknown study", _set(("study_id",), 999), "study_id"),
    ("project id of the wrong type", _set(("project_id",), "one"), "project_id"),
]


@pytest.mark.parametrize(("label", "change", "field"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_a_422_problem_naming_the_field_and_nothing_is_stored(
        client, analyst, settings, label, change, field):
    response = client.post("/api/v1/finance/cases", json=change(case()), headers=analyst)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = strict_loads(response.get_data())
    assert problem["field"] == field
    assert problem["status"] == 422 and problem["detail"]
    assert count(settings, FinanceCase) == 0


@pytest.mark.parametrize(("raw", "field"), [
    (b'{"capacity_mw": 40,', "body"), (b"not json", "body"), (b"[1, 2]", "body"), (b"", "body"),
    # RFC 8259 has no NaN/Infinity, I-JSON (RFC 7493 2.3) no repeated key: the field is named
    (b'{"capex_usd": NaN}', "capex_usd"), (b'{"stack": [{"rate": -Infinity}]}', "stack[0].rate"),
    (b'{"capex_usd": 1, "capex_usd": 2}', "capex_usd"),
])
def test_malformed_json_is_a_422_problem_naming_the_field(client, analyst, settings, raw, field):
    response = client.post("/api/v1/finance/cases", data=raw, headers=analyst,
                           content_type="application/json")
    assert response.status_code == 422
    assert strict_loads(response.get_data())["field"] == field
    assert count(settings, FinanceCase) == 0


def test_undefined_irr_is_null_with_a_reason_never_nan(client, analyst, settings):
    # Selling at a zero price: EBITDA < 0 every year, the flows never change sign.
    response = client.post("/api/v1/finance/cases", headers=analyst,
                           json=case(ppa_price_usd_per_mwh=0, merchant_price_usd_per_mwh=0))
    assert response.status_code == 201
    body = strict_loads(response.get_data())
    m = body["metrics"]
    for key in ("project_irr_pre_tax", "project_irr_after_tax", "equity_irr"):
        assert m[key] is None
        assert m["notes"][key].startswith("undefined")
    assert all(t["irr"] is None and t["irr_reason"] for t in body["tranches"] if t["kind"] != "guarantee")
    assert m["min_dscr"] is None and m["notes"]["min_dscr"]
    # The stored row and its exports carry the same nulls.
    again = client.get(response.headers["Location"], headers=analyst)
    assert strict_loads(again.get_data()) == body
    text = client.get(body["links"]["cashflows_csv"], headers=analyst).get_data(as_text=True)
    assert "nan" not in text.lower()


def test_fields_the_engine_knows_beyond_the_contract_pass_through(client, analyst):
    body = case(cel_price_usd_per_mwh=6.0, land_lease_usd_per_year=80_000, comment="kept")
    response = client.post("/api/v1/finance/cases", json=body, headers=analyst)
    assert response.status_code == 201
    out = response.json
    assert out["request"]["cel_price_usd_per_mwh"] == 6.0
    assert out["request"]["comment"] == "kept"
    cel = column(out, "revenue_cel_usd")
    assert_allclose(cel[1], 6.0 * CASE["energy_p50_mwh"], rtol=RECOMPUTE_RTOL)


# ------------------------------------------------------------------ yield study


def test_energy_comes_from_a_stored_yield_study(client, analyst, settings):
    with session_scope(settings) as session:
        study = YieldStudy(technology=Technology.PV, request={}, status=JobState.SUCCESS,
                           energy_p50_mwh=91_000.0, energy_p90_mwh=84_000.0)
        session.add(study)
        session.flush()
        study_id = study.id
    body = {k: v for k, v in case(study_id=study_id).items()
            if k not in {"energy_p50_mwh", "energy_p90_mwh"}}
    response = client.post("/api/v1/finance/cases", json=body, headers=analyst)
    assert response.status_code == 201, response.get_data(as_text=True)
    out = response.json
    assert out["study_id"] == study_id
    assert out["request"]["energy_p50_mwh"] == 91_000.0
    assert out["request"]["energy_p90_mwh"] == 84_000.0
    assert_allclose(out["cashflows"][1]["energy_mwh"], 91_000.0, rtol=RECOMPUTE_RTOL)
    both = client.post("/api/v1/finance/cases", json=case(study_id=study_id), headers=analyst)
    assert both.status_code == 422 and both.json["field"] == "energy_p50_mwh"
    assert count(settings, FinanceCase) == 1


# ------------------------------------------------------------------ tornado and OpenAPI


def test_tornado_rows_swing_around_the_holders_irr(client, analyst, created):
    body = created.json
    response = client.get(body["links"]["tornado"] + "?holder=Pension", headers=analyst)
    assert response.status_code == 200
    out = strict_loads(response.get_data())
    pension = next(t for t in body["tranches"] if t["name"] == "Pension")
    assert {r["driver"] for r in out["rows"]} == {"energy", "merchant_price", "capex", "opex"}
    for row in out["rows"]:
        assert_allclose(row["base_irr"], pension["irr"], rtol=RECOMPUTE_RTOL)
    swings = [r["swing"] for r in out["rows"]]
    assert swings == sorted(swings, reverse=True)
    bad = client.get(body["links"]["tornado"] + "?holder=Senior", headers=analyst)
    assert bad.status_code == 422 and bad.json["field"] == "holder"


def test_openapi_describes_the_request_fields(client):
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]
    post = spec["paths"]["/api/v1/finance/cases"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request_schema = schemas[ref.rsplit("/", 1)[-1]]
    assert set(CONTRACT_FIELDS) <= set(request_schema["properties"])
    for name in CONTRACT_FIELDS:
        assert request_schema["properties"][name].get("description") or name == "tranches"
    tranche = schemas["TrancheRequest"]["properties"]
    assert set(CONTRACT_TRANCHE_FIELDS) <= set(tranche)
    assert set(tranche["kind"]["enum"]) == {"equity", "first_loss_equity", "senior_debt",
                                            "concessional_debt", "guarantee"}
    assert "422" in post["responses"] and "201" in post["responses"]
    units = re.compile(r"\[[^\]]+\]")
    assert units.search(request_schema["properties"]["capex_usd"]["description"])
    mc = spec["paths"]["/api/v1/finance/cases/{case_id}/montecarlo"]["post"]
    assert "202" in mc["responses"]
    body = mc["requestBody"]  # optional: an empty body takes every default
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/MonteCarloRequest")
    assert schemas["MonteCarloRequest"]["properties"]["n_draws"]["maximum"] == 100_000


# ------------------------------------------------------------------ Monte Carlo


#: A small run: 600 draws in 4 chunks (eager task in these tests).
MC_REQUEST = {"n_draws": 600, "seed": 7, "price_sigma": 0.15, "capex_sigma": 0.08,
              "opex_sigma": 0.1, "chunk": 150}


def test_montecarlo_is_a_task_with_progress_and_a_retrievable_result(client, analyst, created,
                                                                     settings):
    import finance

    body = created.json
    started = client.post(body["links"]["montecarlo"], json=MC_REQUEST, headers=analyst)
    assert started.status_code == 202, started.get_data(as_text=True)
    task = started.json
    assert started.headers["Location"] == f"/api/v1/tasks/{task['id']}"
    status = client.get(started.headers["Location"], headers=analyst).json
    assert status["state"] == "SUCCESS"
    assert status["progress"] == {"done": 600, "total": 600, "stage": "done"}
    run = client.get(status["result_url"], headers=analyst)
    assert run.status_code == 200
    run = strict_loads(run.get_data())
    assert run["state"] == "SUCCESS" and run["spec"]["n_draws"] == 600
    summary = run["summary"]
    assert summary["n_draws"] == 600
    assert set(summary["equity_irr"]) == {"Pension", "First loss"}
    assert 0 <= summary["p_dscr_breach"] <= 1 and 0 <= summary["p_guarantee_call"] <= 1
    # The shell hands the engine the case and the spec unchanged: same seed, same numbers.
    direct = finance.run_montecarlo(finance.CaseInputs.from_dict(
        {k: v for k, v in CASE.items() if k != "name"}), finance.MonteCarloSpec(**run["spec"]))
    assert summary == json.loads(json.dumps(direct.summary()))
    # The job's own result and the listing agree.
    result = client.get(f"/api/v1/tasks/{task['id']}/result", headers=analyst).json
    assert result["summary"] == summary
    listing = client.get(body["links"]["montecarlo"], headers=analyst).json
    assert [r["id"] for r in listing["runs"]] == [run["id"]]
    assert count(settings, FinanceMonteCarloRun) == 1


@pytest.mark.parametrize(("spec", "field"), [
    ({"n_draws": 0}, "n_draws"),
    ({"n_draws": 10_000_000}, "n_draws"),
    ({"price_sigma": -0.1}, "price_sigma"),
    ({"seed": "x"}, "seed"),
    ({"draws": 10}, "draws"),
])
def test_bad_montecarlo_request_is_422_and_launches_nothing(client, analyst, created, settings,
                                                             spec, field):
    response = client.post(created.json["links"]["montecarlo"], json=spec, headers=analyst)
    assert response.status_code == 422
    assert response.json["field"] == field
    assert count(settings, Job) == 0 and count(settings, FinanceMonteCarloRun) == 0


def test_montecarlo_of_an_unknown_case_is_404(client, analyst, settings):
    response = client.post("/api/v1/finance/cases/999/montecarlo", json={}, headers=analyst)
    assert response.status_code == 404
    assert count(settings, Job) == 0


# ------------------------------------------------------------------ one schema, two doors


def _raw(body: dict, **literals: str) -> str:
    """``body`` as JSON text with the string values ``"<name>"`` replaced by literals."""
    text = json.dumps(body)
    for name, literal in literals.items():
        text = text.replace(f'"<{name}>"', literal)
    return text


def _without(name: str) -> dict:
    return {k: v for k, v in case().items() if k != name}


#: Case bodies both the API and ``fondo finance run`` refuse, and the field each names.
REFUSED_CASES = [
    ("NaN", _raw(case(capex_usd="<x>"), x="NaN"), "capex_usd"),
    ("Infinity in a tranche", _raw(_set(("tranches", 1, "fee"), "<x>")(case()), x="Infinity"),
     "tranches[1].fee"),
    ("repeated key", '{"capex_usd": 1, ' + json.dumps(case())[1:], "capex_usd"),
    ("number as a string", json.dumps(case(capex_usd="36e6")), "capex_usd"),
    ("boolean as a number", json.dumps(case(capacity_mw=True)), "capacity_mw"),
    ("tranche field of the wrong type", json.dumps(_set(("tranches", 1, "coverage"), "half")(
        case())), "tranches[1].coverage"),
    ("missing field", json.dumps(_without("ppa_price_usd_per_mwh")), "ppa_price_usd_per_mwh"),
    ("missing tranche field", json.dumps(_set(("tranches", 2), {"kind": "equity",
                                                                "share": 0.6})(case())),
     "tranches[2].name"),
    ("negative CAPEX", json.dumps(case(capex_usd=-36e6)), "capex_usd"),
    ("unknown currency", json.dumps(case(fx={"EUR": {"spot_per_usd": 0.9}})), "fx.EUR"),
    ("name too long", json.dumps(case(name="x" * 201)), "name"),
    ("id beyond 64 bits", json.dumps(case(project_id=2**64)), "project_id"),
    ("empty object", "{}", "body"),
    ("not an object", "[1, 2]", "body"),
]


@pytest.mark.parametrize(("label", "text", "field"), REFUSED_CASES,
                         ids=[r[0] for r in REFUSED_CASES])
def test_api_and_cli_refuse_the_same_case_naming_the_same_field(client, analyst, settings,
                                                               label, text, field):
    from fondo.cli import main

    response = client.post("/api/v1/finance/cases", data=text, headers=analyst,
                           content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert strict_loads(response.get_data())["field"] == field
    result = CliRunner().invoke(main, ["finance", "run", "--input", "-"], input=text,
                                obj={"settings": settings})
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.rstrip().endswith(f"({field})")
    assert count(settings, FinanceCase) == 0


#: Monte Carlo bodies both the API and ``fondo finance montecarlo`` refuse.
REFUSED_MONTECARLO = [
    (_raw({"capex_sigma": "<x>"}, x="NaN"), "capex_sigma"),
    ('{"seed": 1, "seed": 2}', "seed"),
    (json.dumps({"n_draws": 100.5}), "n_draws"),
    (json.dumps({"chunk": 0}), "chunk"),
    (json.dumps({"seed": -1}), "seed"),
]


@pytest.mark.parametrize(("text", "field"), REFUSED_MONTECARLO)
def test_api_and_cli_refuse_the_same_montecarlo_request(client, analyst, created, settings,
                                                        text, field):
    from fondo.cli import main

    response = client.post(created.json["links"]["montecarlo"], data=text, headers=analyst,
                           content_type="application/json")
    assert response.status_code == 422 and response.json["field"] == field
    result = CliRunner().invoke(main, ["finance", "montecarlo", str(created.json["id"]),
                                       "--input", "-"], input=text, obj={"settings": settings})
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.rstrip().endswith(f"({field})")
    assert count(settings, Job) == 0 and count(settings, FinanceMonteCarloRun) == 0


def test_montecarlo_with_an_empty_body_takes_the_defaults(client, analyst, created):
    started = client.post(created.json["links"]["montecarlo"], headers=analyst)
    assert started.status_code == 202, started.get_data(as_text=True)
    run = client.get(started.json["run"], headers=analyst).json
    assert run["spec"]["n_draws"] == 10_000 and run["spec"]["seed"] == 0


# ------------------------------------------------------------------ investors: their funds only


@pytest.fixture
def two_funds(settings):
    """Funds "North" and "South", each with one limited partner and one project (ids)."""
    from fondo.fund.models import Fund, LimitedPartner, Project

    ids = {}
    with session_scope(settings) as session:
        for name in ("North", "South"):
            fund = Fund(name=f"Fund {name} (test)")
            session.add(fund)
            session.flush()
            lp = LimitedPartner(fund_id=fund.id, name=f"LP {name}", country="CA",
                                kind="pension_fund", commitment_amount=1e8,
                                commitment_currency="CAD")
            project = Project(fund_id=fund.id, name=f"PV {name}", technology=Technology.PV)
            session.add_all([lp, project])
            session.flush()
            ids[name] = {"fund": fund.id, "lp": lp.id, "project": project.id}
    return ids


@pytest.fixture
def cases_by_fund(client, analyst, two_funds):
    """A case on North's project, one on South's and one with no project (ids)."""
    ids = {}
    for name in ("North", "South", None):
        body = case(name=f"case {name}")
        if name:
            body["project_id"] = two_funds[name]["project"]
        response = client.post("/api/v1/finance/cases", json=body, headers=analyst)
        assert response.status_code == 201, response.get_data(as_text=True)
        ids[name] = response.json["id"]
    return ids


def _investor(settings, make_user, lp_id=None) -> dict[str, str]:
    from fondo.accounts.service import link_limited_partner

    email, _password, token = make_user("investor")
    if lp_id is not None:
        with session_scope(settings) as session:
            link_limited_partner(session, email, lp_id)
    return {"Authorization": f"Bearer {token}"}


def test_an_investor_reads_the_cases_of_their_fund_and_no_other(client, settings, make_user,
                                                                 two_funds, cases_by_fund):
    investor = _investor(settings, make_user, two_funds["North"]["lp"])
    listing = client.get("/api/v1/finance/cases", headers=investor).json
    assert [c["id"] for c in listing["cases"]] == [cases_by_fund["North"]]
    south_project = two_funds["South"]["project"]
    assert client.get(f"/api/v1/finance/cases?project_id={south_project}",
                      headers=investor).json == {"cases": []}
    own = f"/api/v1/finance/cases/{cases_by_fund['North']}"
    for suffix in ("", "/cashflows.csv", "/cashflows.xlsx", "/tornado", "/montecarlo"):
        assert client.get(own + suffix, headers=investor).status_code == 200, suffix
    for other in (cases_by_fund["South"], cases_by_fund[None]):
        for suffix in ("", "/cashflows.csv", "/cashflows.xlsx", "/tornado", "/montecarlo"):
            refused = client.get(f"/api/v1/finance/cases/{other}{suffix}", headers=investor)
            # the same answer as a case that does not exist: nothing tells it is there
            assert refused.status_code == 404, (other, suffix)
            assert refused.mimetype == "application/problem+json"
            assert refused.json["detail"] == f"No finance case with id {other}."


def test_an_investor_without_a_limited_partner_sees_no_case(client, settings, make_user,
                                                           cases_by_fund):
    investor = _investor(settings, make_user)
    assert client.get("/api/v1/finance/cases", headers=investor).json == {"cases": []}
    assert client.get(f"/api/v1/finance/cases/{cases_by_fund['North']}",
                      headers=investor).status_code == 404


def test_an_investor_reads_only_no_case_no_montecarlo(client, settings, make_user, two_funds,
                                                      cases_by_fund):
    investor = _investor(settings, make_user, two_funds["North"]["lp"])
    created = client.post("/api/v1/finance/cases", headers=investor,
                          json=case(project_id=two_funds["North"]["project"]))
    assert created.status_code == 403 and created.mimetype == "application/problem+json"
    for name in ("North", "South"):
        started = client.post(f"/api/v1/finance/cases/{cases_by_fund[name]}/montecarlo",
                              json=MC_REQUEST, headers=investor)
        assert started.status_code == 403, name
    assert count(settings, FinanceCase) == 3
    assert count(settings, Job) == 0 and count(settings, FinanceMonteCarloRun) == 0


def test_an_investor_follows_the_montecarlo_runs_of_their_fund_only(client, settings, make_user,
                                                                    analyst, two_funds,
                                                                    cases_by_fund):
    tasks = {}
    for name in ("North", "South"):
        started = client.post(f"/api/v1/finance/cases/{cases_by_fund[name]}/montecarlo",
                              json=MC_REQUEST, headers=analyst)
        assert started.status_code == 202
        tasks[name] = started.json
    investor = _investor(settings, make_user, two_funds["North"]["lp"])
    north = client.get(tasks["North"]["run"], headers=investor)
    assert north.status_code == 200 and north.json["summary"]["n_draws"] == 600
    assert client.get(f"/api/v1/tasks/{tasks['North']['id']}", headers=investor).json[
        "state"] == "SUCCESS"
    result = client.get(f"/api/v1/tasks/{tasks['North']['id']}/result", headers=investor)
    assert result.status_code == 200 and result.json["summary"] == north.json["summary"]
    assert client.get(tasks["South"]["run"], headers=investor).status_code == 404
    for suffix in ("", "/result"):
        refused = client.get(f"/api/v1/tasks/{tasks['South']['id']}{suffix}", headers=investor)
        assert refused.status_code == 404, suffix
        assert refused.json["detail"] == f"No task with id {tasks['South']['id']}."
