"""``/api/v1/tasks``: state, progress and result location of long tasks."""

from __future__ import annotations

from flask import abort

from fondo.jobs import Job, JobState, job_status
from web.api.docs import Blueprint
from web.api.schemas import TaskSchema
from web.auth import require_role
from web.context import db

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Long-running tasks")


def _job_or_404(task_id: str) -> Job:
    job = db().get(Job, task_id)
    if job is None:
        abort(404, description=f"No task with id {task_id}.")
    return job


@blp.get("/<task_id>")
@require_role()
@blp.response(200, TaskSchema)
def get_task(task_id: str):
    """State and progress (`done`, `total`, `stage`) of a task; `result_url` when finished."""
    return job_status(_job_or_404(task_id))


@blp.get("/<task_id>/result")
@require_role()
def get_task_result(task_id: str):
    """The stored JSON result of a finished task (409 while it runs)."""
    job = _job_or_404(task_id)
    if job.state is not JobState.SUCCESS:
        abort(409, description=f"Task {task_id} is {job.state.value}; it has no result yet.")
    return job.result
