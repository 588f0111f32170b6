"""Issue 12's corrections, checked against independent computations.

* Debt in its own currency: the lender's IRR in its currency (numpy-financial ``irr`` on
  its own-currency flows) equals the coupon when paid as agreed; the schedule is the
  annuity (or the sculpted service) of the loan in that currency, converted at the FX
  path when paid.
* The depreciation election: losses that expire are reported with their amount (closed
  form below); the helper's rate is worth at least every rate of its scan.
* All debt counts: a stack over the total-gearing limit is refused naming it; total DSCR
  counts concessional service.
* Several IRRs: the note lists every root and the MIRR equals numpy-financial's.
* PTU under the LFT art. 127 fr. VIII cap, worked by hand.
* Guarantee fees deducted as interest (LISR art. 8): the taxable profit identity.
"""

import copy

import numpy as np
import numpy_financial as npf
import pytest
from finance_cases import BASE_CASE, BLENDED_MXN_CASE, SIMPLE_CASE
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from finance.case import run_case
from finance.election import best_depreciation_rate
from finance.inputs import DEFAULT_MAX_TOTAL_GEARING, CaseInputs, FinanceInputError
from finance.returns import irr_roots, mirr, sign_changes
from finance.tax import PTU_CAP_MONTHS, income_tax, ptu_cap_usd

#: The issue's bar: the lender's own-currency IRR equals its coupon within this. [1/year]
COUPON_ATOL = 1e-9
#: Hand arithmetic is exact to rounding. [-]
HAND_RTOL = 1e-12
#: numpy-financial against our vectorized formula (same formula, other summation). [-]
NPF_RTOL = 1e-12

MXN_PARITY = {"spot_per_usd": 17.0, "mode": "parity", "interest_rate": 0.09, "usd_interest_rate": 0.045}


def blended_mxn_case():
    """The blended MXN case: USD senior debt, a Nafin-style MXN concessional tranche (peso
    rates and a depreciating peso by interest parity), equity in USD and MXN."""
    d = copy.deepcopy(BLENDED_MXN_CASE)
    d["fx"] = {"MXN": dict(MXN_PARITY)}
    return d


def _row(result, name):
    return next(r for r in result.tranches if r["name"] == name)


# --------------------------------------------------------------------------- 1. own currency


@pytest.mark.parametrize("currency, fx", [("MXN", MXN_PARITY),
                                          ("CAD", {"spot_per_usd": 1.38, "mode": "path",
                                                   "path_per_usd": [1.38, 1.30, 1.45, 1.25, 1.50, 1.60]})])
def test_concessional_lender_irr_in_its_currency_is_its_coupon(currency, fx):
    d = blended_mxn_case()
    d["fx"] = {currency: fx}
    d["tranches"][1]["currency"] = currency
    d["tranches"][3]["currency"] = currency
    res = run_case(CaseInputs.from_dict(d))
    sim = res.simulation
    assert sim.concessional_unpaid_usd.sum() == 0  # paid as agreed
    own = sim.tranche_flows_ccy["Nafin"][0]
    assert abs(npf.irr(own) - 0.02) < COUPON_ATOL
    assert abs(_row(res, "Nafin")["irr"] - 0.02) < COUPON_ATOL
    # the schedule is a peso (dollar) annuity: principal = share x CAPEX at the close spot,
    # 2 grace years of interest, then level service P r / (1 - (1+r)^-10) in the currency
    spot = fx["spot_per_usd"]
    p = 0.15 * d["capex_usd"] * spot
    level = p * 0.02 / (1 - 1.02 ** -10)
    expected = np.r_[-p, p * 0.02, p * 0.02, [level] * 10, np.zeros(d["life_years"] - 12)]
    assert_allclose(own, expected, rtol=HAND_RTOL, atol=1e-6)
    # in USD each payment is converted at the FX path of its year: FX moves reach CFADS cover
    path = sim.tranche_fx["Nafin"][0]
    assert_allclose(sim.concessional_service_usd[0, 1:], expected[1:] / path[1:], rtol=HAND_RTOL, atol=1e-9)


def test_peso_depreciation_lowers_the_dollar_cost_of_a_peso_loan():
    """A flat peso against a parity (depreciating) peso: the same peso schedule costs fewer
    dollars as the peso falls, so total cover improves."""
    flat = blended_mxn_case()
    flat["fx"] = {"MXN": {"spot_per_usd": 17.0}}
    moving = run_case(CaseInputs.from_dict(blended_mxn_case())).metrics
    still = run_case(CaseInputs.from_dict(flat)).metrics
    assert moving["min_dscr_total"] > still["min_dscr_total"]
    assert moving["avg_dscr_total"] > still["avg_dscr_total"]


def test_mxn_senior_is_sculpted_in_pesos_and_its_lender_earns_the_coupon():
    d = dict(blended_mxn_case(), max_total_gearing=1.0)
    d["tranches"][0].update(currency="MXN", rate=0.10, max_gearing=0.85)  # sized by DSCR, not capped
    res = run_case(CaseInputs.from_dict(d))
    sim = res.simulation
    fx = sim.tranche_fx["Senior"][0]
    sch = sim.debt_schedules["Senior"]  # pesos
    repay = sch.principal_usd[0] > 0
    # sculpted: the peso service converted at the path is CFADS / target DSCR
    assert_allclose(sch.debt_service_usd[0, repay] / fx[repay], sim.cfads_usd[0, repay] / 1.35, rtol=1e-9)
    assert abs(npf.irr(sim.tranche_flows_ccy["Senior"][0]) - 0.10) < COUPON_ATOL
    assert_allclose(res.metrics["min_dscr_senior"], 1.35, rtol=1e-9)


# --------------------------------------------------------------------------- 2. depreciation


def _loss_case(rate=1.0):
    """Equity only, no PTU, no escalation: CAPEX K deducted at ``rate``, EBITDA E a year."""
    return {"capacity_mw": 10, "energy_p50_mwh": 20_000, "life_years": 20, "capex_usd": 10e6,
            "ppa_price_usd_per_mwh": 30, "ptu_rate": 0.0, "discount_rate": 0.08, "depreciation_rate": rate,
            "tranches": [{"name": "Eq", "kind": "equity", "share": 1.0}]}


def test_expired_losses_reported_with_their_amount():
    """K = 10 M deducted in year 1 against E = 0.6 M: loss K - E in year 1, used E a year in
    years 2 … 11 (LISR art. 57), so K - 11 E = 3.4 M expires at the end of year 11."""
    res = run_case(CaseInputs.from_dict(_loss_case()))
    k, e = 10e6, 20_000 * 30
    m = res.metrics
    assert m["tax_losses_expired"] == [{"year": 11, "amount_usd": pytest.approx(k - 11 * e, rel=HAND_RTOL)}]
    assert_allclose(m["tax_losses_expired_usd"], k - 11 * e, rtol=HAND_RTOL)
    assert "tax_losses_expired_usd" in m["notes"]
    assert_allclose(res.cashflow_frame()["loss_expired_usd"].sum(), k - 11 * e, rtol=HAND_RTOL)


def test_a_lower_elected_rate_leaves_no_loss_to_expire():
    """At 5 %/yr the deduction (0.5 M) never exceeds EBITDA (0.6 M): no loss at all."""
    m = run_case(CaseInputs.from_dict(_loss_case(0.05))).metrics
    assert m["tax_losses_expired_usd"] == 0 and m["tax_losses_expired"] == []
    dep = run_case(CaseInputs.from_dict(_loss_case(0.05))).simulation.depreciation_usd[0]
    assert_allclose(dep[1:], [0.5e6] * 20, rtol=HAND_RTOL)


def test_election_helper_beats_every_scanned_rate_and_the_maximum():
    case = CaseInputs.from_dict(_loss_case())
    out = best_depreciation_rate(case, grid_step=0.05)
    assert all(out["best_value_usd"] >= s["value_usd"] - 1e-6 for s in out["scan"])
    assert out["gain_usd"] > 0 and out["best"]["tax_losses_expired_usd"] == 0
    assert 0 < out["best_rate"] < 1
    again = run_case(CaseInputs.from_dict(_loss_case(out["best_rate"]))).metrics
    assert_allclose(again["npv_usd"], out["best_value_usd"], rtol=HAND_RTOL)


@pytest.mark.parametrize("value", [0.0, 1.5, -0.1])
def test_depreciation_rate_out_of_range_names_the_field(value):
    with pytest.raises(FinanceInputError) as err:
        CaseInputs.from_dict(_loss_case(value))
    assert err.value.field == "depreciation_rate"


# --------------------------------------------------------------------------- 3. all debt


def _stack_99():
    d = copy.deepcopy(SIMPLE_CASE)
    d["ppa_price_usd_per_mwh"] = 200  # DSCR allows the 75 % senior cap
    d["tranches"] = [
        {"name": "Senior", "kind": "senior_debt", "rate": 0.065, "tenor_years": 15, "target_dscr": 1.35,
         "max_gearing": 0.75},
        {"name": "Concessional", "kind": "concessional_debt", "rate": 0.02, "tenor_years": 20, "share": 0.24},
        {"name": "Sponsor", "kind": "equity", "share": 1.0},
    ]
    return d


def test_total_gearing_over_the_limit_is_refused_naming_it():
    with pytest.raises(FinanceInputError) as err:
        run_case(CaseInputs.from_dict(_stack_99()))
    assert err.value.field == "max_total_gearing"
    assert f"{DEFAULT_MAX_TOTAL_GEARING:.2%}" in err.value.message


def test_total_gearing_allowed_up_to_an_explicit_limit_and_total_cover_counts_concessional():
    d = dict(_stack_99(), max_total_gearing=1.0)
    m = run_case(CaseInputs.from_dict(d)).metrics
    assert_allclose([m["gearing"], m["senior_gearing"]], [0.99, 0.75], rtol=1e-9)
    assert m["min_dscr_total"] < m["min_dscr_senior"]
    assert m["llcr_total"] < m["llcr_senior"]


def test_concessional_alone_over_the_limit_is_refused():
    d = _stack_99()
    d["tranches"][1]["share"] = 0.5
    d["max_total_gearing"] = 0.4
    with pytest.raises(FinanceInputError) as err:
        run_case(CaseInputs.from_dict(d))
    assert err.value.field == "max_total_gearing"


@pytest.mark.parametrize("value", [0.0, 1.01])
def test_max_total_gearing_out_of_range(value):
    with pytest.raises(FinanceInputError) as err:
        CaseInputs.from_dict(dict(SIMPLE_CASE, max_total_gearing=value))
    assert err.value.field == "max_total_gearing"


# --------------------------------------------------------------------------- 4. several IRRs


def _two_sign_changes():
    """Pre-tax project flows [-100, 230, -132] M USD: CAPEX 100 M, EBITDA 230 M a year for
    two years, decommissioning 362 M in the last; roots 10 % and 20 % (x = 1/(1+r) solves
    -100 + 230 x - 132 x² = 0)."""
    return {"capacity_mw": 100, "energy_p50_mwh": 1e6, "life_years": 2, "capex_usd": 100e6,
            "ppa_price_usd_per_mwh": 230, "decommissioning_usd": 362e6, "discount_rate": 0.08,
            "mirr_finance_rate": 0.06, "mirr_reinvestment_rate": 0.09,
            "tranches": [{"name": "Eq", "kind": "equity", "share": 1.0}]}


def test_two_sign_changes_carry_a_note_with_both_roots_and_numpy_financial_mirr():
    res = run_case(CaseInputs.from_dict(_two_sign_changes()))
    flows = res.simulation.project_fcf_pre_tax_usd[0]
    assert_allclose(flows, [-100e6, 230e6, -132e6], rtol=HAND_RTOL)
    m = res.metrics
    assert_allclose(m["irr_roots"]["project_irr_pre_tax"], [0.10, 0.20], rtol=1e-9)
    note = m["notes"]["project_irr_pre_tax"]
    assert "2 sign changes" in note and "10.0000%" in note and "20.0000%" in note
    assert_allclose(m["project_mirr_pre_tax"], npf.mirr(flows, 0.06, 0.09), rtol=NPF_RTOL)


def test_issue_example_roots_both_reported():
    """A flow with two valid IRRs of opposite signs: both are found."""
    roots = [0.1155, -0.0855]
    x1, x2 = 1 / (1 + roots[0]), 1 / (1 + roots[1])
    flows = -np.array([1.0, -(x1 + x2) / (x1 * x2), 1 / (x1 * x2)])  # -(1 - x/x1)(1 - x/x2) scaled
    assert sign_changes(flows) == 2
    assert_allclose(sorted(irr_roots(flows)), sorted(roots), rtol=1e-9)


#: Cash flows of a money amount: zero or at least a thousandth, at most a million (the
#: formula's ratio of a subnormal outflow overflows in numpy-financial itself). [currency]
_AMOUNTS = st.one_of(st.just(0.0), st.floats(1e-3, 1e6), st.floats(-1e6, -1e-3))


@settings(max_examples=60, deadline=None)
@given(st.lists(_AMOUNTS, min_size=2, max_size=30), st.floats(-0.5, 0.5), st.floats(-0.5, 0.5))
def test_mirr_equals_numpy_financial(values, fin, rei):
    v = np.array(values)
    expected = npf.mirr(v, fin, rei)
    got = mirr(v, fin, rei)
    if np.isnan(expected) or not np.isfinite(expected):
        assert np.isnan(got) or not np.isfinite(expected)
    else:
        assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_every_root_found_is_a_root():
    rng = np.random.default_rng(12)
    for _ in range(50):
        v = rng.normal(size=8) * 100
        for r in irr_roots(v):
            assert abs(npf.npv(r, v)) <= 1e-7 * np.abs(v).sum() * max(1.0, (1 + r) ** -7)


# --------------------------------------------------------------------------- 5. PTU cap


def test_ptu_cap_hand_worked():
    """Profit 1000 a year, PTU rate 10 % (100 uncapped). Payroll 200 → cap 3/12 × 200 = 50:
    PTU 50. Then the payroll falls to 40 (cap 10), but the average PTU of the last three
    years is 50 and the higher of the two applies (LFT art. 127 fr. VIII): PTU stays 50."""
    esc = np.array([1.0, 1.0, 1.0, 0.2, 0.2])
    cap = ptu_cap_usd(200.0, esc)
    assert_allclose(cap, [50, 50, 50, 10, 10], rtol=HAND_RTOL)
    r = income_tax(np.full(5, 1000.0), tax_rate=0.3, ptu_rate=0.1, ptu_cap_usd=cap)
    assert_allclose(r.ptu_usd[0], [50, 50, 50, 50, 50], rtol=HAND_RTOL)
    # years before the first count as zero in the average: from the start, payroll 40
    r = income_tax(np.full(3, 1000.0), tax_rate=0.3, ptu_rate=0.1, ptu_cap_usd=ptu_cap_usd(40.0, np.ones(3)))
    assert_allclose(r.ptu_usd[0], [10, 10, 10], rtol=HAND_RTOL)
    assert_allclose(r.isr_usd[0], 0.3 * (1000 - 10), rtol=HAND_RTOL)


def test_case_with_small_payroll_has_capped_ptu():
    d = copy.deepcopy(BASE_CASE)
    uncapped = run_case(CaseInputs.from_dict(d))
    d["ptu_payroll_usd_per_year"] = 120_000  # a few site staff
    capped = run_case(CaseInputs.from_dict(d))
    sim = capped.simulation
    esc = np.where(sim.operating, 1.02 ** (sim.years - 1), 0.0)
    cap = PTU_CAP_MONTHS / 12 * 120_000 * esc
    assert np.all(sim.ptu_usd[0] <= cap + 1e-9)
    assert_allclose(capped.metrics["ptu_usd"], sim.ptu_usd[0].sum(), rtol=HAND_RTOL)
    assert capped.metrics["ptu_usd"] < 0.1 * uncapped.metrics["ptu_usd"]
    assert capped.metrics["equity_irr"] > uncapped.metrics["equity_irr"]


def test_zero_payroll_means_no_ptu_and_negative_payroll_refused():
    d = dict(copy.deepcopy(SIMPLE_CASE), ptu_payroll_usd_per_year=0)
    assert run_case(CaseInputs.from_dict(d)).simulation.ptu_usd.sum() == 0
    with pytest.raises(FinanceInputError) as err:
        CaseInputs.from_dict(dict(d, ptu_payroll_usd_per_year=-1))
    assert err.value.field == "ptu_payroll_usd_per_year"


# --------------------------------------------------------------------------- 6. guarantee fees


def test_guarantee_fees_are_deducted_as_interest():
    res = run_case(CaseInputs.from_dict(BASE_CASE))
    f = res.cashflow_frame()
    fees_due = f["guarantee_fees_due_usd"].to_numpy()
    assert fees_due.sum() > 0
    profit = f["ebitda_usd"] - f["depreciation_usd"] - f["interest_usd"] - f["fees_usd"] - fees_due
    assert_allclose(f["taxable_profit_usd"], profit, rtol=1e-12, atol=1e-6)
    # fee due = fee × coverage × opening senior balance, where service is due
    sch = res.simulation.debt_schedules["Senior"]
    opening = np.r_[0.0, sch.balance_usd[0, :-1]]
    assert_allclose(fees_due, np.where(sch.debt_service_usd[0] > 0, 0.005 * 0.5 * opening, 0.0), rtol=HAND_RTOL)


# --------------------------------------------------------------------------- 9. Monte Carlo risks


def test_every_montecarlo_result_says_which_risks_were_not_drawn():
    from finance.montecarlo import Z_P90, MonteCarloSpec, run_montecarlo

    case = CaseInputs.from_dict(BASE_CASE)
    summary = run_montecarlo(case, MonteCarloSpec(n_draws=20)).summary()
    assert summary["risks_drawn"] == pytest.approx({"energy": 20_000 / (Z_P90 * 250_000), "fx_MXN": 0.10,
                                                    "fx_CAD": 0.05}, rel=HAND_RTOL)
    assert summary["risks_not_drawn"] == ["capex", "opex", "merchant_price"]
    # all debt counts in the Monte Carlo too: total cover is below senior cover in every percentile
    assert summary["min_dscr_senior"] == summary["min_dscr"]
    assert all(summary["min_dscr_total"][p] < summary["min_dscr_senior"][p] for p in ("p10", "p50", "p90"))
    assert "not drawn" in summary["risks_note"] or "held at their base value" in summary["risks_note"]
    full = MonteCarloSpec(n_draws=20, capex_sigma=0.1, opex_sigma=0.1, price_sigma=0.2)
    summary = run_montecarlo(case, full).summary()
    assert summary["risks_not_drawn"] == [] and summary["risks_note"] is None
