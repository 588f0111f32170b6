"""Exclusion layers: rasterised centroid rule, reasons, buffers, imported layers."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from siting.exclusions import combine_reasons, overlap_km2, prepare_exclusion_layers, rasterize_index, row_codes
from siting.parameters import ExclusionParameters

try:
    from .screening_conftest import TOY_ANP, TOY_ANP_NAME, TOY_X0, TOY_Y0, toy_layers  # noqa: F401
except ImportError:
    from screening_conftest import TOY_ANP, TOY_ANP_NAME, TOY_X0, TOY_Y0, toy_layers  # noqa: F401

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
    labels = [np.array(["A", "B"]), np.zeros(0, dtype=str)]
    out = combine_reasons(["protected", "slope above 3 %"], index, labels)
    assert out.tolist() == ["", "protected: B", "protected: B; slope above 3 %", "", "protected: B; slope above 3 %"]


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
