"""``fondo users`` and ``fondo tokens``: people who sign in and their API tokens."""

from __future__ import annotations

import click

from fondo.accounts.service import create_token, create_user
from fondo.commands import echo_json, handle_errors, needs_database, settings_from
from fondo.db import session_scope


@click.group()
def users() -> None:
    """People who sign in."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["officer", "investor", "analyst", "admin"]))
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--name", "display_name", default=None)
@click.pass_context
@handle_errors
@needs_database
def users_create(ctx: click.Context, email: str, role: str, password: str, display_name: str | None) -> None:
    """Create a user with a role."""
    with session_scope(settings_from(ctx)) as session:
        user = create_user(session, email, role, password, display_name)
        echo_json({"id": user.id, "email": user.email, "role": user.role.value})


@click.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="What the token is for.")
@click.pass_context
@handle_errors
@needs_database
def tokens_create(ctx: click.Context, email: str, name: str | None) -> None:
    """Create a bearer token for a user and print it (it is shown only once)."""
    with session_scope(settings_from(ctx)) as session:
        click.echo(create_token(session, email, name))
