"""Celery tasks of a screening: one task per tile, then one that joins and stores them.

``fondo.screening.run`` receives the job id and ``{"screening_id", "tiles"}``. With a real
broker (Redis, AMQP) it sends a chord: a group of ``fondo.screening.tile`` tasks — any
worker takes any tile, and each tile is retried on its own — whose callback
``fondo.screening.store`` joins the tile files into the run's ``cells.gpkg``. In the
embedded mode (filesystem broker) and when tasks run eagerly, the same tiles run one after
the other inside the ``run`` task, through the same functions and files.

Idempotent: a tile whose file exists is not recomputed, files are written to a temporary
name and moved into place, and storing a run that has succeeded does nothing. A tile that
keeps failing after its retries, or a failing store, marks the job and the run FAILURE.
Progress (tiles done / tiles) is kept on the job row (``GET /api/v1/tasks/<id>``).

Liveness (:mod:`fondo.heartbeat`): the ``run`` task claims the job; while tiles are screened
the job's heartbeat is stamped (by the in-process loop, or by each tile task of a chord), and
the ids of a chord's tile tasks are kept on the job so that the reaper tells tiles waiting in
the queue from a dead worker's. A run sent again after its worker died (or retried after a
failure) keeps the tile files already written and screens only the missing ones.
"""

from __future__ import annotations

from typing import Any

from celery import chord, group, shared_task

from fondo.config import is_embedded
from fondo.db import session_scope
from fondo.errors import FondoError
from fondo.heartbeat import Claim, JobLost, beating, new_holder
from fondo.jobs import Job, JobState
from fondo.screening import runs, tiles
from fondo.screening.runs import SCREENING_TASK, STORE_TASK, TILE_TASK
from fondo.screening.storage import tile_path

#: Retries of one tile after an unexpected error (a lost database connection, a full disk).
TILE_MAX_RETRIES = 3
#: Seconds before a tile's retry.
TILE_RETRY_DELAY_S = 5


def _settings(task: Any) -> dict[str, Any]:
    return task.app.conf["fondo_settings"]


def _runs_in_process(task: Any) -> bool:
    """Eager tasks and the embedded (filesystem) broker screen the tiles here and now."""
    return bool(task.app.conf.task_always_eager or task.request.is_eager
                or is_embedded(_settings(task)))


@shared_task(bind=True, name=SCREENING_TASK)
def run_screening(self: Any, job_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Screen every tile of ``params["screening_id"]`` (chord, or in-process) and store the run."""
    settings = _settings(self)
    screening_id, tile_list = int(params["screening_id"]), list(params["tiles"])
    holder = new_holder()
    found = runs.mark_started(settings, job_id, screening_id, holder)
    if found is Claim.DONE:  # re-delivered after success
        return {"screening_id": screening_id, "already_stored": True}
    if found is Claim.BUSY:
        raise JobLost(f"job {job_id} is held by a live delivery; this copy is dropped")
    if not _runs_in_process(self):
        missing = [t for t in tile_list if not tile_path(settings, screening_id, t).exists()]
        if not missing:  # every tile was screened before the worker died: join them
            store_screening.delay(job_id, screening_id)
            return {"screening_id": screening_id, "tiles_sent": 0}
        header = group(screen_tile.si(job_id, screening_id, tile) for tile in missing)
        result = chord(header)(store_screening.si(job_id, screening_id))
        runs.record_tile_tasks(settings, job_id, [r.id for r in result.parent.results])
        return {"screening_id": screening_id, "tiles_sent": len(missing)}
    with beating(settings, job_id, holder) as heartbeat:
        try:
            for tile in tile_list:
                if heartbeat.has_lost(job_id, holder):
                    raise JobLost(f"job {job_id} was taken over by another delivery")
                tiles.screen_tile(settings, screening_id, tile)
                tiles.tile_progress(settings, job_id, screening_id, holder)
            return tiles.store_screening(settings, job_id, screening_id)
        except JobLost:
            raise
        except BaseException as exc:
            runs.mark_failed(settings, job_id, screening_id, exc)
            raise


def _job_succeeded(settings: dict[str, Any], job_id: str) -> bool:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        return job is not None and job.state is JobState.SUCCESS


@shared_task(bind=True, name=TILE_TASK, max_retries=TILE_MAX_RETRIES)
def screen_tile(self: Any, job_id: str, screening_id: int, tile: dict[str, Any]) -> str:
    """Screen one tile into its file (skipped when the file exists) and count progress."""
    settings = _settings(self)
    path = tile_path(settings, screening_id, tile)
    if _job_succeeded(settings, job_id):  # a late copy (redelivered by the broker): no work
        return path.name
    try:
        with beating(settings, job_id):
            path = tiles.screen_tile(settings, screening_id, tile)
    except (FondoError, runs.ScreeningLayersChanged, ValueError) as exc:  # retrying cannot help
        runs.mark_failed(settings, job_id, screening_id, exc)
        raise
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            runs.mark_failed(settings, job_id, screening_id, exc)
            raise
        raise self.retry(exc=exc, countdown=TILE_RETRY_DELAY_S) from None
    tiles.tile_progress(settings, job_id, screening_id)
    return path.name


@shared_task(bind=True, name=STORE_TASK, max_retries=TILE_MAX_RETRIES)
def store_screening(self: Any, job_id: str, screening_id: int) -> dict[str, Any]:
    """Join the tiles of a run into its cells file and finish the run and job rows."""
    settings = _settings(self)
    try:
        with beating(settings, job_id):
            return tiles.store_screening(settings, job_id, screening_id)
    except Exception as exc:
        if self.request.retries >= self.max_retries or isinstance(exc, ValueError):
            runs.mark_failed(settings, job_id, screening_id, exc)
            raise
        raise self.retry(exc=exc, countdown=TILE_RETRY_DELAY_S) from None
