"""The Bar's finance scenario in a real browser (Debian chromium, Playwright): an analyst
builds a finance case from the form touching fewer than ten fields (project, then the
defaults from the project and its yield study), reads its result, and runs a Monte Carlo
whose progress bar follows ``GET /api/v1/tasks/<id>`` until the percentiles show; axe-core
finds no serious or critical violation. Screenshots in
``test-artefacts/screenshots/finance/``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from browser_support import live_server
from fondo.db import session_scope
from fondo.finance import service as svc
from fondo.fund.links import link_study
from fondo.fund.models import Project
from fondo.jobs import Job, JobState
from fondo.orm import Technology, utcnow
from test_desk_browser import sign_in
from test_pages_browser import _only_once, blocking_violations, browser, shoot

sys.path.insert(0, str(Path(__file__).parents[1] / "fondo"))
from portfolio_support import make_study  # noqa: E402

pytestmark = pytest.mark.browser

#: The Bar: a case from the form in under ten fields.
MAX_FIELDS_TOUCHED = 9


def _project_with_study(settings) -> tuple[int, int]:
    with session_scope(settings) as session:
        study = make_study(session, "pv", 96_000, {"model": 0.03, "interannual_variability": 0.04},
                           lat=22.0, lon=-102.0, station="766860")
        study.energy_p90_mwh = 88_000
        project = Project(name="Parque Solar Bajío Sur", technology=Technology.PV,
                          capacity_ac_mw=40.0)
        session.add(project)
        session.flush()
        link_study(session, project, study.id, "ana")
        return project.id, study.id


def test_an_analyst_builds_a_case_in_few_fields_and_runs_a_monte_carlo_with_a_progress_bar(
        settings, make_user, backend):
    _only_once(backend)
    from web import create_app

    # no worker: the task waits in the broker and the test plays the worker
    app = create_app({**settings, "TASK_ALWAYS_EAGER": False})
    pid, study_id = _project_with_study(settings)
    email, password, _ = make_user("analyst")
    touched = 0
    with live_server(app) as base, browser() as page:
        sign_in(page, base, email, password, "/finance/")
        page.get_by_role("link", name="Nuevo caso financiero").click()
        page.select_option("#pick-project", str(pid))
        touched += 1
        page.get_by_role("button", name="Llenar con este proyecto").click()
        page.wait_for_url(re.compile(rf".*/finance/new\?project_id={pid}$"))
        assert page.input_value("#f-study_id") == str(study_id)
        assert float(page.input_value("#f-capacity_mw")) == 40.0
        assert float(page.input_value("#f-capex_usd")) == 758.0 * 40_000.0  # IRENA 2024
        page.fill("#f-ppa_price_usd_per_mwh", "58")
        touched += 1
        page.fill("#f-tranches-0-rate", "0.07")
        touched += 1
        assert blocking_violations(page) == []
        shoot(page, "finance", "1-form")
        page.get_by_role("button", name="Calcular y guardar el caso").click()
        page.wait_for_url(re.compile(rf"{base}/finance/\d+$"))
        assert touched <= MAX_FIELDS_TOUCHED
        case_id = int(page.url.rsplit("/", 1)[-1])
        with session_scope(settings) as session:
            case = svc.get_case(session, case_id)
            assert case.study_id == study_id and case.request["ppa_price_usd_per_mwh"] == 58.0
            assert case.request["energy_p50_mwh"] == 96_000  # from the study
        page.wait_for_selector("img.chart")
        assert blocking_violations(page) == []
        shoot(page, "finance", "2-result")
        page.fill("#mc-n_draws", "500")
        page.get_by_role("button", name="Correr el Monte Carlo").click()
        page.wait_for_url(re.compile(rf"{base}/finance/{case_id}/montecarlo/\d+$"))
        run_id = int(page.url.rsplit("/", 1)[-1])
        with session_scope(settings) as session:
            run = svc.get_montecarlo_run(session, case_id, run_id)
            job_id, params = run.job_id, dict(session.get(Job, run.job_id).params)
            job = session.get(Job, job_id)
            job.state, job.done, job.total, job.stage = JobState.STARTED, 200, 500, "drawing"
            job.heartbeat_at = utcnow()
        for _attempt in range(50):  # the page polls the task every second
            if page.evaluate("document.getElementById('progress-bar').value") == 200:
                break
            page.wait_for_timeout(200)
        assert page.evaluate("document.getElementById('progress-bar').value") == 200
        assert page.locator("#progress-bar").get_attribute("max") == "500"
        assert blocking_violations(page) == []
        shoot(page, "finance", "3-progress")
        _run_task(settings, job_id, params)
        page.wait_for_selector("table.mc-irr", timeout=20000)  # reloaded with the result
        with session_scope(settings) as session:
            summary = svc.get_montecarlo_run(session, case_id, run_id).summary
        holder = next(iter(summary["equity_irr"]))
        p50 = summary["equity_irr"][holder]["p50"]
        cell = page.inner_text("table.mc-irr td[data-key=p50]")
        assert cell == f"{100 * p50:,.2f} %"
        assert blocking_violations(page) == []
        shoot(page, "finance", "4-montecarlo")


def _run_task(settings, job_id: str, params: dict) -> None:
    """Play the worker: run the Monte Carlo task here, as an eager worker would."""
    from fondo.celery_app import make_celery
    from fondo.config import load_settings
    from fondo.jobs import launch

    celery = make_celery(load_settings({**settings, "TASK_ALWAYS_EAGER": True}, environ={}))
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        job.state = JobState.PENDING
    with session_scope(settings) as session:
        launch(celery, svc.MONTECARLO_TASK, session.get(Job, job_id), params)
