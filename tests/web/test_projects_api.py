"""``/api/v1/projects``: create, read, edit, move (issue 11 part A), on SQLite and PostGIS.

Bad input is a 422 problem naming the field with nothing stored; a refused move is a 409
problem listing every unmet gate; the history of moves (who, when, why) is on the project;
roles: officers write, analysts read, investors read their funds' projects only.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from fondo.db import session_scope
from fondo.fund.models import Project, ProjectTransition
from fund_support import add_fund, add_site

PROBLEM = "application/problem+json"
BODY = {"name": "Parque solar de prueba", "technology": "pv", "capacity_ac_mw": 50.0,
        "capacity_dc_mw": 60.0}


@pytest.fixture
def officer(auth_headers):
    return auth_headers("officer")


def _counts(settings) -> tuple[int, int]:
    with session_scope(settings) as session:
        return (session.scalar(select(func.count()).select_from(Project)),
                session.scalar(select(func.count()).select_from(ProjectTransition)))


def _create(client, headers, **changes):
    response = client.post("/api/v1/projects", json=BODY | changes, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def test_create_and_read_a_project_with_its_history(client, officer):
    created = _create(client, officer)
    project = created.json
    assert created.headers["Location"] == f"/api/v1/projects/{project['id']}"
    assert created.headers["ETag"] == '"1"'
    assert project["stage"] == "origination" and project["version"] == 1
    assert project["capacity_ac_mw"] == 50.0 and project["capacity_dc_mw"] == 60.0
    [first] = project["history"]
    assert first["from"] is None and first["to"] == "origination"
    assert first["by"].startswith("officer-") and first["at"]
    read = client.get(f"/api/v1/projects/{project['id']}", headers=officer)
    assert read.status_code == 200 and read.json["id"] == project["id"]
    listing = client.get("/api/v1/projects", headers=officer).json["projects"]
    assert [p["id"] for p in listing] == [project["id"]]


@pytest.mark.parametrize("changes, field", [
    ({"capacity_ac_mw": 0}, "capacity_ac_mw"),
    ({"capacity_ac_mw": -5}, "capacity_ac_mw"),
    ({"capacity_ac_mw": "50"}, "capacity_ac_mw"),
    ({"capacity_ac_mw": 1e9}, "capacity_ac_mw"),
    ({"capacity_dc_mw": 40.0}, "capacity_dc_mw"),  # below AC
    ({"technology": "coal"}, "technology"),
    ({"name": ""}, "name"),
    ({"stage": "operation"}, "stage"),  # stages move by transitions only
    ({"fund_id": 999_999}, "fund_id"),
    ({"site_id": 999_999}, "site_id"),
    ({"corridor_id": "pacifico"}, "corridor_id"),
    ({"state_key": "33"}, "state_key"),
    ({"state_key": "24", "municipality_key": "01001"}, "municipality_key"),
])
def test_bad_input_names_the_field_and_stores_nothing(client, officer, settings, changes,
                                                      field):
    before = _counts(settings)
    response = client.post("/api/v1/projects", json=BODY | changes, headers=officer)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["field"] == field
    assert _counts(settings) == before


def test_a_missing_required_field_is_named(client, officer, settings):
    body = {k: v for k, v in BODY.items() if k != "capacity_ac_mw"}
    response = client.post("/api/v1/projects", json=body, headers=officer)
    assert response.status_code == 422 and response.json["field"] == "capacity_ac_mw"


def test_unknown_project_is_a_404_problem(client, officer):
    for url in ("/api/v1/projects/424242", "/api/v1/projects/424242/transitions",
                "/api/v1/projects/424242/gates"):
        response = client.get(url, headers=officer)
        assert response.status_code == 404 and response.mimetype == PROBLEM, url
    moved = client.post("/api/v1/projects/424242/transitions", json={"to": "screening"},
                        headers=officer)
    assert moved.status_code == 404


def test_a_move_to_an_unknown_stage_is_refused_and_stores_nothing(client, officer, settings):
    project = _create(client, officer).json
    before = _counts(settings)
    for to in ("financing", "", "SCREENING"):
        response = client.post(f"/api/v1/projects/{project['id']}/transitions",
                               json={"to": to}, headers=officer)
        assert response.status_code == 422 and response.json["field"] == "to", to
    assert _counts(settings) == before


def test_a_refused_move_lists_every_unmet_gate(client, officer, settings):
    with session_scope(settings) as session:
        site_id = add_site(session).id
    project = _create(client, officer, site_id=site_id).json
    url = f"/api/v1/projects/{project['id']}/transitions"
    moved = client.post(url, json={"to": "screening", "reason": "site drawn"}, headers=officer)
    assert moved.status_code == 201, moved.get_data(as_text=True)
    assert moved.json["from"] == "origination" and moved.json["to"] == "screening"
    before = _counts(settings)
    refused = client.post(url, json={"to": "due_diligence"}, headers=officer)
    assert refused.status_code == 409 and refused.mimetype == PROBLEM
    unmet = refused.json["unmet_gates"]
    # no stored site check, no study; the site's municipality asks for a locality-level
    # identification (protocol version 2's trigger) and none is recorded
    assert [g["name"] for g in unmet] == ["site_check_passed", "yield_study_stored",
                                          "indigenous_identification_done"]
    assert all(g["reason"] for g in unmet)
    assert _counts(settings) == before
    read = client.get(f"/api/v1/projects/{project['id']}", headers=officer).json
    assert read["stage"] == "screening" and read["version"] == 2
    assert [(h["from"], h["to"], h["reason"]) for h in read["history"]] == [
        (None, "origination", "created"), ("origination", "screening", "site drawn")]
    assert read["history"][1]["gates"] == [{"name": "site_defined", "passed": True,
                                            "reason": f"site {site_id}"}]


def test_moves_skip_no_stage_and_repeat_none(client, officer):
    project = _create(client, officer).json
    url = f"/api/v1/projects/{project['id']}/transitions"
    skipped = client.post(url, json={"to": "consultation"}, headers=officer)
    assert skipped.status_code == 409 and skipped.json["allowed"] == ["screening"]
    same = client.post(url, json={"to": "origination"}, headers=officer)
    assert same.status_code == 409


def test_drop_needs_a_reason_and_reopens_where_it_was(client, officer, settings):
    project = _create(client, officer).json
    url = f"/api/v1/projects/{project['id']}/transitions"
    before = _counts(settings)
    no_reason = client.post(url, json={"to": "dropped"}, headers=officer)
    assert no_reason.status_code == 422 and no_reason.json["field"] == "reason"
    assert _counts(settings) == before
    dropped = client.post(url, json={"to": "dropped", "reason": "landowner withdrew"},
                          headers=officer)
    assert dropped.status_code == 201
    elsewhere = client.post(url, json={"to": "screening", "reason": "back"}, headers=officer)
    assert elsewhere.status_code == 409 and elsewhere.json["allowed"] == ["origination"]
    reopened = client.post(url, json={"to": "origination", "reason": "new landowner"},
                           headers=officer)
    assert reopened.status_code == 201 and reopened.json["kind"] == "reopen"
    history = client.get(url, headers=officer).json["history"]
    assert [h["to"] for h in history] == ["origination", "dropped", "origination"]
    assert history[1]["reason"] == "landowner withdrew"


def test_the_gate_table_and_the_next_gates(client, officer):
    table = client.get("/api/v1/projects/gates", headers=officer).json
    stages = {(g["stage"], g["name"]) for g in table["gates"]}
    assert ("due_diligence", "yield_study_stored") in stages
    assert ("financial_close", "p90_dscr_covenant") in stages
    assert table["default_p90_dscr_covenant"] == 1.05
    project = _create(client, officer).json
    nxt = client.get(f"/api/v1/projects/{project['id']}/gates", headers=officer).json
    assert nxt["next_stage"] == "screening"
    assert nxt["gates"] == [{"name": "site_defined", "passed": False,
                             "reason": "the project has no site: give it a site_id"}]


# ------------------------------------------------------------------ roles


def test_roles(client, officer, auth_headers):
    project = _create(client, officer).json
    url = f"/api/v1/projects/{project['id']}"
    analyst = auth_headers("analyst")
    assert client.get(url, headers=analyst).status_code == 200
    assert client.post("/api/v1/projects", json=BODY, headers=analyst).status_code == 403
    assert client.patch(url, json={"name": "x", "version": 1},
                        headers=analyst).status_code == 403
    assert client.post(url + "/transitions", json={"to": "screening"},
                       headers=analyst).status_code == 403
    assert client.get(url).status_code == 401
    assert client.post("/api/v1/projects", json=BODY).status_code == 401
    admin = auth_headers("admin")
    assert client.patch(url, json={"name": "renamed by admin", "version": 1},
                        headers=admin).status_code == 200


def test_investors_see_only_their_funds_projects(client, officer, settings, make_user):
    from fondo.accounts.service import link_limited_partner
    from fondo.fund.models import LimitedPartner

    with session_scope(settings) as session:
        north, south = add_fund(session, "North (test)"), add_fund(session, "South (test)")
        lp = LimitedPartner(fund_id=north.id, name="LP North", country="CA",
                            kind="pension_fund", commitment_amount=1e8,
                            commitment_currency="CAD")
        session.add(lp)
        session.flush()
        north_id, south_id, lp_id = north.id, south.id, lp.id
    mine = _create(client, officer, fund_id=north_id).json
    other = _create(client, officer, fund_id=south_id).json
    unfunded = _create(client, officer).json
    email, _password, token = make_user("investor")
    with session_scope(settings) as session:
        link_limited_partner(session, email, lp_id)
    investor = {"Authorization": f"Bearer {token}"}
    listing = client.get("/api/v1/projects", headers=investor).json["projects"]
    assert [p["id"] for p in listing] == [mine["id"]]
    assert client.get(f"/api/v1/projects/{mine['id']}", headers=investor).status_code == 200
    for hidden in (other["id"], unfunded["id"]):
        for suffix in ("", "/transitions", "/gates"):
            response = client.get(f"/api/v1/projects/{hidden}{suffix}", headers=investor)
            assert response.status_code == 404, (hidden, suffix)
    assert client.patch(f"/api/v1/projects/{mine['id']}", json={"name": "x", "version": 1},
                        headers=investor).status_code == 403


def test_going_back_a_stage_needs_a_reason_and_no_gate(client, officer, settings):
    with session_scope(settings) as session:
        site_id = add_site(session).id
    project = _create(client, officer, site_id=site_id).json
    url = f"/api/v1/projects/{project['id']}/transitions"
    assert client.post(url, json={"to": "screening"}, headers=officer).status_code == 201
    before = _counts(settings)
    no_reason = client.post(url, json={"to": "origination"}, headers=officer)
    assert no_reason.status_code == 422 and no_reason.json["field"] == "reason"
    assert _counts(settings) == before
    back = client.post(url, json={"to": "origination", "reason": "site moved"},
                       headers=officer)
    assert back.status_code == 201 and back.json["kind"] == "back"
    assert back.json["gates"] == []


def test_a_creation_sent_twice_with_one_idempotency_key_creates_once(client, officer,
                                                                     settings):
    headers = officer | {"Idempotency-Key": "create-parque-1"}
    first = client.post("/api/v1/projects", json=BODY, headers=headers)
    before = _counts(settings)
    second = client.post("/api/v1/projects", json=BODY, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json["id"] == first.json["id"]
    assert _counts(settings) == before


def test_list_filters(client, officer):
    pv = _create(client, officer).json
    wind = _create(client, officer, technology="wind", capacity_dc_mw=None).json
    listed = client.get("/api/v1/projects?technology=wind&lang=en", headers=officer)
    assert [p["id"] for p in listed.json["projects"]] == [wind["id"]]
    staged = client.get("/api/v1/projects?stage=origination", headers=officer).json
    assert [p["id"] for p in staged["projects"]] == [pv["id"], wind["id"]]
    bad = client.get("/api/v1/projects?stage=financing", headers=officer)
    assert bad.status_code == 422 and bad.json["field"] == "stage"
