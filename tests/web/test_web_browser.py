"""The landing page and sign-in in a real browser (Debian chromium through Playwright)."""

import pytest

from browser_support import browser_page, live_server
from fondo.seed import seed_all

pytestmark = pytest.mark.browser


def test_sign_in_through_the_form_in_a_browser(app, settings, make_user):
    seed_all(settings, demo=True)
    email, password, _ = make_user("officer")
    with live_server(app) as base, browser_page() as page:
        page.goto(f"{base}/")
        assert page.locator("html").get_attribute("lang") == "es"
        assert page.get_by_text("DEMOSTRACIÓN").first.is_visible()
        page.get_by_role("link", name="Entrar").click()
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", "wrong password")
        page.get_by_role("button", name="Entrar").click()
        assert page.get_by_role("alert").inner_text() == "Correo o contraseña incorrectos."
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.get_by_role("button", name="Entrar").click()
        page.wait_for_url(f"{base}/map")  # an officer lands on the map
        assert email in page.locator("header").inner_text()
        page.get_by_role("link", name="English").click()
        assert page.get_by_role("button", name="Sign out").is_visible()
