"""The study pages, the shell and the portal in a real browser (Debian chromium, Playwright).

* an analyst signs in, lands on the studies, creates a PV study from the form (site picked
  on the Leaflet map) and downloads its PDF;
* a community member at 360 × 740 walks every portal page in Spanish: no horizontal
  overflow, each page (document, style sheet, images) under 200 KB;
* axe-core (axe-playwright-python) on every page: no serious or critical violation.

Screenshots of each page are kept in ``FONDO_TEST_ARTEFACTS`` (default ``test-artefacts/``,
git-ignored): ``screenshots/<test>/<page>.png``.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest

from browser_support import CHROMIUM_ARGS, chromium_path, live_server
from test_portal_phone import SUBMITTED, make_consultation, publish_notice

pytestmark = pytest.mark.browser

#: Where the screenshots go (see the module docstring).
ARTEFACTS = Path(os.environ.get("FONDO_TEST_ARTEFACTS", Path(__file__).resolve().parents[2]
                                / "test-artefacts"))
#: Narrow phone viewport of the bar. [CSS px]
PHONE = {"width": 360, "height": 740}
#: Largest weight of a portal page: its document plus everything it loads. [bytes]
MAX_PORTAL_PAGE_BYTES = 200 * 1024
#: axe-core impacts that fail the test.
BLOCKING_IMPACTS = ("serious", "critical")


@contextmanager
def browser(viewport: dict | None = None, locale: str = "es-MX"):
    """A fresh Chromium page (downloads accepted) of the given viewport."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = instance.new_context(locale=locale, accept_downloads=True,
                                           viewport=viewport or {"width": 1280, "height": 900})
            page = context.new_page()
            # no browser cache: each page's weight counts everything it loads
            context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
            yield page
        finally:
            instance.close()


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical violations of the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]


def shoot(page, test: str, name: str) -> Path:
    folder = ARTEFACTS / "screenshots" / test
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _only_once(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("one browser run is enough (the pages do not depend on the database)")


def test_analyst_creates_a_pv_study_from_the_form_and_downloads_its_pdf(
        app, make_user, backend, tmp_path):
    _only_once(backend)
    email, password, _ = make_user("analyst")
    with live_server(app) as base, browser() as page:
        page.goto(f"{base}/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{base}/studies/")
        assert blocking_violations(page) == []
        shoot(page, "analyst", "1-studies")
        page.get_by_role("link", name="Nuevo estudio").first.click()
        page.wait_for_url(f"{base}/studies/new")
        page.wait_for_selector("#site-map .leaflet-container, #site-map.leaflet-container")
        # a click on the map fills the coordinates; then type the exact site
        page.locator("#site-map").click(position={"x": 200, "y": 150})
        assert page.input_value("#f-lat") != "" and page.input_value("#f-lon") != ""
        page.fill("#f-lat", "21.0")
        page.fill("#f-lon", "-101.3")
        assert page.locator("fieldset[data-technology=wind]").is_hidden()
        page.fill("#f-capacity_dc_kw", "5000")
        page.select_option("#f-tracking", "single_axis")
        assert blocking_violations(page) == []
        shoot(page, "analyst", "2-new-study")
        page.get_by_role("button", name="Calcular el estudio").click()
        page.wait_for_url(re.compile(rf"{base}/studies/\d+$"))
        page.wait_for_selector("img.chart")
        assert "Energía perdida [kWh]" in page.content()
        assert blocking_violations(page) == []
        shoot(page, "analyst", "3-study-result")
        with page.expect_download() as download:
            page.get_by_role("link", name="Informe PDF").click()
        saved = tmp_path / "report.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF-")
        assert download.value.suggested_filename.endswith(".pdf")


def test_a_bad_study_form_is_told_beside_the_field_in_the_browser(app, make_user, backend):
    _only_once(backend)
    email, password, _ = make_user("analyst")
    with live_server(app) as base, browser(PHONE) as page:
        page.goto(f"{base}/login?next=/studies/new")
        page.fill("#email", email)
        page.fill("#password", password)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{base}/studies/new")
        page.fill("#f-lat", "45")
        page.fill("#f-lon", "-101.3")
        page.fill("#f-capacity_dc_kw", "5000")
        page.get_by_role("button", name="Calcular el estudio").click()
        page.wait_for_selector("#e-lat")
        assert page.locator("#f-lat").get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert blocking_violations(page) == []
        shoot(page, "analyst", "4-bad-form-phone")


def _weigh(page, url: str) -> int:
    """Bytes of a page's document and of everything it loads (as the browser received)."""
    sizes: list[int] = []

    def on_response(response):
        try:
            sizes.append(len(response.body()))
        except Exception:  # a redirect has no body
            pass

    page.on("response", on_response)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.remove_listener("response", on_response)
    return sum(sizes)


def test_community_member_walks_the_portal_on_a_phone_in_spanish(
        app, settings, backend, monkeypatch):
    _only_once(backend)
    import fondo.consultation.clock as consultation_clock

    monkeypatch.setattr(consultation_clock, "clock", lambda: SUBMITTED)
    cid = make_consultation(settings)
    notice_id = publish_notice(settings, cid, monkeypatch)
    weights = {}
    with live_server(app) as base, browser(PHONE) as page:
        def visit(name: str, url: str | None = None) -> None:
            if url is not None:
                weights[name] = _weigh(page, f"{base}{url}")
            assert page.locator("html").get_attribute("lang") == "es"
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name} is {width} px wide"
            assert blocking_violations(page) == [], name
            shoot(page, "portal-phone", name)

        visit("1-index", "/consulta/")
        assert page.get_by_text("Parque Eólico Huasteca").first.is_visible()
        visit("2-consultation", f"/consulta/{cid}")
        visit("3-notice", f"/consulta/{cid}/avisos/{notice_id}")
        visit("4-form", f"/consulta/{cid}/opinion")
        page.get_by_role("button", name="Enviar").click()  # empty message: refused
        page.wait_for_selector("#e-text")
        assert "Escriba su mensaje" in page.inner_text("#e-text")
        visit("5-form-error")
        page.fill("textarea[name=text]", "¿Cuándo será la próxima reunión en la comunidad?")
        page.select_option("select[name=category]", "consultation_process")  # longest label
        page.get_by_role("button", name="Enviar").click()
        page.wait_for_selector(".code")
        code = page.inner_text(".code").strip()
        visit("6-receipt")
        visit("7-lookup", "/consulta/recibo")
        page.fill("input[name=codigo]", code)
        page.get_by_role("button", name="Consultar").click()
        page.wait_for_selector(".code")
        visit("8-lookup-result")
        visit("9-consultation-with-answers", f"/consulta/{cid}")
        assert page.locator("table").count() >= 1  # the answers table, now with a row
        # switching language keeps the page
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.url == f"{base}/consulta/{cid}"
        assert page.locator("html").get_attribute("lang") == "en"
    heavy = {name: size for name, size in weights.items() if size > MAX_PORTAL_PAGE_BYTES}
    assert heavy == {}, heavy
    (ARTEFACTS / "screenshots" / "portal-phone" / "weights.txt").write_text(
        "".join(f"{name}\t{size}\n" for name, size in sorted(weights.items())))


@pytest.mark.parametrize("role, url", [
    (None, "/"), (None, "/login"), (None, "/data"), (None, "/no/such/page"),
    ("investor", "/fund"), ("admin", "/users"), ("analyst", "/studies/"),
])
def test_shell_pages_are_accessible(app, make_user, backend, role, url):
    _only_once(backend)
    with live_server(app) as base, browser() as page:
        if role:
            email, password, _ = make_user(role)
            page.goto(f"{base}/login")
            page.fill("#email", email)
            page.fill("#password", password)
            page.get_by_role("button", name="Entrar").click()
            page.wait_for_load_state()
        page.goto(f"{base}{url}")
        assert blocking_violations(page) == [], url
        name = (role or "visitor") + url.replace("/", "-").rstrip("-")
        shoot(page, "shell", name)
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url


def test_progress_bar_follows_the_task_then_shows_the_result(app, settings, make_user,
                                                             backend):
    """A study whose task is running: the bar moves with the job's progress, then the page
    shows the result once the task is done (no worker here: the test plays the worker)."""
    _only_once(backend)
    from fondo.db import session_scope
    from fondo.jobs import Job, JobState
    from fondo.orm import utcnow
    from fondo.studies import service as svc

    email, password, _ = make_user("analyst")
    with session_scope(settings) as session:
        job, study = svc.create_study(settings, session, {"technology": "pv", "request": {
            "lat": 21.0, "lon": -101.3, "capacity_dc_kw": 1000.0}})
        job.state, job.heartbeat_at, job.total = JobState.STARTED, utcnow(), 3
        job_id, study_id = job.id, study.id

    def progress(done: int, stage: str, state: JobState = JobState.STARTED) -> None:
        with session_scope(settings) as session:
            row = session.get(Job, job_id)
            row.done, row.stage, row.state, row.heartbeat_at = done, stage, state, utcnow()

    with live_server(app) as base, browser() as page:
        page.goto(f"{base}/login?next=/studies/{study_id}")
        page.fill("#email", email)
        page.fill("#password", password)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{base}/studies/{study_id}")
        bar = page.locator("#progress-bar")
        progress(1, "simulating")
        for _attempt in range(50):  # the page polls the task every second
            if page.evaluate("document.getElementById('progress-bar').value") == 1:
                break
            page.wait_for_timeout(200)
        assert page.evaluate("document.getElementById('progress-bar').value") == 1
        assert bar.get_attribute("max") == "3"
        assert page.inner_text("#progress-stage") == "simulating"
        shoot(page, "analyst", "5-progress")
        svc.run_stored_study(settings, study_id)
        progress(3, "done", JobState.SUCCESS)
        page.wait_for_selector("img.chart", timeout=15000)  # the page reloaded with the result
        assert page.locator("#progress").count() == 0
