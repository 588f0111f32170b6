"""The ``fondo`` command as installed: every command of :mod:`fondo.cli` plus those that need
the web app (``serve``, ``openapi``), which :mod:`fondo` may not import.

``python -m web.cli`` is the same command.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from typing import Any

import click
from werkzeug.serving import run_simple

from fondo import cli as fondo_cli
from fondo import runner
from fondo.config import is_embedded
from fondo.commands import echo_json, handle_errors, settings_from
from web.factory import create_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Start a Celery worker beside the web process (embedded mode).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, worker: bool) -> None:
    """Run Fondo: migrate, seed on first start, start a worker, serve the web app."""
    run_server(settings_from(ctx), host=host, port=port, with_worker=worker)


@click.command()
@click.pass_context
@handle_errors
def openapi(ctx: click.Context) -> None:
    """Print the OpenAPI document of the REST API."""
    app = create_app({"SEED_DEMO_ON_FIRST_START": False})
    with app.test_client() as client:
        echo_json(client.get("/api/v1/openapi.json").get_json())


def run_server(settings: Mapping[str, Any], host: str, port: int, with_worker: bool = True) -> None:
    """Run the web app; in embedded mode also a worker on the filesystem broker.

    Production runs ``gunicorn web.wsgi:app`` and ``fondo worker`` instead.
    """
    summary = runner.prepare(settings)
    if summary:
        click.echo(f"first start: seeded {summary}")
    supervisor = None
    # SIGTERM (from a service manager, or a test) ends the server cleanly, worker included.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if with_worker:
        # A worker that dies (killed, out of memory) is reaped and started again; the jobs
        # it held are re-queued by the new worker's sweep (fondo.jobs.reap_stale_jobs).
        supervisor = runner.WorkerSupervisor(lambda: runner.start_worker_process(settings),
                                             echo=lambda line: click.echo(line, err=True))
        supervisor.start()
        mode = "embedded (filesystem broker)" if is_embedded(settings) else settings["BROKER_URL"]
        click.echo(f"worker started (pid {supervisor.process.pid}, {mode})")
    app = create_app(settings)
    runner.warm_up(echo=lambda line: click.echo(line, err=True))  # before saying it is ready
    click.echo(f"Fondo on http://{host}:{port}")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if supervisor is not None:
            supervisor.stop()


@click.group(commands={**fondo_cli.main.commands, "serve": serve, "openapi": openapi})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Fondo: the Canada-Mexico renewable co-investment fund's system."""
    ctx.ensure_object(dict)


if __name__ == "__main__":
    main()
