"""The cached path of the quick yield (issue 16, item 4) is the detailed study's arithmetic.

A map click must answer at once, so what every site of a weather year shares is computed
once: the location-independent steps of NREL's SPA, the year's time tables, the sky-view
table of a ground coverage ratio and windpowerlib's wind-farm efficiency curve. Each cached
piece is compared here with what pvlib or windpowerlib compute from scratch; the bar is
0.1 % on energy, and the pieces agree to the last bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from windpowerlib import wake_losses

from siting import pv, wind
from siting.yield_study import PVRequest, run_pv_study

#: Sites of both corridors and beyond them (lat, lon, elevation m).
SITES = [(21.9, -102.3, 1880.0), (25.87, -97.5, 10.0), (19.34, -104.91, 120.0), (29.2, -100.9, 300.0)]
#: The issue's bar between the quick and the detailed path. [-]
QUICK_BAR = 1e-3


@pytest.mark.parametrize("wmo", ["765710", "763990", "766120"])
def test_cached_sun_position_is_pvlibs_to_the_bit(parsed, wmo):
    frame, _station = parsed[wmo]
    mid = frame.index + pd.Timedelta(minutes=30)
    for lat, lon, elev in SITES:
        ref = pvlib.solarposition.get_solarposition(
            mid, lat, lon, elev, method="nrel_numpy",
            pressure=frame["atmospheric_pressure"].to_numpy(float), temperature=frame["temp_air"].to_numpy(float))
        got = pv.solar_position_midpoint(frame.index, lat, lon, elev, frame["atmospheric_pressure"],
                                         frame["temp_air"])
        for column in ("apparent_zenith", "zenith", "azimuth"):
            np.testing.assert_array_equal(got[column].to_numpy(), ref[column].to_numpy())
    # without pressure and temperature: pvlib's defaults (101325 Pa, 12 °C)
    ref = pvlib.solarposition.get_solarposition(mid, 21.9, -102.3, 1880.0, method="nrel_numpy")
    got = pv.solar_position_midpoint(frame.index, 21.9, -102.3, 1880.0)
    np.testing.assert_array_equal(got["apparent_zenith"].to_numpy(), ref["apparent_zenith"].to_numpy())


def test_hour_tables_are_pandas_and_pvlibs(parsed):
    frame, _ = parsed["765710"]
    t = pv.hour_tables(frame.index)
    mid = frame.index + pd.Timedelta(minutes=30)
    np.testing.assert_array_equal(t.month_index, frame.index.month.to_numpy() - 1)
    np.testing.assert_array_equal(t.dni_extra_w_m2, pvlib.irradiance.get_extra_radiation(
        mid.day_of_year.to_numpy(dtype=float)))
    np.testing.assert_array_equal(t.unixtime_mid_s, mid.tz_convert("UTC").as_unit("ns").asi8 / 1e9)
    with pytest.raises(ValueError, match="tz-aware"):
        pv.hour_tables(frame.index.tz_localize(None))


@pytest.mark.parametrize("gcr", [0.3, 0.4, 0.55])
def test_sky_table_cache_is_the_function(gcr):
    tilts, values = pv._sky_table(gcr)
    np.testing.assert_array_equal(values, pv.sky_diffuse_row_factor(tilts, gcr))


def test_wake_curve_cache_is_windpowerlibs():
    v = np.linspace(0.0, 30.0, 8760)
    curve = wind.turbine_curve("V90/2000")
    reduced = np.asarray(wake_losses.reduce_wind_speed(v, wind.WAKE_EFFICIENCY_CURVE), float)
    expected = 1 - (np.interp(reduced, curve.wind_speed_m_s, curve.power_kw, left=0, right=0).sum()
                    / np.interp(v, curve.wind_speed_m_s, curve.power_kw, left=0, right=0).sum())
    assert wind.farm_wake_losses(v, curve, 50) == expected


def test_pv_study_twice_gives_the_same_energy_within_the_bar(parsed):
    """The first call fills the caches, the second reads them: same energy (the bar is 0.1 %)."""
    frame, station = parsed["765710"]
    pv._spa_geocentric.cache_clear()
    pv._hour_tables.cache_clear()
    request = PVRequest.from_dict({"lat": 21.88, "lon": -102.29, "capacity_dc_kw": 1000.0})
    cold = run_pv_study(request, frame, station, 3.0).energy_annual_kwh
    warm = run_pv_study(request, frame, station, 3.0).energy_annual_kwh
    assert abs(warm / cold - 1) < QUICK_BAR
    assert warm == cold
