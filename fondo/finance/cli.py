"""``fondo finance``: run and store finance cases, run their Monte Carlo (issue 4).

``fondo finance run --input FILE`` takes the JSON of ``POST /api/v1/finance/cases``,
validated by the same request schema, and prints the same JSON the API answers; ``fondo
finance montecarlo ID`` runs a Monte Carlo of a stored case here and now (or queues it for
the workers with ``--queue``). Commands that read or store cases migrate and seed a fresh
instance on first use.
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
from fondo.errors import FondoError, InvalidInput
from fondo.finance import exports
from fondo.finance import service as svc
from fondo.finance.schemas import FinanceCaseRequestSchema, MonteCarloRequestSchema
from fondo.instance import ensure_ready
from fondo.jobs import Job, JobState, job_status, launch
from fondo.request_body import load_request


@click.group("finance")
def finance_group() -> None:
    """Finance cases: cash flows, capital stack, returns, Monte Carlo."""


@finance_group.command("run")
@click.option("--input", "input_path", required=True,
              help="JSON of the case (the API's request), '-' for standard input.")
@click.option("--store/--no-store", default=True, show_default=True,
              help="Store the case (as the API does) or only compute and print it.")
@click.pass_context
@handle_errors
def finance_run(ctx: click.Context, input_path: str, store: bool) -> None:
    """Run a finance case and print the API's JSON (metrics, tranches, cash flows).

    With ``--store`` (the default) the database is needed, and a fresh instance is migrated
    and seeded first (as :func:`fondo.commands.needs_database` does); ``--no-store`` reads no
    database at all.
    """
    body = load_request(FinanceCaseRequestSchema(), read_json_input(input_path))
    if not store:
        if any(body.get(k) is not None for k in svc.SHELL_FIELDS):
            raise InvalidInput("--no-store takes the engine's fields only (no name, project_id "
                               "or study_id).", field="body")
        _inputs, result = svc.evaluate_request(body)
        echo_json({"request": body} | result)
        return
    settings = settings_from(ctx)
    ensure_ready(settings)
    with session_scope(settings) as session:
        row = svc.create_case(session, body)
        session.commit()
        echo_json(svc.case_json(row))


@finance_group.command("show")
@click.argument("case_id", type=DATABASE_ID)
@click.pass_context
@handle_errors
@needs_database
def finance_show(ctx: click.Context, case_id: int) -> None:
    """Print a stored case (the JSON of GET /api/v1/finance/cases/ID)."""
    with session_scope(settings_from(ctx)) as session:
        echo_json(svc.case_json(svc.get_case(session, case_id)))


@finance_group.command("export")
@click.argument("case_id", type=DATABASE_ID)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
              show_default=True)
@click.option("--output", "output", required=True, type=click.Path(dir_okay=False),
              help="File to write ('-' for standard output, CSV only).")
@click.pass_context
@handle_errors
@needs_database
def finance_export(ctx: click.Context, case_id: int, fmt: str, output: str) -> None:
    """Write a stored case's cash flows as CSV, or the whole case as XLSX."""
    with session_scope(settings_from(ctx)) as session:
        row = svc.get_case(session, case_id)
        if fmt == "csv":
            text = exports.cashflows_csv(row)
            if output == "-":
                click.echo(text, nl=False)
            else:
                Path(output).write_text(text, encoding="utf-8")
            return
        if output == "-":
            raise InvalidInput("XLSX is binary: give a file with --output.", field="output")
        Path(output).write_bytes(exports.cashflows_xlsx(row))


@finance_group.command("montecarlo")
@click.argument("case_id", type=DATABASE_ID)
@click.option("--input", "input_path", default=None,
              help="JSON of the Monte Carlo request (as the API's), '-' for standard input.")
@click.option("--queue", is_flag=True,
              help="Send the task to the workers and print the task instead of waiting.")
@click.pass_context
@handle_errors
@needs_database
def finance_montecarlo(ctx: click.Context, case_id: int, input_path: str | None,
                       queue: bool) -> None:
    """Run a Monte Carlo of stored case CASE_ID; print the run with its summary."""
    settings = settings_from(ctx)
    body = load_request(MonteCarloRequestSchema(),
                        read_json_input(input_path) if input_path else {})
    with session_scope(settings) as session:
        job, run = svc.create_montecarlo_run(session, case_id, body)
        job_id, run_id, params = job.id, run.id, dict(job.params)
    celery = make_celery(settings if queue else {**settings, "TASK_ALWAYS_EAGER": True})
    with session_scope(settings) as session:
        launch(celery, svc.MONTECARLO_TASK, session.get(Job, job_id), params)
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if queue:
            echo_json(job_status(job) | {"run": svc.montecarlo_run_url(case_id, run_id)})
            return
        if job.state is not JobState.SUCCESS:
            raise FondoError(f"Monte Carlo of case {case_id} failed: {job.error}")
        echo_json(svc.montecarlo_run_json(session,
                                          svc.get_montecarlo_run(session, case_id, run_id)))



@finance_group.command("depreciation-rate")
@click.argument("case_id", type=DATABASE_ID)
@click.option("--objective", type=click.Choice(["npv_usd", "equity_npv_usd"]), default="npv_usd",
              show_default=True, help="The after-tax NPV to maximise.")
@click.pass_context
@handle_errors
@needs_database
def finance_depreciation_rate(ctx: click.Context, case_id: int, objective: str) -> None:
    """Print the depreciation rate (up to 100 % a year) that maximises an after-tax NPV of
    stored case CASE_ID (the JSON of GET /api/v1/finance/cases/ID/depreciation-election)."""
    with session_scope(settings_from(ctx)) as session:
        echo_json(svc.depreciation_election_json(svc.get_case(session, case_id), objective))
