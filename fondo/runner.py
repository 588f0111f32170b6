"""Starting Fondo: checks, migrations, first-start seed and the worker (the web server is
started by :mod:`web.cli`, which may import the web app)."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from fondo import migrate
from fondo.celery_app import check_broker, make_celery
from fondo.config import ConfigError
from fondo.db import engine_for
from fondo.seed import is_seeded, seed_all


def check_database(settings: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` (one line) when the database cannot be reached."""
    url = settings["DATABASE_URL"]
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # drivers raise many kinds; the line names the cause
        shown = url.split("@")[-1]
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"FONDO_DATABASE_URL {shown} is unreachable: {reason}") from None


def prepare(settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """Check services, migrate the schema and seed on first start; return the seed summary."""
    check_database(settings)
    check_broker(make_celery(settings))
    migrate.upgrade(settings)
    if not is_seeded(settings):
        return seed_all(settings, demo=bool(settings["SEED_DEMO_ON_FIRST_START"]))
    return None


def worker_command(concurrency: int = 2) -> list[str]:
    """The command that starts a Celery worker with this interpreter."""
    return [
        sys.executable, "-m", "celery", "-A", "fondo.worker", "worker",
        "--loglevel", "INFO", "--pool", "threads", "--concurrency", str(concurrency),
        "--without-gossip", "--without-mingle",
    ]


def run_worker(settings: Mapping[str, Any], concurrency: int = 2) -> None:
    """Replace this process with a Celery worker (after checking the services)."""
    check_database(settings)
    check_broker(make_celery(settings))
    os.execv(sys.executable, worker_command(concurrency))


def start_worker_process(settings: Mapping[str, Any]) -> subprocess.Popen:
    """Start a Celery worker child with the same settings; it dies with this process."""
    worker = subprocess.Popen(worker_command(), env={**os.environ, **_env_for(settings)},
                              preexec_fn=_die_with_parent)
    atexit.register(stop_process, worker)
    return worker


def _env_for(settings: Mapping[str, Any]) -> dict[str, str]:
    """Environment that gives a child process the same settings."""
    keys = ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND")
    return {f"FONDO_{k}": str(settings[k]) for k in keys if settings.get(k)}


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the parent dies (no orphan workers)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1  # from <linux/prctl.h>
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:  # not Linux: the atexit/finally paths still stop the worker
        pass


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM ``process``, then kill it if it has not ended within 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
