"""A task launched through the API finishes in a real Celery worker, with visible progress.

Needs Redis (``FONDO_TEST_REDIS_URL``, set by ``.ci/run``); the worker is a real
``celery -A fondo.worker worker`` process reading the same settings from the environment.
"""

import pytest
from celery.states import READY_STATES

from fondo.data.service import load_manifest
from tests_support import DATA_DIR

pytestmark = pytest.mark.integration
#: How long a worker may take to start and finish the task. [s]
TIMEOUT_S = 120


@pytest.fixture
def worker(start_workers):
    return start_workers(1)[0]


def test_task_finishes_in_a_real_worker_with_progress(worker_settings, worker, auth_headers,
                                                       task_messages):
    from web import create_app

    client = create_app(worker_settings).test_client()
    headers = auth_headers("officer")
    started = client.post("/api/v1/data/check", headers=headers)
    assert started.status_code == 202
    url = started.headers["Location"]
    task_id = url.rsplit("/", 1)[-1]
    total = len(load_manifest(DATA_DIR))
    seen = []
    # Woken by each state the worker publishes; at each mid-run count (already written to the
    # job row, which the API reads) ask the API once.
    for meta in task_messages.follow(TIMEOUT_S):
        if meta["task_id"] != task_id:
            continue
        if meta["status"] in READY_STATES:
            break
        if meta["status"] == "PROGRESS" and 0 < meta["result"]["done"] < total:
            status = client.get(url, headers=headers).json
            seen.append((status["state"], status["progress"]["done"]))
    status = client.get(url, headers=headers).json
    assert status["state"] == "SUCCESS", (status, worker.poll())
    assert status["progress"] == {"done": total, "total": total, "stage": "done"}
    # Progress was visible while the worker ran: some intermediate count was observed.
    assert any(state == "PROGRESS" and 0 < done < total for state, done in seen), seen[:20]
    assert client.get(status["result_url"], headers=headers).json["ok"] is True
