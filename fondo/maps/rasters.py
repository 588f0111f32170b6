"""The map's raster layers: a finished screening's cells, and the GHI and wind resource.

A screening's cells are read once per process (:func:`fondo.screening.service.load_cells`)
into a :class:`~fondo.maps.tiles.LatticeRaster` of its score, LCOE and exclusion flag, on the
run's own EPSG:6372 lattice; tiles are then rendered from memory. The attributes of every
cell stay beside it, so a click on the map finds the cell's reasons without reading a file.

The resource layers are the screening engine's own resource model
(:func:`siting.resource.ghi_kwh_m2_day`, :func:`siting.resource.wind_speed_100m_m_s`:
MERRA-2 and WRF backgrounds scaled to the typical-year stations by inverse-distance
weighting) evaluated on a :data:`RESOURCE_LATTICE_KM` lattice over the corridor states, with
the default parameters of each technology, so the map shows what a screening would use.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from cachetools import LRUCache

from fondo.errors import InvalidInput, NotFound
from fondo.maps.tiles import ColourScale, LatticeRaster, lattice_index, lattice_raster
from fondo.screening import service as screening_service
from siting.parameters import default_parameters
from siting.resource import ghi_kwh_m2_day, wind_speed_100m_m_s

__all__ = [
    "COLOUR_BY",
    "RESOURCE_LATTICE_KM",
    "RESOURCE_SCALES",
    "ScreeningRaster",
    "cell_at",
    "clear_raster_cache",
    "resource_raster",
    "screening_raster",
    "screening_scale",
]

#: What a screening's cells may be coloured by (``?by=``).
COLOUR_BY = ("score", "lcoe")
#: Side of the lattice the resource layers are evaluated on: the MERRA-2 background is a 3°
#: grid and the WRF domains are about 4 km, so 5 km shows every gradient the model has. [km]
RESOURCE_LATTICE_KM = 5.0
#: Colours of the resource layers: annual-mean daily GHI over the corridors spans about
#: 4.8-6.6 kWh/m²/day (Global Solar Atlas' scale for Mexico is 4-7); mean wind at 100 m
#: 3-9 m/s (the range of the WRF domains of SOURCES-weather.md §2).
RESOURCE_SCALES: Mapping[str, ColourScale] = {
    "ghi": ColourScale("inferno", 4.5, 7.0, alpha=170),
    "wind": ColourScale("viridis", 3.0, 9.0, alpha=170),
}
#: Columns kept with each cell for the click on a screening (unit in the name).
CELL_REPORT_COLUMNS = (
    "cell_id", "longitude", "latitude", "excluded", "exclusion_reasons", "score", "rank",
    "lcoe_usd_per_mwh", "capacity_mw", "available_area_km2", "energy_mwh_per_mw",
    "capacity_factor", "ghi_kwh_m2_day", "wind_speed_100m_m_s", "slope_pct", "dist_line_km",
    "dist_substation_km", "nearest_station_id", "dist_station_km", "municipality_name",
    "state_name", "inpi_typology", "consultation_required", "consultation_reason",
)
M_PER_KM = 1000.0


@dataclass(frozen=True)
class ScreeningRaster:
    """A finished screening ready to draw.

    Attributes
    ----------
    raster : LatticeRaster
        Grids ``score``, ``lcoe``, ``excluded`` (1.0 / 0.0) and ``row``.
    cells : DataFrame
        :data:`CELL_REPORT_COLUMNS` of every cell, row ``i`` = raster row ``i``.
    scales : dict of str to ColourScale
        Colours of ``score`` and ``lcoe``.
    """

    raster: LatticeRaster
    cells: pd.DataFrame
    scales: Mapping[str, ColourScale]


#: Rasters kept per process: a corridor screening's (480 000 cells with their report columns)
#: takes a few hundred MB, so only the two most recently drawn stay.
_RASTERS: LRUCache = LRUCache(maxsize=2)
#: Resource rasters (GHI, wind: about 40 000 cells each) per bundle of layers.
_RESOURCES: LRUCache = LRUCache(maxsize=4)
_LOCK = threading.Lock()
_BUILDING: dict[Any, threading.Lock] = {}


def clear_raster_cache() -> None:
    """Forget every raster built in this process."""
    with _LOCK:
        _RASTERS.clear()
        _RESOURCES.clear()


def _cached(key: Any, build, cache: LRUCache = _RASTERS):
    with _LOCK:
        found = cache.get(key)
        if found is not None:
            return found
        guard = _BUILDING.setdefault(key, threading.Lock())
    with guard:  # one thread builds, the others wait for it
        with _LOCK:
            found = cache.get(key)
        if found is None:
            found = build()
            with _LOCK:
                cache[key] = found
                _BUILDING.pop(key, None)
    return found


def screening_scale(run_parameters: Mapping[str, Any] | None, by: str) -> ColourScale:
    """Colours of a screening's ``score`` (0-1) or ``lcoe``: the LCOE scale runs from the
    run's own ``weights.lcoe_best_usd_per_mwh`` to ``lcoe_worst_usd_per_mwh``, the range
    its score maps to 1 and 0 (so the two colourings agree)."""
    if by not in COLOUR_BY:
        raise InvalidInput(f"by must be {' or '.join(COLOUR_BY)}, got {by!r}", field="by")
    if by == "score":
        return ColourScale("viridis", 0.0, 1.0)
    weights = dict((run_parameters or {}).get("weights") or {})
    defaults = default_parameters("pv").weights
    best = float(weights.get("lcoe_best_usd_per_mwh", defaults.lcoe_best_usd_per_mwh))
    worst = float(weights.get("lcoe_worst_usd_per_mwh", defaults.lcoe_worst_usd_per_mwh))
    return ColourScale("viridis_r", best, worst)


def screening_raster(settings: Mapping[str, Any], run: Any) -> ScreeningRaster:
    """The drawable raster of a finished screening run (built once per process).

    Raises
    ------
    Conflict, NotFound
        The run has not succeeded, or its cells file is missing
        (:func:`fondo.screening.service.load_cells`).
    """
    key = ("screening", settings["INSTANCE_PATH"], run.id, run.cells_file)

    def build() -> ScreeningRaster:
        # the attributes drawn and reported, and the cells' stored centres: no polygons
        cells = screening_service.load_cells(
            settings, run, columns=(*CELL_REPORT_COLUMNS, "x_m", "y_m"))
        x_m, y_m = cells["x_m"].to_numpy(float), cells["y_m"].to_numpy(float)
        raster = lattice_raster(x_m, y_m, float(run.resolution_km) * M_PER_KM, {
            "score": cells["score"].to_numpy(float),
            "lcoe": cells["lcoe_usd_per_mwh"].to_numpy(float),
            "excluded": cells["excluded"].to_numpy(bool).astype(float),
        })
        keep = [c for c in CELL_REPORT_COLUMNS if c in cells.columns]
        parameters = dict(run.params or {}).get("parameters")
        return ScreeningRaster(raster, pd.DataFrame(cells[keep]).reset_index(drop=True),
                               {by: screening_scale(parameters, by) for by in COLOUR_BY})

    return _cached(key, build)


_TO_6372 = threading.local()


def to_6372(longitude: float, latitude: float) -> tuple[float, float]:
    """A point from EPSG:4326 to EPSG:6372. [m]"""
    found = getattr(_TO_6372, "t", None)
    if found is None:
        found = _TO_6372.t = pyproj.Transformer.from_crs(4326, 6372, always_xy=True)
    return found.transform(longitude, latitude)


def cell_at(settings: Mapping[str, Any], run: Any, longitude: float,
            latitude: float) -> dict[str, Any]:
    """The cell of a finished screening under a point, with its reasons and values.

    Raises
    ------
    NotFound
        No cell of the run there.
    """
    drawn = screening_raster(settings, run)
    x_m, y_m = to_6372(longitude, latitude)
    row = int(drawn.raster.lookup("row", np.array([x_m]), np.array([y_m]), fill=-1)[0])
    if row < 0:
        raise NotFound(f"screening {run.id} has no cell at {longitude:.5f}, {latitude:.5f}")
    record = drawn.cells.iloc[row].to_dict()
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        if value is pd.NA:
            value = None
        out[key] = value
    reasons = str(out.get("exclusion_reasons") or "")
    out["exclusion_reasons"] = [r for r in reasons.split("; ") if r]
    ix, iy = lattice_index(x_m, y_m, drawn.raster.resolution_m)
    out["screening_id"] = run.id
    out["lattice_index"] = [int(ix), int(iy)]
    return out


def _resource_values(settings: Mapping[str, Any], kind: str) -> LatticeRaster:
    bundle = screening_service.screening_bundle(settings)
    layers = bundle.layers
    transformer = pyproj.Transformer.from_crs(4326, 6372, always_xy=True)
    back = pyproj.Transformer.from_crs(6372, 4326, always_xy=True)
    west, south, east, north = layers.corridors_4326.bounds
    xs, ys = transformer.transform([west, east, west, east], [south, south, north, north])
    step = RESOURCE_LATTICE_KM * M_PER_KM
    ix = np.arange(np.floor(min(xs) / step), np.ceil(max(xs) / step))
    iy = np.arange(np.floor(min(ys) / step), np.ceil(max(ys) / step))
    gx, gy = np.meshgrid((ix + 0.5) * step, (iy + 0.5) * step)
    lon, lat = back.transform(gx.ravel(), gy.ravel())
    lon, lat = np.asarray(lon), np.asarray(lat)
    inside = shapely.contains_xy(layers.corridors_4326, lon, lat)
    x_m, y_m, lon, lat = gx.ravel()[inside], gy.ravel()[inside], lon[inside], lat[inside]
    if kind == "ghi":
        params = default_parameters("pv").resource
        values = ghi_kwh_m2_day(lat, lon, x_m, y_m, layers.stations, layers.station_xy_m,
                                layers.merra2, params)
    else:
        params = default_parameters("wind").resource
        values, _in_wrf = wind_speed_100m_m_s(lat, lon, x_m, y_m, layers.stations,
                                              layers.station_xy_m, layers.wind_layers, params)
    return lattice_raster(x_m, y_m, step, {kind: np.asarray(values, float)})


def resource_raster(settings: Mapping[str, Any], kind: str) -> LatticeRaster:
    """The ``ghi`` [kWh/m²/day] or ``wind`` (100 m) [m/s] raster over the corridor states."""
    if kind not in RESOURCE_SCALES:
        raise InvalidInput(f"resource layer must be {' or '.join(RESOURCE_SCALES)}, got "
                           f"{kind!r}", field="layer")
    bundle = screening_service.screening_bundle(settings)
    key = ("resource", kind, bundle.key)
    return _cached(key, lambda: _resource_values(settings, kind), _RESOURCES)
