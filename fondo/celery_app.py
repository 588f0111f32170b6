"""The Celery application, configured from Fondo's settings (never from the Flask app).

Following Flask's own ``examples/celery``, the web factory calls :func:`make_celery` with the
same settings it uses and keeps the result in ``app.extensions["celery"]``; tasks are
``shared_task`` functions in :mod:`fondo.tasks` that receive ids and JSON-able parameters
and never import the web app. The worker process builds the same object from the
environment in :mod:`fondo.worker`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from fondo.config import ConfigError, broker_folder, is_embedded

#: Seconds to wait for the broker when checking it at start-up.
BROKER_CHECK_TIMEOUT_S = 3.0
#: Longest wait for a TCP connection to the broker or the Redis result store, so that a
#: request that sends a task answers 503 within 2 s when either is down. [s]
BROKER_CONNECT_TIMEOUT_S = 1.0
#: How a request publishes a task: one immediate reconnection (a pooled connection that the
#: broker dropped), never Celery's default of three retries spread over seconds.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0}


#: Every module that defines Celery tasks, written out (workers import exactly these).
TASK_MODULES = (
    "fondo.data.tasks",
    "fondo.screening.tasks",
    "fondo.studies.tasks",
    "fondo.finance.tasks",
    "fondo.consultation.tasks",
    "fondo.fund.tasks",
)


def celery_config(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Celery settings derived from Fondo's settings."""
    conf: dict[str, Any] = {
        "broker_url": settings["BROKER_URL"],
        "result_backend": settings["RESULT_BACKEND"],
        "task_always_eager": bool(settings["TASK_ALWAYS_EAGER"]),
        "task_eager_propagates": False,
        "task_store_eager_result": True,
        # A task is acknowledged only after it finishes, and re-queued if its worker dies:
        # tasks are idempotent (see fondo.jobs), so a rerun never duplicates a result.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_extended": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": BROKER_CONNECT_TIMEOUT_S,
        "redis_socket_connect_timeout": BROKER_CONNECT_TIMEOUT_S,
        "worker_hijack_root_logger": False,
        "include": list(TASK_MODULES),
        "fondo_settings": dict(settings),
    }
    if is_embedded(settings):
        folder = broker_folder(settings)
        conf["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        }
    elif urlsplit(str(settings["BROKER_URL"])).scheme in {"redis", "rediss"}:
        # Redis gives an unacknowledged task (its worker died) to another worker after the
        # visibility timeout: at least the longest task, else a task still running would
        # be delivered twice (the copy finds its job held and is dropped, see
        # fondo.heartbeat; the reaper re-queues a dead worker's job much sooner).
        conf["broker_transport_options"] = {
            "visibility_timeout": int(settings["TASK_MAX_RUNTIME_S"]),
        }
    return conf


def make_celery(settings: Mapping[str, Any]) -> Celery:
    """Build the Celery app for ``settings`` and make it the default for ``shared_task``."""
    if is_embedded(settings):
        folder = broker_folder(settings)
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        Path(settings["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    app = Celery("fondo")
    app.conf.update(celery_config(settings))
    app.set_default()
    app.loader.import_default_modules()  # imports ``include`` (TASK_MODULES): registers the tasks

    return app


def _shown(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def queue_problem(app: Celery) -> str | None:
    """Why a task cannot be sent now (broker or Redis result store unreachable), or None.

    Each is given :data:`BROKER_CONNECT_TIMEOUT_S` and no retry. Eager apps send nothing.
    """
    if app.conf.task_always_eager:
        return None
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_CONNECT_TIMEOUT_S)
    except Exception as exc:  # kombu raises several transport-specific errors
        return f"the task broker {_shown(app.conf.broker_url)} is unreachable: {_reason(exc)}"
    backend_url = str(app.conf.result_backend or "")
    if urlsplit(backend_url).scheme in {"redis", "rediss"}:
        try:
            app.backend.client.ping()
        except Exception as exc:  # redis-py's connection and timeout errors
            return f"the task result store {_shown(backend_url)} is unreachable: {_reason(exc)}"
    return None


def check_broker(app: Celery) -> None:
    """Raise :class:`ConfigError` (one line) when the broker cannot be reached."""
    if app.conf.task_always_eager:
        return
    url = app.conf.broker_url
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_CHECK_TIMEOUT_S)
    except Exception as exc:  # kombu raises several transport-specific errors
        shown = url.split("@")[-1] if "@" in url else url
        raise ConfigError(f"FONDO_BROKER_URL {shown} is unreachable: {exc}") from None
