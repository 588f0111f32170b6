"""The compiled Monte Carlo pass equals the full model (``simulate``) draw by draw.

:func:`finance.montecarlo_kernel.evaluate_draws` keeps only per-draw summaries; the
reference is :func:`finance.montecarlo._evaluate_simulated`, which runs
:func:`finance.cashflow.simulate` (every line kept) on the same drivers, and the Python
loop over draws of :func:`finance.montecarlo.python_loop_reference`. Stacks cover every
branch of the kernel: several currencies with random FX, concessional debt by share and
by amount, two senior tranches, grace, P90 sizing, two construction years,
straight-line depreciation, hurdles, guarantees on senior and concessional debt, no
senior debt at all.
"""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from finance.cashflow import Drivers
from finance.inputs import CaseInputs, FinanceInputError
from finance.montecarlo import (
    MC_SIZING_TOLERANCE,
    MonteCarloSpec,
    _evaluate,
    _evaluate_simulated,
    draw_drivers,
    python_loop_reference,
    run_montecarlo,
)
from finance.montecarlo_kernel import evaluate_draws, plan_draws
from finance_cases import BASE_CASE, BLENDED_MXN_CASE, SIMPLE_CASE

#: The compiled pass and the full model run the same arithmetic (same row functions for
#: sizing, tax, waterfall, split and IRR); only summation order differs (NPV). [-]
KERNEL_RTOL = 1e-9
#: Wide uncertainty so that draws breach their DSCR and call guarantees.
WIDE = MonteCarloSpec(n_draws=64, price_sigma=0.3, capex_sigma=0.15, opex_sigma=0.3, energy_sigma=0.15)


def _variant_case():
    """Two senior tranches (one with grace), P90 sizing, two construction years,
    straight-line depreciation, concessional debt by amount in CAD guaranteed in MXN,
    a hurdle on the pension equity."""
    d = copy.deepcopy(BASE_CASE)
    d.update(construction_years=2, capex_schedule=[0.4, 0.6], depreciation="straight_line", sizing_basis="p90",
             dsra_months=9)
    d["tranches"] = [
        {"name": "Senior A", "kind": "senior_debt", "currency": "USD", "rate": 0.07, "tenor_years": 18,
         "target_dscr": 1.30, "max_gearing": 0.75, "fee": 0.01, "share": 0.6},
        {"name": "Senior B", "kind": "senior_debt", "currency": "MXN", "rate": 0.10, "tenor_years": 15,
         "grace_years": 2, "target_dscr": 1.30, "fee": 0.015, "share": 0.4},
        {"name": "Concessional", "kind": "concessional_debt", "currency": "CAD", "rate": 0.02,
         "tenor_years": 20, "grace_years": 3, "amount": 12e6, "fee": 0.005},
        {"name": "Guarantee senior", "kind": "guarantee", "currency": "MXN", "covers": "Senior A",
         "coverage": 0.5, "fee": 0.005},
        {"name": "Guarantee conc", "kind": "guarantee", "currency": "USD", "covers": "Concessional",
         "coverage": 1.0, "fee": 0.002},
        {"name": "Pension equity", "kind": "equity", "currency": "CAD", "share": 0.6, "hurdle_rate": 0.05},
        {"name": "Fund equity", "kind": "equity", "currency": "MXN", "share": 0.1},
        {"name": "First loss", "kind": "first_loss_equity", "currency": "USD", "share": 0.3},
    ]
    return d


def _no_senior_case():
    d = copy.deepcopy(BASE_CASE)
    d["tranches"] = [t for t in d["tranches"] if t["kind"] in ("equity", "first_loss_equity", "concessional_debt")]
    return d


def _peso_case():
    """Issue 12: a peso concessional tranche guaranteed in pesos, a peso senior tranche, PTU
    capped by a small payroll, an elected 20 %/yr depreciation, and a total-gearing limit
    that caps the senior debt in most draws (``run_case`` refuses such a case; the draws'
    sizing caps the senior tranche at the limit, in both passes alike)."""
    d = copy.deepcopy(BLENDED_MXN_CASE)
    d.update(ptu_payroll_usd_per_year=80_000, depreciation_rate=0.2, max_total_gearing=0.78)
    d["tranches"][0].update(currency="MXN", rate=0.10, max_gearing=0.7, fee=0.01)
    d["tranches"].insert(2, {"name": "Bancomext", "kind": "guarantee", "currency": "MXN", "covers": "Nafin",
                             "coverage": 0.8, "fee": 0.01})
    return d


CASES = {
    "peso": _peso_case(),
    "blended": BASE_CASE,
    "simple": SIMPLE_CASE,
    "variant": _variant_case(),
    "no_senior": _no_senior_case(),
}


def _assert_same(fast, ref):
    names = ("equity_irr", "equity_npv")
    for part, name in zip(fast[:2], names):
        assert part.keys() == ref[names.index(name)].keys()
    for holder in ref[0]:
        assert_allclose(fast[0][holder], ref[0][holder], rtol=KERNEL_RTOL, err_msg=f"IRR {holder}")
        assert_allclose(fast[1][holder], ref[1][holder], rtol=KERNEL_RTOL, err_msg=f"NPV {holder}")
    for label, a, b in zip(("min_dscr", "debt_usd", "guarantee_calls_usd"), fast[2:5], ref[2:5]):
        assert_allclose(a, b, rtol=KERNEL_RTOL, err_msg=label)
    np.testing.assert_array_equal(fast[5], ref[5])
    assert_allclose(fast[6], ref[6], rtol=KERNEL_RTOL, err_msg="min_dscr_total")  # issue 12


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_pass_equals_full_model(name):
    case = CaseInputs.from_dict(CASES[name])
    drivers = draw_drivers(case, WIDE, WIDE.n_draws, np.random.default_rng(11))
    fast = _evaluate(case, drivers, 1.0)
    ref = _evaluate_simulated(case, drivers, 1.0)
    _assert_same(fast, ref)
    if name == "no_senior":
        assert np.all(np.isnan(fast[2])) and not fast[5].any()
    if name in ("blended", "variant"):
        # the wide spread reaches the guarantee and breach branches of the waterfall
        assert fast[5].any() and (fast[4] > 0).any()


def test_compiled_pass_equals_python_loop():
    case = CaseInputs.from_dict(_variant_case())
    drivers = draw_drivers(case, WIDE, 10, np.random.default_rng(5))
    loop = python_loop_reference(case, drivers)
    fast = _evaluate(case, drivers, 1.0)[0]
    for holder, rates in loop.items():
        assert_allclose(fast[holder], rates, rtol=KERNEL_RTOL)


def test_run_montecarlo_equals_full_model_chunk_by_chunk():
    case = CaseInputs.from_dict(BASE_CASE)
    spec = MonteCarloSpec(n_draws=50, chunk=20, seed=9, price_sigma=0.2, capex_sigma=0.1, opex_sigma=0.1)
    res = run_montecarlo(case, spec)
    rng = np.random.default_rng(spec.seed)
    parts = [_evaluate_simulated(case, draw_drivers(case, spec, n, rng), spec.breach_dscr) for n in (20, 20, 10)]
    for holder in res.equity_irr:
        assert_allclose(res.equity_irr[holder], np.concatenate([p[0][holder] for p in parts]), rtol=KERNEL_RTOL)
        assert_allclose(res.equity_npv[holder], np.concatenate([p[1][holder] for p in parts]), rtol=KERNEL_RTOL)
    assert_allclose(res.min_dscr, np.concatenate([p[2] for p in parts]), rtol=KERNEL_RTOL)
    assert_allclose(res.debt_usd, np.concatenate([p[3] for p in parts]), rtol=KERNEL_RTOL)
    assert res.p_dscr_breach == np.concatenate([p[5] for p in parts]).mean()


@settings(max_examples=12, deadline=None)
@given(
    energy=st.floats(0.0, 1.6),
    price=st.floats(0.0, 2.5),
    capex=st.floats(0.3, 2.0),
    opex=st.floats(0.0, 3.0),
    fx=st.floats(0.4, 2.5),
)
def test_law_compiled_pass_equals_full_model_for_any_driver(energy, price, capex, opex, fx):
    case = CaseInputs.from_dict(_variant_case())
    one = np.ones(1)
    t = case.n_years
    drivers = Drivers(energy * one, price * one, capex * one, opex * one,
                      {"MXN": np.full((1, t), fx), "CAD": np.full((1, t), 1.0 / fx)})
    _assert_same(_evaluate(case, drivers, 1.0), _evaluate_simulated(case, drivers, 1.0))


def test_concessional_above_capex_raises_like_the_full_model():
    d = _variant_case()
    d["tranches"][2]["amount"] = 100e6 * 1.38  # CAD: USD 100 M against USD 90 M CAPEX
    case = CaseInputs.from_dict(d)
    drivers = Drivers.base(3)
    with pytest.raises(FinanceInputError, match="concessional debt reaches or exceeds CAPEX") as fast:
        _evaluate(case, drivers, 1.0)
    with pytest.raises(FinanceInputError, match="concessional debt reaches or exceeds CAPEX") as ref:
        _evaluate_simulated(case, drivers, 1.0)
    assert fast.value.field == ref.value.field == "tranches[2].amount"


@pytest.mark.parametrize(
    ("factor", "message"),
    [
        (np.array([1.0, -0.1]), "drivers must be finite and non-negative"),
        (np.array([1.0, np.nan]), "drivers must be finite and non-negative"),
        (np.array([1.0, np.inf]), "drivers must be finite and non-negative"),
        (np.ones(3), r"driver arrays must have shape \(2,\), got \(3,\)"),
    ],
)
def test_bad_drivers(factor, message):
    case = CaseInputs.from_dict(BASE_CASE)
    plan = plan_draws(case, MC_SIZING_TOLERANCE)
    one = np.ones(2)
    with pytest.raises(ValueError, match=message):
        evaluate_draws(plan, Drivers(one, one, factor, one), 1.0)


def test_bad_fx_factor_shape():
    case = CaseInputs.from_dict(BASE_CASE)
    plan = plan_draws(case, MC_SIZING_TOLERANCE)
    one = np.ones(2)
    with pytest.raises(ValueError, match=r"fx path of MXN must be positive and finite with shape \(2, 31\)"):
        evaluate_draws(plan, Drivers(one, one, one, one, {"MXN": np.ones((2, 5))}), 1.0)
    bad = np.ones((2, case.n_years))
    bad[1, 4] = -1.0
    with pytest.raises(ValueError, match="fx paths must be positive and finite"):
        evaluate_draws(plan, Drivers(one, one, one, one, {"MXN": bad}), 1.0)
