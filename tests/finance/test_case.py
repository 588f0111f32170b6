"""run_case: the response contract, conservation laws, and Hypothesis laws."""

import copy
import json
import math

import numpy as np
import numpy_financial as npf
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from finance.case import CashflowColumn, run_case
from finance.cashflow import Drivers, simulate
from finance.inputs import CaseInputs
from finance.returns import IRR_REASON_NO_SIGN_CHANGE
from finance_cases import BASE_CASE, SIMPLE_CASE

CONTRACT_METRICS = (
    "project_irr_pre_tax", "project_irr_after_tax", "npv_usd", "lcoe_real_usd_per_mwh",
    "lcoe_nominal_usd_per_mwh", "min_dscr", "avg_dscr", "llcr", "payback_years", "debt_usd", "gearing",
)
#: Conservation of cash is exact up to float rounding on ~1e8 USD.
CASH_ATOL_USD = 1e-4
NPF_RTOL = 1e-9


def _finite_json(obj):
    text = json.dumps(obj, allow_nan=False)  # raises on NaN/inf
    return json.loads(text)


def test_response_contract(base_case_dict):
    res = run_case(CaseInputs.from_dict(base_case_dict))
    out = _finite_json(res.to_dict())
    assert set(CONTRACT_METRICS) <= set(out["metrics"])
    assert len(out["cashflows"]) == 31
    assert {"year", "cfads_usd", "tax_usd", "dscr"} <= set(out["cashflows"][0])
    assert out["cashflows"][0]["dscr"] is None  # construction year: no debt service
    names = [t["name"] for t in out["tranches"]]
    assert names == [t["name"] for t in base_case_dict["tranches"]]
    for t in out["tranches"]:
        assert "irr" in t
    g = next(t for t in out["tranches"] if t["kind"] == "guarantee")
    assert g["irr"] is None and g["irr_reason"] == IRR_REASON_NO_SIGN_CHANGE  # never called: fees only
    frame = res.cashflow_frame()
    assert list(frame.columns[: len(CashflowColumn)]) == [str(c) for c in CashflowColumn]


def test_metrics_equal_numpy_financial_on_the_same_flows(base_case_dict):
    res = run_case(CaseInputs.from_dict(base_case_dict))
    f = res.cashflow_frame()
    m = res.metrics
    assert_allclose(m["project_irr_pre_tax"], npf.irr(f["project_fcf_pre_tax_usd"]), rtol=NPF_RTOL)
    assert_allclose(m["project_irr_after_tax"], npf.irr(f["project_fcf_after_tax_usd"]), rtol=NPF_RTOL)
    assert_allclose(m["npv_usd"], npf.npv(0.08, f["project_fcf_after_tax_usd"]), rtol=NPF_RTOL)
    for t in res.tranches:
        flows = f[[c for c in f.columns if c.startswith("flow_" + t["name"].lower().replace(" ", "_"))][0]]
        if t["irr"] is not None:
            assert_allclose(t["irr"], npf.irr(flows), rtol=NPF_RTOL)
        assert_allclose(t["npv"], npf.npv(t["discount_rate"], flows), rtol=NPF_RTOL)


def test_cash_is_conserved(base_case_dict):
    s = run_case(CaseInputs.from_dict(base_case_dict)).simulation
    op = s.operating
    # CFADS = debt service paid + guarantee fees + reimbursement + DSRA movement + distributions - calls - DSRA draws
    lhs = s.cfads_usd[0, op]
    rhs = (s.senior_paid_usd + s.concessional_paid_usd + s.guarantee_fee_usd + s.guarantee_reimbursement_usd
           + s.dsra_flow_usd + s.distributions_usd - s.guarantee_call_usd - s.dsra_draw_usd)[0, op]
    assert_allclose(lhs, rhs, atol=CASH_ATOL_USD)
    # holders' flows add up to the distributions (USD)
    total = sum(s.tranche_flows_usd[t.name] for t in s.case.tranches if t.is_equity)
    assert_allclose(total, s.distributions_usd, atol=CASH_ATOL_USD)


def test_stress_calls_guarantee_and_first_loss_absorbs(base_case_dict):
    """Energy 40 % below the bankers' case: DSRA drawn, guarantee called, first loss hit."""
    case = CaseInputs.from_dict(base_case_dict)
    drivers = Drivers(np.array([1.0, 0.6]), np.ones(2), np.ones(2), np.ones(2), {})
    s = simulate(case, drivers)
    assert s.dsra_draw_usd[1].sum() > 0
    assert s.guarantee_call_usd[1].sum() > 0 and s.guarantee_call_usd[0].sum() == 0
    # calls never exceed coverage x senior service due
    assert np.all(s.guarantee_call_usd[1] <= 0.5 * s.senior_service_usd[1] + 1e-6)
    # base draw equals run_case
    assert_allclose(s.distributions_usd[0], run_case(case).simulation.distributions_usd[0], rtol=1e-12)
    pension, first = s.tranche_flows_usd["Pension equity"][1], s.tranche_flows_usd["First loss"][1]
    recovery = lambda f: f[f > 0].sum() / -f[f < 0].sum()  # noqa: E731
    # first-loss equity recovers less of what it put in than senior equity
    assert recovery(first) < recovery(pension)


def test_lcoe_is_pv_costs_over_pv_energy(simple_case_dict):
    res = run_case(CaseInputs.from_dict(simple_case_dict))
    f = res.cashflow_frame()
    t = np.arange(len(f))
    cost = f["capex_usd"] + f["opex_usd"]
    pv_e = (f["energy_mwh"] / 1.08**t).sum()
    assert_allclose(res.metrics["lcoe_nominal_usd_per_mwh"], (cost / 1.08**t).sum() / pv_e, rtol=1e-12)


def test_no_debt_case_reports_none_not_nan(simple_case_dict):
    d = copy.deepcopy(simple_case_dict)
    d["tranches"] = [d["tranches"][1]]
    out = _finite_json(run_case(CaseInputs.from_dict(d)).to_dict())
    assert out["metrics"]["min_dscr"] is None
    assert "min_dscr" in out["metrics"]["notes"]
    assert_allclose(out["metrics"]["gearing"], 0.0)


def _equity_irr(d):
    r = run_case(CaseInputs.from_dict(d)).metrics["equity_irr"]
    return -math.inf if r is None else r


@settings(max_examples=12, deadline=None)
@given(capex=st.floats(40e6, 110e6), extra=st.floats(0.01, 0.3))
def test_law_more_capex_never_raises_equity_irr(capex, extra):
    d = copy.deepcopy(BASE_CASE)
    d.pop("capex_components_usd")
    lo = _equity_irr(dict(d, capex_usd=capex))
    hi = _equity_irr(dict(d, capex_usd=capex * (1 + extra)))
    assert hi <= lo + 1e-12


@settings(max_examples=12, deadline=None)
@given(shares=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=4), first_loss=st.booleans())
def test_law_tranche_shares_sum_to_the_whole(shares, first_loss):
    total = sum(shares)
    shares = [s / total for s in shares]
    shares[-1] = 1.0 - sum(shares[:-1])
    d = copy.deepcopy(SIMPLE_CASE)
    d["tranches"] = d["tranches"][:1] + [
        {"name": f"E{i}", "kind": "first_loss_equity" if (first_loss and i == 0) else "equity", "share": s}
        for i, s in enumerate(shares)
    ]
    if abs(sum(shares) - 1) > 1e-9 or min(shares) <= 0:
        return
    res = run_case(CaseInputs.from_dict(d))
    s = res.simulation
    total_flows = sum(s.tranche_flows_usd[f"E{i}"] for i in range(len(shares)))
    assert_allclose(total_flows, s.distributions_usd, atol=CASH_ATOL_USD)
    contributions = sum(t["contribution_usd"] for t in res.tranches if t["kind"] != "senior_debt")
    assert_allclose(contributions, res.metrics["equity_usd"], rtol=1e-9)
