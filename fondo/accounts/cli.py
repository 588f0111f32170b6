"""``fondo users`` and ``fondo tokens``: people who sign in and their API tokens."""

from __future__ import annotations

import click

from fondo.accounts.service import (
    create_token,
    create_user,
    get_user_by_email,
    link_limited_partner,
    revoke_sessions,
    set_password,
)
from fondo.commands import (
    DATABASE_ID,
    echo_json,
    handle_errors,
    needs_database,
    settings_from,
)
from fondo.db import session_scope


@click.group()
def users() -> None:
    """People who sign in."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["officer", "investor", "analyst", "admin"]))
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--name", "display_name", default=None)
@click.option("--limited-partner", "limited_partner_ids", type=DATABASE_ID, multiple=True,
              help="Id of a limited partner the investor acts for (repeatable).")
@click.pass_context
@handle_errors
@needs_database
def users_create(ctx: click.Context, email: str, role: str, password: str,
                 display_name: str | None, limited_partner_ids: tuple[int, ...]) -> None:
    """Create a user with a role (an investor with the limited partners they act for)."""
    with session_scope(settings_from(ctx)) as session:
        user = create_user(session, email, role, password, display_name, limited_partner_ids)
        answer = {"id": user.id, "email": user.email, "role": user.role.value}
        if limited_partner_ids:
            answer["limited_partner_ids"] = sorted(set(limited_partner_ids))
        echo_json(answer)


@users.command("link-lp")
@click.option("--email", required=True)
@click.option("--limited-partner", "limited_partner_id", type=DATABASE_ID, required=True)
@click.option("--unlink", is_flag=True, help="Remove the link instead.")
@click.pass_context
@handle_errors
@needs_database
def users_link_lp(ctx: click.Context, email: str, limited_partner_id: int, unlink: bool) -> None:
    """Link an investor to a limited partner: they see the cases of its fund (read-only)."""
    with session_scope(settings_from(ctx)) as session:
        ids = link_limited_partner(session, email, limited_partner_id, linked=not unlink)
        echo_json({"email": email.strip().lower(), "limited_partner_ids": ids})


@users.command("set-password")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.pass_context
@handle_errors
@needs_database
def users_set_password(ctx: click.Context, email: str, password: str) -> None:
    """Set a user's password; their signed-in sessions end."""
    with session_scope(settings_from(ctx)) as session:
        echo_json({"email": email.strip().lower(),
                   "sessions_revoked": set_password(session, email, password)})


@users.command("sign-out")
@click.option("--email", required=True)
@click.pass_context
@handle_errors
@needs_database
def users_sign_out(ctx: click.Context, email: str) -> None:
    """End every signed-in session of a user (API tokens are not touched)."""
    with session_scope(settings_from(ctx)) as session:
        user = get_user_by_email(session, email)
        echo_json({"email": user.email, "sessions_revoked": revoke_sessions(session, user.id)})


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
