"""Candidate site check on the real layers."""

import math

import numpy as np
import pytest

from siting.cell_energy import pv_performance_ratio_energy
from siting.grid import ScreeningInputError
from siting.parameters import default_parameters
from siting.site_check import check_site

try:
    from .screening_conftest import real_layers  # noqa: F401
except ImportError:
    from screening_conftest import real_layers  # noqa: F401

ENERGY = pv_performance_ratio_energy()
#: Tolerance of exact geometry areas (polygonised disc: 64 segments). [-]
RTOL_DISC = 2e-3


def _by_name(result):
    return {c.name: c for c in result.constraints}


def test_point_inside_a_state_protected_area(real_layers):
    # Real de Guadalcázar (SLP), a state biosphere reserve of 257,000 ha
    anp = real_layers.protected_areas
    poly = anp.loc[anp["nombre"] == "Real de Guadalcázar", "geometry"].iloc[0]
    import geopandas as gpd

    pt = gpd.GeoSeries([poly.representative_point()], crs=6372).to_crs(4326).iloc[0]
    res = check_site({"type": "Point", "coordinates": [pt.x, pt.y]}, real_layers, default_parameters("pv"), energy=ENERGY)
    c = _by_name(res)["protected_area_overlap_km2"]
    assert not c.passed and c.limit == 0.0 and c.value > 0
    assert "Real de Guadalcázar" in c.reason
    assert not res.passed
    # a point is a 100 MW reference plant: 100 / 48 km² disc
    assert res.area_km2 == pytest.approx(100 / 48, rel=RTOL_DISC)
    assert res.attributes["state_cve_ent"] == "24"


def test_constraint_fields_and_nearest_station(real_layers):
    # 8 km east of the Aguascalientes station, in open land
    st = real_layers.stations.set_index("station_id").loc["765710"]
    lon = st["longitude"] + 8.0 / (111.32 * math.cos(math.radians(st["latitude"])))
    res = check_site({"type": "Point", "coordinates": [lon, st["latitude"]]}, real_layers, default_parameters("wind"),
                     energy=ENERGY)
    assert res.nearest_station["station_id"] == "765710"
    assert res.nearest_station["distance_km"] == pytest.approx(8.0, rel=0.02)
    for c in res.constraints:
        assert isinstance(c.name, str) and isinstance(c.passed, bool) and isinstance(c.reason, str) and c.reason
        assert np.isfinite(c.limit)
    names = [c.name for c in res.constraints]
    assert names[:4] == ["protected_area_overlap_km2", "urban_area_overlap_km2", "village_overlap_km2",
                         "water_body_overlap_km2"]
    assert {"slope_pct", "dist_line_km", "consultation_locality_count", "lcoe_usd_per_mwh"} <= set(names)
    assert 0 <= res.capacity_mw <= res.area_km2 * 5.0 + 1e-9
    for key in ("ghi_kwh_m2_day", "wind_speed_100m_m_s", "elevation_m", "slope_pct", "dist_line_km",
                "dist_substation_km", "municipality_cvegeo", "consultation_required", "lcoe_usd_per_mwh"):
        assert key in res.attributes


def test_polygon_capacity_is_available_area_times_density(real_layers):
    # a 0.04° x 0.04° square in the flat Bajío north of León
    poly = {"type": "Polygon", "coordinates": [[[-101.60, 21.30], [-101.56, 21.30], [-101.56, 21.34],
                                                 [-101.60, 21.34], [-101.60, 21.30]]]}
    res = check_site(poly, real_layers, default_parameters("pv"), energy=ENERGY)
    # 0.04° of latitude x 0.04° of longitude at 21.32° N: (0.04 * 110,700 m) x (0.04 * 103,780 m) = 18.38 km²;
    # EPSG:6372 (LCC) areas differ from ellipsoidal ones by its scale factor (about 1 %): rel 2 %
    assert res.area_km2 == pytest.approx(0.04 * 110.700 * 0.04 * 103.780, rel=0.02)
    assert res.capacity_mw == pytest.approx(res.available_area_km2 * 48.0, rel=1e-12)
    assert res.available_area_km2 <= res.area_km2


def test_self_intersecting_polygon_reported(real_layers):
    bowtie = {"type": "Polygon", "coordinates": [[[-101.0, 21.5], [-100.9, 21.6], [-100.9, 21.5], [-101.0, 21.6],
                                                   [-101.0, 21.5]]]}
    res = check_site(bowtie, real_layers, default_parameters("pv"), energy=ENERGY)
    assert any("make_valid" in r for r in res.repairs)


def test_bad_site_inputs(real_layers):
    with pytest.raises(ScreeningInputError, match="outside Mexico"):
        check_site({"type": "Point", "coordinates": [-97.7, 30.3]}, real_layers, default_parameters("pv"), energy=ENERGY)
    with pytest.raises(ScreeningInputError) as err:
        check_site({"type": "Point"}, real_layers, default_parameters("pv"), energy=ENERGY)
    assert err.value.field == "geometry.coordinates"


def test_point_reports_its_screening_cell_as_the_corridor_screening_has_it(real_layers):
    import geopandas as gpd
    import shapely

    from siting import screening
    from siting.grid import corridor_area

    # a point south-west of León (Guanajuato): its 1 km cell is partly urban and village buffer
    lon, lat = -101.72, 21.06
    res = check_site({"type": "Point", "coordinates": [lon, lat]}, real_layers, default_parameters("pv"),
                     energy=ENERGY, resolution_km=1.0)
    cell = res.cell
    pt = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(6372).iloc[0]
    r = 1000
    assert cell["cell_id"] == f"6372:1000:{math.floor(pt.x / r) * r}:{math.floor(pt.y / r) * r}"
    # the same cell of a screening of the whole corridor (the bajío states around it)
    area = corridor_area(real_layers.states, "bajio")
    box = shapely.box(pt.x - 3_000, pt.y - 3_000, pt.x + 3_000, pt.y + 3_000)
    cells = screening.screen_area(area, real_layers, default_parameters("pv"), 1.0, energy=ENERGY,
                                  tile=screening.split_tiles(box, 1.0, 100)[0])
    same = cells.set_index("cell_id").loc[cell["cell_id"]]
    assert cell["available_fraction"] == pytest.approx(same["available_fraction"], abs=1e-12)
    assert cell["exclusion_reasons"] == same["exclusion_reasons"]
    assert cell["excluded"] == same["excluded"]
    km2 = cell["excluded_km2_by_reason"]
    assert km2["urban_area"] == pytest.approx(same["excluded_fraction_urban_area"], abs=1e-12)  # 1 km² cell
    assert 0 < cell["available_fraction"] < 1 and "urban locality" in cell["exclusion_reasons"]


def test_polygon_excluded_km2_by_reason_is_the_exact_overlap(real_layers):
    import geopandas as gpd
    import shapely

    anp = real_layers.protected_areas
    poly = anp.loc[anp["nombre"] == "Real de Guadalcázar", "geometry"].iloc[0]
    # a 4 km square straddling the reserve's boundary
    edge = shapely.get_exterior_ring(poly.geoms[0] if hasattr(poly, "geoms") else poly).interpolate(0.3, normalized=True)
    site = shapely.box(edge.x - 2_000, edge.y - 2_000, edge.x + 2_000, edge.y + 2_000)
    site_4326 = gpd.GeoSeries([site], crs=6372).to_crs(4326).iloc[0]
    res = check_site(site_4326, real_layers, default_parameters("wind"), energy=ENERGY)
    exact = shapely.intersection(site, poly).area / 1e6
    assert 0 < exact < res.area_km2
    # the site went to EPSG:4326 and back: its area moves by the round trip only
    assert res.excluded_km2_by_reason["protected_area"] == pytest.approx(exact, rel=1e-3)
    assert res.cell is None
    assert res.available_area_km2 <= res.area_km2 - res.excluded_km2_by_reason["protected_area"] + 1e-9
    assert res.available_fraction == pytest.approx(res.available_area_km2 / res.area_km2, rel=1e-12)
