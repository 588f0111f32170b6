"""Correlated portfolio P50/P90 (finance/portfolio_risk.py): a two-project case computed by
hand, then the same case by independent Monte Carlo draws built here from scratch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from finance.portfolio_risk import (
    CORRELATION_LENGTH_KM,
    EnergyAsset,
    complementarity,
    component_correlation,
    energy_factor_draws,
    portfolio_exceedance,
)

#: z of the 90 % exceedance level, scipy.stats.norm.ppf(0.9) to 16 digits. [-]
Z90 = 1.2815515655446004
#: The formula is exact arithmetic: only round-off differs. [-]
RTOL = 1e-12
#: Monte Carlo draws of the independent check.
N_DRAWS = 400_000
#: Allowed distance of a Monte Carlo 10th percentile, in standard errors of that quantile.
MC_STANDARD_ERRORS = 5.0

A = EnergyAsset("Aguascalientes PV", "pv", 100_000.0,
                {"interannual_variability": 0.04, "model": 0.03, "other": 0.02,
                 "weather_file_representativeness": 0.05},
                model="pvwatts", weather_file="766860", latitude=22.0, longitude=-102.0)
B = EnergyAsset("San Luis PV", "pv", 150_000.0,
                {"interannual_variability": 0.05, "model": 0.03, "other": 0.02,
                 "weather_file_representativeness": 0.05},
                model="pvwatts", weather_file="766800", latitude=22.5, longitude=-101.0)


def _distance_law_of_cosines(lat1, lon1, lat2, lon2):
    """Great-circle distance by the spherical law of cosines (another route than haversine)."""
    p1, p2, dl = map(math.radians, (lat1, lat2, lon2 - lon1))
    return 6371.0088 * math.acos(math.sin(p1) * math.sin(p2)
                                 + math.cos(p1) * math.cos(p2) * math.cos(dl))


def _hand_sigma(years):
    rho = math.exp(-_distance_law_of_cosines(22.0, -102.0, 22.5, -101.0) / 1000.0)
    ia_a, ia_b = 0.04 * 100_000 / math.sqrt(years), 0.05 * 150_000 / math.sqrt(years)
    interannual = ia_a**2 + ia_b**2 + 2 * rho * ia_a * ia_b
    model = (0.03 * 100_000 + 0.03 * 150_000) ** 2  # same model: fully correlated
    weather = (0.05 * 100_000) ** 2 + (0.05 * 150_000) ** 2  # two stations: independent
    other = (0.02 * 100_000) ** 2 + (0.02 * 150_000) ** 2
    return math.sqrt(interannual + model + weather + other), rho


@pytest.mark.parametrize("years", [1, 10])
def test_two_projects_by_hand(years):
    sigma, _rho = _hand_sigma(years)
    out = portfolio_exceedance([A, B], years=years)
    assert_allclose(out["sigma_mwh"], sigma, rtol=RTOL)
    assert_allclose(out["energy_p90_mwh"], 250_000 - Z90 * sigma, rtol=RTOL)
    alone = [math.sqrt((0.04 / math.sqrt(years)) ** 2 + 0.03**2 + 0.02**2 + 0.05**2),
             math.sqrt((0.05 / math.sqrt(years)) ** 2 + 0.03**2 + 0.02**2 + 0.05**2)]
    sum_p90 = 100_000 * (1 - Z90 * alone[0]) + 150_000 * (1 - Z90 * alone[1])
    assert_allclose(out["sum_of_p90_mwh"], sum_p90, rtol=RTOL)
    assert out["diversification_benefit_mwh"] > 0
    assert_allclose(out["diversification_benefit_mwh"], 250_000 - Z90 * sigma - sum_p90, rtol=1e-9)


def test_two_projects_against_independent_monte_carlo_draws():
    sigma, rho = _hand_sigma(1)
    rng = np.random.default_rng(20261130)
    n = N_DRAWS
    # interannual: a 2x2 Cholesky written out; model: one shared draw; the rest independent
    z1, z2 = rng.standard_normal(n), rng.standard_normal(n)
    ia_a, ia_b = z1, rho * z1 + math.sqrt(1 - rho**2) * z2
    model = rng.standard_normal(n)
    e_a = 100_000 * (1 + 0.04 * ia_a + 0.03 * model + 0.02 * rng.standard_normal(n)
                     + 0.05 * rng.standard_normal(n))
    e_b = 150_000 * (1 + 0.05 * ia_b + 0.03 * model + 0.02 * rng.standard_normal(n)
                     + 0.05 * rng.standard_normal(n))
    p90_draws = np.percentile(e_a + e_b, 10)
    # standard error of the 10th percentile of a normal: sqrt(p(1-p)/n) / pdf(z)
    pdf = math.exp(-Z90**2 / 2) / math.sqrt(2 * math.pi) / sigma
    se = math.sqrt(0.1 * 0.9 / n) / pdf
    formula = portfolio_exceedance([A, B])["energy_p90_mwh"]
    assert abs(p90_draws - formula) < MC_STANDARD_ERRORS * se
    # and the module's own correlated draws (used by the fund's Monte Carlo) agree too
    factors = energy_factor_draws([A, B], n, np.random.default_rng(7))
    total = factors @ np.array([100_000.0, 150_000.0])
    assert abs(np.percentile(total, 10) - formula) < MC_STANDARD_ERRORS * se
    assert_allclose(np.percentile(factors[:, 0], 10) * 100_000,
                    100_000 * (1 - Z90 * math.sqrt(0.04**2 + 0.03**2 + 0.02**2 + 0.05**2)),
                    rtol=0.002)


def test_correlation_rules():
    wind = EnergyAsset("w", "wind", 1.0, {"model": 0.05}, model="pvwatts", latitude=22.0,
                       longitude=-102.0)
    r_model = component_correlation([A, B, wind], "model")
    assert r_model.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]  # same model name, other tech
    r_ia = component_correlation([A, B, wind], "interannual_variability")
    assert r_ia[0, 2] == 0 and r_ia[0, 0] == 1
    assert 0 < r_ia[0, 1] < 1
    assert component_correlation([A, B], "other").tolist() == [[1, 0], [0, 1]]
    same_station = EnergyAsset("c", "pv", 1.0, weather_file="766860")
    assert component_correlation([A, same_station], "weather_file_representativeness")[0, 1] == 1
    assert dict(CORRELATION_LENGTH_KM) == {"pv": 1000.0, "wind": 700.0}


def test_fully_correlated_projects_have_no_diversification_benefit():
    a = EnergyAsset("a", "pv", 100.0, {"model": 0.1}, model="m")
    b = EnergyAsset("b", "pv", 300.0, {"model": 0.1}, model="m")
    out = portfolio_exceedance([a, b])
    assert_allclose(out["energy_p90_mwh"], out["sum_of_p90_mwh"], rtol=RTOL)
    assert_allclose(out["diversification_benefit_mwh"], 0.0, atol=1e-9)


def test_bad_assets_are_refused():
    with pytest.raises(ValueError, match="energy_p50_mwh"):
        EnergyAsset("x", "pv", -1.0)
    with pytest.raises(ValueError, match="uncertainty"):
        EnergyAsset("x", "pv", 1.0, {"model": 1.5})
    with pytest.raises(ValueError, match="correlation length"):
        component_correlation([EnergyAsset("x", "hydro", 1.0)], "interannual_variability")


def test_complementarity_of_opposite_profiles():
    out = complementarity([0, 2, 0, 2], [2, 0, 2, 0])
    assert out["pearson_r"] == pytest.approx(-1.0, abs=1e-12)
    assert out["cv_pv"] == pytest.approx(1.0)  # mean 1, population std 1
    assert out["cv_combined"] == 0.0
    assert out["hours_without_output_pv"] == 2 and out["hours_without_output_combined"] == 0
    assert complementarity([1, 1], [0, 3])["pearson_r"] is None
    with pytest.raises(ValueError):
        complementarity([1, 2], [1])
