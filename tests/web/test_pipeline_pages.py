"""The pipeline board (``/pipeline``) and a project's page: cards by stage with their
gates and social risk, a move refused by an unmet gate (409, the gates named in the card,
nothing stored), a move allowed (recorded with who and why), bad input, roles."""

from __future__ import annotations

import re

import pytest
import shapely

from fondo.db import session_scope
from fondo.fund import projects, transitions
from fondo.fund.models import Project, Site
from fondo.orm import Technology
from test_desk_pages import _csrf, _sign_in

#: A point in the Bajío (Aguascalientes), inside the bundled corridors. [°]
LON, LAT = -102.29, 22.05


def _project(settings, with_site: bool) -> int:
    with session_scope(settings) as session:
        site_id = None
        if with_site:
            site = Site(name="Sitio prueba", technology=Technology.PV,
                        geometry=shapely.box(LON, LAT, LON + 0.01, LAT + 0.01))
            session.add(site)
            session.flush()
            site_id = site.id
        p = Project(name=f"Parque <i>{'con' if with_site else 'sin'}</i> sitio",
                    technology=Technology.PV, capacity_ac_mw=30.0, site_id=site_id)
        session.add(p)
        session.flush()
        return p.id


def _stage(settings, pid) -> tuple[str, int]:
    with session_scope(settings) as session:
        p = session.get(Project, pid)
        return p.stage.value, len(projects.history_json(session, pid))


def test_the_board_shows_each_project_in_its_stage_with_its_gates(client, settings,
                                                                   make_user):
    pid = _project(settings, with_site=False)
    _sign_in(client, make_user)
    page = client.get("/pipeline/?lang=en").get_data(as_text=True)
    column = page[page.index('data-stage="origination"'):page.index('data-stage="screening"')]
    assert f'id="project-{pid}"' in column
    assert "Parque &lt;i&gt;sin&lt;/i&gt; sitio" in column  # escaped
    with session_scope(settings) as session:
        gates = transitions.gates_json(session, pid)["gates"]
    unmet = [g["name"] for g in gates if not g["passed"]]
    assert unmet == ["site_defined"]
    assert f"0 met, {len(unmet)} unmet" in column


def test_a_move_blocked_by_a_gate_names_it_in_the_card_and_stores_nothing(
        client, settings, make_user):
    pid = _project(settings, with_site=False)
    before = _stage(settings, pid)
    _sign_in(client, make_user)
    token = _csrf(client.get("/pipeline/").get_data(as_text=True))
    r = client.post(f"/pipeline/{pid}/move?lang=en", data={"to": "screening",
                                                          "csrf_token": token})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    box = page[page.index(f'id="refusal-{pid}"'):]
    box = box[:box.index("</div>")]
    assert "site_defined" in box and "Refused" in box
    assert _stage(settings, pid) == before


def test_an_allowed_move_is_recorded_with_who_and_why(client, settings, make_user):
    pid = _project(settings, with_site=True)
    email = _sign_in(client, make_user)
    token = _csrf(client.get("/pipeline/").get_data(as_text=True))
    r = client.post(f"/pipeline/{pid}/move", data={"to": "screening", "reason": "Sitio listo",
                                                   "csrf_token": token})
    assert r.status_code == 303
    assert _stage(settings, pid)[0] == "screening"
    page = client.get(f"/pipeline/{pid}?lang=en").get_data(as_text=True)
    history = page[page.index('id="history-h"'):]
    assert email in history and "Sitio listo" in history and "Screening" in history
    geo = client.get(f"/pipeline/{pid}/site.geojson").get_json()
    assert shapely.geometry.shape(geo["features"][0]["geometry"]).equals(
        shapely.box(LON, LAT, LON + 0.01, LAT + 0.01))


@pytest.mark.parametrize(("data", "status", "field"), [
    ({"to": "the_moon"}, 422, "to"),
    ({"to": "dropped"}, 422, "reason"),        # dropping needs a reason
])
def test_bad_moves_are_refused_in_the_card(client, settings, make_user, data, status, field):
    pid = _project(settings, with_site=True)
    before = _stage(settings, pid)
    _sign_in(client, make_user)
    token = _csrf(client.get("/pipeline/").get_data(as_text=True))
    r = client.post(f"/pipeline/{pid}/move", data={**data, "csrf_token": token})
    assert r.status_code == status
    box = r.get_data(as_text=True)
    box = box[box.index(f'id="refusal-{pid}"'):]
    assert re.search(r'class="error"', box[:800])
    assert _stage(settings, pid) == before


@pytest.mark.parametrize("role", ["investor", "analyst"])
def test_only_officers_work_the_board(client, settings, make_user, role):
    pid = _project(settings, with_site=False)
    _sign_in(client, make_user, role)
    assert client.get("/pipeline/").status_code == 403
    assert client.get(f"/pipeline/{pid}").status_code == 403
