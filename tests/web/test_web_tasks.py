"""Tasks through the API (eager here; a real worker in tests/integration): progress, a
broker that is down (503, nothing stored), dead workers' jobs re-queued or failed, retries."""

import time
from datetime import timedelta

import pytest
import shapely
from sqlalchemy import func, select

from fondo.config import broker_folder, load_settings
from fondo.data.service import load_manifest
from fondo.db import session_scope
from fondo.jobs import QUEUE_RETRY_AFTER_S, Job, JobState, create_job
from fondo.orm import utcnow
from fondo.screening.models import ScreeningRun
from fondo.studies.models import YieldStudy
from tests_support import DATA_DIR
from web import create_app


def settings_of(settings) -> dict:
    """The settings an app built on ``settings`` runs with (defaults filled in)."""
    return load_settings(settings)


def test_data_check_task_reports_progress_and_result(client, auth_headers):
    headers = auth_headers("officer")
    started = client.post("/api/v1/data/check", headers=headers)
    assert started.status_code == 202
    task_id = started.json["id"]
    assert started.headers["Location"].endswith(f"/api/v1/tasks/{task_id}")
    status = client.get(f"/api/v1/tasks/{task_id}", headers=headers).json
    total = len(load_manifest(DATA_DIR))
    assert status["state"] == "SUCCESS"
    assert status["progress"] == {"done": total, "total": total, "stage": "done"}
    assert status["result_url"] == f"/api/v1/tasks/{task_id}/result"
    result = client.get(status["result_url"], headers=headers).json
    assert result["ok"] is True and len(result["datasets"]) == total


def test_unknown_task_is_404_problem(client, auth_headers):
    response = client.get("/api/v1/tasks/does-not-exist", headers=auth_headers("analyst"))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_investor_may_not_start_a_data_check_and_nothing_is_stored(client, auth_headers, settings):
    response = client.post("/api/v1/data/check", headers=auth_headers("investor"))
    assert response.status_code == 403
    with session_scope(settings) as session:
        assert session.scalars(select(Job)).all() == []


# --------------------------------------------------------------- broker down: 503, nothing stored

#: The issue's bar: with the broker down, a request that starts a task answers within this. [s]
BROKER_DOWN_BAR_S = 2.0
#: A Redis URL on a port where nothing listens: the broker (and result store) is down.
DOWN_BROKER_URL = "redis://127.0.0.1:1/0"
#: A 20 x 20 km box at Aguascalientes screened at 2 km (9 tiles).
SCREENING = {"geometry": shapely.geometry.mapping(shapely.box(-102.4, 21.75, -102.2, 21.93)),
             "technology": "wind", "resolution_km": 2.0, "tile_cells": 25}
STUDY = {"technology": "pv", "request": {
    "lat": 21.88, "lon": -102.3, "capacity_dc_kw": 2000.0, "dc_ac_ratio": 1.25, "tilt_deg": 22.0,
    "azimuth_deg": 180.0, "tracking": "fixed", "gcr": 0.4, "system_losses": 0.14}}
#: Endpoints that start a task: path, body.
STARTS = {"screening": ("/api/v1/screenings", SCREENING), "study": ("/api/v1/studies", STUDY),
          "data_check": ("/api/v1/data/check", None)}


def _stored(settings) -> dict[str, int]:
    with session_scope(settings) as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Job, ScreeningRun, YieldStudy)}


def _post(client, path, body, headers):
    started = time.monotonic()
    response = client.post(path, json=body, headers=headers) if body is not None else \
        client.post(path, headers=headers)
    return response, time.monotonic() - started


@pytest.mark.parametrize("start", list(STARTS))
def test_broker_down_is_a_503_within_2_s_and_stores_nothing(settings, auth_headers, start):
    path, body = STARTS[start]
    client = create_app({**settings, "BROKER_URL": DOWN_BROKER_URL,
                         "RESULT_BACKEND": DOWN_BROKER_URL, "RATELIMIT_STORAGE_URL": "memory://",
                         "TASK_ALWAYS_EAGER": False}).test_client()
    headers = auth_headers("officer")
    before = _stored(settings)
    # the first request also loads what the endpoint checks (layers, weather file); the
    # second is timed: the broker alone must not hold it up (it did for ~20 s)
    for _ in range(2):
        response, elapsed_s = _post(client, path, body, headers)
        assert response.status_code == 503, response.get_json()
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["title"] == "Task queue unavailable"
        assert "127.0.0.1:1/0 is unreachable" in problem["detail"], problem
        assert int(response.headers["Retry-After"]) == QUEUE_RETRY_AFTER_S
        assert _stored(settings) == before
    assert elapsed_s < BROKER_DOWN_BAR_S


def test_a_task_the_broker_refuses_after_the_commit_is_deleted_with_its_record(
        settings, auth_headers):
    """The broker answers the check but the message cannot be written: the screening and its
    job, already committed, are deleted again."""
    embedded = {**settings, "BROKER_URL": "filesystem://", "RESULT_BACKEND": None,
                "TASK_ALWAYS_EAGER": False}
    client = create_app(embedded).test_client()
    queue = broker_folder(load_settings(embedded)) / "queue"
    queue.rmdir()
    queue.write_text("not a folder: no message can be written here")
    before = _stored(settings)
    response = client.post("/api/v1/screenings", json=SCREENING, headers=auth_headers("officer"))
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["detail"].startswith("the task could not be sent")
    assert _stored(settings) == before


# ------------------------------------------------------------ dead workers, retries

def _stuck_job(settings, *, attempts: int, heartbeat_age_s: float, kind: str = "data_check",
               task_name: str | None = "fondo.data_check") -> str:
    """A data-check job its worker held (PROGRESS) and last stamped ``heartbeat_age_s`` ago."""
    with session_scope(settings) as session:
        job = create_job(session, kind, {})
        job.state, job.task_name, job.attempts = JobState.PROGRESS, task_name, attempts
        job.held_by, job.done, job.total = "gone-host:4242:0123456789ab", 3, 13
        job.heartbeat_at = utcnow() - timedelta(seconds=heartbeat_age_s)
        return job.id


def _job(settings, job_id) -> Job:
    with session_scope(settings) as session:
        return session.get(Job, job_id)


def test_a_job_whose_worker_stopped_beating_is_requeued_when_read(client, settings, auth_headers):
    stale_s = settings_of(settings)["JOB_STALE_AFTER_S"]
    job_id = _stuck_job(settings, attempts=1, heartbeat_age_s=stale_s + 5)
    status = client.get(f"/api/v1/tasks/{job_id}", headers=auth_headers("officer")).json
    # re-queued, and (tasks run eagerly here) run again to the end by the new delivery
    assert status["state"] == "SUCCESS", status
    total = len(load_manifest(DATA_DIR))
    assert status["progress"] == {"done": total, "total": total, "stage": "done"}
    job = _job(settings, job_id)
    assert job.attempts == 2 and job.held_by != "gone-host:4242:0123456789ab"


def test_a_job_whose_worker_beats_is_left_running(client, settings, auth_headers):
    job_id = _stuck_job(settings, attempts=1, heartbeat_age_s=1)
    status = client.get(f"/api/v1/tasks/{job_id}", headers=auth_headers("officer")).json
    assert (status["state"], status["progress"]["done"]) == ("PROGRESS", 3)
    assert _job(settings, job_id).attempts == 1


def test_after_its_last_attempt_a_dead_job_fails_with_its_reason_and_can_be_retried(
        client, settings, auth_headers):
    limits = settings_of(settings)
    job_id = _stuck_job(settings, attempts=limits["JOB_MAX_ATTEMPTS"],
                        heartbeat_age_s=limits["JOB_STALE_AFTER_S"] + 5)
    headers = auth_headers("analyst")
    status = client.get(f"/api/v1/tasks/{job_id}", headers=headers).json
    assert status["state"] == "FAILURE"
    assert status["error"].startswith("WorkerLost: the worker running this task stopped")
    assert f"after {limits['JOB_MAX_ATTEMPTS']} attempt(s)" in status["error"]
    assert f"POST /api/v1/tasks/{job_id}/retry" in status["error"]

    retried = client.post(f"/api/v1/tasks/{job_id}/retry", headers=headers)
    assert retried.status_code == 202, retried.get_json()
    assert retried.headers["Location"].endswith(f"/api/v1/tasks/{job_id}")
    assert retried.json["state"] == "SUCCESS" and retried.json["error"] is None
    assert _job(settings, job_id).attempts == 1


def test_only_a_failed_task_can_be_retried(client, settings, auth_headers):
    headers = auth_headers("officer")
    job_id = client.post("/api/v1/data/check", headers=headers).json["id"]
    response = client.get(f"/api/v1/tasks/{job_id}", headers=headers)
    assert response.json["state"] == "SUCCESS"
    conflict = client.post(f"/api/v1/tasks/{job_id}/retry", headers=headers)
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"
    assert "only a FAILURE task can be retried" in conflict.json["detail"]
    missing = client.post("/api/v1/tasks/no-such-task/retry", headers=headers)
    assert missing.status_code == 404


def test_an_investor_may_not_retry_and_the_task_stays_failed(client, settings, auth_headers):
    limits = settings_of(settings)
    job_id = _stuck_job(settings, attempts=limits["JOB_MAX_ATTEMPTS"],
                        heartbeat_age_s=limits["JOB_STALE_AFTER_S"] + 5)
    client.get(f"/api/v1/tasks/{job_id}", headers=auth_headers("officer"))
    response = client.post(f"/api/v1/tasks/{job_id}/retry", headers=auth_headers("investor"))
    assert response.status_code == 403
    assert _job(settings, job_id).state is JobState.FAILURE


def test_a_retry_while_the_broker_is_down_is_a_503_and_the_task_stays_failed(
        settings, auth_headers):
    limits = settings_of(settings)
    job_id = _stuck_job(settings, attempts=limits["JOB_MAX_ATTEMPTS"],
                        heartbeat_age_s=limits["JOB_STALE_AFTER_S"] + 5)
    client = create_app({**settings, "BROKER_URL": DOWN_BROKER_URL,
                         "RESULT_BACKEND": DOWN_BROKER_URL, "RATELIMIT_STORAGE_URL": "memory://",
                         "TASK_ALWAYS_EAGER": False}).test_client()
    headers = auth_headers("officer")
    # reading fails the dead job (no broker needed); retrying it needs the broker
    assert client.get(f"/api/v1/tasks/{job_id}", headers=headers).json["state"] == "FAILURE"
    response = client.post(f"/api/v1/tasks/{job_id}/retry", headers=headers)
    assert response.status_code == 503 and "Retry-After" in response.headers
    job = _job(settings, job_id)
    assert job.state is JobState.FAILURE and job.error.startswith("WorkerLost")
