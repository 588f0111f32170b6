"""Long-running work: job rows that record a Celery task's state, progress and result.

A job row is stored (state PENDING) by the request that launches it, and its task is sent
only if the broker takes it: :func:`submit` commits the rows and sends the task, and when the
broker is unreachable it stores nothing and raises :class:`~fondo.errors.QueueUnavailable`
(503). The task then reports ``done``/``total``/``stage`` as it goes and, when it finishes,
the result's location.

Tasks are idempotent: a task delivered twice finds its job finished and returns the stored
result instead of producing a second one. A job whose worker died is not left running
forever: the worker holding a job stamps its heartbeat (:mod:`fondo.heartbeat`), and
:func:`reap_stale_jobs` (run by every worker, and by ``GET /api/v1/tasks/<id>`` for the job
asked about) sends a job whose heartbeat is stale to the queue again, up to
``JOB_MAX_ATTEMPTS`` deliveries, then marks it FAILURE with the reason. A failed job can be
sent again with :func:`retry_job` (``POST /api/v1/tasks/<id>/retry``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from celery import Task
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from fondo.celery_app import PUBLISH_RETRY_POLICY, queue_problem
from fondo.db import session_scope
from fondo.errors import Conflict, QueueUnavailable
from fondo.heartbeat import (
    ACTIVE_STATES,
    Claim,
    JobLost,
    beating,
    claim,
    heartbeat_for,
    new_holder,
    stale_cutoff,
    stamp,
)
from fondo.orm import Base, Job, JobState, utcnow

__all__ = [
    "FondoTask",
    "Job",
    "JobState",
    "create_job",
    "job_status",
    "launch",
    "reap_if_stale",
    "reap_job",
    "reap_stale_jobs",
    "retry_job",
    "submit",
]

log = logging.getLogger(__name__)

#: What a caller told that the task queue is unavailable (503) is asked to wait. [s]
QUEUE_RETRY_AFTER_S = 10
#: Tables of the records a job computes, each with ``job_id`` and a ``status`` that mirrors
#: the job's state: a job failed by the reaper fails its record, a retried one requeues it,
#: and a job whose task could not be sent is deleted with its record.
JOB_RECORD_TABLES = ("screening_runs", "yield_studies", "finance_montecarlo_runs")
#: Key of ``Job.params`` listing the Celery ids of the tasks a job was split into (a
#: screening's tiles): while any of them waits in the queue the job is not orphaned.
SUBTASK_IDS_KEY = "subtask_ids"


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
        attempts=0,
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


class FondoTask(Task):
    """Base class of Fondo's tasks: job bookkeeping, progress, heartbeat and idempotence.

    A task function receives ``(self, job_id, params)``; it calls ``self.progress(...)``
    and returns ``(result_json, result_url)``. A delivery first claims its job
    (:func:`fondo.heartbeat.claim`): a finished job returns its stored result, a job held by
    a live delivery drops this copy; while it runs the job's heartbeat is stamped.
    """

    abstract = True

    @property
    def settings(self) -> dict[str, Any]:
        """Fondo settings the Celery app was built with."""
        return self.app.conf["fondo_settings"]

    def progress(self, job_id: str, done: int, total: int | None, stage: str) -> None:
        """Record progress in the job row (and in Celery's own state).

        Raises
        ------
        JobLost
            Another delivery has taken the job over (this one was thought dead).
        """
        heartbeat = heartbeat_for(self.settings)
        holder = heartbeat.holder_of(job_id)
        if (holder is not None and heartbeat.has_lost(job_id, holder)) or not stamp(
                self.settings, job_id, holder, state=JobState.PROGRESS, done=done, total=total,
                stage=stage):
            raise JobLost(f"job {job_id} was taken over by another delivery")
        if self.request.id and not self.request.called_directly:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total, "stage": stage})

    def __call__(self, job_id: str, params: Mapping[str, Any] | None = None) -> Any:
        settings, holder = self.settings, new_holder()
        found = claim(settings, job_id, holder)
        if found is Claim.MISSING:
            raise LookupError(f"job {job_id} does not exist")
        if found is Claim.DONE:  # re-delivered after it finished: no second result
            with session_scope(settings) as session:
                return session.get(Job, job_id).result
        if found is Claim.BUSY:
            raise JobLost(f"job {job_id} is held by a live delivery; this copy is dropped")
        with beating(settings, job_id, holder):
            try:
                result, result_url = self.run(job_id, dict(params or {}))
            except JobLost:
                raise
            except Exception as exc:
                stamp(settings, job_id, holder, state=JobState.FAILURE,
                      error=f"{type(exc).__name__}: {exc}")
                raise
            if not stamp(settings, job_id, holder, state=JobState.SUCCESS, result=result,
                         result_url=result_url, stage="done",
                         done=func.coalesce(Job.total, Job.done)):
                raise JobLost(f"job {job_id} was taken over before it could store its result")
        return result


# --------------------------------------------------------------------------- sending


def _send(celery_app: Any, task_name: str, job_id: str, params: Mapping[str, Any]) -> None:
    """Send one delivery of a job's task (eager: run it here and now)."""
    args = [job_id, dict(params or {})]
    if celery_app.conf.task_always_eager:
        celery_app.tasks[task_name].apply_async(args=args, task_id=job_id)
        return
    try:
        celery_app.send_task(task_name, args=args, task_id=job_id, retry=True,
                             retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as exc:  # kombu and redis-py raise many kinds
        raise _unavailable(f"the task could not be sent: {type(exc).__name__}: {exc}") from exc


def _unavailable(reason: str) -> QueueUnavailable:
    return QueueUnavailable(f"{reason}; nothing was stored, try again shortly",
                            retry_after_s=QUEUE_RETRY_AFTER_S)


def _check_queue(celery_app: Any) -> None:
    problem = queue_problem(celery_app)
    if problem is not None:
        raise _unavailable(problem)


def _discard(settings: Mapping[str, Any], job_id: str) -> None:
    """Delete a job whose task was never sent, and the records it was to compute."""
    with session_scope(settings) as session:
        for name in JOB_RECORD_TABLES:
            table = Base.metadata.tables[name]
            session.execute(delete(table).where(table.c.job_id == job_id))
        session.execute(delete(Job).where(Job.id == job_id))


def submit(session: Session, celery_app: Any, task_name: str, job: Job) -> None:
    """Commit the session that added ``job`` (and its record), then send its task: both or
    neither.

    The broker (and a Redis result store) is checked first, each within 1 s; when it cannot
    be reached the session is rolled back. When the task cannot be sent after the commit,
    the job and its record (:data:`JOB_RECORD_TABLES`) are deleted again. Either way
    :class:`~fondo.errors.QueueUnavailable` is raised and nothing stays stored. The task
    receives ``job.params``.

    Raises
    ------
    QueueUnavailable
        The broker or the result store is unreachable (503 with ``Retry-After``).
    """
    settings = celery_app.conf["fondo_settings"]
    try:
        _check_queue(celery_app)
    except QueueUnavailable:
        session.rollback()
        raise
    job.task_name, job.attempts = task_name, 1
    job_id, params = job.id, dict(job.params or {})
    session.commit()  # before sending: a worker must find the rows it is sent
    try:
        _send(celery_app, task_name, job_id, params)
    except QueueUnavailable:
        _discard(settings, job_id)
        raise


def launch(celery_app: Any, task_name: str, job: Job, params: Mapping[str, Any] | None = None
           ) -> None:
    """Send the task of a committed ``job`` (in eager mode, run it here and now).

    Used where the rows were committed earlier (the command line): when the task cannot be
    sent, the job and its record are deleted and :class:`~fondo.errors.QueueUnavailable`
    is raised.
    """
    settings = celery_app.conf["fondo_settings"]
    job_id = job.id
    params = dict(job.params or {}) if params is None else dict(params)
    try:
        _check_queue(celery_app)
        with session_scope(settings) as session:
            session.execute(update(Job).where(Job.id == job_id)
                            .values(task_name=task_name, attempts=1))
        _send(celery_app, task_name, job_id, params)
    except QueueUnavailable:
        _discard(settings, job_id)
        raise


def _send_updated(session: Session, celery_app: Any, job_id: str, task_name: str,
                  params: Mapping[str, Any]) -> None:
    """Send a delivery of a job the session has just updated, and commit.

    The update is flushed before sending, so a worker that receives the task at once waits
    for this transaction's row lock and then sees the job as updated; a failed send rolls
    the update back. In eager mode the update is committed first (the task runs here).
    """
    if celery_app.conf.task_always_eager:
        session.commit()
        _send(celery_app, task_name, job_id, params)
        return
    session.flush()
    try:
        _send(celery_app, task_name, job_id, params)
    except QueueUnavailable:
        session.rollback()
        raise
    session.commit()


def _set_record_status(session: Session, job_id: str, status: JobState,
                       unless: JobState) -> None:
    for name in JOB_RECORD_TABLES:
        table = Base.metadata.tables[name]
        session.execute(update(table).where(table.c.job_id == job_id, table.c.status != unless)
                        .values(status=status))


# --------------------------------------------------------------------------- liveness


def _subtasks_waiting(settings: Mapping[str, Any], celery_app: Any, job: Job,
                      now: datetime) -> bool:
    """True when a task the job was split into still waits in the queue (never started).

    Trusted only within ``TASK_MAX_RUNTIME_S`` (Redis's visibility timeout) of the job's
    last heartbeat: a task that a dead worker had taken but not yet started also reads as
    never started, and by then Redis has handed any such task back to the queue.
    """
    ids = (job.params or {}).get(SUBTASK_IDS_KEY) or []
    if not ids or celery_app.conf.task_always_eager or job.heartbeat_at is None:
        return False
    if job.heartbeat_at < now - timedelta(seconds=int(settings["TASK_MAX_RUNTIME_S"])):
        return False
    return any(celery_app.AsyncResult(task_id).state == "PENDING" for task_id in ids)


def reap_job(settings: Mapping[str, Any], celery_app: Any, job_id: str) -> str | None:
    """Re-queue, or fail, job ``job_id`` if its worker stopped stamping it.

    A job STARTED or in PROGRESS whose heartbeat is older than ``JOB_STALE_AFTER_S`` (and
    none of whose subtasks still waits in the queue) is sent to the queue again while it has
    had fewer than ``JOB_MAX_ATTEMPTS`` deliveries, else marked FAILURE with the reason (its
    record too). One conditional update decides, so two reapers never both act.

    Returns
    -------
    str or None
        ``"requeued"``, ``"failed"``, or None when the job is alive, finished or unknown.

    Raises
    ------
    QueueUnavailable
        Re-queuing failed (nothing changed; the next sweep tries again).
    """
    now = utcnow()
    cutoff = stale_cutoff(settings, now)
    max_attempts = int(settings["JOB_MAX_ATTEMPTS"])
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if job is None or job.state not in ACTIVE_STATES or (
                job.heartbeat_at is not None and job.heartbeat_at >= cutoff):
            return None
        if _subtasks_waiting(settings, celery_app, job, now):  # queued, not orphaned
            return None
        attempts, task_name, params = job.attempts or 1, job.task_name, dict(job.params or {})
        last = job.heartbeat_at.isoformat(timespec="seconds") if job.heartbeat_at else "never"
        requeue = task_name is not None and attempts < max_attempts
        if requeue:
            values = {"state": JobState.PENDING, "held_by": None, "attempts": attempts + 1,
                      "stage": f"re-queued: its worker stopped (last heartbeat {last}); "
                               f"attempt {attempts + 1} of {max_attempts}"}
        else:
            values = {"state": JobState.FAILURE, "held_by": None,
                      "error": f"WorkerLost: the worker running this task stopped (last "
                               f"heartbeat {last}) after {attempts} attempt(s); send it again "
                               f"with POST /api/v1/tasks/{job_id}/retry"}
        changed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state.in_(ACTIVE_STATES), Job.attempts == job.attempts,
                   or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff))
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            return None
        if not requeue:
            _set_record_status(session, job_id, JobState.FAILURE, unless=JobState.SUCCESS)
            log.warning("job %s failed: its worker stopped (last heartbeat %s) after %d "
                        "attempt(s)", job_id, last, attempts)
            return "failed"
        log.warning("job %s re-queued (attempt %d of %d): its worker stopped (last heartbeat "
                    "%s)", job_id, attempts + 1, max_attempts, last)
        session.expunge_all()
        _send_updated(session, celery_app, job_id, task_name, params)
    return "requeued"


def reap_stale_jobs(settings: Mapping[str, Any], celery_app: Any) -> dict[str, str]:
    """Sweep every stale job (:func:`reap_job`); return ``{job id: what was done}``."""
    with session_scope(settings) as session:
        stale = list(session.scalars(
            select(Job.id).where(Job.state.in_(ACTIVE_STATES),
                                 or_(Job.heartbeat_at.is_(None),
                                     Job.heartbeat_at < stale_cutoff(settings)))))
    done: dict[str, str] = {}
    for job_id in stale:
        try:
            outcome = reap_job(settings, celery_app, job_id)
        except QueueUnavailable as exc:
            log.warning("job %s is stale but could not be re-queued: %s", job_id, exc.detail)
            continue
        if outcome is not None:
            done[job_id] = outcome
    return done


def reap_if_stale(settings: Mapping[str, Any], celery_app: Any, job: Job) -> bool:
    """Reap ``job`` (as loaded) when it looks stale; True when something was done.

    For ``GET /api/v1/tasks/<id>``: a broker that is down leaves the job as it is.
    """
    if job.state not in ACTIVE_STATES or (
            job.heartbeat_at is not None and job.heartbeat_at >= stale_cutoff(settings)):
        return False
    try:
        return reap_job(settings, celery_app, job.id) is not None
    except QueueUnavailable as exc:
        log.warning("job %s is stale but could not be re-queued: %s", job.id, exc.detail)
        return False


def retry_job(session: Session, celery_app: Any, job: Job) -> None:
    """Send a FAILURE job to the queue again (``POST /api/v1/tasks/<id>/retry``).

    The job gets ``JOB_MAX_ATTEMPTS`` new deliveries; work already stored is kept (a
    screening redoes only its missing tiles).

    Raises
    ------
    Conflict
        The job is not in FAILURE, or it predates retries (no task name recorded).
    QueueUnavailable
        The broker is unreachable: the job stays FAILURE.
    """
    if job.state is not JobState.FAILURE:
        raise Conflict(f"task {job.id} is {job.state.value}; only a FAILURE task can be retried",
                       field="state")
    if not job.task_name:
        raise Conflict(f"task {job.id} predates retries; start it again instead", field="state")
    _check_queue(celery_app)
    job_id, task_name, params = job.id, job.task_name, dict(job.params or {})
    job.state, job.error, job.held_by, job.attempts = JobState.PENDING, None, None, 1
    job.stage, job.updated_at = "queued again (retry)", utcnow()
    _set_record_status(session, job_id, JobState.PENDING, unless=JobState.SUCCESS)
    _send_updated(session, celery_app, job_id, task_name, params)


ProgressCallback = Callable[[int, int | None, str], None]
