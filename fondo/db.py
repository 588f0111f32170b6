"""Database engine and sessions (SQLAlchemy 2), shared by web, worker and command line.

Importing this module registers every table (:mod:`fondo.models`), so that a session in
any process (a worker that imported one feature's tasks, say) can resolve every foreign key.

Units of work. A write that must be all-or-nothing under concurrency runs as one
transaction through :func:`run_unit_of_work`: the whole function is run again (after a
rollback and a jittered pause) when the database answers "busy" (:func:`is_busy_error`:
SQLite's "database is locked", PostgreSQL's serialisation failure, deadlock or lock
timeout), a bounded number of times, and then :class:`~fondo.errors.Busy` (503 with
``Retry-After``) is raised instead of a server error. On SQLite, pysqlite begins its
transactions lazily (before the first write) and ``FOR UPDATE`` is not SQL, so a writer
that must read what it is about to change first takes the database's write lock with
:func:`take_sqlite_write_lock` (``BEGIN IMMEDIATE``), which serialises such writers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from fondo import models  # noqa: F401 - registers every table (foreign keys resolve)
from fondo.errors import Busy

T = TypeVar("T")

#: How long a SQLite connection waits for another's write lock before "database is
#: locked". [ms]
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How many times :func:`run_unit_of_work` runs a unit of work that met a busy database.
UNIT_OF_WORK_ATTEMPTS = 5
#: First pause between two attempts; each later pause may be twice as long. [s]
UNIT_OF_WORK_BACKOFF_S = 0.02
#: Longest pause between two attempts. [s]
UNIT_OF_WORK_BACKOFF_MAX_S = 0.5
#: What a caller told to come back (503) is asked to wait. [s]
RETRY_AFTER_S = 1
#: PostgreSQL SQLSTATEs after which the same transaction may succeed when run again:
#: serialization_failure, deadlock_detected, lock_not_available (``lock_timeout``).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
#: Words of SQLite's errors when another connection holds the lock it needs.
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process read while the worker writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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


def is_busy_error(error: BaseException) -> bool:
    """True when ``error`` means "the database is busy: the same transaction, run again, may
    succeed" (SQLite locked or busy; PostgreSQL SQLSTATE in :data:`RETRYABLE_SQLSTATES`)."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig = error.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    message = str(orig).lower()
    return type(orig).__module__.startswith("sqlite3") and any(
        m in message for m in SQLITE_BUSY_MESSAGES)


def take_sqlite_write_lock(session: Session, timeout_s: float) -> bool:
    """On SQLite, make the session's transaction hold the database's write lock.

    pysqlite starts a transaction only before the first INSERT/UPDATE/DELETE, so reads that
    precede it see whatever was committed at the time and two writers can both read the same
    "last" row. ``BEGIN IMMEDIATE`` takes the write lock at the start instead, waiting up to
    ``timeout_s`` for another writer to finish ("database is locked" after that, which
    :func:`is_busy_error` recognises). A transaction that pysqlite has already begun has
    written, so it holds the lock already. Returns whether the session is on SQLite.

    Parameters
    ----------
    session : Session
        The session whose current transaction must hold the lock.
    timeout_s : float
        Longest wait for the lock. [s]
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    if connection.connection.dbapi_connection.in_transaction:
        return True
    connection.exec_driver_sql(f"PRAGMA busy_timeout={max(1, round(timeout_s * 1000))}")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return True


def run_unit_of_work(session: Session, work: Callable[[Session], T],
                     attempts: int | None = None) -> T:
    """Run ``work(session)`` and commit, as one transaction; run it again on a busy database.

    A unit of work either commits everything it wrote or nothing: any error rolls the
    session back. When the error is :func:`is_busy_error` the whole unit is run again, after
    a pause drawn at random up to :data:`UNIT_OF_WORK_BACKOFF_S` × 2^attempt (at most
    :data:`UNIT_OF_WORK_BACKOFF_MAX_S`), up to ``attempts`` times
    (:data:`UNIT_OF_WORK_ATTEMPTS` by default); then :class:`~fondo.errors.Busy` is raised.
    ``work`` must therefore read everything it relies on inside the unit, and have no
    effect outside the database.

    Returns
    -------
    Whatever ``work`` returned in the attempt that committed.

    Raises
    ------
    Busy
        The database stayed busy through every attempt (also when the connection pool
        stayed exhausted for its whole timeout).
    """
    attempts = UNIT_OF_WORK_ATTEMPTS if attempts is None else attempts
    last: BaseException | None = None
    for attempt in range(attempts):
        try:
            out = work(session)
            session.commit()
            return out
        except sa_exc.TimeoutError as exc:  # the pool stayed exhausted for its whole timeout
            session.rollback()
            raise Busy("every database connection is in use; try again shortly",
                       retry_after_s=RETRY_AFTER_S) from exc
        except sa_exc.DBAPIError as exc:
            session.rollback()
            if not is_busy_error(exc):
                raise
            last = exc
        except BaseException:
            session.rollback()
            raise
        if attempt + 1 < attempts:
            cap_s = min(UNIT_OF_WORK_BACKOFF_MAX_S, UNIT_OF_WORK_BACKOFF_S * 2 ** attempt)
            time.sleep(random.uniform(0, cap_s))  # jitter, not a secret
    raise Busy(f"the database stayed busy through {attempts} attempts; try again shortly",
               retry_after_s=RETRY_AFTER_S) from last
