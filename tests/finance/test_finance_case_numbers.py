"""run_case's fused metric pass against the references it replaces.

``run_case`` computes NPVs, the discounted LCOE, DSCR statistics, LLCR and payback in one
compiled pass (``finance.case._case_numbers``) and the year totals in one reduction. Each
figure is checked here against numpy-financial (NPV) or the public numpy function it
stands for, on the shared test stacks.
"""

import copy

import numpy as np
import numpy_financial as npf
import pytest
from finance_cases import BASE_CASE, SIMPLE_CASE
from numpy.testing import assert_allclose

from finance.case import dscr_lines, run_case
from finance.inputs import CaseInputs
from finance.lcoe import lcoe_discounted
from finance.returns import payback_years

#: Same numbers up to summation order. [-]
RTOL_SUM_ORDER = 1e-12
#: NPV against numpy-financial (issue 4 accuracy bar). [-]
RTOL_NPF = 1e-9

_EQUITY_ONLY = dict(copy.deepcopy(SIMPLE_CASE), tranches=[{"name": "Eq", "kind": "equity", "share": 1.0}])
_CASES = {
    "blended": BASE_CASE,
    "simple": SIMPLE_CASE,
    "blended_two_year_build": dict(copy.deepcopy(BASE_CASE), construction_years=2, capex_schedule=[0.4, 0.6]),
    "equity_only": _EQUITY_ONLY,
    "never_pays_back": dict(copy.deepcopy(_EQUITY_ONLY), ppa_price_usd_per_mwh=5),
}


@pytest.fixture(params=sorted(_CASES))
def result(request):
    return run_case(CaseInputs.from_dict(_CASES[request.param]))


def test_npvs_equal_numpy_financial(result):
    s, case = result.simulation, result.inputs
    d = case.discount_rate
    for key, line in (("npv_usd", s.project_fcf_after_tax_usd), ("npv_pre_tax_usd", s.project_fcf_pre_tax_usd),
                      ("equity_npv_usd", s.distributions_usd)):
        assert_allclose(result.metrics[key], npf.npv(d, line[0]), rtol=RTOL_NPF, atol=1e-6)
    for row, tr in zip(result.tranches, case.tranches):
        rate = d if tr.discount_rate is None else tr.discount_rate
        assert_allclose(row["npv"], npf.npv(rate, s.tranche_flows_ccy[tr.name][0]), rtol=RTOL_NPF, atol=1e-6)


def test_lcoe_payback_and_dscr_equal_the_public_functions(result):
    s, case, m = result.simulation, result.inputs, result.metrics
    nom, real = lcoe_discounted(s.capex_usd[0] + s.opex_usd[0], s.energy_mwh[0], case.discount_rate,
                                case.inflation_rate)
    assert_allclose([m["lcoe_nominal_usd_per_mwh"], m["lcoe_real_usd_per_mwh"]], [nom, real],
                    rtol=RTOL_SUM_ORDER)
    pb = payback_years(s.project_fcf_after_tax_usd[0])
    if np.isfinite(pb):
        assert_allclose(m["payback_years"], pb, rtol=RTOL_SUM_ORDER)
    else:
        assert m["payback_years"] is None and "payback_years" in m["notes"]
    dscr = dscr_lines(s)[0]
    has = np.isfinite(dscr)
    if has.any():
        assert_allclose([m["min_dscr"], m["avg_dscr"]], [dscr[has].min(), dscr[has].mean()], rtol=RTOL_SUM_ORDER)
        # LLCR by hand: PV at the senior rate of CFADS over the senior tenor / senior debt at COD
        c, r = case.construction_years, float(s.senior_rate[0])
        t = np.arange(c, s.senior_tenor_end)
        pv = np.sum(s.cfads_usd[0, t] / (1.0 + r) ** (t - (c - 1)))
        assert_allclose(m["llcr"], pv / s.senior_balance_cod_usd[0], rtol=RTOL_SUM_ORDER)
        assert [m["min_dscr_senior"], m["avg_dscr_senior"], m["llcr_senior"]] == [m["min_dscr"], m["avg_dscr"],
                                                                                   m["llcr"]]
    else:
        assert m["min_dscr"] is None and m["avg_dscr"] is None and m["llcr"] is None


def test_total_cover_by_hand(result):
    """Total DSCR: CFADS over senior + concessional service; total LLCR: PV of CFADS to the end
    of the longest tenor at the principal-weighted rate of all debt, over all debt at COD."""
    s, case, m = result.simulation, result.inputs, result.metrics
    service = s.senior_service_usd[0] + s.concessional_service_usd[0]
    due = service > 0
    if not due.any():
        assert m["min_dscr_total"] is None and "min_dscr_total" in m["notes"]
        return
    dscr = s.cfads_usd[0, due] / service[due]
    assert_allclose([m["min_dscr_total"], m["avg_dscr_total"]], [dscr.min(), dscr.mean()], rtol=RTOL_SUM_ORDER)
    debt = [(tr, row) for tr, row in zip(case.tranches, result.tranches) if tr.is_debt]
    principal = np.array([row["principal_usd"] for _, row in debt])
    rate = float(np.dot(principal, [tr.rate for tr, _ in debt]) / principal.sum())
    c = case.construction_years
    t = np.arange(c, max(c + tr.tenor_years for tr, _ in debt))
    pv = np.sum(s.cfads_usd[0, t] / (1.0 + rate) ** (t - (c - 1)))
    assert_allclose(m["llcr_total"], pv / principal.sum(), rtol=RTOL_SUM_ORDER)
    assert m["min_dscr_total"] <= (m["min_dscr_senior"] or np.inf)


def test_tranche_amounts_are_the_year_sums(result):
    s = result.simulation
    for row, tr in zip(result.tranches, result.inputs.tranches):
        flows = s.tranche_flows_ccy[tr.name][0]
        assert_allclose([row["invested"], row["received"]],
                        [-flows[flows < 0].sum(), flows[flows > 0].sum()], rtol=RTOL_SUM_ORDER)
        if tr.is_equity:
            usd = s.tranche_flows_usd[tr.name][0]
            assert_allclose([row["contribution_usd"], row["distributions_usd"]],
                            [-usd[usd < 0].sum(), usd[usd > 0].sum()], rtol=RTOL_SUM_ORDER)
        elif tr.is_debt:
            sch = s.debt_schedules[tr.name]  # lines in the tranche's own currency
            fx = s.tranche_fx[tr.name]
            assert_allclose([row["drawn_usd"], row["idc_usd"], row["interest_usd"]],
                            [(sch.draw_usd / fx).sum(), (sch.idc_usd / fx).sum(), (sch.interest_usd / fx).sum()],
                            rtol=RTOL_SUM_ORDER)
        else:
            g = s.guarantee_lines[tr.name]
            assert_allclose([row["calls_usd"], row["fees_usd"], row["reimbursed_usd"], row["exposure_max_usd"]],
                            [g["call_usd"].sum(), g["fee_usd"].sum(), g["reimbursement_usd"].sum(),
                             g["exposure_usd"].max()], rtol=RTOL_SUM_ORDER)
    m = result.metrics
    assert_allclose([m["equity_usd"], m["energy_lifetime_mwh"], m["tax_total_usd"]],
                    [s.equity_contribution_usd.sum(), s.energy_mwh.sum(), s.tax_usd.sum()], rtol=RTOL_SUM_ORDER)


def test_base_case_fx_paths_stay_read_only():
    sim = run_case(CaseInputs.from_dict(BASE_CASE)).simulation
    for name, fx in sim.tranche_fx.items():
        assert fx.shape == sim.cfads_usd.shape
        assert not fx.flags.writeable, name
