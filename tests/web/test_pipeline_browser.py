"""The Bar's pipeline scenario in a real browser (Debian chromium, Playwright): an officer
drags a project into financial close while a gate is unmet and reads the reasons in the
card; the same move from the keyboard (the card's form) shows the same reasons; a project
page with its site on the map; axe-core finds no serious or critical violation.
Screenshots in ``test-artefacts/screenshots/pipeline/``."""

from __future__ import annotations

import pytest
import shapely

from browser_support import live_server
from fondo.db import session_scope
from fondo.fund import transitions
from fondo.fund.models import PipelineStage, Project, Site
from fondo.orm import Technology
from test_desk_browser import sign_in
from test_pages_browser import _only_once, blocking_violations, browser, shoot

pytestmark = pytest.mark.browser

#: A point in the Bajío (Aguascalientes). [°]
LON, LAT = -102.29, 22.05


def _project_in_consultation(settings) -> int:
    with session_scope(settings) as session:
        site = Site(name="Sitio", technology=Technology.PV,
                    geometry=shapely.box(LON, LAT, LON + 0.02, LAT + 0.02))
        session.add(site)
        session.flush()
        project = Project(name="Parque Solar Llanos", technology=Technology.PV,
                          capacity_ac_mw=30.0, site_id=site.id,
                          stage=PipelineStage.CONSULTATION)
        session.add(project)
        session.flush()
        return project.id


def test_an_officer_drags_a_project_into_financial_close_and_reads_the_unmet_gates(
        app, settings, make_user, backend):
    _only_once(backend)
    pid = _project_in_consultation(settings)
    with session_scope(settings) as session:
        gates = transitions.gates_json(session, pid)
    assert gates["next_stage"] == "financial_close"
    unmet = [g["name"] for g in gates["gates"] if not g["passed"]]
    assert unmet  # the project has no approved study, no case, no agreement
    email, password, _ = make_user("officer")
    with live_server(app) as base, browser() as page:
        sign_in(page, base, email, password, "/pipeline/")
        assert blocking_violations(page) == []
        shoot(page, "pipeline", "1-board")
        card = page.locator(f"#project-{pid}")
        card.drag_to(page.locator('section.column[data-stage="financial_close"]'))
        box = page.locator(f"#refusal-{pid} li")
        box.first.wait_for()
        text = page.inner_text(f"#refusal-{pid}")
        for name in unmet:
            assert name in text
        assert f"{len(unmet)} requisito(s) sin cumplir" in text
        shoot(page, "pipeline", "2-refused-by-drag")
        # from the keyboard: the card's form, reached and sent without a mouse
        page.reload()
        page.focus(f"#to-{pid}")
        page.select_option(f"#to-{pid}", "financial_close")
        page.keyboard.press("Tab")
        page.keyboard.type("Cierre solicitado")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.locator(f"#refusal-{pid} li").first.wait_for()
        for name in unmet:
            assert name in page.inner_text(f"#refusal-{pid}")
        assert blocking_violations(page) == []
        shoot(page, "pipeline", "3-refused-by-keyboard")
        page.goto(f"{base}/pipeline/{pid}")
        page.wait_for_selector("#site-map path.leaflet-interactive")
        assert blocking_violations(page) == []
        shoot(page, "pipeline", "4-project")
    with session_scope(settings) as session:
        assert session.get(Project, pid).stage is PipelineStage.CONSULTATION
