"""Wind model: profile, density, turbines, WRF lookup."""

from __future__ import annotations


import numpy as np
import pytest
import xarray as xr
from scipy import stats

from siting import wind
from siting.turbines import list_turbines, turbine_types

HAND_RTOL = 1e-9
#: windpowerlib's ρ0 = 1.225 kg/m³ against SAM's 1.224978 kg/m³, seen in power. [-]
REFERENCE_DENSITY_RTOL = 1e-4
WRF_FILES = ("9NE_seasons.nc", "10NE_seasons.nc", "11C_seasons.nc", "12C_seasons.nc")


def test_log_profile_hand_value():
    # 5 m/s at 10 m, z0 = 0.1 m → 100 m: 5·ln(100/0.1)/ln(10/0.1) = 5·3·ln10/(2·ln10) = 7.5
    np.testing.assert_allclose(wind.hub_wind_speed([5.0], 10.0, 100.0, 0.1), [7.5],
                               rtol=HAND_RTOL)


def test_hub_air_density_hand_value():
    # station = site elevation, hub 100 m, 15 °C and 101325 Pa at the station:
    # T_hub = 288.15 - 0.0065·(100 - 2) = 287.513 K; p_hub = (1013.25 - 100/8) hPa
    # ρ = 1000.75 · 1.225 · 288.15 · 100 / (101330 · 287.513)
    expected = 1000.75 * 1.225 * 288.15 * 100 / (101330 * 287.513)
    rho = wind.hub_air_density([15.0], [101325.0], station_elevation_m=500.0,
                               site_elevation_m=500.0, hub_height_m=100.0)
    np.testing.assert_allclose(rho, [expected], rtol=HAND_RTOL)


def test_turbine_catalogue():
    turbines = {t.turbine_type: t for t in list_turbines()}
    assert len(turbines) == 67  # windpowerlib 0.2.2: 67 types with a power curve
    e126 = turbines["E-126/4200"]
    assert e126.rated_power_kw == 4200.0 and 135.0 in e126.hub_heights_m
    assert e126.to_dict()["rated_power_kw"] == 4200.0
    assert "E-126/4200" in turbine_types()


def test_unknown_turbine_names_field():
    with pytest.raises(ValueError, match="turbine_type"):
        wind.turbine_curve("NOPE/1")


def test_roughness_table():
    assert wind.roughness_length_for("grassland") == 0.03
    with pytest.raises(ValueError, match="land_cover"):
        wind.roughness_length_for("moon")


def test_simulate_wind_bad_hub(parsed):
    frame, station = parsed["763990"]
    args = dict(turbine_type="E-126/4200", roughness_length_m=0.1,
                station_elevation_m=station.elevation_m, site_elevation_m=station.elevation_m)
    for hub in (5.0, 300.0):
        with pytest.raises(ValueError, match="hub_height_m"):
            wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                               frame["atmospheric_pressure"], hub_height_m=hub, **args)


def test_farm_losses_and_scaling(parsed):
    frame, station = parsed["763990"]
    args = dict(turbine_type="E-126/4200", hub_height_m=135.0, roughness_length_m=0.1,
                station_elevation_m=station.elevation_m, site_elevation_m=station.elevation_m)
    one = wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                             frame["atmospheric_pressure"], turbine_count=1, **args)
    ten = wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                             frame["atmospheric_pressure"], turbine_count=10, **args)
    assert one.wake_losses == 0.0 and 0.0 < ten.wake_losses < 0.3
    np.testing.assert_allclose(ten.gross_kw, 10 * one.gross_kw, rtol=HAND_RTOL)
    np.testing.assert_allclose(ten.ac_kw.sum(),
                               ten.gross_kw.sum() * (1 - ten.wake_losses) * (1 - ten.other_losses),
                               rtol=HAND_RTOL)
    scaled = wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                                frame["atmospheric_pressure"], mean_wind_speed_hub_m_s=8.0, **args)
    np.testing.assert_allclose(scaled.hub_wind_speed.mean(), 8.0, rtol=HAND_RTOL)
    assert np.all(one.ac_kw <= one.capacity_kw)


def test_wrf_lookup_synthetic_grid():
    lat = np.array([20.0, 21.0])
    lon = np.array([-101.0, -100.0])
    ws = np.zeros((4, 2, 2))
    ws[:, 1, 0] = [4.0, 6.0, 8.0, 10.0]
    out = wind.wrf_mean_wind_speed(21.1, -101.1, [(lat, lon, ws)])
    # (4·90 + 6·92 + 8·92 + 10·91) / 365 = 2558/365 = 7.008219
    assert out.covered and out.domain == 0
    np.testing.assert_allclose(out.mean_wind_speed_m_s, 2558 / 365, rtol=HAND_RTOL)
    assert not wind.wrf_mean_wind_speed(25.0, -101.0, [(lat, lon, ws)]).covered
    with pytest.raises(ValueError, match="shape"):
        wind.wrf_mean_wind_speed(21.0, -101.0, [(lat, lon, ws[:3])])


def _domains(data_dir):
    out = []
    for name in WRF_FILES:
        with xr.open_dataset(data_dir / "resource" / "mexico_wrf_wind_80m" / name,
                             engine="h5netcdf") as ds:
            out.append((ds["lat"].values, ds["lon"].values, ds["wind_speed"].values))
    return out


def test_wrf_lookup_on_bundled_layer(data_dir):
    domains = _domains(data_dir)
    # León, Gto lies in domain 12C; Monterrey lies in no domain (SOURCES-weather.md §2)
    leon = wind.wrf_mean_wind_speed(21.12, -101.68, domains)
    assert leon.covered and leon.domain == 3 and 2.0 < leon.mean_wind_speed_m_s < 12.0
    assert not wind.wrf_mean_wind_speed(25.68, -100.27, domains).covered


def test_sam_density_correction_hand_value():
    # curve 0 → 100 kW over 0 → 10 m/s; ρ = 0.729·ρ0 so (ρ/ρ0)^(1/3) = 0.9: SAM moves the
    # curve's speeds to v/0.9, so at 9 m/s the turbine gives the standard curve's 8.1 m/s
    # value, 81 kW; past the last (moved) speed 10/0.9 = 11.11 m/s the power is 0
    rho = 0.729 * wind.SAM_REFERENCE_AIR_DENSITY_KG_M3
    out = wind.power_curve_density_correction_sam([9.0, 11.0, 11.2], [0.0, 10.0], [0.0, 100.0],
                                                  rho)
    np.testing.assert_allclose(out, [81.0, 99.0, 0.0], rtol=HAND_RTOL)
    # SAM's reference density is 1 atm at 15 °C: 101325 / (287.058 · 288.15) = 1.224978
    np.testing.assert_allclose(wind.SAM_REFERENCE_AIR_DENSITY_KG_M3, 1.224978, rtol=1e-6)
    with pytest.raises(ValueError, match="density"):
        wind.power_curve_density_correction_sam([9.0], [0.0, 10.0], [0.0, 100.0], 0.0)


def test_density_methods_agree_below_7_5_m_s():
    # windpowerlib's exponent is 1/3 for curve speeds ≤ 7.5 m/s, the same as SAM's, so a
    # curve that ends there is corrected alike; ρ0 differs (1.225 vs 1.224978 kg/m³), a
    # relative 1.7e-5 in density, (1.7e-5)/3 in speed, at most ~3e-5 in power here
    speeds, power = np.array([0.0, 3.0, 7.5]), np.array([0.0, 50.0, 400.0])
    v, rho = np.linspace(0.0, 9.0, 91), np.full(91, 1.0)
    from windpowerlib.power_output import power_curve_density_correction

    np.testing.assert_allclose(wind.power_curve_density_correction_sam(v, speeds, power, rho),
                               power_curve_density_correction(v, speeds, power, rho),
                               rtol=REFERENCE_DENSITY_RTOL, atol=1e-9)


def test_simulate_wind_density_methods(parsed):
    frame, station = parsed["763900"]  # Saltillo, 1,790 m
    args = dict(turbine_type="E-126/4200", hub_height_m=135.0, roughness_length_m=0.1,
                station_elevation_m=station.elevation_m, site_elevation_m=station.elevation_m)
    wpl = wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                             frame["atmospheric_pressure"],
                             density_correction_method=wind.DENSITY_CORRECTION_WINDPOWERLIB, **args)
    sam = wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                             frame["atmospheric_pressure"], **args)
    assert wpl.density_correction_method == "windpowerlib"
    assert sam.density_correction_method == wind.DEFAULT_DENSITY_CORRECTION_METHOD == "sam"
    # at ρ < ρ0 the larger exponent above 7.5 m/s moves windpowerlib's curve further right
    assert wpl.ac_kw.sum() < sam.ac_kw.sum()
    with pytest.raises(ValueError, match="density_correction_method"):
        wind.simulate_wind(frame["wind_speed"], frame["temp_air"],
                           frame["atmospheric_pressure"], density_correction_method="iec", **args)


def test_weibull_shape_at_height_hand_value():
    # Justus & Mikhail (1976): k(80) = 2 (1 - 0.088 ln 1) / (1 - 0.088 ln 8) = 2 / 0.817008 = 2.44795
    assert wind.weibull_shape_at_height(2.0, 10.0, 80.0) == pytest.approx(2.0 / (1 - 0.088 * np.log(8.0)),
                                                                          rel=HAND_RTOL)
    assert wind.weibull_shape_at_height(2.0, 10.0, 80.0) == pytest.approx(2.44795, abs=1e-5)
    assert wind.weibull_shape_at_height(2.0, 10.0, 10.0) == 2.0
    # there and back again
    k80 = wind.weibull_shape_at_height(1.7, 10.0, 80.0)
    assert wind.weibull_shape_at_height(k80, 80.0, 10.0) == pytest.approx(1.7, rel=HAND_RTOL)


@pytest.mark.parametrize("shape", [1.5, 2.0, 2.8])
def test_weibull_shape_of_a_weibull_sample(shape):
    # a large sample of a known Weibull (scipy): the coefficient-of-variation estimate of Justus
    # et al. (1978) is within 2 % of the true shape in 1 <= k <= 3
    sample = stats.weibull_min.rvs(shape, scale=7.0, size=200_000, random_state=np.random.default_rng(4))
    assert wind.weibull_shape(sample) == pytest.approx(shape, rel=0.02)


def test_weibull_shape_bad_series():
    with pytest.raises(ValueError, match="zero mean or no spread"):
        wind.weibull_shape(np.zeros(8760))
    with pytest.raises(ValueError, match="zero mean or no spread"):
        wind.weibull_shape(np.full(8760, 3.0))


def test_long_term_hub_shape_keeps_order_and_takes_the_sites_distribution(parsed):
    # a station with many calms (San Luis Potosí, 29 % of hours at 0 m/s)
    v = next(frame["wind_speed"].to_numpy(float) for frame, st in parsed.values() if st.name.startswith("San.Luis"))
    assert np.mean(v == 0) > 0.2
    unit = wind.long_term_hub_shape(v, 10.0, 100.0)
    assert unit.shape == v.shape and unit.mean() == pytest.approx(1.0, rel=HAND_RTOL)
    # no calm hour at hub height: the calms take the lowest quantiles, in the order of their neighbours
    assert unit.min() > 0
    calm = v == 0
    assert unit[calm].max() < unit[~calm].min()
    # the station's hours keep their order: every hour of a lower station speed stays below
    # every hour of a higher one (ties are ordered among themselves)
    levels = np.unique(v)
    assert all(unit[v == a].max() < unit[v == b].min() for a, b in zip(levels[:-1], levels[1:]))
    # and the series follows the Weibull of the station's shape carried to 100 m (scipy's fit)
    expected = wind.weibull_shape_at_height(wind.weibull_shape(v), 10.0, 100.0)
    fitted, _, _ = stats.weibull_min.fit(7.0 * unit, floc=0)
    assert fitted == pytest.approx(expected, rel=0.02)


def test_scaled_hub_series_has_the_long_term_mean_without_the_stations_calms(parsed):
    frame, station = next((f, s) for f, s in parsed.values() if s.name.startswith("San.Luis"))
    args = dict(turbine_type="V90/2000", hub_height_m=80.0, roughness_length_m=0.1,
                station_elevation_m=station.elevation_m, site_elevation_m=station.elevation_m)
    h = wind.simulate_wind(frame["wind_speed"], frame["temp_air"], frame["atmospheric_pressure"],
                           mean_wind_speed_hub_m_s=7.0, **args)
    assert h.hub_wind_speed.mean() == pytest.approx(7.0, rel=HAND_RTOL)
    # multiplying the station's series would keep its calm hours at 0 m/s (no power)
    assert np.mean(h.hub_wind_speed == 0) == 0.0
    assert np.mean(frame["wind_speed"].to_numpy() == 0) > 0.2
