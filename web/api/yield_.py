"""Energy yield (issue 3): quick PV and wind runs, stored studies and their exports, the
turbine and weather-station catalogues.

Request bodies are loaded by the feature's request schemas (:mod:`fondo.studies.schemas`,
the same the ``fondo yield`` and ``fondo study`` commands load) and then checked by the
engine, so each rejection is one 422 problem whose ``field`` names the request field;
nothing is stored on a rejection.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields

from fondo.accounts.models import Role
from fondo.jobs import job_status, submit
from fondo.studies import service as svc
from fondo.studies.schemas import PVRequestSchema, StudyRequestSchema, WindRequestSchema
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.idempotency import idempotency_doc, idempotent
from web.api.schemas import TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db, settings

blp = Blueprint("yield", __name__, url_prefix="/api/v1",
                description="Energy yield: PV and wind studies, exports, turbines, stations")

#: Roles that run, read and export stored studies (admins pass every check).
STUDY_ROLES = (Role.ANALYST, Role.OFFICER)


class LossSchema(Schema):
    """One step of the loss tree."""

    name = fields.String()
    fraction = fields.Float(metadata={"description": "[fraction]"})
    energy_kwh = fields.Float(metadata={
        "description": "Energy lost at the step (the share `fraction` of the energy reaching "
                       "it). [kWh]"})


class StationRefSchema(Schema):
    """The station a study used."""

    id = fields.String()
    name = fields.String()
    distance_km = fields.Float(metadata={"description": "[km]"})
    elevation_difference_m = fields.Float(allow_none=True, metadata={
        "description": "Site minus station. [m]"})


class YieldResultSchema(Schema):
    """Response of a yield run (contract names plus extras)."""

    energy_annual_kwh = fields.Float(metadata={"description": "[kWh]"})
    energy_monthly_kwh = fields.List(fields.Float(), metadata={"description": "12 values. [kWh]"})
    capacity_factor = fields.Float(metadata={"description": "[fraction]"})
    p50_kwh = fields.Float(metadata={"description": "1-year P50. [kWh]"})
    p90_kwh = fields.Float(metadata={"description": "1-year P90. [kWh]"})
    station = fields.Nested(StationRefSchema)
    losses = fields.List(fields.Nested(LossSchema))
    assumptions = fields.Dict()
    resource_method = fields.String(metadata={
        "description": "Where the site's long-term resource comes from, the same as the screening "
                       "cell's there: `merra2_station_idw` (GHI), `wrf_80m`, `wrf_80m_edge_blend` or "
                       "`station_terrain_calibrated` (wind). PV: the station's hourly series is scaled "
                       "to that mean; wind: the station's hours, in their order, take the quantiles "
                       "of a Weibull at that mean at hub height with the station's shape carried up "
                       "(Justus & Mikhail 1976)."})
    resource_confidence = fields.Float(allow_none=True, metadata={
        "description": "Confidence of that long-term mean, as in the screening. [0-1]"})
    resource = fields.Dict(metadata={
        "description": "The long-term means used, the scale factor or the wind estimate's relative "
                       "1-σ and the energy's sensitivity to it."})


def _hourly_flag() -> bool:
    return request.args.get("hourly", "false").lower() in {"1", "true", "yes"}


_HOURLY_PARAM = [{"in": "query", "name": "hourly", "schema": {"type": "boolean"},
                  "required": False, "description": "Add the 8,760 hourly values."}]


@blp.post("/yield/pv")
@require_role()
@blp.arguments(PVRequestSchema, description="The PV request.")
@blp.doc(parameters=_HOURLY_PARAM,
         **responses_doc(200, YieldResultSchema, "Energy, P-values, losses, station, assumptions.",
                         errors=(401, 422)))
def quick_pv(body: dict[str, Any]):
    """Run a PV study now (pvlib, PVWatts chain); nothing is stored."""
    return strict_json(svc.run_quick(settings(), db(), "pv", body, hourly=_hourly_flag()))


@blp.post("/yield/wind")
@require_role()
@blp.arguments(WindRequestSchema, description="The wind request.")
@blp.doc(parameters=_HOURLY_PARAM,
         **responses_doc(200, YieldResultSchema, "Energy, P-values, losses, station, assumptions.",
                         errors=(401, 422)))
def quick_wind(body: dict[str, Any]):
    """Run a wind study now (windpowerlib); nothing is stored."""
    return strict_json(svc.run_quick(settings(), db(), "wind", body, hourly=_hourly_flag()))


@blp.post("/studies")
@require_role(*STUDY_ROLES)
@idempotent
@blp.arguments(StudyRequestSchema, description="Technology and request.")
@blp.doc(**idempotency_doc(202))
@blp.doc(**responses_doc(202, TaskSchema, "The task; follow `Location`. `study_id` and "
                         "`study_url` name the study resource.",
                         errors=(401, 403, 422, 503)))
def create_study(body: dict[str, Any]):
    """Store a study and run it as a task with progress (202 + `Location` of the task).

    Everything that depends on the request (fields, site in Mexico, station, weather file)
    is checked before anything is stored: a rejection is a 422 and no row is added. When
    the task queue cannot be reached the answer is a 503 problem with `Retry-After`
    (within 2 s) and no row is added either.
    """
    session = db()
    job, study = svc.create_study(settings(), session, body, user_id=api_user().id)
    submit(session, celery_app(), svc.STUDY_TASK, job)  # 503, nothing stored: queue down
    session.refresh(job)
    body = job_status(job) | {"study_id": study.id, "study_url": svc.study_url(study.id)}
    return strict_json(body, 202, {"Location": f"/api/v1/tasks/{job.id}"})


@blp.get("/studies")
@require_role(*STUDY_ROLES)
def list_studies():
    """Stored studies, newest first (without their results)."""
    return strict_json({"studies": [svc.study_json(s, with_result=False)
                                     for s in svc.list_studies(db())]})


@blp.get("/studies/<int:study_id>")
@require_role(*STUDY_ROLES)
def get_study(study_id: int):
    """A stored study: request, status, P50/P90 and (when finished) the result."""
    session = db()
    study = svc.get_study(session, study_id)
    session.refresh(study)
    return strict_json(svc.study_json(study))


@blp.get("/studies/<int:study_id>/export.<fmt>")
@require_role(*STUDY_ROLES)
@blp.doc(**responses_doc(200, None, "CSV (hourly), XLSX, PDF report or JSON.",
                      mime="application/octet-stream", errors=(401, 403, 404, 409, 422)))
def export_study(study_id: int, fmt: str):
    """Export a finished study: `csv` (8,760 hourly rows), `xlsx`, `pdf` or `json`."""
    session = db()
    study = svc.get_study(session, study_id)
    session.refresh(study)
    data = svc.export_study(settings(), study, fmt)
    return Response(data, mimetype=svc.EXPORT_MIME[fmt], headers={
        "Content-Disposition": f'attachment; filename="yield-study-{study_id}.{fmt}"'})


@blp.get("/turbines")
def list_turbines():
    """windpowerlib's bundled turbine types with rated power and hub heights (public)."""
    return strict_json(svc.turbines_json())


@blp.get("/stations")
def list_stations():
    """The weather stations with a bundled typical-year file (public reference data)."""
    return strict_json(svc.stations_json(db()))
