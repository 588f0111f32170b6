"""``/api/v1/data``: the bundled datasets and their verification."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

from flask import request

from fondo.accounts.models import Role
from fondo.data.service import (
    LayerImportSchema,
    import_layer_recorded,
    layers_dir,
    list_imported_layers,
    load_manifest,
)
from fondo.errors import InvalidInput
from fondo.jobs import create_job, job_status, launch
from web.api.docs import Blueprint
from web.api.schemas import TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db, settings

blp = Blueprint("data", __name__, url_prefix="/api/v1/data", description="Bundled datasets")


@blp.get("/datasets")
@require_role()
def list_datasets():
    """Every bundled dataset with its source, licence and checksum (not verified here)."""
    rows = load_manifest(Path(settings()["DATA_DIR"]))
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
    folder = layers_dir(settings())
    rows = list_imported_layers(folder) if folder.exists() else []
    return {"layers": [p.to_dict() for p in rows]}


@blp.post("/layers")
@require_role(Role.OFFICER)
@blp.arguments(LayerImportSchema, location="form", content_type="multipart/form-data",
               description="The form fields; the layer file itself (GeoJSON, GeoPackage or "
                           "zipped shapefile) is the multipart part `file`.")
def import_layer(form):
    """Import or replace a layer: multipart form with `layer`, `file` (GeoJSON, GeoPackage or
    zipped shapefile), `source`, `licence` and optional `replace=true` and `source_layer`."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("attach the layer file as multipart field 'file'", field="file")
    suffix = Path(upload.filename).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        upload.save(path)
        provenance = import_layer_recorded(settings(), file=path, imported_by=api_user().email,
                                           original_filename=upload.filename, **form)
    return provenance, 201
