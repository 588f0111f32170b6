"""The ``fondo`` command line.

Every command reads the same settings as the web process (``FONDO_*`` variables). Commands
that mirror an API endpoint take the same JSON (``--input FILE``, ``-`` for standard input)
and print the same JSON. Errors print one line to standard error and exit non-zero.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from fondo.config import ConfigError, load_settings
from fondo.errors import FondoError

#: Exit status for bad input or a failed check.
EXIT_FAILURE = 1
#: Exit status for a wrong setting or an unreachable service.
EXIT_CONFIG = 2


def _fail(message: str, code: int = EXIT_FAILURE) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(command: Callable) -> Callable:
    """Turn Fondo's errors into one line on standard error and a non-zero exit."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            _fail(str(exc), EXIT_CONFIG)
        except FondoError as exc:
            where = f" ({exc.field})" if exc.field else ""
            _fail(f"{exc.detail}{where}")

    return wrapped


def read_json_input(path: str) -> Any:
    """JSON from a file, or from standard input when ``path`` is ``-``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FondoError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FondoError(f"{path} is not valid JSON: {exc}") from None


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


class FondoGroup(click.Group):
    """The top-level group; feature commands (``fondo/cli_*.py``) join it on first lookup.

    Loading them lazily (not at import) lets a feature module import helpers from here.
    """

    _features_loaded = False

    def _load_features(self) -> None:
        if self._features_loaded:
            return
        self._features_loaded = True
        import importlib
        import pkgutil

        import fondo

        for module in pkgutil.iter_modules(fondo.__path__):
            if module.name.startswith("cli_"):
                for command in importlib.import_module(f"fondo.{module.name}").COMMANDS:
                    self.add_command(command)

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102 - click hook
        self._load_features()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str):  # noqa: D102 - click hook
        self._load_features()
        return super().get_command(ctx, cmd_name)


@click.group(cls=FondoGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Fondo: the Canada-Mexico renewable co-investment fund's system."""
    ctx.ensure_object(dict)


def settings_from(ctx: click.Context) -> dict[str, Any]:
    """Settings for this invocation (loaded once)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_settings()
    return obj["settings"]


# --- database -------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
@handle_errors
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION."""
    from fondo import migrate

    settings = settings_from(ctx)
    migrate.upgrade(settings, revision)
    click.echo(f"database at revision {', '.join(migrate.current_revisions(settings))}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
@handle_errors
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Take migrations down to REVISION (``base`` drops every table)."""
    from fondo import migrate

    migrate.downgrade(settings_from(ctx), revision)
    click.echo(f"database at revision {', '.join(migrate.current_revisions(settings_from(ctx)))}")


# --- users and tokens -----------------------------------------------------------------


@main.group()
def users() -> None:
    """People who sign in."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["officer", "investor", "analyst", "admin"]))
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--name", "display_name", default=None)
@click.pass_context
@handle_errors
def users_create(ctx: click.Context, email: str, role: str, password: str, display_name: str | None) -> None:
    """Create a user with a role."""
    from fondo.db import session_scope
    from fondo.users import create_user

    with session_scope(settings_from(ctx)) as session:
        user = create_user(session, email, role, password, display_name)
        echo_json({"id": user.id, "email": user.email, "role": user.role.value})


@main.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="What the token is for.")
@click.pass_context
@handle_errors
def tokens_create(ctx: click.Context, email: str, name: str | None) -> None:
    """Create a bearer token for a user and print it (it is shown only once)."""
    from fondo.db import session_scope
    from fondo.users import create_token

    with session_scope(settings_from(ctx)) as session:
        click.echo(create_token(session, email, name))


# --- data -----------------------------------------------------------------------------


@main.group()
def data() -> None:
    """The bundled real datasets and officer-imported layers."""


@data.command("check")
@click.pass_context
@handle_errors
def data_check(ctx: click.Context) -> None:
    """Verify every bundled dataset against the manifest's SHA-256."""
    from fondo.datasets import check_datasets, unlisted_files
    from fondo.layers import layers_dir
    from fondo.layers_import import check_imported_layers

    settings = settings_from(ctx)
    data_dir = Path(settings["DATA_DIR"])
    rows = check_datasets(data_dir)
    folder = layers_dir(settings)
    rows += check_imported_layers(folder) if folder.exists() else []
    bad = []
    for row in rows:
        click.echo(row.message())
        if not row.ok:
            bad.append(row.dataset.file)
    unlisted = unlisted_files(data_dir)
    for name in unlisted:
        click.echo(f"unlisted   {name} (not in data/manifest.json: add its provenance)")
    if bad or unlisted:
        _fail(f"{len(bad)} of {len(rows)} datasets missing or corrupted"
              + (f": {', '.join(bad)}" if bad else "")
              + (f"; {len(unlisted)} files without provenance" if unlisted else ""))
    click.echo(f"all {len(rows)} datasets ok")


@data.command("import")
@click.argument("layer")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--source", required=True, help="Where the file comes from (publisher, URL, date).")
@click.option("--licence", required=True, help="Licence of the data.")
@click.option("--by", "imported_by", default=None, help="Email of the officer importing it.")
@click.option("--replace", is_flag=True, help="Replace a layer imported before.")
@click.option("--source-layer", default=None, help="Layer to read from a multi-layer file.")
@click.pass_context
@handle_errors
def data_import(ctx: click.Context, layer: str, file: str, source: str, licence: str,
                imported_by: str | None, replace: bool, source_layer: str | None) -> None:
    """Import or replace LAYER from FILE (GeoJSON, GeoPackage or zipped shapefile)."""
    from fondo.layers import import_layer_recorded

    provenance = import_layer_recorded(settings_from(ctx), layer, Path(file), source=source,
                                       licence=licence, imported_by=imported_by, replace=replace,
                                       source_layer=source_layer)
    echo_json(provenance)


# --- seed -----------------------------------------------------------------------------


@main.command()
@click.option("--demo", is_flag=True, help="Also load the demo fund and its demo projects.")
@click.pass_context
@handle_errors
def seed(ctx: click.Context, demo: bool) -> None:
    """Load corridors and weather stations from the bundled data (and the demo fund)."""
    from fondo import migrate
    from fondo.seed import seed_all

    settings = settings_from(ctx)
    migrate.upgrade(settings)
    echo_json(seed_all(settings, demo=demo))


# --- running --------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Start a Celery worker beside the web process (embedded mode).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, worker: bool) -> None:
    """Run Fondo: migrate, seed on first start, start a worker, serve the web app."""
    from fondo.runner import serve as run

    run(settings_from(ctx), host=host, port=port, with_worker=worker)


@main.command()
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.pass_context
@handle_errors
def worker(ctx: click.Context, concurrency: int) -> None:
    """Run a Celery worker with the same settings (production: run several)."""
    from fondo.runner import run_worker

    run_worker(settings_from(ctx), concurrency=concurrency)


@main.command()
@click.pass_context
@handle_errors
def openapi(ctx: click.Context) -> None:
    """Print the OpenAPI document of the REST API."""
    from web import create_app

    app = create_app({"SEED_DEMO_ON_FIRST_START": False})
    with app.test_client() as client:
        echo_json(client.get("/api/v1/openapi.json").get_json())


if __name__ == "__main__":
    main()
