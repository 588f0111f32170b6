"""``fondo projects``: the same JSON as ``/api/v1/projects``; bad input is one line on
standard error, a non-zero exit and nothing stored (issue 11 part A)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select

from fondo.cli import main
from fondo.db import session_scope
from fondo.fund.models import Project, ProjectTransition

ENV_KEYS = {"INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "TASK_ALWAYS_EAGER"}
BODY = {"name": "Parque CLI", "technology": "pv", "capacity_ac_mw": 25.0}


def invoke(settings, *args, input: str | None = None):
    env = {f"FONDO_{k}": str(v) for k, v in settings.items() if k in ENV_KEYS}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def _counts(settings) -> tuple[int, int]:
    with session_scope(settings) as session:
        return (session.scalar(select(func.count()).select_from(Project)),
                session.scalar(select(func.count()).select_from(ProjectTransition)))


def test_create_show_move_print_the_api_json(settings, client, auth_headers):
    created = invoke(settings, "projects", "create", "--input", "-", "--actor", "ana",
                     input=json.dumps(BODY))
    assert created.exit_code == 0, created.output
    project = json.loads(created.output)
    api = client.get(f"/api/v1/projects/{project['id']}", headers=auth_headers("analyst")).json
    assert project == api
    assert project["history"][0]["by"] == "ana"
    shown = json.loads(invoke(settings, "projects", "show", str(project["id"])).output)
    assert shown == api
    listed = json.loads(invoke(settings, "projects", "list", "--stage", "origination").output)
    assert [p["id"] for p in listed["projects"]] == [project["id"]]
    refused = invoke(settings, "projects", "move", str(project["id"]), "--to", "screening")
    assert refused.exit_code != 0
    assert "site_defined (the project has no site" in refused.output
    dropped = invoke(settings, "projects", "move", str(project["id"]), "--to", "dropped",
                     "--reason", "no land")
    assert dropped.exit_code == 0, dropped.output
    assert json.loads(dropped.output)["to"] == "dropped"
    history = json.loads(invoke(settings, "projects", "history", str(project["id"])).output)
    assert [(h["to"], h["reason"]) for h in history["history"]] == [
        ("origination", "created"), ("dropped", "no land")]


def test_bad_input_is_one_line_and_stores_nothing(settings):
    before = _counts(settings)
    for body, field in ((BODY | {"capacity_ac_mw": 0}, "capacity_ac_mw"),
                        (BODY | {"technology": "hydro"}, "technology"),
                        (BODY | {"fund_id": 123456}, "fund_id")):
        out = invoke(settings, "projects", "create", "--input", "-", input=json.dumps(body))
        assert out.exit_code != 0 and field in out.output
        assert len(out.output.strip().splitlines()) == 1
    created = json.loads(invoke(settings, "projects", "create", "--input", "-",
                                input=json.dumps(BODY)).output)
    before = _counts(settings)
    unknown = invoke(settings, "projects", "move", str(created["id"]), "--to", "financing")
    assert unknown.exit_code != 0 and "to" in unknown.output
    missing = invoke(settings, "projects", "show", "99999")
    assert missing.exit_code != 0
    stale = invoke(settings, "projects", "edit", str(created["id"]), "--input", "-",
                   input=json.dumps({"name": "x", "version": 7}))
    assert stale.exit_code != 0 and "version 1" in stale.output
    assert _counts(settings) == before


def test_the_gate_table(settings):
    table = json.loads(invoke(settings, "projects", "gates").output)
    assert ("financial_close", "consultation_agreement") in {
        (g["stage"], g["name"]) for g in table["gates"]}
