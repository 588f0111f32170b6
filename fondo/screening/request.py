"""From a loaded request to the engine's inputs: parameters, the screened area, the tiles.

A request has been through its schema (:mod:`fondo.screening.schemas`): its fields have the
right types and ranges. What is left needs the engine or the layers — the defaults of a
technology merged with the overrides, an area inside Mexico and the corridors, a lattice
with cells and not too many of them — and is checked here, by :mod:`siting`, before anything
is stored. A failure is one :class:`~fondo.errors.InvalidInput` (422) naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from fondo.errors import InvalidInput
from fondo.screening.bundle import ScreeningBundle
from siting.exclusions import subdivisions
from siting.grid import (
    ScreeningInputError,
    Tile,
    corridor_area,
    parse_area,
    screening_grid,
    split_tiles,
)
from siting.parameters import (
    GEOGRAPHIC_CRS,
    MAX_CELLS_DEFAULT,
    PROJECTED_CRS,
    ScreeningParameters,
    default_parameters,
)

__all__ = [
    "MAX_CELLS_SETTING",
    "ScreeningRequest",
    "engine_error",
    "exclusion_subdivisions",
    "jsonable",
    "max_cells_setting",
    "parameters_from_request",
    "parameters_json",
    "plan_tiles",
    "resolve_request",
    "tile_from_json",
]

#: Setting that caps the cells of one screening (default: the engine's MAX_CELLS_DEFAULT).
MAX_CELLS_SETTING = "SCREENING_MAX_CELLS"


def jsonable(value: Any) -> Any:
    """``value`` with NaN/inf as None and numpy scalars as Python numbers (strict JSON)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def engine_error(exc: ValueError) -> InvalidInput:
    """An engine ``ScreeningInputError`` (``field``, ``reason``) or ``ValueError`` as a 422."""
    reason = getattr(exc, "reason", None) or str(exc)
    return InvalidInput(reason, field=getattr(exc, "field", None))


def max_cells_setting(settings: Mapping[str, Any]) -> int:
    """Largest number of cells of one screening on this server."""
    return int(settings.get(MAX_CELLS_SETTING) or MAX_CELLS_DEFAULT)


# --------------------------------------------------------------------------- parameters


def _apply(obj: Any, overrides: Mapping[str, Any], path: str) -> Any:
    """``obj`` (a frozen dataclass) with the fields of ``overrides`` replaced."""
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        current = getattr(obj, key)
        if is_dataclass(current):
            changes[key] = _apply(current, value, f"{path}.{key}")
        elif isinstance(current, Mapping):
            changes[key] = MappingProxyType({float(k): float(v) for k, v in value.items()})
        elif isinstance(current, tuple):
            changes[key] = tuple(value)
        elif isinstance(current, bool):
            changes[key] = bool(value)
        elif isinstance(current, int):
            changes[key] = int(value)
        elif isinstance(current, float):
            changes[key] = float(value)
        else:
            changes[key] = value
    try:
        return replace(obj, **changes)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc), field=path) from None


def parameters_from_request(technology: str, overrides: Mapping[str, Any] | None,
                            max_cells: int) -> ScreeningParameters:
    """Engine parameters: the technology's defaults, then the request's ``parameters``.

    Parameters
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.
    overrides : dict or None
        Nested overrides named as the fields of
        :class:`siting.parameters.ScreeningParameters` (``{"exclusions": {"urban_buffer_m":
        2000}, "technology": {"slope_limit_pct": 5}}``), as loaded by
        :class:`~fondo.screening.schemas.ParametersSchema` (which checks names, types and
        single ranges).
    max_cells : int
        Largest number of cells of one screening (the server's setting).

    Returns
    -------
    siting.parameters.ScreeningParameters

    Raises
    ------
    InvalidInput
        Score weights that cancel out or bounds in the wrong order (``parameters.weights``),
        or a value the dataclasses refuse.
    """
    params = replace(default_parameters(technology), max_cells=int(max_cells))
    if overrides:
        params = _apply(params, overrides, "parameters")
    connection = params.connection
    if set(connection.spur_cost_usd_per_km) != set(connection.tap_substation_cost_usd):
        given = "tap_substation_cost_usd" if "tap_substation_cost_usd" in (
            (overrides or {}).get("connection") or {}) else "spur_cost_usd_per_km"
        raise InvalidInput("spur_cost_usd_per_km and tap_substation_cost_usd need the same "
                           "voltage classes [kV]", field=f"parameters.connection.{given}")
    weights = params.weights
    if weights.lcoe + weights.grid + weights.community + weights.confidence + weights.available_area <= 0:
        raise InvalidInput("the score weights must have a positive sum", field="parameters.weights")
    if weights.lcoe_worst_usd_per_mwh <= weights.lcoe_best_usd_per_mwh:
        raise InvalidInput("lcoe_worst_usd_per_mwh must exceed lcoe_best_usd_per_mwh",
                           field="parameters.weights")
    return params


def parameters_json(params: Any) -> dict[str, Any]:
    """Every field of a parameters dataclass as JSON (voltage mappings keyed by text)."""
    def convert(value: Any) -> Any:
        if is_dataclass(value):
            return {f.name: convert(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, Mapping):
            return {f"{k:g}" if isinstance(k, float) else str(k): convert(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return [convert(v) for v in value]
        return value

    return convert(params)


# --------------------------------------------------------------------------- area


@dataclass(frozen=True)
class ScreeningRequest:
    """A validated screening request.

    Attributes
    ----------
    technology : str
    resolution_km : float
        [km]
    params : siting.parameters.ScreeningParameters
    corridor_id : str or None
    area_4326, area_6372 : shapely geometry
        The screened area (clipped to the corridor states). [EPSG:4326], [EPSG:6372]
    area_km2 : float
        [km²]
    notes : tuple of str
        What was repaired or clipped, said back to the caller.
    tile_cells : int
        Largest number of lattice cells per tile.
    """

    technology: str
    resolution_km: float
    params: ScreeningParameters
    corridor_id: str | None
    area_4326: Any
    area_6372: Any
    area_km2: float
    notes: tuple[str, ...]
    tile_cells: int


def _drawn_area(geometry: Any, bundle: ScreeningBundle) -> tuple[Any, Any, list[str]]:
    """(area in EPSG:4326 or None when clipped, area in EPSG:6372, notes) of a GeoJSON area."""
    layers = bundle.layers
    area = parse_area(geometry, mexico_4326=layers.mexico_4326, corridors_4326=layers.corridors_4326)
    if area.geometry_6372.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(
            f"a screening needs a Polygon or MultiPolygon, got a {area.geometry_6372.geom_type}; "
            "check a point with POST /api/v1/sites/check", field="geometry.type")
    notes = list(area.repairs)
    corridors_6372 = shapely.union_all(layers.states.geometry.values)
    area_6372 = shapely.intersection(area.geometry_6372, corridors_6372)
    area_6372 = shapely.union_all([g for g in shapely.get_parts(area_6372)
                                   if g.geom_type in ("Polygon", "MultiPolygon")])
    if area_6372.is_empty or area_6372.area <= 0:
        raise InvalidInput("does not overlap the Bajío or northeast corridor states", field="geometry")
    if area_6372.area / area.geometry_6372.area < 1 - 1e-9:
        notes.append(f"area clipped to the corridor states (where the layers are): "
                     f"{area_6372.area / 1e6:,.1f} of {area.area_km2:,.1f} km² kept")
        return None, area_6372, notes
    return area.geometry_4326, area_6372, notes


def resolve_request(request: Mapping[str, Any], bundle: ScreeningBundle,
                    settings: Mapping[str, Any]) -> ScreeningRequest:
    """Check a loaded screening request against the loaded layers.

    Parameters
    ----------
    request : dict
        As loaded by :class:`~fondo.screening.schemas.ScreeningRequestSchema`: ``corridor``
        or ``geometry`` (GeoJSON, EPSG:4326), ``technology``, ``resolution_km``,
        ``tile_cells`` and optional ``parameters``.
    bundle : ScreeningBundle
        Loaded layers.
    settings : mapping
        Fondo settings (``SCREENING_MAX_CELLS``).

    Returns
    -------
    ScreeningRequest

    Raises
    ------
    InvalidInput
        An area outside Mexico or the corridors, bad parameters; nothing is stored.
    """
    technology = request["technology"]
    params = parameters_from_request(technology, request.get("parameters"),
                                     max_cells_setting(settings))
    corridor = request.get("corridor")
    try:
        if corridor is not None:
            area_4326, area_6372, notes = None, corridor_area(bundle.layers.states, corridor), []
        else:
            area_4326, area_6372, notes = _drawn_area(request.get("geometry"), bundle)
    except ScreeningInputError as exc:
        raise engine_error(exc) from None
    if area_4326 is None:
        area_4326 = gpd.GeoSeries([area_6372], crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS).iloc[0]
    return ScreeningRequest(technology, float(request["resolution_km"]), params, corridor,
                            area_4326, area_6372, float(area_6372.area) / 1e6, tuple(notes),
                            int(request["tile_cells"]))


# --------------------------------------------------------------------------- tiles


def _tile_json(tile: Tile) -> dict[str, Any]:
    return {"ix0": tile.ix0, "iy0": tile.iy0, "ncols": tile.ncols, "nrows": tile.nrows,
            "resolution_m": tile.resolution_m}


def tile_from_json(data: Mapping[str, Any]) -> Tile:
    """The :class:`siting.grid.Tile` of a tile's JSON (as stored on the job)."""
    return Tile(int(data["ix0"]), int(data["iy0"]), int(data["ncols"]), int(data["nrows"]),
                float(data["resolution_m"]))


#: Most exclusion-raster pixels of one screening: about twenty times both corridors at 1 km
#: with the default 100 m pixels (48 million), some minutes of work per technology.
MAX_EXCLUSION_PIXELS = 1_000_000_000
#: The request field of the exclusion raster's resolution.
EXCLUSION_RESOLUTION_FIELD = "parameters.exclusions.exclusion_resolution_m"


def exclusion_subdivisions(params: ScreeningParameters, resolution_km: float, cell_count: int = 1) -> int:
    """Pixels per cell side of the exclusion raster, refused when too fine for the cells.

    Raises
    ------
    InvalidInput
        More than :data:`siting.exclusions.MAX_SUBDIVISIONS` pixels per cell side, or more than
        :data:`MAX_EXCLUSION_PIXELS` over the cells (field
        ``parameters.exclusions.exclusion_resolution_m``).
    """
    resolution = params.exclusions.exclusion_resolution_m
    try:
        n = subdivisions(float(resolution_km) * 1000.0, resolution)
    except ValueError as exc:
        raise InvalidInput(str(exc).split(": ", 1)[-1], field=EXCLUSION_RESOLUTION_FIELD) from None
    if cell_count * n * n > MAX_EXCLUSION_PIXELS:
        raise InvalidInput(
            f"{resolution:g} m over {cell_count:,} cells of {resolution_km:g} km makes "
            f"{cell_count * n * n:,} pixels, more than the maximum {MAX_EXCLUSION_PIXELS:,}; use a coarser "
            "exclusion resolution or a smaller area", field=EXCLUSION_RESOLUTION_FIELD)
    return n


def plan_tiles(request: ScreeningRequest) -> tuple[list[dict[str, Any]], int]:
    """The tiles holding at least one cell of the request (as JSON), and the number of cells.

    Raises
    ------
    InvalidInput
        Too many cells for ``SCREENING_MAX_CELLS``, or no cell centre in the area (field
        ``resolution_km``); an exclusion raster too fine for them
        (:func:`exclusion_subdivisions`).
    """
    try:
        grid = screening_grid(request.area_6372, request.resolution_km,
                              max_cells=request.params.max_cells)
        tiles = split_tiles(request.area_6372, request.resolution_km, request.tile_cells,
                            max_cells=request.params.max_cells)
    except ScreeningInputError as exc:
        raise engine_error(exc) from None
    if len(grid) == 0:
        raise InvalidInput(f"no cell centre of the {request.resolution_km:g} km lattice falls "
                           "inside the area; use a finer resolution or a larger area",
                           field="resolution_km")
    exclusion_subdivisions(request.params, request.resolution_km, len(grid))
    ix, iy = grid["ix"].to_numpy(), grid["iy"].to_numpy()
    kept = [t for t in tiles
            if ((ix >= t.ix0) & (ix < t.ix0 + t.ncols) & (iy >= t.iy0) & (iy < t.iy0 + t.nrows)).any()]
    return [_tile_json(t) for t in kept], len(grid)
