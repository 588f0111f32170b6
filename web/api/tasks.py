"""``/api/v1/tasks``: state, progress and result location of long tasks.

A task answers as the endpoint that reads what it computes (:mod:`web.api.permissions`):
403 for a role that may not read that kind of task, 404 when the record it computes is not
the caller's to see.

Reading a task whose worker stopped beating re-queues it (or fails it, after
``JOB_MAX_ATTEMPTS`` deliveries) at once, without waiting for a worker's sweep
(:func:`fondo.jobs.reap_if_stale`); a FAILURE task can be sent again with
``POST /api/v1/tasks/<id>/retry``.
"""

from __future__ import annotations

from flask import abort

from fondo.accounts.models import Role
from fondo.jobs import Job, JobState, job_status, reap_if_stale, retry_job
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.schemas import TaskSchema
from web.api.permissions import authorize_task
from web.auth import api_user, require_role
from web.context import celery_app, db, settings

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Long-running tasks")


def _job_or_404(task_id: str) -> Job:
    """The job the caller may read: 404 when unknown (or not theirs), 403 for a role that
    may not read its kind."""
    job = db().get(Job, task_id)
    if job is None:
        abort(404, description=f"No task with id {task_id}.")
    authorize_task(db(), api_user(), job)
    return job


@blp.get("/<task_id>")
@require_role()
@blp.response(200, TaskSchema)
def get_task(task_id: str):
    """State and progress (`done`, `total`, `stage`) of a task; `result_url` when finished.

    A task whose worker died (no heartbeat for `JOB_STALE_AFTER_S`) is re-queued as it is
    read (`state` PENDING, `stage` says why), or FAILURE with the reason in `error` after
    its last attempt."""
    job = _job_or_404(task_id)
    if reap_if_stale(settings(), celery_app(), job):
        db().refresh(job)
    return job_status(job)


@blp.post("/<task_id>/retry")
@require_role(Role.OFFICER, Role.ANALYST)
@blp.doc(**responses_doc(202, TaskSchema, "The task, queued again; follow `Location`.",
                         errors=(401, 403, 404, 409, 503)))
def retry_task(task_id: str):
    """Send a FAILURE task to the queue again (202 + `Location` of the task).

    Who may read the task may retry it (investors, who only read, may not). Work already
    stored is kept: a screening screens only its missing tiles. A task that is not FAILURE
    is a 409 problem; when the task queue cannot be reached, a 503 problem with
    `Retry-After` and the task stays FAILURE."""
    session = db()
    job = _job_or_404(task_id)
    retry_job(session, celery_app(), job)
    session.refresh(job)
    return strict_json(job_status(job), 202, {"Location": f"/api/v1/tasks/{job.id}"})


@blp.get("/<task_id>/result")
@require_role()
def get_task_result(task_id: str):
    """The stored JSON result of a finished task (409 while it runs)."""
    job = _job_or_404(task_id)
    if job.state is not JobState.SUCCESS:
        abort(409, description=f"Task {task_id} is {job.state.value}; it has no result yet.")
    return job.result
