"""Inputs found by fuzzing the API (schemathesis, and the probe of issue 10): 4xx, never 500.

Every JSON endpoint of the OpenAPI document gets bodies nested 100 000 levels deep and, in
each numeric field of its request schema, the numeric edges (1e308, 1e999, 2**63, 10**30,
-1, 0, ``true``...). The document states each field's finite range, so the verdict is
exact: a value outside it (or not a number) is a 422 problem naming that field; a value
inside it is accepted or refused for another reason, never a 500, and a task it starts
never fails on it (tasks run as they are sent, :mod:`api_target`).
"""

from __future__ import annotations

import copy
import json
import math
import uuid
from typing import Any

import pytest
from api_target import (  # noqa: F401 (fuzz_target is a fixture)
    CASE,
    PV,
    SUBMISSION,
    TINY_POLYGON,
    WIND,
    FuzzTarget,
    fuzz_target,
)

from fondo.errors import InvalidInput
from fondo.request_body import MAX_JSON_DEPTH, non_finite_path, parse_json_body
from fondo.schema_fields import MAX_DATABASE_ID

PROBLEM = "application/problem+json"
#: Numbers a fuzzer tries first: float64's extremes (1e-308 is already subnormal), a literal
#: that overflows to infinity, integers past 64 bits, a negative and zero; and a boolean,
#: which is not a number in JSON.
NUMERIC_EDGES = ("1e308", "-1e308", "1e-308", "1e999", str(2**63), str(10**30), "-1", "0",
                 "true")
#: Bodies deeper than any parser's stack: arrays, and objects of one key.
DEEP_BODIES = ("[" * 100_000, '{"a":' * 10_000)
#: A body each JSON endpoint accepts (or refuses for what it says, not for its shape), by
#: operation. ``{id}`` placeholders are the rows of :func:`api_target.fuzz_target`.
BASE_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/users": {"email": "{email}", "role": "investor",
                           "password": "correct horse battery", "limited_partner_ids": []},
    "POST /api/v1/screenings": {"geometry": TINY_POLYGON, "technology": "pv",
                                "resolution_km": 0.25},
    "POST /api/v1/sites/check": {"geometry": TINY_POLYGON, "technology": "pv"},
    "POST /api/v1/yield/pv": PV,
    "POST /api/v1/yield/wind": WIND,
    "POST /api/v1/studies": {"technology": "pv", "request": PV},
    "POST /api/v1/finance/cases": CASE,
    "POST /api/v1/finance/cases/{case_id}/montecarlo": {"n_draws": 200},
    "POST /api/v1/consultations": {"project_id": "{project_id}"},
    "POST /api/v1/consultations/{consultation_id}/meetings": {
        "held_at": "2026-03-01T10:00:00-06:00", "place": "Casa ejidal", "attendance_count": 40},
    "POST /api/v1/consultations/{consultation_id}/feedback": SUBMISSION | {
        "location": {"latitude": 21.26, "longitude": -98.79}},
    "POST /api/v1/consultations/{consultation_id}/commitments": {
        "kind": "benefit_sharing", "description": "Fondo comunitario", "owner": "Fondo",
        "due_date": "2027-06-30", "amount_mxn": 250_000},
    "POST /api/v1/consultations/{consultation_id}/notices": {
        "community": "Tamazunchale", "starts_at": "2027-03-01T10:00:00-06:00",
        "place": "Auditorio", "meeting_language": "Náhuatl", "community_language_versions": [
            {"language": "Náhuatl", "variant": "náhuatl de la Huasteca potosina",
             "title": "Tlanahuatili", "body": "...", "translator_id": 1}]},
    "POST /api/v1/consultations/{consultation_id}/records": {
        "kind": "study_coproduction", "community_participants": 12, "sessions": 3,
        "community_institutions": "Asamblea", "budget_mxn": 1000},
    "POST /api/v1/projects": {"name": "Parque de prueba", "technology": "wind",
                              "capacity_ac_mw": 50.0, "fund_id": "{fund_id}",
                              "site_id": "{site_id}"},
    "PATCH /api/v1/projects/{project_id}": {"capacity_ac_mw": 60.0, "version": 1},
    "POST /api/v1/projects/{project_id}/studies": {"study_id": "{study_id}"},
    "POST /api/v1/projects/{project_id}/p90-case": {"case_id": "{case_id}"},
    "POST /api/v1/funds": {"name": "{email}", "base_currency": "USD", "vintage_year": 2026},
    "POST /api/v1/funds/{fund_id}/allocations": {
        "project_id": "{project_id}", "tranche_kind": "equity", "amount": "10.00",
        "currency": "USD"},
    "POST /api/v1/funds/{fund_id}/ledger": {
        "limited_partner_id": "{lp_id}", "kind": "capital_call", "amount": "10.00",
        "effective_date": "2026-11-30"},
    "PUT /api/v1/funds/{fund_id}/limits": {"dimension": "state", "key": None,
                                           "max_fraction": 0.5, "warn_at": 0.9},
    "POST /api/v1/portfolio/montecarlo": {"fund_id": "{fund_id}", "draws": 100, "seed": 3},
    "POST /api/v1/map/report": {"longitude": -98.79, "latitude": 21.26, "technology": "wind"},
    "POST /api/v1/sites": {"name": "Huasteca norte", "technology": "wind",
                           "geometry": {"type": "Point", "coordinates": [-98.79, 21.26]},
                           "project_id": "{project_id}"},
}
#: Request schemas nested in another as a plain object, by operation: (prefix, operation
#: whose schema it is). A stored study's ``request`` is a PV request, named as ``/yield/pv``
#: names its fields.
NESTED_REQUESTS = {"POST /api/v1/studies": ("request", "POST /api/v1/yield/pv")}


# --------------------------------------------------------------------------- the document


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    """(method, path, JSON body schema) of every operation that takes a JSON body."""
    out = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) else {}
            if "application/json" in content:
                out.append((method.upper(), path, content["application/json"]["schema"]))
    return out


def _numeric_fields(doc: dict, schema: dict, path: str = "") -> list[tuple[str, dict]]:
    """(JSON path, schema) of every number in a request schema; an array's first item,
    an object of numbers under the key ``"115"`` (a voltage class, as the screening's
    cost tables are keyed)."""
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("readOnly"):
        return []
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    out = [(path, schema)] if {"number", "integer"} & set(types) else []
    for name, sub in (schema.get("properties") or {}).items():
        out += _numeric_fields(doc, sub, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), dict):
        out += _numeric_fields(doc, schema["items"], f"{path}[0]")
    if isinstance(schema.get("additionalProperties"), dict):
        out += _numeric_fields(doc, schema["additionalProperties"], f"{path}.115")
    for alternative in schema.get("anyOf", []) + schema.get("allOf", []):  # nullable objects
        out += _numeric_fields(doc, alternative, path)
    return out


def _documented(schema: dict, text: str) -> bool:
    """True when the number ``text`` is inside the field's documented type and range."""
    value = json.loads(text)
    if isinstance(value, bool) or not math.isfinite(float(value)):
        return False
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if "number" not in types and value != int(value):
        return False
    checks = (("minimum", lambda b: value >= b), ("exclusiveMinimum", lambda b: value > b),
              ("maximum", lambda b: value <= b), ("exclusiveMaximum", lambda b: value < b))
    return all(check(schema[key]) for key, check in checks if key in schema)


def _with_value(body: Any, path: str, marker: str) -> Any:
    """A copy of ``body`` whose field at the JSON ``path`` holds ``marker`` (objects and
    one-item lists are made on the way)."""
    out = copy.deepcopy(body)
    keys: list[str | int] = []
    for part in path.replace("[", ".[").split("."):
        keys.append(0 if part == "[0]" else part)
    node = out
    for key, following in zip(keys, keys[1:] + [None]):
        if following is None:
            node[key] = marker
            break
        current = node[key] if isinstance(key, int) else node.get(key)
        if following == 0 and not (isinstance(current, list) and current):
            node[key] = [None]
        elif following != 0 and not isinstance(current, dict):
            node[key] = {}
        node = node[key]
    return out


def _fill(template: Any, target: FuzzTarget) -> Any:
    text = json.dumps(template)
    values = target.ids | {"email": f"fuzz-{uuid.uuid4().hex[:8]}@example.org"}
    for name, value in values.items():
        text = text.replace(f'"{{{name}}}"', json.dumps(value))
    return json.loads(text)


def _url(path: str, target: FuzzTarget) -> str:
    return path.format(**target.ids)


# --------------------------------------------------------------------------- parsing


def test_nesting_up_to_the_limit_parses_and_one_more_level_is_refused():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json_body(at_limit) == json.loads(at_limit)
    with pytest.raises(InvalidInput) as refused:
        parse_json_body("[" + at_limit + "]")
    assert refused.value.field == "body"
    assert str(MAX_JSON_DEPTH) in refused.value.detail


@pytest.mark.parametrize("body", DEEP_BODIES, ids=["arrays", "objects"])
def test_a_body_deeper_than_the_interpreter_is_refused_naming_body(body):
    with pytest.raises(InvalidInput) as refused:
        parse_json_body(body)
    assert refused.value.field == "body"


def test_non_finite_results_are_found_by_their_path():
    assert non_finite_path({"p50_kwh": 1.0, "losses": [{"energy_kwh": math.inf}]}) == \
        "losses[0].energy_kwh"
    assert non_finite_path({"irr": math.nan}) == "irr"
    assert non_finite_path({"irr": math.nan}, nan_ok=True) is None
    assert non_finite_path({"npv_usd": -math.inf}, nan_ok=True) == "npv_usd"
    assert non_finite_path({"count": 10**400, "flag": True, "name": "x"}) is None


# --------------------------------------------------------------------------- endpoints


def test_every_json_endpoint_refuses_deep_nesting_naming_body(fuzz_target):
    client = fuzz_target.app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    operations = _operations(doc)
    assert len(operations) >= 19
    for method, path, _schema in operations:
        for body in DEEP_BODIES:
            response = client.open(_url(path, fuzz_target), method=method, data=body,
                                   content_type="application/json",
                                   headers=fuzz_target.headers())
            assert response.status_code == 422, (method, path, response.status_code)
            assert response.mimetype == PROBLEM
            assert response.get_json()["field"] == "body", (method, path)


def test_every_json_endpoint_refuses_a_bare_number_as_its_body(fuzz_target):
    client = fuzz_target.app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    for method, path, _schema in _operations(doc):
        for text in NUMERIC_EDGES:
            response = client.open(_url(path, fuzz_target), method=method, data=text,
                                   content_type="application/json",
                                   headers=fuzz_target.headers())
            assert response.status_code == 422, (method, path, text, response.status_code)
            assert response.mimetype == PROBLEM


def test_every_number_of_every_request_has_a_documented_finite_range(fuzz_target):
    """Bodies and query strings: each number states a lower and an upper bound."""
    doc = fuzz_target.app.test_client().get("/api/v1/openapi.json").get_json()
    fields = [(f"{method} {path} {json_path}", schema) for method, path, body in _operations(doc)
              for json_path, schema in _numeric_fields(doc, body)]
    fields += [(f"{method.upper()} {path} ?{param['name']}", param["schema"])
               for path, item in doc["paths"].items() for method, op in item.items()
               if isinstance(op, dict) for param in op.get("parameters", [])
               if param["in"] == "query" and param["schema"].get("type") in ("number", "integer")]
    assert len(fields) > 150
    unbounded = [name for name, schema in fields
                 if not ({"minimum", "exclusiveMinimum"} & set(schema)
                         and {"maximum", "exclusiveMaximum"} & set(schema))]
    assert not unbounded, unbounded


#: The operations with numbers in their bodies, in groups of about equal run time.
NUMERIC_GROUPS = {
    "finance": ("POST /api/v1/finance/cases", "POST /api/v1/finance/cases/{case_id}/montecarlo",
                "POST /api/v1/users"),
    "screening": ("POST /api/v1/screenings", "POST /api/v1/sites/check"),
    "map": ("POST /api/v1/map/report", "POST /api/v1/sites"),
    "projects": ("POST /api/v1/projects", "PATCH /api/v1/projects/{project_id}",
                 "POST /api/v1/projects/{project_id}/studies",
                 "POST /api/v1/projects/{project_id}/p90-case"),
    "fund": ("POST /api/v1/funds", "POST /api/v1/funds/{fund_id}/allocations",
             "POST /api/v1/funds/{fund_id}/ledger", "PUT /api/v1/funds/{fund_id}/limits",
             "POST /api/v1/portfolio/montecarlo"),
    "yield": ("POST /api/v1/yield/pv", "POST /api/v1/yield/wind", "POST /api/v1/studies"),
    "consultation": ("POST /api/v1/consultations",
                     "POST /api/v1/consultations/{consultation_id}/meetings",
                     "POST /api/v1/consultations/{consultation_id}/feedback",
                     "POST /api/v1/consultations/{consultation_id}/commitments",
                     "POST /api/v1/consultations/{consultation_id}/notices",
                     "POST /api/v1/consultations/{consultation_id}/records"),
}


def test_every_numeric_operation_is_in_a_group(fuzz_target):
    doc = fuzz_target.app.test_client().get("/api/v1/openapi.json").get_json()
    numeric = {f"{m} {p}" for m, p, schema in _operations(doc) if _numeric_fields(doc, schema)}
    assert numeric == {op for ops in NUMERIC_GROUPS.values() for op in ops}


def _numeric_cases(doc: dict, operation: str) -> list[tuple[str, str, dict]]:
    """(JSON path in the body, field the problem names, schema) of each number."""
    schemas = {f"{m} {p}": s for m, p, s in _operations(doc)}
    cases = [(path, path, schema) for path, schema in _numeric_fields(doc, schemas[operation])]
    if operation in NESTED_REQUESTS:
        prefix, inner = NESTED_REQUESTS[operation]
        cases += [(f"{prefix}.{path}", path, schema)
                  for path, schema in _numeric_fields(doc, schemas[inner])]
    return cases


def _named(field: str | None, expected: str) -> bool:
    """A problem names ``expected`` or a part of it (``capex_components_usd.115.value``)."""
    return field is not None and (field == expected or field.startswith((expected + ".",
                                                                         expected + "[")))


@pytest.mark.parametrize("group", NUMERIC_GROUPS)
def test_numeric_edges_are_refused_naming_the_field_or_computed(fuzz_target, group):
    client = fuzz_target.app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    unexpected = []
    for operation in NUMERIC_GROUPS[group]:
        method, path = operation.split(" ", 1)
        for json_path, field, schema in _numeric_cases(doc, operation):
            for text in NUMERIC_EDGES:
                marker = f"@@{uuid.uuid4().hex}@@"
                body = _with_value(_fill(BASE_BODIES[operation], fuzz_target), json_path, marker)
                data = json.dumps(body).replace(json.dumps(marker), text)
                response = client.open(_url(path, fuzz_target), method=method, data=data,
                                       content_type="application/json",
                                       headers=fuzz_target.headers())
                answer = response.get_json(silent=True) or {}
                case = (operation, json_path, text, response.status_code, answer.get("field"),
                        str(answer.get("detail"))[:160])
                if response.status_code >= 500:
                    unexpected.append(("server error",) + case)
                elif not _documented(schema, text):
                    if response.status_code != 422 or not _named(answer.get("field"), field):
                        unexpected.append(("not refused naming the field",) + case)
                elif response.status_code == 202 and answer.get("state") == "FAILURE":
                    unexpected.append(("accepted, then the task failed",) + case
                                      + (answer.get("error"),))
    assert not unexpected, "\n".join(map(str, unexpected))


# --------------------------------------------------------------------------- known cases


@pytest.mark.parametrize("path", ["/api/v1/studies/456434137725426335744",
                                  "/api/v1/finance/cases/99999999999999999999",
                                  "/api/v1/consultations/123456789012345678901",
                                  f"/api/v1/studies/{MAX_DATABASE_ID + 1}",
                                  f"/api/v1/finance/cases/{MAX_DATABASE_ID + 1}/tornado"])
def test_ids_beyond_the_database_range_are_not_found(client, auth_headers, path):
    """PostgreSQL's ``integer`` ids stop at 2**31 - 1: a larger id is a 404 on both."""
    response = client.get(path, headers=auth_headers("admin"))
    assert response.status_code == 404
    assert response.mimetype == PROBLEM


@pytest.mark.parametrize("query", ["project_id=100000000000000000000000000000",
                                   f"project_id={MAX_DATABASE_ID + 1}", "project_id=-1",
                                   "project_id=north"])
def test_a_bad_project_filter_is_a_problem_naming_it(client, auth_headers, query):
    response = client.get(f"/api/v1/finance/cases?{query}", headers=auth_headers("admin"))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.get_json()["field"] == "project_id"


@pytest.mark.parametrize("body", [{"action": []}, {}, {"action": None}, {"action": 1}])
def test_a_feedback_action_without_a_valid_action_names_it(fuzz_target, body):
    url = _url("/api/v1/consultations/{consultation_id}/feedback/{feedback_id}/actions",
               fuzz_target)
    response = fuzz_target.app.test_client().post(url, json=body,
                                                  headers=fuzz_target.headers())
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.get_json()["field"] == "action"


def test_a_study_of_1e308_kw_is_refused_and_the_listing_still_answers(client, auth_headers,
                                                                      settings):
    from sqlalchemy import func, select

    from fondo.db import session_scope
    from fondo.studies.models import YieldStudy

    headers = auth_headers("admin")
    response = client.post("/api/v1/studies", data='{"technology": "pv", "request": {'
                           '"lat": 21.88, "lon": -102.3, "capacity_dc_kw": 1e308}}',
                           content_type="application/json", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["field"] == "capacity_dc_kw"
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(YieldStudy)) == 0
    assert client.get("/api/v1/studies", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/screenings", {"corridor": "bajio", "resolution_km": 2, "technology": {}}),
        ("/api/v1/sites/check", {"geometry": {}, "technology": {}}),
        ("/api/v1/studies", {"request": {}, "technology": {}}),
        ("/api/v1/studies", {"request": {}, "technology": ["pv"]}),
    ],
)
def test_a_technology_of_the_wrong_type_is_named(client, auth_headers, path, body):
    response = client.post(path, json=body, headers=auth_headers("admin"))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert response.json["field"] == "technology"


# --------------------------------------------------------------------------- the worker side


#: The largest uncertainties a Monte Carlo request may state, and the last 32-bit seed.
MONTECARLO_AT_ITS_BOUNDS = {"n_draws": 200, "seed": 2**32 - 1, "price_sigma": 2.0,
                            "capex_sigma": 2.0, "opex_sigma": 2.0, "energy_sigma": 1.0,
                            "breach_dscr": 10.0, "chunk": 200}


def test_a_monte_carlo_at_the_bounds_of_its_schema_succeeds(fuzz_target):
    client = fuzz_target.app.test_client()
    url = _url("/api/v1/finance/cases/{case_id}/montecarlo", fuzz_target)
    started = client.post(url, json=MONTECARLO_AT_ITS_BOUNDS, headers=fuzz_target.headers())
    assert started.status_code == 202, started.get_json()
    assert started.get_json()["state"] == "SUCCESS", started.get_json()["error"]
    run = client.get(started.get_json()["run"], headers=fuzz_target.headers()).get_json()
    assert run["spec"]["seed"] == 2**32 - 1
    assert non_finite_path(run["summary"]) is None  # strict JSON: nulls, never NaN


@pytest.mark.parametrize("corner", ["largest", "smallest"])
def test_a_finance_case_at_the_corners_of_its_schema_is_computed_or_refused(fuzz_target,
                                                                            corner):
    """Every amount, price and rate at once at its documented maximum (or minimum)."""
    client = fuzz_target.app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    body = copy.deepcopy(CASE) | {"life_years": 100, "construction_years": 10}
    for json_path, _field, schema in _numeric_cases(doc, "POST /api/v1/finance/cases"):
        if "." in json_path or "[" in json_path or json_path.endswith("_id"):
            continue  # nested tables and references keep the base values
        bound = schema.get("maximum" if corner == "largest" else "minimum")
        if bound is not None and json_path not in ("life_years", "construction_years"):
            body[json_path] = bound
    response = client.post("/api/v1/finance/cases", json=body, headers=fuzz_target.headers())
    assert response.status_code in (201, 422), response.get_json()
    assert non_finite_path(response.get_json()) is None


def test_a_stored_study_the_engine_refuses_fails_without_a_file(settings, client,
                                                                auth_headers):
    """A stored request the engine now refuses (a row of an older version, changed by
    hand) fails its task with the engine's reason: FAILURE, and no hourly file."""
    from pathlib import Path

    from fondo.db import session_scope
    from fondo.studies import service as studies
    from fondo.studies.hourly import hourly_relative_path
    from fondo.studies.models import YieldStudy

    headers = auth_headers("admin")
    settings = dict(settings, TASK_ALWAYS_EAGER=False)
    with session_scope(settings) as session:
        _job, study = studies.create_study(settings, session, {"technology": "pv",
                                                               "request": PV})
        study.request = dict(study.request, capacity_dc_kw=1e308)
        study_id = study.id
    with pytest.raises(InvalidInput) as failed:
        studies.run_stored_study(settings, study_id)
    assert failed.value.field == "capacity_dc_kw"
    with session_scope(settings) as session:
        row = session.get(YieldStudy, study_id)
        assert row.status.value == "FAILURE" and row.result is None
    assert not (Path(settings["INSTANCE_PATH"]) / hourly_relative_path(study_id)).exists()
    assert client.get("/api/v1/studies", headers=headers).status_code == 200


def test_a_study_whose_result_cannot_be_stored_fails_without_a_file(settings, monkeypatch):
    """The probe's PostgreSQL case: the hourly file was written, then storing the result
    failed (there, JSON refusing a NaN); the study was left STARTED beside its file."""
    from pathlib import Path

    from fondo.db import session_scope
    from fondo.studies import service as studies
    from fondo.studies.hourly import hourly_relative_path
    from fondo.studies.models import YieldStudy

    settings = dict(settings, TASK_ALWAYS_EAGER=False)
    with session_scope(settings) as session:
        _job, study = studies.create_study(settings, session, {"technology": "pv",
                                                               "request": PV})
        study_id = study.id
    hourly = Path(settings["INSTANCE_PATH"]) / hourly_relative_path(study_id)
    written = []

    def refuse(row, **_kwargs):
        written.append(hourly.exists())
        raise ValueError("Out of range float values are not JSON compliant")

    monkeypatch.setattr(studies, "study_json", refuse)
    with pytest.raises(ValueError):
        studies.run_stored_study(settings, study_id)
    assert written == [True]  # the file existed when storing failed
    assert not hourly.exists()
    with session_scope(settings) as session:
        row = session.get(YieldStudy, study_id)
        assert row.status.value == "FAILURE" and row.result is None


def test_a_result_that_is_not_finite_is_refused_before_it_is_stored(settings):
    import dataclasses

    import numpy as np

    from fondo.db import session_scope
    from fondo.studies.runs import check_finite, evaluate, prepare

    with session_scope(settings) as session:
        result = evaluate(prepare(settings, session, "pv", PV))
    check_finite(result)
    hourly = result.energy_hourly_kwh.copy()
    hourly[4000] = np.inf
    with pytest.raises(InvalidInput) as refused:
        check_finite(dataclasses.replace(result, energy_hourly_kwh=hourly))
    assert refused.value.field == "body" and "energy_hourly_kwh" in refused.value.detail
    with pytest.raises(InvalidInput) as refused:
        check_finite(dataclasses.replace(result, energy_annual_kwh=np.inf))
    assert "energy_annual_kwh" in refused.value.detail


@pytest.mark.parametrize(("latitude", "status"), [("21.26", 201), ("norte", 422), ("nan", 422)])
def test_a_form_submission_reads_its_location_as_decimal_text(fuzz_target, latitude, status):
    """A form's fields are text: a decimal is a number, anything else is named."""
    url = _url("/api/v1/consultations/{consultation_id}/feedback", fuzz_target)
    form = {"kind": "feedback", "category": "other", "text": "¿Dónde será la asamblea?",
            "latitude": latitude, "longitude": "-98.79"}
    response = fuzz_target.app.test_client().post(url, data=form,
                                                  content_type="multipart/form-data")
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert response.get_json()["field"] == "location.latitude"


def test_a_screening_summary_that_overflowed_is_refused(fuzz_target):
    """An infinite total fails the run (its reason names the path); NaN is served as null."""
    from pathlib import Path

    import numpy as np

    from fondo.db import session_scope
    from fondo.screening.models import ScreeningRun
    from fondo.screening.storage import read_cells
    from fondo.screening.tiles import summarize

    with session_scope(fuzz_target.settings) as session:
        run = session.get(ScreeningRun, fuzz_target.ids["screening_id"])
        cells = read_cells(Path(fuzz_target.settings["INSTANCE_PATH"]) / run.cells_file)
    assert summarize(cells)["cell_count"] == len(cells) > 0
    cells["capacity_mw"] = np.inf
    with pytest.raises(ValueError, match=r"not a finite number \(capacity_mw\)"):
        summarize(cells)
