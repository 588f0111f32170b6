"""The officer pages without a browser: ``/map``, ``/mapa``, ``/screenings``, the docs page,
the bundled Leaflet and Swagger UI, and the Content-Security-Policy of the base map."""

from __future__ import annotations

import json
import re

import pytest
import xstatic.pkg.leaflet as xstatic_leaflet
from swagger_ui_bundle import swagger_ui_path

from web import create_app

#: Attributes that load something: every one must stay on this server by default.
_LOADS = re.compile(r'(?:src|href)="([^"]+)"')


def _sign_in(client, make_user, role="officer"):
    email, password, _ = make_user(role)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    return email


def _config(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="map-config">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


def test_the_map_asks_to_sign_in(client):
    answer = client.get("/map")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_mapa_redirects_to_the_map(client):
    answer = client.get("/mapa?screening=3")
    assert answer.status_code == 301
    assert answer.headers["Location"].endswith("/map?screening=3")


@pytest.mark.parametrize("lang", ["es", "en", "fr"])
def test_the_map_page_loads_nothing_from_elsewhere(client, make_user, lang):
    _sign_in(client, make_user)
    answer = client.get(f"/map?lang={lang}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    for target in _LOADS.findall(page):
        assert not re.match(r"^(https?:)?//", target), target
    config = _config(page)
    assert config["baseMap"] is None
    assert {layer["id"] for layer in config["layers"]} >= {"corridors", "ghi", "wind"}
    csp = answer.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp and "script-src 'self'" in csp


def test_the_map_page_is_translated(client, make_user):
    _sign_in(client, make_user)
    assert "Capas" in client.get("/map?lang=es").get_data(as_text=True)
    assert "Layers" in client.get("/map?lang=en").get_data(as_text=True)
    assert "Couches" in client.get("/map?lang=fr").get_data(as_text=True)


def test_an_online_base_map_is_allowed_by_the_page_policy(settings, make_user):
    app = create_app(settings | {"MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png"})
    client = app.test_client()
    _sign_in(client, make_user)
    answer = client.get("/map")
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in answer.headers[
        "Content-Security-Policy"]
    assert _config(answer.get_data(as_text=True))["baseMap"]["url"].startswith("https://tile.")


def test_a_malformed_tile_url_leaves_the_map_offline(settings, make_user):
    app = create_app(settings | {"MAP_TILE_URL": "javascript:alert(1)"})
    client = app.test_client()
    _sign_in(client, make_user)
    answer = client.get("/map")
    assert _config(answer.get_data(as_text=True))["baseMap"] is None
    assert "javascript" not in answer.headers["Content-Security-Policy"]


def test_investors_do_not_use_the_map(client, make_user):
    _sign_in(client, make_user, "investor")
    assert client.get("/map").status_code == 403
    assert client.get("/screenings").status_code == 403


def test_leaflet_is_served_from_its_python_package(client):
    answer = client.get("/vendor/leaflet/leaflet.js")
    assert answer.status_code == 200
    with open(f"{xstatic_leaflet.BASE_DIR}/leaflet.js", "rb") as bundled:
        assert answer.data == bundled.read()
    answer.close()
    assert client.get("/vendor/leaflet/../../setup.py").status_code == 404
    assert client.get("/vendor/leaflet/leaflet-src.js.map").status_code == 404


def test_the_api_docs_page_uses_the_bundled_swagger_ui(client):
    answer = client.get("/api/v1/docs")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "/api/v1/docs/static/swagger-ui-bundle.js" in page
    assert 'data-spec-url="/api/v1/docs/openapi-3.0.json"' in page
    assert 'href="/api/v1/openapi.json"' in page  # the 3.1 original, linked
    for target in _LOADS.findall(page):
        assert not re.match(r"^(https?:)?//", target), target
    script = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    with open(f"{swagger_ui_path}/swagger-ui-bundle.js", "rb") as bundled:
        assert script.data == bundled.read()
    script.close()
    assert client.get("/api/v1/docs/static/index.html").status_code == 404
    assert client.get("/api/v1/openapi.json").json["paths"]["/api/v1/map/report"]


def test_the_screenings_page_offers_the_form_to_officers_only(client, make_user, settings):
    _sign_in(client, make_user, "analyst")
    page = client.get("/screenings").get_data(as_text=True)
    assert 'id="screening-form"' not in page and 'id="screening-select"' in page
    other = create_app(settings).test_client()
    _sign_in(other, make_user, "officer")
    page = other.get("/screenings?lang=en").get_data(as_text=True)
    assert 'id="screening-form"' in page and "Start the screening" in page


def test_a_finished_screenings_page_shows_its_summary(client, make_user, auth_headers):
    officer = auth_headers("officer")
    started = client.post("/api/v1/screenings", headers=officer, json={
        "geometry": {"type": "Polygon", "coordinates": [[[-102.4, 21.75], [-102.2, 21.75],
                     [-102.2, 21.93], [-102.4, 21.93], [-102.4, 21.75]]]},
        "technology": "pv", "resolution_km": 2.0})
    screening_id = started.json["screening_id"]
    summary = client.get(f"/api/v1/screenings/{screening_id}", headers=officer).json["summary"]
    _sign_in(client, make_user)
    page = client.get(f"/screenings/{screening_id}?lang=en").get_data(as_text=True)
    for reason, count in summary["exclusions"].items():
        assert f"<tr><td>{reason}</td><td>{count}</td></tr>" in page
    for cell in summary["top_cells"]:
        assert f"{cell['score']:.3f}" in page
    for fmt in ("cells.gpkg", "cells.csv", "cells.geojson", "supply-curve.csv"):
        assert f"/api/v1/screenings/{screening_id}/{fmt}" in page
    svg = client.get(f"/screenings/{screening_id}/supply-curve.svg?lang=es")
    assert svg.mimetype == "image/svg+xml" and "Capacidad" in svg.get_data(as_text=True)
    fragment = client.get(f"/screenings/{screening_id}/summary")
    assert fragment.status_code == 200 and "<h2" in fragment.get_data(as_text=True)


def test_the_docs_page_reads_the_document_in_openapi_30_spelling(client):
    original = client.get("/api/v1/openapi.json").json
    converted = client.get("/api/v1/docs/openapi-3.0.json").json
    assert original["openapi"].startswith("3.1") and converted["openapi"] == "3.0.3"
    assert converted["paths"].keys() == original["paths"].keys()

    def walk(node):
        if isinstance(node, dict):
            for key in ("exclusiveMinimum", "exclusiveMaximum"):
                if key in node:
                    assert node[key] is True  # 3.0: a flag beside minimum/maximum
            assert not isinstance(node.get("type"), list)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(converted)
    # capacity_dc_kw > 0 (open bound): 3.1 says exclusiveMinimum 0; 3.0 minimum 0 + flag.
    text = json.dumps(converted)
    assert '"exclusiveMinimum": true' in text
