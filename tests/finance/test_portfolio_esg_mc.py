"""ESG arithmetic (finance/esg.py) by hand, and the fund Monte Carlo
(finance/portfolio_montecarlo.py) against the deterministic engine and numpy-financial."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
from numpy.testing import assert_allclose

import finance
from finance.esg import (
    MX_GRID_EMISSION_FACTOR,
    EmissionFactor,
    avoided_emissions_tco2e,
    climate_metrics_by_technology,
    goal_contribution,
    pcaf_attribution_factor,
)
from finance.montecarlo import MonteCarloSpec
from finance.portfolio import WaterfallTerms, fund_cash_flows, fund_waterfall, roll_up
from finance.portfolio_montecarlo import Holding, portfolio_montecarlo

#: Round-off only. [-]
RTOL = 1e-12
#: The engine's flows and numpy-financial's IRR agree to this. [-]
IRR_RTOL = 1e-8

CASE = {
    "capacity_mw": 40, "energy_p50_mwh": 96_000, "energy_p90_mwh": 88_000,
    "degradation": 0.005, "life_years": 20, "construction_years": 1, "capex_usd": 36e6,
    "opex_usd_per_kw_year": 14, "opex_escalation": 0.02, "ppa_price_usd_per_mwh": 52,
    "ppa_escalation": 0.01, "ppa_term_years": 15, "merchant_price_usd_per_mwh": 42,
    "tax_rate": 0.30, "ptu_rate": 0.10, "depreciation": "mx_renewable_100",
    "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.068,
         "tenor_years": 12, "target_dscr": 1.35, "max_gearing": 0.75, "fee": 0.01},
        {"name": "Fund", "kind": "equity", "currency": "USD", "share": 1.0},
    ],
}


def test_avoided_emissions_and_goal_by_hand():
    assert MX_GRID_EMISSION_FACTOR.tco2e_per_mwh == 0.438 and MX_GRID_EMISSION_FACTOR.year == 2023
    assert avoided_emissions_tco2e(250_000.0) == pytest.approx(109_500.0, rel=RTOL)
    other = EmissionFactor(0.5, 2020, "test")
    assert_allclose(avoided_emissions_tco2e([1.0, 2.0], other), [0.5, 1.0])
    g = goal_contribution(1_000_000.0, goal_fraction=0.45, national_generation_mwh=2e8)
    assert g["goal_clean_mwh"] == 9e7 and g["share_of_goal"] == pytest.approx(1 / 90, rel=RTOL)
    with pytest.raises(ValueError):
        avoided_emissions_tco2e(-1.0)
    with pytest.raises(ValueError):
        EmissionFactor(-0.1, 2023, "x")


def test_pcaf_attribution_and_table():
    assert pcaf_attribution_factor(25e6, 100e6) == 0.25
    with pytest.raises(ValueError):
        pcaf_attribution_factor(120e6, 100e6)
    rows = [{"technology": "pv", "capacity_mw": 60, "energy_mwh": 150_000, "attribution": 0.5},
            {"technology": "wind", "capacity_mw": 100, "energy_mwh": 350_000, "attribution": 0.2},
            {"technology": "pv", "capacity_mw": 40, "energy_mwh": 90_000, "attribution": 1.0}]
    table = {r["technology"]: r for r in climate_metrics_by_technology(rows)}
    assert table["pv"]["capacity_mw"] == 100 and table["pv"]["attributable_capacity_mw"] == 70
    assert table["pv"]["attributable_energy_mwh"] == 75_000 + 90_000
    assert table["pv"]["avoided_tco2e"] == pytest.approx(240_000 * 0.438, rel=RTOL)
    assert table["wind"]["financed_lifecycle_tco2e"] == pytest.approx(0.2 * 350_000 * 0.011,
                                                                      rel=RTOL)
    assert table["total"]["energy_mwh"] == 590_000  # totals = sum of projects
    assert table["total"]["financed_emissions_tco2e"] == 0.0  # no combustion


def test_montecarlo_without_spread_equals_the_deterministic_fund():
    inputs = finance.CaseInputs.from_dict(CASE)
    flows = finance.run_case(inputs).simulation.tranche_flows_usd["Fund"][0]
    holdings = [Holding(inputs, "Fund", 0.5, 0, 0), Holding(inputs, "Fund", 1.0, 2, 1)]
    n_years = 2 + flows.size
    fees = np.zeros(n_years)
    fees[:3] = 100_000.0
    spec = MonteCarloSpec(n_draws=3, seed=1)
    out = portfolio_montecarlo(holdings, np.ones((3, 2)), spec, n_years=n_years, fees=fees,
                               terms=WaterfallTerms())
    gross = roll_up([0.5 * flows, flows], [0, 2], n_years)
    assert_allclose(out["draws"]["gross_irr"], npf.irr(gross), rtol=IRR_RTOL)
    paid, dist = fund_cash_flows(gross, fees)
    lp = fund_waterfall(paid, dist, WaterfallTerms()).lp
    assert_allclose(out["draws"]["net_irr"], npf.irr(lp - paid), rtol=IRR_RTOL)
    assert out["net_irr"]["p50"] < out["gross_irr"]["p50"]  # fees and carry cost the LPs


def test_montecarlo_spread_and_correlated_energy():
    inputs = finance.CaseInputs.from_dict(CASE)
    holdings = [Holding(inputs, "Fund", 1.0, 0, 0, capex_sigma=0.05)]
    n = 400
    rng = np.random.default_rng(3)
    factors = 1 + 0.08 * rng.standard_normal((n, 1))
    out = portfolio_montecarlo(holdings, factors, MonteCarloSpec(n_draws=n, seed=2),
                               n_years=inputs.n_years, fees=np.zeros(inputs.n_years),
                               terms=WaterfallTerms())
    g = out["draws"]["gross_irr"]
    # more energy, more return: the draws' IRR rises with the energy factor
    assert np.corrcoef(factors[:, 0], g)[0, 1] > 0.5
    assert out["gross_irr"]["p10"] < out["gross_irr"]["p90"]
    with pytest.raises(ValueError):
        Holding(inputs, "Nope", 1.0, 0, 0)
