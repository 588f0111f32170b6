"""``fondo map``: the map's layers, tiles, point reports and candidate sites from the shell.

Each command prints the JSON of the matching ``/api/v1/map``, ``/api/v1/screenings/<id>/…``
or ``/api/v1/sites`` endpoint (tiles are written to ``--out``), loading its input with the
same schema, so the two ways in refuse the same input with the same field.
"""

from __future__ import annotations

from pathlib import Path

import click

from fondo.commands import (
    DATABASE_ID,
    echo_json,
    handle_errors,
    needs_database,
    read_json_input,
    settings_from,
)
from fondo.db import session_scope
from fondo.errors import InvalidInput
from fondo.fund import service as fund_service
from fondo.maps import service as map_service
from fondo.request_body import load_request
from fondo.screening import service as screening_service

ZOOM = click.IntRange(0, map_service.MAX_ZOOM)


@click.group("map")
def map_group() -> None:
    """The officer map: layers, tiles, point reports, candidate sites."""


@map_group.command("layers")
@click.pass_context
@handle_errors
def layers(ctx: click.Context) -> None:
    """List the map's layers with their legend and sources."""
    echo_json(map_service.layer_catalogue(settings_from(ctx)))


@map_group.command("layer")
@click.argument("layer_id")
@click.option("--zoom", type=ZOOM, required=True, help="Zoom of the view (0-18).")
@click.option("--bbox", default=None, help="The view: west,south,east,north [°].")
@click.pass_context
@handle_errors
def layer(ctx: click.Context, layer_id: str, zoom: int, bbox: str | None) -> None:
    """Print a vector layer's GeoJSON for a view."""
    echo_json(map_service.layer_geojson(settings_from(ctx), layer_id, zoom,
                                        map_service.parse_bbox(bbox)))


def _write_png(png: bytes, out: str) -> None:
    if Path(out).suffix.lower() != ".png":
        raise InvalidInput("--out must end in .png", field="out")
    Path(out).write_bytes(png)
    echo_json({"out": out, "bytes": len(png)})


@map_group.command("resource-tile")
@click.argument("layer_id", type=click.Choice(tuple(map_service.RASTER_LAYERS)))
@click.argument("z", type=ZOOM)
@click.argument("x", type=int)
@click.argument("y", type=int)
@click.option("--out", required=True, help="PNG file to write.")
@click.pass_context
@handle_errors
def resource_tile(ctx: click.Context, layer_id: str, z: int, x: int, y: int, out: str) -> None:
    """Write tile Z/X/Y of the GHI or wind resource layer as PNG."""
    _write_png(map_service.resource_tile(settings_from(ctx), layer_id, z, x, y), out)


@map_group.command("tile")
@click.argument("screening_id", type=DATABASE_ID)
@click.argument("z", type=ZOOM)
@click.argument("x", type=int)
@click.argument("y", type=int)
@click.option("--by", type=click.Choice(map_service.COLOUR_BY), default="score",
              show_default=True)
@click.option("--out", required=True, help="PNG file to write.")
@click.pass_context
@handle_errors
@needs_database
def tile(ctx: click.Context, screening_id: int, z: int, x: int, y: int, by: str,
         out: str) -> None:
    """Write tile Z/X/Y of a finished screening as PNG."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        run = screening_service.get_screening(session, screening_id)
        png = map_service.screening_tile(settings, run, z, x, y, by)
    _write_png(png, out)


@map_group.command("cell")
@click.argument("screening_id", type=DATABASE_ID)
@click.option("--longitude", type=click.FloatRange(-180, 180), required=True)
@click.option("--latitude", type=click.FloatRange(-90, 90), required=True)
@click.pass_context
@handle_errors
@needs_database
def cell(ctx: click.Context, screening_id: int, longitude: float, latitude: float) -> None:
    """Print the cell of a finished screening under a point, with its reasons."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        run = screening_service.get_screening(session, screening_id)
        echo_json(map_service.screening_cell(settings, run, longitude, latitude))


@map_group.command("report")
@click.option("--input", "input_path", required=True,
              help="JSON of the point (the API's request), '-' for standard input.")
@click.pass_context
@handle_errors
@needs_database
def report(ctx: click.Context, input_path: str) -> None:
    """Check a point and run a quick yield per MW (POST /api/v1/map/report)."""
    settings = settings_from(ctx)
    request = load_request(map_service.PointReportRequestSchema(), read_json_input(input_path))
    with session_scope(settings) as session:
        echo_json(map_service.point_report(settings, session, request))


@map_group.command("save-site")
@click.option("--input", "input_path", required=True,
              help="JSON of the site (the API's request), '-' for standard input.")
@click.pass_context
@handle_errors
@needs_database
def save_site(ctx: click.Context, input_path: str) -> None:
    """Check a candidate site and save it (POST /api/v1/sites)."""
    settings = settings_from(ctx)
    request = load_request(fund_service.SiteSaveRequestSchema(), read_json_input(input_path))
    with session_scope(settings) as session:
        site = fund_service.save_site(settings, session, request)
        echo_json(fund_service.site_json(session, site))


@map_group.command("sites")
@click.pass_context
@handle_errors
@needs_database
def sites(ctx: click.Context) -> None:
    """List the saved candidate sites, newest first (GET /api/v1/sites)."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        echo_json({"sites": [fund_service.site_json(session, s)
                             for s in fund_service.list_sites(session)]})
