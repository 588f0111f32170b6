"""Analyst pages under ``/studies``: list, form, progress, result, charts and downloads.

The form goes through the same schema and service as ``POST /api/v1/studies``: the study
it stores equals what the API stores for the same request, a refused field is shown
beside its input in the page's language and nothing is stored.
"""

from __future__ import annotations

import re

import pytest
from numpy.testing import assert_allclose

from fondo.db import session_scope
from fondo.studies import service as svc

PV_FORM = {"technology": "pv", "lat": "21.0", "lon": "-101.3", "capacity_dc_kw": "5000",
           "tracking": "single_axis", "dc_ac_ratio": "1.2"}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def sign_in(client, make_user, role: str) -> str:
    email, password, _token = make_user(role)
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302
    return email


def _count(settings) -> int:
    with session_scope(settings) as session:
        return svc.count_studies(session)


def _post_form(client, form: dict[str, str]):
    token = _csrf(client.get("/studies/new").get_data(as_text=True))
    return client.post("/studies/new", data=form | {"csrf_token": token})


def test_visitors_sign_in_first_and_investors_are_refused(client, make_user):
    response = client.get("/studies/")
    assert response.status_code == 302 and "/login?next=/studies/" in response.headers["Location"]
    sign_in(client, make_user, "investor")
    page = client.get("/studies/new")
    assert page.status_code == 403
    assert "Su rol no da acceso a esta página." in page.get_data(as_text=True)


def test_form_creates_the_same_study_as_the_api(client, make_user, settings, auth_headers):
    sign_in(client, make_user, "analyst")
    form = client.get("/studies/new").get_data(as_text=True)
    assert 'lang="es"' in form and "Nuevo estudio de producción" in form
    assert "E-126/4200" in form  # the turbine catalogue
    response = _post_form(client, PV_FORM)
    assert response.status_code == 303
    study_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    api = client.post("/api/v1/studies", headers=auth_headers("analyst"), json={
        "technology": "pv", "request": {"lat": 21.0, "lon": -101.3, "capacity_dc_kw": 5000.0,
                                        "tracking": "single_axis", "dc_ac_ratio": 1.2}})
    assert api.status_code == 202
    with session_scope(settings) as session:
        page_study = svc.get_study(session, study_id)
        api_study = svc.get_study(session, api.get_json()["study_id"])
        assert page_study.request == api_study.request
        assert_allclose(page_study.energy_p50_mwh, api_study.energy_p50_mwh, rtol=1e-12)
        p50 = page_study.energy_p50_mwh
    detail = client.get(f"/studies/{study_id}").get_data(as_text=True)
    # Spanish (Mexico) number format, and the result's own P50 in MWh
    assert f"{p50:,.1f}" in detail
    assert "Energía después del paso [kWh]" in detail and "Energía perdida [kWh]" in detail
    for fmt in ("pdf", "xlsx", "csv", "json"):
        assert f"/api/v1/studies/{study_id}/export.{fmt}" in detail
    pdf = client.get(f"/api/v1/studies/{study_id}/export.pdf")  # the page's download link
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    listing = client.get("/studies/").get_data(as_text=True)
    assert f'href="/studies/{study_id}"' in listing


def test_charts_are_svg_in_the_page_language(client, make_user):
    sign_in(client, make_user, "analyst")
    study_id = int(_post_form(client, PV_FORM).headers["Location"].rsplit("/", 1)[-1])
    for name, title in (("monthly", "Energía mensual (año típico)"),
                        ("losses", "Cascada de pérdidas"),
                        ("heatmap", "Energía por mes y hora")):
        chart = client.get(f"/studies/{study_id}/charts/{name}.svg")
        assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
        assert title in chart.get_data(as_text=True)
    french = client.get(f"/studies/{study_id}/charts/losses.svg?lang=fr")
    assert "Cascade des pertes" in french.get_data(as_text=True)
    assert client.get(f"/studies/{study_id}/charts/nope.svg").status_code == 404


def test_wind_study_from_the_form(client, make_user, settings):
    sign_in(client, make_user, "officer")
    response = _post_form(client, {"technology": "wind", "lat": "25.6", "lon": "-100.2",
                                   "turbine_type": "E-126/4200", "hub_height_m": "120",
                                   "turbine_count": "3"})
    assert response.status_code == 303
    with session_scope(settings) as session:
        study = svc.list_studies(session)[0]
        assert study.request["turbine_type"] == "E-126/4200"
        assert study.request["turbine_count"] == 3
        study_id = study.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pérdidas por estela" in page and "Aerogenerador" in page
    assert client.get(f"/studies/{study_id}/charts/losses.svg").status_code == 200


@pytest.mark.parametrize("form, field, message", [
    (PV_FORM | {"lat": "treinta"}, "lat", "Escriba un número."),
    (PV_FORM | {"lat": "45.0"}, "lat", "No aceptado"),
    (PV_FORM | {"capacity_dc_kw": "-5"}, "capacity_dc_kw", "No aceptado"),
    ({k: v for k, v in PV_FORM.items() if k != "capacity_dc_kw"}, "capacity_dc_kw",
     "No aceptado"),
    ({"technology": "wind", "lat": "25.6", "lon": "-100.2", "turbine_type": "no-such",
      "hub_height_m": "100"}, "turbine_type", "No aceptado"),
    ({"technology": "wind", "lat": "25.6", "lon": "-100.2", "turbine_type": "E-126/4200",
      "hub_height_m": "100", "turbine_count": "2.5"}, "turbine_count",
     "Escriba un número entero."),
], ids=["not-a-number", "outside-mexico", "negative-capacity", "missing-capacity",
        "unknown-turbine", "fractional-count"])
def test_bad_form_shows_the_error_beside_the_field_and_stores_nothing(
        client, make_user, settings, form, field, message):
    sign_in(client, make_user, "analyst")
    response = _post_form(client, form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="f-{field}"' in page and f'aria-describedby="e-{field}"' in page
    beside = re.search(rf'<p class="field-message error" id="e-{field}">([^<]*)</p>', page)
    assert beside is not None and message in beside.group(1)
    assert _count(settings) == 0


def test_site_picker_draws_the_corridors(client, make_user):
    import shapely

    sign_in(client, make_user, "analyst")
    body = client.get("/studies/corridors.geojson").get_json()
    shapes = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in body["features"]}
    assert set(shapes) == {"bajio", "noreste"}
    assert shapes["noreste"].contains(shapely.Point(-100.31, 25.67))  # Monterrey, N.L.
    assert shapes["bajio"].contains(shapely.Point(-101.68, 21.12))  # León, Gto.
    assert not shapes["bajio"].contains(shapely.Point(-99.13, 19.43))  # Mexico City
    assert len(client.get("/studies/corridors.geojson").data) < 300_000
