"""Database engine and sessions (SQLAlchemy 2), shared by web, worker and command line.

Importing this module registers every table (:mod:`fondo.models`), so that a session in
any process (a worker that imported one feature's tasks, say) can resolve every foreign key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from fondo import models  # noqa: F401 - registers every table (foreign keys resolve)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process read while the worker writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    """Return the (cached) engine for ``url``; SQLite files get their folder created."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in {"", ":memory:"}:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(settings: Mapping[str, Any]) -> sessionmaker[Session]:
    """A session factory bound to the settings' database."""
    return sessionmaker(bind=engine_for(settings["DATABASE_URL"]), expire_on_commit=False)


@contextmanager
def session_scope(settings: Mapping[str, Any]) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
