"""Entry point of Celery workers: ``celery -A fondo.worker worker``.

Builds the Celery app from the same settings as the web process (``FONDO_*`` variables),
without creating the Flask app. Once the worker is ready it sweeps the jobs whose worker
died (:func:`fondo.jobs.reap_stale_jobs`) and then keeps sweeping every
``JOB_HEARTBEAT_S`` in a daemon thread: Celery beat does not run in the embedded mode, and
every worker sweeping costs one indexed query per period (a conditional update keeps two
workers from re-queuing the same job twice).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown

from fondo.celery_app import make_celery
from fondo.config import load_settings
from fondo.jobs import reap_stale_jobs
from fondo.runner import warm_up

log = logging.getLogger(__name__)


class Reaper:
    """Sweeps stale jobs now and then every ``JOB_HEARTBEAT_S`` until stopped."""

    def __init__(self, app: Celery):
        self.app = app
        self.settings = app.conf["fondo_settings"]
        self.interval_s = float(self.settings["JOB_HEARTBEAT_S"])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fondo-reaper", daemon=True)

    def start(self) -> None:
        """Start sweeping (the first sweep at once)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current sweep."""
        self._stop.set()

    def sweep(self) -> dict[str, str]:
        """One sweep; errors are logged (the next sweep tries again)."""
        try:
            return reap_stale_jobs(self.settings, self.app)  # logs each job it re-queues or fails
        except Exception:  # the database may be briefly unreachable
            log.exception("sweeping stale jobs failed")
            return {}

    def _run(self) -> None:
        self.sweep()
        while not self._stop.wait(self.interval_s):
            self.sweep()


celery = make_celery(load_settings())
_reaper = Reaper(celery)


@worker_init.connect
def _warm_up(**_kwargs: Any) -> None:
    """Compile (or load from numba's cache) the finance kernels as the worker starts (issue 12).

    In a thread, so the worker's other tasks are not held up: a finance task that arrives
    meanwhile waits only for the kernel being compiled (numba compiles each kernel once,
    under its lock), never longer than without the warm-up.
    """
    threading.Thread(target=warm_up, args=(log.info,), name="fondo-warm-up", daemon=True).start()


@worker_ready.connect
def _start_reaper(**_kwargs: Any) -> None:
    _reaper.start()


@worker_shutdown.connect
def _stop_reaper(**_kwargs: Any) -> None:
    _reaper.stop()
