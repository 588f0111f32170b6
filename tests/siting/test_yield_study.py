"""Detailed studies: request validation, contract names, loss tree, P-values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from siting import wind
from siting.uncertainty import (PV_UNCERTAINTY_DEFAULTS, UncertaintyBudget,
                                exceedance_values)
from siting.yield_study import (PVRequest, WindRequest, YieldInputError, run_pv_study,
                                run_wind_study)

HAND_RTOL = 1e-9
AGUASCALIENTES = "765710"
MATAMOROS = "763990"
PV_OK = {"lat": 21.9, "lon": -102.3, "capacity_dc_kw": 1000.0}
WIND_OK = {"lat": 25.9, "lon": -97.6, "turbine_type": "E-126/4200", "hub_height_m": 135.0}
CONTRACT_KEYS = {"energy_annual_kwh", "energy_monthly_kwh", "capacity_factor", "p50_kwh",
                 "p90_kwh", "station", "losses", "assumptions"}


@pytest.mark.parametrize("patch, field", [
    ({"capacity_dc_kw": 0}, "capacity_dc_kw"),
    ({"capacity_dc_kw": -5}, "capacity_dc_kw"),
    ({"capacity_dc_kw": "big"}, "capacity_dc_kw"),
    ({"tilt_deg": 95}, "tilt_deg"),
    ({"tilt_deg": -1}, "tilt_deg"),
    ({"dc_ac_ratio": 3.0}, "dc_ac_ratio"),
    ({"dc_ac_ratio": 0.4}, "dc_ac_ratio"),
    ({"tracking": "dual_axis"}, "tracking"),
    ({"gcr": 1.5}, "gcr"),
    ({"system_losses": 14}, "system_losses"),
    ({"lat": 43.65, "lon": -79.38}, "lat"),     # Toronto: outside Mexico
    ({"lon": -60.0}, "lon"),
    ({"station_id": "MMAS"}, "station_id"),
    ({"colour": "blue"}, "colour"),
    ({"azimuth_deg": float("nan")}, "azimuth_deg"),
])
def test_pv_request_bad_input_names_field(patch, field):
    with pytest.raises(YieldInputError) as err:
        PVRequest.from_dict({**PV_OK, **patch})
    assert err.value.field == field and field in str(err.value)
    assert isinstance(err.value, ValueError)


def test_pv_request_missing_field():
    with pytest.raises(YieldInputError) as err:
        PVRequest.from_dict({"lon": -102.3, "capacity_dc_kw": 10})
    assert err.value.field == "lat"


def test_pv_request_defaults():
    r = PVRequest.from_dict(PV_OK)
    # default tilt from Jacobson & Jadhav at 21.9° N, rounded to 0.1°
    assert r.tilt_deg == pytest.approx(21.6, abs=0.1)
    assert r.tracking == "fixed" and r.azimuth_deg == 180.0
    np.testing.assert_allclose(r.system_losses, 0.140757, rtol=1e-4)
    assert PVRequest.from_dict({**PV_OK, "tracking": "single_axis"}).tilt_deg == 0.0
    assert PVRequest.from_dict({**PV_OK, "station_id": 765710}).station_id == "765710"


@pytest.mark.parametrize("patch, field", [
    ({"turbine_type": "V999/1"}, "turbine_type"),
    ({"turbine_type": None}, "turbine_type"),
    ({"hub_height_m": 5.0}, "hub_height_m"),     # below the 10 m measurement height
    ({"hub_height_m": 260.0}, "hub_height_m"),   # above 250 m
    ({"turbine_count": 0}, "turbine_count"),
    ({"turbine_count": 2.5}, "turbine_count"),
    ({"roughness_length_m": 0.0}, "roughness_length_m"),
    ({"wake_losses": 1.0}, "wake_losses"),
    ({"other_losses": -0.1}, "other_losses"),
    ({"land_cover": "lava"}, "land_cover"),
    ({"lat": 10.0}, "lat"),
])
def test_wind_request_bad_input_names_field(patch, field):
    with pytest.raises(YieldInputError) as err:
        WindRequest.from_dict({**WIND_OK, **patch})
    assert err.value.field == field


def test_uncertainty_hand_values():
    # σ1 = √(0.04² + 0.05² + 0.03² + 0.02²) = √0.0054; σ10 = √(0.04²/10 + 0.05² + 0.03² + 0.02²)
    b = UncertaintyBudget(PV_UNCERTAINTY_DEFAULTS)
    np.testing.assert_allclose(b.combined(1), math.sqrt(0.0054), rtol=HAND_RTOL)
    np.testing.assert_allclose(b.combined(10), math.sqrt(0.0016 / 10 + 0.0038), rtol=HAND_RTOL)
    p = exceedance_values(1000.0, b, 1)
    np.testing.assert_allclose(p["p90"], 1000 * (1 - norm.ppf(0.9) * math.sqrt(0.0054)),
                               rtol=HAND_RTOL)
    assert p["p50"] == 1000.0 and p["p99"] < p["p90"] < p["p75"] < p["p50"]
    with pytest.raises(ValueError, match="years"):
        b.combined(0)
    with pytest.raises(ValueError, match="model"):
        UncertaintyBudget({"model": 2.0})


def test_pv_study_contract(parsed):
    frame, station = parsed[AGUASCALIENTES]
    r = PVRequest.from_dict({**PV_OK, "tracking": "single_axis", "gcr": 0.35,
                             "dc_ac_ratio": 1.3})
    res = run_pv_study(r, frame, station, 6.2, elevation_difference_m=-10.0)
    d = res.to_dict()
    assert CONTRACT_KEYS <= set(d)
    assert {"p75_kwh", "p99_kwh", "specific_yield_kwh_per_kwp", "performance_ratio"} <= set(d)
    json.dumps(d)  # JSON-able
    assert d["station"]["id"] == AGUASCALIENTES and d["station"]["distance_km"] == 6.2
    assert len(d["energy_monthly_kwh"]) == 12
    assert res.energy_hourly_kwh.shape == (8760,)
    np.testing.assert_allclose(sum(d["energy_monthly_kwh"]), d["energy_annual_kwh"], rtol=1e-12)
    np.testing.assert_allclose(res.energy_hourly_kwh.sum(), d["energy_annual_kwh"], rtol=1e-12)
    np.testing.assert_allclose(d["capacity_factor"], d["energy_annual_kwh"] / (1000 * 8760),
                               rtol=HAND_RTOL)
    np.testing.assert_allclose(d["specific_yield_kwh_per_kwp"], d["energy_annual_kwh"] / 1000,
                               rtol=HAND_RTOL)
    assert 0.6 < d["performance_ratio"] < 0.95
    assert d["p99_kwh"] < d["p90_kwh"] < d["p75_kwh"] < d["p50_kwh"] == d["energy_annual_kwh"]
    assert d["p90_10_year_kwh"] > d["p90_kwh"]
    # loss tree: nominal · Π(1 - fraction) = delivered energy; system items are named
    names = [x["name"] for x in d["losses"]]
    for item in ("soiling", "shading", "mismatch", "wiring", "connections",
                 "light_induced_degradation", "nameplate", "availability",
                 "inverter_efficiency", "inverter_clipping"):
        assert item in names
    nominal = d["assumptions"]["poa_irradiation_kwh_per_m2"] * 1000
    np.testing.assert_allclose(nominal * np.prod([1 - x["fraction"] for x in d["losses"]]),
                               d["energy_annual_kwh"], rtol=1e-9)
    np.testing.assert_allclose(nominal - sum(x["energy_kwh"] for x in d["losses"]),
                               d["energy_annual_kwh"], rtol=1e-9)
    assert len(res.to_dict(hourly=True)["energy_hourly_kwh"]) == 8760


def test_pv_study_rejects_bad_weather(parsed):
    frame, station = parsed[AGUASCALIENTES]
    r = PVRequest.from_dict(PV_OK)
    with pytest.raises(ValueError, match="rows"):
        run_pv_study(r, frame.iloc[:100], station, 1.0)
    with pytest.raises(ValueError, match="columns"):
        run_pv_study(r, frame.drop(columns="dni"), station, 1.0)


def test_wind_study_contract_and_wrf_scaling(parsed):
    frame, station = parsed[MATAMOROS]
    r = WindRequest.from_dict({**WIND_OK, "turbine_count": 10})
    plain = run_wind_study(r, frame, station, 3.0)
    d = plain.to_dict()
    assert CONTRACT_KEYS <= set(d)
    assert d["assumptions"]["wind_scaled_to_wrf"] is False
    assert d["station"]["name"].startswith("Matamoros")
    assert [x["name"] for x in d["losses"]] == ["air_density", "wake", "availability",
                                                "electrical"]
    np.testing.assert_allclose(d["capacity_factor"], d["energy_annual_kwh"] / (42000 * 8760),
                               rtol=HAND_RTOL)
    wrf = wind.WrfSiteMean(True, 7.0, 80.0, 0)
    scaled = run_wind_study(r, frame, station, 3.0, wrf=wrf)
    # 7 m/s at 80 m carried to 135 m: 7·ln(1350)/ln(800)
    expected = 7.0 * math.log(135 / 0.1) / math.log(80 / 0.1)
    np.testing.assert_allclose(scaled.assumptions["mean_hub_wind_speed_m_s"], expected,
                               rtol=1e-9)
    assert scaled.assumptions["wind_scaled_to_wrf"] is True
    json.dumps(scaled.to_dict())
