"""The check of one candidate site (a point or a polygon), answered now and stored nowhere.

The shell around :func:`siting.site_check.check_site`: the layers of this process (bundled and
imported, :mod:`fondo.screening.bundle`), the request's parameters merged with the
technology's defaults, and the answer as strict JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely

from fondo.screening.bundle import screening_bundle
from fondo.screening.request import (
    engine_error,
    exclusion_subdivisions,
    jsonable,
    max_cells_setting,
    parameters_from_request,
)
from siting.grid import ScreeningInputError
from siting.parameters import DEFAULT_RESOLUTION_KM
from siting.site_check import check_site

__all__ = ["check_site_request"]


def check_site_request(settings: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """Check a candidate site (point or polygon) and return the JSON answer (nothing stored).

    Parameters
    ----------
    settings : mapping
        Fondo settings.
    request : dict
        As loaded by :class:`~fondo.screening.schemas.SiteCheckRequestSchema`: ``geometry``
        (GeoJSON Point / Polygon / MultiPolygon or a Feature, EPSG:4326), ``technology``,
        optional ``parameters`` (as for a screening) and ``resolution_km`` (the lattice of a
        point's ``cell``).

    Returns
    -------
    dict
        ``passed``, ``area_km2``, ``available_area_km2``, ``available_fraction``,
        ``excluded_km2_by_reason`` (km² of the footprint each exclusion takes, by code),
        ``capacity_mw``, ``cell`` (a point's screening cell: ``cell_id``, its available share
        and km², capacity, ``excluded``, reasons and km² by reason; null for a polygon),
        ``nearest_station``, ``constraints`` (``name``, ``passed``, ``value``, ``limit``,
        ``reason``), ``attributes``, ``notes`` and the checked ``geometry`` (EPSG:4326).

    Raises
    ------
    InvalidInput
        A site outside Mexico, GeoJSON without coordinates (the same checks as a screening's
        geometry), parameters that do not fit together.
    """
    technology = request["technology"]
    params = parameters_from_request(technology, request.get("parameters"),
                                     max_cells_setting(settings))
    resolution_km = request.get("resolution_km", DEFAULT_RESOLUTION_KM)
    exclusion_subdivisions(params, resolution_km)  # the point's one cell
    bundle = screening_bundle(settings)
    try:
        result = check_site(request["geometry"], bundle.layers, params,
                            extra_layers=dict(bundle.extra_layers) or None,
                            resolution_km=resolution_km)
    except (ScreeningInputError, ValueError) as exc:
        raise engine_error(exc) from None
    return jsonable({
        "technology": technology,
        "passed": result.passed,
        "area_km2": result.area_km2,
        "available_area_km2": result.available_area_km2,
        "available_fraction": result.available_fraction,
        "excluded_km2_by_reason": dict(result.excluded_km2_by_reason),
        "capacity_mw": result.capacity_mw,
        "cell": result.cell,
        "nearest_station": result.nearest_station,
        "constraints": [
            {"name": c.name, "passed": bool(c.passed), "value": float(c.value),
             "limit": float(c.limit), "reason": c.reason}
            for c in result.constraints
        ],
        "attributes": result.attributes,
        "notes": list(result.repairs),
        "geometry": shapely.geometry.mapping(result.geometry_4326),
        "imported_layers": list(bundle.imported),
    })
