"""``/api/v1/data``: the bundled datasets and their verification."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from flask_smorest import Blueprint

from fondo import datasets
from fondo.jobs import create_job, launch, job_status
from fondo.models import Role
from web.api.schemas import TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db, settings

blp = Blueprint("data", __name__, url_prefix="/api/v1/data", description="Bundled datasets")


@blp.get("/datasets")
@require_role()
def list_datasets():
    """Every bundled dataset with its source, licence and checksum (not verified here)."""
    rows = datasets.load_manifest(Path(settings()["DATA_DIR"]))
    return {"datasets": [asdict(d) for d in rows]}


@blp.post("/check")
@require_role(Role.OFFICER, Role.ANALYST)
@blp.response(202, TaskSchema)
def start_check():
    """Verify every dataset's checksum as a task; follow it at `/api/v1/tasks/<id>`."""
    session = db()
    job = create_job(session, "data_check", {}, user_id=api_user().id)
    session.commit()
    launch(celery_app(), "fondo.data_check", job, {})
    session.refresh(job)
    return job_status(job), 202, {"Location": f"/api/v1/tasks/{job.id}"}
