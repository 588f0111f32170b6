"""The pipeline board under ``/pipeline`` (officers): the fund's projects by stage, each
card with capacity, corridor, the gates of its next stage met and unmet, and its social
risk; and a project's page with its site on a small map, its yield studies, finance cases,
consultation status and the history of its moves (who, when, why).

A card moves with the keyboard (the card's form: a stage, a reason, a button) or by
dragging it onto another column; both call ``POST /api/v1/projects/<id>/transitions``
(``web/static/pipeline.js``) and show the 409's unmet gates inside the card. Without
script the form posts to this blueprint, which calls the same service
(:func:`fondo.fund.transitions.move_project`) and shows the same reasons on the board.

The project page's forms take a project to its financial-close gates without the API:
link a stored yield study, approve a linked one (who and when recorded), make the P90
finance case of a base case; each calls the service of the API's endpoint
(:mod:`fondo.fund.links`) with the request loaded by the API's schema, and a refusal
shows the page again with the reason beside the form, nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from fondo.accounts.models import Role
from fondo.consultation import service as consultation_service
from fondo.db import run_unit_of_work
from fondo.errors import FondoError
from fondo.fund import links, projects, transitions
from fondo.fund.service import PipelineStage, Project, get_site, site_json
from fondo.fund.schemas import (
    P90CaseSchema,
    StudyApprovalSchema,
    StudyLinkSchema,
    TransitionRequestSchema,
)
from fondo.request_body import load_request
from web.context import db, settings
from web.i18n import page_gettext as _
from web.pages import page_roles
from web.work_labels import work_label

bp = Blueprint("pipeline_pages", __name__, url_prefix="/pipeline")
bp.add_app_template_global(work_label, "work_label")

#: Who works the board: those who move projects (``web.api.projects.WRITE_ROLES``).
PIPELINE_PAGE_ROLES = (Role.OFFICER,)
#: Columns of the board: the pipeline in order, then dropped.
COLUMNS = tuple(s.value for s in transitions.PIPELINE) + (PipelineStage.DROPPED.value,)


def _risk(project_id: int) -> str | None:
    try:
        return consultation_service.social_risk_for_project(db(), settings(),
                                                            project_id)["social_risk"]
    except FondoError:
        return None


def card(project: Project) -> dict[str, Any]:
    """What a card shows: the project in short, its next stage's gates, its social risk."""
    out = projects.project_summary_json(project)
    gates = transitions.gates_json(db(), project.id)
    out["next_stage"] = gates["next_stage"]
    out["gates"] = gates["gates"]
    out["gates_met"] = [g for g in gates["gates"] if g["passed"]]
    out["gates_unmet"] = [g for g in gates["gates"] if not g["passed"]]
    out["social_risk"] = _risk(project.id)
    return out


def _board(refusals: dict[int, dict[str, Any]] | None = None, status: int = 200):
    session = db()
    session.rollback()
    rows = session.scalars(select(Project).order_by(Project.id)).all()
    cards = [card(p) for p in rows]
    columns = [(stage, [c for c in cards if c["stage"] == stage]) for stage in COLUMNS]
    return render_template("pipeline/board.html", columns=columns, stages=COLUMNS,
                           refusals=refusals or {}), status


@bp.get("/")
@page_roles(*PIPELINE_PAGE_ROLES)
def board():
    """Every project by stage."""
    return _board()


@bp.post("/<int:project_id>/move")
@page_roles(*PIPELINE_PAGE_ROLES)
def move(project_id: int):
    """Move a card without script (the API's service): the board again, with the unmet
    gates inside the card on a refusal."""
    body: dict[str, Any] = {"to": request.form.get("to", "")}
    reason = request.form.get("reason", "").strip()
    if reason:
        body["reason"] = reason
    try:
        loaded = load_request(TransitionRequestSchema(), body)
        run_unit_of_work(db(), lambda s: transitions.move_project(
            s, project_id, loaded, current_user.email, current_user.id))
    except FondoError as exc:
        db().rollback()
        refusal = {"detail": exc.detail, "field": exc.field,
                   "unmet_gates": (exc.extra or {}).get("unmet_gates") or []}
        return _board({project_id: refusal}, exc.status)
    return redirect(url_for("pipeline_pages.board", _anchor=f"project-{project_id}"), 303)


def _project_page(project_id: int, errors: dict[str, str] | None = None, status: int = 200):
    session = db()
    session.rollback()  # read what is committed (a refused action left nothing behind)
    row = projects.get_visible_project(session, project_id)
    record = projects.project_json(session, row)
    summary = card(row)
    try:
        risk = consultation_service.social_risk_for_project(session, settings(), project_id)
    except FondoError:
        risk = None
    approved = [s["study_id"] for s in reversed(record["studies"]) if s["approved"]]
    return render_template(
        "pipeline/project.html", p=record, card=summary, risk=risk,
        has_site=row.site_id is not None, errors=errors or {},
        linkable=links.linkable_studies(session, row),
        approvable=links.approvable_study_ids(session, row), approved_ids=approved,
        p90_ids=links.p90_case_ids(session, row),
        p90_ready=bool(approved and record["finance_cases"])), status


@bp.get("/<int:project_id>")
@page_roles(*PIPELINE_PAGE_ROLES)
def project(project_id: int):
    """A project: facts, site on the map, studies, finance cases, consultation, history."""
    return _project_page(project_id)


def _act(project_id: int, form: str, lead: str, anchor: str,
         work: Callable[[Any, Project], Any]):
    """Run ``work(session, project)`` as one unit of work, then back to the project page
    (303); a refusal shows the page again with ``lead`` and the service's reason beside
    ``form`` (4xx)."""
    projects.get_visible_project(db(), project_id)  # an unknown project is the 404 page
    try:
        run_unit_of_work(db(), lambda s: work(s, projects.get_visible_project(s, project_id)))
    except FondoError as exc:
        db().rollback()
        reason = _("Not accepted: %(reason)s", reason=exc.detail)
        return _project_page(project_id, {form: f"{lead} {reason}"}, exc.status)
    return redirect(url_for("pipeline_pages.project", project_id=project_id, _anchor=anchor),
                    303)


def _form_id(name: str) -> Any:
    """A form's id field as the API's JSON would carry it (whole numbers as ``int``; other
    text as given, for the schema to refuse; absent when empty)."""
    value = request.form.get(name, "").strip()
    return int(value) if value.isdigit() else (value or None)


def _body(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@bp.post("/<int:project_id>/studies")
@page_roles(*PIPELINE_PAGE_ROLES)
def link_study(project_id: int):
    """Link a stored yield study (the API's ``POST …/studies``)."""
    body = _body(study_id=_form_id("study_id"))

    def work(session, project):
        loaded = load_request(StudyLinkSchema(), body)
        return links.link_study(session, project, loaded["study_id"], current_user.email)

    return _act(project_id, "link", _("The study was not linked."), "studies-h", work)


@bp.post("/<int:project_id>/studies/<int:study_id>/approval")
@page_roles(*PIPELINE_PAGE_ROLES)
def approve_study(project_id: int, study_id: int):
    """Approve a linked study (the API's ``POST …/studies/<id>/approval``): who and when
    are the signed-in officer and now."""
    body = _body(note=request.form.get("note", "").strip() or None)

    def work(session, project):
        loaded = load_request(StudyApprovalSchema(), body)
        return links.approve_study(session, project, study_id, current_user.email,
                                   current_user.id, loaded.get("note"))

    return _act(project_id, "approve", _("The study was not approved."), "studies-h",
                work)


@bp.post("/<int:project_id>/p90-case")
@page_roles(*PIPELINE_PAGE_ROLES)
def p90_case(project_id: int):
    """Make the P90 finance case of a base case (the API's ``POST …/p90-case``)."""
    body = _body(case_id=_form_id("case_id"), study_id=_form_id("study_id"))

    def work(session, project):
        return links.create_p90_case(session, project, load_request(P90CaseSchema(), body),
                                     current_user.id)

    return _act(project_id, "p90", _("The P90 case was not made."), "cases-h", work)


@bp.get("/<int:project_id>/site.geojson")
@page_roles(*PIPELINE_PAGE_ROLES)
def site(project_id: int):
    """The project's site outline as GeoJSON (EPSG:4326) for the small map."""
    session = db()
    row = projects.get_visible_project(session, project_id)
    features = []
    if row.site_id is not None:
        record = site_json(session, get_site(session, row.site_id))
        if record["geometry"] is not None:
            features.append({"type": "Feature", "geometry": record["geometry"],
                             "properties": {"name": record["name"] or row.name}})
    return {"type": "FeatureCollection", "features": features}
