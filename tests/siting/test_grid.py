"""Screening grid, tiles and request validation."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.grid import (
    ScreeningInputError,
    cell_ids,
    cell_index_of,
    corridor_area,
    parse_area,
    screening_grid,
    split_tiles,
)

try:
    from .screening_conftest import real_layers  # noqa: F401
except ImportError:
    from screening_conftest import real_layers  # noqa: F401

#: Cell-area tolerance (areas are exact products of integers). [-]
RTOL_EXACT = 1e-12


def test_cell_ids_are_lower_left_corner_and_resolution():
    grid = screening_grid(shapely.box(0, 0, 4000, 4000), 2.0)
    assert sorted(grid["cell_id"]) == ["6372:2000:0:0", "6372:2000:0:2000", "6372:2000:2000:0", "6372:2000:2000:2000"]
    np.testing.assert_allclose(grid["cell_area_km2"], 4.0, rtol=RTOL_EXACT)
    assert grid.crs == "EPSG:6372"


def test_same_cell_same_id_in_any_area():
    a = screening_grid(shapely.box(2_500_000, 1_000_000, 2_520_000, 1_020_000), 2.0)
    b = screening_grid(shapely.box(2_510_000, 1_010_000, 2_540_000, 1_030_000), 2.0)
    shared = set(a["cell_id"]) & set(b["cell_id"])
    # the overlap 2,510,000-2,520,000 x 1,010,000-1,020,000 holds 5 x 5 cells
    assert len(shared) == 25
    assert "6372:2000:2510000:1010000" in shared


def test_centroid_rule_membership():
    # triangle (0,0), (5500,0), (0,5500): a 2 km cell belongs when its centre has x_c + y_c < 5500;
    # centres (1000,1000), (3000,1000), (1000,3000) qualify (sums 2000, 4000, 4000); (5000,1000),
    # (3000,3000), (1000,5000) do not (6000) although those cells overlap the triangle.
    tri = shapely.Polygon([(0, 0), (5500, 0), (0, 5500)])
    grid = screening_grid(tri, 2.0)
    expected = {(1000, 1000), (3000, 1000), (1000, 3000)}
    assert set(zip(grid["x_m"], grid["y_m"])) == expected


def test_tiles_partition_the_grid(real_layers):
    area = corridor_area(real_layers.states, "bajio")
    whole = screening_grid(area, 10.0)
    tiles = split_tiles(area, 10.0, tile_cells=400)
    assert len(tiles) > 4
    parts = [screening_grid(area, 10.0, tile=t) for t in tiles]
    ids = np.concatenate([p["cell_id"].to_numpy() for p in parts])
    assert len(ids) == len(set(ids)) == len(whole)
    assert set(ids) == set(whole["cell_id"])
    assert all(t.ncols * t.nrows <= 400 for t in tiles)


def test_corridor_area_states(real_layers):
    bajio = corridor_area(real_layers.states, "bajio")
    noreste = corridor_area(real_layers.states, "Noreste")
    # INEGI areas: Ags 5,616 + Gto 30,607 + Jal 78,588 + Qro 11,699 + SLP 60,983 = 187,493 km² (INEGI 2020)
    assert bajio.area / 1e6 == pytest.approx(187_493, rel=0.02)
    # Coah 151,595 + NL 64,156 + Tamps 80,249 = 296,000 km² (INEGI 2020)
    assert noreste.area / 1e6 == pytest.approx(296_000, rel=0.02)
    with pytest.raises(ScreeningInputError) as err:
        corridor_area(real_layers.states, "yucatan")
    assert err.value.field == "corridor"


@settings(max_examples=50, deadline=None)
@given(
    x=st.floats(1_000_000, 4_000_000, allow_nan=False),
    y=st.floats(0, 2_500_000, allow_nan=False),
    res_km=st.sampled_from([0.5, 1.0, 2.0, 5.0]),
)
def test_cell_of_point_contains_point(x, y, res_km):
    r = res_km * 1000
    ix, iy = cell_index_of([x], [y], r)
    assert ix[0] * r <= x < (ix[0] + 1) * r
    assert iy[0] * r <= y < (iy[0] + 1) * r
    cid = cell_ids(ix, iy, r)[0]
    assert cid == f"6372:{int(r)}:{int(ix[0] * r)}:{int(iy[0] * r)}"


# -- bad input ---------------------------------------------------------------


def _poly(coords):
    return {"type": "Polygon", "coordinates": [coords]}


def _parse(real_layers, geojson):
    return parse_area(geojson, mexico_4326=real_layers.mexico_4326, corridors_4326=real_layers.corridors_4326)


def test_self_intersecting_polygon_is_repaired_and_reported(real_layers):
    bowtie = _poly([[-101.0, 21.5], [-100.9, 21.6], [-100.9, 21.5], [-101.0, 21.6], [-101.0, 21.5]])
    req = _parse(real_layers, bowtie)
    assert req.geometry_4326.is_valid
    assert len(req.repairs) == 1 and "make_valid" in req.repairs[0] and "Self-intersection" in req.repairs[0]
    # two triangles of 0.05° x 0.1° / 2 each; about 10.4 km x 5.2 km -> ~54 km² in total
    assert 40 < req.area_km2 < 70


def test_polygon_outside_mexico(real_layers):
    texas = _poly([[-97.9, 30.5], [-97.6, 30.5], [-97.6, 30.2], [-97.9, 30.2], [-97.9, 30.5]])
    with pytest.raises(ScreeningInputError, match="entirely outside Mexico") as err:
        _parse(real_layers, texas)
    assert err.value.field == "geometry"


def test_polygon_crossing_the_border(real_layers):
    # Nuevo Laredo / Laredo: straddles the Rio Bravo
    across = _poly([[-99.7, 27.3], [-99.3, 27.3], [-99.3, 27.8], [-99.7, 27.8], [-99.7, 27.3]])
    with pytest.raises(ScreeningInputError, match="crosses Mexico's border") as err:
        _parse(real_layers, across)
    assert err.value.field == "geometry"


def test_polygon_outside_the_corridors(real_layers):
    merida = _poly([[-89.7, 20.9], [-89.5, 20.9], [-89.5, 21.1], [-89.7, 21.1], [-89.7, 20.9]])
    with pytest.raises(ScreeningInputError, match="does not intersect the Bajío or northeast corridor"):
        _parse(real_layers, merida)


def test_geojson_without_coordinates(real_layers):
    for bad in ({"type": "Polygon"}, {"type": "Polygon", "coordinates": []},
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": []}, "properties": {}}):
        with pytest.raises(ScreeningInputError) as err:
            _parse(real_layers, bad)
        assert err.value.field == "geometry.coordinates"
        assert "no coordinates" in err.value.reason


def test_geojson_with_other_crs(real_layers):
    g = _poly([[2_500_000, 1_000_000], [2_510_000, 1_000_000], [2_510_000, 1_010_000], [2_500_000, 1_000_000]])
    g["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6372"}}
    with pytest.raises(ScreeningInputError) as err:
        _parse(real_layers, g)
    assert err.value.field == "geometry.crs"
    assert "EPSG:4326" in err.value.reason and "6372" in err.value.reason
    del g["crs"]  # projected numbers without a crs member are still caught
    with pytest.raises(ScreeningInputError, match="not longitude/latitude"):
        _parse(real_layers, g)


def test_invalid_json_and_type(real_layers):
    with pytest.raises(ScreeningInputError, match="not valid JSON"):
        _parse(real_layers, "{not json")
    with pytest.raises(ScreeningInputError) as err:
        _parse(real_layers, {"type": "LineString", "coordinates": [[-101, 21], [-100, 21]]})
    assert err.value.field == "geometry.type"


def test_too_many_cells(real_layers):
    area = corridor_area(real_layers.states, "bajio")
    with pytest.raises(ScreeningInputError) as err:
        split_tiles(area, 1.0, max_cells=10_000)
    assert err.value.field == "resolution_km"
    assert "more than the maximum 10,000" in err.value.reason
    with pytest.raises(ScreeningInputError, match="between 0.1 and 100"):
        screening_grid(area, 0.0)
    assert isinstance(err.value, ValueError)


def test_estimated_cells_match_area():
    box = shapely.box(0, 0, 10_000, 10_000)
    assert len(screening_grid(box, 1.0)) == 100
    assert math.isclose(box.area / 1e6, 100.0)
