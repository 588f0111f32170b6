"""Per-request access to the database session, settings and Celery app."""

from __future__ import annotations

from typing import Any

from celery import Celery
from flask import current_app, g
from sqlalchemy.orm import Session


def db() -> Session:
    """The request's database session (closed at teardown, never committed implicitly)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["fondo_sessions"]()
    return g.db_session


def settings() -> dict[str, Any]:
    """Fondo settings of the running app."""
    return current_app.extensions["fondo_settings"]


def celery_app() -> Celery:
    """The Celery app configured from the same settings."""
    return current_app.extensions["celery"]
