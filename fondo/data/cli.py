"""``fondo data``: check the bundled datasets, import officer layers."""

from __future__ import annotations

from pathlib import Path

import click

from fondo.commands import echo_json, fail, handle_errors, needs_database, settings_from
from fondo.data.layer_imports import check_imported_layers
from fondo.data.manifest import unlisted_files
from fondo.data.schemas import LayerImportSchema
from fondo.data.service import import_layer_recorded, layers_dir
from fondo.data.verification import check_datasets
from fondo.request_body import load_request


@click.group()
def data() -> None:
    """The bundled real datasets and officer-imported layers."""


@data.command("check")
@click.pass_context
@handle_errors
def data_check(ctx: click.Context) -> None:
    """Verify every bundled dataset against the manifest's SHA-256."""
    settings = settings_from(ctx)
    data_dir = Path(settings["DATA_DIR"])
    rows = check_datasets(data_dir)
    folder = layers_dir(settings)
    rows += check_imported_layers(folder) if folder.exists() else []
    bad = []
    for row in rows:
        click.echo(row.message())
        if not row.ok:
            bad.append(row.dataset.file)
    unlisted = unlisted_files(data_dir)
    for name in unlisted:
        click.echo(f"unlisted   {name} (not in data/manifest.json: add its provenance)")
    if bad or unlisted:
        fail(f"{len(bad)} of {len(rows)} datasets missing or corrupted"
              + (f": {', '.join(bad)}" if bad else "")
              + (f"; {len(unlisted)} files without provenance" if unlisted else ""))
    click.echo(f"all {len(rows)} datasets ok")


@data.command("import")
@click.argument("layer")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--source", required=True, help="Where the file comes from (publisher, URL, date).")
@click.option("--licence", required=True, help="Licence of the data.")
@click.option("--by", "imported_by", default=None, help="Email of the officer importing it.")
@click.option("--replace", is_flag=True, help="Replace a layer imported before.")
@click.option("--confirm-shrink", is_flag=True,
              help="Allow a replacement that loses more than half of the served layer's "
                   "features or area.")
@click.option("--source-layer", default=None, help="Layer to read from a multi-layer file.")
@click.pass_context
@handle_errors
@needs_database
def data_import(ctx: click.Context, layer: str, file: str, source: str, licence: str,
                imported_by: str | None, replace: bool, confirm_shrink: bool,
                source_layer: str | None) -> None:
    """Import or replace LAYER from FILE (GeoJSON, GeoPackage or zipped shapefile).

    Refused, with nothing stored, when a feature lies wholly outside Mexico's land, or
    when replacing the served layer would lose more than half its features or area
    (the line gives both before and after) unless --confirm-shrink is given.
    """
    body = load_request(LayerImportSchema(), {"layer": layer, "source": source, "licence": licence,
                                              "replace": replace, "confirm_shrink": confirm_shrink,
                                              "source_layer": source_layer})
    provenance = import_layer_recorded(settings_from(ctx), file=Path(file),
                                       imported_by=imported_by, **body)
    echo_json(provenance)
