"""The map's tile maths, lattice rasters, PNG rendering, vector layers and supply-curve table.

Independent references: the slippy-map tile formulas of the OpenStreetMap wiki
("Slippy map tilenames": ``x = floor((lon + 180) / 360 · 2^z)``, ``y = floor((1 -
asinh(tan φ) / π) / 2 · 2^z)``), EPSG:3857's half-width ``π · 6 378 137 m`` (EPSG registry),
shapely's point-in-polygon on the lattice squares, matplotlib's colormaps read directly, and
the bundled files read here with geopandas.
"""

from __future__ import annotations

import io
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from matplotlib import colormaps
from numpy.testing import assert_allclose
from PIL import Image
from tests_support import DATA_DIR

from fondo.errors import InvalidInput
from fondo.maps import charts, layers
from fondo.maps.tiles import (
    ColourScale,
    empty_tile_png,
    lattice_index,
    lattice_raster,
    pixel_centres_3857,
    render_tile,
    tile_bounds_3857,
)

#: EPSG:3857 half-width (π × WGS 84 semi-major axis, EPSG registry). [m]
HALF_WIDTH_M = 20037508.342789244
#: Coordinates are compared to a micrometre. [m]
COORD_ATOL_M = 1e-6
#: Aguascalientes city (lon, lat). [°]
AGS = (-102.30, 21.85)


def osm_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The OpenStreetMap wiki's tile of a point."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def osm_tile_lonlat_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile by the wiki's inverse formulas. [°]"""
    n = 2 ** z
    def lon(i): return i / n * 360.0 - 180.0
    def lat(j): return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * j / n))))
    return lon(x), lat(y + 1), lon(x + 1), lat(y)


def test_tile_bounds_match_the_epsg_3857_square():
    assert_allclose(tile_bounds_3857(0, 0, 0), (-HALF_WIDTH_M, -HALF_WIDTH_M, HALF_WIDTH_M,
                                                HALF_WIDTH_M), atol=COORD_ATOL_M)
    assert_allclose(tile_bounds_3857(1, 1, 0), (0.0, 0.0, HALF_WIDTH_M, HALF_WIDTH_M),
                    atol=COORD_ATOL_M)


@pytest.mark.parametrize("z", [4, 8, 12, 16])
def test_pixel_centres_lie_in_the_osm_tile_of_the_point(z):
    x, y = osm_tile(*AGS, z)
    west, south, east, north = osm_tile_lonlat_bounds(z, x, y)
    xs, ys = pixel_centres_3857(z, x, y)
    lon, lat = pyproj.Transformer.from_crs(3857, 4326, always_xy=True).transform(xs, ys)
    assert (lon > west).all() and (lon < east).all()
    assert (lat > south).all() and (lat < north).all()
    # Row 0 is the northern row, column 0 the western column.
    assert lat[0, 0] > lat[-1, 0] and lon[0, 0] < lon[0, -1]
    # The tile of the point contains the point.
    assert west <= AGS[0] <= east and south <= AGS[1] <= north


@pytest.mark.parametrize(("z", "x", "y", "field"), [(19, 0, 0, "z"), (-1, 0, 0, "z"),
                                                     (3, 8, 0, "x"), (3, 0, -1, "y")])
def test_a_tile_that_does_not_exist_is_refused_naming_its_coordinate(z, x, y, field):
    with pytest.raises(InvalidInput) as caught:
        tile_bounds_3857(z, x, y)
    assert caught.value.field == field


def _random_cells(rng, resolution_m, n=400):
    """Distinct lattice cells near Aguascalientes in EPSG:6372 (centres and squares)."""
    x0, y0 = pyproj.Transformer.from_crs(4326, 6372, always_xy=True).transform(*AGS)
    ix0, iy0 = math.floor(x0 / resolution_m) - 20, math.floor(y0 / resolution_m) - 20
    flat = rng.choice(40 * 40, size=n, replace=False)
    ix, iy = ix0 + flat % 40, iy0 + flat // 40
    squares = shapely.box(ix * resolution_m, iy * resolution_m, (ix + 1) * resolution_m,
                          (iy + 1) * resolution_m)
    return (ix + 0.5) * resolution_m, (iy + 0.5) * resolution_m, squares


def test_lattice_lookup_finds_the_square_that_contains_each_point():
    rng = np.random.default_rng(7)
    resolution_m = 2000.0
    cx, cy, squares = _random_cells(rng, resolution_m)
    values = rng.random(cx.size)
    raster = lattice_raster(cx, cy, resolution_m, {"v": values})
    xmin, ymin, xmax, ymax = shapely.total_bounds(squares)
    px = rng.uniform(xmin - 3000, xmax + 3000, 2000)
    py = rng.uniform(ymin - 3000, ymax + 3000, 2000)
    found = raster.lookup("v", px, py)
    tree = shapely.STRtree(squares)
    for k in range(px.size):
        hits = tree.query(shapely.Point(px[k], py[k]), predicate="intersects")
        if hits.size == 0:
            assert np.isnan(found[k])
        else:
            assert found[k] == pytest.approx(values[hits[0]], rel=1e-6)  # float32 grid


def test_points_that_did_not_project_fall_in_no_cell():
    raster = lattice_raster(np.array([500.0]), np.array([500.0]), 1000.0, {"v": np.array([1.0])})
    found = raster.lookup("v", np.array([np.inf, np.nan, 1e300, 500.0]),
                          np.array([500.0, 500.0, 500.0, -np.inf]))
    assert np.isnan(found).all()


def test_two_cells_in_one_lattice_square_are_refused():
    with pytest.raises(ValueError, match="two cells"):
        lattice_raster(np.array([100.0, 900.0]), np.array([100.0, 200.0]), 1000.0,
                       {"v": np.array([1.0, 2.0])})


def test_lattice_index_is_the_floor_of_x_over_r_including_negative_coordinates():
    ix, iy = lattice_index(np.array([-0.5, 0.0, 999.9, 1000.0]),
                           np.array([-1000.0, -999.0, 5.0, 2500.0]), 1000.0)
    assert ix.tolist() == [-1, 0, 0, 1]
    assert iy.tolist() == [-1, -1, 0, 2]


def test_colour_scale_reads_the_matplotlib_colormap_and_leaves_nan_transparent():
    scale = ColourScale("viridis", 20.0, 120.0, alpha=200)
    rgba = scale.colours(np.array([20.0, 120.0, 70.0, 500.0, np.nan]))
    cmap = colormaps["viridis"]
    expected_low = np.round(np.array(cmap(0.0)[:3]) * 255)
    expected_high = np.round(np.array(cmap(1.0)[:3]) * 255)
    assert_allclose(rgba[0, :3], expected_low, atol=1)
    assert_allclose(rgba[1, :3], expected_high, atol=1)
    assert_allclose(rgba[3, :3], expected_high, atol=1)  # clipped above vmax
    # The middle value takes the LUT entry int(0.5 · 255) = 127.
    assert_allclose(rgba[2, :3], np.round(np.array(cmap(127 / 255)[:3]) * 255), atol=1)
    assert rgba[:4, 3].tolist() == [200] * 4 and rgba[4].tolist() == [0, 0, 0, 0]


def test_rendered_tile_pixels_take_the_colour_of_the_cell_under_their_centre():
    rng = np.random.default_rng(11)
    resolution_m = 1000.0
    cx, cy, squares = _random_cells(rng, resolution_m, n=900)
    score = rng.random(cx.size)
    excluded = rng.random(cx.size) < 0.2
    raster = lattice_raster(cx, cy, resolution_m, {"score": score,
                                                   "excluded": excluded.astype(float)})
    scale = ColourScale("viridis", 0.0, 1.0)
    z = 11
    x, y = osm_tile(*AGS, z)
    png = render_tile(raster, z, x, y, "score", scale, masked="excluded",
                      mask_rgba=(110, 110, 110, 150))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    assert image.shape == (256, 256, 4)
    xs, ys = pixel_centres_3857(z, x, y)
    px, py = pyproj.Transformer.from_crs(3857, 6372, always_xy=True).transform(xs, ys)
    tree = shapely.STRtree(squares)
    lut = (colormaps["viridis"](np.linspace(0, 1, 256)) * 255).round().astype(int)
    for row, col in rng.integers(0, 256, size=(300, 2)):
        hits = tree.query(shapely.Point(px[row, col], py[row, col]), predicate="intersects")
        pixel = image[row, col].tolist()
        if hits.size == 0:
            assert pixel[3] == 0
        elif excluded[hits[0]]:
            assert pixel == [110, 110, 110, 150]
        else:
            index = int(np.clip(np.float32(score[hits[0]]) * 255.0, 0, 255))
            assert pixel == lut[index, :3].tolist() + [200]


def test_a_tile_far_from_the_cells_is_the_empty_tile():
    rng = np.random.default_rng(3)
    cx, cy, _ = _random_cells(rng, 1000.0, n=10)
    raster = lattice_raster(cx, cy, 1000.0, {"score": np.ones(cx.size)})
    x, y = osm_tile(-70.0, -30.0, 8)  # Chile
    assert render_tile(raster, 8, x, y, "score", ColourScale("viridis", 0, 1)) == empty_tile_png()


# --------------------------------------------------------------------------- vector layers


@pytest.fixture
def map_settings(tmp_path):
    return {"DATA_DIR": str(DATA_DIR), "INSTANCE_PATH": str(tmp_path)}


def test_simplify_tolerance_is_half_a_pixel_of_longitude():
    assert layers.simplify_tolerance_deg(0) == pytest.approx(0.5 * 360 / 256)
    assert layers.simplify_tolerance_deg(10) == pytest.approx(0.5 * 360 / 256 / 1024)


def test_states_layer_serves_every_corridor_state_from_the_bundled_file(map_settings):
    answer = layers.layer_geojson(map_settings, "states", 5)
    direct = gpd.read_file(DATA_DIR / "geo" / "corridor_states_inegi.geojson")
    assert sorted(f["properties"]["cve_ent"] for f in answer["features"]) == sorted(direct["cve_ent"])
    assert answer["truncated"] is False
    for feature in answer["features"]:
        assert feature["properties"]["label"] == feature["properties"]["nom_ent"]
        assert set(feature["properties"]) == {"cve_ent", "nom_ent", "corridor", "pob_total", "label"}


def test_a_view_gets_the_features_meeting_its_box(map_settings):
    bbox = (-102.5, 21.7, -102.0, 22.1)
    answer = layers.layer_geojson(map_settings, "municipalities", 10, bbox)
    direct = gpd.read_file(DATA_DIR / "geo" / "corridor_municipios_inegi.geojson")
    expected = sorted(direct[direct.intersects(shapely.box(*bbox))]["cvegeo"])
    assert sorted(f["properties"]["cvegeo"] for f in answer["features"]) == expected
    # Cut to the view grown by half its size on each side.
    west, south, east, north = bbox
    grown = shapely.box(west - 0.25, south - 0.2, east + 0.25, north + 0.2)
    for feature in answer["features"]:
        assert grown.buffer(1e-9).covers(shapely.geometry.shape(feature["geometry"]))


def test_localities_at_state_zoom_are_the_places_of_50000_inhabitants(map_settings):
    answer = layers.layer_geojson(map_settings, "localities", 6)
    table = pd.read_csv(DATA_DIR / "geo" / "localidades_inegi_puntos.csv", dtype={"cvegeo": str})
    expected = table[table["lat"].notna() & (table["pob_total"] >= 50_000)]
    assert sorted(f["properties"]["cvegeo"] for f in answer["features"]) == sorted(expected["cvegeo"])


def test_indigenous_municipalities_are_the_inpi_a_and_b_ones(map_settings):
    answer = layers.layer_geojson(map_settings, "indigenous_municipalities", 5)
    table = pd.read_csv(DATA_DIR / "geo" / "indigenous_municipal_typology_inpi2020.csv",
                        dtype={"cvegeo": str})
    expected = table[table["tipo_code"].isin(["A", "B"])]["cvegeo"]
    assert sorted(f["properties"]["cvegeo"] for f in answer["features"]) == sorted(expected)


def test_substations_are_the_osm_nodes_typed_as_substations(map_settings):
    answer = layers.layer_geojson(map_settings, "substations", 5)
    nodes = gpd.read_file(DATA_DIR / "geo" / "grid_nodes_osm_mexico.geojson")
    assert answer["feature_count"] == int(nodes["typ"].isin(
        ["substation", "sub_station", "station"]).sum())


@pytest.mark.parametrize(("layer", "zoom", "bbox", "field"), [
    ("nope", 5, None, "layer"), ("states", 19, None, "zoom"), ("states", True, None, "zoom"),
    ("states", 5, (10.0, 0.0, 5.0, 1.0), "bbox"), ("states", 5, (0.0, 0.0, math.nan, 1.0), "bbox"),
    ("states", 5, (-200.0, 0.0, 5.0, 1.0), "bbox"),
])
def test_bad_views_are_refused_naming_the_field(map_settings, layer, zoom, bbox, field):
    with pytest.raises(InvalidInput) as caught:
        layers.layer_geojson(map_settings, layer, zoom, bbox)
    assert caught.value.field == field


def test_layer_sources_come_from_the_manifest(map_settings):
    sources = layers.layer_sources(map_settings, ("grid_lines", "kind:weather"))
    assert sources[0]["licence"].startswith("ODbL")
    assert len(sources) == 2 and sources[1]["source"]


# --------------------------------------------------------------------------- supply curve


def test_supply_curve_table_sums_capacity_and_energy_below_each_threshold():
    curve = pd.DataFrame({
        "corridor": ["bajio", "bajio", "bajio", "noreste"],
        "lcoe_usd_per_mwh": [31.0, 38.0, 52.0, 45.0],
        "capacity_mw": [10.0, 20.0, 40.0, 5.0],
        "energy_gwh_per_year": [1.0, 2.0, 4.0, 0.5],
        "cumulative_capacity_mw": [10.0, 30.0, 70.0, 5.0],
    })
    corridors, rows = charts.supply_curve_table(curve)
    assert corridors == ["bajio", "noreste"]
    # LCOE spans 31-52 (21 USD/MWh): a step of 1 would need 21 rows (> 15), 2 needs 11; the
    # thresholds run from the first even number above 31 (32) to 52.
    by_threshold = {r["lcoe_max_usd_per_mwh"]: r for r in rows}
    assert list(by_threshold) == [float(v) for v in range(32, 53, 2)]
    assert by_threshold[32.0]["bajio"]["capacity_mw"] == 10.0  # 31
    assert by_threshold[38.0]["bajio"]["capacity_mw"] == 30.0  # 31 + 38
    assert by_threshold[52.0]["bajio"]["capacity_mw"] == 70.0  # all three
    assert by_threshold[52.0]["bajio"]["energy_gwh_per_year"] == 7.0
    assert by_threshold[44.0]["noreste"]["capacity_mw"] == 0.0  # 45 is above 44
    assert by_threshold[46.0]["noreste"]["capacity_mw"] == 5.0
    svg = charts.supply_curve_svg(curve, {"title": "T", "x": "X [GW]", "y": "Y"})
    assert svg.startswith(b"<?xml") and b"X [GW]" in svg


def test_raster_bounds_hold_every_cell_corner_in_lon_lat():
    from fondo.maps.tiles import raster_bounds_4326

    rng = np.random.default_rng(5)
    cx, cy, squares = _random_cells(rng, 2000.0, n=50)
    raster = lattice_raster(cx, cy, 2000.0, {"v": np.ones(cx.size)})
    west, south, east, north = raster_bounds_4326(raster)
    corners = shapely.get_coordinates(squares)
    lon, lat = pyproj.Transformer.from_crs(6372, 4326, always_xy=True).transform(corners[:, 0],
                                                                                 corners[:, 1])
    assert west <= lon.min() and lon.max() <= east and south <= lat.min() and lat.max() <= north
    # ...and no more than a cell wider (2 km is about 0.02°).
    assert lon.min() - west < 0.02 and north - lat.max() < 0.02


@pytest.mark.parametrize(("z", "lon", "lat"), [(4, -102.0, 23.0), (8, -99.5, 25.7),
                                               (12, *AGS), (16, -100.3, 25.67), (2, -150.0, 60.0)])
def test_closed_form_pixel_centres_equal_pyproj(z, lon, lat):
    from fondo.maps.tiles import pixel_centres_6372

    x, y = osm_tile(lon, lat, z)
    xs, ys = pixel_centres_3857(z, x, y)
    expected_x, expected_y = pyproj.Transformer.from_crs(3857, 6372, always_xy=True).transform(xs, ys)
    got_x, got_y = pixel_centres_6372(z, x, y)
    assert_allclose(got_x, expected_x, rtol=0, atol=1e-4)  # 0.1 mm
    assert_allclose(got_y, expected_y, rtol=0, atol=1e-4)
