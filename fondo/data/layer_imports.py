"""Storing officer-supplied geo layers with their provenance (``fondo data import``).

A fund officer adds a layer the bundle lacks (federal protected areas from CONANP, INPI's
catalogue of indigenous localities, an exclusion zone of their own) or replaces a bundled
one with a newer edition. :func:`import_layer` checks the layer name, the source and
licence and that the layer is not already imported (unless ``replace=True``), has the file
read and validated by :func:`fondo.data.layer_validation.read_layer_file`, and writes
``layers_dir/<layer>.gpkg`` (EPSG:4326) beside ``layers_dir/<layer>.provenance.json``
(:class:`LayerProvenance`). :func:`fondo.data.loaders.load_layer` then serves the
imported layer in place of the bundled one, after checking the GeoPackage's SHA-256
against the provenance record.

Replacing the layer served now (an earlier import, or the bundled layer of that name)
is compared with it first (:class:`~fondo.data.layer_extent.LayerChange`): losing more
than :data:`~fondo.data.layer_extent.SHRINK_CONFIRMATION_FRACTION` of its features or of
its area is refused unless ``confirm_shrink=True``; the comparison is kept in the
provenance (``replaced``), with the features found partly outside Mexico's land
(``land_check``) and the layer's area (``area_km2``).

Nothing is written until every check has passed, and the two output files are moved
into place with :func:`os.replace`; on any error ``layers_dir`` is left exactly as it
was and :class:`~fondo.data.layer_validation.LayerImportError` explains why.

Examples
--------
>>> from fondo.data.layer_imports import import_layer
>>> provenance = import_layer(                                  # doctest: +SKIP
...     "protected_areas_federal", Path("ANP_Federales_202406.zip"), Path("instance/layers"),
...     source="CONANP, ANP_Federales_202406.zip", licence="CONANP datos abiertos",
...     imported_by="officer@example.org")
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from fondo.data.layer_extent import LayerChange, area_km2, layer_change, projected
from fondo.data.layer_validation import (
    GeometryFamily,
    LayerImportError,
    expected_geometry,
    read_layer_file,
)
from fondo.data.loaders import imported_layer_paths, load_layer
from fondo.data.manifest import DEFAULT_DATA_DIR, Dataset, DatasetError, file_sha256, load_manifest
from fondo.data.verification import DatasetStatus, dataset_status

__all__ = [
    "LayerProvenance",
    "check_imported_layers",
    "import_layer",
    "list_imported_layers",
    "read_provenance",
    "remove_imported_layer",
]

#: Version of the provenance record this module writes (2 added ``area_km2``,
#: ``land_check`` and ``replaced``; version 1 records read with those None).
_PROVENANCE_VERSION: int = 2

#: Fields a version 1 record lacks.
_ADDED_IN_VERSION_2: tuple[str, ...] = ("area_km2", "land_check", "replaced")


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
        SHA-256 of the written GeoPackage, checked by :func:`fondo.data.loaders.load_layer`.
    gpkg_bytes : int
        Size of the written GeoPackage. [bytes]
    area_km2 : float or None
        Summed feature area in EPSG:6372 of a polygon layer, else None. [km²]
    land_check : dict or None
        :meth:`fondo.data.layer_extent.LandCheck.to_dict`: the land tolerance and the
        features partly outside Mexico's land, kept whole.
    replaced : dict or None
        :meth:`fondo.data.layer_extent.LayerChange.to_dict` when the import replaced a
        served layer (features and area before and after, whether a shrink was
        confirmed); None for a new layer.
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
    area_km2: float | None = None
    land_check: dict[str, Any] | None = None
    replaced: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able mapping, with a schema ``version`` key."""
        record = asdict(self)
        record["bounds"] = list(self.bounds)
        return {"version": _PROVENANCE_VERSION, **record}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> LayerProvenance:
        """Inverse of :meth:`to_dict`; raises ValueError on missing keys."""
        names = [field.name for field in fields(cls)]
        missing = [name for name in names if name not in record and name not in _ADDED_IN_VERSION_2]
        if missing:
            raise ValueError(f"provenance record lacks {missing}")
        values = {name: record[name] for name in names if name in record}
        values["bounds"] = tuple(float(value) for value in values["bounds"])
        return cls(**values)

# --------------------------------------------------------------------------- replacing


def _frame_size(frame: gpd.GeoDataFrame, family: GeometryFamily | None) -> tuple[int, float | None]:
    if family != "polygon":
        return len(frame), None
    present = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    return len(frame), area_km2(projected(present))


def _served_layer(layer: str, layers_dir: Path, data_dir: Path,
                  family: GeometryFamily | None) -> tuple[str, int, float | None] | None:
    """("imported" | "bundled", features, area km²) of the layer served now, None if none."""
    record = read_provenance(layers_dir, layer)
    if record is not None:
        if family != "polygon" or record.area_km2 is not None:
            return "imported", record.feature_count, record.area_km2
        try:
            return "imported", *_frame_size(load_layer(data_dir, layer, layers_dir), family)
        except DatasetError:  # unreadable now: its recorded count, area unknown
            return "imported", record.feature_count, None
    if not any(dataset.layer == layer for dataset in load_manifest(data_dir)):
        return None
    try:
        return "bundled", *_frame_size(load_layer(data_dir, layer), family)
    except DatasetError:  # not a vector layer, or missing/corrupted: nothing is served now
        return None


def _change(layer: str, layers_dir: Path, data_dir: Path, family: GeometryFamily | None,
            features_after: int, area_after: float | None, confirm_shrink: bool) -> LayerChange | None:
    served = _served_layer(layer, layers_dir, data_dir, family)
    if served is None:
        return None
    replaced, features_before, area_before = served
    change = layer_change(replaced, features_before, area_before, features_after, area_after,
                          confirmed=confirm_shrink)
    if change.shrinks and not confirm_shrink:
        raise LayerImportError(
            f"replacing the {replaced} layer '{layer}' would shrink it: {change.describe()}; "
            "confirm with confirm_shrink=True (--confirm-shrink) if that is intended",
            field="confirm_shrink", extra={"shrink": change.to_dict()})
    return change


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
    confirm_shrink: bool = False,
    source_layer: str | None = None,
    data_dir: Path | str = DEFAULT_DATA_DIR,
) -> LayerProvenance:
    """Validate a GeoJSON, GeoPackage or zipped shapefile and store it as an imported layer.

    Parameters
    ----------
    layer : str
        Target layer: a name of :data:`~fondo.data.layer_validation.LAYER_GEOMETRY` (e.g. ``"protected_areas_federal"``,
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
    confirm_shrink : bool, default False
        Allow replacing the served layer (imported or bundled) by one with fewer than
        half its features or area (:class:`~fondo.data.layer_extent.LayerChange`).
    source_layer : str, optional
        Layer inside a multi-layer GeoPackage, or shapefile stem inside a zip.
    data_dir : path-like
        Bundled data directory: Mexico's bounds and land, the bundled layer replaced.

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
    checked = read_layer_file(file, family, source_layer=source_layer, data_dir=data_dir)
    frame = checked.frame
    change = _change(layer, layers_dir, Path(data_dir), family, len(frame), checked.area_km2,
                     confirm_shrink)

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
            input_sha256=checked.input_sha256,
            input_bytes=checked.input_bytes,
            input_format=checked.input_format,
            input_crs=checked.input_crs,
            feature_count=len(frame),
            geometry_family=family,
            repaired_geometry_count=checked.repaired_geometry_count,
            bounds=checked.bounds,
            source=source.strip(),
            licence=licence.strip(),
            imported_by=imported_by.strip() if imported_by else None,
            imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            gpkg_file=gpkg_path.name,
            gpkg_sha256=file_sha256(temporary_gpkg),
            gpkg_bytes=temporary_gpkg.stat().st_size,
            area_km2=None if checked.area_km2 is None else round(checked.area_km2, 3),
            land_check=checked.land.to_dict(),
            replaced=None if change is None else change.to_dict(),
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
