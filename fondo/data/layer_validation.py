"""Reading and validating a geo layer file an officer supplies, before anything is stored.

:func:`read_layer_file` accepts GeoJSON, GeoPackage or a zipped shapefile and returns a
:class:`ValidatedLayer` in EPSG:4326, or raises :class:`LayerImportError` saying which
check failed and why. :func:`expected_geometry` validates the target layer's name.
Storing the result with its provenance is :mod:`fondo.data.layer_imports`.

Checks, in order: the file exists, is not empty and not above :data:`MAX_INPUT_BYTES`;
its first bytes say GeoJSON, GeoPackage or zip (the name is not trusted); it is readable
with at least one feature; it has a CRS (GeoJSON without a ``crs`` member is EPSG:4326
by RFC 7946 §4; a shapefile without ``.prj`` is refused); every feature has a geometry
of the family the layer expects; the data are reprojected to EPSG:4326; invalid
geometries are repaired with :func:`shapely.make_valid` and counted (refused when
nothing of the expected family is left); the bounds lie inside Mexico (bundled
``mx_states`` bounds widened by :data:`MEXICO_BOUNDS_MARGIN_DEG`); every feature touches
Mexico's land widened by :data:`~fondo.data.layer_extent.LAND_TOLERANCE_M` (features
partly beyond it are kept whole and counted; see :mod:`fondo.data.layer_extent`).

Examples
--------
>>> from fondo.data.layer_validation import expected_geometry, read_layer_file
>>> expected_geometry("protected_areas_federal")
'polygon'
>>> checked = read_layer_file(Path("ANP_Federales_202406.zip"), "polygon")  # doctest: +SKIP
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS

from fondo.data.layer_extent import (
    MAX_LISTED_FEATURES,
    LandCheck,
    OutsideLandError,
    area_km2,
    check_on_land,
    projected,
)
from fondo.data.loaders import LAYER_CRS, mexico_bounds
from fondo.data.manifest import DEFAULT_DATA_DIR, file_sha256

__all__ = [
    "EXTRA_EXCLUSION_PREFIX",
    "LAYER_GEOMETRY",
    "MAX_INPUT_BYTES",
    "MEXICO_BOUNDS_MARGIN_DEG",
    "NON_VECTOR_LAYERS",
    "GeometryFamily",
    "LayerImportError",
    "ValidatedLayer",
    "expected_geometry",
    "read_layer_file",
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


class LayerImportError(ValueError):
    """An imported layer was refused; the message says which check failed and why.

    ``field`` names the request field at fault (None: the file); ``extra`` holds
    JSON-able details for the API's problem (the features outside Mexico, a shrink).
    """

    def __init__(self, message: str, *, field: str | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.field = field
        self.extra = dict(extra or {})


@dataclass(frozen=True)
class ValidatedLayer:
    """An officer's layer file that passed every check, in EPSG:4326, not yet stored.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The features, reprojected to EPSG:4326, invalid geometries repaired.
    input_format : {"GeoJSON", "GPKG", "ESRI Shapefile (zip)"}
        Format detected from the file's first bytes.
    input_crs : str
        CRS of the input (``"EPSG:6372"``, or WKT when it has no authority code).
    input_sha256 : str
        SHA-256 of the file, lower-case hex.
    input_bytes : int
        Size of the file. [bytes]
    repaired_geometry_count : int
        Invalid geometries repaired with :func:`shapely.make_valid`.
    bounds : tuple of float
        (west, south, east, north) of ``frame`` in EPSG:4326. [°]
    land : LandCheck
        The features partly beyond Mexico's land (kept whole).
    area_km2 : float or None
        Summed feature area in EPSG:6372 for polygon layers, else None. [km²]
    """

    frame: gpd.GeoDataFrame
    input_format: str
    input_crs: str
    input_sha256: str
    input_bytes: int
    repaired_geometry_count: int
    bounds: tuple[float, float, float, float]
    land: LandCheck
    area_km2: float | None


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


# --------------------------------------------------------------------------- the checks


def read_layer_file(
    file: Path | str,
    family: GeometryFamily | None,
    *,
    source_layer: str | None = None,
    data_dir: Path | str = DEFAULT_DATA_DIR,
) -> ValidatedLayer:
    """Read a GeoJSON, GeoPackage or zipped shapefile and check it is a usable layer.

    Parameters
    ----------
    file : path-like
        The file. The format is detected from its first bytes, not its name.
    family : {"point", "line", "polygon"} or None
        Geometry family every feature must have (:func:`expected_geometry`); None
        accepts any.
    source_layer : str, optional
        Layer inside a multi-layer GeoPackage, or shapefile stem inside a zip.
    data_dir : path-like
        Bundled data directory, for Mexico's bounds and land.

    Returns
    -------
    ValidatedLayer
        The features in EPSG:4326 and what was learnt about the input.

    Raises
    ------
    LayerImportError
        On the first failed check (see the module's docstring for the order).
    """
    file = Path(file)
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
    geometries = projected(frame)
    try:
        land = check_on_land(geometries, file.name, data_dir)
    except OutsideLandError as exc:
        raise LayerImportError(str(exc), extra={
            "outside_land_count": len(exc.indices),
            "outside_land_indices": exc.indices[:MAX_LISTED_FEATURES]}) from None
    return ValidatedLayer(
        frame=frame,
        input_format=file_format,
        input_crs=_crs_label(input_crs),
        input_sha256=input_sha256,
        input_bytes=input_bytes,
        repaired_geometry_count=repaired_count,
        bounds=bounds,
        land=land,
        area_km2=area_km2(geometries) if family == "polygon" else None,
    )
