"""Energy-yield studies (issue 3): the shell around :mod:`siting.yield_study`.

What only the shell knows is resolved by the feature's modules by concept — the station
catalogue and its weather files (:mod:`fondo.studies.catalogue`), where the site is
(:mod:`fondo.studies.site`), one run from request to answer (:mod:`fondo.studies.runs`), the
stored hourly series (:mod:`fondo.studies.hourly`) and the exports
(:mod:`fondo.studies.exports`) — and the pure engine is called with plain values. This
module holds the stored studies and is the feature's face: the API, the command line and
other features (through the import-linter contract) import from here only.

Requests arrive loaded by their schema (:mod:`fondo.studies.schemas`, the same for the REST
endpoint and the command line); the engine's own validation then checks the domain rules.

* :func:`run_quick` — ``POST /api/v1/yield/{pv,wind}`` and ``fondo yield pv|wind``: validate,
  choose the station, run, answer; nothing is stored;
* :func:`create_study` then :func:`run_stored_study` (the Celery task
  :data:`STUDY_TASK`) — ``POST /api/v1/studies``: everything that can fail on the caller's
  input is checked before the row is stored; the task then only computes and writes the
  hourly series (``INSTANCE_PATH/studies/<id>.csv``, written atomically) and the result.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fondo.db import session_scope
from fondo.errors import Conflict, FondoError, InvalidInput, NotFound
from fondo.fund.service import Site
from fondo.heartbeat import JobLost
from fondo.jobs import JobState, create_job
from fondo.orm import Technology
from fondo.studies import exports
from fondo.studies.catalogue import (WeatherReader, clear_weather_cache, load_weather,
                                     station_from_row, station_rows, stations_json,
                                     turbines_json, weather_from_bytes)
from fondo.studies.exports import EXPORT_FORMATS, EXPORT_MIME
from fondo.studies.hourly import (HOURLY_ENERGY_COLUMN, HOURLY_TIME_COLUMN, hourly_csv_text,
                                  hourly_path, hourly_relative_path, write_atomic)
from fondo.studies.models import YieldStudy  # other features' way in
from fondo.studies.runs import evaluate, long_term_resource, prepare, result_json, run_quick
from fondo.studies.site import clear_site_cache
from siting.yield_study import request_to_dict

__all__ = [
    "EXPORT_FORMATS", "EXPORT_MIME", "HOURLY_ENERGY_COLUMN", "HOURLY_TIME_COLUMN",
    "STUDY_JOB_KIND", "STUDY_TASK", "WeatherReader", "YieldStudy", "clear_caches",
    "count_studies", "create_study", "export_study", "get_study", "hourly_path",
    "list_studies", "load_weather", "long_term_resource", "prepare", "run_quick", "run_stored_study",
    "station_from_row", "station_rows", "stations_json", "study_json", "study_url",
    "turbines_json", "weather_from_bytes",
]

#: Celery task name of a stored study.
STUDY_TASK = "fondo.yield.study"
#: Job kind of a stored study.
STUDY_JOB_KIND = "yield_study"


def clear_caches() -> None:
    """Forget parsed weather files and the cached layers (tests, data refresh)."""
    clear_weather_cache()
    clear_site_cache()


def study_url(study_id: int) -> str:
    """Where a stored study is served."""
    return f"/api/v1/studies/{study_id}"


def create_study(settings: Mapping[str, Any], session: Session, body: Mapping[str, Any],
                 user_id: int | None = None, *, read_weather: WeatherReader | None = None
                 ) -> tuple[Any, YieldStudy]:
    """Validate a study fully, then add its row and its PENDING job (not committed).

    ``body`` is ``POST /api/v1/studies`` as :class:`~fondo.studies.schemas.StudyRequestSchema`
    loaded it (``technology``, ``request``, optional ``site_id``). The stored request is the
    resolved one (station id, site elevation), so that the task computes the same study
    whenever it runs. Nothing is added when validation fails.

    Returns
    -------
    (Job, YieldStudy)
    """
    technology, site_id = body["technology"], body.get("site_id")
    if site_id is not None and session.get(Site, site_id) is None:
        raise InvalidInput(f"No site with id {site_id}.", field="site_id")
    prepared = prepare(settings, session, technology, body["request"],
                       read_weather=read_weather)
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
    links = {"self": study_url(study.id)}
    if study.status is JobState.SUCCESS:
        links |= {f"export_{f}": f"{study_url(study.id)}/export.{f}" for f in EXPORT_FORMATS}
    if study.job_id:
        links["task"] = f"/api/v1/tasks/{study.job_id}"
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
        "links": links,
    }
    if with_result:
        out["result"] = study.result
    return out


def run_stored_study(settings: Mapping[str, Any], study_id: int,
                     progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Compute a stored study, write its hourly CSV atomically and store its result.

    Idempotent: a rerun recomputes the same numbers (the stored request is fully
    resolved) and overwrites the same file and row; a finished study is returned as is.
    A failure at any step (a result that is not finite included) leaves the study FAILURE
    and no hourly file; a delivery that lost its job to another (:class:`JobLost`, raised
    by ``progress``) leaves both to the delivery that holds it.
    """
    report = progress or (lambda done, total, stage: None)
    total = 3
    with session_scope(settings) as session:
        study = get_study(session, study_id)
        if study.status is JobState.SUCCESS and study.result is not None:
            return study_json(study)
        study.status = JobState.STARTED
        technology, request = study.technology.value, dict(study.request)
    report(0, total, "loading weather")
    relative = hourly_relative_path(study_id)
    path = Path(settings["INSTANCE_PATH"]) / relative
    try:
        with session_scope(settings) as session:
            prepared = prepare(settings, session, technology, request)
        report(1, total, "simulating")
        result = evaluate(prepared)
        body = result_json(prepared, result)
        report(2, total, "writing hourly series")
        write_atomic(path, hourly_csv_text(result.times, result.energy_hourly_kwh))
        with session_scope(settings) as session:
            study = get_study(session, study_id)
            study.result = body
            study.hourly_file = relative
            study.energy_p50_mwh = body["p50_kwh"] / 1000.0
            study.energy_p90_mwh = body["p90_kwh"] / 1000.0
            study.status = JobState.SUCCESS
            out = study_json(study)
    except JobLost:
        raise
    except Exception:
        path.unlink(missing_ok=True)
        with session_scope(settings) as session:
            get_study(session, study_id).status = JobState.FAILURE
        raise
    report(total, total, "done")
    return out


def export_study(settings: Mapping[str, Any], study: YieldStudy, fmt: str) -> bytes:
    """One stored study as CSV (hourly), XLSX, PDF or JSON bytes.

    Raises
    ------
    InvalidInput
        Unknown format (field ``format``).
    Conflict
        The study has not finished.
    """
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
        return exports.study_json_bytes(record, hourly)
    if fmt == "xlsx":
        return exports.study_xlsx(record, hourly)
    return exports.study_pdf(record, settings)
