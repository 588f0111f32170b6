"""``fondo projects``: the fund's projects and their pipeline, the same JSON as the API.

Each command mirrors an endpoint of ``/api/v1/projects`` (and ``fondo projects register``
mirrors ``GET /api/v1/register``): requests are loaded by the same schemas
(:mod:`fondo.fund.schemas`) and the same JSON is printed; errors are one line on standard
error and a non-zero exit. Moves made here are recorded with the actor ``cli`` (or
``--actor``).
"""

from __future__ import annotations

from typing import Any

import click

from fondo.commands import (
    DATABASE_ID,
    echo_json,
    handle_errors,
    needs_database,
    read_json_input,
    settings_from,
)
from fondo.db import run_unit_of_work, session_scope
from fondo.finance import service as finance_service
from fondo.fund import gates, links, projects, register, transitions
from fondo.fund.schemas import (
    P90CaseSchema,
    ProjectCreateSchema,
    ProjectListQuerySchema,
    ProjectUpdateSchema,
    StudyApprovalSchema,
    StudyLinkSchema,
    TransitionRequestSchema,
)
from fondo.request_body import load_request

ACTOR_OPTION = click.option("--actor", default="cli", show_default=True,
                            help="Who is recorded as making the change.")


def _show(settings: dict[str, Any], project_id: int) -> None:
    with session_scope(settings) as session:
        echo_json(projects.project_json(session, projects.get_visible_project(session,
                                                                              project_id)))


@click.group("projects")
def projects_group() -> None:
    """Projects and the pipeline: stages, gates, moves, the public register."""


@projects_group.command("list")
@click.option("--stage", default=None, help="Only projects at this stage.")
@click.option("--fund-id", type=DATABASE_ID, default=None)
@click.option("--technology", default=None, help="pv or wind.")
@click.pass_context
@handle_errors
@needs_database
def projects_list(ctx: click.Context, stage: str | None, fund_id: int | None,
                  technology: str | None) -> None:
    """Print the projects (the JSON of GET /api/v1/projects)."""
    query = load_request(ProjectListQuerySchema(), {k: v for k, v in {
        "stage": stage, "fund_id": fund_id, "technology": technology}.items() if v is not None})
    with session_scope(settings_from(ctx)) as session:
        echo_json({"projects": [projects.project_summary_json(p)
                                for p in projects.list_projects(session, query)]})


@projects_group.command("show")
@click.argument("project_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def projects_show(ctx: click.Context, project_id: int) -> None:
    """Print a project with its history (the JSON of GET /api/v1/projects/ID)."""
    _show(settings_from(ctx), project_id)


@projects_group.command("create")
@click.option("--input", "input_path", required=True, help="JSON of the project, '-' for stdin.")
@ACTOR_OPTION
@click.pass_context
@handle_errors
@needs_database
def projects_create(ctx: click.Context, input_path: str, actor: str) -> None:
    """Create a project at stage origination (the body of POST /api/v1/projects)."""
    body = load_request(ProjectCreateSchema(), read_json_input(input_path))
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        project = run_unit_of_work(session, lambda s: projects.create_project(s, body, actor))
        project_id = project.id
    _show(settings, project_id)


@projects_group.command("edit")
@click.argument("project_id", type=DATABASE_ID)
@click.option("--input", "input_path", required=True,
              help="JSON of the changes with the version read, '-' for stdin.")
@click.pass_context
@handle_errors
@needs_database
def projects_edit(ctx: click.Context, project_id: int, input_path: str) -> None:
    """Edit a project (the body of PATCH /api/v1/projects/ID, ``version`` included)."""
    body = load_request(ProjectUpdateSchema(), read_json_input(input_path))
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        run_unit_of_work(session, lambda s: projects.update_project(
            s, project_id, body, body.get("version")))
    _show(settings, project_id)


@projects_group.command("move")
@click.argument("project_id", type=DATABASE_ID)
@click.option("--to", "to", required=True, help="Target stage.")
@click.option("--reason", default=None, help="Why (required to drop, go back or re-open).")
@ACTOR_OPTION
@click.pass_context
@handle_errors
@needs_database
def projects_move(ctx: click.Context, project_id: int, to: str, reason: str | None,
                  actor: str) -> None:
    """Move a project through a transition; prints the move, or every unmet gate."""
    body = load_request(TransitionRequestSchema(), {"to": to} | (
        {"reason": reason} if reason is not None else {}))
    with session_scope(settings_from(ctx)) as session:
        echo_json(run_unit_of_work(session, lambda s: transitions.move_project(
            s, project_id, body, actor)))


@projects_group.command("gates")
@click.argument("project_id", type=DATABASE_ID, required=False)
@click.pass_context
@handle_errors
@needs_database
def projects_gates(ctx: click.Context, project_id: int | None) -> None:
    """The gates of a project's next stage, evaluated now (without ID: the gate table)."""
    if project_id is None:
        echo_json({"gates": gates.gate_table(),
                   "default_p90_dscr_covenant": gates.DEFAULT_P90_DSCR_COVENANT})
        return
    with session_scope(settings_from(ctx)) as session:
        echo_json(transitions.gates_json(session, project_id))


@projects_group.command("history")
@click.argument("project_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def projects_history(ctx: click.Context, project_id: int) -> None:
    """The project's moves (the JSON of GET /api/v1/projects/ID/transitions)."""
    with session_scope(settings_from(ctx)) as session:
        projects.get_visible_project(session, project_id)
        echo_json({"project_id": project_id,
                   "history": projects.history_json(session, project_id)})


@projects_group.command("link-study")
@click.argument("project_id", type=DATABASE_ID)
@click.argument("study_id", type=DATABASE_ID)
@ACTOR_OPTION
@click.pass_context
@handle_errors
@needs_database
def projects_link_study(ctx: click.Context, project_id: int, study_id: int, actor: str) -> None:
    """Link a finished yield study to the project."""
    body = load_request(StudyLinkSchema(), {"study_id": study_id})
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        run_unit_of_work(session, lambda s: links.link_study(
            s, projects.get_visible_project(s, project_id), body["study_id"], actor))
    _show(settings, project_id)


@projects_group.command("approve-study")
@click.argument("project_id", type=DATABASE_ID)
@click.argument("study_id", type=DATABASE_ID)
@click.option("--note", default=None, help="What the approval rests on.")
@ACTOR_OPTION
@click.pass_context
@handle_errors
@needs_database
def projects_approve_study(ctx: click.Context, project_id: int, study_id: int,
                           note: str | None, actor: str) -> None:
    """Approve a linked yield study for financial close (who and when are recorded)."""
    body = load_request(StudyApprovalSchema(), {"note": note} if note is not None else {})
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        run_unit_of_work(session, lambda s: links.approve_study(
            s, projects.get_visible_project(s, project_id), study_id, actor, None,
            body.get("note")))
    _show(settings, project_id)


@projects_group.command("site-check")
@click.argument("project_id", type=DATABASE_ID)
@ACTOR_OPTION
@click.pass_context
@handle_errors
@needs_database
def projects_site_check(ctx: click.Context, project_id: int, actor: str) -> None:
    """Check the project's site now and store the result on the site."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        echo_json(run_unit_of_work(session, lambda s: links.store_site_check(
            settings, s, projects.get_visible_project(s, project_id), actor)))


@projects_group.command("p90-case")
@click.argument("project_id", type=DATABASE_ID)
@click.option("--case-id", type=DATABASE_ID, required=True, help="The base finance case.")
@click.option("--study-id", type=DATABASE_ID, default=None, help="The approved study.")
@click.pass_context
@handle_errors
@needs_database
def projects_p90_case(ctx: click.Context, project_id: int, case_id: int,
                      study_id: int | None) -> None:
    """Re-run a finance case on the approved study's P90 energy (the covenant's case)."""
    body = load_request(P90CaseSchema(), {"case_id": case_id} | (
        {"study_id": study_id} if study_id is not None else {}))
    with session_scope(settings_from(ctx)) as session:
        row = run_unit_of_work(session, lambda s: links.create_p90_case(
            s, projects.get_visible_project(s, project_id), body))
        echo_json(finance_service.case_summary_json(row))


@projects_group.command("register")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.pass_context
@handle_errors
@needs_database
def projects_register(ctx: click.Context, fmt: str) -> None:
    """The public register (GET /api/v1/register): nothing private in it."""
    with session_scope(settings_from(ctx)) as session:
        if fmt == "csv":
            click.echo(register.register_csv(session), nl=False)
        else:
            echo_json(register.register_json(session))
