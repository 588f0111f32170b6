"""Where a yield study's site is, as only the shell knows it: corridor, country, ground, wind.

* the corridor whose polygon (table ``corridors``, seeded from INEGI) contains the site;
* whether the site lies in Mexico (Natural Earth 1:10 m states, bundled);
* the ground elevation at the site (bundled 1 km DEM, optional);
* the WRF 80 m mean wind-speed domains (bundled, for the wind model's check);
* the layers of the long-term resource model (stations, MERRA-2, WRF, DEM), the same as the
  screening's (:func:`resource_layers_for`).

Layers are read once per data folder (polygons once per database) and kept prepared in
memory; :func:`clear_site_cache` forgets them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.data.service import Corridor, DatasetError, load_dem, load_layer, load_wrf
from fondo.errors import InvalidInput
from fondo.screening.service import screening_bundle
from siting.resource import ResourceLayers, resource_layers

#: How far outside the (simplified, 1:10 m Natural Earth) national boundary a site may lie
#: and still count as in Mexico: about the boundary's simplification error. [°]
MEXICO_BOUNDARY_TOLERANCE_DEG = 0.05

_STATIC_CACHE: dict[tuple[str, str], Any] = {}
_STATIC_LOCK = threading.Lock()

#: One WRF domain: latitudes [°], longitudes [°] and mean wind speed at 80 m [m/s].
WrfDomain = tuple[np.ndarray, np.ndarray, np.ndarray]


def clear_site_cache() -> None:
    """Forget the cached layers and corridor polygons (tests, data refresh)."""
    with _STATIC_LOCK:
        _STATIC_CACHE.clear()


def _static(key: tuple[str, str], build: Callable[[], Any]) -> Any:
    with _STATIC_LOCK:
        if key in _STATIC_CACHE:
            return _STATIC_CACHE[key]
    value = build()
    with _STATIC_LOCK:
        return _STATIC_CACHE.setdefault(key, value)


def site_corridor(session: Session, latitude: float, longitude: float) -> str | None:
    """Id of the corridor whose polygon contains the site (EPSG:4326, °), else None."""

    def build() -> list[tuple[str, Any]]:
        polygons = []
        for corridor in session.scalars(select(Corridor).order_by(Corridor.id)):
            if corridor.geometry is not None:
                shapely.prepare(corridor.geometry)
                polygons.append((corridor.id, corridor.geometry))
        return polygons

    polygons = _static((str(session.get_bind().url), "corridors"), build)
    point = shapely.Point(longitude, latitude)
    return next((cid for cid, polygon in polygons if polygon.covers(point)), None)


def _mexico(settings: Mapping[str, Any]) -> Any:
    def build() -> Any:
        shape = load_layer(settings["DATA_DIR"], "mx_states").geometry.union_all()
        shapely.prepare(shape)
        return shape

    return _static((str(settings["DATA_DIR"]), "mexico"), build)


def check_in_mexico(settings: Mapping[str, Any], latitude: float, longitude: float) -> None:
    """Raise :class:`InvalidInput` (field ``lat``) unless the site lies in Mexico.

    The engine checks INEGI's bounding box; this refines it with the national boundary
    (Natural Earth 1:10 m states), so a point in Texas or the Pacific is refused.
    """
    point = shapely.Point(longitude, latitude)
    if not shapely.dwithin(_mexico(settings), point, MEXICO_BOUNDARY_TOLERANCE_DEG):
        raise InvalidInput(f"lat: the site ({latitude}, {longitude}) is outside Mexico.",
                           field="lat")


def site_elevation_m(settings: Mapping[str, Any], latitude: float, longitude: float
                     ) -> float | None:
    """Ground elevation of the site from the bundled DEM, None where it has no value. [m]"""
    try:
        elevation, transform, _crs = load_dem(settings["DATA_DIR"])
    except DatasetError:
        return None
    col, row = ~transform @ (longitude, latitude)
    i, j = int(np.floor(row)), int(np.floor(col))
    if not (0 <= i < elevation.shape[0] and 0 <= j < elevation.shape[1]):
        return None
    value = float(elevation[i, j])
    return value if np.isfinite(value) else None


def wrf_domains(settings: Mapping[str, Any]) -> list[WrfDomain]:
    """The bundled WRF domains as plain arrays (read once per data folder)."""

    def build() -> list[WrfDomain]:
        return [(d["lat"].values, d["lon"].values, d["wind_speed"].values)
                for d in load_wrf(settings["DATA_DIR"])]

    return _static((str(settings["DATA_DIR"]), "wrf"), build)


def resource_layers_for(settings: Mapping[str, Any]) -> ResourceLayers:
    """The screening's resource layers (stations, MERRA-2, WRF domains, DEM), kept per data folder.

    Taken from the screening bundle once, then kept like the WRF domains above: these are
    bundled files only (an officer's import cannot replace them), so a study reads the same
    long-term resource as a screening cell at the same place without re-checking the
    manifest on every map click. :func:`clear_site_cache` forgets them.
    """
    return _static((str(settings["DATA_DIR"]), "resource_layers"),
                   lambda: resource_layers(screening_bundle(settings).layers))
