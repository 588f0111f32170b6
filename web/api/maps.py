"""``/api/v1/map``, the screening tiles and ``/api/v1/sites``: the officer map (issue 14).

Officers and analysts read the map's layers (vector layers as GeoJSON per view, the
resource and a finished screening's cells as PNG tiles); officers click points (site check
and quick yield per MW) and save candidate sites. Every bad request is one 422 problem whose
``field`` names the culprit, and nothing is stored.
"""

from __future__ import annotations

from flask import Response

from fondo.accounts.models import Role
from fondo.fund import service as fund_service
from fondo.maps import service as svc
from fondo.screening import service as screening_service
from web.api.docs import Blueprint, responses_doc, strict_json
from web.auth import api_user, require_role
from web.context import db, settings

blp = Blueprint("map", __name__, url_prefix="/api/v1",
                description="The officer map: layers, tiles, point reports, candidate sites")

#: Who may read the map's layers and screening tiles.
READ_ROLES = (Role.OFFICER, Role.ANALYST)
#: Who may click points (site check) and save candidate sites.
WRITE_ROLES = (Role.OFFICER,)
#: Browsers may keep a tile this long: resource tiles change only with the data, a finished
#: screening's tiles never. [s]
TILE_MAX_AGE_S = 3600


def _png(png: bytes) -> Response:
    return Response(png, mimetype="image/png",
                    headers={"Cache-Control": f"private, max-age={TILE_MAX_AGE_S}"})


_PNG_DOC = responses_doc(200, None, "A 256 x 256 PNG tile (transparent where nothing is "
                         "drawn).", mime="image/png", errors=(401, 403, 404, 409, 422))


@blp.get("/map/layers")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "Every layer with its kind, legend and sources."))
def list_layers():
    """The map's layers: vector layers (GeoJSON per view) and raster layers (PNG tiles)."""
    return strict_json({"layers": svc.layer_catalogue(settings())})


@blp.get("/map/layers/<layer_id>.geojson")
@require_role(*READ_ROLES)
@blp.arguments(svc.LayerQuerySchema, location="query", as_kwargs=True)
@blp.doc(**responses_doc(200, None, "GeoJSON FeatureCollection (EPSG:4326) of the view.",
                         mime="application/geo+json", errors=(401, 403, 422)))
def get_layer(layer_id: str, zoom: int, bbox: str | None = None):
    """A vector layer for a view: features meeting `bbox`, simplified for `zoom`."""
    body = svc.layer_geojson(settings(), layer_id, zoom, svc.parse_bbox(bbox))
    response = strict_json(body)
    response.mimetype = "application/geo+json"
    return response


@blp.get("/map/resource/<layer_id>/<int:z>/<int:x>/<int:y>.png")
@require_role(*READ_ROLES)
@blp.doc(**_PNG_DOC)
def resource_tile(layer_id: str, z: int, x: int, y: int):
    """Tile `z/x/y` of the `ghi` or `wind` resource layer."""
    return _png(svc.resource_tile(settings(), layer_id, z, x, y))


@blp.get("/screenings/<int:screening_id>/tiles/<int:z>/<int:x>/<int:y>.png")
@require_role(*READ_ROLES)
@blp.arguments(svc.TileQuerySchema, location="query", as_kwargs=True)
@blp.doc(**_PNG_DOC)
def screening_tile(screening_id: int, z: int, x: int, y: int, by: str = "score"):
    """Tile `z/x/y` of a finished screening, cells coloured by `score` or `lcoe`, excluded
    cells grey (409 while it runs)."""
    run = screening_service.get_screening(db(), screening_id)
    return _png(svc.screening_tile(settings(), run, z, x, y, by))


@blp.get("/screenings/<int:screening_id>/legend")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "Colour stops of score and LCOE, the tile URL.",
                         errors=(401, 403, 404, 409)))
def screening_legend(screening_id: int):
    """Colours of a finished screening's tiles."""
    run = screening_service.get_screening(db(), screening_id)
    return strict_json(svc.screening_legend(settings(), run))


@blp.get("/screenings/<int:screening_id>/cell")
@require_role(*READ_ROLES)
@blp.arguments(svc.CellQuerySchema, location="query", as_kwargs=True)
@blp.doc(**responses_doc(200, None, "The cell under the point: reasons, score, LCOE, ...",
                         errors=(401, 403, 404, 409, 422)))
def screening_cell(screening_id: int, longitude: float, latitude: float):
    """The cell of a finished screening under a point (404 when there is none)."""
    run = screening_service.get_screening(db(), screening_id)
    return strict_json(svc.screening_cell(settings(), run, longitude, latitude))


@blp.get("/map/screening-parameters/<technology>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "Each parameter: path, default, range, description.",
                         errors=(401, 403, 422)))
def screening_parameters(technology: str):
    """The parameters of a screening with their defaults for `pv` or `wind` (the form)."""
    return strict_json({"technology": technology, "request": svc.request_rows(),
                        "parameters": svc.parameter_rows(technology)})


@blp.post("/map/report")
@require_role(*WRITE_ROLES)
@blp.arguments(svc.PointReportRequestSchema, description="The point and the technology.")
@blp.doc(**responses_doc(200, None, "The site check (constraints with reasons, resource, "
                         "nearest station) and a quick yield per MW.", errors=(401, 403, 422)))
def point_report(request: dict):
    """The report of a point: the site check of a reference plant there and a quick yield."""
    return strict_json(svc.point_report(settings(), db(), request))


@blp.post("/sites")
@require_role(*WRITE_ROLES)
@blp.arguments(fund_service.SiteSaveRequestSchema, description="The site to check and save.")
@blp.doc(**responses_doc(201, None, "The saved site with its check.", errors=(401, 403, 422)))
def save_site(request: dict):
    """Check a candidate site (point or polygon) and save it, linked to a project if given."""
    session = db()
    site = fund_service.save_site(settings(), session, request, user_id=api_user().id)
    session.commit()
    return strict_json(fund_service.site_json(session, site), 201,
                       {"Location": f"/api/v1/sites/{site.id}"})


@blp.get("/sites")
@require_role(*READ_ROLES)
def list_sites():
    """Saved candidate sites, newest first."""
    session = db()
    return strict_json({"sites": [fund_service.site_json(session, s)
                                  for s in fund_service.list_sites(session)]})


@blp.get("/sites/<int:site_id>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "The site with its check."))
def get_site(site_id: int):
    """A saved candidate site."""
    session = db()
    return strict_json(fund_service.site_json(session, fund_service.get_site(session, site_id)))
