"""Request schemas of the map: one per request, shared by the REST API and ``fondo map``.

:class:`PointReportRequestSchema` is the body of ``POST /api/v1/map/report`` and the
``--input`` of ``fondo map report``; :class:`LayerQuerySchema` the query of
``GET /api/v1/map/layers/<id>.geojson`` and the options of ``fondo map layer``;
:class:`TileQuerySchema` the query of the screening tiles.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from fondo.schema_fields import JSONNumber
from fondo.maps.rasters import COLOUR_BY
from fondo.maps.tiles import MAX_ZOOM

__all__ = ["CellQuerySchema", "LayerQuerySchema", "PointReportRequestSchema", "TileQuerySchema"]

#: Technologies of a point report (those of the screening and the yield studies).
TECHNOLOGIES = ("pv", "wind")


class PointReportRequestSchema(Schema):
    """A point clicked on the map and the technology to report it for."""

    error_messages = {"type": "the request body must be a JSON object",
                      "unknown": "unknown field; known: longitude, latitude, technology"}

    longitude = JSONNumber(required=True, validate=validate.Range(
        -180.0, 180.0, error="must be from -180 to 180 degrees, got {input}"),
        metadata={"description": "Longitude of the point (EPSG:4326). [°]"})
    latitude = JSONNumber(required=True, validate=validate.Range(
        -90.0, 90.0, error="must be from -90 to 90 degrees, got {input}"),
        metadata={"description": "Latitude of the point (EPSG:4326). [°]"})
    technology = fields.String(
        load_default="pv", validate=validate.OneOf(TECHNOLOGIES,
                                                   error="must be 'pv' or 'wind', got {input!r}"),
        metadata={"description": "'pv' (default) or 'wind'."})


class LayerQuerySchema(Schema):
    """The view a vector layer is asked for."""

    zoom = fields.Integer(required=True, validate=validate.Range(
        0, MAX_ZOOM, error="must be a whole number from {min} to {max}, got {input}"),
        metadata={"description": "The map's zoom (simplification and smallest locality)."})
    bbox = fields.String(metadata={"description": "The view: west,south,east,north in degrees "
                                                  "(EPSG:4326)."})


class CellQuerySchema(Schema):
    """A point of a screening's map (query of ``GET /api/v1/screenings/<id>/cell``)."""

    longitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(
        -180.0, 180.0, error="must be from -180 to 180 degrees, got {input}"),
        metadata={"description": "Longitude (EPSG:4326). [°]"})
    latitude = fields.Float(required=True, allow_nan=False, validate=validate.Range(
        -90.0, 90.0, error="must be from -90 to 90 degrees, got {input}"),
        metadata={"description": "Latitude (EPSG:4326). [°]"})


class TileQuerySchema(Schema):
    """How a screening's tile is coloured."""

    by = fields.String(load_default="score", validate=validate.OneOf(
        COLOUR_BY, error="must be 'score' or 'lcoe', got {input!r}"),
        metadata={"description": "Colour cells by 'score' (0-1) or 'lcoe' (USD/MWh)."})


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``"w,s,e,n"`` -> four floats (checked later by the layer), or :class:`InvalidInput`."""
    from fondo.errors import InvalidInput  # noqa: PLC0415

    if text is None or text == "":
        return None
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise InvalidInput("bbox must be four numbers west,south,east,north", field="bbox")
    return values  # type: ignore[return-value]
