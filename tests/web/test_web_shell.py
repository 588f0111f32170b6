"""The web shell: landing page, languages, health, OpenAPI, problem details, sign-in, roles."""

import re

from sqlalchemy import select

from fondo.db import session_scope
from fondo.fund.models import Project
from fondo.orm import Technology
from fondo.seed import seed_all

PROBLEM = "application/problem+json"


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_landing_page_is_spanish_first_and_translated(client, settings):
    seed_all(settings, demo=True)
    spanish = client.get("/").get_data(as_text=True)
    assert '<html lang="es">' in spanish
    assert "coinversión en energías renovables" in spanish
    assert "DEMOSTRACIÓN" in spanish  # demo rows are labelled as demo
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "renewable co-investment fund" in english
    french = client.get("/?lang=fr").get_data(as_text=True)
    assert "co-investissement" in french
    assert "DÉMO" in french


def test_language_choice_is_remembered(client):
    response = client.get("/lang/en")
    assert response.status_code == 302
    assert "lang=en" in response.headers["Set-Cookie"]


def test_user_typed_text_is_escaped(client, settings):
    with session_scope(settings) as session:
        session.add(Project(name="<script>alert(1)</script>", technology=Technology.PV))
    page = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_openapi_document_describes_the_api(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/tasks/{task_id}" in doc["paths"]
    assert "bearerAuth" in doc["components"]["securitySchemes"]


def test_api_errors_are_problem_details(client, auth_headers):
    unauth = client.get("/api/v1/me")
    assert unauth.status_code == 401
    assert unauth.mimetype == PROBLEM
    assert unauth.headers["WWW-Authenticate"].startswith("Bearer")
    body = unauth.json
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == 401 and body["instance"] == "/api/v1/me"
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.mimetype == PROBLEM
    bad_token = client.get("/api/v1/me", headers={"Authorization": "Bearer fondo_forged"})
    assert bad_token.status_code == 401


def test_validation_error_names_the_field(client, auth_headers):
    admin = auth_headers("admin")
    response = client.post("/api/v1/users", json={"email": "x@example.org", "role": "officer"},
                           headers=admin)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.json["field"] == "password"
    bad_role = client.post("/api/v1/users", headers=admin,
                           json={"email": "y@example.org", "role": "king", "password": "12345678x"})
    assert bad_role.status_code == 422 and bad_role.json["field"] == "role"


def test_roles_are_enforced(client, auth_headers):
    investor = auth_headers("investor")
    me = client.get("/api/v1/me", headers=investor)
    assert me.status_code == 200 and me.json["role"] == "investor"
    assert "password" not in me.json and "password_hash" not in me.json
    forbidden = client.post("/api/v1/users", headers=investor,
                            json={"email": "z@example.org", "role": "officer", "password": "12345678x"})
    assert forbidden.status_code == 403 and forbidden.mimetype == PROBLEM


def test_duplicate_user_is_a_conflict_and_nothing_changes(client, auth_headers, settings):
    from fondo.accounts.models import User

    admin = auth_headers("admin")
    body = {"email": "dup@example.org", "role": "analyst", "password": "long enough"}
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    again = client.post("/api/v1/users", json=body, headers=admin)
    assert again.status_code == 409 and again.json["field"] == "email"
    with session_scope(settings) as session:
        users = session.scalars(select(User).where(User.email == "dup@example.org")).all()
    assert len(users) == 1


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_login_needs_csrf_and_right_password(client, make_user):
    email, password, _token = make_user("analyst")
    no_csrf = client.post("/login", data={"email": email, "password": password})
    assert no_csrf.status_code == 400  # CSRF token missing
    token = _csrf(client.get("/login").get_data(as_text=True))
    wrong = client.post("/login", data={"email": email, "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    ok = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/api/v1/me").json["email"] == email  # session works for the API too
    # An unsafe API call riding on the session cookie needs the CSRF token as well.
    assert client.post("/api/v1/data/check").status_code == 400


def test_login_redirect_never_leaves_the_site(client, make_user):
    email, password, _ = make_user("officer")
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/", data={
        "email": email, "password": password, "csrf_token": token})
    assert response.headers["Location"] == "/home"  # the role's own home, on this site


def test_login_is_rate_limited(client):
    token = _csrf(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"email": "a@b.co", "password": "x", "csrf_token": token}
                         ).status_code for _ in range(12)]
    assert 429 in codes


def test_passwords_are_stored_as_argon2_hashes(settings, make_user):
    from fondo.accounts.models import User

    email, password, _ = make_user("officer")
    with session_scope(settings) as session:
        user = session.scalar(select(User).where(User.email == email))
    assert user.password_hash.startswith("$argon2id$")
    assert password not in user.password_hash


def test_officer_imports_a_layer_through_the_api(client, auth_headers, tmp_path):
    import io

    import geopandas as gpd

    from tests_support import DATA_DIR

    subset = gpd.read_file(DATA_DIR / "geo" / "anp_estatales_conabio2009.geojson").head(3)
    path = tmp_path / "anp.geojson"
    subset.to_file(path, driver="GeoJSON")
    officer = auth_headers("officer")
    fields = {"layer": "protected_areas_federal", "source": "CONABIO subset (test)",
              "licence": "CC BY-NC 2.5 MX"}

    def form(**extra):
        return {**fields, "file": (io.BytesIO(path.read_bytes()), "anp.geojson"), **extra}

    created = client.post("/api/v1/data/layers", data=form(), headers=officer,
                          content_type="multipart/form-data")
    assert created.status_code == 201, created.json
    assert created.json["feature_count"] == 3
    assert created.json["original_filename"] == "anp.geojson"
    listed = client.get("/api/v1/data/layers", headers=officer).json["layers"]
    assert [row["layer"] for row in listed] == ["protected_areas_federal"]
    again = client.post("/api/v1/data/layers", headers=officer, content_type="multipart/form-data",
                        data=form())
    assert again.status_code == 422  # exists: needs replace=true
    garbage = client.post("/api/v1/data/layers", headers=officer, content_type="multipart/form-data",
                          data=form(layer="localities_inpi",
                                    file=(io.BytesIO(b"\x00\x01garbage"), "x.geojson")))
    assert garbage.status_code == 422 and garbage.mimetype == "application/problem+json"
    assert len(client.get("/api/v1/data/layers", headers=officer).json["layers"]) == 1
    analyst = client.post("/api/v1/data/layers", headers=auth_headers("analyst"),
                          content_type="multipart/form-data", data=form())
    assert analyst.status_code == 403
