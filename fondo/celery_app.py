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

from celery import Celery

from fondo.config import ConfigError, broker_folder, is_embedded

#: Seconds to wait for the broker when checking it at start-up.
BROKER_CHECK_TIMEOUT_S = 3.0


#: Every module that defines Celery tasks, written out (workers import exactly these).
TASK_MODULES = (
    "fondo.data.tasks",
    "fondo.screening.tasks",
    "fondo.studies.tasks",
    "fondo.finance.tasks",
    "fondo.consultation.tasks",
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
