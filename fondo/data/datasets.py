"""The bundled real-data bundle: manifest, checksum verification and loaders.

Every file Fondo ships under ``data/`` is listed in ``data/manifest.json`` with what it
is, where it comes from, its licence, its size and its SHA-256 checksum. The loaders in
this module verify the checksum of a file *before* reading it, so a truncated download,
a bad merge or an edited file stops the caller with a :class:`DatasetError` naming the
file, instead of flowing silently into a screening run or a yield study.

This module belongs to the shell ring (it reads files); the core packages receive the
parsed objects it returns.

Layers imported later by a fund officer (``fondo data import``, see
:mod:`fondo.layers_import`) live in a separate ``layers_dir`` and take precedence over
the bundled layer of the same name in :func:`load_layer`.

Examples
--------
>>> from fondo.data.datasets import DEFAULT_DATA_DIR, check_datasets, corridor_geometries
>>> bad = [s for s in check_datasets(DEFAULT_DATA_DIR) if s.status != "ok"]
>>> corridors = corridor_geometries(DEFAULT_DATA_DIR)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

__all__ = [
    "CORRIDOR_NAMES",
    "CORRIDOR_STATE_KEYS",
    "DATASET_KINDS",
    "DEFAULT_DATA_DIR",
    "Dataset",
    "DatasetError",
    "DatasetStatus",
    "EXCLUDED_FROM_MANIFEST",
    "LAYER_CRS",
    "MANIFEST_FILENAME",
    "MANIFEST_VERSION",
    "build_manifest",
    "check_datasets",
    "clear_cache",
    "corridor_geometries",
    "dataset_path",
    "dataset_status",
    "file_sha256",
    "imported_layer_paths",
    "load_dem",
    "load_layer",
    "load_manifest",
    "load_table",
    "load_wrf",
    "mexico_bounds",
    "refresh_manifest",
    "unlisted_files",
    "weather_files",
]

#: The repository's bundled data directory (``<repo>/data``).
DEFAULT_DATA_DIR: Path = Path(__file__).resolve().parents[2] / "data"

#: Name of the manifest file inside the data directory.
MANIFEST_FILENAME: str = "manifest.json"

#: Version of the manifest schema this module reads and writes.
MANIFEST_VERSION: int = 1

#: Glob patterns (relative to the data directory) of files that are documentation of
#: the bundle, not datasets, and are therefore not listed in the manifest.
EXCLUDED_FROM_MANIFEST: tuple[str, ...] = (MANIFEST_FILENAME, "README.md", "SOURCES-*.md")

#: Allowed values of a manifest entry's ``kind``.
DATASET_KINDS: frozenset[str] = frozenset(
    {
        "weather",
        "boundary",
        "grid",
        "protected_areas",
        "localities",
        "indigenous",
        "water",
        "dem",
        "power_plants",
        "resource",
    }
)

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

#: Columns read as text from CSV tables: INEGI geostatistical keys keep their leading
#: zeros (``cve_ent`` "01", ``cvegeo`` "01001") and are join keys (SOURCES-geo.md).
_KEY_COLUMNS: tuple[str, ...] = ("cvegeo", "cve_ent", "cve_mun", "cve_loc", "cvegeo_mun")

#: Coordinate column pairs (lat, lon) recognised in point tables (SOURCES-geo.md).
_LATLON_COLUMNS: tuple[tuple[str, str], ...] = (("lat", "lon"), ("latitude", "longitude"))

#: Entry keys of a manifest dataset, in the order they are written.
_ENTRY_KEYS: tuple[str, ...] = (
    "id",
    "file",
    "kind",
    "layer",
    "description",
    "source",
    "original_provider",
    "licence",
    "attribution",
    "sha256",
    "bytes",
)

#: Entry keys that must be non-empty text in every manifest entry.
_REQUIRED_TEXT_KEYS: tuple[str, ...] = (
    "id",
    "file",
    "kind",
    "description",
    "source",
    "original_provider",
    "licence",
    "attribution",
)

#: Chunk size for streaming checksums. [bytes]
_HASH_CHUNK_BYTES: int = 1 << 20

#: Permission bits of a manifest written where none existed (rw-r--r--).
_NEW_FILE_MODE: int = 0o644

#: Number of parsed objects kept in the in-process cache.
_CACHE_MAX_ENTRIES: int = 48

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-.]*$")

DatasetState = Literal["ok", "missing", "corrupted"]


class DatasetError(ValueError):
    """A bundled or imported dataset is missing, corrupted, unknown or malformed.

    Attributes
    ----------
    path : pathlib.Path or None
        The file concerned, when there is one.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Dataset:
    """One file of the bundle, as listed in ``data/manifest.json``.

    Parameters
    ----------
    id : str
        Stable identifier, e.g. ``"states_inegi"`` or ``"weather_agu_765710"``.
    file : str
        Path relative to the data directory, POSIX separators.
    kind : str
        One of :data:`DATASET_KINDS`.
    layer : str or None
        Layer name for geo and resource layers (e.g. ``"states"``), None for weather files.
    description, source, original_provider, licence, attribution : str
        Provenance carried from ``data/SOURCES-*.md``.
    sha256 : str
        Expected SHA-256 of the file, lower-case hex.
    bytes : int
        Expected size of the file. [bytes]
    """

    id: str
    file: str
    kind: str
    layer: str | None
    description: str
    source: str
    original_provider: str
    licence: str
    attribution: str
    sha256: str
    bytes: int

    def path(self, data_dir: Path | str) -> Path:
        """Absolute path of the file under ``data_dir``."""
        return Path(data_dir) / self.file


@dataclass(frozen=True)
class DatasetStatus:
    """Result of checking one dataset against the manifest.

    Parameters
    ----------
    dataset : Dataset
        The manifest entry.
    path : pathlib.Path
        Where the file was looked for.
    status : {"ok", "missing", "corrupted"}
        ``corrupted`` means the file exists but its SHA-256 differs from the manifest.
    expected_sha256 : str
        Checksum from the manifest.
    actual_sha256 : str or None
        Checksum of the file on disk, None when missing.
    actual_bytes : int or None
        Size of the file on disk, None when missing. [bytes]
    """

    dataset: Dataset
    path: Path
    status: DatasetState
    expected_sha256: str
    actual_sha256: str | None
    actual_bytes: int | None

    @property
    def ok(self) -> bool:
        """True when the file is present and its checksum matches."""
        return self.status == "ok"

    def message(self) -> str:
        """One line for a report, naming the file and, when corrupted, both checksums."""
        if self.status == "ok":
            return f"ok         {self.dataset.file}"
        if self.status == "missing":
            return f"missing    {self.dataset.file} (expected at {self.path})"
        return (
            f"corrupted  {self.dataset.file}: sha256 {self.actual_sha256} "
            f"({self.actual_bytes} bytes), manifest expects {self.expected_sha256} "
            f"({self.dataset.bytes} bytes)"
        )


# --------------------------------------------------------------------------- checksums


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file, streamed.

    Parameters
    ----------
    path : path-like
        File to hash.

    Returns
    -------
    str
        Lower-case hexadecimal digest (64 characters).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_HASH_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- manifest


def _manifest_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / MANIFEST_FILENAME


def _read_manifest_json(data_dir: Path | str) -> dict[str, Any]:
    path = _manifest_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"manifest not found: {path}", path) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"manifest {path} is not valid JSON: {exc}", path) from None
    if not isinstance(document, dict):
        raise DatasetError(f"manifest {path} must be a JSON object", path)
    return document


def _dataset_from_entry(entry: Any, index: int, path: Path) -> Dataset:
    where = f"manifest {path}, datasets[{index}]"
    if not isinstance(entry, dict):
        raise DatasetError(f"{where} must be an object", path)
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise DatasetError(f"{where} has unknown keys {unknown}", path)
    for key in _REQUIRED_TEXT_KEYS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            name = entry.get("file", entry.get("id", "?"))
            raise DatasetError(f"{where} ({name}) needs a non-empty text '{key}'", path)
    file = entry["file"]
    if file.startswith("/") or "\\" in file or ".." in Path(file).parts:
        raise DatasetError(f"{where}: file '{file}' must be relative to the data directory", path)
    if not _ID_RE.match(entry["id"]):
        raise DatasetError(f"{where}: id '{entry['id']}' must match {_ID_RE.pattern}", path)
    if entry["kind"] not in DATASET_KINDS:
        raise DatasetError(
            f"{where} ({file}): kind '{entry['kind']}' is not one of {sorted(DATASET_KINDS)}", path
        )
    layer = entry.get("layer")
    if layer is not None and (not isinstance(layer, str) or not _ID_RE.match(layer)):
        raise DatasetError(f"{where} ({file}): layer must be null or a lower-case name", path)
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not _SHA256_RE.match(sha256):
        raise DatasetError(f"{where} ({file}): sha256 must be 64 lower-case hex digits", path)
    size = entry.get("bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise DatasetError(f"{where} ({file}): bytes must be a non-negative integer", path)
    return Dataset(
        id=entry["id"],
        file=file,
        kind=entry["kind"],
        layer=layer,
        description=entry["description"],
        source=entry["source"],
        original_provider=entry["original_provider"],
        licence=entry["licence"],
        attribution=entry["attribution"],
        sha256=sha256,
        bytes=size,
    )


def load_manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[Dataset]:
    """Read and validate ``data_dir/manifest.json``.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    list of Dataset
        In manifest order.

    Raises
    ------
    DatasetError
        When the manifest is missing, not JSON, of another version, or an entry lacks a
        field, has a malformed checksum, or repeats an id or a file.
    """
    path = _manifest_path(data_dir)
    document = _read_manifest_json(data_dir)
    if document.get("version") != MANIFEST_VERSION:
        raise DatasetError(
            f"manifest {path} has version {document.get('version')!r}, "
            f"this code reads version {MANIFEST_VERSION}",
            path,
        )
    entries = document.get("datasets")
    if not isinstance(entries, list):
        raise DatasetError(f"manifest {path} needs a 'datasets' list", path)
    datasets = [_dataset_from_entry(entry, i, path) for i, entry in enumerate(entries)]
    for attribute in ("id", "file"):
        seen: set[str] = set()
        for dataset in datasets:
            value = getattr(dataset, attribute)
            if value in seen:
                raise DatasetError(f"manifest {path} lists {attribute} '{value}' twice", path)
            seen.add(value)
    return datasets


def _is_excluded(relative: str) -> bool:
    """True for the bundle's top-level documentation files (never listed)."""
    return "/" not in relative and any(fnmatch(relative, pattern) for pattern in EXCLUDED_FROM_MANIFEST)


def _files_on_disk(data_dir: Path) -> list[str]:
    files = []
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(data_dir).as_posix()
        if _is_excluded(relative) or any(part.startswith(".") for part in Path(relative).parts):
            continue
        files.append(relative)
    return sorted(files)


def unlisted_files(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[str]:
    """Files under ``data_dir`` that the manifest does not list.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    list of str
        Paths relative to ``data_dir`` (documentation files and hidden files excluded).
    """
    listed = {dataset.file for dataset in load_manifest(data_dir)}
    return [file for file in _files_on_disk(Path(data_dir)) if file not in listed]


def _skeleton_id(relative: str) -> str:
    stem = Path(relative).name.split(".")[0]
    return re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_") or "dataset"


def build_manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> dict[str, Any]:
    """Build the manifest document from the files on disk.

    Hand-written fields (id, kind, layer, description, source, original_provider,
    licence, attribution) of files already in the existing manifest are preserved;
    ``sha256`` and ``bytes`` are recomputed; entries whose file is gone are dropped; new
    files get a skeleton entry with empty provenance, which :func:`load_manifest` rejects
    until someone fills it in from the SOURCES files.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    dict
        ``{"version": 1, "datasets": [...]}``, entries sorted by file.
    """
    data_dir = Path(data_dir)
    previous: dict[str, dict[str, Any]] = {}
    if _manifest_path(data_dir).exists():
        for entry in _read_manifest_json(data_dir).get("datasets", []):
            if isinstance(entry, dict) and isinstance(entry.get("file"), str):
                previous[entry["file"]] = entry
    datasets = []
    for relative in _files_on_disk(data_dir):
        old = previous.get(relative, {})
        entry: dict[str, Any] = {
            "id": old.get("id", _skeleton_id(relative)),
            "file": relative,
            "kind": old.get("kind", ""),
            "layer": old.get("layer"),
            "description": old.get("description", ""),
            "source": old.get("source", ""),
            "original_provider": old.get("original_provider", ""),
            "licence": old.get("licence", ""),
            "attribution": old.get("attribution", ""),
            "sha256": file_sha256(data_dir / relative),
            "bytes": (data_dir / relative).stat().st_size,
        }
        datasets.append(entry)
    return {"version": MANIFEST_VERSION, "datasets": datasets}


def _atomic_write_text(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        # mkstemp creates 0600; keep the mode of the file replaced, else rw-r--r--.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else _NEW_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def refresh_manifest(data_dir: Path | str = DEFAULT_DATA_DIR) -> Path:
    """Rebuild ``data_dir/manifest.json`` with :func:`build_manifest` and write it atomically.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    pathlib.Path
        The manifest written.
    """
    document = build_manifest(data_dir)
    path = _manifest_path(data_dir)
    _atomic_write_text(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


# --------------------------------------------------------------------------- checking


def dataset_status(dataset: Dataset, data_dir: Path | str) -> DatasetStatus:
    """Check one dataset: present under ``data_dir`` and SHA-256 as expected."""
    data_dir = Path(data_dir)
    path = dataset.path(data_dir)
    if not path.is_file():
        return DatasetStatus(dataset, path, "missing", dataset.sha256, None, None)
    actual = file_sha256(path)
    state: DatasetState = "ok" if actual == dataset.sha256 else "corrupted"
    return DatasetStatus(dataset, path, state, dataset.sha256, actual, path.stat().st_size)


def check_datasets(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[DatasetStatus]:
    """Check every dataset of the manifest: present, and SHA-256 as listed.

    Parameters
    ----------
    data_dir : path-like
        The data directory.

    Returns
    -------
    list of DatasetStatus
        One per manifest entry, in manifest order.

    Raises
    ------
    DatasetError
        When the manifest itself is missing or malformed.
    """
    data_dir = Path(data_dir)
    return [dataset_status(dataset, data_dir) for dataset in load_manifest(data_dir)]


def _raise_unless_ok(status: DatasetStatus) -> None:
    if status.status == "missing":
        raise DatasetError(
            f"dataset '{status.dataset.id}' is missing: {status.path} not found", status.path
        )
    if status.status == "corrupted":
        raise DatasetError(
            f"dataset '{status.dataset.id}' is corrupted: {status.path} has sha256 "
            f"{status.actual_sha256}, manifest expects {status.expected_sha256}",
            status.path,
        )


def _find(datasets: list[Dataset], id_or_layer: str, data_dir: Path) -> list[Dataset]:
    by_id = [dataset for dataset in datasets if dataset.id == id_or_layer]
    if by_id:
        return by_id
    by_layer = [dataset for dataset in datasets if dataset.layer == id_or_layer]
    if not by_layer:
        known = sorted({d.layer for d in datasets if d.layer} | {d.id for d in datasets})
        raise DatasetError(
            f"no dataset or layer named '{id_or_layer}' in {_manifest_path(data_dir)}; "
            f"known: {', '.join(known)}"
        )
    return by_layer


def _verified(dataset: Dataset, data_dir: Path) -> str:
    """Verify one dataset and return its actual (= expected) checksum."""
    status = dataset_status(dataset, data_dir)
    _raise_unless_ok(status)
    return dataset.sha256


def dataset_path(
    data_dir: Path | str, id_or_layer: str, verify: bool = True
) -> Path:
    """Path of one bundled dataset, verified against the manifest.

    Parameters
    ----------
    data_dir : path-like
        The data directory.
    id_or_layer : str
        A dataset id (``"weather_agu_765710"``) or a layer name held by exactly one file
        (``"states"``).
    verify : bool, default True
        Check presence and SHA-256 before returning.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DatasetError
        Unknown name, a layer of several files, a missing file or a corrupted file (the
        message names the file and both checksums).
    """
    data_dir = Path(data_dir)
    matches = _find(load_manifest(data_dir), id_or_layer, data_dir)
    if len(matches) > 1:
        raise DatasetError(
            f"layer '{id_or_layer}' has {len(matches)} files; ask for one of the ids "
            f"{', '.join(d.id for d in matches)}"
        )
    dataset = matches[0]
    if verify:
        _verified(dataset, data_dir)
    return dataset.path(data_dir)


# --------------------------------------------------------------------------- cache

_CACHE: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Empty the in-process cache of parsed datasets."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cached(path: Path, sha256: str, what: str, parse: Any) -> Any:
    """Return the parsed object for (path, sha256, what), parsing once."""
    key = (str(path.resolve()), sha256, what)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = parse()
    with _CACHE_LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_MAX_ENTRIES:
            _CACHE.popitem(last=False)
    return value


# --------------------------------------------------------------------------- loaders


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
            return _cached(path, sha256, "layer", lambda: _read_vector(path)).copy()
    data_dir = Path(data_dir)
    matches = _find(load_manifest(data_dir), layer, data_dir)
    if len(matches) > 1:
        raise DatasetError(
            f"layer '{layer}' has {len(matches)} files and is not a single vector layer"
        )
    dataset = matches[0]
    path = dataset.path(data_dir)
    suffix = path.suffix.lower()
    if suffix not in {".geojson", ".json", ".gpkg", ".csv"}:
        raise DatasetError(f"layer '{layer}' ({dataset.file}) is not a vector layer", path)
    sha256 = _verified(dataset, data_dir)
    if suffix == ".csv":
        return _cached(path, sha256, "points", lambda: _points_from_table(_read_csv(path), path)).copy()
    return _cached(path, sha256, "layer", lambda: _read_vector(path)).copy()


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
    data_dir = Path(data_dir)
    matches = _find(load_manifest(data_dir), layer, data_dir)
    dataset = matches[0]
    path = dataset.path(data_dir)
    if len(matches) > 1 or path.suffix.lower() != ".csv":
        raise DatasetError(f"'{layer}' ({dataset.file}) is not a single CSV table", path)
    sha256 = _verified(dataset, data_dir)
    return _cached(path, sha256, "table", lambda: _read_csv(path)).copy()


def _read_dem(path: Path) -> tuple[np.ndarray, Any, Any]:
    import rasterio

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
    dataset = _find(load_manifest(data_dir), "dem", data_dir)[0]
    sha256 = _verified(dataset, data_dir)
    path = dataset.path(data_dir)
    return _cached(path, sha256, "dem", lambda: _read_dem(path))


def _read_netcdf(path: Path) -> Any:
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as handle:
        return handle.load()


def load_wrf(data_dir: Path | str = DEFAULT_DATA_DIR) -> list[Any]:
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
    for dataset in _find(load_manifest(data_dir), "wrf_wind_80m", data_dir):
        sha256 = _verified(dataset, data_dir)
        path = dataset.path(data_dir)
        domain = _cached(path, sha256, "netcdf", lambda path=path: _read_netcdf(path)).copy()
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
            _verified(dataset, data_dir)
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
