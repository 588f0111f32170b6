"""Screening runs: their rows, their state, and their JSON.

A run is one :class:`~fondo.screening.models.ScreeningRun` row and one job row
(:mod:`fondo.jobs`, kind ``"screening"``) whose ``params`` are what the Celery task receives:
the run's id and its tiles. The run stores the loaded request, so a worker rebuilds exactly
the area and parameters that were checked when the run was created — on the same layers, or
it refuses (:class:`ScreeningLayersChanged`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.db import session_scope
from fondo.errors import NotFound
from fondo.heartbeat import Claim, claim
from fondo.jobs import SUBTASK_IDS_KEY, Job, JobState, create_job, job_status
from fondo.orm import Technology, utcnow
from fondo.request_body import load_request
from fondo.screening.bundle import ScreeningBundle, screening_bundle
from fondo.screening.exports import CELL_FORMATS, CURVE_FORMATS
from fondo.screening.models import ScreeningRun
from fondo.screening.request import (
    ScreeningRequest,
    jsonable,
    parameters_json,
    plan_tiles,
    resolve_request,
)
from fondo.screening.schemas import ScreeningRequestSchema

__all__ = [
    "JOB_KIND",
    "SCREENING_TASK",
    "STORE_TASK",
    "TILE_TASK",
    "ScreeningLayersChanged",
    "create_screening",
    "get_screening",
    "layers_digest",
    "links",
    "list_screenings",
    "load_run_row",
    "mark_failed",
    "mark_started",
    "record_tile_tasks",
    "run_inputs",
    "screening_json",
]

#: Celery task names (see :mod:`fondo.screening.tasks`).
SCREENING_TASK = "fondo.screening.run"
TILE_TASK = "fondo.screening.tile"
STORE_TASK = "fondo.screening.store"
#: Job kind of a screening.
JOB_KIND = "screening"


class ScreeningLayersChanged(RuntimeError):
    """The layers a worker loaded differ from those the screening was requested on."""


def layers_digest(bundle: ScreeningBundle) -> str:
    """Short digest of the data a bundle was built from (bundled checksums + imports)."""
    return hashlib.sha256(repr(bundle.key[1:]).encode()).hexdigest()[:16]


def create_screening(session: Session, settings: Mapping[str, Any], request: Mapping[str, Any],
                     user_id: int | None = None) -> tuple[ScreeningRun, Job]:
    """Check a loaded request and add its run and job rows (flushed, not committed).

    Parameters
    ----------
    session : Session
    settings : mapping
        Fondo settings.
    request : dict
        As loaded by :class:`~fondo.screening.schemas.ScreeningRequestSchema`.
    user_id : int, optional
        Who asked.

    Returns
    -------
    (ScreeningRun, Job)
        The job's ``params`` are what the task receives (screening id and tiles).

    Raises
    ------
    InvalidInput
        The area, parameters or lattice are refused; nothing was added to the session.
    """
    bundle = screening_bundle(settings)
    resolved = resolve_request(request, bundle, settings)
    tiles, cell_count = plan_tiles(resolved)
    run = ScreeningRun(
        corridor_id=resolved.corridor_id,
        geometry=None if resolved.corridor_id else resolved.area_4326,
        technology=Technology(resolved.technology),
        resolution_km=resolved.resolution_km,
        params={
            "request": dict(request),
            "parameters": parameters_json(resolved.params),
            "notes": list(resolved.notes),
            "area_km2": resolved.area_km2,
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


def load_run_row(session: Session, screening_id: int) -> ScreeningRun:
    """A stored run, or :class:`NotFound`."""
    run = session.get(ScreeningRun, screening_id)
    if run is None:
        raise NotFound(f"screening {screening_id} does not exist")
    return run


def run_inputs(settings: Mapping[str, Any],
               screening_id: int) -> tuple[ScreeningRequest, ScreeningBundle]:
    """(request, bundle) of a stored run, rebuilt exactly as when it was requested.

    Raises
    ------
    ScreeningLayersChanged
        A dataset or imported layer changed since the run was requested.
    """
    with session_scope(settings) as session:
        stored = dict(load_run_row(session, screening_id).params)
    bundle = screening_bundle(settings)
    if layers_digest(bundle) != stored["layers_digest"]:
        raise ScreeningLayersChanged(
            f"screening {screening_id} was requested on layers {stored['layers_digest']} but this "
            f"process has {layers_digest(bundle)} (a dataset or imported layer changed); "
            "request the screening again")
    request = load_request(ScreeningRequestSchema(), stored["request"])
    return resolve_request(request, bundle, settings), bundle


def mark_started(settings: Mapping[str, Any], job_id: str, screening_id: int,
                 holder: str) -> Claim:
    """Claim a run's job for delivery ``holder`` (:func:`fondo.heartbeat.claim`) and mark
    the run started when it was taken.

    Returns
    -------
    Claim
        TAKEN; DONE when the run has succeeded (a re-delivered task); BUSY when a live
        delivery holds it.

    Raises
    ------
    LookupError
        The job does not exist.
    """
    found = claim(settings, job_id, holder, stage="screening tiles")
    if found is Claim.MISSING:
        raise LookupError(f"job {job_id} does not exist")
    if found is Claim.TAKEN:
        with session_scope(settings) as session:
            load_run_row(session, screening_id).status = JobState.STARTED
    return found


def record_tile_tasks(settings: Mapping[str, Any], job_id: str, task_ids: list[str]) -> None:
    """Keep the Celery ids of a run's tile tasks on its job: while one of them waits in the
    queue, the reaper (:func:`fondo.jobs.reap_job`) knows the job is not orphaned."""
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        job.params = {**dict(job.params or {}), SUBTASK_IDS_KEY: list(task_ids)}


def mark_failed(settings: Mapping[str, Any], job_id: str, screening_id: int,
                exc: BaseException) -> None:
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


# --------------------------------------------------------------------------- reading


def links(screening_id: int) -> dict[str, str]:
    """URLs of a run and of its exports."""
    base = f"/api/v1/screenings/{screening_id}"
    out = {"self": base}
    out |= {f"cells.{fmt}": f"{base}/cells.{fmt}" for fmt in CELL_FORMATS}
    out |= {f"supply-curve.{fmt}": f"{base}/supply-curve.{fmt}" for fmt in CURVE_FORMATS}
    return out


def get_screening(session: Session, screening_id: int) -> ScreeningRun:
    """A stored run, or :class:`NotFound`."""
    return load_run_row(session, screening_id)


def list_screenings(session: Session, limit: int = 100) -> list[ScreeningRun]:
    """Stored runs, newest first."""
    query = select(ScreeningRun).order_by(ScreeningRun.id.desc()).limit(limit)
    return list(session.scalars(query))


def screening_json(session: Session, run: ScreeningRun) -> dict[str, Any]:
    """The JSON of ``GET /api/v1/screenings/<id>`` (and of ``fondo screen``)."""
    job = session.get(Job, run.job_id) if run.job_id else None
    params = dict(run.params or {})
    return jsonable({
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
        "links": links(run.id) | ({"task": f"/api/v1/tasks/{run.job_id}"} if run.job_id else {}),
    })
