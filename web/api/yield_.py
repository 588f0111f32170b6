"""Energy yield (issue 3): quick PV and wind runs, stored studies and their exports, the
turbine and weather-station catalogues.

The engine (``siting.yield_study``) validates the requests, so each rejection is one 422
problem whose ``field`` names the request field; nothing is stored on a rejection.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from fondo import yield_studies as svc
from fondo.errors import InvalidInput
from fondo.jobs import job_status, launch
from fondo.models import Role
from web.api.schemas import ProblemSchema, TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db, settings

blp = Blueprint("yield", __name__, url_prefix="/api/v1",
                description="Energy yield: PV and wind studies, exports, turbines, stations")

#: Roles that run, read and export stored studies (admins pass every check).
STUDY_ROLES = (Role.ANALYST, Role.OFFICER)


def _num(description: str, **kw) -> fields.Float:
    return fields.Float(metadata={"description": description}, **kw)


class PVRequestSchema(Schema):
    """A PV request (issue 3 contract names)."""

    lat = _num("Site latitude, in Mexico. [°]", required=True)
    lon = _num("Site longitude, in Mexico. [°]", required=True)
    capacity_dc_kw = _num("DC capacity (> 0). [kW]", required=True)
    dc_ac_ratio = _num("DC/AC ratio, 0.5–2.5 (default 1.15). [-]")
    tilt_deg = _num("Tilt, 0–90 (default near-optimal for the latitude). [°]")
    azimuth_deg = _num("Azimuth, 180 = south. [°]")
    tracking = fields.String(validate=validate.OneOf(("fixed", "single_axis")),
                             metadata={"description": "fixed or single_axis (backtracking)."})
    gcr = _num("Ground coverage ratio. [fraction]")
    system_losses = _num("System losses, e.g. 0.14. [fraction]")
    station_id = fields.String(metadata={"description": "WMO id forcing the station."})
    degradation_rate_per_year = _num("[fraction/year]")
    operating_year = fields.Integer(metadata={"description": "1 = first year."})
    bifacial_gain = _num("[fraction]")
    site_elevation_m = _num("Default: the bundled DEM. [m]")


class WindRequestSchema(Schema):
    """A wind request (issue 3 contract names)."""

    lat = _num("Site latitude, in Mexico. [°]", required=True)
    lon = _num("Site longitude, in Mexico. [°]", required=True)
    turbine_type = fields.String(required=True, metadata={
        "description": "windpowerlib turbine type (see GET /api/v1/turbines)."})
    hub_height_m = _num("Hub height, 10–250. [m]", required=True)
    turbine_count = fields.Integer(metadata={"description": "Turbines in the farm."})
    roughness_length_m = _num("Roughness length (or give land_cover). [m]")
    land_cover = fields.String(metadata={"description": "Land cover for the roughness."})
    station_id = fields.String(metadata={"description": "WMO id forcing the station."})
    wake_losses = _num("Default: windpowerlib dena_mean farm efficiency. [fraction]")
    other_losses = _num("Availability and electrical (default SAM's). [fraction]")
    site_elevation_m = _num("Default: the bundled DEM. [m]")


class LossSchema(Schema):
    """One step of the loss tree."""

    name = fields.String()
    fraction = fields.Float(metadata={"description": "[fraction]"})
    energy_kwh = fields.Float(metadata={"description": "Energy after the step. [kWh]"})


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


class StudyRequestSchema(Schema):
    """A stored study: the technology, the request of that technology, optionally a site."""

    technology = fields.String(required=True, validate=validate.OneOf(("pv", "wind")))
    request = fields.Dict(required=True, metadata={
        "description": "The PV or wind request (same fields as /yield/pv or /yield/wind)."})
    site_id = fields.Integer(metadata={"description": "Stored site the study belongs to."})


def _json_body(schema: type[Schema], description: str) -> dict:
    return {"requestBody": {"required": True, "description": description,
                            "content": {"application/json": {"schema": schema}}}}


def _responses(status: int, schema: type[Schema] | None, description: str, *,
               mime: str = "application/json", errors: tuple[int, ...] = (401, 403, 404)) -> dict:
    content = {mime: {"schema": schema} if schema else {"schema": {"type": "string",
                                                                   "format": "binary"}}}
    out = {str(status): {"description": description, "content": content}}
    for code in errors:
        out[str(code)] = {"description": "Problem details.",
                          "content": {"application/problem+json": {"schema": ProblemSchema}}}
    return {"responses": out}


def _body() -> Any:
    raw = request.get_data()
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The request body is not valid JSON: {exc}", field="body") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _strict_json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, allow_nan=False, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def _hourly_flag() -> bool:
    return request.args.get("hourly", "false").lower() in {"1", "true", "yes"}


_HOURLY_PARAM = [{"in": "query", "name": "hourly", "schema": {"type": "boolean"},
                  "required": False, "description": "Add the 8,760 hourly values."}]


@blp.post("/yield/pv")
@require_role()
@blp.doc(**_json_body(PVRequestSchema, "The PV request."), parameters=_HOURLY_PARAM,
         **_responses(200, YieldResultSchema, "Energy, P-values, losses, station, assumptions.",
                      errors=(401, 422)))
def quick_pv():
    """Run a PV study now (pvlib, PVWatts chain); nothing is stored."""
    return _strict_json(svc.run_quick(settings(), db(), "pv", _body(), hourly=_hourly_flag()))


@blp.post("/yield/wind")
@require_role()
@blp.doc(**_json_body(WindRequestSchema, "The wind request."), parameters=_HOURLY_PARAM,
         **_responses(200, YieldResultSchema, "Energy, P-values, losses, station, assumptions.",
                      errors=(401, 422)))
def quick_wind():
    """Run a wind study now (windpowerlib); nothing is stored."""
    return _strict_json(svc.run_quick(settings(), db(), "wind", _body(), hourly=_hourly_flag()))


@blp.post("/studies")
@require_role(*STUDY_ROLES)
@blp.doc(**_json_body(StudyRequestSchema, "Technology and request."),
         **_responses(202, TaskSchema, "The task; follow `Location`. `study_id` and "
                      "`study_url` name the study resource.", errors=(401, 403, 422)))
def create_study():
    """Store a study and run it as a task with progress (202 + `Location` of the task).

    Everything that depends on the request (fields, site in Mexico, station, weather file)
    is checked before anything is stored: a rejection is a 422 and no row is added.
    """
    session = db()
    job, study = svc.create_study(settings(), session, _body(), user_id=api_user().id)
    session.commit()
    launch(celery_app(), svc.STUDY_TASK, job, job.params)
    session.refresh(job)
    body = job_status(job) | {"study_id": study.id, "study_url": svc.study_url(study.id)}
    return _strict_json(body, 202, {"Location": f"/api/v1/tasks/{job.id}"})


@blp.get("/studies")
@require_role(*STUDY_ROLES)
def list_studies():
    """Stored studies, newest first (without their results)."""
    return _strict_json({"studies": [svc.study_json(s, with_result=False)
                                     for s in svc.list_studies(db())]})


@blp.get("/studies/<int:study_id>")
@require_role(*STUDY_ROLES)
def get_study(study_id: int):
    """A stored study: request, status, P50/P90 and (when finished) the result."""
    session = db()
    study = svc.get_study(session, study_id)
    session.refresh(study)
    return _strict_json(svc.study_json(study))


@blp.get("/studies/<int:study_id>/export.<fmt>")
@require_role(*STUDY_ROLES)
@blp.doc(**_responses(200, None, "CSV (hourly), XLSX, PDF report or JSON.",
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
    return _strict_json(svc.turbines_json())


@blp.get("/stations")
def list_stations():
    """The weather stations with a bundled typical-year file (public reference data)."""
    return _strict_json(svc.stations_json(db()))
