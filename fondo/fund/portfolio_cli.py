"""``fondo portfolio``: the fund, its LP ledger, allocations, limits, portfolio and ESG.

Each command prints the JSON of its REST endpoint (``fondo portfolio summary`` =
``GET /api/v1/portfolio/summary``); write commands take the endpoint's JSON body
(``--input FILE``, ``-`` for standard input), loaded by the same request schema. Errors
print one line and exit non-zero; nothing is stored on an error. The command line acts
as the fund's staff (it has the database), as ``fondo finance`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from fondo.commands import (DATABASE_ID, echo_json, handle_errors, needs_database,
                            read_json_input, settings_from)
from fondo.db import session_scope
from fondo.fund import allocations, esg, ledger, limits, portfolio
from fondo.fund.portfolio_schemas import (AllocationRequestSchema,
                                          ConcentrationLimitRequestSchema, FundRequestSchema,
                                          LedgerEntryRequestSchema, LimitedPartnerRequestSchema,
                                          MAX_PORTFOLIO_DRAWS,
                                          PortfolioMonteCarloRequestSchema)
from fondo.request_body import load_request

INPUT_HELP = "JSON body of the matching API request, '-' for standard input."


@click.group("portfolio")
def portfolio_group() -> None:
    """The fund: LP ledger, allocations, limits, portfolio returns and risk, ESG."""


def _command(name: str, *params: Callable) -> Callable:
    """Register ``fondo portfolio NAME``: ``params`` (its arguments and options, top first)
    over the context, one-line errors and a ready database, as every command here has them."""

    def register(function: Callable) -> click.Command:
        command = click.pass_context(handle_errors(needs_database(function)))
        for param in reversed(params):
            command = param(command)
        return portfolio_group.command(name)(command)

    return register


_fund_option = click.option("--fund-id", type=DATABASE_ID, default=None,
                            help="The fund (default: the first).")
#: The fund in the path of the endpoint (``/api/v1/funds/FUND_ID/...``).
_fund_argument = click.argument("fund_id", type=DATABASE_ID)
_input_option = click.option("--input", "input_path", required=True, help=INPUT_HELP)
_as_of_year_option = click.option("--as-of-year", type=click.IntRange(1990, 2100), default=None)


@_command("summary", _fund_option, _as_of_year_option,
          click.option("--draws", type=click.IntRange(0, MAX_PORTFOLIO_DRAWS), default=0,
                       show_default=True, help="Monte Carlo draws of the fund's IRR."),
          click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=0,
                       show_default=True))
def summary(ctx: click.Context, fund_id: int | None, as_of_year: int | None, draws: int,
            seed: int) -> None:
    """Print GET /api/v1/portfolio/summary."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        fund = portfolio.resolve_fund(session, fund_id, None)
        echo_json(portfolio.portfolio_summary(session, fund, settings=settings,
                                              as_of_year=as_of_year, draws=draws, seed=seed))


@_command("lp", click.argument("lp_id", type=DATABASE_ID), _as_of_year_option)
def lp(ctx: click.Context, lp_id: int, as_of_year: int | None) -> None:
    """Print GET /api/v1/portfolio/lp/LP_ID."""
    with session_scope(settings_from(ctx)) as session:
        echo_json(portfolio.lp_summary(session, lp_id, as_of_year=as_of_year))


@_command("esg", _fund_option,
          click.option("--xlsx", "xlsx_path", default=None, help="Write the XLSX workbook here."))
def esg_command(ctx: click.Context, fund_id: int | None, xlsx_path: str | None) -> None:
    """Print GET /api/v1/portfolio/esg (and write /esg.xlsx with --xlsx)."""
    settings = settings_from(ctx)
    with session_scope(settings) as session:
        report = esg.esg_report(session, portfolio.resolve_fund(session, fund_id, None),
                                settings)
    if xlsx_path:
        Path(xlsx_path).write_bytes(esg.esg_xlsx(report))
    echo_json(report)


@_command("funds")
def funds(ctx: click.Context) -> None:
    """Print GET /api/v1/funds."""
    with session_scope(settings_from(ctx)) as session:
        echo_json({"funds": [ledger.fund_json(session, f) for f in ledger.list_funds(session)]})


def _read(ctx: click.Context, fund_id: int, view: Callable) -> None:
    """Print ``view(session, fund)`` for the fund ``fund_id`` (a GET under /funds/FUND_ID)."""
    with session_scope(settings_from(ctx)) as session:
        echo_json(view(session, ledger.get_fund(session, fund_id)))


def _write(ctx: click.Context, schema: Any, input_path: str, action) -> None:
    body = load_request(schema, read_json_input(input_path))
    with session_scope(settings_from(ctx)) as session:
        out = action(session, body)
        session.commit()
        echo_json(out)


@_command("fund-create", _input_option)
def fund_create(ctx: click.Context, input_path: str) -> None:
    """POST /api/v1/funds."""
    _write(ctx, FundRequestSchema(), input_path,
           lambda s, b: ledger.fund_json(s, ledger.create_fund(s, b)))


@_command("lp-create", _fund_argument, _input_option)
def lp_create(ctx: click.Context, fund_id: int, input_path: str) -> None:
    """POST /api/v1/funds/FUND_ID/limited-partners."""
    def act(s, b):
        lp_row = ledger.create_limited_partner(s, fund_id, b)
        fund = ledger.get_fund(s, fund_id)
        return ledger.limited_partner_json(lp_row, fund, ledger.positions(s, fund)[lp_row.id])
    _write(ctx, LimitedPartnerRequestSchema(), input_path, act)


@_command("limited-partners", _fund_argument)
def limited_partners(ctx: click.Context, fund_id: int) -> None:
    """GET /api/v1/funds/FUND_ID/limited-partners."""
    def view(session, fund):
        pos = ledger.positions(session, fund)
        return {"limited_partners": [ledger.limited_partner_json(x, fund, pos[x.id])
                                     for x in ledger.list_limited_partners(session, fund_id)]}
    _read(ctx, fund_id, view)


@_command("ledger-add", _fund_argument, _input_option)
def ledger_add(ctx: click.Context, fund_id: int, input_path: str) -> None:
    """POST /api/v1/funds/FUND_ID/ledger."""
    _write(ctx, LedgerEntryRequestSchema(), input_path,
           lambda s, b: ledger.entry_json(ledger.create_entry(s, fund_id, b),
                                          ledger.get_fund(s, fund_id)))


@_command("ledger", _fund_argument)
def ledger_list(ctx: click.Context, fund_id: int) -> None:
    """GET /api/v1/funds/FUND_ID/ledger."""
    _read(ctx, fund_id, lambda s, fund: {
        "entries": [ledger.entry_json(e, fund) for e in ledger.list_entries(s, fund_id)]})


@_command("allocate", _fund_argument, _input_option)
def allocate(ctx: click.Context, fund_id: int, input_path: str) -> None:
    """POST /api/v1/funds/FUND_ID/allocations."""
    def act(s, b):
        row, warnings = allocations.create_allocation(s, fund_id, b)
        return allocations.allocation_json(row, ledger.get_fund(s, fund_id), warnings)
    _write(ctx, AllocationRequestSchema(), input_path, act)


@_command("allocations", _fund_argument)
def allocation_list(ctx: click.Context, fund_id: int) -> None:
    """GET /api/v1/funds/FUND_ID/allocations."""
    _read(ctx, fund_id, lambda s, fund: {
        "allocations": [allocations.allocation_json(r, fund)
                        for r in allocations.list_allocations(s, fund_id)]})


@_command("limit-set", _fund_argument, _input_option)
def limit_set(ctx: click.Context, fund_id: int, input_path: str) -> None:
    """PUT /api/v1/funds/FUND_ID/limits."""
    _write(ctx, ConcentrationLimitRequestSchema(), input_path,
           lambda s, b: limits.limit_json(limits.set_limit(s, fund_id, b)))


@_command("limits", _fund_argument)
def limit_list(ctx: click.Context, fund_id: int) -> None:
    """GET /api/v1/funds/FUND_ID/limits."""
    _read(ctx, fund_id, lambda s, fund: {
        "limits": [limits.limit_json(r) for r in limits.list_limits(s, fund_id)],
        "status": limits.evaluate(s, fund)})


@_command("montecarlo",
          click.option("--input", "input_path", default=None,
                       help="JSON of POST /api/v1/portfolio/montecarlo (default: every default)."),
          click.option("--queue", is_flag=True,
                       help="Queue it for the workers instead of running it here."))
def montecarlo(ctx: click.Context, input_path: str | None, queue: bool) -> None:
    """Monte Carlo of the fund's IRR over every project's case; print the task's JSON."""
    from fondo.celery_app import make_celery
    from fondo.errors import FondoError
    from fondo.jobs import Job, JobState, job_status, launch

    settings = settings_from(ctx)
    body = load_request(PortfolioMonteCarloRequestSchema(),
                        read_json_input(input_path) if input_path else {})
    with session_scope(settings) as session:
        fund = portfolio.resolve_fund(session, body.get("fund_id"), None)
        job = portfolio.create_montecarlo_job(session, fund, body)
        session.commit()
        job_id, params = job.id, dict(job.params)
    celery = make_celery(settings if queue else {**settings, "TASK_ALWAYS_EAGER": True})
    with session_scope(settings) as session:
        launch(celery, portfolio.MONTECARLO_TASK, session.get(Job, job_id), params)
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        if not queue and job.state is not JobState.SUCCESS:
            raise FondoError(f"The fund's Monte Carlo failed: {job.error}")
        echo_json(job_status(job) | {"result": job.result})
