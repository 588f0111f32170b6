"""Officer-imported geodata layers: validated files under ``instance/layers`` plus provenance rows."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fondo.db import session_scope
from fondo.errors import InvalidInput
from fondo.data.models import Corridor, LayerImport, WeatherStation  # other features' way in


def layers_dir(settings: Mapping[str, Any]) -> Path:
    """Folder of imported layers (they take precedence over bundled ones of the same name)."""
    return Path(settings["INSTANCE_PATH"]) / "layers"


def import_layer_recorded(settings: Mapping[str, Any], layer: str, file: Path, *, source: str,
                          licence: str, imported_by: str | None = None,
                          replace: bool = False, source_layer: str | None = None,
                          original_filename: str | None = None) -> dict[str, Any]:
    """Validate and store a layer file and record its provenance in ``layer_imports``.

    The file is written only if validation passes, and the row only if the file was written;
    on any error neither the folder nor the table changes.
    """
    from fondo.data.imports import LayerImportError, import_layer

    if not source.strip():
        raise InvalidInput("say where the layer comes from", field="source")
    if not licence.strip():
        raise InvalidInput("give the layer's licence", field="licence")
    with session_scope(settings) as session:
        try:
            provenance = import_layer(layer, Path(file), layers_dir(settings), source=source,
                                      licence=licence, imported_by=imported_by, replace=replace,
                                      source_layer=source_layer,
                                      data_dir=Path(settings["DATA_DIR"]))
        except LayerImportError as exc:
            raise InvalidInput(str(exc), field=getattr(exc, "field", None) or "file") from None
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
