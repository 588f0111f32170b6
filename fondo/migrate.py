"""Apply the Alembic migrations to the configured database."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from fondo.db import engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Mapping[str, Any]) -> Config:
    """Alembic configuration pointing at the packaged migrations and the settings' database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings["DATABASE_URL"].replace("%", "%%"))
    return cfg


def upgrade(settings: Mapping[str, Any], revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the latest)."""
    cfg = alembic_config(settings)
    with engine_for(settings["DATABASE_URL"]).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(settings: Mapping[str, Any], revision: str) -> None:
    """Take the database schema down to ``revision`` (``base`` removes every table)."""
    cfg = alembic_config(settings)
    with engine_for(settings["DATABASE_URL"]).begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(settings: Mapping[str, Any]) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine_for(settings["DATABASE_URL"]).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
