"""Tests of fondo.data.layer_validation and layer_imports: officer-imported layers.

The accepted inputs are real: subsets of bundled layers (tests/reference/layers/, made by
make_fixtures.py there) rewritten in tmp_path as GeoJSON, GeoPackage or a zipped
shapefile, in EPSG:4326 or reprojected. Bad inputs that cannot be cut from real data are
built in tmp_path and named ``synthetic_*`` / ``garbage`` / ``shifted`` accordingly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import warnings
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from fondo.data.layer_extent import (
    LAND_TOLERANCE_M,
    SHRINK_CONFIRMATION_FRACTION,
    OutsideLandError,
    check_on_land,
    projected,
)
from fondo.data.layer_imports import (
    LayerProvenance,
    check_imported_layers,
    import_layer,
    list_imported_layers,
    read_provenance,
    remove_imported_layer,
)
from fondo.data.layer_validation import (
    LAYER_GEOMETRY,
    MEXICO_BOUNDS_MARGIN_DEG,
    LayerImportError,
    expected_geometry,
)
from fondo.data.loaders import load_layer, mexico_bounds, mexico_land
from fondo.data.manifest import DatasetError

pytestmark = pytest.mark.filterwarnings(
    # GDAL's shapefile driver launders field names longer than 10 characters while we
    # write test inputs (voltage_kv_max -> voltage_kv); that is the format, not a fault.
    "ignore:Normalized/laundered field name:RuntimeWarning",
    "ignore:.*truncated to 10 characters.*:RuntimeWarning",
)

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data"
FIXTURES = ROOT / "tests" / "reference" / "layers"

MUNICIPALITIES = FIXTURES / "ags_municipalities_inegi.geojson"
PROTECTED = FIXTURES / "ags_protected_areas_conabio2009.geojson"
NODES = FIXTURES / "ags_grid_nodes_osm.geojson"
LINES = FIXTURES / "ags_grid_lines_osm.geojson"
RESERVOIRS = FIXTURES / "border_reservoirs_gshhg.geojson"
BOWTIE = FIXTURES / "synthetic_invalid_bowtie.geojson"
DEGENERATE = FIXTURES / "synthetic_degenerate_polygon.geojson"

#: Mexico ITRF2008 LCC (STYLE.md's projected CRS) and UTM 13N, the zone of Aguascalientes.
LCC_CRS = "EPSG:6372"
UTM_CRS = "EPSG:32613"

#: Round trip 4326 -> projected -> 4326 through PROJ; far below the 1e-5° (~1 m)
#: rounding of the source coordinates. [°]
REPROJECTION_ATOL_DEG = 1e-7

#: Longitude shift that moves an Aguascalientes subset to the Atlantic (synthetic). [°]
OUTSIDE_SHIFT_DEG = 60.0

#: Latitude shift that moves an Aguascalientes subset (~22 °N) into West Texas (~31 °N),
#: about 130 km north of the Rio Bravo and inside Mexico's bounding box (synthetic). [°]
TEXAS_SHIFT_DEG = 9.0

#: Our EPSG:6372 areas against CONABIO's ``area_calc_ha``: the source was simplified at
#: ~20 m after CONABIO computed its areas (data/README.md). [-]
AREA_RTOL = 1e-3

#: Mexico's continental area, INEGI (Anuario Estadístico y Geográfico: 1,964,375 km² in
#: all, 1,959,248 km² continental, 5,127 km² of islands). [km²]
INEGI_CONTINENTAL_AREA_KM2 = 1_959_248.0

#: Agreement of the bundled 1:10m outline's area with INEGI's (generalised coast, small
#: islands left out). [-]
LAND_AREA_RTOL = 0.01

KWARGS = {"source": "test subset of a bundled layer", "licence": "as the bundled layer", "imported_by": "tester"}


def snapshot(directory: Path) -> dict[str, bytes] | None:
    """Every file (relative path -> bytes) under directory, None when it does not exist."""
    if not directory.exists():
        return None
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def write_zipped_shapefile(frame: gpd.GeoDataFrame, tmp_path: Path, name: str, *, with_prj: bool = True) -> Path:
    folder = tmp_path / f"{name}_shp"
    folder.mkdir()
    pyogrio.write_dataframe(frame, folder / f"{name}.shp", driver="ESRI Shapefile")
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for part in sorted(folder.iterdir()):
            if part.suffix == ".prj" and not with_prj:
                continue
            handle.write(part, arcname=part.name)
    return archive


# --------------------------------------------------------------------------- fixtures


def test_fixtures_are_reproducible_from_the_bundle(tmp_path):
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.build_fixtures(DATA_DIR, tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in FIXTURES.glob("*.geojson"))
    for path in written:
        assert path.read_bytes() == (FIXTURES / path.name).read_bytes(), path.name


def test_real_fixtures_are_unchanged_subsets_of_bundled_layers():
    bundled = gpd.read_file(DATA_DIR / "geo/corridor_municipios_inegi.geojson", engine="pyogrio")
    subset = gpd.read_file(MUNICIPALITIES, engine="pyogrio")
    expected = bundled[bundled["cve_ent"] == "01"].reset_index(drop=True)
    assert len(subset) == 11  # SOURCES-geo.md: Ags 11 municipalities
    assert subset["cvegeo"].tolist() == expected["cvegeo"].tolist()
    assert shapely.equals_exact(subset.geometry.to_numpy(), expected.geometry.to_numpy(), tolerance=0).all()


# --------------------------------------------------------------------------- accepted


def test_import_geojson_records_provenance(tmp_path):
    layers = tmp_path / "layers"
    before = datetime.now(UTC).replace(microsecond=0)
    provenance = import_layer("protected_areas_federal", PROTECTED, layers, **KWARGS)
    assert sorted(p.name for p in layers.iterdir()) == [
        "protected_areas_federal.gpkg",
        "protected_areas_federal.provenance.json",
    ]
    assert provenance.layer == "protected_areas_federal"
    assert provenance.original_filename == PROTECTED.name
    assert provenance.input_sha256 == hashlib.sha256(PROTECTED.read_bytes()).hexdigest()
    assert provenance.input_bytes == PROTECTED.stat().st_size
    assert provenance.input_format == "GeoJSON"
    assert provenance.input_crs == "EPSG:4326"
    assert provenance.feature_count == 2
    assert provenance.geometry_family == "polygon"
    assert provenance.repaired_geometry_count == 0
    assert (provenance.source, provenance.licence, provenance.imported_by) == (
        KWARGS["source"], KWARGS["licence"], KWARGS["imported_by"]
    )
    imported_at = datetime.fromisoformat(provenance.imported_at)
    assert imported_at.utcoffset() == timedelta(0)
    assert before <= imported_at <= datetime.now(UTC)
    assert provenance.gpkg_sha256 == hashlib.sha256((layers / provenance.gpkg_file).read_bytes()).hexdigest()
    assert provenance.gpkg_bytes == (layers / provenance.gpkg_file).stat().st_size
    # CONABIO's own area_calc_ha (106,030.5 ha and 5,797.9 ha) against ours in EPSG:6372
    assert_allclose(provenance.area_km2, (106_030.5 + 5_797.9) / 100, rtol=AREA_RTOL)
    assert provenance.land_check == {"tolerance_m": LAND_TOLERANCE_M, "partly_outside_count": 0,
                                     "partly_outside_indices": []}
    assert provenance.replaced is None  # a new layer replaces nothing
    record = json.loads((layers / "protected_areas_federal.provenance.json").read_text(encoding="utf-8"))
    assert record["version"] == 2
    assert LayerProvenance.from_dict(record) == provenance == read_provenance(layers, "protected_areas_federal")

    loaded = load_layer(DATA_DIR, "protected_areas_federal", layers_dir=layers)
    original = gpd.read_file(PROTECTED, engine="pyogrio")
    assert loaded.crs.to_epsg() == 4326
    assert loaded["nombre"].tolist() == original["nombre"].tolist()
    assert shapely.equals(loaded.geometry.to_numpy(), original.geometry.to_numpy()).all()


def test_import_gpkg_in_a_projected_crs_is_reprojected(tmp_path):
    original = gpd.read_file(MUNICIPALITIES, engine="pyogrio")
    source = tmp_path / "ags_municipalities_lcc.gpkg"
    original.to_crs(LCC_CRS).to_file(source, driver="GPKG", engine="pyogrio")
    # 11 municipalities in place of the bundled 390: a shrink the officer must confirm
    provenance = import_layer("municipalities", source, tmp_path / "layers", confirm_shrink=True, **KWARGS)
    assert provenance.replaced["replaced"] == "bundled"
    assert (provenance.replaced["features_before"], provenance.replaced["features_after"]) == (390, 11)
    assert provenance.input_format == "GPKG"
    assert provenance.input_crs == LCC_CRS
    assert provenance.feature_count == 11
    loaded = load_layer(DATA_DIR, "municipalities", layers_dir=tmp_path / "layers")
    assert loaded.crs.to_epsg() == 4326
    assert loaded["cvegeo"].tolist() == original["cvegeo"].tolist()
    assert_allclose(
        shapely.get_coordinates(loaded.geometry.to_numpy()),
        shapely.get_coordinates(original.geometry.to_numpy()),
        rtol=0,
        atol=REPROJECTION_ATOL_DEG,
    )
    # the bundled layer is untouched and still served without layers_dir
    assert len(load_layer(DATA_DIR, "municipalities")) == 390


def test_import_zipped_shapefile_points_and_lines(tmp_path):
    nodes = gpd.read_file(NODES, engine="pyogrio")
    archive = write_zipped_shapefile(nodes.to_crs(UTM_CRS), tmp_path, "ags_nodes_utm")
    provenance = import_layer("grid_nodes", archive, tmp_path / "layers", confirm_shrink=True, **KWARGS)
    assert provenance.input_format == "ESRI Shapefile (zip)"
    assert provenance.input_crs == UTM_CRS
    assert provenance.feature_count == len(nodes) == 8
    loaded = load_layer(DATA_DIR, "grid_nodes", layers_dir=tmp_path / "layers")
    assert_allclose(
        shapely.get_coordinates(loaded.geometry.to_numpy()),
        shapely.get_coordinates(nodes.geometry.to_numpy()),
        rtol=0,
        atol=REPROJECTION_ATOL_DEG,
    )
    lines = gpd.read_file(LINES, engine="pyogrio")
    archive = write_zipped_shapefile(lines, tmp_path, "ags_lines")
    provenance = import_layer("grid_lines", archive, tmp_path / "layers", confirm_shrink=True, **KWARGS)
    assert provenance.feature_count == len(lines) == 23
    assert provenance.input_crs == "EPSG:4326"


def test_geojson_with_a_crs_member_is_honoured(tmp_path):
    """GDAL writes the legacy 2008 'crs' member for a non-4326 GeoJSON; it must be used."""
    source = tmp_path / "ags_protected_lcc.geojson"
    gpd.read_file(PROTECTED, engine="pyogrio").to_crs(LCC_CRS).to_file(source, driver="GeoJSON", engine="pyogrio")
    assert "crs" in json.loads(source.read_text(encoding="utf-8"))
    provenance = import_layer("protected_areas_state", source, tmp_path / "layers", confirm_shrink=True, **KWARGS)
    assert provenance.input_crs == LCC_CRS
    west, south, east, north = provenance.bounds
    assert -103 < west < east < -102 and 21 < south < north < 23


def test_invalid_geometry_is_repaired_and_counted(tmp_path):
    provenance = import_layer("extra_exclusion_synthetic_bowtie", BOWTIE, tmp_path / "layers", **KWARGS)
    assert provenance.repaired_geometry_count == 1
    loaded = load_layer(DATA_DIR, "extra_exclusion_synthetic_bowtie", layers_dir=tmp_path / "layers")
    geometry = loaded.geometry.iloc[0]
    assert geometry.is_valid and geometry.geom_type == "MultiPolygon"
    # the bow-tie of make_fixtures.py: two triangles of 0.02° x 0.01° / 2 each
    assert_allclose(geometry.area, 2 * (0.02 * 0.01 / 2), rtol=1e-9)


# --------------------------------------------------------------------------- refused


def _mislabelled(tmp_path: Path) -> Path:
    """EPSG:6372 coordinates in a GeoJSON without its crs member: RFC 7946 says 4326."""
    source = tmp_path / "mislabelled.geojson"
    gpd.read_file(PROTECTED, engine="pyogrio").to_crs(LCC_CRS).to_file(source, driver="GeoJSON", engine="pyogrio")
    document = json.loads(source.read_text(encoding="utf-8"))
    document.pop("crs")
    source.write_text(json.dumps(document), encoding="utf-8")
    return source


def _no_prj(tmp_path: Path) -> Path:
    return write_zipped_shapefile(gpd.read_file(NODES, engine="pyogrio"), tmp_path, "nodes_no_prj", with_prj=False)


def _gpkg_without_crs(tmp_path: Path) -> Path:
    frame = gpd.read_file(PROTECTED, engine="pyogrio").set_crs(None, allow_override=True)
    source = tmp_path / "no_crs.gpkg"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        frame.to_file(source, driver="GPKG", engine="pyogrio")
    return source


def _shifted_outside_mexico(tmp_path: Path) -> Path:
    frame = gpd.read_file(PROTECTED, engine="pyogrio")
    frame["geometry"] = frame.geometry.translate(xoff=OUTSIDE_SHIFT_DEG)
    source = tmp_path / "synthetic_shifted_outside_mexico.geojson"
    frame.to_file(source, driver="GeoJSON", engine="pyogrio")
    return source


def _empty_file(tmp_path: Path) -> Path:
    source = tmp_path / "empty.geojson"
    source.write_bytes(b"")
    return source


def _no_features(tmp_path: Path) -> Path:
    source = tmp_path / "no_features.geojson"
    source.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    return source


def _garbage(tmp_path: Path) -> Path:
    source = tmp_path / "garbage.geojson"
    source.write_bytes(bytes(range(256)) * 4)
    return source


def _garbage_json(tmp_path: Path) -> Path:
    source = tmp_path / "garbage_braces.geojson"
    source.write_text("{ this is not json", encoding="utf-8")
    return source


def _garbage_gpkg(tmp_path: Path) -> Path:
    source = tmp_path / "garbage.gpkg"
    source.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    return source


def _garbage_zip(tmp_path: Path) -> Path:
    source = tmp_path / "garbage.zip"
    source.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    return source


def _zip_without_shapefile(tmp_path: Path) -> Path:
    source = tmp_path / "only_geojson.zip"
    with zipfile.ZipFile(source, "w") as handle:
        handle.write(PROTECTED, arcname=PROTECTED.name)
    return source


def _points_for_polygons(tmp_path: Path) -> Path:
    return NODES


def _missing_geometry(tmp_path: Path) -> Path:
    document = json.loads(PROTECTED.read_text(encoding="utf-8"))
    document["features"][1]["geometry"] = None
    source = tmp_path / "one_without_geometry.geojson"
    source.write_text(json.dumps(document), encoding="utf-8")
    return source


def _two_layer_gpkg(tmp_path: Path) -> Path:
    source = tmp_path / "two_layers.gpkg"
    frame = gpd.read_file(PROTECTED, engine="pyogrio")
    frame.to_file(source, layer="first", driver="GPKG", engine="pyogrio")
    frame.to_file(source, layer="second", driver="GPKG", engine="pyogrio")
    return source


def _text_fid_column(tmp_path: Path) -> Path:
    """Real subset plus a text 'fid' property: GeoPackage reserves 'fid' for integer ids,
    so validation passes and the write fails, exercising the clean-up path."""
    document = json.loads(PROTECTED.read_text(encoding="utf-8"))
    for index, feature in enumerate(document["features"]):
        feature["properties"]["fid"] = f"synthetic-text-id-{index}"
    source = tmp_path / "text_fid.geojson"
    source.write_text(json.dumps(document), encoding="utf-8")
    return source


REFUSALS = [
    ("protected_areas_federal", _mislabelled, r"outside Mexico.*not degrees.*mislabelled as EPSG:4326"),
    ("grid_nodes", _no_prj, r"nodes_no_prj.shp has no \.prj file \(CRS\), so its CRS is unknown"),
    ("protected_areas_federal", _gpkg_without_crs, r"no_crs.gpkg has no CRS"),
    ("protected_areas_federal", _shifted_outside_mexico, r"bounds \(-42\.\d+, .*fall outside Mexico"),
    ("protected_areas_federal", _empty_file, r"empty.geojson is empty \(0 bytes\)"),
    ("protected_areas_federal", _no_features, r"no_features.geojson has no features"),
    ("protected_areas_federal", _garbage, r"garbage.geojson is not a GeoJSON, GeoPackage or zipped shapefile"),
    ("protected_areas_federal", _garbage_json, r"cannot read garbage_braces.geojson as GeoJSON"),
    ("protected_areas_federal", _garbage_gpkg, r"garbage.gpkg is not a readable GeoPackage"),
    ("protected_areas_federal", _garbage_zip, r"garbage.zip is not a readable zip archive"),
    ("protected_areas_federal", _zip_without_shapefile, r"only_geojson.zip holds no shapefile"),
    ("protected_areas_federal", _points_for_polygons, r"layer expects polygon geometries but 8 of 8 features are Point"),
    ("localities_inpi", lambda tmp_path: PROTECTED, r"layer expects point geometries but 2 of 2 features are Polygon"),
    ("extra_exclusion_x", lambda tmp_path: DEGENERATE, r"1 invalid geometries are empty after repair"),
    ("protected_areas_federal", _missing_geometry, r"1 of 2 features have no geometry \(first at feature index 1\)"),
    ("protected_areas_federal", _two_layer_gpkg, r"holds 2 layers \(first, second\); choose one with source_layer"),
    ("protected_areas_federal", lambda tmp_path: tmp_path / "absent.geojson", r"absent.geojson does not exist"),
    ("protected_areas_federal", _text_fid_column, r"could not write layer 'protected_areas_federal' to .*fid"),
]


@pytest.mark.parametrize(("layer", "make", "message"), REFUSALS, ids=[m.__name__.strip("_") for _, m, _ in REFUSALS])
@pytest.mark.parametrize("layers_dir_exists", [False, True], ids=["new_dir", "existing_dir"])
def test_refused_inputs_leave_layers_dir_unchanged(tmp_path, layer, make, message, layers_dir_exists):
    layers = tmp_path / "layers"
    if layers_dir_exists:
        import_layer("grid_lines", LINES, layers, confirm_shrink=True, **KWARGS)
    before = snapshot(layers)
    source = make(tmp_path)
    with pytest.raises(LayerImportError, match=message):
        import_layer(layer, source, layers, **KWARGS)
    assert snapshot(layers) == before


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("parks", r"unknown layer 'parks'; known layers: .*extra_exclusion_<slug>"),
        ("dem", r"layer 'dem' is a raster or gridded resource file"),
        ("wrf_wind_80m", r"layer 'wrf_wind_80m' is a raster"),
        ("extra_exclusion_", r"must be 1-48 lower-case letters or digits"),
        ("extra_exclusion_Zona Militar", r"must be 1-48 lower-case letters or digits"),
        ("extra_exclusion_a__b", r"must be 1-48 lower-case letters or digits"),
    ],
)
def test_layer_names_are_checked(tmp_path, layer, message):
    with pytest.raises(LayerImportError, match=message):
        import_layer(layer, PROTECTED, tmp_path / "layers", **KWARGS)
    assert not (tmp_path / "layers").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"source": ""}, "needs a non-empty source"),
        ({"licence": "   "}, "needs a non-empty licence"),
        ({"imported_by": ""}, "imported_by must be None or a non-empty string"),
    ],
)
def test_source_and_licence_are_required(tmp_path, overrides, message):
    with pytest.raises(LayerImportError, match=message):
        import_layer("protected_areas_federal", PROTECTED, tmp_path / "layers", **{**KWARGS, **overrides})
    assert not (tmp_path / "layers").exists()


@settings(max_examples=25, deadline=None)
@given(slug=st.from_regex(r"[a-z0-9]{1,8}(_[a-z0-9]{1,8}){0,3}", fullmatch=True))
def test_every_well_formed_exclusion_slug_is_a_polygon_layer(slug):
    assert expected_geometry(f"extra_exclusion_{slug}") == "polygon"


def test_known_layers_have_a_geometry_family():
    assert expected_geometry("protected_areas_federal") == "polygon"
    assert expected_geometry("localities_inpi") == "point"
    assert expected_geometry("rivers") == "line"
    assert set(LAYER_GEOMETRY.values()) == {"point", "line", "polygon"}


# --------------------------------------------------------------------------- replace


def test_replace_semantics(tmp_path):
    layers = tmp_path / "layers"
    first = import_layer("protected_areas_federal", PROTECTED, layers, **KWARGS)
    before = snapshot(layers)
    with pytest.raises(LayerImportError, match=r"layer 'protected_areas_federal' is already imported.*replace=True"):
        import_layer("protected_areas_federal", PROTECTED, layers, **KWARGS)
    assert snapshot(layers) == before
    # a failed replacement keeps the earlier import intact
    with pytest.raises(LayerImportError, match="outside Mexico"):
        import_layer("protected_areas_federal", _shifted_outside_mexico(tmp_path), layers, replace=True, **KWARGS)
    assert snapshot(layers) == before

    source = tmp_path / "ags_protected_areas.gpkg"
    gpd.read_file(PROTECTED, engine="pyogrio").iloc[:1].to_file(source, driver="GPKG", engine="pyogrio")
    second = import_layer("protected_areas_federal", source, layers, replace=True, **{**KWARGS, "imported_by": None})
    assert second.input_sha256 != first.input_sha256
    assert second.feature_count == 1 and second.imported_by is None
    # half the features but 95 % of the area (Sierra Fría kept): no confirmation needed
    assert second.replaced["features_before"] == 2 and second.replaced["feature_loss_fraction"] == 0.5
    assert second.replaced["confirmed"] is False
    assert sorted(p.name for p in layers.iterdir()) == [
        "protected_areas_federal.gpkg",
        "protected_areas_federal.provenance.json",
    ]
    assert read_provenance(layers, "protected_areas_federal") == second
    assert len(load_layer(DATA_DIR, "protected_areas_federal", layers_dir=layers)) == 1


def test_imported_layer_overrides_bundled_and_is_checksummed(tmp_path):
    layers = tmp_path / "layers"
    assert len(load_layer(DATA_DIR, "protected_areas_state", layers_dir=layers)) == 87  # bundled
    import_layer("protected_areas_state", PROTECTED, layers, confirm_shrink=True, **KWARGS)
    assert len(load_layer(DATA_DIR, "protected_areas_state", layers_dir=layers)) == 2
    assert [p.layer for p in list_imported_layers(layers)] == ["protected_areas_state"]
    assert [(s.dataset.layer, s.status) for s in check_imported_layers(layers)] == [("protected_areas_state", "ok")]

    gpkg = layers / "protected_areas_state.gpkg"
    payload = bytearray(gpkg.read_bytes())
    payload[-100] ^= 0xFF
    gpkg.write_bytes(bytes(payload))
    (status,) = check_imported_layers(layers)
    assert status.status == "corrupted" and "protected_areas_state.gpkg" in status.message()
    with pytest.raises(DatasetError, match=r"imported layer 'protected_areas_state' is corrupted: .*protected_areas_state.gpkg"):
        load_layer(DATA_DIR, "protected_areas_state", layers_dir=layers)
    (layers / "protected_areas_state.provenance.json").unlink()
    with pytest.raises(DatasetError, match="has no provenance record"):
        load_layer(DATA_DIR, "protected_areas_state", layers_dir=layers)

    assert remove_imported_layer(layers, "protected_areas_state") is True
    assert remove_imported_layer(layers, "protected_areas_state") is False
    assert len(load_layer(DATA_DIR, "protected_areas_state", layers_dir=layers)) == 87
    assert list_imported_layers(layers) == []


def test_only_layers_of_the_bundle_without_files_fail_without_import(tmp_path):
    with pytest.raises(DatasetError, match="no dataset or layer named 'localities_inpi'"):
        load_layer(DATA_DIR, "localities_inpi", layers_dir=tmp_path / "layers")
    import_layer("localities_inpi", NODES, tmp_path / "layers", **KWARGS)
    points = load_layer(DATA_DIR, "localities_inpi", layers_dir=tmp_path / "layers")
    assert (points.geom_type == "Point").all() and len(points) == 8


def test_single_point_in_projected_crs_imports_without_warnings(tmp_path):
    """One point reprojected goes through pyproj's scalar path (see import_layer)."""
    nodes = gpd.read_file(NODES, engine="pyogrio").iloc[:1]
    source = tmp_path / "one_node_utm.gpkg"
    nodes.to_crs(UTM_CRS).to_file(source, driver="GPKG", engine="pyogrio")
    provenance = import_layer("localities_inpi", source, tmp_path / "layers", **KWARGS)
    assert provenance.feature_count == 1
    loaded = load_layer(DATA_DIR, "localities_inpi", layers_dir=tmp_path / "layers")
    assert_allclose(
        np.array(loaded.geometry.iloc[0].coords), np.array(nodes.geometry.iloc[0].coords), rtol=0, atol=REPROJECTION_ATOL_DEG
    )


def test_error_messages_name_the_file(tmp_path):
    source = _garbage(tmp_path)
    with pytest.raises(LayerImportError) as caught:
        import_layer("protected_areas_federal", source, tmp_path / "layers", **KWARGS)
    assert re.search(r"garbage\.geojson", str(caught.value))
    assert isinstance(caught.value, ValueError)


# --------------------------------------------------------------------------- Mexico's land


def _shifted_into_texas(tmp_path: Path, *, keep_real: bool) -> Path:
    """The two Aguascalientes areas, then (synthetic) a copy of Sierra Fría moved into Texas."""
    frame = gpd.read_file(PROTECTED, engine="pyogrio")
    moved = frame.iloc[:1].copy()
    moved["geometry"] = moved.geometry.translate(yoff=TEXAS_SHIFT_DEG)
    moved["nombre"] = "SYNTHETIC: Sierra Fría moved into Texas"
    parts = [frame, moved] if keep_real else [moved]
    source = tmp_path / "synthetic_shifted_into_texas.geojson"
    gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=frame.crs).to_file(
        source, driver="GeoJSON", engine="pyogrio")
    return source


def test_mexico_land_is_mexicos_area():
    land = mexico_land(DATA_DIR)
    assert land.geom_type == "MultiPolygon"
    assert_allclose(land.area / 1e6, INEGI_CONTINENTAL_AREA_KM2, rtol=LAND_AREA_RTOL)
    widened = mexico_land(DATA_DIR, buffer_m=LAND_TOLERANCE_M)
    assert widened.area > land.area and shapely.covers(widened, land)
    assert mexico_land(DATA_DIR) is not mexico_land(DATA_DIR)  # fresh copies, cache inside


@pytest.mark.parametrize("keep_real", [True, False], ids=["one_of_three", "all"])
def test_a_polygon_in_texas_is_refused_although_inside_the_bounding_box(tmp_path, keep_real):
    source = _shifted_into_texas(tmp_path, keep_real=keep_real)
    moved = gpd.read_file(source, engine="pyogrio").total_bounds
    west, _south, east, north = mexico_bounds(DATA_DIR)
    margin = MEXICO_BOUNDS_MARGIN_DEG
    # the bounds check alone lets it through: it is inside Mexico's bounding box
    assert west - margin <= moved[0] and moved[2] <= east + margin and moved[3] <= north + margin
    layers = tmp_path / "layers"
    import_layer("grid_lines", LINES, layers, confirm_shrink=True, **KWARGS)
    before = snapshot(layers)
    expected = r"1 of 3 features .* indices, 0-based in file order: 2\)" if keep_real else r"1 of 1 features .*: 0\)"
    with pytest.raises(LayerImportError, match=r"synthetic_shifted_into_texas.geojson: " + expected) as caught:
        import_layer("extra_exclusion_texas_test", source, layers, **KWARGS)
    assert "lie wholly outside Mexico's land widened by 5 km" in str(caught.value)
    assert caught.value.extra == {"outside_land_count": 1, "outside_land_indices": [2 if keep_real else 0]}
    assert snapshot(layers) == before


def test_partly_outside_features_are_kept_whole_and_reported(tmp_path):
    """Falcón and La Amistad straddle the Rio Bravo: real features, partly in the US."""
    provenance = import_layer("extra_exclusion_rio_bravo_reservoirs", RESERVOIRS, tmp_path / "layers", **KWARGS)
    assert provenance.land_check == {"tolerance_m": LAND_TOLERANCE_M, "partly_outside_count": 2,
                                     "partly_outside_indices": [0, 1]}
    loaded = load_layer(DATA_DIR, "extra_exclusion_rio_bravo_reservoirs", layers_dir=tmp_path / "layers")
    original = gpd.read_file(RESERVOIRS, engine="pyogrio")
    assert shapely.equals(loaded.geometry.to_numpy(), original.geometry.to_numpy()).all()  # not clipped
    # GSHHG's own area_km2 (computed in EPSG:6372, SOURCES-geo.md) of the whole reservoirs
    assert_allclose(provenance.area_km2, 467.59 + 259.46, rtol=AREA_RTOL)


def test_every_bundled_vector_layer_touches_mexicos_land():
    """The tolerance is wide enough for the real bundle, and needed: six OSM nodes on the
    coast lie off Natural Earth's shoreline."""
    for layer in ("protected_areas_state", "municipalities", "states", "grid_lines", "grid_nodes",
                  "localities_urban", "localities_points", "power_plants", "power_plants_generation",
                  "rivers", "water_bodies", "mx_states"):
        frame = load_layer(DATA_DIR, layer)
        frame = frame[~frame.geometry.isna()]
        check_on_land(projected(frame), layer, DATA_DIR)
    nodes = projected(load_layer(DATA_DIR, "grid_nodes"))
    with pytest.raises(OutsideLandError, match=r"6 of 1018 features") as caught:
        check_on_land(nodes, "grid_nodes", DATA_DIR, tolerance_m=0.0)
    distances_m = shapely.distance(mexico_land(DATA_DIR), nodes[caught.value.indices])
    assert (distances_m > 0).all() and distances_m.max() < LAND_TOLERANCE_M


# --------------------------------------------------------------------------- shrinking


def _cerro_del_muerto(tmp_path: Path) -> Path:
    """The smaller of the two real Aguascalientes areas alone (58 of 1,118 km²)."""
    source = tmp_path / "cerro_del_muerto.geojson"
    gpd.read_file(PROTECTED, engine="pyogrio").iloc[1:].to_file(source, driver="GeoJSON", engine="pyogrio")
    return source


def test_a_replacement_that_loses_most_of_the_area_needs_confirmation(tmp_path):
    layers = tmp_path / "layers"
    first = import_layer("protected_areas_federal", PROTECTED, layers, **KWARGS)
    before = snapshot(layers)
    smaller = _cerro_del_muerto(tmp_path)
    with pytest.raises(LayerImportError, match=r"replacing the imported layer 'protected_areas_federal' would "
                       r"shrink it: features 2 -> 1 \(-50 %\), area 1118\.\d -> 57\.9 km² \(-95 %\); "
                       r"confirm with confirm_shrink=True") as caught:
        import_layer("protected_areas_federal", smaller, layers, replace=True, **KWARGS)
    assert caught.value.field == "confirm_shrink"
    shrink = caught.value.extra["shrink"]
    assert (shrink["features_before"], shrink["features_after"]) == (2, 1)
    assert shrink["area_km2_before"] == round(first.area_km2, 3)
    assert_allclose(shrink["area_km2_after"], 5_797.9 / 100, rtol=AREA_RTOL)
    assert shrink["area_loss_fraction"] > SHRINK_CONFIRMATION_FRACTION == shrink["shrink_confirmation_fraction"]
    assert snapshot(layers) == before

    confirmed = import_layer("protected_areas_federal", smaller, layers, replace=True, confirm_shrink=True, **KWARGS)
    assert confirmed.replaced == {**shrink, "confirmed": True}
    assert read_provenance(layers, "protected_areas_federal").replaced["confirmed"] is True
    assert len(load_layer(DATA_DIR, "protected_areas_federal", layers_dir=layers)) == 1


def test_losing_most_features_of_a_bundled_point_layer_needs_confirmation(tmp_path):
    """8 Aguascalientes nodes in place of the bundled 1,018: counts only, points have no area."""
    with pytest.raises(LayerImportError, match=r"replacing the bundled layer 'grid_nodes' would shrink it: "
                       r"features 1018 -> 8 \(-99 %\); confirm") as caught:
        import_layer("grid_nodes", NODES, tmp_path / "layers", **KWARGS)
    assert caught.value.extra["shrink"]["area_km2_before"] is None
    assert not (tmp_path / "layers").exists()
    provenance = import_layer("grid_nodes", NODES, tmp_path / "layers", confirm_shrink=True, **KWARGS)
    assert provenance.replaced["replaced"] == "bundled" and provenance.replaced["confirmed"] is True


def test_version_1_provenance_still_reads_and_is_compared_by_its_file(tmp_path):
    layers = tmp_path / "layers"
    import_layer("protected_areas_federal", PROTECTED, layers, **KWARGS)
    path = layers / "protected_areas_federal.provenance.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    for key in ("area_km2", "land_check", "replaced"):
        record.pop(key)
    path.write_text(json.dumps({**record, "version": 1}), encoding="utf-8")
    old = read_provenance(layers, "protected_areas_federal")
    assert (old.area_km2, old.land_check, old.replaced) == (None, None, None)
    # the area before is measured from the stored GeoPackage
    with pytest.raises(LayerImportError, match=r"area 1118\.\d -> 57\.9 km²"):
        import_layer("protected_areas_federal", _cerro_del_muerto(tmp_path), layers, replace=True, **KWARGS)


# --------------------------------------------------------------------------- command line and API


def _cli(settings, *args):
    from click.testing import CliRunner

    from fondo.cli import main

    env = {f"FONDO_{key}": str(value) for key, value in settings.items()
           if key in {"INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "TASK_ALWAYS_EAGER"}}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_cli_refusals_are_one_line_and_store_nothing(settings, tmp_path):
    from sqlalchemy import func, select

    from fondo.data.models import LayerImport
    from fondo.db import session_scope

    common = ("--source", "CONABIO subset (test)", "--licence", "as the bundled layer")
    texas = _cli(settings, "data", "import", "extra_exclusion_texas_test",
                              str(_shifted_into_texas(tmp_path, keep_real=True)), *common)
    assert texas.exit_code == 1 and texas.output.count("\n") == 1
    assert re.match(r"error: synthetic_shifted_into_texas.geojson: 1 of 3 features lie wholly outside", texas.output)
    first = _cli(settings, "data", "import", "protected_areas_federal", str(PROTECTED), *common)
    assert first.exit_code == 0, first.output
    shrink = _cli(settings, "data", "import", "protected_areas_federal", str(_cerro_del_muerto(tmp_path)),
                  "--replace", *common)
    assert shrink.exit_code == 1 and shrink.output.count("\n") == 1
    assert re.match(r"error: replacing .* features 2 -> 1 \(-50 %\), area 1118\.\d -> 57\.9 km² \(-95 %\); "
                    r"confirm with .*--confirm-shrink.* \(confirm_shrink\)", shrink.output), shrink.output
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(LayerImport)) == 1
    confirmed = _cli(settings, "data", "import", "protected_areas_federal", str(_cerro_del_muerto(tmp_path)),
                     "--replace", "--confirm-shrink", *common)
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.output)["replaced"]["confirmed"] is True
    with session_scope(settings) as session:
        assert [row.feature_count for row in session.scalars(select(LayerImport).order_by(LayerImport.id))] == [2, 1]


def test_api_refusals_name_the_field_and_carry_the_summary(client, auth_headers, tmp_path):
    import io

    officer = auth_headers("officer")
    fields = {"layer": "protected_areas_federal", "source": "CONABIO subset (test)", "licence": "as bundled"}

    def post(path: Path, **extra):
        data = {**fields, "file": (io.BytesIO(path.read_bytes()), path.name), **extra}
        return client.post("/api/v1/data/layers", data=data, headers=officer, content_type="multipart/form-data")

    texas = post(_shifted_into_texas(tmp_path, keep_real=True), layer="extra_exclusion_texas_test")
    assert texas.status_code == 422 and texas.mimetype == "application/problem+json"
    assert (texas.json["field"], texas.json["outside_land_count"], texas.json["outside_land_indices"]) == ("file", 1, [2])
    assert post(PROTECTED).status_code == 201
    smaller = _cerro_del_muerto(tmp_path)
    refused = post(smaller, replace="true")
    assert refused.status_code == 422 and refused.json["field"] == "confirm_shrink"
    assert (refused.json["shrink"]["features_before"], refused.json["shrink"]["features_after"]) == (2, 1)
    assert refused.json["shrink"]["area_loss_fraction"] > SHRINK_CONFIRMATION_FRACTION
    assert [row["feature_count"] for row in client.get("/api/v1/data/layers", headers=officer).json["layers"]] == [2]
    confirmed = post(smaller, replace="true", confirm_shrink="true")
    assert confirmed.status_code == 201, confirmed.json
    assert confirmed.json["replaced"] == {**refused.json["shrink"], "confirmed": True}
