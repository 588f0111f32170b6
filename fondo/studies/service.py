"""Energy-yield studies (issue 3): the shell around :mod:`siting.yield_study`.

What only the shell knows is resolved here — the station catalogue (table
``weather_stations``), the corridor of a site (table ``corridors``), the site's ground
elevation (bundled DEM, optional), the WRF 80 m layer, the bytes of a weather file — and
the pure engine is called with plain values. Parsed weather files are cached in-process by
their SHA-256, so a second study on the same station parses nothing.

Two entry points share one request schema (the issue's contract names):

* :func:`run_quick` — ``POST /api/v1/yield/{pv,wind}`` and ``fondo yield pv|wind``: validate,
  choose the station, run, answer; nothing is stored;
* :func:`create_study` then :func:`run_stored_study` (a Celery task,
  :mod:`fondo.tasks_yield`) — ``POST /api/v1/studies``: everything that can fail on the
  caller's input is checked before the row is stored; the task then only computes and
  writes the hourly series (``INSTANCE_PATH/studies/<id>.csv``, written atomically) and the
  result JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fondo.errors import Conflict, FondoError, InvalidInput, NotFound, invalid_from
from fondo.data.service import Corridor, WeatherStation
from fondo.fund.service import Site
from fondo.jobs import JobState
from fondo.orm import Technology
from siting import wind as windmod
from siting.weather import Station, WeatherFileError, choose_station, parse_epw
from siting.yield_study import (PVRequest, WindRequest, YieldInputError, YieldResult,
                                request_to_dict, run_pv_study, run_wind_study)
from fondo.studies.models import YieldStudy  # other features' way in

#: Celery task name of a stored study.
STUDY_TASK = "fondo.yield.study"
#: Job kind of a stored study.
STUDY_JOB_KIND = "yield_study"
#: Technologies and their request classes.
REQUEST_CLASSES = {"pv": PVRequest, "wind": WindRequest}
#: Fields of ``POST /api/v1/studies`` besides the engine's request.
STUDY_FIELDS = ("technology", "site_id", "request")
#: Folder (under INSTANCE_PATH) of the stored hourly series.
STUDIES_FOLDER = "studies"
#: Column names of the hourly CSV (interval start, local standard time UTC-6; AC energy).
HOURLY_TIME_COLUMN = "time_start"
HOURLY_ENERGY_COLUMN = "energy_ac_kwh"
#: How far outside the (simplified, 1:10 m Natural Earth) national boundary a site may lie
#: and still count as in Mexico: about the boundary's simplification error. [°]
MEXICO_BOUNDARY_TOLERANCE_DEG = 0.05
#: Parsed weather files kept in memory (each ≈ 1 MB). [-]
WEATHER_CACHE_ENTRIES = 32

_WEATHER_CACHE: OrderedDict[str, tuple[pd.DataFrame, Station]] = OrderedDict()
_STATIC_CACHE: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()

WeatherReader = Callable[[Mapping[str, Any], WeatherStation], bytes]


def clear_caches() -> None:
    """Forget parsed weather files and the cached layers (tests, data refresh)."""
    with _LOCK:
        _WEATHER_CACHE.clear()
        _STATIC_CACHE.clear()


# ----------------------------------------------------------------------------- catalogue


def station_from_row(row: WeatherStation) -> Station:
    """The engine's :class:`~siting.weather.Station` of a ``weather_stations`` row."""
    return Station(station_id=str(row.id), name=row.name, latitude=float(row.latitude),
                   longitude=float(row.longitude), elevation_m=float(row.elevation_m),
                   corridor=row.corridor_id)


def station_rows(session: Session) -> list[WeatherStation]:
    """Every station of the catalogue, by WMO id."""
    return list(session.scalars(select(WeatherStation).order_by(WeatherStation.id)))


def stations_json(session: Session) -> dict[str, Any]:
    """``GET /api/v1/stations``: the catalogue (id, name, position, elevation, corridor)."""
    return {"stations": [{"id": r.id, "name": r.name, "latitude": r.latitude,
                          "longitude": r.longitude, "elevation_m": r.elevation_m,
                          "corridor": r.corridor_id, "file": r.file,
                          "file_sha256": r.file_sha256} for r in station_rows(session)]}


def turbines_json() -> dict[str, Any]:
    """``GET /api/v1/turbines``: windpowerlib's bundled types with a power curve."""
    from siting.turbines import list_turbines

    return {"source": "windpowerlib oedb turbine library (bundled, offline)",
            "turbines": [t.to_dict() for t in list_turbines()]}


def site_corridor(session: Session, latitude: float, longitude: float) -> str | None:
    """Id of the corridor whose polygon contains the site, else None.

    The corridor polygons (reference data seeded from INEGI) are read once per database
    and kept prepared in memory.
    """
    import shapely

    url = str(session.get_bind().url)
    key = (url, "corridors")
    with _LOCK:
        polygons = _STATIC_CACHE.get(key)
    if polygons is None:
        polygons = []
        for corridor in session.scalars(select(Corridor).order_by(Corridor.id)):
            if corridor.geometry is not None:
                shapely.prepare(corridor.geometry)
                polygons.append((corridor.id, corridor.geometry))
        with _LOCK:
            _STATIC_CACHE[key] = polygons
    point = shapely.Point(longitude, latitude)
    return next((cid for cid, polygon in polygons if polygon.covers(point)), None)


def _static(settings: Mapping[str, Any], what: str, build: Callable[[], Any]) -> Any:
    key = (str(settings["DATA_DIR"]), what)
    with _LOCK:
        if key in _STATIC_CACHE:
            return _STATIC_CACHE[key]
    value = build()
    with _LOCK:
        _STATIC_CACHE[key] = value
    return value


def _mexico(settings: Mapping[str, Any]):
    from shapely import prepare

    from fondo.data.datasets import load_layer

    def build():
        shape = load_layer(settings["DATA_DIR"], "mx_states").geometry.union_all()
        prepare(shape)
        return shape

    return _static(settings, "mexico", build)


def check_in_mexico(settings: Mapping[str, Any], latitude: float, longitude: float) -> None:
    """Raise :class:`InvalidInput` (field ``lat``) unless the site lies in Mexico.

    The engine checks INEGI's bounding box; this refines it with the national boundary
    (Natural Earth 1:10 m states), so a point in Texas or the Pacific is refused.
    """
    import shapely

    shape = _mexico(settings)
    point = shapely.Point(longitude, latitude)
    if not shapely.dwithin(shape, point, MEXICO_BOUNDARY_TOLERANCE_DEG):
        raise InvalidInput(f"lat: the site ({latitude}, {longitude}) is outside Mexico.",
                           field="lat")


def site_elevation_m(settings: Mapping[str, Any], latitude: float, longitude: float
                     ) -> float | None:
    """Ground elevation of the site from the bundled DEM, None where it has no value."""
    from fondo.data.datasets import DatasetError, load_dem

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


def _wrf_domains(settings: Mapping[str, Any]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    from fondo.data.datasets import load_wrf

    def build():
        return [(d["lat"].values, d["lon"].values, d["wind_speed"].values)
                for d in load_wrf(settings["DATA_DIR"])]

    return _static(settings, "wrf", build)


# ----------------------------------------------------------------------------- weather


def read_station_file(settings: Mapping[str, Any], row: WeatherStation) -> bytes:
    """Bytes of a station's bundled EPW file, checked against the catalogue's SHA-256."""
    path = Path(settings["DATA_DIR"]) / row.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FondoError(f"weather file of station {row.id} is missing: {path} "
                         f"({exc.strerror})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != row.file_sha256:
        raise FondoError(f"weather file {row.file} of station {row.id} is corrupted: sha256 "
                         f"{actual}, catalogue expects {row.file_sha256}")
    return data


def weather_from_bytes(data: bytes, source: str) -> tuple[pd.DataFrame, Station]:
    """Parse an EPW file; a failed quality check is a 422 naming file, field and hour.

    Raises
    ------
    InvalidInput
        ``field`` is ``"weather_file"``; ``extra`` carries ``weather_field`` and ``hour``.
    """
    try:
        return parse_epw(data, source=source)
    except WeatherFileError as exc:
        raise InvalidInput(str(exc), field="weather_file",
                           extra={"weather_file": exc.source, "weather_field": exc.field,
                                  "hour": exc.hour}) from None
    except ValueError as exc:
        raise InvalidInput(f"{source}: {exc}", field="weather_file") from None


def load_weather(settings: Mapping[str, Any], row: WeatherStation,
                 read: WeatherReader | None = None) -> tuple[pd.DataFrame, Station]:
    """Parsed weather of a station, cached by the file's SHA-256 (default reader only)."""
    if read is not None:  # a caller-supplied file: parse it, never cache it
        frame, _parsed = weather_from_bytes(read(settings, row), row.file)
        return frame, station_from_row(row)
    with _LOCK:
        hit = _WEATHER_CACHE.get(row.file_sha256)
        if hit is not None:
            _WEATHER_CACHE.move_to_end(row.file_sha256)
    if hit is None:
        frame, _parsed = weather_from_bytes(read_station_file(settings, row), row.file)
        hit = (frame, station_from_row(row))
        with _LOCK:
            _WEATHER_CACHE[row.file_sha256] = hit
            while len(_WEATHER_CACHE) > WEATHER_CACHE_ENTRIES:
                _WEATHER_CACHE.popitem(last=False)
    frame, _station = hit
    return frame, station_from_row(row)


# ----------------------------------------------------------------------------- requests


def parse_request(technology: str, body: Any) -> PVRequest | WindRequest:
    """Validate a request of the contract; bad input is a 422 naming the field."""
    if technology not in REQUEST_CLASSES:
        raise InvalidInput(f"technology must be 'pv' or 'wind', got {technology!r}.",
                           field="technology")
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    try:
        return REQUEST_CLASSES[technology].from_dict(body)
    except YieldInputError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    except ValueError as exc:
        raise invalid_from(exc, "body") from None


@dataclass(frozen=True)
class PreparedStudy:
    """Everything a study needs, resolved and validated (no model run yet)."""

    technology: str
    request: PVRequest | WindRequest
    weather: pd.DataFrame
    station: Station
    distance_km: float
    elevation_difference_m: float | None
    corridor: str | None
    site_elevation_source: str
    wrf: windmod.WrfSiteMean | None


def prepare(settings: Mapping[str, Any], session: Session, technology: str, body: Any, *,
            read_weather: WeatherReader | None = None) -> PreparedStudy:
    """Validate a request and resolve corridor, elevation, station, weather and WRF.

    Parameters
    ----------
    settings : mapping
        Fondo settings (``DATA_DIR``).
    session : Session
    technology : str
        ``"pv"`` or ``"wind"``.
    body : dict
        The request (contract names).
    read_weather : callable, optional
        ``read(settings, row) -> bytes`` replacing the bundled file (tests hand a damaged
        file this way; such files are never cached).

    Raises
    ------
    InvalidInput
        Any bad field (outside Mexico, capacity ≤ 0, tilt, DC/AC, unknown turbine or
        station, hub height) or a weather file that fails its quality checks.
    """
    request = parse_request(technology, body)
    check_in_mexico(settings, request.lat, request.lon)
    source = "request"
    if request.site_elevation_m is None:
        dem = site_elevation_m(settings, request.lat, request.lon)
        if dem is not None:
            request = dataclasses.replace(request, site_elevation_m=round(dem, 1))
            source = "dem_corridor_1km"
        else:
            source = "station (no DEM value at the site)"
    corridor = site_corridor(session, request.lat, request.lon)
    rows = station_rows(session)
    if not rows:
        raise FondoError("the weather-station catalogue is empty: run `fondo seed`")
    stations = [station_from_row(r) for r in rows]
    if corridor is not None and not any(s.corridor == corridor for s in stations):
        corridor = None
    try:
        choice = choose_station(stations, request.lat, request.lon, corridor=corridor,
                                station_id=request.station_id,
                                site_elevation_m=request.site_elevation_m)
    except ValueError as exc:
        raise invalid_from(exc, "station_id") from None
    weather, station = load_weather(settings, rows[choice.index], read_weather)
    wrf = None
    if technology == "wind":
        wrf = windmod.wrf_mean_wind_speed(request.lat, request.lon, _wrf_domains(settings))
    return PreparedStudy(technology, request, weather, station, choice.distance_km,
                         choice.elevation_difference_m, corridor, source, wrf)


def evaluate(prepared: PreparedStudy) -> YieldResult:
    """Run the engine on a prepared study (a domain ValueError is a 422)."""
    p = prepared
    try:
        if p.technology == "pv":
            return run_pv_study(p.request, p.weather, p.station, p.distance_km,
                                elevation_difference_m=p.elevation_difference_m)
        return run_wind_study(p.request, p.weather, p.station, p.distance_km,
                              elevation_difference_m=p.elevation_difference_m, wrf=p.wrf)
    except YieldInputError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None
    except ValueError as exc:
        raise invalid_from(exc, "body") from None


def result_json(prepared: PreparedStudy, result: YieldResult, *, hourly: bool = False
                ) -> dict[str, Any]:
    """The response of the contract plus what the shell resolved (corridor, sources)."""
    out = result.to_dict(hourly=hourly)
    assumptions = out["assumptions"]
    assumptions["site_corridor"] = prepared.corridor
    assumptions["station_choice"] = ("requested station_id" if prepared.request.station_id
                                     else "nearest station in the site's corridor"
                                     if prepared.corridor else "nearest station")
    assumptions["site_elevation_source"] = prepared.site_elevation_source
    if prepared.technology == "wind":
        method = windmod.DEFAULT_DENSITY_CORRECTION_METHOD
        assumptions["density_correction_method"] = method
        assumptions["density_correction_source"] = {
            windmod.DENSITY_CORRECTION_WINDPOWERLIB:
                "windpowerlib power_curve_density_correction (Svenningsen 2010, exponent 1/3 "
                "to 7.5 m/s rising to 2/3 at 12.5 m/s)",
            windmod.DENSITY_CORRECTION_SAM:
                "NREL SAM Windpower (ssc lib_windwatts.cpp): curve speeds times "
                "(rho0/rho)^(1/3)",
        }[method]
        if prepared.wrf is not None and prepared.wrf.covered:
            assumptions["wrf_domain"] = prepared.wrf.domain
    out["request"] = request_to_dict(prepared.request)
    return out


def run_quick(settings: Mapping[str, Any], session: Session, technology: str, body: Any, *,
              hourly: bool = False, read_weather: WeatherReader | None = None
              ) -> dict[str, Any]:
    """``POST /api/v1/yield/<technology>``: validate, run, answer (nothing stored)."""
    prepared = prepare(settings, session, technology, body, read_weather=read_weather)
    return result_json(prepared, evaluate(prepared), hourly=hourly)


# ----------------------------------------------------------------------------- stored studies


def study_url(study_id: int) -> str:
    """Where a stored study is served."""
    return f"/api/v1/studies/{study_id}"


def _parse_study_body(session: Session, body: Any) -> tuple[str, dict, int | None]:
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    unknown = sorted(set(body) - set(STUDY_FIELDS))
    if unknown:
        raise InvalidInput(f"{unknown[0]}: is not a field of a study (give technology, "
                           "request and optionally site_id).", field=unknown[0])
    technology = body.get("technology")
    if not isinstance(technology, str) or technology not in REQUEST_CLASSES:
        raise InvalidInput(f"technology must be 'pv' or 'wind', got {technology!r}.",
                           field="technology")
    request = body.get("request")
    if not isinstance(request, dict):
        raise InvalidInput("request must be the JSON object of a PV or wind request.",
                           field="request")
    site_id = body.get("site_id")
    if site_id is not None:
        if isinstance(site_id, bool) or not isinstance(site_id, int):
            raise InvalidInput(f"site_id must be an integer, got {site_id!r}.", field="site_id")
        if session.get(Site, site_id) is None:
            raise InvalidInput(f"No site with id {site_id}.", field="site_id")
    return technology, request, site_id


def create_study(settings: Mapping[str, Any], session: Session, body: Any,
                 user_id: int | None = None, *, read_weather: WeatherReader | None = None
                 ) -> tuple[Any, YieldStudy]:
    """Validate a study fully, then add its row and its PENDING job (not committed).

    The stored request is the resolved one (station id, site elevation), so that the task
    computes the same study whenever it runs. Nothing is added when validation fails.

    Returns
    -------
    (Job, YieldStudy)
    """
    from fondo.jobs import create_job

    technology, raw, site_id = _parse_study_body(session, body)
    prepared = prepare(settings, session, technology, raw, read_weather=read_weather)
    resolved = request_to_dict(prepared.request) | {"station_id": prepared.station.station_id}
    study = YieldStudy(site_id=site_id, technology=Technology(technology), request=resolved,
                       status=JobState.PENDING, created_by_id=user_id, is_demo=False)
    session.add(study)
    session.flush()
    job = create_job(session, STUDY_JOB_KIND, {"study_id": study.id}, user_id=user_id)
    study.job_id = job.id
    session.flush()
    return job, study


def get_study(session: Session, study_id: int) -> YieldStudy:
    """A stored study or 404."""
    study = session.get(YieldStudy, study_id)
    if study is None:
        raise NotFound(f"No yield study with id {study_id}.")
    return study


def list_studies(session: Session) -> list[YieldStudy]:
    """Stored studies, newest first."""
    return list(session.scalars(select(YieldStudy).order_by(YieldStudy.id.desc())))


def count_studies(session: Session) -> int:
    """Number of stored studies."""
    return int(session.scalar(select(func.count()).select_from(YieldStudy)))


def study_json(study: YieldStudy, *, with_result: bool = True) -> dict[str, Any]:
    """``GET /api/v1/studies/<id>``: the stored study, its state and its result."""
    out = {
        "id": study.id,
        "technology": study.technology.value,
        "site_id": study.site_id,
        "status": study.status.value,
        "task_id": study.job_id,
        "request": study.request,
        "energy_p50_mwh": study.energy_p50_mwh,
        "energy_p90_mwh": study.energy_p90_mwh,
        "is_demo": study.is_demo,
        "created_by_id": study.created_by_id,
        "created_at": study.created_at.isoformat() if study.created_at else None,
        "links": {"self": study_url(study.id)}
        | ({f"export_{f}": f"{study_url(study.id)}/export.{f}" for f in EXPORT_FORMATS}
           if study.status is JobState.SUCCESS else {})
        | ({"task": f"/api/v1/tasks/{study.job_id}"} if study.job_id else {}),
    }
    if with_result:
        out["result"] = study.result
    return out


def hourly_path(settings: Mapping[str, Any], study: YieldStudy) -> Path:
    """Absolute path of a stored study's hourly CSV."""
    if not study.hourly_file:
        raise Conflict(f"Yield study {study.id} has no hourly series (status "
                       f"{study.status.value}).")
    return Path(settings["INSTANCE_PATH"]) / study.hourly_file


def hourly_csv_text(times: pd.DatetimeIndex, energy_kwh: np.ndarray) -> str:
    """The hourly CSV: interval start (ISO 8601 with offset) and AC energy. [kWh]"""
    frame = pd.DataFrame({HOURLY_TIME_COLUMN: [t.isoformat() for t in times],
                          HOURLY_ENERGY_COLUMN: np.asarray(energy_kwh, dtype=float)})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g", lineterminator="\n")
    return buffer.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_stored_study(settings: Mapping[str, Any], study_id: int,
                     progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Compute a stored study, write its hourly CSV atomically and store its result.

    Idempotent: a rerun recomputes the same numbers (the stored request is fully
    resolved) and overwrites the same file and row; a finished study is returned as is.
    """
    from fondo.db import session_scope

    report = progress or (lambda done, total, stage: None)
    total = 3
    with session_scope(settings) as session:
        study = get_study(session, study_id)
        if study.status is JobState.SUCCESS and study.result is not None:
            return study_json(study)
        study.status = JobState.STARTED
        technology, request = study.technology.value, dict(study.request)
    report(0, total, "loading weather")
    try:
        with session_scope(settings) as session:
            prepared = prepare(settings, session, technology, request)
        report(1, total, "simulating")
        result = evaluate(prepared)
        body = result_json(prepared, result)
        report(2, total, "writing hourly series")
        relative = f"{STUDIES_FOLDER}/{study_id}.csv"
        _write_atomic(Path(settings["INSTANCE_PATH"]) / relative,
                      hourly_csv_text(result.times, result.energy_hourly_kwh))
    except Exception:
        with session_scope(settings) as session:
            get_study(session, study_id).status = JobState.FAILURE
        raise
    with session_scope(settings) as session:
        study = get_study(session, study_id)
        study.result = body
        study.hourly_file = relative
        study.energy_p50_mwh = body["p50_kwh"] / 1000.0
        study.energy_p90_mwh = body["p90_kwh"] / 1000.0
        study.status = JobState.SUCCESS
        out = study_json(study)
    report(total, total, "done")
    return out


# ----------------------------------------------------------------------------- exports

#: Export formats of a stored study.
EXPORT_FORMATS = ("csv", "xlsx", "pdf", "json")
#: MIME type per export format.
EXPORT_MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}


def export_study(settings: Mapping[str, Any], study: YieldStudy, fmt: str) -> bytes:
    """One stored study as CSV (hourly), XLSX, PDF or JSON bytes.

    Raises
    ------
    InvalidInput
        Unknown format (field ``format``).
    Conflict
        The study has not finished.
    """
    from fondo.studies import exports as exports_yield

    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}.",
                           field="format")
    if study.status is not JobState.SUCCESS or study.result is None:
        raise Conflict(f"Yield study {study.id} is {study.status.value}; it has nothing to "
                       "export yet.")
    path = hourly_path(settings, study)
    try:
        csv_text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FondoError(f"hourly series of study {study.id} is unreadable: {path} "
                         f"({exc.strerror})") from None
    if fmt == "csv":
        return csv_text.encode("utf-8")
    hourly = pd.read_csv(io.StringIO(csv_text))
    record = study_json(study)
    if fmt == "json":
        return exports_yield.study_json_bytes(record, hourly)
    if fmt == "xlsx":
        return exports_yield.study_xlsx(record, hourly)
    return exports_yield.study_pdf(record)
