"""The map feature's public face: layers, tiles, clicks on the map, the screening form.

The web pages, the REST API (:mod:`web.api.maps`) and ``fondo map`` reach the map through
this module. Vector layers are GeoJSON per view (:mod:`fondo.maps.layers`); the resource and
a finished screening's cells are PNG tiles rendered from their lattice
(:mod:`fondo.maps.rasters`, :mod:`fondo.maps.tiles`); a click is answered by the site check and
a quick yield (:mod:`fondo.maps.report`) or, on a screening, by its cell
(:func:`screening_cell`). Screenings are read through :mod:`fondo.screening.service` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fondo.errors import InvalidInput
from fondo.maps.charts import supply_curve_svg, supply_curve_table
from fondo.maps.layers import VECTOR_LAYERS, layer_geojson, layer_sources, vector_layer
from fondo.maps.rasters import (
    COLOUR_BY,
    RESOURCE_LATTICE_KM,
    RESOURCE_SCALES,
    cell_at,
    clear_raster_cache,
    resource_raster,
    screening_raster,
)
from fondo.maps.report import point_report
from fondo.maps.schemas import (
    CellQuerySchema,
    LayerQuerySchema,
    PointReportRequestSchema,
    TileQuerySchema,
    parse_bbox,
)
from fondo.maps.screening_form import parameter_rows, request_rows
from fondo.maps.tiles import MAX_ZOOM, TILE_SIZE_PX, raster_bounds_4326, render_tile
from fondo.screening import service as screening_service

__all__ = [
    "COLOUR_BY",
    "CellQuerySchema",
    "LayerQuerySchema",
    "MAX_ZOOM",
    "PointReportRequestSchema",
    "RASTER_LAYERS",
    "TileQuerySchema",
    "VECTOR_LAYERS",
    "clear_raster_cache",
    "layer_catalogue",
    "layer_geojson",
    "parameter_rows",
    "parse_bbox",
    "point_report",
    "request_rows",
    "resource_tile",
    "screening_cell",
    "screening_legend",
    "screening_tile",
    "supply_curve_chart",
]

#: The raster layers: id -> (English title, datasets it is computed from, unit).
RASTER_LAYERS: Mapping[str, tuple[str, tuple[str, ...], str]] = {
    "ghi": ("Solar resource: global horizontal irradiation (annual mean)",
            ("merra2_ghi", "kind:weather"), "kWh/m²/day"),
    "wind": ("Wind resource: mean speed at 100 m",
             ("wrf_wind_80m", "kind:weather"), "m/s"),
}


def layer_catalogue(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every layer of the map with its kind, colours or legend, and sources (for the page's
    legend and ``GET /api/v1/map/layers``)."""
    out: list[dict[str, Any]] = []
    for layer in VECTOR_LAYERS:
        out.append({"id": layer.id, "title": layer.title, "kind": "vector",
                    "geometry": layer.geometry, "colour": layer.colour,
                    "properties": list(layer.properties),
                    "url": f"/api/v1/map/layers/{layer.id}.geojson",
                    "sources": layer_sources(settings, layer.datasets)})
    for layer_id, (title, datasets, unit) in RASTER_LAYERS.items():
        scale = RESOURCE_SCALES[layer_id]
        out.append({"id": layer_id, "title": title, "kind": "raster", "unit": unit,
                    "url": f"/api/v1/map/resource/{layer_id}/{{z}}/{{x}}/{{y}}.png",
                    "legend": scale.legend(), "lattice_km": RESOURCE_LATTICE_KM,
                    "method": "MERRA-2 / WRF background scaled to the typical-year stations by "
                              "inverse-distance weighting (the screening's resource model)",
                    "sources": layer_sources(settings, datasets)})
    return out


def resource_tile(settings: Mapping[str, Any], layer_id: str, z: int, x: int, y: int) -> bytes:
    """PNG tile ``z/x/y`` of the ``ghi`` or ``wind`` resource layer."""
    raster = resource_raster(settings, layer_id)
    return render_tile(raster, z, x, y, layer_id, RESOURCE_SCALES[layer_id])


def screening_tile(settings: Mapping[str, Any], run: Any, z: int, x: int, y: int,
                   by: str = "score") -> bytes:
    """PNG tile ``z/x/y`` of a finished screening, cells coloured ``by`` score or LCOE and
    excluded cells grey."""
    if by not in COLOUR_BY:
        raise InvalidInput(f"by must be {' or '.join(COLOUR_BY)}, got {by!r}", field="by")
    drawn = screening_raster(settings, run)
    return render_tile(drawn.raster, z, x, y, by, drawn.scales[by], masked="excluded")


def screening_legend(settings: Mapping[str, Any], run: Any) -> dict[str, Any]:
    """Colours of a screening's tiles: ``score`` and ``lcoe`` stops, the excluded grey."""
    drawn = screening_raster(settings, run)
    return {by: {"legend": scale.legend(), "colormap": scale.colormap,
                 "unit": "-" if by == "score" else "USD/MWh"}
            for by, scale in drawn.scales.items()} | {
        "excluded": {"colour": "#6e6e6e"}, "tile_size_px": TILE_SIZE_PX,
        "bounds_4326": raster_bounds_4326(drawn.raster),
        "tiles": f"/api/v1/screenings/{run.id}/tiles/{{z}}/{{x}}/{{y}}.png"}


def screening_cell(settings: Mapping[str, Any], run: Any, longitude: float,
                   latitude: float) -> dict[str, Any]:
    """The cell of a finished screening under a point (its reasons and values)."""
    return cell_at(settings, run, longitude, latitude)


def vector_layer_exists(layer_id: str) -> bool:
    """True for a known vector layer id."""
    try:
        vector_layer(layer_id)
    except InvalidInput:
        return False
    return True


def supply_curve_chart(settings: Mapping[str, Any], run: Any,
                       labels: Mapping[str, str]) -> tuple[bytes, Sequence[str], list[dict]]:
    """A finished screening's supply curve: (SVG chart, corridors, table rows).

    Raises
    ------
    Conflict, NotFound
        As :func:`fondo.screening.service.supply_curve_export`.
    """
    path = screening_service.supply_curve_export(settings, run, "csv")
    curve = pd.read_csv(path, dtype={"corridor": str, "cell_id": str})
    corridors, rows = supply_curve_table(curve)
    return supply_curve_svg(curve, labels), corridors, rows
