"""The consultation record under concurrency, on SQLite and PostgreSQL, through a real
threaded HTTP server: every submission is one row and one event or nothing, no 5xx, the
same client_token stores once; verify names a row written around the record; a database
that stays locked is a 503 with Retry-After (nothing stored), never a 500."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import shapely
from click.testing import CliRunner
from sqlalchemy import event, func, insert, select, text, update
from werkzeug.serving import make_server

import fondo.consultation.chain as chain
import fondo.consultation.service as cs
import fondo.db as fondo_db
from fondo.consultation.models import ConsultationEvent, ConsultationFeedback
from fondo.db import engine_for, session_scope
from fondo.fund.models import Project, Site
from fondo.orm import Technology, utcnow

#: Tamazunchale, San Luis Potosí (INEGI 240370001): the siting rule requires a consultation.
TAMAZUNCHALE = (21.26274, -98.79152)
#: Submitters sent at once (the issue's bar).
CONCURRENT_SUBMISSIONS = 50
#: Same submission sent at once with one client_token.
CONCURRENT_REPEATS = 10
#: Longest a request may take here (the server is on this machine). [s]
REQUEST_TIMEOUT_S = 120


@pytest.fixture
def cid(settings):
    """A consultation at Tamazunchale, opened through the services (one event)."""
    lat, lon = TAMAZUNCHALE
    with session_scope(settings) as session:
        site = Site(name="Huasteca", technology=Technology.WIND, geometry=shapely.Point(lon, lat))
        session.add(site)
        session.flush()
        project = Project(name="Parque Huasteca", technology=Technology.WIND, site_id=site.id)
        session.add(project)
        session.flush()
        pid = project.id
    with session_scope(settings) as session:
        return cs.create_consultation(session, settings, {"project_id": pid}, "ana")["id"]


@pytest.fixture
def base_url(settings):
    """The app on a real threaded HTTP server (werkzeug), public rate limit lifted."""
    from web import create_app

    app = create_app({**settings, "RATELIMIT_PUBLIC": "100000 per minute"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _submission(i: int, token: str | None = None) -> dict:
    return {"kind": "feedback", "category": "other", "text": f"Pregunta {i} sobre el parque",
            "anonymous": True, "client_token": token or f"tok-{i:04d}-{uuid.uuid4().hex[:8]}"}


def _post_all(url: str, bodies: list[dict]) -> list[requests.Response]:
    """POST every body at once (threads released together by a barrier)."""
    barrier = threading.Barrier(len(bodies))

    def send(body: dict) -> requests.Response:
        barrier.wait()
        return requests.post(url, json=body, timeout=REQUEST_TIMEOUT_S)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def _counts(settings, cid: int) -> tuple[int, int]:
    """(feedback rows, feedback_received events) of the consultation."""
    with session_scope(settings) as session:
        rows = session.scalar(select(func.count()).select_from(ConsultationFeedback).where(
            ConsultationFeedback.consultation_id == cid))
        events = session.scalar(select(func.count()).select_from(ConsultationEvent).where(
            ConsultationEvent.consultation_id == cid,
            ConsultationEvent.kind == "feedback_received"))
    return rows, events


def _verify(settings, cid: int) -> dict:
    with session_scope(settings) as session:
        return cs.verify_consultation(session, cid)


def test_concurrent_submissions_are_each_one_row_and_one_event(settings, cid, base_url):
    url = f"{base_url}/api/v1/consultations/{cid}/feedback"
    answers = _post_all(url, [_submission(i) for i in range(CONCURRENT_SUBMISSIONS)])
    statuses = [r.status_code for r in answers]
    assert statuses == [201] * CONCURRENT_SUBMISSIONS, [
        (r.status_code, r.text[:200]) for r in answers if r.status_code != 201]
    assert len({r.json()["receipt_code"] for r in answers}) == CONCURRENT_SUBMISSIONS
    assert _counts(settings, cid) == (CONCURRENT_SUBMISSIONS, CONCURRENT_SUBMISSIONS)
    out = _verify(settings, cid)
    assert out["ok"], out["reason"]
    assert out["length"] == 1 + CONCURRENT_SUBMISSIONS  # the opening, then one per submission
    assert out["unrecorded_rows"] == []


def test_the_same_token_sent_at_once_is_stored_once(settings, cid, base_url):
    url = f"{base_url}/api/v1/consultations/{cid}/feedback"
    body = _submission(0, token="tok-same-0001")
    answers = _post_all(url, [dict(body) for _ in range(CONCURRENT_REPEATS)])
    assert sorted(r.status_code for r in answers) == [200] * (CONCURRENT_REPEATS - 1) + [201]
    assert len({r.json()["receipt_code"] for r in answers}) == 1
    assert _counts(settings, cid) == (1, 1)
    assert _verify(settings, cid)["ok"]


def _insert_feedback_around_the_record(settings, cid: int) -> int:
    """A feedback row written by raw SQL, without its event (what the old bug left)."""
    with engine_for(settings["DATABASE_URL"]).begin() as conn:
        return conn.execute(insert(ConsultationFeedback.__table__).values(
            consultation_id=cid, receipt_code="7KQ3M9XW2P", client_token=None,
            content_sha256="0" * 64, kind="feedback", category="other", text="sin evento",
            language="es", anonymous=True, status="received", submitted_at=utcnow(),
            is_demo=False).returning(ConsultationFeedback.id)).scalar_one()


def test_a_row_without_its_event_fails_verify_naming_it(settings, cid, client, auth_headers):
    assert _verify(settings, cid)["ok"]
    fid = _insert_feedback_around_the_record(settings, cid)
    out = _verify(settings, cid)
    assert not out["ok"] and out["first_broken_seq"] is None  # the chain itself is intact
    assert out["unrecorded_rows"] == [{"table": "consultation_feedback", "id": fid,
                                       "problem": "no feedback_received event"}]
    assert out["reason"] == f"consultation_feedback row {fid}: no feedback_received event"
    api = client.get(f"/api/v1/consultations/{cid}/verify", headers=auth_headers("officer"))
    assert api.status_code == 200 and not api.json["ok"]
    assert api.json["unrecorded_rows"] == out["unrecorded_rows"]
    from fondo.cli import main

    cli = CliRunner().invoke(main, ["consultation", "verify", str(cid)],
                             obj={"settings": settings})
    assert cli.exit_code == 1
    assert f"consultation_feedback row {fid}: no feedback_received event" in cli.output
    assert json.loads(cli.output[:cli.output.rindex("}") + 1])["unrecorded_rows"] == out[
        "unrecorded_rows"]


def test_a_status_changed_around_the_record_fails_verify(settings, cid, client):
    r = client.post(f"/api/v1/consultations/{cid}/feedback", json=_submission(1))
    assert r.status_code == 201
    with engine_for(settings["DATABASE_URL"]).begin() as conn:
        fid = conn.execute(select(ConsultationFeedback.id)).scalar_one()
        conn.execute(update(ConsultationFeedback.__table__).where(
            ConsultationFeedback.id == fid).values(status="closed"))
    out = _verify(settings, cid)
    assert not out["ok"]
    assert out["unrecorded_rows"] == [{
        "table": "consultation_feedback", "id": fid,
        "problem": "status 'closed' but the record's last event says 'received'"}]


@pytest.fixture
def chain_held(settings, cid, monkeypatch):
    """Another connection holds the consultation's chain lock (call the fixture's value to
    let it go); lock waits and retries are made short."""
    monkeypatch.setattr(chain, "CHAIN_LOCK_TIMEOUT_S", 0.2)
    monkeypatch.setattr(fondo_db, "UNIT_OF_WORK_ATTEMPTS", 2)
    engine = engine_for(settings["DATABASE_URL"])
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT id FROM consultations WHERE id = :c FOR UPDATE"), {"c": cid})

    def release() -> None:
        if not conn.closed:
            if engine.dialect.name == "sqlite":
                conn.connection.dbapi_connection.rollback()
            conn.rollback()
            conn.close()

    yield release
    release()


def test_a_locked_record_is_a_503_with_retry_after_and_stores_nothing(settings, cid,
                                                                        chain_held, monkeypatch):
    # Without the rate limiter, whose headers would ask for the larger wait of its window
    # (the shared limiter keeps the setting: it is put back after the test).
    from web import create_app
    from web.extensions import limiter

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    app = create_app({**settings, "RATELIMIT_ENABLED": False})
    client, browser = app.test_client(), app.test_client()  # API calls carry no cookie
    body = _submission(2, token="tok-busy-0001")
    r = client.post(f"/api/v1/consultations/{cid}/feedback", json=body)
    assert r.status_code == 503, r.json
    assert r.headers["Retry-After"] == str(fondo_db.RETRY_AFTER_S)
    assert r.mimetype == "application/problem+json"
    assert r.json["type"].endswith("/busy") and r.json["retry_after_s"] == fondo_db.RETRY_AFTER_S
    page = browser.get(f"/consulta/{cid}/opinion").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = browser.post(f"/consulta/{cid}/opinion", content_type="multipart/form-data", data={
        "csrf_token": csrf, "client_token": "tok-portal-0001", "kind": "feedback",
        "category": "other", "text": "¿Cuándo es la asamblea?", "anonymous": "on"})
    assert form.status_code == 503 and form.headers["Retry-After"] == "1"
    html = form.get_data(as_text=True)
    assert "no se guardó nada" in html and "tok-portal-0001" in html  # the form to send again
    assert _counts(settings, cid) == (0, 0)
    chain_held()  # the other writer finishes: the same request now stores once
    again = client.post(f"/api/v1/consultations/{cid}/feedback", json=body)
    repeat = client.post(f"/api/v1/consultations/{cid}/feedback", json=body)
    assert (again.status_code, repeat.status_code) == (201, 200)
    assert again.json["receipt_code"] == repeat.json["receipt_code"]
    assert _counts(settings, cid) == (1, 1)
    out = _verify(settings, cid)
    assert out["ok"] and out["length"] == 2, out  # the opening and this submission only


def _wait_until(condition) -> None:
    """Wait for ``condition()`` to hold (threads of this test queueing), at most a request's
    timeout."""
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, "the submitters did not queue up"
        time.sleep(0.01)


def test_submissions_arriving_together_share_one_transaction(settings, cid, monkeypatch):
    """The first submitter leads alone (held at the chain lock until the others queue up),
    the next leads the six others in ONE transaction; the one that reuses a stored token with
    other content is refused alone (409), the rest are stored, each with its event."""
    import fondo.consultation.feedback as feedback
    from fondo.consultation.group_commit import GroupCommit
    from fondo.db import session_factory
    from fondo.errors import Conflict

    with session_scope(settings) as session:
        stored, _ = cs.submit_feedback(session, settings, cid, _submission(0, "tok-stored"))
    committer, gate = GroupCommit(), threading.Event()
    monkeypatch.setattr(feedback, "CHAINS", committer)
    real_lock = feedback.lock_chain

    def lock_when_all_queued(session, consultation_id):
        gate.wait(REQUEST_TIMEOUT_S)
        return real_lock(session, consultation_id)

    monkeypatch.setattr(feedback, "lock_chain", lock_when_all_queued)
    commits = []
    engine = engine_for(settings["DATABASE_URL"])

    def listener(_conn) -> None:
        commits.append(threading.get_ident())

    event.listen(engine, "commit", listener)
    bodies = [_submission(i) for i in range(1, 7)] + [{**_submission(9, "tok-stored"),
                                                       "text": "Otro texto"}]

    def submit(body):
        session = session_factory(settings)()
        try:
            return cs.submit_feedback_committed(session, settings, cid, body)
        except Conflict as exc:
            return exc
        finally:
            session.close()

    try:
        with ThreadPoolExecutor(len(bodies)) as pool:
            first = pool.submit(submit, bodies[0])
            _wait_until(lambda: committer._queues)  # the first leads, held at the lock
            rest = [pool.submit(submit, b) for b in bodies[1:]]
            key = next(iter(committer._queues))
            _wait_until(lambda: len(committer._queues[key]) == len(rest))
            gate.set()
            outcomes = [first.result(REQUEST_TIMEOUT_S)] + [f.result(REQUEST_TIMEOUT_S)
                                                            for f in rest]
    finally:
        event.remove(engine, "commit", listener)
    assert len(commits) == 2  # the first alone, then the other six together
    refused = outcomes[-1]
    assert isinstance(refused, Conflict) and refused.field == "client_token"
    assert all(created for _view, created in outcomes[:-1])
    assert len({view["receipt_code"] for view, _ in outcomes[:-1]} | {stored["receipt_code"]}) == 7
    assert _counts(settings, cid) == (7, 7)
    out = _verify(settings, cid)
    assert out["ok"] and out["length"] == 8, out
