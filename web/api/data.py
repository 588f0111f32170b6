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
from fondo.jobs import create_job, job_status, submit
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
    """Verify every dataset's checksum as a task; follow it at `/api/v1/tasks/<id>`.

    When the task queue cannot be reached: a 503 problem with `Retry-After` (within 2 s),
    and no task is stored."""
    session = db()
    job = create_job(session, "data_check", {}, user_id=api_user().id)
    submit(session, celery_app(), "fondo.data_check", job)  # 503, nothing stored: queue down
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
    zipped shapefile), `source`, `licence` and optional `replace=true`, `confirm_shrink=true`
    and `source_layer`.

    Refusals are 422 problems and store nothing: features wholly outside Mexico's land
    (widened by 5 km) name `file` with `outside_land_count` and `outside_land_indices`
    (0-based, file order); a replacement losing more than half of the served layer's
    features or area names `confirm_shrink` with `shrink` (features and `area_km2` before
    and after, in EPSG:6372). The answer's `land_check` lists features partly outside
    Mexico's land (kept whole) and `replaced` the before/after summary."""
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
