"""Screening on hand-built layers with known answers, and one real case per corridor."""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from dataclasses import replace

import finance.lcoe as finance_lcoe
from siting import cell_energy, screening
from siting.grid import corridor_area, screening_grid
from siting.parameters import DEFAULT_ECONOMIC_LIFE_YEARS, DEFAULT_REAL_DISCOUNT_RATE, default_parameters
from siting.yield_batch import pv_energy_batch

try:
    from .screening_conftest import (
        TOY_ANP_NAME, TOY_ENERGY_MWH_PER_MW, TOY_X0, TOY_Y0, constant_energy, real_layers, toy_layers,  # noqa: F401
        wind_power_curve,
    )
except ImportError:
    from screening_conftest import (  # noqa: F401
        TOY_ANP_NAME, TOY_ENERGY_MWH_PER_MW, TOY_X0, TOY_Y0, constant_energy, real_layers, toy_layers,
        wind_power_curve,
    )

#: Tolerance of hand arithmetic on floats. [-]
RTOL_HAND = 1e-9
#: Toy resolution. [km]
TOY_RES_KM = 2.0
#: Error allowed on a cell's share computed from the 100 m raster against the exact
#: shapely overlap: a pixel is burnt when its centre is inside, so a straight edge across
#: a 2 km cell errs by half a pixel at most, 0.05 km x 2 km / 4 km² = 0.025 (reached when
#: the edge runs along pixel centres, as the lake's buffer edge at 29.75 km does). [-]
SHARE_ATOL = 0.025 + 1e-9


@pytest.fixture(scope="module")
def toy_pv(toy_layers):
    cells = screening_grid(shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 40_000, TOY_Y0 + 40_000), TOY_RES_KM)
    out = screening.screen_cells(cells, toy_layers, default_parameters("pv"), energy=constant_energy)
    return out.set_index(pd.MultiIndex.from_arrays([out["x_m"] - TOY_X0, out["y_m"] - TOY_Y0]))


def test_all_columns_present(toy_pv):
    assert len(toy_pv) == 400
    for col in screening.CELL_COLUMNS:
        assert col in toy_pv.columns, col


def test_cell_inside_protected_polygon_is_excluded_with_that_reason(toy_pv):
    # ANP box x 12-16 km, y 2-6 km covers the four 2 km cells centred (13,3), (15,3), (13,5), (15,5) km whole
    inside = toy_pv.loc[[(13_000, 3_000), (15_000, 3_000), (13_000, 5_000), (15_000, 5_000)]]
    assert inside["excluded"].all()
    assert (inside["exclusion_reasons"] == f"state protected area (+0 m): 100 % ({TOY_ANP_NAME})").all()
    assert (inside["excluded_fraction_protected_area"] == 1.0).all()
    assert (inside["available_fraction"] == 0.0).all() and (inside["capacity_mw"] == 0.0).all()
    # its neighbours only touch its edges: no pixel centre of theirs is inside
    assert not toy_pv.loc[(11_000, 3_000), "excluded"]
    assert toy_pv.loc[(11_000, 3_000), "available_fraction"] == 1.0
    assert toy_pv["exclusion_reasons"].str.contains("state protected area").sum() == 4


def _shapely_share(cell, polygon) -> float:
    return shapely.intersection(cell, polygon).area / cell.area


def test_urban_buffer_and_water_shares_match_shapely(toy_pv):
    from siting.exclusions import BUFFER_QUAD_SEGMENTS

    # urban square 2.75-3.25 km x 14.75-15.25 km + 1 km buffer reaches 5 cells of 2 km, each in part (its
    # rounded corners stop 1.06 - 1 km short of the diagonal cells' corners (2, 14) km...);
    # each share is the exact overlap computed with shapely, within the raster's error
    urban = shapely.buffer(shapely.box(TOY_X0 + 2_750, TOY_Y0 + 14_750, TOY_X0 + 3_250, TOY_Y0 + 15_250), 1_000.0,
                           quad_segs=BUFFER_QUAD_SEGMENTS)
    lake = shapely.buffer(shapely.box(TOY_X0 + 30_000, TOY_Y0 + 30_000, TOY_X0 + 34_000, TOY_Y0 + 34_000), 250.0,
                          quad_segs=BUFFER_QUAD_SEGMENTS)
    for column, polygon, reached in (("excluded_fraction_urban_area", urban, 5), ("excluded_fraction_water_body", lake, 16)):
        expected = np.array([_shapely_share(g, polygon) for g in toy_pv.geometry])
        assert (expected > 0).sum() == reached
        np.testing.assert_allclose(toy_pv[column].to_numpy(), expected, atol=SHARE_ATOL)
    centre = toy_pv.loc[(3_000, 15_000)]
    assert centre["exclusion_reasons"].startswith("urban locality (+1000 m): ")
    assert centre["exclusion_reasons"].endswith(" (Ciudad Prueba)")
    np.testing.assert_allclose(centre["available_fraction"], 1 - _shapely_share(centre.geometry, urban), atol=SHARE_ATOL)
    # a cell the lake covers whole is excluded; one it clips keeps its dry part
    assert toy_pv.loc[(31_000, 31_000), "excluded"] and toy_pv.loc[(31_000, 31_000), "available_km2"] == 0.0
    edge = toy_pv.loc[(29_000, 31_000)]  # x 28-30 km: the lake's 250 m buffer takes 0.25 / 2 of its width
    np.testing.assert_allclose(edge["excluded_fraction_water_body"], 0.125, atol=SHARE_ATOL)
    assert not edge["excluded"]
    np.testing.assert_allclose(edge["capacity_mw"], 0.875 * 4.0 * 48.0, atol=SHARE_ATOL * 4.0 * 48.0)


def test_state_of_a_cell_across_the_border_is_the_one_holding_its_centroid(toy_pv):
    # border at x = 9.5 km; cell 8-10 km straddles it, centre 9 km lies in the west state "01"
    cell = toy_pv.loc[(9_000, 1_000)]
    assert shapely.box(*cell.geometry.bounds).intersects(shapely.LineString([(TOY_X0 + 9_500, 0), (TOY_X0 + 9_500, 2e6)]))
    assert cell["state_cve_ent"] == "01" and cell["state_name"] == "Oeste"
    assert cell["municipality_cvegeo"] == "01001"
    assert toy_pv.loc[(11_000, 1_000), "state_cve_ent"] == "11"


def test_distance_to_line_equals_hand_projection(toy_pv):
    # centre (1, 1) km; horizontal 230 kV line at y = 10 km: 9 km
    cell = toy_pv.loc[(1_000, 1_000)]
    assert cell["dist_line_km"] == pytest.approx(9.0, rel=RTOL_HAND)
    assert cell["line_voltage_kv"] == 230.0
    # centre (9, 25) km: diagonal y = x + 20 km (unknown voltage): |9 - 25 + 20| / sqrt 2 = 2.828 km
    # vs horizontal line 15 km
    cell = toy_pv.loc[(9_000, 25_000)]
    assert cell["dist_line_km"] == pytest.approx(4.0 / math.sqrt(2.0), rel=RTOL_HAND)
    assert np.isnan(cell["line_voltage_kv"])
    # substation at (15, 15) km: from (1, 1) km, sqrt(14² + 14²)
    assert toy_pv.loc[(1_000, 1_000), "dist_substation_km"] == pytest.approx(14 * math.sqrt(2), rel=RTOL_HAND)


def test_lcoe_and_score_by_hand(toy_pv):
    cell = toy_pv.loc[(1_000, 1_000)]
    # connection: 230 kV, 9 km: 810,000 * 1.2 * 9 + 9,000,000 = 17,748,000 USD
    assert cell["connection_cost_usd"] == pytest.approx(17_748_000.0, rel=RTOL_HAND)
    # capital per MW: 758 USD/kW * 1000 + 17,748,000 / 100 MW = 935,480 USD/MW; fixed O&M 22,000 USD/MW/yr
    r, n = DEFAULT_REAL_DISCOUNT_RATE, DEFAULT_ECONOMIC_LIFE_YEARS
    fcr = r / (1 - (1 + r) ** -n)  # 0.07 / (1 - 1.07**-25) = 0.0858105
    assert fcr == pytest.approx(0.0858105, rel=1e-6)
    lcoe = (fcr * 935_480.0 + 22_000.0) / TOY_ENERGY_MWH_PER_MW
    assert cell["lcoe_usd_per_mwh"] == pytest.approx(lcoe, rel=RTOL_HAND)
    assert cell["capacity_factor"] == pytest.approx(1800 / 8760, rel=RTOL_HAND)
    # score: (0.6 * (120 - lcoe) / 100 + 0.15 * (1 - 9 / 50) + 0.15 * 1 + 0.1 * conf + 0.1 * available fraction)
    # / 1.1; station 1 at (0, 0): sqrt 2 km; no exclusion reaches the cell: available fraction 1
    conf = 0.5 + 0.5 * math.exp(-math.sqrt(2.0) / 100.0)
    assert cell["available_fraction"] == 1.0 and cell["exclusion_reasons"] == ""
    score = (0.6 * (120 - lcoe) / 100 + 0.15 * 0.82 + 0.15 * 1.0 + 0.1 * conf + 0.1 * 1.0) / 1.1
    assert cell["resource_confidence"] == pytest.approx(conf, rel=RTOL_HAND)
    assert cell["score"] == pytest.approx(score, rel=RTOL_HAND)


def test_consultation_rule(toy_pv):
    # west municipality type C; east type A; triggering locality at (17, 19) km in the east
    west = toy_pv.loc[(9_000, 19_000)]  # 8 km from the locality, type C
    assert not west["consultation_required"] and west["consultation_reason"] == ""
    assert west["consultation_requirement"] == "identification_required"  # type C: never cleared
    east_far = toy_pv.loc[(39_000, 39_000)]
    assert east_far["consultation_required"] and east_far["consultation_reason"] == "municipality INPI type A"
    assert east_far["consultation_localities"] == ""
    near = toy_pv.loc[(13_000, 17_000)]  # sqrt(4² + 2²) = 4.47 km < 5 km
    assert near["consultation_required"]
    assert near["consultation_localities"] == "110010002 Comunidad Prueba"
    assert near["consultation_locality_count"] == 1
    assert "1 locality(ies) of type-A/B municipalities within 5 km" in near["consultation_reason"]
    assert near["consultation_requirement"] == east_far["consultation_requirement"] == "required"


def test_excluded_cells_have_no_score_and_ranks_are_dense(toy_pv):
    ex = toy_pv["excluded"]
    assert toy_pv.loc[ex, "score"].isna().all() and toy_pv.loc[ex, "rank"].isna().all()
    ranks = toy_pv.loc[~ex, "rank"].astype(int).sort_values().to_numpy()
    np.testing.assert_array_equal(ranks, np.arange(1, (~ex).sum() + 1))
    best = toy_pv.loc[~ex].sort_values("rank")
    assert (np.diff(best["score"].to_numpy()) <= 0).all()
    # capacity = available area x 48 MW/km²; a cell nothing reaches offers its whole 4 km²
    np.testing.assert_allclose(toy_pv["capacity_mw"], toy_pv["available_km2"] * 48.0, rtol=RTOL_HAND)
    free = toy_pv["exclusion_reasons"] == ""
    assert free.sum() > 300 and toy_pv.loc[free, "capacity_mw"].eq(4.0 * 48.0).all()
    # of two cells alike, the one with more available area scores higher
    assert toy_pv.loc[(29_000, 31_000), "score"] < toy_pv.loc[(27_000, 31_000), "score"]


def test_slope_limit_and_imported_layer(toy_layers):
    cells = screening_grid(shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 10_000, TOY_Y0 + 10_000), TOY_RES_KM)
    p = default_parameters("pv")
    # the toy DEM rises 20 m per 0.01° of longitude: 1.93 % -> below 3 %, above 1 %
    out = screening.screen_cells(cells, toy_layers, p, energy=constant_energy)
    assert not out["exclusion_reasons"].str.contains("slope").any()
    np.testing.assert_allclose(out["slope_pct"], 100 * 20 / (0.01 * 111_320 * math.cos(math.radians(21.1))), rtol=5e-3)
    steep = replace(p, technology=replace(p.technology, slope_limit_pct=1.0))
    out = screening.screen_cells(cells, toy_layers, steep, energy=constant_energy)
    assert out["exclusion_reasons"].str.contains("slope above 1 % \\(pv limit\\): 100 %").all()
    assert out["excluded"].all() and (out["excluded_fraction_slope"] == 1.0).all() and (out["capacity_mw"] == 0).all()
    federal = gpd.GeoDataFrame({"nombre": ["Federal X"]}, geometry=[shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 4_000, TOY_Y0 + 4_000)],
                               crs="EPSG:6372").to_crs(4326)
    out = screening.screen_cells(cells, toy_layers, p, energy=constant_energy, extra_layers={"ANP federal": federal})
    hit = out["exclusion_reasons"].str.contains("imported layer 'ANP federal' \\(\\+0 m\\): 100 % \\(Federal X\\)")
    assert hit.sum() == 4 and out.loc[hit, "excluded"].all()
    np.testing.assert_allclose(out["excluded_fraction_ANP_federal"], hit.astype(float), atol=SHARE_ATOL)


def test_wind_screen_on_toy(toy_layers):
    cells = screening_grid(shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 10_000, TOY_Y0 + 10_000), TOY_RES_KM)
    out = screening.screen_cells(cells, toy_layers, default_parameters("wind"), energy=constant_energy)
    # no WRF: 3 m/s at 10 m everywhere, shear 1/7 to 80 m then 1/7 to 100 m: 3 * 10 ** (1/7) = 4.16849
    np.testing.assert_allclose(out["wind_speed_100m_m_s"], 3.0 * 10 ** (1 / 7), rtol=RTOL_HAND)
    assert not out["wind_from_wrf"].any()
    assert (out["capacity_mw"][~out["excluded"]] == 4.0 * 5.0).all()


def test_tiles_concatenate_to_the_whole(toy_layers):
    area = shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 40_000, TOY_Y0 + 40_000)
    p = default_parameters("pv")
    whole = screening.screen_area(area, toy_layers, p, TOY_RES_KM, energy=constant_energy)
    tiled = screening.screen_tiles(area, toy_layers, p, TOY_RES_KM, tile_cells=49, energy=constant_energy)
    a = whole.set_index("cell_id").sort_index()
    b = tiled.set_index("cell_id").sort_index()
    assert len(a) == len(b) == 400
    pd.testing.assert_series_equal(a["score"], b["score"])
    pd.testing.assert_series_equal(a["rank"], b["rank"])
    pd.testing.assert_series_equal(a["exclusion_reasons"], b["exclusion_reasons"])
    with pytest.raises(ValueError, match="duplicate cell_id"):
        screening.concat_tiles([whole, whole])


def test_area_smaller_than_a_cell(toy_layers):
    from siting.grid import ScreeningInputError

    tiny = shapely.box(TOY_X0 + 100, TOY_Y0 + 100, TOY_X0 + 600, TOY_Y0 + 600)  # misses the centre (1 km, 1 km)
    with pytest.raises(ScreeningInputError) as err:
        screening.screen_tiles(tiny, toy_layers, default_parameters("pv"), TOY_RES_KM, energy=constant_energy)
    assert err.value.field == "resolution_km" and "no cell centre" in err.value.reason


def test_bad_screen_inputs(toy_layers):
    cells = screening_grid(shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 4_000, TOY_Y0 + 4_000), TOY_RES_KM)
    with pytest.raises(ValueError, match="cells must be in EPSG:6372"):
        screening.screen_cells(cells.to_crs(4326), toy_layers, default_parameters("pv"), energy=constant_energy)
    with pytest.raises(ValueError, match="technology must be one of"):
        default_parameters("csp")
    with pytest.raises(ValueError, match="energy step returned shape"):
        screening.screen_cells(cells, toy_layers, default_parameters("pv"), energy=lambda r: np.ones(2))
    with pytest.raises(ValueError, match="no cells"):
        screening.screen_cells(cells.iloc[:0], toy_layers, default_parameters("pv"), energy=constant_energy)


def test_energy_steps_by_hand():
    req = cell_energy.EnergyRequest("pv", np.zeros(2), np.zeros(2), np.zeros(2), np.array([5.0, 6.0]), np.array([4.0, 8.0]),
                                    np.zeros(2, dtype=int), pd.DataFrame())
    # performance ratio: 6 kWh/m²/day * 365 * 0.8 = 1752 MWh/MW/yr
    np.testing.assert_allclose(cell_energy.pv_performance_ratio_energy(0.8)(req), [1460.0, 1752.0], rtol=RTOL_HAND)
    # a step power curve (0 below 8 m/s, rated above): CF = P(v > 8) = exp(-π 8² / (4 ū²)) for Rayleigh
    step = cell_energy.wind_rayleigh_energy([0.0, 7.999, 8.0, 40.0], [0.0, 0.0, 1000.0, 1000.0], losses=0.0)
    hand = 8760 * np.exp(-np.pi * 64 / (4 * np.array([4.0, 8.0]) ** 2))
    # the tabulation integrates on a 0.01 m/s grid, so the jump is smeared over one step: rtol 5e-3
    np.testing.assert_allclose(step(req), hand, rtol=5e-3)
    with pytest.raises(ValueError, match="performance_ratio"):
        cell_energy.pv_performance_ratio_energy(1.5)


def test_lcoe_step_matches_formula():
    # SAM Lcoefcr: (FCR * capital + fixed O&M) / energy + variable O&M: (0.1 * 1000 + 20) / 4 + 2 = 32
    assert float(cell_energy.lcoe_fcr_step(0.1, 1000.0, 20.0, 2.0, 4.0)) == 32.0
    assert np.isnan(cell_energy.lcoe_fcr_step(0.1, 1000.0, 20.0, 2.0, 0.0))


# -- a real case per corridor -------------------------------------------------

REAL_RES_KM = 10.0


@pytest.fixture(scope="module")
def real_bajio(real_layers):
    area = corridor_area(real_layers.states, "bajio")
    return screening.screen_area(area, real_layers, default_parameters("pv"), REAL_RES_KM,
                                 energy=cell_energy.pv_performance_ratio_energy())


@pytest.fixture(scope="module")
def real_noreste(real_layers):
    area = corridor_area(real_layers.states, "noreste")
    return screening.screen_area(area, real_layers, default_parameters("wind"), REAL_RES_KM,
                                 energy=cell_energy.wind_rayleigh_energy(*wind_power_curve()))


def _cell_at(frame, lon, lat):
    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(6372)
    pos = screening.locate_points(frame, pt.x.to_numpy(), pt.y.to_numpy())[0]
    assert pos >= 0
    return frame.iloc[pos]


def test_real_bajio(real_bajio, real_layers):
    # ~187,500 km² / 100 km² per cell
    assert 1_800 < len(real_bajio) < 1_950
    assert set(real_bajio["state_cve_ent"].dropna()) == {"01", "11", "14", "22", "24"}
    ags = _cell_at(real_bajio, -102.2960, 21.8798)  # Aguascalientes city centre (INEGI locality 010010001)
    assert ags["municipality_cvegeo"] == "01001"
    # the city and its 1 km buffer take most of the 10 km cell, its exact overlap (10,000 pixels of 100 m)
    urban = screening.prepared_exclusion_layers(real_layers, default_parameters("pv"))[1]
    assert urban.code == "urban_area"
    box = ags.geometry
    exact = shapely.intersection(shapely.union_all(urban.geometries[urban.tree.query(box)]), box).area / box.area
    assert 0.5 < exact < 1
    assert ags["excluded_fraction_urban_area"] == pytest.approx(exact, abs=0.01)
    assert "urban locality (+1000 m): " in ags["exclusion_reasons"] and "(Aguascalientes)" in ags["exclusion_reasons"]
    assert ags["available_fraction"] <= 1 - exact + 0.01
    chapala = _cell_at(real_bajio, -103.05, 20.20)  # Lake Chapala
    assert "lake or reservoir" in chapala["exclusion_reasons"]
    assert real_bajio["ghi_kwh_m2_day"].between(5.0, 6.6).all()
    huasteca = _cell_at(real_bajio, -98.95, 21.55)  # Huasteca potosina, INPI type A municipalities
    assert huasteca["consultation_required"]
    assert real_bajio["rank"].notna().sum() == (~real_bajio["excluded"]).sum()


def test_real_noreste(real_noreste):
    assert 2_850 < len(real_noreste) < 3_050
    assert set(real_noreste["state_cve_ent"].dropna()) == {"05", "19", "28"}
    mty = _cell_at(real_noreste, -100.3161, 25.6866)  # Monterrey
    assert mty["state_cve_ent"] == "19" and mty["excluded"]
    # the Tamaulipas coast around San Fernando is inside the WRF 9NE domain (mean 7.2 m/s at 80 m)
    coast = _cell_at(real_noreste, -97.9, 24.9)
    assert coast["wind_from_wrf"] and coast["wind_speed_100m_m_s"] > 6.0
    # deep inside a domain the wind is WRF's, known to sigma_wrf = 10 %: confidence 1 - 0.10 / 0.5 = 0.8
    deep = real_noreste["resource_method"] == "wrf_80m"
    assert deep.any() and real_noreste.loc[deep, "resource_confidence"].sub(0.8).abs().max() < 1e-12
    assert real_noreste.loc[real_noreste["wind_from_wrf"], "resource_confidence"].between(0.5, 0.8 + 1e-12).all()
    ok = ~real_noreste["excluded"]
    assert real_noreste.loc[ok, "lcoe_usd_per_mwh"].notna().all()


# -- integration with the yield engine and the finance engine ------------------


def test_default_lcoe_is_finance_lcoe_fcr():
    assert cell_energy.default_lcoe_step() is finance_lcoe.lcoe_fcr
    args = (0.0858, 935_480.0, 22_000.0, 0.0, 1800.0)
    np.testing.assert_allclose(finance_lcoe.lcoe_fcr(*args), cell_energy.lcoe_fcr_step(*args), rtol=RTOL_HAND)


def test_batch_yield_energy_on_real_stations(real_layers):
    assert real_layers.weather is not None
    st = real_layers.stations
    k = int(np.nonzero(st["station_id"].to_numpy() == "765710")[0][0])  # Aguascalientes
    x, y = real_layers.station_xy_m[k]
    area = shapely.box(x - 3_000, y - 3_000, x + 3_000, y + 3_000)
    pv = screening.screen_area(area, real_layers, default_parameters("pv"), 2.0)  # default steps
    # at ~1 km from the station the GHI ratio is ~1: yield ~ the station's batch yield
    ref = pv_energy_batch(real_layers.weather, np.array([k]), latitude=st["latitude"][k], longitude=st["longitude"][k],
                          tilt_deg=abs(st["latitude"][k]), azimuth_deg=180.0, tracking=False, gcr=0.4,
                          dc_ac_ratio=1.3, system_losses=0.14)
    centre = _cell_at(pv, st["longitude"][k], st["latitude"][k])
    ratio = centre["ghi_kwh_m2_day"] / st["ghi_kwh_m2_day"][k]
    np.testing.assert_allclose(centre["energy_mwh_per_mw"], ref.energy_annual_kwh[0] * ratio, rtol=RTOL_HAND)
    assert 1_500 < centre["energy_mwh_per_mw"] < 2_300  # fixed-tilt PV in the Bajío: CF 17-26 %
    wind = screening.screen_area(area, real_layers, default_parameters("wind"), 2.0)
    assert (wind["energy_mwh_per_mw"] > 0).all()
    # Aguascalientes is outside WRF; more wind -> more energy along the interpolation table
    order = np.argsort(wind["wind_speed_100m_m_s"].to_numpy())
    assert (np.diff(wind["energy_mwh_per_mw"].to_numpy()[order]) >= -1e-6).all()
