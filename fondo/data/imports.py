"""Import, validate and record officer-supplied geo layers (``fondo data import``).

A fund officer adds a layer the bundle lacks (federal protected areas from CONANP, INPI's
catalogue of indigenous localities, an exclusion zone of their own) or replaces a bundled
one with a newer edition. :func:`import_layer` accepts GeoJSON, GeoPackage or a zipped
shapefile, validates it, and writes ``layers_dir/<layer>.gpkg`` (EPSG:4326) beside
``layers_dir/<layer>.provenance.json``. :func:`fondo.datasets.load_layer` then serves the
imported layer in place of the bundled one, after checking the GeoPackage's SHA-256
against the provenance record.

Validation, in order: the layer name is known; source and licence are given; the layer
is not already imported (unless ``replace=True``); the file is a readable GeoJSON,
GeoPackage or zipped shapefile with at least one feature; it has a CRS (GeoJSON without a
``crs`` member is EPSG:4326 by RFC 7946 §4; a shapefile without ``.prj`` is refused);
every feature has a geometry of the family the layer expects; the data are reprojected
to EPSG:4326; invalid geometries are repaired with :func:`shapely.make_valid` and
counted (refused when nothing of the expected family is left); the bounds lie inside
Mexico (bundled ``mx_states`` bounds widened by :data:`MEXICO_BOUNDS_MARGIN_DEG`).

Nothing is written until every check has passed, and the two output files are moved
into place with :func:`os.replace`; on any error ``layers_dir`` is left exactly as it
was and :class:`LayerImportError` explains why.

Examples
--------
>>> from fondo.data.imports import import_layer
>>> provenance = import_layer(                                  # doctest: +SKIP
...     "protected_areas_federal", Path("ANP_Federales_202406.zip"), Path("instance/layers"),
...     source="CONANP, ANP_Federales_202406.zip", licence="CONANP datos abiertos",
...     imported_by="officer@example.org")
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
import zipfile
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from fondo.data.datasets import (
    DEFAULT_DATA_DIR,
    LAYER_CRS,
    Dataset,
    DatasetStatus,
    dataset_status,
    file_sha256,
    imported_layer_paths,
    mexico_bounds,
)

__all__ = [
    "EXTRA_EXCLUSION_PREFIX",
    "LAYER_GEOMETRY",
    "LayerImportError",
    "LayerProvenance",
    "check_imported_layers",
    "MEXICO_BOUNDS_MARGIN_DEG",
    "NON_VECTOR_LAYERS",
    "expected_geometry",
    "import_layer",
    "list_imported_layers",
    "read_provenance",
    "remove_imported_layer",
]

GeometryFamily = Literal["point", "line", "polygon"]

#: Geometry family each known vector layer must hold. Bundled names (data/manifest.json)
#: plus the layers officers are expected to add: federal protected areas (CONANP
#: polygons) and INPI's catalogue of indigenous localities (points).
LAYER_GEOMETRY: dict[str, GeometryFamily] = {
    "states": "polygon",
    "municipalities": "polygon",
    "mx_states": "polygon",
    "protected_areas_state": "polygon",
    "protected_areas_federal": "polygon",
    "localities_urban": "polygon",
    "indigenous_typology": "polygon",
    "water_bodies": "polygon",
    "rivers": "line",
    "grid_lines": "line",
    "grid_nodes": "point",
    "localities_points": "point",
    "localities_inpi": "point",
    "power_plants": "point",
    "power_plants_generation": "point",
}

#: Bundled layers that are rasters or gridded resource files, not importable as vectors.
NON_VECTOR_LAYERS: frozenset[str] = frozenset({"dem", "wrf_wind_80m", "merra2_ghi", "merra2_ghi_pdfs"})

#: Prefix of officer-defined exclusion layers: ``extra_exclusion_<slug>`` (polygons).
EXTRA_EXCLUSION_PREFIX: str = "extra_exclusion_"

#: Slug of an extra exclusion layer: lower-case words joined by single underscores.
_SLUG_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")

#: Longest accepted slug of an extra exclusion layer. [characters]
_SLUG_MAX_CHARS: int = 48

#: Margin added on every side of the bundled ``mx_states`` bounds for the "inside
#: Mexico" check. [°] 0.5° (~55 km) absorbs Natural Earth's 1:10m generalisation and the
#: marine parts of coastal and island reserves (Guadalupe, Revillagigedo, Caribe
#: Mexicano), while still refusing projected coordinates mislabelled as degrees and
#: layers of another country.
MEXICO_BOUNDS_MARGIN_DEG: float = 0.5

#: Largest input file accepted. [bytes]
MAX_INPUT_BYTES: int = 1 << 30

#: First bytes of an SQLite database, hence of a GeoPackage (GeoPackage 1.3 §1.1.1).
_SQLITE_MAGIC = b"SQLite format 3\x00"

#: First bytes of a ZIP local file header (PKWARE APPNOTE 4.3.7).
_ZIP_MAGIC = b"PK\x03\x04"

#: UTF-8 byte-order mark, tolerated before a GeoJSON text.
_UTF8_BOM = b"\xef\xbb\xbf"

_FAMILY_OF_TYPE: dict[str, GeometryFamily] = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "MultiLineString": "line",
    "LinearRing": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}

#: shapely type ids of single parts per family (shapely.GeometryType).
_PART_TYPE_IDS: dict[GeometryFamily, tuple[int, ...]] = {
    "point": (0,),
    "line": (1, 2),
    "polygon": (3,),
}

_PROVENANCE_VERSION: int = 1


class LayerImportError(ValueError):
    """An imported layer was refused; the message says which check failed and why."""


@dataclass(frozen=True)
class LayerProvenance:
    """What was imported, from where, under which licence, by whom and when.

    Parameters
    ----------
    layer : str
        Layer name.
    original_filename : str
        Base name of the file the officer supplied.
    input_sha256 : str
        SHA-256 of that file, lower-case hex.
    input_bytes : int
        Size of that file. [bytes]
    input_format : {"GeoJSON", "GPKG", "ESRI Shapefile (zip)"}
        Detected format.
    input_crs : str
        CRS of the input (``"EPSG:6372"``, or WKT when it has no authority code).
    feature_count : int
        Features written.
    geometry_family : str or None
        ``"point"``, ``"line"`` or ``"polygon"``; None when the layer name sets none.
    repaired_geometry_count : int
        Invalid geometries repaired with :func:`shapely.make_valid`.
    bounds : tuple of float
        (west, south, east, north) of the written layer in EPSG:4326. [°]
    source, licence : str
        Where the data come from and under what terms, as the officer stated.
    imported_by : str or None
        Who imported it (e-mail or user name).
    imported_at : str
        UTC time of the import, ISO 8601 with offset (``2025-01-31T17:02:11+00:00``).
    gpkg_file : str
        Name of the written GeoPackage inside ``layers_dir``.
    gpkg_sha256 : str
        SHA-256 of the written GeoPackage, checked by :func:`fondo.datasets.load_layer`.
    gpkg_bytes : int
        Size of the written GeoPackage. [bytes]
    """

    layer: str
    original_filename: str
    input_sha256: str
    input_bytes: int
    input_format: str
    input_crs: str
    feature_count: int
    geometry_family: str | None
    repaired_geometry_count: int
    bounds: tuple[float, float, float, float]
    source: str
    licence: str
    imported_by: str | None
    imported_at: str
    gpkg_file: str
    gpkg_sha256: str
    gpkg_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-able mapping, with a schema ``version`` key."""
        record = asdict(self)
        record["bounds"] = list(self.bounds)
        return {"version": _PROVENANCE_VERSION, **record}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> LayerProvenance:
        """Inverse of :meth:`to_dict`; raises ValueError on missing keys."""
        names = [field.name for field in fields(cls)]
        missing = [name for name in names if name not in record]
        if missing:
            raise ValueError(f"provenance record lacks {missing}")
        values = {name: record[name] for name in names}
        values["bounds"] = tuple(float(value) for value in values["bounds"])
        return cls(**values)


# --------------------------------------------------------------------------- names


def expected_geometry(layer: str) -> GeometryFamily | None:
    """Geometry family a layer name requires, validating the name.

    Parameters
    ----------
    layer : str
        A known layer (:data:`LAYER_GEOMETRY`) or ``extra_exclusion_<slug>``.

    Returns
    -------
    {"point", "line", "polygon"}

    Raises
    ------
    LayerImportError
        Unknown name, a raster / resource layer, or a malformed exclusion slug.
    """
    if layer in LAYER_GEOMETRY:
        return LAYER_GEOMETRY[layer]
    if layer in NON_VECTOR_LAYERS:
        raise LayerImportError(
            f"layer '{layer}' is a raster or gridded resource file and cannot be imported "
            "as a vector layer"
        )
    if layer.startswith(EXTRA_EXCLUSION_PREFIX):
        slug = layer[len(EXTRA_EXCLUSION_PREFIX):]
        if not _SLUG_RE.match(slug) or len(slug) > _SLUG_MAX_CHARS:
            raise LayerImportError(
                f"exclusion layer '{layer}': the part after '{EXTRA_EXCLUSION_PREFIX}' must be "
                f"1-{_SLUG_MAX_CHARS} lower-case letters or digits in words joined by '_'"
            )
        return "polygon"
    known = ", ".join(sorted(LAYER_GEOMETRY))
    raise LayerImportError(
        f"unknown layer '{layer}'; known layers: {known}, or {EXTRA_EXCLUSION_PREFIX}<slug>"
    )


# --------------------------------------------------------------------------- reading


def _detect_format(file: Path, head: bytes) -> str:
    if head.startswith(_SQLITE_MAGIC):
        return "GPKG"
    if head.startswith(_ZIP_MAGIC):
        return "ESRI Shapefile (zip)"
    text = head[len(_UTF8_BOM):] if head.startswith(_UTF8_BOM) else head
    if text.lstrip(b" \t\r\n").startswith(b"{"):
        return "GeoJSON"
    raise LayerImportError(
        f"{file.name} is not a GeoJSON, GeoPackage or zipped shapefile "
        f"(first bytes {head[:8]!r})"
    )


def _shapefile_member(file: Path, source_layer: str | None) -> str:
    try:
        with zipfile.ZipFile(file) as archive:
            names = [name for name in archive.namelist() if not name.endswith("/")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerImportError(f"{file.name} is not a readable zip archive: {exc}") from None
    shapefiles = [name for name in names if name.lower().endswith(".shp")]
    if source_layer is not None:
        shapefiles = [name for name in shapefiles if Path(name).stem == source_layer]
    if not shapefiles:
        wanted = f" named '{source_layer}'" if source_layer else ""
        raise LayerImportError(f"{file.name} holds no shapefile (.shp){wanted}")
    if len(shapefiles) > 1:
        stems = ", ".join(Path(name).stem for name in shapefiles)
        raise LayerImportError(
            f"{file.name} holds {len(shapefiles)} shapefiles ({stems}); choose one with source_layer"
        )
    member = shapefiles[0]
    lowered = {name.lower() for name in names}
    base = member[: -len(".shp")].lower()
    for extension, why in ((".shx", "index"), (".dbf", "attribute table"), (".prj", "CRS")):
        if base + extension not in lowered:
            consequence = "its CRS is unknown" if extension == ".prj" else "it cannot be read"
            raise LayerImportError(
                f"{file.name}: shapefile {Path(member).name} has no {extension} file ({why}), "
                f"so {consequence}"
            )
    return member


def _gpkg_layer(file: Path, source_layer: str | None) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL notes on a damaged file; the error follows
            layers = [str(name) for name, _ in pyogrio.list_layers(file)]
    except Exception as exc:  # pyogrio raises several DataSourceError subclasses
        raise LayerImportError(f"{file.name} is not a readable GeoPackage: {exc}") from None
    if source_layer is not None:
        if source_layer not in layers:
            raise LayerImportError(f"{file.name} has no layer '{source_layer}' (has {layers})")
        return source_layer
    if not layers:
        raise LayerImportError(f"{file.name} holds no layer")
    if len(layers) > 1:
        raise LayerImportError(
            f"{file.name} holds {len(layers)} layers ({', '.join(layers)}); choose one with source_layer"
        )
    return layers[0]


def _read(file: Path, file_format: str, source_layer: str | None) -> gpd.GeoDataFrame:
    if file_format == "ESRI Shapefile (zip)":
        target: str = f"/vsizip/{file.resolve()}/{_shapefile_member(file, source_layer)}"
        layer = None
    elif file_format == "GPKG":
        target = str(file)
        layer = _gpkg_layer(file, source_layer)
    else:
        target = str(file)
        layer = None
    try:
        with warnings.catch_warnings():
            # GDAL's notes on odd but readable input must not abort the import.
            warnings.simplefilter("ignore")
            return gpd.read_file(target, layer=layer, engine="pyogrio")
    except Exception as exc:  # every read failure becomes one precise refusal
        raise LayerImportError(f"cannot read {file.name} as {file_format}: {exc}") from None


def _crs_label(crs: CRS) -> str:
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


# --------------------------------------------------------------------------- geometry


def _families(geometries: gpd.GeoSeries) -> np.ndarray:
    return np.array([_FAMILY_OF_TYPE.get(kind, kind) for kind in geometries.geom_type], dtype=object)


def _keep_family(geometries: np.ndarray, family: GeometryFamily | None) -> np.ndarray:
    """Keep only the parts of the expected family (make_valid may add lower-dimension parts)."""
    if family is None:
        return geometries
    parts, owners = shapely.get_parts(geometries, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), _PART_TYPE_IDS[family])
    collected = np.empty(len(geometries), dtype=object)
    collected[:] = None
    for index in np.unique(owners):
        selected = parts[(owners == index) & keep]
        if len(selected) == 0:
            collected[index] = None
        elif len(selected) == 1:
            collected[index] = selected[0]
        elif family == "point":
            collected[index] = shapely.multipoints(selected)
        elif family == "line":
            collected[index] = shapely.multilinestrings(selected)
        else:
            collected[index] = shapely.union_all(selected)
    return collected


def _check_geometry_types(frame: gpd.GeoDataFrame, file: Path, family: GeometryFamily | None) -> None:
    geometry = frame.geometry
    absent = geometry.isna().to_numpy() | geometry.is_empty.to_numpy()
    if absent.any():
        first = int(np.flatnonzero(absent)[0])
        raise LayerImportError(
            f"{file.name}: {int(absent.sum())} of {len(frame)} features have no geometry "
            f"(first at feature index {first})"
        )
    if family is not None:
        found = _families(geometry)
        wrong = found != family
        if wrong.any():
            kinds = sorted({str(kind) for kind in geometry.geom_type[wrong]})
            raise LayerImportError(
                f"{file.name}: layer expects {family} geometries but {int(wrong.sum())} of "
                f"{len(frame)} features are {', '.join(kinds)}"
            )


def _repaired(frame: gpd.GeoDataFrame, file: Path, family: GeometryFamily | None) -> tuple[gpd.GeoDataFrame, int]:
    geometry = frame.geometry
    invalid = ~geometry.is_valid.to_numpy()
    repaired_count = int(invalid.sum())
    if repaired_count:
        repaired = _keep_family(shapely.make_valid(geometry.to_numpy()[invalid]), family)
        lost = shapely.is_missing(repaired) | shapely.is_empty(repaired)
        if lost.any():
            first = int(np.flatnonzero(invalid)[np.flatnonzero(lost)[0]])
            raise LayerImportError(
                f"{file.name}: {int(lost.sum())} invalid geometries are empty after repair "
                f"with make_valid (first at feature index {first})"
            )
        values = geometry.to_numpy().copy()
        values[invalid] = repaired
        frame = frame.set_geometry(gpd.GeoSeries(values, index=frame.index, crs=frame.crs))
    return frame, repaired_count


def _check_bounds(frame: gpd.GeoDataFrame, file: Path, data_dir: Path | str) -> tuple[float, float, float, float]:
    west, south, east, north = (float(value) for value in frame.total_bounds)
    if not np.all(np.isfinite([west, south, east, north])):
        raise LayerImportError(f"{file.name}: coordinates are not finite after reprojection to {LAYER_CRS}")
    mx_west, mx_south, mx_east, mx_north = mexico_bounds(data_dir)
    margin = MEXICO_BOUNDS_MARGIN_DEG
    inside = (
        west >= mx_west - margin
        and east <= mx_east + margin
        and south >= mx_south - margin
        and north <= mx_north + margin
    )
    if not inside:
        hint = ""
        if max(abs(west), abs(east)) > 180 or max(abs(south), abs(north)) > 90:
            hint = (
                "; these are not degrees: is it a projected CRS (e.g. EPSG:6372, UTM) "
                "mislabelled as EPSG:4326, or a GeoJSON without its crs member?"
            )
        raise LayerImportError(
            f"{file.name}: bounds ({west:.4f}, {south:.4f}, {east:.4f}, {north:.4f}) in "
            f"{LAYER_CRS} fall outside Mexico ({mx_west:.4f}, {mx_south:.4f}, {mx_east:.4f}, "
            f"{mx_north:.4f}) widened by {margin}°{hint}"
        )
    return west, south, east, north


# --------------------------------------------------------------------------- writing


def _remove_temporaries(path: Path) -> None:
    for sibling in path.parent.glob(f"{path.name}*"):
        sibling.unlink(missing_ok=True)


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path, layer: str, family: GeometryFamily | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(
            frame,
            path,
            layer=layer,
            driver="GPKG",
            promote_to_multi=family in ("line", "polygon"),
        )
    written = pyogrio.read_info(path, layer=layer)["features"]
    if written != len(frame):
        raise LayerImportError(f"wrote {written} features of {len(frame)} to {path.name}")


def import_layer(
    layer: str,
    file: Path | str,
    layers_dir: Path | str,
    *,
    source: str,
    licence: str,
    imported_by: str | None,
    replace: bool = False,
    source_layer: str | None = None,
    data_dir: Path | str = DEFAULT_DATA_DIR,
) -> LayerProvenance:
    """Validate a GeoJSON, GeoPackage or zipped shapefile and store it as an imported layer.

    Parameters
    ----------
    layer : str
        Target layer: a name of :data:`LAYER_GEOMETRY` (e.g. ``"protected_areas_federal"``,
        ``"localities_inpi"``, or a bundled layer to replace such as ``"states"``) or
        ``"extra_exclusion_<slug>"``.
    file : path-like
        The file to import. The format is detected from its first bytes, not its name.
    layers_dir : path-like
        Directory of imported layers; created when absent (and only on success).
    source : str
        Where the data come from (publisher, edition, URL). Required.
    licence : str
        Terms the data are published under. Required.
    imported_by : str or None
        Who imports it.
    replace : bool, default False
        Allow replacing a layer imported before.
    source_layer : str, optional
        Layer inside a multi-layer GeoPackage, or shapefile stem inside a zip.
    data_dir : path-like
        Bundled data directory, for the ``mx_states`` bounds.

    Returns
    -------
    LayerProvenance
        The record also written to ``layers_dir/<layer>.provenance.json``.

    Raises
    ------
    LayerImportError
        On any failed check; ``layers_dir`` is then unchanged.
    """
    family = expected_geometry(layer)
    for name, value in (("source", source), ("licence", licence)):
        if not isinstance(value, str) or not value.strip():
            raise LayerImportError(f"importing '{layer}' needs a non-empty {name}")
    if imported_by is not None and (not isinstance(imported_by, str) or not imported_by.strip()):
        raise LayerImportError("imported_by must be None or a non-empty string")
    file = Path(file)
    layers_dir = Path(layers_dir)
    gpkg_path, provenance_path = imported_layer_paths(layers_dir, layer)
    if not replace and (gpkg_path.exists() or provenance_path.exists()):
        raise LayerImportError(
            f"layer '{layer}' is already imported in {layers_dir}; pass replace=True "
            "(--replace) to replace it"
        )
    if not file.is_file():
        raise LayerImportError(f"{file} does not exist or is not a file")
    input_bytes = file.stat().st_size
    if input_bytes == 0:
        raise LayerImportError(f"{file.name} is empty (0 bytes)")
    if input_bytes > MAX_INPUT_BYTES:
        raise LayerImportError(f"{file.name} is {input_bytes} bytes, above the {MAX_INPUT_BYTES}-byte limit")
    with open(file, "rb") as handle:
        head = handle.read(64)
    file_format = _detect_format(file, head)
    input_sha256 = file_sha256(file)

    frame = _read(file, file_format, source_layer)
    if len(frame) == 0:
        raise LayerImportError(f"{file.name} has no features")
    if frame.crs is None:
        raise LayerImportError(f"{file.name} has no CRS; supply a .prj or a GeoPackage with an SRS")
    input_crs = CRS.from_user_input(frame.crs)
    _check_geometry_types(frame, file, family)
    if input_crs != CRS.from_user_input(LAYER_CRS):
        try:
            with warnings.catch_warnings():
                # pyproj 3.7 with numpy >= 1.25: a layer of a single point goes through
                # pyproj's scalar fast path, which warns on the 1-element array before
                # falling back to the array path; the result is correct.
                warnings.filterwarnings(
                    "ignore", message="Conversion of an array with ndim > 0", category=DeprecationWarning
                )
                frame = frame.to_crs(LAYER_CRS)
        except Exception as exc:  # pyproj errors on impossible transforms
            raise LayerImportError(f"{file.name}: cannot reproject from {_crs_label(input_crs)}: {exc}") from None
    frame, repaired_count = _repaired(frame, file, family)
    bounds = _check_bounds(frame, file, data_dir)

    created_dir = not layers_dir.exists()
    layers_dir.mkdir(parents=True, exist_ok=True)
    handle_gpkg, temporary_gpkg_name = tempfile.mkstemp(prefix=f".tmp-{layer}-", suffix=".gpkg", dir=layers_dir)
    os.close(handle_gpkg)
    temporary_gpkg = Path(temporary_gpkg_name)
    temporary_gpkg.unlink()  # the GPKG driver creates the file itself
    temporary_json = temporary_gpkg.with_suffix(".json")
    backups: list[tuple[Path, Path]] = []
    moved: list[Path] = []
    try:
        _write_gpkg(frame, temporary_gpkg, layer, family)
        provenance = LayerProvenance(
            layer=layer,
            original_filename=file.name,
            input_sha256=input_sha256,
            input_bytes=input_bytes,
            input_format=file_format,
            input_crs=_crs_label(input_crs),
            feature_count=len(frame),
            geometry_family=family,
            repaired_geometry_count=repaired_count,
            bounds=bounds,
            source=source.strip(),
            licence=licence.strip(),
            imported_by=imported_by.strip() if imported_by else None,
            imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            gpkg_file=gpkg_path.name,
            gpkg_sha256=file_sha256(temporary_gpkg),
            gpkg_bytes=temporary_gpkg.stat().st_size,
        )
        temporary_json.write_text(
            json.dumps(provenance.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        for final in (gpkg_path, provenance_path):
            if final.exists():
                backup = final.with_name(f".bak-{temporary_gpkg.stem}-{final.name}")
                os.replace(final, backup)
                backups.append((backup, final))
        os.replace(temporary_gpkg, gpkg_path)
        moved.append(gpkg_path)
        os.replace(temporary_json, provenance_path)
        moved.append(provenance_path)
    except BaseException as exc:
        for path in moved:
            path.unlink(missing_ok=True)
        for backup, final in backups:
            os.replace(backup, final)
        _remove_temporaries(temporary_gpkg)
        temporary_json.unlink(missing_ok=True)
        if created_dir:
            try:
                layers_dir.rmdir()
            except OSError:
                pass
        if isinstance(exc, LayerImportError) or not isinstance(exc, Exception):
            raise
        raise LayerImportError(f"could not write layer '{layer}' to {layers_dir}: {exc}") from exc
    for backup, _ in backups:
        backup.unlink(missing_ok=True)
    return provenance


# --------------------------------------------------------------------------- reading back


def read_provenance(layers_dir: Path | str, layer: str) -> LayerProvenance | None:
    """The provenance record of an imported layer, or None when it was never imported.

    Parameters
    ----------
    layers_dir : path-like
        Directory of imported layers.
    layer : str
        Layer name.

    Raises
    ------
    LayerImportError
        When the record exists but cannot be parsed.
    """
    _, provenance_path = imported_layer_paths(layers_dir, layer)
    if not provenance_path.is_file():
        return None
    try:
        return LayerProvenance.from_dict(json.loads(provenance_path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, ValueError, TypeError) as exc:
        raise LayerImportError(f"provenance record {provenance_path} is unreadable: {exc}") from None


def list_imported_layers(layers_dir: Path | str) -> list[LayerProvenance]:
    """Provenance of every layer imported into ``layers_dir``, sorted by layer name."""
    layers_dir = Path(layers_dir)
    if not layers_dir.is_dir():
        return []
    suffix = ".provenance.json"
    names = sorted(path.name[: -len(suffix)] for path in layers_dir.glob(f"*{suffix}"))
    records = [read_provenance(layers_dir, name) for name in names]
    return [record for record in records if record is not None]


def check_imported_layers(layers_dir: Path | str) -> list[DatasetStatus]:
    """Check every imported layer's GeoPackage against its provenance checksum.

    Parameters
    ----------
    layers_dir : path-like
        Directory of imported layers.

    Returns
    -------
    list of DatasetStatus
        One per provenance record, sorted by layer; ``dataset.kind`` is ``"imported"`` and
        ``dataset.file`` the GeoPackage's name inside ``layers_dir``.
    """
    statuses = []
    for record in list_imported_layers(layers_dir):
        dataset = Dataset(
            id=record.layer,
            file=record.gpkg_file,
            kind="imported",
            layer=record.layer,
            description=f"imported from {record.original_filename} on {record.imported_at}",
            source=record.source,
            original_provider=record.source,
            licence=record.licence,
            attribution=record.source,
            sha256=record.gpkg_sha256,
            bytes=record.gpkg_bytes,
        )
        statuses.append(dataset_status(dataset, Path(layers_dir)))
    return statuses


def remove_imported_layer(layers_dir: Path | str, layer: str) -> bool:
    """Delete an imported layer, so the bundled one (if any) is served again.

    Returns
    -------
    bool
        True when something was removed.
    """
    removed = False
    for path in imported_layer_paths(layers_dir, layer):
        if path.exists():
            path.unlink()
            removed = True
    return removed
