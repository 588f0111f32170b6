"""The Bar's investor scenario in a real browser (Debian chromium, Playwright): an investor
signs in, lands on the dashboard and reads figures equal to ``GET
/api/v1/portfolio/summary`` and to their own ``GET /api/v1/portfolio/lp/<id>`` (fetched by
the same browser session), and gets a 404 on another LP's page; axe-core finds no serious
or critical violation. Screenshots in ``test-artefacts/screenshots/investor/``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from browser_support import live_server
from fondo.db import session_scope
from test_investor_pages import portfolio  # noqa: F401  (fixture)
from test_pages_browser import _only_once, blocking_violations, browser, shoot

pytestmark = pytest.mark.browser


def _cell(page, selector: str) -> str:
    return page.locator(selector).get_attribute("data-value")


def test_an_investor_sees_the_api_figures_and_gets_404_on_another_lp(
        app, settings, make_user, backend, portfolio):  # noqa: F811
    _only_once(backend)
    from fondo.accounts.service import link_limited_partner

    fund, mine, other = portfolio
    email, password, _ = make_user("investor")
    with session_scope(settings) as session:
        link_limited_partner(session, email, mine["id"])
    with live_server(app) as base, browser() as page:
        page.goto(f"{base}/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{base}/fund")
        summary = page.request.get(f"{base}/api/v1/portfolio/summary").json()
        for key in ("committed", "called", "distributed", "unfunded"):
            assert Decimal(_cell(page, f'td[data-figure="{key}"]')) == Decimal(
                summary["ledger"][key]), key
        for key in ("nav", "irr", "tvpi", "dpi"):
            assert float(_cell(page, f'td[data-figure="{key}"]')) == pytest.approx(
                summary["returns"]["net"][key], rel=1e-12), key
        own = page.request.get(f"{base}/api/v1/portfolio/lp/{mine['id']}").json()
        for key in ("committed", "called", "distributed", "unfunded", "nav_share"):
            assert _cell(page, f'td[data-lp-figure="{key}"]') == own["position"][key], key
        for key in ("irr", "tvpi", "dpi"):
            assert float(_cell(page, f'td[data-lp-figure="{key}"]')) == pytest.approx(
                own["returns"][key], rel=1e-12), key
        page.wait_for_selector("img.chart")
        assert blocking_violations(page) == []
        shoot(page, "investor", "1-dashboard")
        page.get_by_role("link", name="Su posición por año").click()
        page.wait_for_url(f"{base}/fund/lp/{mine['id']}")
        assert blocking_violations(page) == []
        shoot(page, "investor", "2-own-lp")
        response = page.goto(f"{base}/fund/lp/{other['id']}")
        assert response.status == 404
        assert "Otro LP" not in page.content()
        assert page.request.get(f"{base}/api/v1/portfolio/lp/{other['id']}").status == 404
        shoot(page, "investor", "3-other-lp-404")
