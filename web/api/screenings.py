"""``/api/v1/screenings`` and ``/api/v1/sites/check``: corridor screening and site checks (issue 5).

Officers (and admins) start screenings and check sites; analysts may read screenings and
their exports. A screening is a task with progress (tiles done / tiles); its cells and its
supply curve are served once it has succeeded. Every bad request is one 422 problem whose
``field`` names the culprit, and nothing is stored.
"""

from __future__ import annotations

from flask import Response, send_file

from fondo.accounts.models import Role
from fondo.jobs import job_status, submit
from fondo.screening import service as svc
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.idempotency import idempotency_doc, idempotent
from web.api.schemas import TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db, settings

blp = Blueprint("screenings", __name__, url_prefix="/api/v1",
                description="Site screening of the corridors and candidate-site checks")

#: Who may start screenings and check sites (admins pass every check).
WRITE_ROLES = (Role.OFFICER,)
#: Who may read screenings and their exports.
READ_ROLES = (Role.OFFICER, Role.ANALYST)


def _file(path, fmt: str, name: str) -> Response:
    return send_file(path, mimetype=svc.MIME_TYPES[fmt], as_attachment=True, download_name=name,
                     max_age=0)


@blp.post("/screenings")
@require_role(*WRITE_ROLES)
@idempotent
@blp.arguments(svc.ScreeningRequestSchema, description="The area, technology and resolution.")
@blp.doc(**idempotency_doc(202))
@blp.doc(**responses_doc(202, TaskSchema, "The task; follow `Location`, then `screening`.",
                         errors=(401, 403, 422, 503)))
def start_screening(request: dict):
    """Start a screening as a task with progress (202 + `Location` of the task).

    The area is split into tiles screened by the workers in parallel; `progress` counts
    tiles. Bad input — a self-intersecting polygon that cannot be repaired (a repaired one is
    said in `notes`), a polygon outside Mexico or across its border, no overlap with the
    corridors, too many cells for the resolution, GeoJSON without coordinates or in another
    CRS, an unknown technology or corridor — is a 422 problem with `field`; nothing is stored.
    When the task queue cannot be reached the answer is a 503 problem with `Retry-After`
    (within 2 s), and nothing is stored either.
    """
    session = db()
    run, job = svc.create_screening(session, settings(), request, user_id=api_user().id)
    submit(session, celery_app(), svc.SCREENING_TASK, job)  # 503, nothing stored: queue down
    session.refresh(job)
    session.refresh(run)
    answer = job_status(job) | {"screening_id": run.id,
                                "screening": f"/api/v1/screenings/{run.id}",
                                "notes": list(run.params.get("notes", []))}
    return strict_json(answer, 202, {"Location": f"/api/v1/tasks/{job.id}"})


@blp.get("/screenings")
@require_role(*READ_ROLES)
def list_screenings():
    """Stored screenings, newest first (without their cells)."""
    session = db()
    return strict_json({"screenings": [svc.screening_json(session, r) for r in svc.list_screenings(session)]})


@blp.get("/screenings/<int:screening_id>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "The run: state, parameters, summary and links."))
def get_screening(screening_id: int):
    """A screening: its state and task progress, parameters and, once done, its summary."""
    session = db()
    run = svc.get_screening(session, screening_id)
    return strict_json(svc.screening_json(session, run))


@blp.get("/screenings/<int:screening_id>/cells.<fmt>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "Every cell with its attributes (GeoJSON and GeoPackage in "
                           "EPSG:4326; CSV with centre longitude/latitude).", mime="application/octet-stream",
                      errors=(401, 403, 404, 409, 422)))
def get_cells(screening_id: int, fmt: str):
    """The cells of a finished screening as `geojson`, `gpkg` or `csv` (409 while running)."""
    run = svc.get_screening(db(), screening_id)
    path = svc.cells_export(settings(), run, fmt)
    return _file(path, fmt, f"screening-{screening_id}-cells.{fmt}")


@blp.get("/screenings/<int:screening_id>/supply-curve.<fmt>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, None, "Cumulative available MW against LCOE, per corridor.",
                      mime="application/octet-stream", errors=(401, 403, 404, 409, 422)))
def get_supply_curve(screening_id: int, fmt: str):
    """The supply curve of a finished screening as `csv` or `png` (409 while running)."""
    run = svc.get_screening(db(), screening_id)
    path = svc.supply_curve_export(settings(), run, fmt)
    return _file(path, fmt, f"screening-{screening_id}-supply-curve.{fmt}")


@blp.post("/sites/check")
@require_role(*WRITE_ROLES)
@blp.arguments(svc.SiteCheckRequestSchema, description="The site and technology.")
@blp.doc(**responses_doc(200, None, "Attributes, available area and capacity, excluded km² by reason, a "
                                   "point's screening cell, nearest station and constraints.",
                         errors=(401, 403, 422)))
def check_site(request: dict):
    """Check a candidate site now: each constraint with `name`, `passed`, `value`, `limit`, `reason`."""
    return strict_json(svc.check_site_request(settings(), request))
