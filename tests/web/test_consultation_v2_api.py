"""REST API and CLI of protocol version 2 (issue 13): roles, problems naming the field with
nothing stored, the gates, decisions refused before the protocol's phase, suspension."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import func, select

import fondo.consultation.clock as consultation_clock
from fondo.consultation.models import ConsultationLanguageAgent, ProjectDecision
from fondo.db import session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology

PROBLEM = "application/problem+json"
UTC = dt.timezone.utc
TAMAZUNCHALE = (21.26274, -98.79152)


@pytest.fixture
def officer(auth_headers):
    return auth_headers("officer")


@pytest.fixture
def project(settings, monkeypatch):
    monkeypatch.setattr(consultation_clock, "clock",
                        lambda: dt.datetime(2026, 3, 2, 16, 0, tzinfo=UTC))
    lat, lon = TAMAZUNCHALE
    with session_scope(settings) as session:
        site = Site(name="s", technology=Technology.WIND, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        p = Project(name="Parque Huasteca", technology=Technology.WIND, site_id=site.id)
        session.add(p)
        session.flush()
        return p.id


def _count(settings, model) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_gates_and_decisions_over_rest(client, settings, project, officer, auth_headers):
    investor = auth_headers("investor")
    g = client.get(f"/api/v1/projects/{project}/consultation-gates", headers=investor)
    assert g.status_code == 200 and g.json["requirement"] == "required"
    assert g.json["financial_close_allowed_by_protocol"] is False
    assert client.get(f"/api/v1/projects/{project}/consultation-gates").status_code == 401
    assert client.get("/api/v1/projects/999999/consultation-gates",
                      headers=investor).status_code == 404
    body = {"kind": "permit", "decision_date": "2026-03-01", "reference": "CRE/1"}
    r = client.post(f"/api/v1/projects/{project}/decisions", json=body, headers=investor)
    assert r.status_code == 403 and r.mimetype == PROBLEM
    r = client.post(f"/api/v1/projects/{project}/decisions", json=body, headers=officer)
    assert r.status_code == 409 and r.mimetype == PROBLEM and r.json["field"] == "decision_date"
    assert r.json["required_phase"] == "seguimiento" and r.json["requires_agreement"] is True
    for bad, field in (({**body, "kind": "mining"}, "kind"),
                       ({**body, "decision_date": "2026-13-01"}, "decision_date"),
                       ({**body, "reference": "  "}, "reference"),
                       ({**body, "colour": "red"}, "colour")):
        r = client.post(f"/api/v1/projects/{project}/decisions", json=bad, headers=officer)
        assert r.status_code == 422 and r.json["field"] == field, (bad, r.json)
    assert _count(settings, ProjectDecision) == 0
    r = client.post(f"/api/v1/projects/{project}/decisions", headers=officer,
                    json={**body, "premature_reason": "otorgado antes de la consulta"})
    assert r.status_code == 201 and r.json["premature"] is True
    g = client.get(f"/api/v1/projects/{project}/consultation-gates", headers=investor).json
    assert g["premature_decisions"] == [{"kind": "permit", "date": "2026-03-01",
                                         "reason": g["premature_decisions"][0]["reason"]}]
    listed = client.get(f"/api/v1/projects/{project}/decisions", headers=investor).json
    assert [d["reference"] for d in listed["decisions"]] == ["CRE/1"]


def test_records_agents_and_suspension_over_rest(client, settings, project, officer,
                                                  auth_headers):
    cid = client.post("/api/v1/consultations", json={"project_id": project},
                      headers=officer).json["id"]
    base = f"/api/v1/consultations/{cid}"
    r = client.post(f"{base}/records", headers=officer, json={
        "kind": "advice_resources", "budget_mxn": 0, "adviser_chosen_by_community": True})
    assert r.status_code == 422 and r.json["field"] == "budget_mxn"
    r = client.post(f"{base}/records", headers=officer, json={
        "kind": "languages", "languages": [{"language": "Náhuatl",
                                            "variant": "náhuatl de la Huasteca potosina"}]})
    assert r.status_code == 201, r.json
    agent = {"role": "translator", "name": "<b>Juana</b>", "language": "Náhuatl",
             "variant": "náhuatl de la Huasteca potosina", "accepted_on": "2026-03-01",
             "acceptance_reference": "acta 1"}
    assert client.post(f"{base}/language-agents", json={**agent, "language": "Otomí"},
                       headers=officer).json["field"] == "language"
    assert _count(settings, ConsultationLanguageAgent) == 0
    assert client.post(f"{base}/language-agents", json=agent, headers=officer).status_code == 201
    investor = auth_headers("investor")
    assert client.get(f"{base}/language-agents", headers=investor).status_code == 403
    listed = client.get(f"{base}/language-agents", headers=officer).json["language_agents"]
    assert listed[0]["name"] == "<b>Juana</b>"  # JSON; the pages escape it
    record = client.get(f"{base}/record.json", headers=officer).json
    assert "Juana" not in json.dumps(record)  # the chain keeps only its SHA-256
    r = client.post(f"{base}/suspension", json={"kind": "war", "reason": "x"}, headers=officer)
    assert r.status_code == 422 and r.json["field"] == "kind"
    r = client.post(f"{base}/suspension", json={"kind": "electoral_blackout",
                                                "reason": "veda 2027"}, headers=officer)
    assert r.status_code == 200 and r.json["state"] == "suspendida"
    assert client.get(base, headers=officer).json["state"] == "suspendida"
    r = client.post(f"{base}/evidence", json={"steps": ["designate_roles"]}, headers=officer)
    assert r.status_code == 409 and r.mimetype == PROBLEM
    r = client.post(f"{base}/resumption", json={"reason": "terminó la veda"}, headers=officer)
    assert r.status_code == 200 and r.json["suspended"] is False


def test_cli_gates_and_decision(settings, project, tmp_path):
    from fondo.cli import main

    runner = CliRunner()
    out = runner.invoke(main, ["consultation", "gates", str(project)], obj={"settings": settings})
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["requirement"] == "required"
    body = tmp_path / "d.json"
    body.write_text('{"kind": "permit", "decision_date": "2026-03-01", "reference": "R"}')
    refused = runner.invoke(main, ["consultation", "decision", str(project), "--input", str(body)],
                            obj={"settings": settings})
    assert refused.exit_code == 1 and "decision_date" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    body.write_text('{"kind": "permit", "decision_date": NaN, "reference": "R"}')
    bad = runner.invoke(main, ["consultation", "decision", str(project), "--input", str(body)],
                        obj={"settings": settings})
    assert bad.exit_code == 1 and "decision_date" in bad.output
    assert _count(settings, ProjectDecision) == 0


@pytest.mark.parametrize("command,raw,field", [
    ("record-add", '{"kind": "advice_resources", "budget_mxn": -5}', "budget_mxn"),
    ("record-add", '{"kind": "horoscope"}', "kind"),
    ("suspend", '{"kind": "court_suspension"}', "reason"),
    ("identify", '{"outcome": "no_community_affected", "methods": ["field_visit"], '
                 '"evidence": [], "decided_by": "x", "reason": "y"}', "evidence"),
    ("language-agent", '{"role": "translator", "name": "A", "language": "Náhuatl", '
                       '"variant": "v", "accepted_on": "2026-02-30", '
                       '"acceptance_reference": "a"}', "accepted_on"),
])
def test_cli_v2_bad_inputs_name_the_field(settings, project, tmp_path, command, raw, field):
    from fondo.cli import main

    runner = CliRunner()
    body = tmp_path / "c.json"
    body.write_text(json.dumps({"project_id": project}))
    created = runner.invoke(main, ["consultation", "create", "--input", str(body)],
                            obj={"settings": settings})
    cid = json.loads(created.output)["id"]
    body.write_text(raw)
    out = runner.invoke(main, ["consultation", command, str(cid), "--input", str(body)],
                        obj={"settings": settings})
    assert out.exit_code == 1 and field in out.output, out.output
    assert len(out.output.strip().splitlines()) == 1
    shown = runner.invoke(main, ["consultation", "show", str(cid)], obj={"settings": settings})
    assert json.loads(shown.output)["event_count"] == 1  # only the opening: nothing stored
