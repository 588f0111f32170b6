"""``fondo yield`` and ``fondo study``: yield studies from the command line (issue 3).

``fondo yield pv --input FILE`` and ``fondo yield wind --input FILE`` take the JSON of
``POST /api/v1/yield/pv`` / ``…/wind`` (``-`` for standard input), validated by the same
request schema, and print the same JSON the API answers. ``fondo study create --input FILE``
stores and runs a study (the body of ``POST /api/v1/studies``); ``fondo study export ID
--format csv|xlsx|pdf|json [--out FILE]`` writes one of its exports (to standard output when
``--out`` is not given). Each migrates and seeds a fresh instance on first use.
"""

from __future__ import annotations

from pathlib import Path

import click

from fondo.celery_app import make_celery
from fondo.commands import (
    DATABASE_ID,
    echo_json,
    handle_errors,
    needs_database,
    read_json_input,
    settings_from,
)
from fondo.db import session_scope
from fondo.errors import FondoError
from fondo.jobs import Job, JobState, job_status, launch
from fondo.request_body import load_request
from fondo.studies import service as svc
from fondo.studies.schemas import REQUEST_SCHEMAS, StudyRequestSchema


@click.group("yield")
def yield_group() -> None:
    """Quick energy-yield runs (nothing stored)."""


def _quick(ctx: click.Context, technology: str, input_path: str, hourly: bool) -> None:
    settings = settings_from(ctx)
    body = load_request(REQUEST_SCHEMAS[technology](), read_json_input(input_path))
    with session_scope(settings) as session:
        echo_json(svc.run_quick(settings, session, technology, body, hourly=hourly))


@yield_group.command("pv")
@click.option("--input", "input_path", required=True,
              help="JSON of the PV request (the API's), '-' for standard input.")
@click.option("--hourly", is_flag=True, help="Include the 8,760 hourly values.")
@click.pass_context
@handle_errors
@needs_database
def yield_pv(ctx: click.Context, input_path: str, hourly: bool) -> None:
    """Run a PV yield study and print the API's JSON."""
    _quick(ctx, "pv", input_path, hourly)


@yield_group.command("wind")
@click.option("--input", "input_path", required=True,
              help="JSON of the wind request (the API's), '-' for standard input.")
@click.option("--hourly", is_flag=True, help="Include the 8,760 hourly values.")
@click.pass_context
@handle_errors
@needs_database
def yield_wind(ctx: click.Context, input_path: str, hourly: bool) -> None:
    """Run a wind yield study and print the API's JSON."""
    _quick(ctx, "wind", input_path, hourly)


@click.group("study")
def study_group() -> None:
    """Stored yield studies: create, show, export."""


@study_group.command("create")
@click.option("--input", "input_path", required=True,
              help="JSON of POST /api/v1/studies ({technology, request, site_id}), '-' for "
                   "standard input.")
@click.option("--queue", is_flag=True,
              help="Send the task to the workers and print the task instead of waiting.")
@click.pass_context
@handle_errors
@needs_database
def study_create(ctx: click.Context, input_path: str, queue: bool) -> None:
    """Store a study and run it (here, or on the workers with --queue)."""
    settings = settings_from(ctx)
    body = load_request(StudyRequestSchema(), read_json_input(input_path))
    with session_scope(settings) as session:
        job, study = svc.create_study(settings, session, body)
        job_id, study_id, params = job.id, study.id, dict(job.params)
    celery = make_celery(settings if queue else {**settings, "TASK_ALWAYS_EAGER": True})
    with session_scope(settings) as session:
        launch(celery, svc.STUDY_TASK, session.get(Job, job_id), params)
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if queue:
            echo_json(job_status(job) | {"study_id": study_id,
                                         "study_url": svc.study_url(study_id)})
            return
        if job.state is not JobState.SUCCESS:
            raise FondoError(f"yield study {study_id} failed: {job.error}")
        echo_json(svc.study_json(svc.get_study(session, study_id)))


@study_group.command("show")
@click.argument("study_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def study_show(ctx: click.Context, study_id: int) -> None:
    """Print a stored study (the JSON of GET /api/v1/studies/ID)."""
    with session_scope(settings_from(ctx)) as session:
        echo_json(svc.study_json(svc.get_study(session, study_id)))


@study_group.command("export")
@click.argument("study_id", type=DATABASE_ID)
@click.option("--format", "fmt", type=click.Choice(svc.EXPORT_FORMATS), default="json",
              show_default=True)
@click.option("--out", "out", default=None, type=click.Path(dir_okay=False),
              help="File to write (default: standard output).")
@click.pass_context
@handle_errors
@needs_database
def study_export(ctx: click.Context, study_id: int, fmt: str, out: str | None) -> None:
    """Write a stored study as CSV (hourly), XLSX, PDF or JSON."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        data = svc.export_study(settings, svc.get_study(session, study_id), fmt)
    if out is None or out == "-":
        click.echo(data, nl=False)  # bytes go to the binary standard output
    else:
        Path(out).write_bytes(data)
