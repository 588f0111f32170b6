"""Wind outside WRF: terrain features, the calibration's fit, continuity at the edges,
the leave-one-domain-out check (issue 16, item 2) and an operating plant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from affine import Affine

from siting import resource
from siting import wind_calibration as wcal
from siting.layers import WindLayer
from siting.weather import choose_station
from siting.yield_study import WindRequest, run_wind_study

try:
    from .screening_conftest import real_layers  # noqa: F401
except ImportError:
    from screening_conftest import real_layers  # noqa: F401

#: Tolerance of exact arithmetic. [-]
RTOL_EXACT = 1e-9
#: Today's error of the station-based wind at the WRF-covered stations, leave-one-out (issue 16). [%]
TODAY_STATION_RMSE_PCT = 18.4
#: Largest relative difference of the wind 1 m either side of a domain's edge. [-]
EDGE_STEP_TOLERANCE = 1e-3
#: Dominica I (Charcas, San Luis Potosí): 50 turbines of 2 MW; Enel Green Power's press release of
#: December 2013 (reported by energias-renovables.com, 18 Dec 2013): "será capaz de generar 260
#: gigavatios hora de electricidad al año". Location: WRI Global Power Plant Database table
#: bundled in data/geo/power_plants_mexico_wri_generation.csv (wri_plant_id 1016159).
DOMINICA_PUBLISHED_GWH = 260.0
DOMINICA_LAT, DOMINICA_LON = 23.34970, -101.35142
#: The issue's bar for Dominica I. [-]
DOMINICA_BAR = 0.20
#: The model before issue 16 (the issue's own figure: 72.8 GWh). [GWh]
DOMINICA_BEFORE_GWH = 72.8


def _dem(values, x0=-102.0, y0=22.0, step=0.01):
    return np.asarray(values, float), Affine(step, 0.0, x0, 0.0, -step, y0)


def test_exposure_is_elevation_minus_the_window_mean_by_hand():
    z = np.zeros((5, 5))
    z[2, 2] = 100.0
    dem, transform = _dem(z)
    # 0.01° of latitude = 1.1095 km, so a 1.1 km radius is a ±1 row window; longitude at
    # ~22° N: 0.01° = 1.032 km, ±1 column: a 3 x 3 window, mean 100 / 9 at the centre.
    params = wcal.WindCalibrationParameters(exposure_radii_km=(1.1,))
    f = wcal.terrain_features(dem, transform, params)
    assert f.names == ("elevation_km", "exposure_1.1km")
    np.testing.assert_allclose(f.values[0, 2, 2], 0.1, rtol=RTOL_EXACT)
    np.testing.assert_allclose(f.values[1, 2, 2], (100.0 - 100.0 / 9.0) / 1000.0, rtol=RTOL_EXACT)
    # a neighbour sees the hill in its window: 0 - 100 / 9
    np.testing.assert_allclose(f.values[1, 2, 1], -100.0 / 9.0 / 1000.0, rtol=RTOL_EXACT)
    # a corner cell has only 4 cells with data in its window (the DEM's edge is not zero terrain)
    np.testing.assert_allclose(f.values[1, 0, 0], 0.0, atol=1e-15)
    z[0, 0] = np.nan
    f = wcal.terrain_features(*_dem(z), params)
    assert np.isnan(f.values[:, 0, 0]).all()
    # a point without terrain gets zero features: no adjustment
    assert (wcal.sample_features(f, [22.0 - 0.005], [-102.0 + 0.005]) == 0).all()


def test_fit_recovers_the_coefficients_it_was_built_with():
    rng = np.random.default_rng(16)
    dem, transform = _dem(rng.uniform(1500.0, 2500.0, size=(120, 120)))
    params = wcal.WindCalibrationParameters(exposure_radii_km=(3.0, 10.0))
    features = wcal.terrain_features(dem, transform, params)
    lat = 22.0 - 0.005 - 0.01 * np.arange(20, 60)[::-1]
    lon = -102.0 + 0.005 + 0.01 * np.arange(30, 70)
    beta = np.array([0.1, 0.2, -0.5, 0.3])  # ln(U / S) = 0.1 + 0.2 z - 0.5 e3 + 0.3 e10
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    x = wcal.sample_features(features, la.ravel(), lo.ravel())
    u = (5.0 * np.exp(beta[0] + x @ beta[1:])).reshape(la.shape)
    layer = WindLayer("synthetic", lat, lon, u, 80.0)
    cal = wcal.fit_wind_calibration((layer,), features, lambda a, b: np.full(np.size(a), 5.0), params)
    np.testing.assert_allclose(cal.coefficients, beta, rtol=1e-9, atol=1e-12)
    # the fit is exact, so the residual is zero and the outside field is the regression
    assert np.abs(cal.domains[0].residual).max() < 1e-9
    est = wcal.calibrated_wind_80m([21.2], [-101.2], cal, features, lambda a, b: np.full(np.size(a), 5.0))
    expected = 5.0 * np.exp(beta[0] + wcal.sample_features(features, [21.2], [-101.2]) @ beta[1:])
    np.testing.assert_allclose(est.wind_speed_80m_m_s, expected, rtol=1e-9)
    assert est.method[0] == wcal.METHOD_CALIBRATED


def test_deep_inside_a_domain_the_wind_is_wrf(real_layers):
    model = resource.wind_model(real_layers)
    for layer in real_layers.wind_layers:
        i, j = layer.latitude.size // 2, layer.longitude.size // 2
        est = model.wind_80m([layer.latitude[i]], [layer.longitude[j]])
        assert est.method[0] == wcal.METHOD_WRF
        np.testing.assert_allclose(est.wind_speed_80m_m_s[0], layer.wind_speed_m_s[i, j], rtol=RTOL_EXACT)


def _edge_points(layer, eps_deg):
    """Pairs of points just inside and just outside each of the four edges."""
    la, lo = np.asarray(layer.latitude), np.asarray(layer.longitude)
    hla, hlo = (la[1] - la[0]) / 2, (lo[1] - lo[0]) / 2
    s, n, w, e = la[0] - hla, la[-1] + hla, lo[0] - hlo, lo[-1] + hlo
    along_lat = np.linspace(s + 0.02, n - 0.02, 40)
    along_lon = np.linspace(w + 0.02, e - 0.02, 40)
    inside = [(along_lat, np.full(40, w + eps_deg)), (along_lat, np.full(40, e - eps_deg)),
              (np.full(40, s + eps_deg), along_lon), (np.full(40, n - eps_deg), along_lon)]
    outside = [(along_lat, np.full(40, w - eps_deg)), (along_lat, np.full(40, e + eps_deg)),
               (np.full(40, s - eps_deg), along_lon), (np.full(40, n + eps_deg), along_lon)]
    cat = lambda parts: tuple(np.concatenate(p) for p in zip(*parts))  # noqa: E731
    return cat(inside), cat(outside)


def test_no_step_at_any_domain_edge(real_layers):
    """1 m inside and 1 m outside every edge of every domain give the same wind; the
    station-only method of before stepped by tens of per cent there (the test can fail)."""
    model = resource.wind_model(real_layers)
    eps = 1.0 / 111_000.0  # 1 m in degrees
    old_steps = []
    for layer in real_layers.wind_layers:
        (ila, ilo), (ola, olo) = _edge_points(layer, eps)
        inner, outer = model.wind_80m(ila, ilo), model.wind_80m(ola, olo)
        step = np.abs(inner.wind_speed_80m_m_s / outer.wind_speed_80m_m_s - 1.0)
        # a point of a neighbouring domain's interior is not on this domain's outer edge
        alone = outer.wrf_weight == 0
        assert alone.sum() > 40
        assert step[alone].max() < EDGE_STEP_TOLERANCE, layer.name
        assert (inner.wrf_weight[alone] < 1e-3).all()
        old_wrf, _ = resource.wrf_wind_speed(ila, ilo, (layer,))
        old_steps.append(np.nanmax(np.abs(old_wrf / outer.station_estimate_80m_m_s - 1.0)))
    assert max(old_steps) > 0.2


def test_edge_blend_reaches_wrf_at_the_blend_distance(real_layers):
    model = resource.wind_model(real_layers)
    layer = next(w for w in real_layers.wind_layers if w.name.upper() == "11C")
    # 11C's east edge at 23.0° N, walking west into the domain
    east = layer.longitude[-1] + (layer.longitude[1] - layer.longitude[0]) / 2
    km_per_deg = wcal.KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(23.0))
    depth_km = np.array([2.0, 5.0, 9.0, 11.0])
    est = model.wind_80m(np.full(4, 23.0), east - depth_km / km_per_deg)
    np.testing.assert_allclose(est.wrf_weight, [0.2, 0.5, 0.9, 1.0], rtol=1e-3)
    assert list(est.method) == [wcal.METHOD_WRF_BLEND] * 3 + [wcal.METHOD_WRF]


def _station_only_without(real_layers, excluded):
    layers = [w for w in real_layers.wind_layers if all(w is not e for e in excluded)]
    return resource._station_estimate(real_layers.stations, real_layers.station_xy_m, layers,
                                      resource.ResourceParameters())


@pytest.fixture(scope="module")
def lodo(real_layers):
    params = resource.WIND_CALIBRATION
    features = wcal.terrain_features(real_layers.dem_m, real_layers.dem_transform, params)
    st = real_layers.stations
    _, covered = resource.wrf_wind_speed(st["latitude"], st["longitude"], real_layers.wind_layers)
    points = pd.DataFrame({"name": st["name"][covered], "latitude": st["latitude"][covered],
                           "longitude": st["longitude"][covered]})
    return wcal.leave_one_domain_out(real_layers.wind_layers, features,
                                     lambda excluded: _station_only_without(real_layers, excluded),
                                     points, params)


def test_todays_error_at_the_covered_stations_is_the_issues_18_4_pct(real_layers):
    out = resource.leave_one_station_out_wind_hub(real_layers.stations, real_layers.station_xy_m,
                                                  real_layers.wind_layers)
    err = 100 * (out["wind_loo_m_s"] / out["wind_wrf_m_s"] - 1)
    assert len(out) == 4
    assert abs(np.sqrt(np.mean(err**2)) - TODAY_STATION_RMSE_PCT) < 0.05


def test_leave_one_domain_out_beats_today(lodo):
    per_domain, at_stations = lodo
    print("\n" + per_domain.round(1).to_string() + "\n" + at_stations.round(2).to_string())
    assert sorted(per_domain["domain"].str.upper()) == ["10NE", "11C", "12C", "13TVB", "9NE"]
    assert len(at_stations) == 4  # Aguascalientes, Guanajuato, San Luis Potosí (12C), Zacatecas (11C)
    rmse_stations = float(np.sqrt(np.mean(at_stations["calibrated_error_pct"] ** 2)))
    rmse_before = float(np.sqrt(np.mean(at_stations["station_only_error_pct"] ** 2)))
    # the bar: below today's 18.4 %, and below the station-only method under the same check
    assert rmse_stations < TODAY_STATION_RMSE_PCT
    assert rmse_stations < rmse_before
    # on the grid, four of five domains are predicted better than by the stations alone;
    # 13TVB (volcanic belt, 2.4 km mean elevation, calmer than any other domain) is not
    better = per_domain["calibrated_rmse_pct"] < per_domain["station_only_rmse_pct"]
    assert set(per_domain.loc[~better, "domain"].str.upper()) <= {"13TVB", "9NE"}
    assert better.sum() >= 3


def test_sigma_of_the_calibration_is_the_measured_one(lodo):
    per_domain, _ = lodo
    pooled = float(np.sqrt(np.mean((per_domain["calibrated_rmse_pct"] / 100) ** 2)))
    assert abs(pooled - resource.WIND_CALIBRATION.sigma_calibrated) < 0.005


def test_wrf_overlap_sigma_is_small(real_layers):
    # 9NE/10NE and 11C/12C overlap; their disagreement bounds sigma_wrf from below
    sigma = wcal.wrf_overlap_sigma(real_layers.wind_layers)
    assert 0.0 < sigma < resource.WIND_CALIBRATION.sigma_wrf


def _dominica_study(real_layers, data_dir):
    from siting.weather import parse_epw

    parsed = [parse_epw(p.read_bytes(), p.name) for p in sorted((data_dir / "weather").glob("*.epw"))]
    # the study service's station: the nearest of the site's corridor, the Bajío (Zacatecas)
    bajio = [(frame, station) for frame, station in parsed if station.corridor == "bajio"]
    choice = choose_station([s for _, s in bajio], DOMINICA_LAT, DOMINICA_LON, corridor="bajio")
    frame, station = bajio[choice.index]
    site = resource.site_resource(DOMINICA_LAT, DOMINICA_LON, real_layers)
    col, row = ~real_layers.dem_transform @ (DOMINICA_LON, DOMINICA_LAT)
    elevation = float(real_layers.dem_m[int(row), int(col)])
    request = WindRequest.from_dict({"lat": DOMINICA_LAT, "lon": DOMINICA_LON, "turbine_type": "V90/2000",
                                     "hub_height_m": 80.0, "turbine_count": 50,
                                     "site_elevation_m": elevation})
    return run_wind_study(request, frame, station, choice.distance_km, resource=site), site


@pytest.fixture(scope="module")
def dominica(real_layers):
    from screening_conftest import DATA_DIR

    return _dominica_study(real_layers, DATA_DIR)


def test_dominica_i_far_closer_to_its_published_energy(dominica):
    result, site = dominica
    gwh = result.energy_annual_kwh / 1e6
    print(f"\nDominica I: {gwh:.1f} GWh modelled vs {DOMINICA_PUBLISHED_GWH:.0f} GWh published "
          f"({100 * (gwh / DOMINICA_PUBLISHED_GWH - 1):+.1f} %), {site}")
    # 6.8 m/s at 80 m, what 11C shows at its eastern edge 0.4° west (the issue)
    assert 6.5 < site["wind_speed_80m_m_s"] < 7.1
    assert site["wind_method"] == wcal.METHOD_CALIBRATED
    assert result.to_dict()["resource_method"] == wcal.METHOD_CALIBRATED
    assert abs(gwh / DOMINICA_PUBLISHED_GWH - 1) < 0.25
    assert gwh > 2.5 * DOMINICA_BEFORE_GWH
    # the published figure lies within the P-values' 1-σ spread
    one = result.p_values["1_year"]
    sigma = 1 - one["p75"] / one["p50"]
    assert gwh * (1 + sigma / 0.6745) > DOMINICA_PUBLISHED_GWH


def test_dominica_i_within_the_issues_bar(dominica):
    result, _ = dominica
    assert abs(result.energy_annual_kwh / 1e6 / DOMINICA_PUBLISHED_GWH - 1) <= DOMINICA_BAR
