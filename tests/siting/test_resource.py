"""Resource method: MERRA-2 background, station IDW, WRF wind, shear, leave-one-out."""

import math

import numpy as np
import pandas as pd
import pytest
from windpowerlib.wind_speed import hellman

from siting import resource
from siting.parameters import HELLMANN_EXPONENT_NEUTRAL, ResourceParameters

try:
    from .screening_conftest import real_layers  # noqa: F401
except ImportError:
    from screening_conftest import real_layers  # noqa: F401

#: Tolerance of exact arithmetic. [-]
RTOL_EXACT = 1e-12
#: Tolerance of "at the station" (IDW distance floor 0.01 km vs ~200 km neighbours). [-]
RTOL_AT_STATION = 1e-4
#: Bars of the leave-one-station-out GHI error. [%]
GHI_LOO_RMSE_BAR_PCT = 5.0


def test_power_law_shear_hand_value():
    # 7 m/s at 80 m to 100 m with α = 1/7: 7 * 1.25 ** (1/7) = 7 * exp(ln 1.25 / 7) = 7 * 1.032391 = 7.22674
    np.testing.assert_allclose(resource.power_law_shear(7.0, 80.0, 100.0, HELLMANN_EXPONENT_NEUTRAL), 7.22674, rtol=1e-6)
    with pytest.raises(ValueError, match="heights must be > 0"):
        resource.power_law_shear(7.0, 0.0, 100.0, 0.2)


def test_power_law_shear_is_windpowerlib_hellman():
    u10 = np.array([2.0, 4.5, 7.0, 11.0])
    expected = hellman(u10, 10.0, 80.0, hellman_exponent=0.21)
    np.testing.assert_allclose(resource.power_law_shear(u10, 10.0, 80.0, 0.21), expected,
                               rtol=RTOL_EXACT)
    # 4.5 m/s at 10 m to 80 m with α = 0.21: 4.5 · 8^0.21 = 4.5 · exp(0.21 · 2.0794415)
    # = 4.5 · exp(0.4366827) = 4.5 · 1.5475650 = 6.9640425
    np.testing.assert_allclose(resource.power_law_shear(4.5, 10.0, 80.0, 0.21), 6.9640425,
                               rtol=1e-7)
    series = pd.Series(u10, index=["a", "b", "c", "d"])
    out = resource.power_law_shear(series, 10.0, 80.0, 0.21)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=RTOL_EXACT)


def test_effective_shear_exponent_recovers_alpha():
    u10 = np.array([3.0, 4.0, 5.0])
    u80 = u10 * 8.0**0.2  # α = 0.2 exactly
    np.testing.assert_allclose(resource.effective_shear_exponent(u10, u80), 0.2, rtol=RTOL_EXACT)
    # no covered station -> the neutral exponent
    assert resource.effective_shear_exponent(u10, np.full(3, np.nan)) == HELLMANN_EXPONENT_NEUTRAL


def test_idw_ratio_hand_case():
    # two stations at 100 and 200 km, values 1.2 and 0.9, k = 2, background L = 200 km:
    # w = 1e-4, 2.5e-5, w0 = 2.5e-5 -> (1.2e-4 + 2.25e-5 + 2.5e-5) / 1.5e-4 = 1.1166...
    d = np.array([[100.0, 200.0]])
    got = resource.idw_ratio(d, np.array([1.2, 0.9]), 2.0, 200.0)
    np.testing.assert_allclose(got, (1.2e-4 + 2.25e-5 + 2.5e-5) / 1.5e-4, rtol=RTOL_EXACT)
    np.testing.assert_allclose(resource.idw_ratio(d, np.array([1.2, 0.9]), 2.0, None), (1.2e-4 + 2.25e-5) / 1.25e-4,
                               rtol=RTOL_EXACT)


def test_merra2_interpolation_hits_cell_values(real_layers):
    m = real_layers.merra2
    row = m[(m["lat"] == 21.0) & (m["lon"] == -102.0)].iloc[0]
    got = resource.merra2_ghi_kwh_m2_day([21.0], [-102.0], m)
    np.testing.assert_allclose(got, row["ghi_kwh_m2_day_annual"], rtol=RTOL_EXACT)
    # half way between (21,-102) and (21,-99): mean of both
    other = m[(m["lat"] == 21.0) & (m["lon"] == -99.0)].iloc[0]["ghi_kwh_m2_day_annual"]
    np.testing.assert_allclose(resource.merra2_ghi_kwh_m2_day([21.0], [-100.5], m),
                               (row["ghi_kwh_m2_day_annual"] + other) / 2, rtol=RTOL_EXACT)


def test_ghi_at_a_station_is_the_station_value(real_layers):
    st = real_layers.stations
    xy = real_layers.station_xy_m
    got = resource.ghi_kwh_m2_day(st["latitude"], st["longitude"], xy[:, 0], xy[:, 1], st, xy, real_layers.merra2)
    np.testing.assert_allclose(got, st["ghi_kwh_m2_day"], rtol=RTOL_AT_STATION)


def test_wind_inside_wrf_is_the_sheared_wrf_mean(real_layers):
    layer = next(w for w in real_layers.wind_layers if w.name == "12C")
    i, j = 80, 90
    lat, lon = float(layer.latitude[i]), float(layer.longitude[j])
    got, in_wrf = resource.wind_speed_100m_m_s(
        [lat], [lon], [0.0], [0.0], real_layers.stations, real_layers.station_xy_m, real_layers.wind_layers
    )
    assert in_wrf[0]
    np.testing.assert_allclose(got[0], layer.wind_speed_m_s[i, j] * (100 / 80) ** (1 / 7), rtol=RTOL_EXACT)


def test_wind_outside_wrf_uses_stations(real_layers):
    # Monterrey station: no WRF domain covers it (SOURCES-weather.md §2)
    st = real_layers.stations
    k = int(np.nonzero(st["station_id"].to_numpy() == "763930")[0][0])
    x, y = real_layers.station_xy_m[k]
    got, in_wrf = resource.wind_speed_100m_m_s(
        [st["latitude"][k]], [st["longitude"][k]], [x], [y], st, real_layers.station_xy_m, real_layers.wind_layers
    )
    assert not in_wrf[0]
    wrf_st, _ = resource.wrf_wind_speed(st["latitude"], st["longitude"], real_layers.wind_layers)
    alpha = resource.effective_shear_exponent(st["wind_speed_10m_m_s"], wrf_st)
    hand = st["wind_speed_10m_m_s"][k] * 8.0**alpha * 1.25 ** (1 / 7)
    np.testing.assert_allclose(got[0], hand, rtol=RTOL_AT_STATION)


def test_resource_confidence_bounds():
    p = ResourceParameters()
    c = resource.resource_confidence("pv", [0.0, 1e6], [False, False], p)
    np.testing.assert_allclose(c, [1.0, p.pv_confidence_floor], rtol=RTOL_EXACT)
    w = resource.resource_confidence("wind", [0.0, 1e6], [True, False], p)
    np.testing.assert_allclose(w, [p.wind_confidence_wrf, p.wind_confidence_floor], rtol=RTOL_EXACT)
    with pytest.raises(ValueError, match="technology"):
        resource.resource_confidence("csp", [0.0], [False], p)


def test_leave_one_station_out_error(real_layers):
    loo = resource.leave_one_station_out(real_layers.stations, real_layers.station_xy_m, real_layers.merra2)
    summary = resource.loo_summary(loo)
    assert len(loo) == 16
    # the method beats MERRA-2 alone and stays under the bar
    assert summary["ghi_rmse_pct"] < summary["ghi_merra2_rmse_pct"]
    assert summary["ghi_rmse_pct"] < GHI_LOO_RMSE_BAR_PCT
    # 10 m station winds are a poor proxy (SOURCES-weather.md): the interpolation error is large
    assert summary["wind_rmse_pct"] > 20.0


def test_leave_one_out_hand_case():
    # three stations on a line 0, 100, 200 km; MERRA uniform 6.0; ghi 6.0, 6.6, 6.3
    st = pd.DataFrame({"station_id": ["a", "b", "c"], "name": list("abc"), "latitude": [21.0] * 3,
                       "longitude": [-101.0] * 3, "ghi_kwh_m2_day": [6.0, 6.6, 6.3], "wind_speed_10m_m_s": [2.0, 4.0, 3.0]})
    xy = np.array([[0.0, 0.0], [100_000.0, 0.0], [200_000.0, 0.0]])
    merra = pd.DataFrame([{"lat": la, "lon": lo, "ghi_kwh_m2_day_annual": 6.0} for la in (18.0, 21.0) for lo in (-102.0, -99.0)])
    p = ResourceParameters(idw_power=2.0, idw_background_distance_km=200.0)
    loo = resource.leave_one_station_out(st, xy, merra, p)
    # station a: others at 100 km (ratio 1.1) and 200 km (1.05), background 1 at 200 km:
    w1, w2, w0 = 1e-4, 2.5e-5, 2.5e-5
    hand = 6.0 * (w1 * 1.1 + w2 * 1.05 + w0) / (w1 + w2 + w0)
    np.testing.assert_allclose(loo["ghi_loo_kwh_m2_day"][0], hand, rtol=RTOL_EXACT)
    np.testing.assert_allclose(loo["wind_loo_10m_m_s"][0], (w1 * 4.0 + w2 * 3.0) / (w1 + w2), rtol=RTOL_EXACT)
    # MERRA-2 alone: errors relative to the observed values, 0, -0.6/6.6, -0.3/6.3
    hand_rmse = 100 * math.sqrt((0.0 + (0.6 / 6.6) ** 2 + (0.3 / 6.3) ** 2) / 3)
    assert math.isclose(resource.loo_summary(loo)["ghi_merra2_rmse_pct"], hand_rmse, rel_tol=1e-12)


def test_wind_hub_leave_one_out_hand_case():
    from siting.layers import WindLayer

    # uniform WRF 6 m/s over three stations with 4 m/s at 10 m: α = ln(6/4) / ln 8 for every fit,
    # so the leave-one-out prediction is 4 * 8**α = 6 m/s exactly
    layer = WindLayer("u", np.array([20.0, 23.0]), np.array([-103.0, -99.0]), np.full((2, 2), 6.0), 80.0)
    st = pd.DataFrame({"station_id": ["a", "b", "c"], "latitude": [21.0, 21.5, 22.0],
                       "longitude": [-102.0, -101.0, -100.0], "wind_speed_10m_m_s": [4.0, 4.0, 4.0]})
    xy = np.array([[0.0, 0.0], [100_000.0, 0.0], [0.0, 100_000.0]])
    out = resource.leave_one_station_out_wind_hub(st, xy, (layer,))
    np.testing.assert_allclose(out["wind_loo_m_s"], 6.0, rtol=RTOL_EXACT)
    np.testing.assert_allclose(out["alpha_loo"], math.log(1.5) / math.log(8.0), rtol=RTOL_EXACT)


def test_wind_hub_leave_one_out_real(real_layers):
    out = resource.leave_one_station_out_wind_hub(real_layers.stations, real_layers.station_xy_m, real_layers.wind_layers)
    # Aguascalientes, Guanajuato, San Luis Potosí and Zacatecas lie in WRF domains 12C / 11C
    assert set(out["station_id"]) == {"765710", "765770", "765390", "765260"}
    err = (out["wind_loo_m_s"] - out["wind_wrf_m_s"]) / out["wind_wrf_m_s"]
    assert np.sqrt(np.mean(err**2)) < 0.3
