"""The data feature's public face: bundled datasets, officer-imported layers and their rows.

Other features, the web app and scripts reach the data feature only through this module:
it re-exports what they use of :mod:`fondo.data.manifest`, :mod:`fondo.data.verification`,
:mod:`fondo.data.loaders`, :mod:`fondo.data.layer_validation`,
:mod:`fondo.data.layer_imports`, :mod:`fondo.data.schemas` and :mod:`fondo.data.models`,
and adds the services that need settings or the database: the folder of imported layers
(:func:`layers_dir`) and an import recorded in ``layer_imports``
(:func:`import_layer_recorded`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fondo.data.layer_imports import (
    import_layer,
    list_imported_layers,
    remove_imported_layer,
)
from fondo.data.layer_validation import EXTRA_EXCLUSION_PREFIX, LayerImportError
from fondo.data.loaders import (
    corridor_geometries,
    load_dem,
    load_layer,
    load_table,
    load_wrf,
    table_sha256,
    weather_files,
)
from fondo.data.manifest import DatasetError, file_sha256, load_manifest
from fondo.data.models import Corridor, LayerImport, WeatherStation
from fondo.data.schemas import LayerImportSchema
from fondo.data.verification import check_datasets
from fondo.db import session_scope
from fondo.errors import InvalidInput

__all__ = [
    "EXTRA_EXCLUSION_PREFIX",
    "Corridor",
    "DatasetError",
    "LayerImport",
    "LayerImportSchema",
    "WeatherStation",
    "check_datasets",
    "corridor_geometries",
    "file_sha256",
    "import_layer_recorded",
    "layers_dir",
    "list_imported_layers",
    "load_dem",
    "load_layer",
    "load_manifest",
    "load_table",
    "load_wrf",
    "remove_imported_layer",
    "table_sha256",
    "weather_files",
]


def layers_dir(settings: Mapping[str, Any]) -> Path:
    """Folder of imported layers (they take precedence over bundled ones of the same name)."""
    return Path(settings["INSTANCE_PATH"]) / "layers"


def import_layer_recorded(settings: Mapping[str, Any], layer: str, file: Path, *, source: str,
                          licence: str, imported_by: str | None = None,
                          replace: bool = False, confirm_shrink: bool = False,
                          source_layer: str | None = None,
                          original_filename: str | None = None) -> dict[str, Any]:
    """Validate and store a layer file and record its provenance in ``layer_imports``.

    The file is written only if validation passes, and the row only if the file was written;
    on any error neither the folder nor the table changes. A refusal is an
    :class:`~fondo.errors.InvalidInput` naming ``file`` (with ``outside_land_count`` and
    ``outside_land_indices`` when features lie outside Mexico's land) or
    ``confirm_shrink`` (with ``shrink``, the before/after summary, when a replacement
    would lose more than half the served layer's features or area).
    """
    if not source.strip():
        raise InvalidInput("say where the layer comes from", field="source")
    if not licence.strip():
        raise InvalidInput("give the layer's licence", field="licence")
    with session_scope(settings) as session:
        try:
            provenance = import_layer(layer, Path(file), layers_dir(settings), source=source,
                                      licence=licence, imported_by=imported_by, replace=replace,
                                      confirm_shrink=confirm_shrink, source_layer=source_layer,
                                      data_dir=Path(settings["DATA_DIR"]))
        except LayerImportError as exc:
            raise InvalidInput(str(exc), field=exc.field or "file", extra=exc.extra) from None
        record = provenance.to_dict()
        if original_filename:
            record["original_filename"] = original_filename
        session.add(LayerImport(
            layer=provenance.layer, original_filename=record["original_filename"],
            input_sha256=provenance.input_sha256, feature_count=provenance.feature_count,
            input_crs=provenance.input_crs, source=source, licence=licence,
            imported_by=imported_by,
        ))
    return record
