"""``fondo screen`` and ``fondo sites check``: the screening and the site check from the shell.

``fondo screen --input FILE`` takes the JSON of ``POST /api/v1/screenings``, loaded by the
same schema (:class:`~fondo.screening.schemas.ScreeningRequestSchema`), stores the run as the
API does, screens its tiles here and now (the embedded path of the same task) and prints the
JSON of ``GET /api/v1/screenings/<id>``; ``--out cells.gpkg|.geojson|.csv`` also writes the
cells. It migrates and seeds a fresh instance folder on first use. ``fondo sites check
--input FILE`` takes the JSON of ``POST /api/v1/sites/check``
(:class:`~fondo.screening.schemas.SiteCheckRequestSchema`) and prints its answer; it reads the
layers only, never the database.
"""

from __future__ import annotations

from pathlib import Path

import click

from fondo.celery_app import make_celery
from fondo.commands import (
    echo_json,
    handle_errors,
    needs_database,
    read_json_input,
    settings_from,
)
from fondo.db import session_scope
from fondo.errors import FondoError, InvalidInput
from fondo.jobs import Job, JobState, launch
from fondo.request_body import load_request
from fondo.screening.exports import CELL_FORMATS, load_cells, write_cells
from fondo.screening.runs import (
    SCREENING_TASK,
    create_screening,
    get_screening,
    screening_json,
)
from fondo.screening.schemas import ScreeningRequestSchema, SiteCheckRequestSchema
from fondo.screening.site_check import check_site_request


@click.command("screen")
@click.option("--input", "input_path", required=True,
              help="JSON of the screening (the API's request), '-' for standard input.")
@click.option("--out", "out_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the cells to this file (.gpkg, .geojson or .csv).")
@click.pass_context
@handle_errors
@needs_database
def screen(ctx: click.Context, input_path: str, out_path: str | None) -> None:
    """Screen a corridor or polygon in this process and print the stored run's JSON."""
    settings = settings_from(ctx)
    if out_path is not None and Path(out_path).suffix.lower().lstrip(".") not in CELL_FORMATS:
        raise InvalidInput(f"--out must end in .{', .'.join(CELL_FORMATS)}", field="out")
    request = load_request(ScreeningRequestSchema(), read_json_input(input_path))
    with session_scope(settings) as session:
        run, job = create_screening(session, settings, request)
        run_id, job_id, params = run.id, job.id, dict(job.params)
    celery = make_celery({**settings, "TASK_ALWAYS_EAGER": True})
    with session_scope(settings) as session:
        launch(celery, SCREENING_TASK, session.get(Job, job_id), params)
    with session_scope(settings) as session:
        run = get_screening(session, run_id)
        job = session.get(Job, job_id)
        if job.state is not JobState.SUCCESS:
            raise FondoError(f"screening {run_id} failed: {job.error}")
        if out_path is not None:
            write_cells(load_cells(settings, run), Path(out_path))
        echo_json(screening_json(session, run))


@click.group("sites")
def sites_group() -> None:
    """Candidate sites."""


@sites_group.command("check")
@click.option("--input", "input_path", required=True,
              help="JSON of the check (the API's request), '-' for standard input.")
@click.pass_context
@handle_errors
def sites_check(ctx: click.Context, input_path: str) -> None:
    """Check a candidate site (point or polygon) and print the constraints and attributes."""
    request = load_request(SiteCheckRequestSchema(), read_json_input(input_path))
    echo_json(check_site_request(settings_from(ctx), request))
