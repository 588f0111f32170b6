"""``Idempotency-Key`` on POST /api/v1/finance/cases, /studies and /screenings (issue 10).

A retried creation with the same key and body answers the first response again and
creates nothing; another body under the same key is a 409; no key behaves as before;
ten requests sent at once to a real threaded server with one key create one row. On
SQLite and PostgreSQL (the ``settings`` fixture).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, update

import fund_support
from browser_support import live_server
from fondo import idempotency
from fondo.db import session_factory, session_scope
from fondo.finance.models import FinanceCase
from fondo.idempotency import IdempotencyKey, KeyInProgress
from fondo.jobs import Job
from fondo.orm import utcnow
from fondo.screening.models import ScreeningRun
from fondo.studies.models import YieldStudy

#: A 40 MW solar case with USD senior debt and one equity holder (fund_support's, under a
#: name of its own; illustrative inputs, not data).
CASE = fund_support.CASE | {"name": "Bajío PV 40 MW (idempotency test)"}
CASES = "/api/v1/finance/cases"

#: A PV study at Aguascalientes (as in the yield API tests).
PV = {"lat": 21.88, "lon": -102.3, "capacity_dc_kw": 2000.0, "dc_ac_ratio": 1.25,
      "tilt_deg": 22.0, "azimuth_deg": 180.0, "tracking": "fixed", "gcr": 0.4,
      "system_losses": 0.14}

#: A 4 km screening of a 0.1° box at the city of Aguascalientes (one tile).
SCREENING = {"geometry": {"type": "Polygon", "coordinates": [[
    [-102.35, 21.8], [-102.25, 21.8], [-102.25, 21.9], [-102.35, 21.9], [-102.35, 21.8]]]},
    "technology": "pv", "resolution_km": 4.0}

#: Requests sent at once in the concurrency test.
CONCURRENT_REQUESTS = 10

#: How long a client thread of the concurrency test waits for its answer: ten finance cases
#: on two cores, the first computed and nine waiting for it (WAIT_FOR_FIRST_S each). [s]
CLIENT_TIMEOUT_S = 120


def _count(settings, model) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model))


def _post(client, path, body, headers, key=None):
    extra = {} if key is None else {"Idempotency-Key": key}
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={**headers, **extra})


@pytest.fixture
def analyst(auth_headers):
    return auth_headers("analyst")


def test_ten_identical_posts_with_one_key_create_one_case(client, settings, analyst):
    answers = [_post(client, CASES, CASE, analyst, key="case-7f3a") for _ in range(10)]
    assert _count(settings, FinanceCase) == 1
    first = answers[0]
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    case_id = first.get_json()["id"]
    assert first.headers["Location"] == f"{CASES}/{case_id}"
    for again in answers[1:]:
        assert (again.status_code, again.data) == (201, first.data)
        assert again.headers["Location"] == first.headers["Location"]
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
        assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(settings, IdempotencyKey) == 1


def test_same_key_with_another_body_or_endpoint_is_409(client, settings, analyst):
    assert _post(client, CASES, CASE, analyst, key="k-1").status_code == 201
    other = _post(client, CASES, {**CASE, "capex_usd": 40e6}, analyst, key="k-1")
    assert other.status_code == 409 and other.mimetype == "application/problem+json"
    problem = other.get_json()
    assert problem["field"] == "Idempotency-Key"
    assert f"POST {CASES}" in problem["detail"]
    elsewhere = _post(client, "/api/v1/studies", {"technology": "pv", "request": PV}, analyst,
                      key="k-1")
    assert elsewhere.status_code == 409 and elsewhere.get_json()["field"] == "Idempotency-Key"
    assert _count(settings, FinanceCase) == 1 and _count(settings, YieldStudy) == 0


def test_without_a_key_every_post_creates(client, settings, analyst):
    first, second = (_post(client, CASES, CASE, analyst) for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert "Idempotent-Replayed" not in second.headers
    assert _count(settings, FinanceCase) == 2 and _count(settings, IdempotencyKey) == 0


@pytest.mark.parametrize(("key", "words"), [
    ("", "1 to 255 characters, got 0"),
    ("k" * 256, "1 to 255 characters, got 256"),
    ("clave-\u00f1", "printable ASCII; it holds U+00F1"),
    ("tab\there", "printable ASCII; it holds U+0009"),
])
def test_malformed_keys_are_422_and_create_nothing(client, settings, analyst, key, words):
    answer = client.post(CASES, data=json.dumps(CASE), content_type="application/json",
                         headers={**analyst, "Idempotency-Key": key})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["field"] == "Idempotency-Key"
    assert words in answer.get_json()["detail"]
    assert _count(settings, FinanceCase) == 0 and _count(settings, IdempotencyKey) == 0


def test_the_longest_key_is_accepted(client, settings, analyst):
    key = "".join(chr(c) for c in range(0x21, 0x7F)) * 3  # 282 printable: cut to 255
    assert _post(client, CASES, CASE, analyst, key=key[:255]).status_code == 201


def test_a_refused_request_does_not_use_up_its_key(client, settings, analyst):
    bad = _post(client, CASES, {**CASE, "capex_usd": -1}, analyst, key="retry-me")
    assert bad.status_code == 422 and bad.get_json()["field"] == "capex_usd"
    assert _count(settings, IdempotencyKey) == 0
    good = _post(client, CASES, CASE, analyst, key="retry-me")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers
    assert _count(settings, FinanceCase) == 1


def test_keys_belong_to_their_user(client, settings, auth_headers):
    one, two = auth_headers("analyst"), auth_headers("officer")
    first = _post(client, CASES, CASE, one, key="shared")
    second = _post(client, CASES, CASE, two, key="shared")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.get_json()["id"] != second.get_json()["id"]
    assert _count(settings, FinanceCase) == 2


def test_an_expired_key_is_a_new_request(client, settings, analyst):
    first = _post(client, CASES, CASE, analyst, key="yesterday")
    with session_scope(settings) as session:
        session.execute(update(IdempotencyKey).values(
            created_at=utcnow() - idempotency.KEY_TTL - timedelta(seconds=1)))
    again = _post(client, CASES, CASE, analyst, key="yesterday")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert again.get_json()["id"] != first.get_json()["id"]
    assert _count(settings, FinanceCase) == 2 and _count(settings, IdempotencyKey) == 1


def test_studies_and_screenings_replay_their_first_answer(client, settings, auth_headers):
    officer = auth_headers("officer")
    study = {"technology": "pv", "request": PV}
    first, again = (_post(client, "/api/v1/studies", study, officer, key="s-1") for _ in range(2))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.data == first.data and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(settings, YieldStudy) == 1
    jobs = _count(settings, Job)
    first, again = (_post(client, "/api/v1/screenings", SCREENING, officer, key="sc-1")
                    for _ in range(2))
    assert (first.status_code, again.status_code) == (202, 202), first.get_json()
    assert again.data == first.data and again.headers["Idempotent-Replayed"] == "true"
    assert _count(settings, ScreeningRun) == 1 and _count(settings, Job) == jobs + 1


def test_concurrent_posts_with_one_key_create_once(app, settings, analyst):
    """Ten requests released together against a threaded server: one case, ten answers."""
    barrier = threading.Barrier(CONCURRENT_REQUESTS)
    answers: list[requests.Response | BaseException] = [None] * CONCURRENT_REQUESTS
    body = json.dumps(CASE)

    def send(index: int, base: str) -> None:
        try:
            barrier.wait()
            answers[index] = requests.post(
                base + CASES, data=body, timeout=CLIENT_TIMEOUT_S,
                headers={**analyst, "Idempotency-Key": "at-once",
                         "Content-Type": "application/json"})
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            answers[index] = error

    with live_server(app) as base:
        threads = [threading.Thread(target=send, args=(i, base)) for i in range(CONCURRENT_REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not [a for a in answers if isinstance(a, BaseException)], answers
    assert _count(settings, FinanceCase) == 1 and _count(settings, IdempotencyKey) == 1
    assert sorted(a.status_code for a in answers) == [201] * CONCURRENT_REQUESTS
    assert len({a.content for a in answers}) == 1
    replayed = sorted(a.headers.get("Idempotent-Replayed", "") for a in answers)
    assert replayed == [""] + ["true"] * (CONCURRENT_REQUESTS - 1)


# --------------------------------------------------------------------------- the service


def _user_id(settings, make_user) -> int:
    from fondo.accounts.models import User

    email, _password, _token = make_user("analyst")
    with session_scope(settings) as session:
        return session.scalar(select(User.id).where(User.email == email))


def _claim(sessions, user_id, **extra):
    arguments = {"user_id": user_id, "key": "k", "method": "POST", "path": CASES,
                 "request_sha256": idempotency.body_sha256(b"{}")} | extra
    return idempotency.claim_key(sessions, **arguments)


def test_a_running_claim_makes_the_next_wait_then_409(settings, make_user):
    sessions = session_factory(settings)
    user_id = _user_id(settings, make_user)
    claim = _claim(sessions, user_id)
    assert claim.row_id is not None and claim.replay is None
    with pytest.raises(KeyInProgress) as caught:
        _claim(sessions, user_id, wait_s=0.0)
    assert caught.value.field == "Idempotency-Key" and caught.value.retry_after_s == 1
    idempotency.store_response(sessions, claim.row_id, 201, '{"id": 1}',
                               {"Location": f"{CASES}/1", "Content-Type": "application/json",
                                "Set-Cookie": "not kept"})
    replay = _claim(sessions, user_id, wait_s=0.0).replay
    assert (replay.status, replay.body) == (201, '{"id": 1}')
    assert replay.headers == {"Location": f"{CASES}/1", "Content-Type": "application/json"}


def test_a_waiting_request_runs_when_the_first_fails(settings, make_user):
    """The first request's claim is released (its view failed): the waiter claims the key."""
    sessions = session_factory(settings)
    user_id = _user_id(settings, make_user)
    first = _claim(sessions, user_id)
    outcome = {}
    waiter = threading.Thread(target=lambda: outcome.update(claim=_claim(sessions, user_id)))
    waiter.start()
    idempotency.release_key(sessions, first.row_id)
    waiter.join()
    claim = outcome["claim"]
    assert claim.row_id is not None and claim.replay is None
    with session_scope(settings) as session:
        assert session.scalars(select(IdempotencyKey.id)).all() == [claim.row_id]


def test_an_orphaned_claim_is_taken_over_after_its_lease(settings, make_user):
    sessions = session_factory(settings)
    user_id = _user_id(settings, make_user)
    _claim(sessions, user_id)
    with pytest.raises(KeyInProgress):  # within its lease the claim holds
        _claim(sessions, user_id, wait_s=0.0)
    later = utcnow() + idempotency.CLAIM_LEASE + timedelta(seconds=1)
    taken = _claim(sessions, user_id, wait_s=0.0, clock=lambda: later)
    assert taken.row_id is not None and taken.replay is None
    with session_scope(settings) as session:
        rows = session.execute(select(IdempotencyKey.id, IdempotencyKey.created_at)).all()
    assert rows == [(taken.row_id, later)]  # the orphan is gone, the new claim holds the key
    idempotency.release_key(sessions, taken.row_id)
    assert _count(settings, IdempotencyKey) == 0


def test_the_header_is_documented_on_the_three_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, status in ((CASES, "201"), ("/api/v1/studies", "202"), ("/api/v1/screenings", "202")):
        post = spec["paths"][path]["post"]
        (header,) = [p for p in post.get("parameters", []) if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and header["schema"]["maxLength"] == 255
        assert "24 h" in header["description"] and "10 s" in header["description"]
        assert "409" in post["responses"] and "422" in post["responses"], path
        success = post["responses"][status]
        assert "Idempotent-Replayed" in success["headers"] and "content" in success, path
    assert "parameters" not in spec["paths"]["/api/v1/yield/pv"]["post"] or not [
        p for p in spec["paths"]["/api/v1/yield/pv"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"]
