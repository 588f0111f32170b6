"""Loading the bundled and imported data: vector layers, tables, DEM, WRF and weather files.

Every loader verifies a file's SHA-256 against the manifest (bundled files, see
:mod:`fondo.data.verification`) or against its provenance record (layers imported by a
fund officer, see :mod:`fondo.data.layer_imports`) *before* reading it, and keeps the
parsed object in the process cache (:mod:`fondo.data.cache`) under the file's checksum.
Objects returned are copies, except the read-only DEM array.

Layers imported by an officer (``fondo data import``) live in a separate ``layers_dir``
and take precedence over the bundled layer of the same name in :func:`load_layer`.

This module belongs to the shell ring (it reads files); the core packages receive the
parsed objects it returns.

Examples
--------
>>> from fondo.data.loaders import corridor_geometries, load_layer
>>> from fondo.data.manifest import DEFAULT_DATA_DIR
>>> states = load_layer(DEFAULT_DATA_DIR, "states")  # doctest: +SKIP
>>> corridors = corridor_geometries(DEFAULT_DATA_DIR)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
import xarray as xr
from pyproj import CRS

from fondo.data.cache import parsed
from fondo.data.manifest import (
    DEFAULT_DATA_DIR,
    DatasetError,
    file_sha256,
    load_manifest,
)
from fondo.data.verification import find_datasets, verify_dataset

__all__ = [
    "CORRIDOR_NAMES",
    "CORRIDOR_STATE_KEYS",
    "LAND_CRS",
    "LAYER_CRS",
    "corridor_geometries",
    "imported_layer_paths",
    "load_dem",
    "load_layer",
    "load_table",
    "table_sha256",
    "load_wrf",
    "mexico_bounds",
    "mexico_land",
    "weather_files",
]

#: CRS of every vector layer and of the DEM, bundled or imported (RFC 7946 / SOURCES-geo.md).
LAYER_CRS: str = "EPSG:4326"

#: INEGI state keys (``cve_ent``) of each corridor, from the mission (DESIGN.md) and
#: ``SOURCES-geo.md``: Bajío = Aguascalientes 01, Guanajuato 11, Jalisco 14,
#: Querétaro 22, San Luis Potosí 24; Noreste = Coahuila 05, Nuevo León 19, Tamaulipas 28.
CORRIDOR_STATE_KEYS: dict[str, tuple[str, ...]] = {
    "bajio": ("01", "11", "14", "22", "24"),
    "noreste": ("05", "19", "28"),
}

#: Display names of the corridors (as in the ``corridor`` attribute of the INEGI layers).
CORRIDOR_NAMES: dict[str, str] = {"bajio": "Bajío", "noreste": "Noreste"}

#: Layer holding the INEGI state polygons the corridors are dissolved from.
_STATES_LAYER = "states"

#: Bundled layers whose union is Mexico's land (:func:`mexico_land`): Natural Earth's 32
#: states cover the whole country; INEGI's 8 corridor states are more detailed where the
#: fund invests (their coast and borders lie up to 3.0 km outside Natural Earth's).
_LAND_LAYERS: tuple[str, ...] = ("mx_states", "states")

#: Projected CRS of :func:`mexico_land` (Mexico ITRF2008 LCC, STYLE.md), in metres.
LAND_CRS: str = "EPSG:6372"

#: Columns read as text from CSV tables: INEGI geostatistical keys keep their leading
#: zeros (``cve_ent`` "01", ``cvegeo`` "01001") and are join keys (SOURCES-geo.md).
_KEY_COLUMNS: tuple[str, ...] = ("cvegeo", "cve_ent", "cve_mun", "cve_loc", "cvegeo_mun")

#: Coordinate column pairs (lat, lon) recognised in point tables (SOURCES-geo.md).
_LATLON_COLUMNS: tuple[tuple[str, str], ...] = (("lat", "lon"), ("latitude", "longitude"))


def imported_layer_paths(layers_dir: Path | str, layer: str) -> tuple[Path, Path]:
    """Where an imported layer and its provenance record live.

    Parameters
    ----------
    layers_dir : path-like
        Directory of officer-imported layers.
    layer : str
        Layer name.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        ``layers_dir/<layer>.gpkg`` and ``layers_dir/<layer>.provenance.json``.
    """
    layers_dir = Path(layers_dir)
    return layers_dir / f"{layer}.gpkg", layers_dir / f"{layer}.provenance.json"


def _imported_layer(layers_dir: Path | str, layer: str) -> tuple[Path, str] | None:
    """Verified (gpkg path, sha256) of an imported layer, or None when not imported."""
    gpkg, provenance = imported_layer_paths(layers_dir, layer)
    if not gpkg.exists() and not provenance.exists():
        return None
    if not provenance.is_file():
        raise DatasetError(
            f"imported layer '{layer}': {gpkg} has no provenance record {provenance.name}", gpkg
        )
    if not gpkg.is_file():
        raise DatasetError(
            f"imported layer '{layer}' is missing: {gpkg} not found (provenance exists)", gpkg
        )
    try:
        record = json.loads(provenance.read_text(encoding="utf-8"))
        expected = record["gpkg_sha256"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DatasetError(
            f"imported layer '{layer}': provenance {provenance} is unreadable ({exc})", provenance
        ) from None
    actual = file_sha256(gpkg)
    if actual != expected:
        raise DatasetError(
            f"imported layer '{layer}' is corrupted: {gpkg} has sha256 {actual}, "
            f"provenance expects {expected}",
            gpkg,
        )
    return gpkg, actual


def _points_from_table(table: pd.DataFrame, path: Path) -> gpd.GeoDataFrame:
    for lat, lon in _LATLON_COLUMNS:
        if lat in table.columns and lon in table.columns:
            geometry = gpd.points_from_xy(table[lon], table[lat], crs=LAYER_CRS)
            missing = table[lat].isna().to_numpy() | table[lon].isna().to_numpy()
            geometry[missing] = None
            return gpd.GeoDataFrame(table, geometry=geometry, crs=LAYER_CRS)
    raise DatasetError(f"{path} has no lat/lon or latitude/longitude columns", path)


def _read_csv(path: Path) -> pd.DataFrame:
    header = pd.read_csv(path, nrows=0).columns
    dtype = {column: "str" for column in _KEY_COLUMNS if column in header}
    return pd.read_csv(path, dtype=dtype)


def _read_vector(path: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path, engine="pyogrio")
    if frame.crs is None or CRS.from_user_input(frame.crs) != CRS.from_user_input(LAYER_CRS):
        raise DatasetError(f"{path} has CRS {frame.crs}, expected {LAYER_CRS}", path)
    return frame


def load_layer(
    data_dir: Path | str, layer: str, layers_dir: Path | str | None = None
) -> gpd.GeoDataFrame:
    """Load a vector layer, imported first, else bundled, after verifying its checksum.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.
    layer : str
        Layer name, e.g. ``"states"``, ``"protected_areas_state"``, ``"grid_lines"``,
        ``"protected_areas_federal"`` (imported only). Point tables (``"localities_points"``,
        ``"power_plants"``) are returned as points; rows without coordinates get a
        missing geometry.
    layers_dir : path-like, optional
        Directory of imported layers; ``layers_dir/<layer>.gpkg`` overrides the bundle.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326. A fresh copy: callers may modify it.

    Raises
    ------
    DatasetError
        Unknown layer, missing or corrupted file, or a file not in EPSG:4326.
    """
    if layers_dir is not None:
        imported = _imported_layer(layers_dir, layer)
        if imported is not None:
            path, sha256 = imported
            return parsed(path, sha256, "layer", lambda: _read_vector(path)).copy()
    data_dir = Path(data_dir)
    matches = find_datasets(load_manifest(data_dir), layer, data_dir)
    if len(matches) > 1:
        raise DatasetError(
            f"layer '{layer}' has {len(matches)} files and is not a single vector layer"
        )
    dataset = matches[0]
    path = dataset.path(data_dir)
    suffix = path.suffix.lower()
    if suffix not in {".geojson", ".json", ".gpkg", ".csv"}:
        raise DatasetError(f"layer '{layer}' ({dataset.file}) is not a vector layer", path)
    sha256 = verify_dataset(dataset, data_dir)
    if suffix == ".csv":
        return parsed(path, sha256, "points", lambda: _points_from_table(_read_csv(path), path)).copy()
    return parsed(path, sha256, "layer", lambda: _read_vector(path)).copy()


def load_table(data_dir: Path | str, layer: str) -> pd.DataFrame:
    """Load a bundled CSV table after verifying its checksum.

    INEGI keys (``cvegeo``, ``cve_ent``, ``cve_mun``, ``cve_loc``, ``cvegeo_mun``) are read
    as text so their leading zeros survive.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.
    layer : str
        Layer name or dataset id of a CSV, e.g. ``"indigenous_typology"``,
        ``"localities_points"``, ``"power_plants"``, ``"merra2_ghi"``.

    Returns
    -------
    pandas.DataFrame
        A fresh copy.

    Raises
    ------
    DatasetError
        Unknown name, not a CSV, missing or corrupted file.
    """
    path, sha256 = _verified_table(Path(data_dir), layer)
    return parsed(path, sha256, "table", lambda: _read_csv(path)).copy()


def _verified_table(data_dir: Path, layer: str) -> tuple[Path, str]:
    matches = find_datasets(load_manifest(data_dir), layer, data_dir)
    dataset = matches[0]
    path = dataset.path(data_dir)
    if len(matches) > 1 or path.suffix.lower() != ".csv":
        raise DatasetError(f"'{layer}' ({dataset.file}) is not a single CSV table", path)
    return path, verify_dataset(dataset, data_dir)


def table_sha256(data_dir: Path | str, layer: str) -> str:
    """The SHA-256 of a bundled CSV table, verified now (what :func:`load_table` would
    parse): a key for results computed from the table.

    Raises
    ------
    DatasetError
        As :func:`load_table`.
    """
    return _verified_table(Path(data_dir), layer)[1]


def _read_dem(path: Path) -> tuple[np.ndarray, Any, Any]:
    with rasterio.open(path) as source:
        band = source.read(1, masked=True)
        transform = source.transform
        crs = source.crs
    elevation_m = band.astype(np.float32).filled(np.nan)
    elevation_m.setflags(write=False)
    return elevation_m, transform, crs


def load_dem(data_dir: Path | str = DEFAULT_DATA_DIR) -> tuple[np.ndarray, Any, Any]:
    """Load the bundled ~1 km DEM after verifying its checksum.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.

    Returns
    -------
    elevation_m : numpy.ndarray
        2-D float32 array of elevation, NaN where the source has nodata (sea, outside
        Mexico); read-only, shared by every caller. [m]
    transform : affine.Affine
        Pixel-to-EPSG:4326 affine transform (cell size 0.008983°). [°]
    crs : rasterio.crs.CRS
        EPSG:4326.

    Raises
    ------
    DatasetError
        Missing or corrupted file.
    """
    data_dir = Path(data_dir)
    dataset = find_datasets(load_manifest(data_dir), "dem", data_dir)[0]
    sha256 = verify_dataset(dataset, data_dir)
    path = dataset.path(data_dir)
    return parsed(path, sha256, "dem", lambda: _read_dem(path))


def _read_netcdf(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as handle:
        return handle.load()


def load_wrf(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[xr.Dataset]:
    """Load the four WRF 80 m seasonal wind-speed domains after verifying checksums.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.

    Returns
    -------
    list of xarray.Dataset
        One per domain, in manifest order, fully loaded (no open file handles); variable
        ``wind_speed`` (season, lat, lon) [m/s]. Each has attribute ``fondo_dataset_id``.
        Copies: callers may modify them.

    Raises
    ------
    DatasetError
        Missing or corrupted file.
    """
    data_dir = Path(data_dir)
    domains = []
    for dataset in find_datasets(load_manifest(data_dir), "wrf_wind_80m", data_dir):
        sha256 = verify_dataset(dataset, data_dir)
        path = dataset.path(data_dir)
        domain = parsed(path, sha256, "netcdf", lambda path=path: _read_netcdf(path)).copy()
        domain.attrs["fondo_dataset_id"] = dataset.id
        domains.append(domain)
    return domains


def weather_files(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[Path]:
    """Paths of the bundled typical-year EPW files, each verified against the manifest.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.

    Returns
    -------
    list of pathlib.Path
        Sorted by file name.

    Raises
    ------
    DatasetError
        When any weather file is missing or corrupted.
    """
    data_dir = Path(data_dir)
    paths = []
    for dataset in load_manifest(data_dir):
        if dataset.kind == "weather":
            verify_dataset(dataset, data_dir)
            paths.append(dataset.path(data_dir))
    return sorted(paths, key=lambda path: path.name)


def corridor_geometries(
    data_dir: Path | str = DEFAULT_DATA_DIR, layers_dir: Path | str | None = None
) -> gpd.GeoDataFrame:
    """The two investment corridors as dissolved INEGI state boundaries.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.
    layers_dir : path-like, optional
        Directory of imported layers (an imported ``states`` layer takes precedence).

    Returns
    -------
    geopandas.GeoDataFrame
        Two rows, ``bajio`` then ``noreste``; columns ``corridor_id``, ``name``,
        ``state_keys`` (tuple of INEGI ``cve_ent``) and ``geometry`` (EPSG:4326).

    Raises
    ------
    DatasetError
        When the states layer lacks a corridor state or a ``cve_ent`` column.

    Notes
    -----
    The state keys are :data:`CORRIDOR_STATE_KEYS`. The state polygons are themselves the
    dissolved simplified INEGI municipalities (SOURCES-geo.md §1), so the union has no
    slivers between states.
    """
    states = load_layer(data_dir, _STATES_LAYER, layers_dir=layers_dir)
    if "cve_ent" not in states.columns:
        raise DatasetError(f"layer '{_STATES_LAYER}' has no 'cve_ent' column")
    rows = []
    for corridor_id, keys in CORRIDOR_STATE_KEYS.items():
        members = states[states["cve_ent"].isin(keys)]
        absent = sorted(set(keys) - set(members["cve_ent"]))
        if absent:
            raise DatasetError(
                f"layer '{_STATES_LAYER}' lacks states {absent} of corridor '{corridor_id}'"
            )
        rows.append(
            {
                "corridor_id": corridor_id,
                "name": CORRIDOR_NAMES[corridor_id],
                "state_keys": keys,
                "geometry": members.geometry.union_all(),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=LAYER_CRS)


def mexico_bounds(data_dir: Path | str = DEFAULT_DATA_DIR) -> tuple[float, float, float, float]:
    """Bounds of Mexico from the bundled Natural Earth ``mx_states`` layer.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.

    Returns
    -------
    tuple of float
        (west, south, east, north) in EPSG:4326. [°]
    """
    west, south, east, north = load_layer(data_dir, "mx_states").total_bounds
    return float(west), float(south), float(east), float(north)


def _land_wkb(frames: list[gpd.GeoDataFrame], buffer_m: float) -> bytes:
    land = shapely.union_all([frame.to_crs(LAND_CRS).geometry.union_all() for frame in frames])
    if buffer_m > 0:
        land = shapely.buffer(land, buffer_m)
    return shapely.to_wkb(land)


def mexico_land(data_dir: Path | str = DEFAULT_DATA_DIR, buffer_m: float = 0.0) -> shapely.Geometry:
    """Mexico's land as one (multi)polygon in EPSG:6372, optionally widened by ``buffer_m``.

    The dissolved union of the bundled Natural Earth ``mx_states`` (all 32 states, 1:10m)
    and INEGI ``states`` (the 8 corridor states, ~50 m), both verified against the
    manifest. Imported layers are not used: Mexico's outline does not change when an
    officer imports a ``states`` layer.

    Parameters
    ----------
    data_dir : path-like
        The bundled data directory.
    buffer_m : float, default 0
        Distance the land is widened by, in EPSG:6372. [m]

    Returns
    -------
    shapely.Geometry
        A fresh (unprepared) copy; the union and buffer are computed once per process
        and data version (:mod:`fondo.data.cache`). Area about 1.949e6 km². [m]

    Raises
    ------
    DatasetError
        A land layer missing or corrupted; ``buffer_m`` negative or not finite.
    """
    if not np.isfinite(buffer_m) or buffer_m < 0:
        raise DatasetError(f"buffer_m must be a finite distance >= 0 m, got {buffer_m!r}")
    data_dir = Path(data_dir)
    manifest = load_manifest(data_dir)
    datasets = [find_datasets(manifest, layer, data_dir)[0] for layer in _LAND_LAYERS]
    checksums = "+".join(verify_dataset(dataset, data_dir) for dataset in datasets)
    wkb = parsed(datasets[0].path(data_dir), checksums, f"mexico_land:{LAND_CRS}:{float(buffer_m)!r}",
                 lambda: _land_wkb([load_layer(data_dir, layer) for layer in _LAND_LAYERS], buffer_m))
    return shapely.from_wkb(wkb)
