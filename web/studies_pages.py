"""Analyst pages under ``/studies``: the list of yield studies, the form that creates one,
its progress, and its result with charts, tables and downloads.

The pages use what the API uses: the form is loaded by
:class:`fondo.studies.schemas.StudyRequestSchema` (through :func:`load_request`, as
``fondo study create`` does), the study is created and queued by
:func:`fondo.studies.service.create_study` and :func:`fondo.jobs.submit`, the progress bar
follows ``GET /api/v1/tasks/<id>`` and the downloads are the API's exports. A refused form
is shown again with the error next to its field and nothing stored. Charts are SVG drawn on
the server (:mod:`fondo.studies.report_charts`), each followed by its table.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from flask import (Blueprint, Response, abort, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_login import current_user

from fondo.accounts.models import Role
from fondo.errors import FondoError, InvalidInput
from fondo.jobs import JobState, submit
from fondo.request_body import load_request
from fondo.studies import report, report_charts
from fondo.studies import service as svc
from fondo.studies.schemas import StudyRequestSchema
from siting import losses, pv, yield_study
from web.context import celery_app, db, settings
from web.i18n import page_gettext as _
from web.pages import page_roles

bp = Blueprint("studies_pages", __name__, url_prefix="/studies")

#: Roles that see the study pages (those of the studies API; admins pass every check).
STUDY_PAGE_ROLES = (Role.ANALYST, Role.OFFICER)
#: Form fields of each technology: (name, kind) with kind ``number``, ``integer`` or ``text``.
PV_FIELDS = (("capacity_dc_kw", "number"), ("dc_ac_ratio", "number"), ("tracking", "text"),
             ("tilt_deg", "number"), ("azimuth_deg", "number"), ("gcr", "number"),
             ("system_losses", "number"), ("degradation_rate_per_year", "number"))
WIND_FIELDS = (("turbine_type", "text"), ("hub_height_m", "number"),
               ("turbine_count", "integer"), ("roughness_length_m", "number"))
#: Defaults shown beside the form's fields: the engine's own (:mod:`siting.yield_study`).
FORM_DEFAULTS = {
    "dc_ac_ratio": yield_study.DEFAULT_DC_AC_RATIO,
    "gcr": pv.DEFAULT_GCR,
    "system_losses": losses.LossBreakdown.pvwatts_default().total,
    "degradation_rate_per_year": yield_study.DEFAULT_DEGRADATION_RATE_PER_YEAR,
    "roughness_length_m": yield_study.DEFAULT_ROUGHNESS_LENGTH_M,
}
#: Charts of the result page.
CHARTS = ("monthly", "losses", "heatmap")


def month_names() -> list[str]:
    """Short month names in the page's language."""
    return [_(m) for m in report_charts.MONTHS]


def loss_label(name: str) -> str:
    """A loss step in words, in the page's language."""
    return _(report.LOSS_STEP_LABELS.get(name, report.humanise(name)))


@bp.get("/")
@page_roles(*STUDY_PAGE_ROLES)
def index():
    """Stored studies, newest first."""
    return render_template("studies/list.html", studies=svc.list_studies(db()))


def _form_page(form: dict[str, str], errors: dict[str, str], status: int = 200):
    turbines = svc.turbines_json()["turbines"]
    return render_template("studies/new.html", form=form, errors=errors, turbines=turbines,
                           defaults=FORM_DEFAULTS), status


@bp.get("/new")
@page_roles(*STUDY_PAGE_ROLES)
def new():
    """The form of a new PV or wind study."""
    form = {"technology": request.args.get("technology", "pv"),
            "lat": request.args.get("lat", ""), "lon": request.args.get("lon", "")}
    return _form_page(form, {})


def _parse(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The study request of a submitted form, or the errors of its fields."""
    technology = form.get("technology", "")
    errors: dict[str, str] = {}
    request_body: dict[str, Any] = {}
    fields = [("lat", "number"), ("lon", "number")]
    fields += list(PV_FIELDS if technology == "pv" else WIND_FIELDS if technology == "wind"
                   else ())
    for name, kind in fields:
        raw = form.get(name, "").strip()
        if not raw:
            continue
        if kind == "text":
            request_body[name] = raw
            continue
        try:
            value = float(raw.replace(",", ".")) if kind == "number" else int(raw)
        except ValueError:
            errors[name] = (_("Enter a number.") if kind == "number"
                            else _("Enter a whole number."))
            continue
        request_body[name] = value
    body = {"technology": technology, "request": request_body}
    return body, errors


def _field_of(error: InvalidInput) -> str:
    """The form field an error names (``request.capacity_dc_kw`` → ``capacity_dc_kw``)."""
    return str(error.field or "body").rsplit(".", 1)[-1]


@bp.post("/new")
@page_roles(*STUDY_PAGE_ROLES)
def create():
    """Create and queue a study; on a bad field, the form again with the error beside it."""
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    body, errors = _parse(form)
    if errors:
        return _form_page(form, errors, 422)
    session = db()
    try:
        job, study = svc.create_study(settings(), session,
                                      load_request(StudyRequestSchema(), body),
                                      user_id=current_user.id)
        submit(session, celery_app(), svc.STUDY_TASK, job)
    except InvalidInput as exc:
        session.rollback()
        field = _field_of(exc)
        messages = (exc.extra or {}).get("errors") or {}
        for name, texts in messages.items():
            errors[name.rsplit(".", 1)[-1]] = _("Not accepted: %(reason)s",
                                                reason=" ".join(texts))
        errors.setdefault(field, _("Not accepted: %(reason)s", reason=exc.detail))
        return _form_page(form, errors, 422)
    except FondoError as exc:  # the queue is down: nothing was stored
        session.rollback()
        errors["body"] = _("The study could not be started: %(reason)s", reason=exc.detail)
        return _form_page(form, errors, exc.status)
    return redirect(url_for("studies_pages.detail", study_id=study.id), 303)


def _hourly(study) -> pd.DataFrame | None:
    if study.status is not JobState.SUCCESS:
        return None
    try:
        text = svc.hourly_path(settings(), study).read_text(encoding="utf-8")
    except OSError:
        return None
    return pd.read_csv(io.StringIO(text))


@bp.get("/<int:study_id>")
@page_roles(*STUDY_PAGE_ROLES)
def detail(study_id: int):
    """A study: its progress while it runs, its result when done."""
    session = db()
    study = svc.get_study(session, study_id)
    session.refresh(study)
    record = svc.study_json(study)
    context: dict[str, Any] = {"study": record, "done": study.status is JobState.SUCCESS}
    if context["done"]:
        result = record["result"]
        context["steps"] = report_charts.loss_steps(result)
        context["months"] = month_names()
        hourly = _hourly(study)
        context["heatmap"] = (None if hourly is None else report_charts.month_hour_table(
            hourly, svc.HOURLY_TIME_COLUMN, svc.HOURLY_ENERGY_COLUMN))
        context["system"] = (report.pv_system_rows(result) if record["technology"] == "pv"
                             else report.wind_system_rows(result))
        context["components"] = result["assumptions"].get("uncertainty_components") or {}
        context["sources"] = report.UNCERTAINTY_SOURCES.get(record["technology"], {})
        context["uncertainty_labels"] = report.UNCERTAINTY_LABELS
        context["assumptions"] = report.assumption_sentences(record)
        context["resource"] = report.resource_rows(result)
    return render_template("studies/detail.html", loss_label=loss_label, **context)


@bp.get("/<int:study_id>/charts/<name>.svg")
@page_roles(*STUDY_PAGE_ROLES)
def chart(study_id: int, name: str):
    """One chart of a finished study as SVG, labelled in the page's language."""
    if name not in CHARTS:
        abort(404)
    session = db()
    study = svc.get_study(session, study_id)
    if study.status is not JobState.SUCCESS or study.result is None:
        abort(404)
    result = study.result
    months = month_names()
    if name == "monthly":
        figure = report_charts.monthly_energy_figure(
            result, months=months, ylabel=_("AC energy [MWh]"),
            title=_("Monthly energy (typical year)"))
    elif name == "losses":
        steps = report_charts.loss_steps(result)
        figure = report_charts.loss_waterfall_figure(
            steps, {s.name: loss_label(s.name) for s in steps}, start=_("Before losses"),
            final=_("Delivered (AC)"), ylabel=_("Annual energy [MWh]"),
            title=_("Loss waterfall"))
    else:
        hourly = _hourly(study)
        if hourly is None:
            abort(404)
        table = report_charts.month_hour_table(hourly, svc.HOURLY_TIME_COLUMN,
                                               svc.HOURLY_ENERGY_COLUMN)
        figure = report_charts.heatmap_figure(
            table, months=months, xlabel=_("Hour of the day (local standard time)"),
            colorbar=_("Mean energy [kWh]"), title=_("Energy by month and hour"))
    return Response(report_charts.render(figure, "svg"), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})


#: Simplification of the corridor outlines drawn on the site picker (~1 km). [°]
PICKER_OUTLINE_TOLERANCE_DEG = 0.01


@bp.get("/corridors.geojson")
@page_roles(*STUDY_PAGE_ROLES)
def corridors():
    """The corridors' outlines (simplified) for the site picker's offline base map."""
    import shapely
    from sqlalchemy import select

    from fondo.data.service import Corridor

    features = []
    for corridor in db().scalars(select(Corridor).order_by(Corridor.id)):
        geometry = corridor.geometry
        if isinstance(geometry, (bytes, str)):
            geometry = shapely.from_wkb(geometry) if isinstance(geometry, bytes) \
                else shapely.from_wkt(geometry)
        outline = shapely.simplify(geometry, PICKER_OUTLINE_TOLERANCE_DEG,
                                   preserve_topology=True)
        features.append({"type": "Feature", "id": corridor.id,
                         "properties": {"id": corridor.id, "name": corridor.name},
                         "geometry": shapely.geometry.mapping(outline)})
    return {"type": "FeatureCollection", "features": features}


@bp.get("/vendor/leaflet/<path:filename>")
def leaflet(filename: str):
    """Leaflet from the xstatic-leaflet package: the site picker needs no internet."""
    import xstatic.pkg.leaflet as leaflet_package

    return send_from_directory(Path(leaflet_package.BASE_DIR), filename, max_age=86400)
