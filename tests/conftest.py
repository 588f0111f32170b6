"""Shared fixtures of the shell tests: throwaway databases on SQLite and PostgreSQL + PostGIS.

Every test that asks for ``settings`` runs once on SQLite and, when
``FONDO_TEST_DATABASE_URL`` names a PostgreSQL server (``.ci/run`` sets it), once more on
PostgreSQL + PostGIS. Each test gets its own database, copied from a template that was
migrated and seeded with the real reference data once per session.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests_support import DATA_DIR, PG_URL

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_admin_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(
        hide_password=False
    )


def _pg_url_for(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(_pg_admin_url()).set(database=database).render_as_string(hide_password=False)


def _pg_execute(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def base_settings(tmp_path: Path, database_url: str) -> dict:
    """Settings of a test app: its own instance folder and database, tasks run eagerly."""
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATA_DIR": str(DATA_DIR),
        "DATABASE_URL": database_url,
        "BROKER_URL": "memory://",
        "TASK_ALWAYS_EAGER": True,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "SEED_DEMO_ON_FIRST_START": False,
        "TESTING": True,
    }


@pytest.fixture(scope="session")
def templates(tmp_path_factory):
    """Per backend, a migrated database seeded with reference data, to copy for each test."""
    from fondo import migrate
    from fondo.seed import seed_all

    made = {}
    folder = tmp_path_factory.mktemp("templates")
    sqlite_file = folder / "template.sqlite"
    settings = base_settings(folder, f"sqlite:///{sqlite_file}")
    migrate.upgrade(settings)
    seed_all(settings)
    from fondo.db import engine_for

    engine_for(settings["DATABASE_URL"]).dispose()
    made["sqlite"] = sqlite_file
    if PG_URL:
        name = f"fondo_test_tpl_{uuid.uuid4().hex[:8]}"
        _pg_execute(f'CREATE DATABASE "{name}"')
        settings = base_settings(folder, _pg_url_for(name))
        migrate.upgrade(settings)
        seed_all(settings)
        engine_for(settings["DATABASE_URL"]).dispose()
        made["postgresql"] = name
    yield made
    if PG_URL:
        _pg_execute(f'DROP DATABASE IF EXISTS "{made["postgresql"]}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Name of the database backend of this test run."""
    return request.param


@pytest.fixture
def settings(backend, templates, tmp_path):
    """Settings with a fresh database (migrated, reference data seeded) on ``backend``."""
    from fondo.db import engine_for

    if backend == "sqlite":
        target = tmp_path / "fondo.sqlite"
        shutil.copyfile(templates["sqlite"], target)
        url = f"sqlite:///{target}"
        yield base_settings(tmp_path, url)
        engine_for(url).dispose()
        return
    name = f"fondo_test_{uuid.uuid4().hex[:10]}"
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{templates["postgresql"]}"')
    url = _pg_url_for(name)
    yield base_settings(tmp_path, url)
    engine_for(url).dispose()
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(settings):
    """The Flask app over the test database."""
    from web import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def make_user(settings):
    """Create a user and return (email, password, bearer token)."""
    from fondo.db import session_scope
    from fondo.accounts.service import create_token, create_user

    def _make(role: str = "officer", email: str | None = None, password: str = "correct horse"):
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.org"
        with session_scope(settings) as session:
            create_user(session, email, role, password)
            token = create_token(session, email, "test")
        return email, password, token

    return _make


@pytest.fixture
def auth_headers(make_user):
    """Bearer headers for a user of the given role."""

    def _headers(role: str = "officer") -> dict[str, str]:
        _email, _password, token = make_user(role)
        return {"Authorization": f"Bearer {token}"}

    return _headers


# ------------------------------------------------------------------- what did not run

#: Skip reasons of the optional backends (``tests/integration/conftest.py::redis_url``,
#: ``tests/web/browser_support.py::chromium_path``) → what did not run, singular and plural.
NOT_RUN_SKIP_REASONS = {
    "FONDO_TEST_REDIS_URL is not set": ("Celery/Redis integration test",
                                        "Celery/Redis integration tests",
                                        "FONDO_TEST_REDIS_URL unset"),
    "chromium is not installed": ("browser test", "browser tests",
                                  "no chromium: FONDO_TEST_CHROMIUM unset and none on PATH"),
}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Mark each setup report with the test's database backend (survives pytest-xdist)."""
    report = yield
    callspec = getattr(item, "callspec", None)
    if call.when == "setup" and callspec is not None and "backend" in callspec.params:
        report.fondo_backend = callspec.params["backend"]
    return report


def pytest_terminal_summary(terminalreporter):
    """End the run with one line naming what did not run for want of a backend."""
    reports = [r for group in terminalreporter.stats.values() for r in group
               if getattr(r, "when", None) in {"setup", "call"}]
    not_run = []
    if not PG_URL:
        # each test run on SQLite would have had a PostgreSQL + PostGIS variant
        missing = sum(getattr(r, "fondo_backend", None) == "sqlite" for r in reports)
        if missing:
            variants = "variant" if missing == 1 else "variants"
            not_run.append(f"{missing} PostgreSQL+PostGIS {variants} "
                           "(FONDO_TEST_DATABASE_URL unset)")
    for reason, (one, many, why) in NOT_RUN_SKIP_REASONS.items():
        skipped = sum(r.skipped and isinstance(r.longrepr, tuple) and reason in r.longrepr[2]
                      for r in reports)
        if skipped:
            not_run.append(f"{skipped} {one if skipped == 1 else many} ({why})")
    if not_run:
        terminalreporter.write_sep("-", "not run: " + ", ".join(not_run), yellow=True,
                                   bold=True)
