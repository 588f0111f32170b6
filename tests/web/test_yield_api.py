"""``/api/v1/yield``, ``/api/v1/studies``, ``/api/v1/turbines``, ``/api/v1/stations``.

Contract names, roles, 422 problems naming the field with nothing stored, a stored study
run as a task (202 + Location) and its exports checked against its JSON.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from numpy.testing import assert_allclose
from sqlalchemy import func, select

from fondo.db import session_scope
from fondo.jobs import Job
from fondo.studies.models import YieldStudy

#: Monthly values sum to the annual value (same floats, another order). [-]
SUM_RTOL = 1e-12
CONTRACT = ("energy_annual_kwh", "energy_monthly_kwh", "capacity_factor", "p50_kwh", "p90_kwh",
            "station", "losses", "assumptions")
PV = {"lat": 21.88, "lon": -102.3, "capacity_dc_kw": 2000.0, "dc_ac_ratio": 1.25,
      "tilt_deg": 22.0, "azimuth_deg": 180.0, "tracking": "fixed", "gcr": 0.4,
      "system_losses": 0.14}
WIND = {"lat": 25.45, "lon": -101.0, "turbine_type": "E-126/4200", "hub_height_m": 135.0,
        "turbine_count": 3, "roughness_length_m": 0.1, "wake_losses": 0.05,
        "other_losses": 0.08}


def _rows(settings, model) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_roles(client, auth_headers):
    assert client.post("/api/v1/yield/pv", json=PV).status_code == 401
    investor = auth_headers("investor")
    assert client.post("/api/v1/yield/pv", json=PV, headers=investor).status_code == 200
    response = client.post("/api/v1/studies", json={"technology": "pv", "request": PV},
                           headers=investor)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_quick_pv_contract(client, auth_headers):
    response = client.post("/api/v1/yield/pv", json=PV, headers=auth_headers("officer"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(CONTRACT) <= set(body)
    assert len(body["energy_monthly_kwh"]) == 12
    assert_allclose(sum(body["energy_monthly_kwh"]), body["energy_annual_kwh"], rtol=SUM_RTOL)
    assert set(body["station"]) >= {"id", "name", "distance_km"}
    assert body["station"]["id"] == "765710"  # Aguascalientes, 5 km away
    assert all(set(s) == {"name", "fraction", "energy_kwh"} for s in body["losses"])
    assert body["p90_kwh"] < body["p50_kwh"]
    hourly = client.post("/api/v1/yield/pv?hourly=true", json=PV,
                         headers=auth_headers("analyst")).get_json()
    assert len(hourly["energy_hourly_kwh"]) == 8760


def test_quick_wind_contract(client, auth_headers):
    response = client.post("/api/v1/yield/wind", json=WIND, headers=auth_headers("analyst"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(CONTRACT) <= set(body)
    assert body["assumptions"]["density_correction_method"] == "sam"
    assert body["assumptions"]["wake_losses"] == 0.05
    names = [s["name"] for s in body["losses"]]
    assert names[:2] == ["air_density", "wake"]


BAD = [
    ("pv", PV | {"lat": 45.0}, "lat"),
    ("pv", PV | {"lon": -60.0}, "lon"),
    ("pv", PV | {"capacity_dc_kw": -1}, "capacity_dc_kw"),
    ("pv", PV | {"tilt_deg": -5}, "tilt_deg"),
    ("pv", PV | {"dc_ac_ratio": 0.4}, "dc_ac_ratio"),
    ("pv", PV | {"station_id": "123456"}, "station_id"),
    ("wind", WIND | {"turbine_type": "Unknown/9000"}, "turbine_type"),
    ("wind", WIND | {"hub_height_m": 8.0}, "hub_height_m"),
    ("wind", WIND | {"hub_height_m": 251.0}, "hub_height_m"),
    ("wind", WIND | {"station_id": "000001"}, "station_id"),
]


@pytest.mark.parametrize("technology, body, field", BAD)
def test_bad_input_is_422_naming_field(client, auth_headers, settings, technology, body, field):
    headers = auth_headers("analyst")
    quick = client.post(f"/api/v1/yield/{technology}", json=body, headers=headers)
    assert quick.status_code == 422
    assert quick.mimetype == "application/problem+json"
    assert quick.get_json()["field"] == field
    stored = client.post("/api/v1/studies", json={"technology": technology, "request": body},
                         headers=headers)
    assert stored.status_code == 422 and stored.get_json()["field"] == field
    assert _rows(settings, YieldStudy) == 0 and _rows(settings, Job) == 0


def test_malformed_bodies(client, auth_headers, settings):
    headers = auth_headers("analyst")
    response = client.post("/api/v1/yield/pv", data="{nope", headers=headers,
                           content_type="application/json")
    assert response.status_code == 422 and response.get_json()["field"] == "body"
    response = client.post("/api/v1/studies", json={"technology": "hydro", "request": PV},
                           headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "technology"
    response = client.post("/api/v1/studies", json={"technology": "pv", "request": PV,
                                                     "site_id": 999}, headers=headers)
    assert response.status_code == 422 and response.get_json()["field"] == "site_id"
    assert _rows(settings, YieldStudy) == 0


def test_stored_study_task_and_exports(client, auth_headers):
    headers = auth_headers("officer")
    response = client.post("/api/v1/studies", json={"technology": "wind", "request": WIND},
                           headers=headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/tasks/{body['id']}"
    study_url = body["study_url"]
    assert study_url == f"/api/v1/studies/{body['study_id']}"
    task = client.get(response.headers["Location"], headers=headers).get_json()
    assert task["state"] == "SUCCESS" and task["result_url"] == study_url
    assert task["progress"]["stage"] == "done" and task["progress"]["done"] == 3
    study = client.get(study_url, headers=headers).get_json()
    assert study["status"] == "SUCCESS" and study["technology"] == "wind"
    result = study["result"]
    assert_allclose(study["energy_p50_mwh"], result["p50_kwh"] / 1000, rtol=SUM_RTOL)
    exports = {}
    for fmt, mime in (("csv", "text/csv"), ("json", "application/json"),
                      ("pdf", "application/pdf"),
                      ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml"
                               ".sheet")):
        got = client.get(f"{study_url}/export.{fmt}", headers=headers)
        assert got.status_code == 200 and got.mimetype == mime
        exports[fmt] = got.data
    rows = list(csv.DictReader(io.StringIO(exports["csv"].decode())))
    assert len(rows) == 8760
    assert_allclose(sum(float(r["energy_ac_kwh"]) for r in rows), result["energy_annual_kwh"],
                    rtol=SUM_RTOL)
    assert exports["pdf"].startswith(b"%PDF") and result["station"]["name"].encode() in exports["pdf"]
    assert client.get(f"{study_url}/export.docx", headers=headers).status_code == 422
    assert client.get("/api/v1/studies/999/export.csv", headers=headers).status_code == 404
    assert client.get(f"{study_url}/export.csv",
                      headers=auth_headers("investor")).status_code == 403
    listing = client.get("/api/v1/studies", headers=headers).get_json()["studies"]
    assert [s["id"] for s in listing] == [body["study_id"]]


def test_turbines_and_stations_are_public(client):
    turbines = client.get("/api/v1/turbines")
    assert turbines.status_code == 200
    by_type = {t["turbine_type"]: t for t in turbines.get_json()["turbines"]}
    # windpowerlib's oedb library: Enercon E-126/4200, 4.2 MW, offered at a 135 m hub
    assert by_type["E-126/4200"]["rated_power_kw"] == 4200.0
    assert 135.0 in by_type["E-126/4200"]["hub_heights_m"]
    stations = client.get("/api/v1/stations").get_json()["stations"]
    assert {"765710", "763930"} <= {s["id"] for s in stations}
    assert {s["corridor"] for s in stations} == {"bajio", "noreste"}


def _raw(body: dict, **literals: str) -> str:
    """``body`` as JSON text with the string values ``"<name>"`` replaced by literals."""
    text = json.dumps(body)
    for name, literal in literals.items():
        text = text.replace(f'"<{name}>"', literal)
    return text


#: Bodies both the API and the command line refuse, and the field each names.
REFUSED = [
    ("pv", _raw(PV | {"capacity_dc_kw": "<x>"}, x="NaN"), "capacity_dc_kw"),
    ("pv", _raw(PV | {"tilt_deg": "<x>"}, x="-Infinity"), "tilt_deg"),
    ("pv", '{"capacity_dc_kw": 2000, ' + json.dumps(PV)[1:], "capacity_dc_kw"),
    ("pv", json.dumps(PV | {"capacity_dc_kw": "2000"}), "capacity_dc_kw"),
    ("pv", json.dumps(PV | {"tracking": 1}), "tracking"),
    ("pv", json.dumps({k: v for k, v in PV.items() if k != "lat"}), "lat"),
    ("pv", json.dumps(PV | {"capacity_dc_kw": -2000}), "capacity_dc_kw"),
    ("pv", json.dumps(PV | {"azimuth": 180}), "azimuth"),
    ("wind", json.dumps(WIND | {"turbine_count": "3"}), "turbine_count"),
    ("wind", json.dumps(WIND | {"hub_height_m": None}), "hub_height_m"),
    ("study", json.dumps({"technology": "pv", "request": PV | {"tilt_deg": "22"}}), "tilt_deg"),
    ("study", json.dumps({"technology": "pv"}), "request"),
    ("study", json.dumps({"technology": "pv", "request": PV, "site_id": "1"}), "site_id"),
    ("study", json.dumps({"technology": "pv", "request": PV, "site_id": 2**64}), "site_id"),
    ("study", json.dumps({"technology": "pv", "request": PV, "priority": 1}), "priority"),
    ("study", json.dumps({"technology": "wind", "request": "<x>"}).replace('"<x>"', "[]"),
     "request"),
]


@pytest.mark.parametrize("kind, text, field", REFUSED)
def test_api_and_cli_refuse_the_same_body_naming_the_same_field(client, auth_headers, settings,
                                                                kind, text, field):
    from fondo.cli import main

    url = "/api/v1/studies" if kind == "study" else f"/api/v1/yield/{kind}"
    response = client.post(url, data=text, content_type="application/json",
                           headers=auth_headers("analyst"))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["field"] == field
    args = ["study", "create"] if kind == "study" else ["yield", kind]
    result = CliRunner().invoke(main, [*args, "--input", "-"], input=text,
                                obj={"settings": settings})
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.rstrip().endswith(f"({field})")
    assert _rows(settings, YieldStudy) == 0 and _rows(settings, Job) == 0


def test_openapi_documents_the_request_schemas_with_their_bounds(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for path, name in (("/api/v1/yield/pv", "PVRequest"), ("/api/v1/yield/wind", "WindRequest"),
                       ("/api/v1/studies", "StudyRequest")):
        body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].endswith(f"/{name}")
    pv = schemas["PVRequest"]
    assert set(pv["required"]) == {"lat", "lon", "capacity_dc_kw"}
    assert (pv["properties"]["tilt_deg"]["minimum"], pv["properties"]["tilt_deg"]["maximum"]) \
        == (0.0, 90.0)
    # optional fields are nullable: null means the engine's default
    assert pv["properties"]["tracking"]["enum"] == ["fixed", "single_axis", None]
