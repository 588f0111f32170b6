"""Exclusion layers: shares of each cell from the 100 m raster, reasons, buffers, imported layers."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from dataclasses import replace

from siting import screening
from siting.exclusions import (
    exclusion_shares, overlap_km2, prepare_exclusion_layers, rasterize_index, reason_texts, row_codes, subdivisions,
)
from siting.grid import corridor_area, screening_grid
from siting.parameters import ExclusionParameters, default_parameters

try:
    from .screening_conftest import (  # noqa: F401
        TOY_ANP, TOY_ANP_NAME, TOY_X0, TOY_Y0, constant_energy, real_layers, toy_layers,
    )
except ImportError:
    from screening_conftest import (  # noqa: F401
        TOY_ANP, TOY_ANP_NAME, TOY_X0, TOY_Y0, constant_energy, real_layers, toy_layers,
    )

#: Tolerance of exact polygon areas. [-]
RTOL_AREA = 1e-9


def test_rasterize_burns_cells_whose_centre_is_inside():
    # 4 x 4 block of 1 km cells; polygon covers x 0-2.2 km, y 0-1.6 km:
    # centres (0.5, 0.5), (1.5, 0.5), (0.5, 1.5), (1.5, 1.5) are inside; (2.5, .) is not
    t = Affine(1000, 0, 0, 0, -1000, 4000)
    poly = shapely.box(0, 0, 2200, 1600)
    r = rasterize_index(np.array([poly]), t, (4, 4))
    expected = np.zeros((4, 4), dtype=int)
    expected[2:4, 0:2] = 1  # rows 2-3 are y 0-2 km
    np.testing.assert_array_equal(r, expected)


def test_rasterize_returns_polygon_index_plus_one():
    t = Affine(1000, 0, 0, 0, -1000, 2000)
    polys = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(1000, 1000, 2000, 2000)])
    np.testing.assert_array_equal(rasterize_index(polys, t, (2, 2)), [[0, 2], [1, 0]])


def test_row_codes_and_reasons():
    index = np.array([[0, 0], [2, 0], [2, 1], [0, 0], [2, 1]])
    codes, first = row_codes(index)
    assert codes.tolist() == [0, 1, 2, 0, 2] and first.tolist() == [0, 1, 2]
    shares = np.array([[0.0, 0.0], [0.5, 0.0], [0.123, 1.0], [0.0, 0.0], [0.0001, 1.0]])
    names = [np.array(["", "B", "B", "", ""]), None]
    out = reason_texts(["protected", "slope above 3 %"], shares, names)
    assert out.tolist() == ["", "protected: 50 % (B)", "protected: 12.3 % (B); slope above 3 %: 100 %", "",
                            "protected: 0.01 %; slope above 3 %: 100 %"]


def test_subdivisions():
    assert [subdivisions(c, 100.0) for c in (100.0, 250.0, 1000.0, 2000.0, 99.0)] == [1, 3, 10, 20, 1]
    with pytest.raises(ValueError, match="must be > 0 m"):
        subdivisions(1000.0, 0.0)
    assert subdivisions(100_000.0, 100.0) == 1000
    with pytest.raises(ValueError, match="10000 pixels per side of a 100000 m cell, more than 1000"):
        subdivisions(100_000.0, 10.0)
    with pytest.raises(ValueError, match="exclusion_resolution_m must be between 10 and 1000 m"):
        ExclusionParameters(exclusion_resolution_m=5.0)
    with pytest.raises(ValueError, match="min_plant_mw must be >= 0"):
        ExclusionParameters(min_plant_mw=-1.0)


#: Lower-left corner of the hand-built 1 km cell, away from every toy feature. [m]
HALF_X0, HALF_Y0 = TOY_X0 + 20_000.0, TOY_Y0 + 20_000.0
#: The bar of issue 16: the share of a half-covered cell. [-]
HALF_ATOL = 0.01


def _half_plane(slope: float) -> shapely.Polygon:
    """The land below the line of ``slope`` through the cell's centre: half the cell, exactly."""
    xc, yc = HALF_X0 + 500.0, HALF_Y0 + 500.0
    x0, x1 = xc - 5_000.0, xc + 5_000.0
    return shapely.Polygon([(x0, yc - 50_000.0), (x1, yc - 50_000.0), (x1, yc + slope * 5_000.0),
                            (x0, yc - slope * 5_000.0)])


@pytest.mark.parametrize("slope", [0.0, 0.3, -1.7])
def test_cell_half_covered_by_a_protected_polygon(toy_layers, slope):
    polygon = _half_plane(slope)
    cell_box = shapely.box(HALF_X0, HALF_Y0, HALF_X0 + 1_000, HALF_Y0 + 1_000)
    assert shapely.intersection(polygon, cell_box).area == pytest.approx(0.5e6, rel=1e-12)  # by symmetry
    anp = gpd.GeoDataFrame({"ap_code": ["H"], "nombre": ["Mitad"]}, geometry=[polygon], crs="EPSG:6372")
    layers = replace(toy_layers, protected_areas=anp)
    cells = screening_grid(cell_box, 1.0)
    assert len(cells) == 1
    row = screening.screen_cells(cells, layers, default_parameters("pv"), energy=constant_energy).iloc[0]
    assert row["available_fraction"] == pytest.approx(0.5, abs=HALF_ATOL)
    assert row["excluded_fraction_protected_area"] == pytest.approx(0.5, abs=HALF_ATOL)
    assert row["available_km2"] == pytest.approx(0.5, abs=HALF_ATOL)
    assert row["capacity_mw"] == pytest.approx(row["available_km2"] * 48.0, rel=1e-12)
    assert not row["excluded"] and np.isfinite(row["score"])
    share = round(100 * row["excluded_fraction_protected_area"], 1)
    assert row["exclusion_reasons"] == f"state protected area (+0 m): {share:.3g} % (Mitad)"


def test_outside_the_screened_area_is_not_available(toy_layers):
    # a 1 km cell whose centre is inside a drawn polygon covering its western 70 %
    area = shapely.box(HALF_X0, HALF_Y0, HALF_X0 + 700, HALF_Y0 + 1_000)
    out = screening.screen_area(area, toy_layers, default_parameters("pv"), 1.0, energy=constant_energy)
    row = out.iloc[0]
    assert len(out) == 1
    assert row["outside_area_fraction"] == pytest.approx(0.3, abs=1e-12)  # edge on pixel edges: exact
    assert row["available_km2"] == pytest.approx(0.7, abs=1e-12)
    assert row["exclusion_reasons"] == "outside the screened area: 30 %"


def test_shares_do_not_depend_on_how_the_block_is_cut(toy_layers):
    layers = prepare_exclusion_layers(protected_areas=toy_layers.protected_areas,
                                      localities_polygons=toy_layers.localities_polygons,
                                      water_bodies=toy_layers.water_bodies,
                                      params=ExclusionParameters(urban_buffer_m=1500.0))
    t = Affine(1000, 0, TOY_X0, 0, -1000, TOY_Y0 + 40_000)
    rows, cols = np.divmod(np.arange(1600), 40)
    area = shapely.box(TOY_X0 + 1_200, TOY_Y0 + 500, TOY_X0 + 38_000, TOY_Y0 + 39_100)  # edges on pixel edges
    whole = exclusion_shares(layers, t, (40, 40), rows, cols, 10, area=area)
    # blocks of 10 x 1 cells (1,000 pixels of 10 x 10 each)
    strips = exclusion_shares(layers, t, (40, 40), rows, cols, 10, area=area, max_pixels=1_000)
    for name in ("fractions", "label_index", "excluded_fraction", "outside_fraction"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(strips, name))
    # the shares add up to the layers' areas inside the area, as shapely measures them
    for j, layer in enumerate(layers):
        exact = shapely.intersection(shapely.union_all(layer.geometries), area).area / 1e6
        np.testing.assert_allclose(whole.fractions[:, j].sum(), exact, rtol=0.02, atol=0.05)
    np.testing.assert_allclose((1 - whole.outside_fraction).sum(), area.area / 1e6, rtol=1e-9)


def test_buffers_and_imported_layer(toy_layers):
    extra = gpd.GeoDataFrame({"nombre": ["Federal"]}, geometry=[shapely.box(-101.9, 21.1, -101.8, 21.2)], crs=4326)
    layers = prepare_exclusion_layers(
        protected_areas=toy_layers.protected_areas, localities_polygons=toy_layers.localities_polygons,
        water_bodies=toy_layers.water_bodies, params=ExclusionParameters(urban_buffer_m=1000.0),
        extra_layers={"ANP federal": extra},
    )
    codes = [layer.code for layer in layers]
    assert codes == ["protected_area", "urban_area", "village", "water_body", "ANP_federal"]
    urban = layers[1]
    # a 500 m square buffered by 1000 m: 500² + 4 * 500 * 1000 + π 1000² (polygonised with 4 segments per quarter)
    exact = 500.0**2 + 4 * 500.0 * 1000.0 + np.pi * 1000.0**2
    assert urban.geometries[0].area == pytest.approx(exact, rel=0.03)
    assert urban.labels.tolist() == ["Ciudad Prueba"]
    assert layers[4].reason.startswith("imported layer 'ANP federal'")


def test_bad_exclusion_inputs(toy_layers):
    with pytest.raises(ValueError, match="buffer of 'urban_area' must be >= 0"):
        prepare_exclusion_layers(protected_areas=toy_layers.protected_areas,
                                 localities_polygons=toy_layers.localities_polygons,
                                 water_bodies=toy_layers.water_bodies, params=ExclusionParameters(urban_buffer_m=-1))
    no_crs = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(ValueError, match="GeoDataFrame with a CRS"):
        prepare_exclusion_layers(protected_areas=toy_layers.protected_areas,
                                 localities_polygons=toy_layers.localities_polygons,
                                 water_bodies=toy_layers.water_bodies, extra_layers={"x": no_crs})
    with pytest.raises(ValueError, match="collides"):
        prepare_exclusion_layers(protected_areas=toy_layers.protected_areas,
                                 localities_polygons=toy_layers.localities_polygons,
                                 water_bodies=toy_layers.water_bodies,
                                 extra_layers={"slope": toy_layers.protected_areas})


def test_overlap_area_by_hand(toy_layers):
    layers = prepare_exclusion_layers(protected_areas=toy_layers.protected_areas,
                                      localities_polygons=toy_layers.localities_polygons,
                                      water_bodies=toy_layers.water_bodies)
    x0, y0, x1, y1 = TOY_ANP
    # a 2 km x 2 km site whose lower-left quarter (1 km x 1 km) lies in the ANP's upper-right corner
    site = shapely.box(x1 - 1000, y1 - 1000, x1 + 1000, y1 + 1000)
    area, names = overlap_km2(layers[0], site)
    np.testing.assert_allclose(area, 1.0, rtol=RTOL_AREA)
    assert names == [TOY_ANP_NAME]
    assert overlap_km2(layers[0], shapely.box(TOY_X0, TOY_Y0, TOY_X0 + 1000, TOY_Y0 + 1000)) == (0.0, [])


#: The bar of issue 16: the available km² of a corridor against its area minus the union of
#: the exclusions, computed directly with shapely. [-]
CORRIDOR_RTOL = 0.005
#: Cells of each layer whose shares are checked one by one against shapely, and the error
#: allowed on their sum: a pixel errs by half its side along an edge, without bias, so
#: over 300 cells the errors average out to well under 2 %. [-]
SAMPLE_CELLS = 300
SAMPLE_RTOL = 0.02


@pytest.mark.parametrize("corridor", ["bajio", "noreste"])
def test_corridor_available_area_equals_area_minus_union_of_exclusions(real_layers, corridor):
    area = corridor_area(real_layers.states, corridor)
    p = default_parameters("pv")
    # only the polygon layers: no slope limit, cells without DEM kept
    p = replace(p, technology=replace(p.technology, slope_limit_pct=1000.0),
                exclusions=replace(p.exclusions, exclude_dem_nodata=False))
    cells = screening.screen_tiles(area, real_layers, p, 1.0, energy=constant_energy)
    layers = screening.prepared_exclusion_layers(real_layers, p)
    assert [layer.code for layer in layers] == ["protected_area", "urban_area", "village", "water_body", "river"]
    union = shapely.union_all(np.concatenate([layer.geometries for layer in layers]))
    expected_km2 = (area.area - shapely.intersection(union, area).area) / 1e6
    assert cells["available_km2"].sum() == pytest.approx(expected_km2, rel=CORRIDOR_RTOL)
    # and each layer's share of a cell is its exact overlap, on a sample of the cells it reaches
    rng = np.random.default_rng(16)
    boxes = cells.geometry.to_numpy()
    for layer in layers:
        column = cells[f"excluded_fraction_{layer.code}"].to_numpy(float)
        reached = np.nonzero(column > 0)[0]
        sample = rng.choice(reached, size=min(SAMPLE_CELLS, reached.size), replace=False)
        exact = np.array([
            shapely.intersection(shapely.intersection(
                shapely.union_all(layer.geometries[layer.tree.query(boxes[i], predicate="intersects")]), boxes[i]),
                area).area / boxes[i].area
            for i in sample])
        assert column[sample].sum() == pytest.approx(exact.sum(), rel=SAMPLE_RTOL), layer.code


def test_one_pixel_per_cell_is_the_centroid_rule(toy_layers):
    # exclusion_resolution_m = the cell size burns one pixel per cell, at its centre: the rule before issue 16
    layers = prepare_exclusion_layers(protected_areas=toy_layers.protected_areas,
                                      localities_polygons=toy_layers.localities_polygons,
                                      water_bodies=toy_layers.water_bodies,
                                      params=ExclusionParameters(urban_buffer_m=1500.0))
    t = Affine(1000, 0, TOY_X0, 0, -1000, TOY_Y0 + 40_000)
    rows, cols = np.divmod(np.arange(1600), 40)
    shares = exclusion_shares(layers, t, (40, 40), rows, cols, subdivisions(1000.0, 1000.0))
    for j, layer in enumerate(layers):
        centre = rasterize_index(layer.geometries, t, (40, 40))[rows, cols] > 0
        np.testing.assert_array_equal(shares.fractions[:, j], centre.astype(float))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59), st.integers(1, 30), st.integers(1, 30)),
                min_size=1, max_size=4),
       st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(20, 60), st.integers(20, 60)))
def test_shares_of_polygons_on_pixel_edges_are_exact(boxes, area_box):
    # polygons and area whose edges lie on the 100 m pixel edges: every pixel is in or out whole, so
    # the shares equal shapely's exact overlaps, whatever the overlaps between the polygons
    pixel = 100.0
    polygons = [shapely.box(x * pixel, y * pixel, (x + w) * pixel, (y + h) * pixel) for x, y, w, h in boxes]
    area = shapely.box(*(v * pixel for v in area_box))
    layer = prepare_exclusion_layers(
        protected_areas=gpd.GeoDataFrame({"ap_code": ["x"] * len(polygons), "nombre": ["x"] * len(polygons)},
                                         geometry=polygons, crs="EPSG:6372"),
        localities_polygons=gpd.GeoDataFrame({"ambito": []}, geometry=[], crs="EPSG:6372"),
        water_bodies=gpd.GeoDataFrame(geometry=[], crs="EPSG:6372"))[:1]
    t = Affine(1000, 0, 0, 0, -1000, 6000)
    rows, cols = np.divmod(np.arange(36), 6)
    shares = exclusion_shares(layer, t, (6, 6), rows, cols, 10, area=area)
    cells = shapely.box(cols * 1000.0, 6000.0 - (rows + 1) * 1000.0, (cols + 1) * 1000.0, 6000.0 - rows * 1000.0)
    union = shapely.union_all(polygons)
    np.testing.assert_allclose(shares.fractions[:, 0], shapely.area(shapely.intersection(
        shapely.intersection(cells, union), area)) / 1e6, atol=1e-12)
    np.testing.assert_allclose(shares.outside_fraction, 1 - shapely.area(shapely.intersection(cells, area)) / 1e6,
                               atol=1e-12)
    np.testing.assert_allclose(shares.available_fraction + shares.outside_fraction + shares.excluded_fraction, 1.0,
                               atol=1e-12)
