"""The ``fondo`` command line: every command group, registered in one written-out list.

Every command reads the same settings as the web process (``FONDO_*`` variables). Commands
that mirror an API endpoint take the same JSON (``--input FILE``, ``-`` for standard input),
validated by the same request schema, and print the same JSON. Errors print one line to
standard error and exit non-zero. The commands that need the web app (``serve``,
``openapi``) are added by :mod:`web.cli`, the installed entry point.
"""

from __future__ import annotations

import click

from fondo import migrate
from fondo.accounts import cli as accounts_cli
from fondo.commands import echo_json, handle_errors, settings_from
from fondo.consultation import cli as consultation_cli
from fondo.data import cli as data_cli
from fondo.finance import cli as finance_cli
from fondo.fund import cli as fund_cli
from fondo.fund import portfolio_cli
from fondo.maps import cli as maps_cli
from fondo.runner import run_worker
from fondo.screening import cli as screening_cli
from fondo.seed import seed_all
from fondo.studies import cli as studies_cli


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
@handle_errors
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = settings_from(ctx)
    migrate.upgrade(settings, revision)
    click.echo(f"database at revision {', '.join(migrate.current_revisions(settings))}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
@handle_errors
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Take migrations down to REVISION (``base`` drops every table)."""
    migrate.downgrade(settings_from(ctx), revision)
    click.echo(f"database at revision {', '.join(migrate.current_revisions(settings_from(ctx)))}")


@click.command()
@click.option("--demo", is_flag=True, help="Also load the demo fund and its demo projects.")
@click.pass_context
@handle_errors
def seed(ctx: click.Context, demo: bool) -> None:
    """Load corridors and weather stations from the bundled data (and the demo fund)."""
    settings = settings_from(ctx)
    migrate.upgrade(settings)
    echo_json(seed_all(settings, demo=demo))


@click.command()
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.pass_context
@handle_errors
def worker(ctx: click.Context, concurrency: int) -> None:
    """Run a Celery worker with the same settings (production: run several)."""
    run_worker(settings_from(ctx), concurrency=concurrency)


#: Every command group of the ``fondo`` command, in the order ``fondo --help`` lists them.
COMMANDS = (
    db,
    seed,
    worker,
    accounts_cli.users,
    accounts_cli.tokens,
    data_cli.data,
    screening_cli.screen,
    screening_cli.sites_group,
    studies_cli.yield_group,
    studies_cli.study_group,
    finance_cli.finance_group,
    consultation_cli.consultation,
    fund_cli.projects_group,
    portfolio_cli.portfolio_group,
    maps_cli.map_group,
)


@click.group(commands=COMMANDS)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Fondo: the Canada-Mexico renewable co-investment fund's system."""
    ctx.ensure_object(dict)


if __name__ == "__main__":
    main()
