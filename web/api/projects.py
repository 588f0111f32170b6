"""``/api/v1/projects``: the fund's projects and their pipeline (issue 11, part A).

Who may do what (:mod:`web.api.permissions`): officers (and admins) create, edit and move
projects, link and approve yield studies, store site checks and P90 cases; analysts read
every project; investors read the projects of the funds in which they act for a limited
partner — another project is the same 404 as an unknown id.

Edits are optimistic (issue 11 item 9): ``GET`` answers the project's version in its body
and as an ``ETag``; ``PATCH`` needs that version (body ``version`` or ``If-Match``) and a
project changed since is a 409 problem with ``current_version``. A refused move is a 409
problem listing every unmet gate (``unmet_gates``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields

from fondo.accounts.models import Role
from fondo.db import run_unit_of_work
from fondo.errors import InvalidInput
from fondo.fund import gates as fund_gates
from fondo.fund import links, projects, transitions
from fondo.fund.schemas import (
    P90CaseSchema,
    ProjectCreateSchema,
    ProjectListQuerySchema,
    ProjectUpdateSchema,
    StudyApprovalSchema,
    StudyLinkSchema,
    TransitionRequestSchema,
)
from fondo.finance import service as finance_service
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.idempotency import idempotency_doc, idempotent
from web.api.permissions import visible_fund_ids
from web.auth import api_user, require_role
from web.context import db, settings

blp = Blueprint("projects", __name__, url_prefix="/api/v1/projects",
                description="Projects and the pipeline: stages, gates, moves and their history")

#: Who reads projects (investors: their funds' only; admins pass every check).
READ_ROLES = (Role.OFFICER, Role.ANALYST, Role.INVESTOR)
#: Who creates, edits and moves projects.
WRITE_ROLES = (Role.OFFICER,)
_ERRORS = (401, 403, 404, 409, 422)


class GateResultSchema(Schema):
    """One gate as evaluated."""

    name = fields.String()
    passed = fields.Boolean()
    reason = fields.String()


class MoveSchema(Schema):
    """One move of a project: from, to, who, when, why, and the gates evaluated."""

    project_id = fields.Integer()
    kind = fields.String(metadata={"description": "forward, back, drop or reopen."})
    to = fields.String()
    reason = fields.String(allow_none=True)
    by = fields.String()
    at = fields.String()
    gates = fields.List(fields.Nested(GateResultSchema))
    version = fields.Integer()


class ProjectSchema(Schema):
    """A project with its links, consultation facts and history."""

    id = fields.Integer()
    name = fields.String()
    fund_id = fields.Integer(allow_none=True)
    site_id = fields.Integer(allow_none=True)
    technology = fields.String()
    capacity_ac_mw = fields.Float(metadata={"description": "[MW]"})
    capacity_dc_mw = fields.Float(allow_none=True, metadata={"description": "[MW]"})
    corridor_id = fields.String(allow_none=True)
    state_key = fields.String(allow_none=True)
    municipality_key = fields.String(allow_none=True)
    stage = fields.String()
    version = fields.Integer(metadata={"description": "Optimistic lock; also the ETag."})
    is_demo = fields.Boolean()
    created_at = fields.String()
    updated_at = fields.String(allow_none=True)
    site_check = fields.Dict(allow_none=True)
    studies = fields.List(fields.Dict(), metadata={"description": "Linked studies and their "
                                                                  "approval (who, when)."})
    finance_cases = fields.List(fields.Dict())
    consultation = fields.Dict(metadata={"description": "project_consultation_gates."})
    history = fields.List(fields.Dict(), metadata={"description": "Every move, oldest first."})
    links = fields.Dict()


IF_MATCH_DOC = {"parameters": [{
    "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
    "description": 'The version read, as its ETag ("3"); or send "version" in the body.'}]}


def _fund_ids() -> set[int] | None:
    return visible_fund_ids(db(), api_user())


def _etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def _if_match() -> int | None:
    """The version of an ``If-Match`` header (``"3"`` or ``W/"3"``), None without one."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or not 1 <= int(text) < 2**31:
        raise InvalidInput(f"If-Match must be the project's version as an ETag (\"3\"), "
                           f"got {raw!r}.", field="If-Match")
    return int(text)


def _expected_version(body: dict[str, Any]) -> int | None:
    header, field = _if_match(), body.get("version")
    if header is not None and field is not None and header != field:
        raise InvalidInput(f"version {field} and If-Match {header} disagree.", field="version")
    return field if field is not None else header


def _actor() -> str:
    return api_user().email


def _project_answer(project_id: int, status: int = 200, headers: dict | None = None):
    project = projects.get_visible_project(db(), project_id, _fund_ids())
    return strict_json(projects.project_json(db(), project), status,
                       _etag(project.version) | (headers or {}))


@blp.get("")
@require_role(*READ_ROLES)
@blp.arguments(ProjectListQuerySchema, location="query")
def list_projects(query: dict[str, Any]):
    """Projects by id (filter by `stage`, `fund_id`, `technology`), without history."""
    rows = projects.list_projects(db(), query, _fund_ids())
    return strict_json({"projects": [projects.project_summary_json(p) for p in rows]})


@blp.post("")
@require_role(*WRITE_ROLES)
@idempotent
@blp.arguments(ProjectCreateSchema, description="The project.")
@blp.doc(**idempotency_doc(201))
@blp.doc(**responses_doc(201, ProjectSchema, "Stored at stage origination; `Location`.",
                         errors=(401, 403, 422)))
def create_project(body: dict[str, Any]):
    """Create a project at stage `origination` (capacity > 0; fund, site, corridor must
    exist); 422 naming the field otherwise, nothing stored."""
    user = api_user()
    project = run_unit_of_work(db(), lambda s: projects.create_project(s, body, user.email,
                                                                       user.id))
    return _project_answer(project.id, 201, {"Location": projects.project_url(project.id)})


@blp.get("/gates")
@require_role(*READ_ROLES)
def gate_table():
    """Every gate: the stage it guards, its name and what it asks."""
    return strict_json({"gates": fund_gates.gate_table(),
                        "default_p90_dscr_covenant": fund_gates.DEFAULT_P90_DSCR_COVENANT})


@blp.get("/<int:project_id>")
@require_role(*READ_ROLES)
@blp.doc(**responses_doc(200, ProjectSchema, "The project; `ETag` is its version."))
def get_project(project_id: int):
    """The project with its site check, studies, finance cases, consultation facts and
    its history of moves (who, when, why); `ETag` is its version."""
    return _project_answer(project_id)


@blp.patch("/<int:project_id>")
@require_role(*WRITE_ROLES)
@blp.arguments(ProjectUpdateSchema, description="Fields to change and the version read.")
@blp.doc(**IF_MATCH_DOC)
@blp.doc(**responses_doc(200, ProjectSchema, "The project at its new version.",
                         errors=_ERRORS))
def update_project(body: dict[str, Any], project_id: int):
    """Edit a project; needs the version read (body `version` or `If-Match`). A project
    changed since is a 409 with `current_version`; nothing is stored."""
    expected = _expected_version(body)
    fund_ids = _fund_ids()
    run_unit_of_work(db(), lambda s: projects.update_project(s, project_id, body, expected,
                                                             fund_ids))
    return _project_answer(project_id)


@blp.post("/<int:project_id>/transitions")
@require_role(*WRITE_ROLES)
@blp.arguments(TransitionRequestSchema, description="`to` (a stage) and `reason`.")
@blp.doc(**responses_doc(201, MoveSchema, "The move, recorded. A 409 problem lists "
                         "`unmet_gates` (name, reason).", errors=_ERRORS))
def move_project(body: dict[str, Any], project_id: int):
    """Move the project to another stage; 409 lists every unmet gate (`unmet_gates`)."""
    user = api_user()
    out = run_unit_of_work(db(), lambda s: transitions.move_project(
        s, project_id, body, user.email, user.id))
    return strict_json(out, 201, _etag(out["version"]))


@blp.get("/<int:project_id>/transitions")
@require_role(*READ_ROLES)
def list_transitions(project_id: int):
    """The project's moves, oldest first: from, to, who, when, why, gates evaluated."""
    projects.get_visible_project(db(), project_id, _fund_ids())
    return strict_json({"project_id": project_id,
                        "history": projects.history_json(db(), project_id)})


@blp.get("/<int:project_id>/gates")
@require_role(*READ_ROLES)
def next_gates(project_id: int):
    """The gates of the project's next stage, evaluated now."""
    return strict_json(transitions.gates_json(db(), project_id, _fund_ids()))


@blp.post("/<int:project_id>/studies")
@require_role(*WRITE_ROLES)
@blp.arguments(StudyLinkSchema)
@blp.doc(**responses_doc(201, ProjectSchema, "The project with the study linked.",
                         errors=_ERRORS))
def link_study(body: dict[str, Any], project_id: int):
    """Link a finished yield study of the project's technology."""
    run_unit_of_work(db(), lambda s: links.link_study(
        s, projects.get_visible_project(s, project_id), body["study_id"], _actor()))
    return _project_answer(project_id, 201)


@blp.post("/<int:project_id>/studies/<int:study_id>/approval")
@require_role(*WRITE_ROLES)
@blp.arguments(StudyApprovalSchema, required=False)
@blp.doc(**responses_doc(201, ProjectSchema, "The project with the approval recorded.",
                         errors=_ERRORS))
def approve_study(body: dict[str, Any], project_id: int, study_id: int):
    """Approve a linked yield study for financial close (who and when are recorded)."""
    user = api_user()
    body = body or {}
    run_unit_of_work(db(), lambda s: links.approve_study(
        s, projects.get_visible_project(s, project_id), study_id, user.email, user.id,
        body.get("note")))
    return _project_answer(project_id, 201)


@blp.post("/<int:project_id>/site-check")
@require_role(*WRITE_ROLES)
@blp.doc(**responses_doc(201, None, "The site check, stored on the site.", errors=_ERRORS))
def store_site_check(project_id: int):
    """Check the project's site now (as `POST /api/v1/screenings/site-check`) and store it
    on the site; the due-diligence gate reads it."""
    actor = _actor()
    out = run_unit_of_work(db(), lambda s: links.store_site_check(
        settings(), s, projects.get_visible_project(s, project_id), actor))
    return strict_json(out, 201)


@blp.post("/<int:project_id>/p90-case")
@require_role(*WRITE_ROLES)
@blp.arguments(P90CaseSchema)
@blp.doc(**responses_doc(201, None, "The P90 finance case, stored.", errors=_ERRORS))
def create_p90_case(body: dict[str, Any], project_id: int):
    """Re-run a finance case of the project on its approved study's P90 energy: the case
    the financial-close gate tests against the lender's DSCR covenant."""
    user = api_user()
    row = run_unit_of_work(db(), lambda s: links.create_p90_case(
        s, projects.get_visible_project(s, project_id), body, user.id))
    return strict_json(finance_service.case_summary_json(row), 201,
                       {"Location": f"/api/v1/finance/cases/{row.id}"})
