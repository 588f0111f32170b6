"""Apply the Alembic migrations to the configured database."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from fondo.db import engine_for

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(settings: Mapping[str, Any]) -> Config:
    """Alembic configuration pointing at the packaged migrations and the settings' database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", settings["DATABASE_URL"].replace("%", "%%"))
    return cfg


def upgrade(settings: Mapping[str, Any], revision: str = "heads") -> None:
    """Bring the database schema up to ``revision`` (default: every branch's latest)."""
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


def current_revisions(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The revisions the database is at (one per migration branch), empty for a new database."""
    with engine_for(settings["DATABASE_URL"]).connect() as connection:
        return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


def head_revisions() -> tuple[str, ...]:
    """The latest revision of every migration branch in the code."""
    script = ScriptDirectory.from_config(alembic_config({"DATABASE_URL": "sqlite://"}))
    return tuple(sorted(script.get_heads()))
