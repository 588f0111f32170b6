"""Long-running work: job rows that record a Celery task's state, progress and result.

A job row is created (state PENDING) in the same transaction as the request that launches
it; the task then reports ``done``/``total``/``stage`` as it goes and, when it finishes,
the result's location. Tasks are idempotent: a task delivered twice (a retry, or a worker
killed mid-task and the message re-queued) finds its job finished and returns the stored
result instead of producing a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from celery import Task
from sqlalchemy.orm import Session

from fondo.db import session_scope
from fondo.orm import Job, JobState, utcnow

__all__ = ["FondoTask", "Job", "JobState", "create_job", "job_status", "launch"]


def create_job(
    session: Session, kind: str, params: Mapping[str, Any] | None = None, user_id: int | None = None
) -> Job:
    """Add a PENDING job row (not yet committed) and return it."""
    job = Job(
        id=str(uuid.uuid4()),
        kind=kind,
        state=JobState.PENDING,
        params=dict(params or {}),
        created_by_id=user_id,
        done=0,
    )
    session.add(job)
    session.flush()
    return job


def job_status(job: Job) -> dict[str, Any]:
    """The JSON shape of ``GET /api/v1/tasks/<id>``."""
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "progress": {"done": job.done, "total": job.total, "stage": job.stage},
        "result_url": job.result_url,
        "error": job.error,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "updated_at": job.updated_at.isoformat() if job.updated_at else None,
    }


def _update(settings: Mapping[str, Any], job_id: str, **fields: Any) -> None:
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        for key, value in fields.items():
            setattr(job, key, value)
        job.updated_at = utcnow()


class FondoTask(Task):
    """Base class of Fondo's tasks: job bookkeeping, progress and idempotence.

    A task function receives ``(self, job_id, params)``; it calls ``self.progress(...)``
    and returns ``(result_json, result_url)``.
    """

    abstract = True

    @property
    def settings(self) -> dict[str, Any]:
        """Fondo settings the Celery app was built with."""
        return self.app.conf["fondo_settings"]

    def progress(self, job_id: str, done: int, total: int | None, stage: str) -> None:
        """Record progress in the job row (and in Celery's own state)."""
        _update(self.settings, job_id, state=JobState.PROGRESS, done=done, total=total, stage=stage)
        if self.request.id and not self.request.called_directly:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total, "stage": stage})

    def __call__(self, job_id: str, params: Mapping[str, Any] | None = None) -> Any:
        with session_scope(self.settings) as session:
            job = session.get(Job, job_id)
            if job is None:
                raise LookupError(f"job {job_id} does not exist")
            if job.state is JobState.SUCCESS:  # re-delivered after it finished: no second result
                return job.result
            job.state = JobState.STARTED
            job.error = None
            job.updated_at = utcnow()
        try:
            result, result_url = self.run(job_id, dict(params or {}))
        except Exception as exc:
            _update(self.settings, job_id, state=JobState.FAILURE, error=f"{type(exc).__name__}: {exc}")
            raise
        with session_scope(self.settings) as session:
            job = session.get(Job, job_id)
            job.state = JobState.SUCCESS
            job.result = result
            job.result_url = result_url
            job.stage = "done"
            if job.total is not None:
                job.done = job.total
            job.updated_at = utcnow()
        return result


def launch(celery_app: Any, task_name: str, job: Job, params: Mapping[str, Any]) -> None:
    """Send a job's task to the broker (in eager mode, run it here and now)."""
    args = [job.id, dict(params)]
    if celery_app.conf.task_always_eager:
        celery_app.tasks[task_name].apply_async(args=args, task_id=job.id)
    else:
        celery_app.send_task(task_name, args=args, task_id=job.id)


ProgressCallback = Callable[[int, int | None, str], None]
