"""Screening services: validate a request, store a run, screen its tiles, store and export cells.

A screening request names an area — a ``corridor`` (``bajio`` / ``noreste``) or a GeoJSON
``geometry`` in EPSG:4326 — a ``technology`` (``pv`` / ``wind``), a ``resolution_km`` and
optional ``parameters`` that override the engine's named defaults field by field. Every
check runs before anything is stored: a bad request is one :class:`~fondo.errors.InvalidInput`
(422) naming the field, and no row or file is written.

Storage layout under ``INSTANCE_PATH``::

    screenings/<id>/tiles/<ix0>_<iy0>.gpkg   one tile's cells (EPSG:6372), while running
    screenings/<id>/cells.gpkg               every cell of the run (EPSG:6372), layer "cells"
    screenings/<id>/exports/cells.{geojson,gpkg,csv}, supply-curve.{csv,png}  (on demand)

Every file is written to a temporary name in its folder and moved into place with
:func:`os.replace`, so a worker killed mid-write never leaves a half file; a tile whose file
exists is not recomputed, and storing a run twice writes the same file again, so retried
or re-delivered tasks never duplicate a result.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.db import session_scope
from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.jobs import create_job, job_status
from fondo.jobs import Job, JobState
from fondo.orm import Technology, utcnow
from fondo.screening.models import ScreeningRun
from fondo.screening.bundle import ScreeningBundle, screening_bundle

__all__ = [
    "CELL_FORMATS",
    "CURVE_FORMATS",
    "DEFAULT_TILE_CELLS",
    "SCREENING_TASK",
    "STORE_TASK",
    "TILE_TASK",
    "ScreeningRequest",
    "cells_export",
    "check_site_request",
    "create_screening",
    "get_screening",
    "list_screenings",
    "load_cells",
    "mark_failed",
    "parameters_from_request",
    "parameters_json",
    "resolve_request",
    "screen_tile",
    "screening_json",
    "store_screening",
    "supply_curve_export",
    "tile_progress",
]

#: Celery task names (see :mod:`fondo.tasks_screening`).
SCREENING_TASK = "fondo.screening.run"
TILE_TASK = "fondo.screening.tile"
STORE_TASK = "fondo.screening.store"
#: Job kind of a screening.
JOB_KIND = "screening"

#: Cells per tile when the request does not say (policy: about 2-4 s of work per tile on
#: one core, so a corridor at 1 km spreads over tens of tasks and a retry redoes little).
DEFAULT_TILE_CELLS = 10_000
#: Smallest and largest ``tile_cells`` a request may ask for.
MIN_TILE_CELLS = 1
MAX_TILE_CELLS = 250_000
#: Setting that caps the cells of one screening (default: the engine's MAX_CELLS_DEFAULT).
MAX_CELLS_SETTING = "SCREENING_MAX_CELLS"
#: Formats of ``cells.<format>`` and ``supply-curve.<format>``.
CELL_FORMATS = ("geojson", "gpkg", "csv")
CURVE_FORMATS = ("csv", "png")
#: MIME type of each export.
MIME_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "png": "image/png",
}
#: Layer name of the GeoPackages written here.
CELLS_LAYER = "cells"
#: Top-level fields of a screening request.
REQUEST_FIELDS = ("corridor", "geometry", "technology", "resolution_km", "parameters", "tile_cells")
#: Top-level fields of a site-check request.
SITE_FIELDS = ("geometry", "technology", "parameters")
#: Cells listed in a run's summary as the best ranked.
TOP_CELLS = 10
#: Sub-objects of ``parameters`` and the fields a request may not set (chosen by the server).
_FIXED_PARAMETERS = {"parameters.max_cells", "parameters.technology.technology"}


class ScreeningLayersChanged(RuntimeError):
    """The layers a worker loaded differ from those the screening was requested on."""


# --------------------------------------------------------------------------- JSON helpers


def _jsonable(value: Any) -> Any:
    """``value`` with NaN/inf as None and numpy scalars as Python numbers (strict JSON)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: Any, where: str, *, integer: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"must be a number, got {value!r}", field=where)
    if not math.isfinite(value):
        raise InvalidInput("must be a finite number", field=where)
    if value < 0:
        raise InvalidInput(f"must be >= 0, got {value}", field=where)
    if integer:
        if float(value) != int(value):
            raise InvalidInput(f"must be a whole number, got {value}", field=where)
        return int(value)
    return float(value)


def _override(obj: Any, overrides: Any, path: str) -> Any:
    """``obj`` (a frozen dataclass) with the fields of ``overrides`` replaced, checked by type."""
    if not isinstance(overrides, Mapping):
        raise InvalidInput(f"must be a JSON object, got {type(overrides).__name__}", field=path)
    known = {f.name for f in fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        where = f"{path}.{key}"
        if key not in known:
            raise InvalidInput(f"unknown parameter; known: {', '.join(sorted(known))}", field=where)
        if where in _FIXED_PARAMETERS:
            raise InvalidInput("is set by the server, not by the request", field=where)
        current = getattr(obj, key)
        if is_dataclass(current):
            changes[key] = _override(current, value, where)
        elif isinstance(current, bool):
            if not isinstance(value, bool):
                raise InvalidInput(f"must be true or false, got {value!r}", field=where)
            changes[key] = value
        elif isinstance(current, int | float):
            changes[key] = _number(value, where, integer=isinstance(current, int))
        elif isinstance(current, Mapping):
            if not isinstance(value, Mapping) or not value:
                raise InvalidInput("must be a non-empty object of voltage [kV] -> value", field=where)
            parsed = {}
            for k, v in value.items():
                try:
                    kv = float(k)
                except ValueError:
                    raise InvalidInput(f"key {k!r} is not a voltage in kV", field=where) from None
                parsed[kv] = _number(v, f"{where}.{k}")
            changes[key] = MappingProxyType(parsed)
        elif isinstance(current, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInput("must be a list of strings", field=where)
            changes[key] = tuple(value)
        else:
            raise InvalidInput("cannot be overridden", field=where)
    try:
        return replace(obj, **changes)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc), field=path) from None


def parameters_from_request(technology: str, overrides: Any, max_cells: int):
    """Engine parameters: the technology's defaults, then the request's ``parameters``.

    Parameters
    ----------
    technology : str
        ``"pv"`` or ``"wind"``.
    overrides : dict or None
        Nested overrides named as the fields of
        :class:`siting.parameters.ScreeningParameters` (``{"exclusions": {"urban_buffer_m":
        2000}, "technology": {"slope_limit_pct": 5}}``).
    max_cells : int
        Largest number of cells of one screening (the server's setting).

    Returns
    -------
    siting.parameters.ScreeningParameters

    Raises
    ------
    InvalidInput
        Unknown field, wrong type, negative or non-finite number (field
        ``parameters.<path>``).
    """
    from siting.parameters import default_parameters

    params = replace(default_parameters(technology), max_cells=int(max_cells))
    if overrides is not None:
        params = _override(params, overrides, "parameters")
    tech, weights, conn = params.technology, params.weights, params.connection
    if tech.power_density_mw_per_km2 <= 0:
        raise InvalidInput("must be > 0", field="parameters.technology.power_density_mw_per_km2")
    if conn.reference_plant_mw <= 0:
        raise InvalidInput("must be > 0", field="parameters.connection.reference_plant_mw")
    if weights.lcoe + weights.grid + weights.community + weights.confidence <= 0:
        raise InvalidInput("the score weights must have a positive sum", field="parameters.weights")
    if weights.lcoe_worst_usd_per_mwh <= weights.lcoe_best_usd_per_mwh:
        raise InvalidInput("lcoe_worst_usd_per_mwh must exceed lcoe_best_usd_per_mwh",
                           field="parameters.weights")
    if weights.grid_distance_worst_km <= 0:
        raise InvalidInput("must be > 0", field="parameters.weights.grid_distance_worst_km")
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


# --------------------------------------------------------------------------- requests


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
    params: Any
    corridor_id: str | None
    area_4326: Any
    area_6372: Any
    area_km2: float
    notes: tuple[str, ...]
    tile_cells: int


def _invalid_from_engine(exc: ValueError) -> InvalidInput:
    """An engine ``ScreeningInputError`` (``field``, ``reason``) or ``ValueError`` as a 422."""
    reason = getattr(exc, "reason", None) or str(exc)
    return InvalidInput(reason, field=getattr(exc, "field", None))


def _technology(body: Mapping[str, Any]) -> str:
    technology = body.get("technology")
    if technology is None:
        raise InvalidInput("is required: 'pv' or 'wind'", field="technology")
    if not isinstance(technology, str) or technology not in {t.value for t in Technology}:
        raise InvalidInput(f"must be 'pv' or 'wind', got {technology!r}", field="technology")
    return technology


def _max_cells(settings: Mapping[str, Any]) -> int:
    from siting.parameters import MAX_CELLS_DEFAULT

    return int(settings.get(MAX_CELLS_SETTING) or MAX_CELLS_DEFAULT)


def resolve_request(body: Any, bundle: ScreeningBundle, settings: Mapping[str, Any]) -> ScreeningRequest:
    """Validate a screening request against the loaded layers.

    Parameters
    ----------
    body : dict
        ``corridor`` or ``geometry`` (GeoJSON, EPSG:4326), ``technology``,
        ``resolution_km`` (default 2), optional ``parameters`` and ``tile_cells``.
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
        Any bad field (see the module docstring); nothing is stored.
    """
    from siting.grid import ScreeningInputError, corridor_area, parse_area
    from siting.parameters import DEFAULT_RESOLUTION_KM, GEOGRAPHIC_CRS, PROJECTED_CRS

    if not isinstance(body, Mapping):
        raise InvalidInput("the request body must be a JSON object", field="body")
    unknown = sorted(set(body) - set(REQUEST_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s) {unknown}; known: {', '.join(REQUEST_FIELDS)}",
                           field=unknown[0])
    technology = _technology(body)
    resolution_km = body.get("resolution_km", DEFAULT_RESOLUTION_KM)
    if isinstance(resolution_km, bool) or not isinstance(resolution_km, int | float):
        raise InvalidInput(f"must be a number of kilometres, got {resolution_km!r}", field="resolution_km")
    resolution_km = float(resolution_km)
    tile_cells = body.get("tile_cells", DEFAULT_TILE_CELLS)
    if isinstance(tile_cells, bool) or not isinstance(tile_cells, int) or not (
            MIN_TILE_CELLS <= tile_cells <= MAX_TILE_CELLS):
        raise InvalidInput(f"must be a whole number from {MIN_TILE_CELLS} to {MAX_TILE_CELLS}, "
                           f"got {tile_cells!r}", field="tile_cells")
    params = parameters_from_request(technology, body.get("parameters"), _max_cells(settings))
    layers = bundle.layers
    corridor, geometry = body.get("corridor"), body.get("geometry")
    if corridor is not None and geometry is not None:
        raise InvalidInput("give either corridor or geometry, not both", field="corridor")
    notes: list[str] = []
    try:
        if corridor is not None:
            if not isinstance(corridor, str):
                raise InvalidInput(f"must be 'bajio' or 'noreste', got {corridor!r}", field="corridor")
            area_6372 = corridor_area(layers.states, corridor)
            corridor_id = corridor.strip().lower().replace("í", "i")
            area_4326 = None
        elif geometry is not None:
            area = parse_area(geometry, mexico_4326=layers.mexico_4326,
                              corridors_4326=layers.corridors_4326)
            if area.geometry_6372.geom_type not in ("Polygon", "MultiPolygon"):
                raise InvalidInput(
                    f"a screening needs a Polygon or MultiPolygon, got a "
                    f"{area.geometry_6372.geom_type}; check a point with POST /api/v1/sites/check",
                    field="geometry.type")
            notes.extend(area.repairs)
            corridors_6372 = shapely.union_all(layers.states.geometry.values)
            area_6372 = shapely.intersection(area.geometry_6372, corridors_6372)
            area_6372 = shapely.union_all([g for g in shapely.get_parts(area_6372)
                                           if g.geom_type in ("Polygon", "MultiPolygon")])
            if area_6372.is_empty or area_6372.area <= 0:
                raise InvalidInput("does not overlap the Bajío or northeast corridor states",
                                   field="geometry")
            kept = area_6372.area / area.geometry_6372.area
            area_4326 = area.geometry_4326
            if kept < 1 - 1e-9:
                notes.append(f"area clipped to the corridor states (where the layers are): "
                             f"{area_6372.area / 1e6:,.1f} of {area.area_km2:,.1f} km² kept")
                area_4326 = None
            corridor_id = None
        else:
            raise InvalidInput("give a corridor ('bajio' or 'noreste') or a GeoJSON geometry "
                               "(EPSG:4326)", field="geometry")
    except ScreeningInputError as exc:
        raise _invalid_from_engine(exc) from None
    if area_4326 is None:
        area_4326 = gpd.GeoSeries([area_6372], crs=PROJECTED_CRS).to_crs(GEOGRAPHIC_CRS).iloc[0]
    return ScreeningRequest(technology, resolution_km, params, corridor_id, area_4326, area_6372,
                            float(area_6372.area) / 1e6, tuple(notes), tile_cells)


def _tile_json(tile: Any) -> dict[str, Any]:
    return {"ix0": tile.ix0, "iy0": tile.iy0, "ncols": tile.ncols, "nrows": tile.nrows,
            "resolution_m": tile.resolution_m}


def _tile_from_json(data: Mapping[str, Any]):
    from siting.grid import Tile

    return Tile(int(data["ix0"]), int(data["iy0"]), int(data["ncols"]), int(data["nrows"]),
                float(data["resolution_m"]))


def plan_tiles(request: ScreeningRequest) -> tuple[list[dict[str, Any]], int]:
    """The tiles holding at least one cell of the request, and the number of cells.

    Raises
    ------
    InvalidInput
        Too many cells for ``SCREENING_MAX_CELLS``, or no cell centre in the area (field
        ``resolution_km``).
    """
    from siting.grid import ScreeningInputError, screening_grid, split_tiles

    try:
        grid = screening_grid(request.area_6372, request.resolution_km, max_cells=request.params.max_cells)
        tiles = split_tiles(request.area_6372, request.resolution_km, request.tile_cells,
                            max_cells=request.params.max_cells)
    except ScreeningInputError as exc:
        raise _invalid_from_engine(exc) from None
    if len(grid) == 0:
        raise InvalidInput(f"no cell centre of the {request.resolution_km:g} km lattice falls inside "
                           "the area; use a finer resolution or a larger area", field="resolution_km")
    ix, iy = grid["ix"].to_numpy(), grid["iy"].to_numpy()
    kept = [t for t in tiles
            if ((ix >= t.ix0) & (ix < t.ix0 + t.ncols) & (iy >= t.iy0) & (iy < t.iy0 + t.nrows)).any()]
    return [_tile_json(t) for t in kept], len(grid)


def _request_json(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in REQUEST_FIELDS if k in body}


def layers_digest(bundle: ScreeningBundle) -> str:
    """Short digest of the data a bundle was built from (bundled checksums + imports)."""
    return hashlib.sha256(repr(bundle.key[1:]).encode()).hexdigest()[:16]


def create_screening(session: Session, settings: Mapping[str, Any], body: Any,
                     user_id: int | None = None) -> tuple[ScreeningRun, Job]:
    """Validate a request and add its run and job rows (flushed, not committed).

    Returns
    -------
    (ScreeningRun, Job)
        The job's ``params`` are what the task receives (screening id and tiles).

    Raises
    ------
    InvalidInput
        Bad request; nothing was added to the session.
    """
    bundle = screening_bundle(settings)
    request = resolve_request(body, bundle, settings)
    tiles, cell_count = plan_tiles(request)
    run = ScreeningRun(
        corridor_id=request.corridor_id,
        geometry=None if request.corridor_id else request.area_4326,
        technology=Technology(request.technology),
        resolution_km=request.resolution_km,
        params={
            "request": _request_json(body),
            "parameters": parameters_json(request.params),
            "notes": list(request.notes),
            "area_km2": request.area_km2,
            "tile_count": len(tiles),
            "expected_cell_count": cell_count,
            "layers_digest": layers_digest(bundle),
            "imported_layers": list(bundle.imported),
        },
        status=JobState.PENDING,
        created_by_id=user_id,
    )
    session.add(run)
    session.flush()
    job = create_job(session, JOB_KIND, {"screening_id": run.id, "tiles": tiles}, user_id=user_id)
    job.total = len(tiles)
    job.stage = "queued"
    run.job_id = job.id
    session.flush()
    return run, job


# --------------------------------------------------------------------------- storage


def run_dir(settings: Mapping[str, Any], screening_id: int) -> Path:
    """``INSTANCE_PATH/screenings/<id>``."""
    return Path(settings["INSTANCE_PATH"]) / "screenings" / str(int(screening_id))


def _tile_path(settings: Mapping[str, Any], screening_id: int, tile: Mapping[str, Any]) -> Path:
    return run_dir(settings, screening_id) / "tiles" / f"{int(tile['ix0'])}_{int(tile['iy0'])}.gpkg"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary)`` then move the temporary file onto ``path`` (same folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)
    return path


def _write_gpkg(frame: gpd.GeoDataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        out = frame.copy()
        if "rank" in out.columns:
            out["rank"] = out["rank"].astype("float64")  # GeoPackage has no nullable integer
        out.to_file(path, layer=CELLS_LAYER, driver="GPKG", engine="pyogrio")

    return write


def _read_cells(path: Path) -> gpd.GeoDataFrame:
    frame = gpd.read_file(path, layer=CELLS_LAYER, engine="pyogrio")
    if "rank" in frame.columns:
        frame["rank"] = frame["rank"].astype("Int64")
    return frame


def _load_run_row(session: Session, screening_id: int) -> ScreeningRun:
    run = session.get(ScreeningRun, screening_id)
    if run is None:
        raise NotFound(f"screening {screening_id} does not exist")
    return run


def _run_inputs(settings: Mapping[str, Any], screening_id: int):
    """(request, bundle) of a stored run, rebuilt exactly as when it was requested."""
    with session_scope(settings) as session:
        run = _load_run_row(session, screening_id)
        stored = dict(run.params)
    bundle = screening_bundle(settings)
    if layers_digest(bundle) != stored["layers_digest"]:
        raise ScreeningLayersChanged(
            f"screening {screening_id} was requested on layers {stored['layers_digest']} but this "
            f"process has {layers_digest(bundle)} (a dataset or imported layer changed); "
            "request the screening again")
    return resolve_request(stored["request"], bundle, settings), bundle


def screen_tile(settings: Mapping[str, Any], screening_id: int, tile: Mapping[str, Any]) -> Path:
    """Screen one tile of a run and write its cells; do nothing if its file exists.

    Returns
    -------
    pathlib.Path
        The tile's GeoPackage.
    """
    from siting.screening import prepared_triggers, screen_area

    path = _tile_path(settings, screening_id, tile)
    if path.exists():
        return path
    request, bundle = _run_inputs(settings, screening_id)
    params = request.params
    frame = screen_area(
        request.area_6372, bundle.layers, params, request.resolution_km, tile=_tile_from_json(tile),
        exclusion_layers=bundle.exclusion_layers(params), triggers=prepared_triggers(bundle.layers, params),
    )
    return _atomic_write(path, _write_gpkg(frame))


def tile_progress(settings: Mapping[str, Any], job_id: str, screening_id: int) -> int:
    """Record how many tiles of a run are done (counted from their files); return it."""
    folder = run_dir(settings, screening_id) / "tiles"
    done = sum(1 for _ in folder.glob("*.gpkg")) if folder.is_dir() else 0
    with session_scope(settings) as session:
        job = session.execute(select(Job).where(Job.id == job_id).with_for_update()).scalar_one()
        if job.state in (JobState.SUCCESS, JobState.FAILURE):
            return done
        job.done = max(job.done or 0, min(done, job.total or done))
        job.state = JobState.PROGRESS
        job.stage = f"screened {job.done} of {job.total} tiles"
        job.updated_at = utcnow()
        run = session.get(ScreeningRun, screening_id)
        if run is not None and run.status is JobState.PENDING:
            run.status = JobState.PROGRESS
    return done


def mark_started(settings: Mapping[str, Any], job_id: str, screening_id: int) -> bool:
    """Mark a run's job started; False when it already finished (a re-delivered task)."""
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        if job.state is JobState.SUCCESS:
            return False
        job.state = JobState.STARTED
        job.error = None
        job.stage = "screening tiles"
        job.updated_at = utcnow()
        run = _load_run_row(session, screening_id)
        run.status = JobState.STARTED
    return True


def mark_failed(settings: Mapping[str, Any], job_id: str, screening_id: int, exc: BaseException) -> None:
    """Record a run's failure on its job and run rows."""
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is not None and job.state is not JobState.SUCCESS:
            job.state = JobState.FAILURE
            job.error = f"{type(exc).__name__}: {exc}"
            job.updated_at = utcnow()
        run = session.get(ScreeningRun, screening_id)
        if run is not None and run.status is not JobState.SUCCESS:
            run.status = JobState.FAILURE


def summarize(cells: pd.DataFrame, notes: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """JSON summary of a screening's cells (counts, totals, ranges, exclusions, best cells)."""
    from siting.supply_curve import supply_curve

    excluded = cells["excluded"].to_numpy(bool)
    reasons: dict[str, int] = {}
    parts = cells.loc[excluded, "exclusion_reasons"].astype(str).str.split("; ").explode()
    stems = parts[parts != ""].str.split(":").str[0]
    reasons = {k: int(v) for k, v in stems.value_counts().sort_index().items()}

    def stats(column: str, mask: np.ndarray | None = None) -> dict[str, Any]:
        values = cells[column].to_numpy(float)
        values = values[mask] if mask is not None else values
        values = values[np.isfinite(values)]
        if values.size == 0:
            return {"min": None, "median": None, "max": None}
        return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}

    open_ = ~excluded
    curve = supply_curve(cells, by_corridor=True)
    by_corridor = {
        str(corridor): {"capacity_mw": float(g["capacity_mw"].sum()),
                        "energy_gwh_per_year": float(g["energy_gwh_per_year"].sum()),
                        "cell_count": int(len(g)),
                        "lcoe_min_usd_per_mwh": float(g["lcoe_usd_per_mwh"].min())}
        for corridor, g in curve.groupby("corridor", sort=True)
    }
    ranked = cells[cells["rank"].notna()].sort_values("rank").head(TOP_CELLS)
    top = [
        {"rank": int(r["rank"]), "cell_id": r["cell_id"], "longitude": float(r["longitude"]),
         "latitude": float(r["latitude"]), "score": float(r["score"]),
         "lcoe_usd_per_mwh": float(r["lcoe_usd_per_mwh"]), "capacity_mw": float(r["capacity_mw"]),
         "municipality_name": r["municipality_name"]}
        for _, r in ranked.iterrows()
    ]
    return _jsonable({
        "cell_count": int(len(cells)),
        "excluded_count": int(excluded.sum()),
        "available_area_km2": float(cells["available_area_km2"].sum()),
        "capacity_mw": float(cells["capacity_mw"].sum()),
        "consultation_required_count": int(cells["consultation_required"].to_numpy(bool)[open_].sum()),
        "exclusions": reasons,
        "ghi_kwh_m2_day": stats("ghi_kwh_m2_day"),
        "wind_speed_100m_m_s": stats("wind_speed_100m_m_s"),
        "capacity_factor": stats("capacity_factor", open_),
        "lcoe_usd_per_mwh": stats("lcoe_usd_per_mwh", open_),
        "dist_line_km": stats("dist_line_km", open_),
        "supply_by_corridor": by_corridor,
        "top_cells": top,
        "notes": list(notes),
    })


def store_screening(settings: Mapping[str, Any], job_id: str, screening_id: int) -> dict[str, Any]:
    """Join a run's tiles, write ``cells.gpkg`` atomically and finish the run and job rows.

    Idempotent: a run already stored returns its result without writing anything.

    Returns
    -------
    dict
        The job's result (screening id, cell count, links).
    """
    from siting.screening import concat_tiles

    with session_scope(settings) as session:
        run = _load_run_row(session, screening_id)
        job = session.get(Job, job_id)
        if run.status is JobState.SUCCESS and job is not None and job.state is JobState.SUCCESS:
            return dict(job.result or {})
        tiles = list(job.params["tiles"])
        notes = list(run.params.get("notes", []))
    paths = [_tile_path(settings, screening_id, t) for t in tiles]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise RuntimeError(f"screening {screening_id}: tile file(s) {missing[:5]} are missing")
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        job.stage = "storing cells"
        job.updated_at = utcnow()
    cells = concat_tiles([_read_cells(p) for p in paths])
    target = run_dir(settings, screening_id) / "cells.gpkg"
    _atomic_write(target, _write_gpkg(cells))
    summary = summarize(cells, notes)
    result = {"screening_id": screening_id, "cell_count": int(len(cells)),
              "links": _links(screening_id)}
    with session_scope(settings) as session:
        run = _load_run_row(session, screening_id)
        run.cell_count = int(len(cells))
        run.summary = summary
        run.cells_file = target.relative_to(Path(settings["INSTANCE_PATH"])).as_posix()
        run.status = JobState.SUCCESS
        job = session.get(Job, job_id)
        job.state = JobState.SUCCESS
        job.done = job.total = len(tiles)
        job.stage = "done"
        job.result = result
        job.result_url = f"/api/v1/screenings/{screening_id}"
        job.updated_at = utcnow()
    shutil.rmtree(run_dir(settings, screening_id) / "tiles", ignore_errors=True)
    return result


# --------------------------------------------------------------------------- reading


def _links(screening_id: int) -> dict[str, str]:
    base = f"/api/v1/screenings/{screening_id}"
    links = {"self": base}
    links |= {f"cells.{fmt}": f"{base}/cells.{fmt}" for fmt in CELL_FORMATS}
    links |= {f"supply-curve.{fmt}": f"{base}/supply-curve.{fmt}" for fmt in CURVE_FORMATS}
    return links


def get_screening(session: Session, screening_id: int) -> ScreeningRun:
    """A stored run, or :class:`NotFound`."""
    return _load_run_row(session, screening_id)


def list_screenings(session: Session, limit: int = 100) -> list[ScreeningRun]:
    """Stored runs, newest first."""
    return list(session.scalars(select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(limit)))


def screening_json(session: Session, run: ScreeningRun) -> dict[str, Any]:
    """The JSON of ``GET /api/v1/screenings/<id>`` (and of ``fondo screen``)."""
    job = session.get(Job, run.job_id) if run.job_id else None
    params = dict(run.params or {})
    return _jsonable({
        "id": run.id,
        "status": run.status.value,
        "corridor": run.corridor_id,
        "geometry": shapely.geometry.mapping(run.geometry) if run.geometry is not None else None,
        "technology": run.technology.value,
        "resolution_km": run.resolution_km,
        "area_km2": params.get("area_km2"),
        "tile_count": params.get("tile_count"),
        "cell_count": run.cell_count,
        "notes": params.get("notes", []),
        "parameters": params.get("parameters"),
        "imported_layers": params.get("imported_layers", []),
        "summary": run.summary,
        "task": job_status(job) if job is not None else None,
        "is_demo": run.is_demo,
        "created_by_id": run.created_by_id,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "links": _links(run.id) | ({"task": f"/api/v1/tasks/{run.job_id}"} if run.job_id else {}),
    })


def _finished_cells_path(settings: Mapping[str, Any], run: ScreeningRun) -> Path:
    if run.status is not JobState.SUCCESS or not run.cells_file:
        raise Conflict(f"screening {run.id} is {run.status.value}; its cells are served once it "
                       "has succeeded")
    path = Path(settings["INSTANCE_PATH"]) / run.cells_file
    if not path.is_file():
        raise NotFound(f"the cells file of screening {run.id} is missing ({run.cells_file})")
    return path


def load_cells(settings: Mapping[str, Any], run: ScreeningRun) -> gpd.GeoDataFrame:
    """Every cell of a finished run (EPSG:6372), ``rank`` as a nullable integer."""
    return _read_cells(_finished_cells_path(settings, run))


def _cells_csv(cells: gpd.GeoDataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        pd.DataFrame(cells.drop(columns="geometry")).to_csv(path, index=False)

    return write


def cells_export(settings: Mapping[str, Any], run: ScreeningRun, fmt: str) -> Path:
    """A finished run's cells as ``geojson`` / ``gpkg`` (EPSG:4326) or ``csv`` (built once).

    Raises
    ------
    InvalidInput, Conflict, NotFound
        Unknown format; run not finished; cells file missing.
    """
    if fmt not in CELL_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(CELL_FORMATS)}", field="format")
    source = _finished_cells_path(settings, run)
    target = source.parent / "exports" / f"cells.{fmt}"
    if target.is_file():
        return target
    cells = _read_cells(source)
    if fmt == "csv":
        return _atomic_write(target, _cells_csv(cells))
    from siting.parameters import GEOGRAPHIC_CRS

    cells_4326 = cells.to_crs(GEOGRAPHIC_CRS)
    if fmt == "gpkg":
        return _atomic_write(target, _write_gpkg(cells_4326))

    def write_geojson(path: Path) -> None:
        out = cells_4326.copy()
        out["rank"] = out["rank"].astype("float64")
        out.to_file(path, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES"})

    return _atomic_write(target, write_geojson)


def supply_curve_export(settings: Mapping[str, Any], run: ScreeningRun, fmt: str) -> Path:
    """A finished run's supply curve as ``csv`` or ``png`` (built once).

    Raises
    ------
    InvalidInput, Conflict, NotFound
        As :func:`cells_export`.
    """
    from siting.supply_curve import figure_png, supply_curve, supply_curve_figure

    if fmt not in CURVE_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(CURVE_FORMATS)}", field="format")
    source = _finished_cells_path(settings, run)
    target = source.parent / "exports" / f"supply-curve.{fmt}"
    if target.is_file():
        return target
    curve = supply_curve(_read_cells(source), by_corridor=True)
    if fmt == "csv":
        return _atomic_write(target, lambda path: curve.to_csv(path, index=False))
    title = f"Supply curve — screening {run.id} ({run.technology.value}, {run.resolution_km:g} km)"
    png = figure_png(supply_curve_figure(curve, title=title))
    return _atomic_write(target, lambda path: path.write_bytes(png))


def write_cells(cells: gpd.GeoDataFrame, path: Path) -> Path:
    """Write cells to ``path`` by its suffix (.gpkg, .geojson in EPSG:4326; .csv), atomically."""
    from siting.parameters import GEOGRAPHIC_CRS

    suffix = path.suffix.lower().lstrip(".")
    if suffix not in CELL_FORMATS:
        raise InvalidInput(f"the output file must end in .{', .'.join(CELL_FORMATS)}", field="out")
    if suffix == "csv":
        return _atomic_write(path, _cells_csv(cells))
    cells_4326 = cells.to_crs(GEOGRAPHIC_CRS)
    if suffix == "gpkg":
        return _atomic_write(path, _write_gpkg(cells_4326))

    def write_geojson(target: Path) -> None:
        out = cells_4326.copy()
        out["rank"] = out["rank"].astype("float64")
        out.to_file(target, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES"})

    return _atomic_write(path, write_geojson)


# --------------------------------------------------------------------------- site check


def check_site_request(settings: Mapping[str, Any], body: Any) -> dict[str, Any]:
    """Check a candidate site (point or polygon) and return the JSON answer (nothing stored).

    Parameters
    ----------
    settings : mapping
        Fondo settings.
    body : dict
        ``geometry`` (GeoJSON Point / Polygon / MultiPolygon or a Feature, EPSG:4326),
        ``technology``, optional ``parameters`` (as for a screening).

    Returns
    -------
    dict
        ``passed``, ``area_km2``, ``available_area_km2``, ``capacity_mw``,
        ``nearest_station``, ``constraints`` (``name``, ``passed``, ``value``, ``limit``,
        ``reason``), ``attributes``, ``notes`` and the checked ``geometry`` (EPSG:4326).

    Raises
    ------
    InvalidInput
        Bad field (the same checks as a screening's geometry).
    """
    from siting.grid import ScreeningInputError
    from siting.site_check import check_site

    if not isinstance(body, Mapping):
        raise InvalidInput("the request body must be a JSON object", field="body")
    unknown = sorted(set(body) - set(SITE_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s) {unknown}; known: {', '.join(SITE_FIELDS)}",
                           field=unknown[0])
    technology = _technology(body)
    if body.get("geometry") is None:
        raise InvalidInput("is required: a GeoJSON Point or Polygon in EPSG:4326", field="geometry")
    params = parameters_from_request(technology, body.get("parameters"), _max_cells(settings))
    bundle = screening_bundle(settings)
    try:
        result = check_site(body["geometry"], bundle.layers, params,
                            extra_layers=dict(bundle.extra_layers) or None)
    except (ScreeningInputError, ValueError) as exc:
        raise _invalid_from_engine(exc) from None
    return _jsonable({
        "technology": technology,
        "passed": result.passed,
        "area_km2": result.area_km2,
        "available_area_km2": result.available_area_km2,
        "capacity_mw": result.capacity_mw,
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
