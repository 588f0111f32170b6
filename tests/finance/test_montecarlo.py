"""Monte Carlo: vectorized draws equal a Python loop over the same draws; progress; tornado."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from finance.inputs import CaseInputs
from finance.montecarlo import (
    MonteCarloSpec,
    Z_P90,
    _evaluate,
    draw_drivers,
    python_loop_reference,
    run_montecarlo,
    tornado,
)
from finance_cases import BASE_CASE

#: The vectorized and looped evaluations run the same arithmetic.
LOOP_RTOL = 1e-9


@pytest.fixture(scope="module")
def case():
    return CaseInputs.from_dict(BASE_CASE)


def test_vectorized_equals_python_loop(case):
    spec = MonteCarloSpec(n_draws=12, price_sigma=0.15, capex_sigma=0.08, opex_sigma=0.1)
    drivers = draw_drivers(case, spec, 12, np.random.default_rng(7))
    vec = _evaluate(case, drivers, 1.0)[0]
    loop = python_loop_reference(case, drivers)
    for name in vec:
        assert_allclose(vec[name], loop[name], rtol=LOOP_RTOL)


def test_energy_spread_reproduces_p90(case):
    spec = MonteCarloSpec(n_draws=20_000)
    d = draw_drivers(case, spec, 20_000, np.random.default_rng(1))
    # 10th percentile of energy = P90 / P50 within sampling error (~0.3 %)
    assert_allclose(np.percentile(d.energy_factor, 10), 230_000 / 250_000, rtol=0.005)
    assert_allclose(Z_P90, 1.2815515655446004, rtol=1e-12)


def test_run_reports_progress_and_probabilities(case):
    calls = []
    spec = MonteCarloSpec(n_draws=1000, chunk=300, price_sigma=0.2, capex_sigma=0.1, opex_sigma=0.1, seed=3)
    res = run_montecarlo(case, spec, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(300, 1000), (600, 1000), (900, 1000), (1000, 1000)]
    assert 0.0 < res.p_dscr_breach < 1.0
    # a guarantee is only called once the DSRA is exhausted, i.e. in a breaching draw
    assert 0.0 <= res.p_guarantee_call <= res.p_dscr_breach
    assert res.min_dscr.shape == (1000,)
    summary = res.summary()
    assert summary["equity_irr"]["Pension equity"]["p10"] < summary["equity_irr"]["Pension equity"]["p90"]
    # same seed, same answer
    again = run_montecarlo(case, spec)
    assert_allclose(again.min_dscr, res.min_dscr, rtol=0)


def test_tornado_sorted_and_signed(case):
    rows = tornado(case, swings=(("energy", 0.9, 1.1), ("capex", 0.9, 1.1), ("fx_CAD", 0.9, 1.1)))
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    energy = next(r for r in rows if r["driver"] == "energy")
    capex = next(r for r in rows if r["driver"] == "capex")
    assert energy["high_irr"] > energy["base_irr"] > energy["low_irr"]
    assert capex["high_irr"] < capex["base_irr"] < capex["low_irr"]


def test_bad_spec():
    with pytest.raises(ValueError, match="n_draws"):
        MonteCarloSpec(n_draws=0)
    with pytest.raises(ValueError, match="price_sigma"):
        MonteCarloSpec(price_sigma=-0.1)
