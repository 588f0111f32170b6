"""Tests of fondo.data's manifest, checksum verification, loaders, cache and corridors.

Every figure checked here comes from the bundled files themselves or from the published
provenance in data/SOURCES-geo.md and data/SOURCES-weather.md (quoted next to each
constant), never from values the code printed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from shapely.geometry import Point

from fondo.data import cache
from fondo.data.cache import CACHE_MAX_ENTRIES, clear_cache
from fondo.data.loaders import (
    CORRIDOR_STATE_KEYS,
    corridor_geometries,
    load_dem,
    load_layer,
    load_table,
    load_wrf,
    mexico_bounds,
    weather_files,
)
from fondo.data.manifest import (
    DATASET_KINDS,
    Dataset,
    DatasetError,
    build_manifest,
    file_sha256,
    load_manifest,
    refresh_manifest,
    unlisted_files,
)
from fondo.data.verification import check_datasets, dataset_path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: Number of files of the bundle: 16 EPW (SOURCES-weather.md §1), 5 WRF NetCDF (§2),
#: 2 MERRA-2 files (§3), 14 geo files (SOURCES-geo.md §1-6).
BUNDLE_FILE_COUNT = 16 + 5 + 2 + 14

#: Projected CRS for areas (STYLE.md: EPSG:6372, Mexico ITRF2008 LCC).
AREA_CRS = "EPSG:6372"

#: Relative tolerance on areas compared in EPSG:6372 (same polygons, two union orders).
AREA_RTOL = 1e-9

#: INPI state totals of population in indigenous households (SOURCES-geo.md §4 check (a)).
INPI_STATE_TOTALS = {
    "01": 5_910,
    "05": 12_506,
    "11": 28_612,
    "14": 113_728,
    "19": 165_693,
    "22": 64_051,
    "24": 340_398,
    "28": 59_942,
}

#: Station state codes (file-name prefix) of each corridor; ZAC lies outside both.
STATION_CORRIDOR = {
    "AGU": "bajio",
    "GUA": "bajio",
    "QUE": "bajio",
    "SLP": "bajio",
    "JAL": "bajio",
    "NLE": "noreste",
    "COA": "noreste",
    "TAM": "noreste",
    "ZAC": None,
}

#: DEM grid (SOURCES-geo.md §5): 987 x 1,255 cells of 0.008983°, values -8 ... 5,374 m.
DEM_SHAPE = (1255, 987)
DEM_CELL_DEG = 0.008983
DEM_MIN_M = -8.0
DEM_MAX_M = 5374.0
#: "80 % of cells have data" (SOURCES-geo.md §5), stated to two digits.
DEM_DATA_FRACTION = 0.80
DEM_DATA_FRACTION_ATOL = 0.005

#: Extreme points of Mexico (INEGI, "Extremos geográficos"): west Isla Guadalupe
#: 118°22'00" W, south Río Suchiate 14°32'27" N, east Isla Mujeres 86°42'36" W,
#: north Monumento 206 32°43'06" N, as (west, south, east, north). [°]
MEXICO_EXTREME_POINTS_DEG = (-(118 + 22 / 60), 14 + 32 / 60 + 27 / 3600, -(86 + 42 / 60 + 36 / 3600), 32 + 43 / 60 + 6 / 3600)
#: Natural Earth 1:10m generalisation allowed against those points. [°]
NATURAL_EARTH_ATOL_DEG = 0.02

#: A small subset copied to tmp_path for corruption tests.
SUBSET_IDS = (
    "states_inegi",
    "mx_states_ne10m",
    "indigenous_typology_inpi2020",
    "dem_corridor_1km",
    "wrf_wind_80m_12c",
    "weather_agu_765710",
)

#: Tampico's EPW LOCATION is rounded to 0.05° and falls just outside Tamaulipas (in
#: Veracruz, across the Pánuco river); it must stay within this distance of noreste. [m]
TAMPICO_PREFIX = "MEX_TAM_Tampico"
TAMPICO_GAP_MAX_M = 1_000.0

AGS_EPW = "weather/MEX_AGU_Aguascalientes.765710_TMYx.2011-2025.epw"
MONTERREY_EPW = "weather/MEX_NLE_Monterrey.763930_TMYx.2011-2025.epw"


@pytest.fixture(scope="module")
def data_dir() -> Path:
    return DATA_DIR


def epw_location(path: Path) -> tuple[float, float]:
    """(lat, lon) from an EPW LOCATION line (EnergyPlus Auxiliary Programs, EPW header)."""
    fields = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert fields[0] == "LOCATION"
    return float(fields[6]), float(fields[7])


def make_subset(tmp_path: Path, ids: tuple[str, ...] = SUBSET_IDS) -> Path:
    """Copy the named datasets and a manifest listing only them into tmp_path/data."""
    target = tmp_path / "data"
    document = json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))
    document["datasets"] = [entry for entry in document["datasets"] if entry["id"] in ids]
    assert len(document["datasets"]) == len(ids)
    for entry in document["datasets"]:
        (target / entry["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_DIR / entry["file"], target / entry["file"])
    (target / "manifest.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return target


def flip_byte(path: Path, offset: int = 1000) -> None:
    payload = bytearray(path.read_bytes())
    payload[offset % len(payload)] ^= 0xFF
    path.write_bytes(bytes(payload))


# --------------------------------------------------------------------------- manifest


def test_manifest_lists_exactly_the_files_on_disk(data_dir):
    listed = {dataset.file for dataset in load_manifest(data_dir)}
    on_disk = {
        path.relative_to(data_dir).as_posix()
        for path in data_dir.rglob("*")
        if path.is_file()
        and path.parent != data_dir  # top level holds only manifest, README, SOURCES
    }
    assert listed == on_disk
    assert len(listed) == BUNDLE_FILE_COUNT
    assert unlisted_files(data_dir) == []
    top_level = sorted(path.name for path in data_dir.iterdir() if path.is_file())
    assert set(top_level) <= {"manifest.json", "README.md", "SOURCES-geo.md", "SOURCES-weather.md"}


def test_every_entry_has_provenance_checksum_and_size(data_dir):
    for dataset in load_manifest(data_dir):
        for field in ("description", "source", "original_provider", "licence", "attribution"):
            assert getattr(dataset, field).strip(), (dataset.file, field)
        assert re.fullmatch(r"[0-9a-f]{64}", dataset.sha256)
        assert dataset.kind in DATASET_KINDS
        assert dataset.bytes == (data_dir / dataset.file).stat().st_size


def test_committed_manifest_equals_rebuilt_manifest(data_dir):
    committed = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    assert build_manifest(data_dir) == committed


def test_manifest_sizes_match_sources_tables(data_dir):
    """The byte counts of SOURCES-weather.md's tables equal the manifest's."""
    text = (data_dir / "SOURCES-weather.md").read_text(encoding="utf-8")
    by_name = {Path(d.file).name: d for d in load_manifest(data_dir)}
    rows = re.findall(r"^\| `([^`]+)`\s*\|.*\| (\d+) \|$", text, flags=re.MULTILINE)
    assert len(rows) == 16 + 4 + 2
    for name, size in rows:
        assert by_name[name].bytes == int(size), name


def test_manifest_licences_follow_the_sources(data_dir):
    by_layer: dict[str, list[Dataset]] = {}
    for dataset in load_manifest(data_dir):
        by_layer.setdefault(dataset.layer or dataset.kind, []).append(dataset)
    expectations = {
        "grid_lines": "ODbL",
        "grid_nodes": "ODbL",
        "wrf_wind_80m": "CC BY-SA 4.0",
        "power_plants": "CC BY 4.0",
        "power_plants_generation": "CC BY 4.0",
        "water_bodies": "LGPL",
        "rivers": "LGPL",
        "states": "INEGI",
        "municipalities": "INEGI",
        "localities_urban": "INEGI",
        "localities_points": "INEGI",
        "weather": "WMO Resolution 40",
        "dem": "MIT",
        "mx_states": "Public domain",
        "protected_areas_state": "Not verified",
    }
    for layer, word in expectations.items():
        assert by_layer[layer], layer
        for dataset in by_layer[layer]:
            assert word in dataset.licence, (dataset.file, word)
    for dataset in by_layer["grid_lines"] + by_layer["grid_nodes"]:
        assert "OpenStreetMap contributors" in dataset.attribution
    for dataset in by_layer["merra2_ghi"] + by_layer["merra2_ghi_pdfs"]:
        assert "10.1175/JCLI-D-16-0758.1" in dataset.attribution


def test_weather_ids_carry_the_wmo_number_of_their_file(data_dir):
    weather = [d for d in load_manifest(data_dir) if d.kind == "weather"]
    assert len(weather) == 16
    for dataset in weather:
        wmo = re.search(r"\.(\d{6})_TMYx", dataset.file).group(1)
        assert dataset.id.endswith(wmo)
        assert dataset.layer is None


def test_file_sha256_equals_hashlib(data_dir):
    path = data_dir / "resource/merra2_ghi_3deg/merra2_ghi_monthly_mean_3deg_MEX_2011-2015.csv"
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.update(licence=""), "needs a non-empty text 'licence'"),
        (lambda e: e.pop("source"), "needs a non-empty text 'source'"),
        (lambda e: e.update(sha256="XYZ"), "sha256 must be 64 lower-case hex digits"),
        (lambda e: e.update(file="../etc/passwd"), "must be relative to the data directory"),
        (lambda e: e.update(kind="climate"), "kind 'climate' is not one of"),
        (lambda e: e.update(bytes=-1), "bytes must be a non-negative integer"),
        (lambda e: e.update(extra=1), "unknown keys ['extra']"),
    ],
)
def test_load_manifest_refuses_malformed_entries(tmp_path, edit, message):
    data = make_subset(tmp_path, ("states_inegi",))
    document = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    edit(document["datasets"][0])
    (data / "manifest.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DatasetError, match=re.escape(message)):
        load_manifest(data)


def test_load_manifest_refuses_wrong_version_duplicates_and_absence(tmp_path):
    data = make_subset(tmp_path, ("states_inegi", "mx_states_ne10m"))
    document = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    (data / "manifest.json").write_text(json.dumps({**document, "version": 2}), encoding="utf-8")
    with pytest.raises(DatasetError, match="has version 2"):
        load_manifest(data)
    document["datasets"][1]["id"] = document["datasets"][0]["id"]
    (data / "manifest.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DatasetError, match="lists id 'states_inegi' twice"):
        load_manifest(data)
    (data / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DatasetError, match="is not valid JSON"):
        load_manifest(data)
    (data / "manifest.json").unlink()
    with pytest.raises(DatasetError, match="manifest not found"):
        load_manifest(data)


def test_build_manifest_keeps_hand_written_fields_and_refreshes_checksums(tmp_path):
    data = make_subset(tmp_path, ("states_inegi", "indigenous_typology_inpi2020"))
    before = {d.file: d for d in load_manifest(data)}
    table = data / "geo/indigenous_municipal_typology_inpi2020.csv"
    table.write_bytes(table.read_bytes() + b"\n")
    (data / "geo/corridor_states_inegi.geojson").unlink()
    (data / "geo/new_layer.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    (data / "README.md").write_text("docs are not datasets", encoding="utf-8")
    mode_before = (data / "manifest.json").stat().st_mode & 0o777
    refresh_manifest(data)
    assert (data / "manifest.json").stat().st_mode & 0o777 == mode_before  # not mkstemp's 0600
    document = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    files = [entry["file"] for entry in document["datasets"]]
    assert files == ["geo/indigenous_municipal_typology_inpi2020.csv", "geo/new_layer.geojson"]
    kept = document["datasets"][0]
    old = before["geo/indigenous_municipal_typology_inpi2020.csv"]
    assert kept["description"] == old.description and kept["licence"] == old.licence
    assert kept["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest() != old.sha256
    assert kept["bytes"] == old.bytes + 1
    # the new file has a skeleton entry that the loader refuses until provenance is filled in
    with pytest.raises(DatasetError, match=r"new_layer.geojson\) needs a non-empty text 'kind'"):
        load_manifest(data)


# --------------------------------------------------------------------------- checking


def test_check_datasets_reports_every_bundled_file_ok(data_dir):
    statuses = check_datasets(data_dir)
    assert len(statuses) == BUNDLE_FILE_COUNT
    assert [s.status for s in statuses] == ["ok"] * BUNDLE_FILE_COUNT
    assert all(s.actual_sha256 == s.expected_sha256 for s in statuses)


def test_check_datasets_names_corrupted_and_missing_files(tmp_path):
    data = make_subset(tmp_path)
    assert all(s.ok for s in check_datasets(data))
    corrupted = data / "geo/corridor_states_inegi.geojson"
    flip_byte(corrupted)
    (data / AGS_EPW).unlink()
    statuses = {s.dataset.id: s for s in check_datasets(data)}
    bad = statuses["states_inegi"]
    assert bad.status == "corrupted"
    assert bad.actual_sha256 == hashlib.sha256(corrupted.read_bytes()).hexdigest()
    assert bad.expected_sha256 == bad.dataset.sha256 != bad.actual_sha256
    assert "corridor_states_inegi.geojson" in bad.message()
    assert bad.expected_sha256 in bad.message() and bad.actual_sha256 in bad.message()
    gone = statuses["weather_agu_765710"]
    assert gone.status == "missing" and gone.actual_sha256 is None
    assert "MEX_AGU_Aguascalientes.765710" in gone.message()
    others = [s.status for key, s in statuses.items() if key not in {"states_inegi", "weather_agu_765710"}]
    assert others == ["ok"] * (len(SUBSET_IDS) - 2)


@settings(max_examples=8, deadline=None)
@given(offset=st.integers(min_value=0, max_value=6767), mask=st.integers(min_value=1, max_value=255))
def test_any_single_byte_change_is_reported_corrupted(offset, mask):
    """Law: changing any one byte of a dataset makes check_datasets report it corrupted."""
    with tempfile.TemporaryDirectory() as directory:
        data = make_subset(Path(directory), ("merra2_ghi_monthly_3deg",))
        path = data / "resource/merra2_ghi_3deg/merra2_ghi_monthly_mean_3deg_MEX_2011-2015.csv"
        payload = bytearray(path.read_bytes())
        payload[offset % len(payload)] ^= mask
        path.write_bytes(bytes(payload))
        (status,) = check_datasets(data)
        assert status.status == "corrupted"


# --------------------------------------------------------------------------- loaders refuse


@pytest.mark.parametrize(
    ("load", "file"),
    [
        (lambda d: load_layer(d, "states"), "geo/corridor_states_inegi.geojson"),
        (lambda d: load_table(d, "indigenous_typology"), "geo/indigenous_municipal_typology_inpi2020.csv"),
        (lambda d: load_dem(d), "geo/dem_corridor_1km.tif"),
        (lambda d: load_wrf(d), "resource/mexico_wrf_wind_80m/12C_seasons.nc"),
        (lambda d: weather_files(d), AGS_EPW),
        (lambda d: dataset_path(d, "mx_states"), "geo/mx_states_ne10m.geojson"),
        (lambda d: corridor_geometries(d), "geo/corridor_states_inegi.geojson"),
    ],
)
def test_loaders_refuse_a_corrupted_file_even_after_caching_it(tmp_path, load, file):
    data = make_subset(tmp_path)
    load(data)  # parsed and cached while intact
    flip_byte(data / file)
    with pytest.raises(DatasetError, match=re.escape(Path(file).name) + ".*corrupted|corrupted.*" + re.escape(Path(file).name)):
        load(data)
    (data / file).unlink()
    with pytest.raises(DatasetError, match="missing.*" + re.escape(Path(file).name)):
        load(data)


def test_dataset_path_names_and_ambiguity(data_dir):
    assert dataset_path(data_dir, "states") == data_dir / "geo/corridor_states_inegi.geojson"
    assert dataset_path(data_dir, "weather_nle_763930") == data_dir / MONTERREY_EPW
    with pytest.raises(DatasetError, match="layer 'wrf_wind_80m' has 5 files"):
        dataset_path(data_dir, "wrf_wind_80m")
    with pytest.raises(DatasetError, match="no dataset or layer named 'protected_areas_federal'"):
        dataset_path(data_dir, "protected_areas_federal")
    with pytest.raises(DatasetError, match="is not a single CSV table"):
        load_table(data_dir, "states")
    with pytest.raises(DatasetError, match="is not a vector layer"):
        load_layer(data_dir, "dem")


# --------------------------------------------------------------------------- loaders read


def test_vector_layers_are_epsg4326_with_source_feature_counts(data_dir):
    # feature counts from SOURCES-geo.md
    counts = {
        "states": 8,
        "municipalities": 390,
        "mx_states": 32,
        "grid_lines": 1374,
        "grid_nodes": 1018,
        "protected_areas_state": 87,
        "water_bodies": 19,
        "rivers": 231,
    }
    for layer, count in counts.items():
        frame = load_layer(data_dir, layer)
        assert len(frame) == count, layer
        assert frame.crs.to_epsg() == 4326
    states = load_layer(data_dir, "states")
    assert sorted(states["cve_ent"]) == sorted(k for keys in CORRIDOR_STATE_KEYS.values() for k in keys)


def test_point_tables_become_points_keeping_rows_without_coordinates(data_dir):
    plants = load_layer(data_dir, "power_plants")
    # SOURCES-geo.md §6: 513 rows, 251 with coordinates
    assert len(plants) == 513
    assert int(plants.geometry.notna().sum()) == 251
    localities = load_layer(data_dir, "localities_points")
    assert len(localities) == 12_200
    # SOURCES-geo.md §5: ambito urbano 919 + rural 11,263 = 12,182 of 12,200; the other 18
    # rows are inactive localities (estatus 0) without coordinates.
    without = localities.geometry.isna()
    assert int(without.sum()) == 12_200 - 919 - 11_263
    assert (localities.loc[without, "estatus"] == 0).all()
    first = localities.iloc[0]
    assert (first.geometry.x, first.geometry.y) == (first["lon"], first["lat"])


def test_tables_keep_inegi_keys_as_text_and_match_inpi_state_totals(data_dir):
    typology = load_table(data_dir, "indigenous_typology")
    assert len(typology) == 390
    assert typology["cvegeo"].str.len().eq(5).all()
    totals = typology.groupby("cve_ent")["pob_indigena_hogares"].sum().to_dict()
    assert totals == INPI_STATE_TOTALS
    # SOURCES-geo.md §4: tipo A 16, B 31, C 329, D 14
    assert typology["tipo_code"].value_counts().to_dict() == {"C": 329, "B": 31, "A": 16, "D": 14}


def test_load_dem_grid_and_values(data_dir):
    elevation_m, transform, crs = load_dem(data_dir)
    assert elevation_m.shape == DEM_SHAPE
    assert crs.to_epsg() == 4326
    assert_allclose([transform.a, -transform.e], [DEM_CELL_DEG, DEM_CELL_DEG], rtol=1e-12)
    assert np.nanmin(elevation_m) == DEM_MIN_M and np.nanmax(elevation_m) == DEM_MAX_M
    data_fraction = float(np.isfinite(elevation_m).mean())
    assert abs(data_fraction - DEM_DATA_FRACTION) <= DEM_DATA_FRACTION_ATOL
    assert not elevation_m.flags.writeable


def test_load_wrf_four_domains_80m(data_dir):
    domains = load_wrf(data_dir)
    assert sorted(d.attrs["fondo_dataset_id"] for d in domains) == [
        "wrf_wind_80m_10ne", "wrf_wind_80m_11c", "wrf_wind_80m_12c", "wrf_wind_80m_13tvb", "wrf_wind_80m_9ne"
    ]
    for domain in domains:
        assert domain["wind_speed"].shape == (4, 165, 165)
        assert int(domain["zh"]) == 80
    domains[0].attrs["edited"] = True
    assert "edited" not in load_wrf(data_dir)[0].attrs


def test_weather_files_are_the_sixteen_epw(data_dir):
    paths = weather_files(data_dir)
    assert len(paths) == 16
    assert [p.name for p in paths] == sorted(p.name for p in (data_dir / "weather").glob("*.epw"))
    for path in paths:
        with open(path, "rb") as handle:
            assert handle.read(9) == b"LOCATION,"


def test_cached_layers_are_copies(data_dir):
    clear_cache()
    first = load_layer(data_dir, "states")
    first.loc[:, "nom_ent"] = "edited"
    second = load_layer(data_dir, "states")
    assert "edited" not in set(second["nom_ent"])
    keys = [key for key in cache._CACHE if key[0].endswith("corridor_states_inegi.geojson")]
    expected_sha256 = next(d.sha256 for d in load_manifest(data_dir) if d.layer == "states")
    assert [key[1] for key in keys] == [expected_sha256]


def test_cache_keeps_the_most_recently_used_entries(tmp_path):
    """The process cache holds CACHE_MAX_ENTRIES objects and evicts the least recently used."""
    clear_cache()
    sha256 = "0" * 64
    parses: list[int] = []

    def load(index: int) -> int:
        return cache.parsed(tmp_path / f"file{index}", sha256, "test",
                            lambda: parses.append(index) or index)

    for index in range(CACHE_MAX_ENTRIES):
        assert load(index) == index
    assert load(0) == 0  # a hit makes file0 the most recently used
    assert load(CACHE_MAX_ENTRIES) == CACHE_MAX_ENTRIES  # evicts file1, not file0
    assert len(cache._CACHE) == CACHE_MAX_ENTRIES
    assert parses == list(range(CACHE_MAX_ENTRIES + 1))
    load(0)
    assert parses[-1] == CACHE_MAX_ENTRIES
    load(1)
    assert parses[-1] == 1  # parsed again
    assert cache.parsed(tmp_path / "file0", "1" * 64, "test", lambda: "new") == "new"
    clear_cache()
    assert len(cache._CACHE) == 0


# --------------------------------------------------------------------------- corridors


def test_corridors_are_the_dissolved_states(data_dir):
    corridors = corridor_geometries(data_dir).set_index("corridor_id")
    assert list(corridors.index) == ["bajio", "noreste"]
    assert corridors.loc["bajio", "state_keys"] == ("01", "11", "14", "22", "24")
    assert corridors.loc["noreste", "state_keys"] == ("05", "19", "28")
    assert corridors.loc["bajio", "name"] == "Bajío"
    assert corridors.geometry.is_valid.all()
    states = load_layer(data_dir, "states").to_crs(AREA_CRS)
    projected = corridors.to_crs(AREA_CRS)
    for corridor_id, keys in CORRIDOR_STATE_KEYS.items():
        expected_area_m2 = states.loc[states["cve_ent"].isin(keys)].area.sum()
        assert_allclose(projected.loc[corridor_id].geometry.area, expected_area_m2, rtol=AREA_RTOL)
    # the corridors touch (SLP borders NL and Tamaulipas) but do not overlap
    overlap_m2 = projected.loc["bajio"].geometry.intersection(projected.loc["noreste"].geometry).area
    assert overlap_m2 <= AREA_RTOL * expected_area_m2


def test_stations_fall_in_their_corridor(data_dir):
    corridors = corridor_geometries(data_dir).set_index("corridor_id")
    lat, lon = epw_location(data_dir / AGS_EPW)
    assert (lat, lon) == (21.8511, -102.2911)  # SOURCES-weather.md table
    assert corridors.loc["bajio"].geometry.contains(Point(lon, lat))
    assert not corridors.loc["noreste"].geometry.contains(Point(lon, lat))
    lat, lon = epw_location(data_dir / MONTERREY_EPW)
    assert corridors.loc["noreste"].geometry.contains(Point(lon, lat))

    paths = weather_files(data_dir)
    latlon = np.array([epw_location(path) for path in paths])
    stations = gpd.GeoSeries(gpd.points_from_xy(latlon[:, 1], latlon[:, 0]), crs="EPSG:4326")
    projected = stations.to_crs(AREA_CRS)
    noreste_projected = corridors.to_crs(AREA_CRS).loc["noreste"].geometry
    for index, path in enumerate(paths):
        expected = STATION_CORRIDOR[path.name.split("_")[1]]
        inside = [cid for cid, row in corridors.iterrows() if row.geometry.contains(stations.iloc[index])]
        if path.name.startswith(TAMPICO_PREFIX):
            # the rounded LOCATION (22.2000, -97.8500) lies across the Pánuco, in Veracruz
            assert inside == []
            assert noreste_projected.distance(projected.iloc[index]) < TAMPICO_GAP_MAX_M
        else:
            assert inside == ([expected] if expected else []), path.name


def test_mexico_bounds_from_natural_earth(data_dir):
    assert_allclose(mexico_bounds(data_dir), MEXICO_EXTREME_POINTS_DEG, atol=NATURAL_EARTH_ATOL_DEG, rtol=0)
