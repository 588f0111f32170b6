"""``/api/v1/data``: the bundled datasets and their verification."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from web.api.docs import Blueprint

from fondo.data import datasets
from fondo.jobs import create_job, launch, job_status
from fondo.accounts.models import Role
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


@blp.get("/layers")
@require_role()
def list_layers():
    """Layers imported by officers, with their provenance."""
    from fondo.data.service import layers_dir
    from fondo.data.imports import list_imported_layers

    folder = layers_dir(settings())
    rows = list_imported_layers(folder) if folder.exists() else []
    return {"layers": [p.to_dict() for p in rows]}


@blp.post("/layers")
@require_role(Role.OFFICER)
def import_layer():
    """Import or replace a layer: multipart form with `layer`, `file` (GeoJSON, GeoPackage or
    zipped shapefile), `source`, `licence` and optional `replace=true`."""
    import tempfile

    from flask import request

    from fondo.errors import InvalidInput
    from fondo.data.service import import_layer_recorded

    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("attach the layer file as multipart field 'file'", field="file")
    form = request.form
    for name in ("layer", "source", "licence"):
        if not form.get(name, "").strip():
            raise InvalidInput(f"'{name}' is required", field=name)
    suffix = Path(upload.filename).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        upload.save(path)
        provenance = import_layer_recorded(
            settings(), form["layer"], path, source=form["source"], licence=form["licence"],
            imported_by=api_user().email, replace=form.get("replace") == "true",
            original_filename=upload.filename)
    return provenance, 201
