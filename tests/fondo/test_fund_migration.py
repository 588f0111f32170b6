"""Migration 0007 renames the stages an existing database holds, both ways (issue 11)."""

from __future__ import annotations

from sqlalchemy import text

from fondo import migrate
from fondo.db import engine_for

OLD_TO_NEW = {"screening": "screening", "development": "due_diligence",
              "consultation": "consultation", "financing": "financial_close",
              "construction": "construction", "operation": "operation",
              "withdrawn": "dropped"}


def _stages(settings) -> dict[str, str]:
    with engine_for(settings["DATABASE_URL"]).connect() as conn:
        return dict(conn.execute(text("SELECT name, stage FROM projects")).all())


def test_stages_are_renamed_on_upgrade_and_back_on_downgrade(settings):
    migrate.downgrade(settings, "0006")
    with engine_for(settings["DATABASE_URL"]).begin() as conn:
        for old in OLD_TO_NEW:
            conn.execute(text(
                "INSERT INTO projects (name, technology, stage, is_demo, created_at) "
                "VALUES (:name, 'pv', :stage, false, CURRENT_TIMESTAMP)"),
                {"name": f"p-{old}", "stage": old})
    migrate.upgrade(settings)
    assert _stages(settings) == {f"p-{old}": new for old, new in OLD_TO_NEW.items()}
    with engine_for(settings["DATABASE_URL"]).connect() as conn:
        versions = set(conn.execute(text("SELECT version FROM projects")).scalars())
    assert versions == {1}
    migrate.downgrade(settings, "0006")
    assert _stages(settings) == {f"p-{old}": old for old in OLD_TO_NEW}
    migrate.upgrade(settings)
