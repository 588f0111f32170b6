"""Tasks through the API (eager here; a real worker in tests/integration)."""

from sqlalchemy import select

from fondo.data.service import load_manifest
from fondo.db import session_scope
from fondo.jobs import Job
from tests_support import DATA_DIR


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
