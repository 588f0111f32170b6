"""Starting Fondo: checks, migrations, first-start seed and the worker (the web server is
started by :mod:`web.cli`, which may import the web app)."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
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


def warm_up(echo: Callable[[str], None] | None = None) -> dict[str, float] | None:
    """Compile (or load from numba's disk cache) the finance kernels before serving.

    Called by ``fondo serve`` and gunicorn's app before they accept requests, and by each
    Celery worker as it starts (``worker_init``, in a thread: :mod:`fondo.worker`), so the
    first finance case and Monte Carlo answer as fast as later ones. A failure is reported in one line and
    start-up goes on (the kernels then compile on first use, as before).
    """
    from fondo.finance.service import warm_up as warm_finance  # the engine, only when starting

    try:
        timings = warm_finance()
    except Exception as exc:  # never stop a start over a warm-up
        if echo is not None:
            echo(f"finance warm-up failed ({type(exc).__name__}: {exc}); kernels compile on first use")
        return None
    if echo is not None:
        echo("finance kernels ready (case {case_s:.2f} s, Monte Carlo {montecarlo_s:.2f} s)".format(**timings))
    return timings


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
    os.execv(sys.executable, worker_command(concurrency))  # warms up at worker_init (fondo.worker)


def start_worker_process(settings: Mapping[str, Any]) -> subprocess.Popen:
    """Start a Celery worker child with the same settings; it dies with this process.

    The child leads its own process group (a signal to the worker's group never reaches
    this process).
    """
    worker = subprocess.Popen(worker_command(), env={**os.environ, **_env_for(settings)},
                              preexec_fn=_die_with_parent_hook(), start_new_session=True)
    atexit.register(stop_process, worker)
    return worker


#: Settings a worker child receives through its environment.
WORKER_ENV_KEYS = ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND",
                   "JOB_HEARTBEAT_S", "JOB_STALE_AFTER_S", "JOB_MAX_ATTEMPTS",
                   "TASK_MAX_RUNTIME_S")


def _env_for(settings: Mapping[str, Any]) -> dict[str, str]:
    """Environment that gives a child process the same settings."""
    return {f"FONDO_{k}": str(settings[k]) for k in WORKER_ENV_KEYS
            if settings.get(k) is not None}


#: First wait before starting a worker again after it died. [s]
RESTART_BACKOFF_FIRST_S = 1.0
#: Longest wait between two restarts (a worker that dies at once, again and again). [s]
RESTART_BACKOFF_MAX_S = 60.0
#: A worker that lived this long is healthy: its next death restarts it after the first
#: wait again. [s]
RESTART_BACKOFF_RESET_S = 60.0
#: How often the supervisor looks at its worker. [s]
SUPERVISE_INTERVAL_S = 0.5


class WorkerSupervisor:
    """Keeps one worker child running: reaps it when it dies (no zombie) and starts a new
    one after a back-off that doubles while the worker keeps dying (1 s, 2 s, 4 s … 60 s).

    Parameters
    ----------
    start : callable
        Starts a worker and returns its process (:func:`start_worker_process`).
    echo : callable
        Where to say what happened (one line each).
    """

    def __init__(self, start: Callable[[], subprocess.Popen], echo: Callable[[str], None]):
        self._start, self._echo = start, echo
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="fondo-supervisor", daemon=True)
        self.restarts = 0
        self.process = self._launch()

    def _launch(self) -> subprocess.Popen:
        self._started_at = time.monotonic()
        return self._start()

    def start(self) -> None:
        """Watch the worker in a daemon thread."""
        self._thread.start()

    def _run(self) -> None:
        backoff_s = RESTART_BACKOFF_FIRST_S
        while not self._stop.wait(SUPERVISE_INTERVAL_S):
            with self._lock:
                code = self.process.poll()  # reaps a dead child
            if code is None:
                continue
            if time.monotonic() - self._started_at >= RESTART_BACKOFF_RESET_S:
                backoff_s = RESTART_BACKOFF_FIRST_S
            self._echo(f"worker (pid {self.process.pid}) exited with code {code}; "
                       f"starting a new one in {backoff_s:g} s")
            if self._stop.wait(backoff_s):
                return
            with self._lock:
                if self._stop.is_set():
                    return
                self.process = self._launch()
                self.restarts += 1
            self._echo(f"worker restarted (pid {self.process.pid})")
            backoff_s = min(2 * backoff_s, RESTART_BACKOFF_MAX_S)

    def stop(self) -> None:
        """Stop watching and stop the worker."""
        self._stop.set()
        with self._lock:
            stop_process(self.process)
        if self._thread.is_alive():
            self._thread.join(timeout=5)


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent dies (no orphan
    workers); None off Linux (the atexit/finally paths still stop the worker).

    libc is loaded here, in the parent: between fork and exec the child only calls
    ``prctl`` (importing there could deadlock on a lock another thread held at the fork).
    The parent is the thread that started the child: the supervisor's thread, which lives
    as long as the server.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except OSError:
        return None
    pr_set_pdeathsig = 1  # from <linux/prctl.h>

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM ``process``, then kill it if it has not ended within 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
