"""The shared shell: each role's home and navigation, the language switch, numbers and
dates per locale, the data manifest, and error pages in the reader's language with no
stack trace."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from test_studies_pages import sign_in
from web.i18n import community_timezone, local_datetime, number, value_label


@pytest.mark.parametrize("role, home, links, hidden", [
    ("officer", "/map", ["/map", "/screenings", "/studies/", "/api/v1/docs"], ["/users", "/fund"]),
    ("analyst", "/studies/", ["/studies/", "/api/v1/docs"], ["/map", "/users", "/fund"]),
    ("investor", "/fund", ["/fund", "/api/v1/docs"], ["/map", "/studies/", "/users"]),
    ("admin", "/users", ["/map", "/screenings", "/studies/", "/users", "/api/v1/docs"], ["/fund"]),
])
def test_each_role_lands_on_its_home_with_its_links(client, make_user, role, home, links,
                                                    hidden):
    token = client.get("/login").get_data(as_text=True)
    email, password, _ = make_user(role)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token).group(1)
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": csrf})
    assert response.headers["Location"] == "/home"
    assert client.get("/home").headers["Location"] == home
    nav = client.get("/").get_data(as_text=True).split('<nav class="sections"')[1].split("</nav>")[0]
    for link in links:
        assert f'href="{link}"' in nav, link
    for link in hidden:
        assert f'href="{link}"' not in nav, link


def test_investor_placeholder_says_what_the_api_offers(client, make_user):
    sign_in(client, make_user, "investor")
    page = client.get("/fund?lang=en").get_data(as_text=True)
    assert "GET /api/v1/finance/cases" in page and "investor dashboard" in page


def test_admin_sees_users_and_others_do_not(client, make_user):
    email = sign_in(client, make_user, "admin")
    page = client.get("/users").get_data(as_text=True)
    assert email in page and "Administrador" in page
    client.post("/logout", data={})
    other = client.application.test_client()
    sign_in(other, make_user, "analyst")
    assert other.get("/users").status_code == 403


def test_language_switch_keeps_the_page_and_never_leaves_the_site(client):
    response = client.get("/lang/en?next=/consulta/")
    assert response.headers["Location"] == "/consulta/"
    assert "lang=en" in response.headers["Set-Cookie"]
    assert "Consultations with communities" in client.get("/consulta/").get_data(as_text=True)
    kept = client.get("/lang/fr?next=/consulta/recibo%3Fcodigo%3DX%26lang%3Den")
    assert kept.headers["Location"] == "/consulta/recibo?codigo=X"  # its own lang= dropped
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        assert client.get("/lang/es", query_string={"next": evil}).headers["Location"] == "/"
    assert client.get("/lang/xx").status_code == 404


def test_data_manifest_is_a_page_linked_from_the_landing(client, settings):
    landing = client.get("/").get_data(as_text=True)
    assert 'href="/data"' in landing
    page = client.get("/data").get_data(as_text=True)
    manifest = json.loads((Path(settings["DATA_DIR"]) / "manifest.json").read_text())
    datasets = manifest["datasets"] if isinstance(manifest, dict) else manifest
    for entry in datasets[:5]:
        assert entry["sha256"] in page


@pytest.mark.parametrize("lang, title", [("es", "Página no encontrada"),
                                         ("en", "Page not found"),
                                         ("fr", "Page introuvable")])
def test_404_page_in_the_reader_language(client, lang, title):
    response = client.get(f"/no/such/page?lang={lang}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and f'<html lang="{lang}">' in page and title in page


def test_404_follows_accept_language(client):
    page = client.get("/nope", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert "Page introuvable" in page.get_data(as_text=True)


@pytest.mark.parametrize("lang, text", [("es", "Algo falló de nuestro lado"),
                                        ("fr", "Une erreur s'est produite de notre côté")])
def test_500_page_shows_no_stack_trace(app, lang, text):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret-internal-detail /srv/fondo/app.py line 42")

    response = app.test_client().get(f"/boom?lang={lang}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 500 and text in page
    for leak in ("Traceback", "RuntimeError", "secret-internal-detail", "app.py", 'File "'):
        assert leak not in page
    api = app.test_client().get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_numbers_and_dates_follow_the_locale(app):
    when = dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.timezone.utc)  # 10:00 in Mexico City
    with app.test_request_context("/?lang=es"):
        assert number(1234567.891, 1) == "1,234,567.9"
        es = local_datetime(when)
        assert "10:00" in es and "(UTC-06:00)" in es and "mar" in es
        assert value_label("stage", "consultation") == "Consulta"
        assert value_label("stage", "closed_without_consent") == "Closed without consent"
    with app.test_request_context("/?lang=fr"):
        assert number(1234567.891, 1).replace("\u202f", " ").replace("\xa0", " ") == \
            "1 234 567,9"
        assert "10 h 00" in local_datetime(when) or "10:00" in local_datetime(when)
        assert value_label("technology", "pv") == "Solaire photovoltaïque"
    with app.test_request_context("/?lang=en"):
        assert number(0.5, 2) == "0.50" and value_label("role", "officer") == "Fund officer"


def test_community_time_zone_by_state():
    # Sonora keeps UTC-7 all year (IANA America/Hermosillo); Guanajuato is central Mexico
    assert community_timezone(["Sonora"]).key == "America/Hermosillo"
    assert community_timezone(["Guanajuato"]).key == "America/Mexico_City"
    assert community_timezone([]).key == "America/Mexico_City"


#: Templates and views of the pages this shell owns (the officer map's are PART A's).
PAGE_SOURCES = ["web/templates/base.html", "web/templates/index.html",
                "web/templates/error.html", "web/templates/login.html",
                "web/templates/investor.html", "web/templates/users.html",
                "web/templates/data_manifest.html", "web/templates/studies/*.html",
                "web/templates/portal/*.html", "web/studies_pages.py", "web/portal.py",
                "web/problems.py"]


def _msgids() -> set[str]:
    from babel.messages.extract import extract

    root = Path(__file__).resolve().parents[2]
    found: set[str] = set()
    for pattern in PAGE_SOURCES:
        for path in sorted(root.glob(pattern)):
            method = "python" if path.suffix == ".py" else "jinja2"
            with path.open("rb") as fh:
                for _line, message, _comments, _context in extract(
                        method, fh, keywords={"_": None, "gettext": None, "page_gettext": None,
                                          "portal_gettext": None},
                        options={"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}):
                    if isinstance(message, str) and message:
                        found.add(message)
    return found


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_every_page_string_has_its_translation(app, lang):
    """Each msgid of the pages is translated, in the catalogue or in a feature table."""
    from babel.messages.pofile import read_po
    from web.translations import strings_consultation, strings_pages

    root = Path(__file__).resolve().parents[2]
    with (root / f"web/translations/{lang}/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = {m.id for m in read_po(fh) if m.id and m.string}
    tables = set(getattr(strings_pages, lang.upper())) | set(
        getattr(strings_consultation, lang.upper()))
    msgids = _msgids()
    assert len(msgids) > 150  # the extraction found the pages' strings
    missing = sorted(m for m in msgids if m not in catalogue and m not in tables)
    assert missing == []
