"""What every ``fondo`` command shares: settings, JSON in and out, one-line errors.

Feature command modules (``fondo/<feature>/cli.py``) import these; the command tree itself
is assembled in :mod:`fondo.cli`.
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
from fondo.errors import FondoError, InvalidInput
from fondo.instance import ensure_ready
from fondo.request_body import parse_json_body
from fondo.schema_fields import MAX_DATABASE_ID

#: Exit status for bad input or a failed check.
EXIT_FAILURE = 1
#: Exit status for a wrong setting or an unreachable service.
EXIT_CONFIG = 2


def fail(message: str, code: int = EXIT_FAILURE) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


#: A stored row's id on the command line: the database's id range, else a one-line error.
DATABASE_ID = click.IntRange(1, MAX_DATABASE_ID)


def handle_errors(command: Callable) -> Callable:
    """Turn Fondo's errors into one line on standard error and a non-zero exit."""

    @wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except FondoError as exc:
            where = f" ({exc.field})" if exc.field and f"({exc.field})" not in exc.detail else ""
            fail(f"{exc.detail}{where}")

    return wrapped


def read_json_input(path: str) -> Any:
    """JSON from a file, or from standard input when ``path`` is ``-``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FondoError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return parse_json_body(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: {exc.detail}", field=exc.field) from None


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def settings_from(ctx: click.Context) -> dict[str, Any]:
    """Settings for this invocation (loaded once)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_settings()
    return obj["settings"]


def needs_database(command: Callable) -> Callable:
    """Make a command work on a fresh instance folder: migrate and seed on first use.

    Put it under ``@click.pass_context`` (the command's first argument is the context).
    """

    @wraps(command)
    def wrapped(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        ensure_ready(settings_from(ctx))
        return command(ctx, *args, **kwargs)

    return wrapped
