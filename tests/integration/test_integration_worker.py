"""A task launched through the API finishes in a real Celery worker, with visible progress.

Needs Redis (``FONDO_TEST_REDIS_URL``, set by ``.ci/run``); the worker is a real
``celery -A fondo.worker worker`` process reading the same settings from the environment.
"""

import pytest

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
    total = len(load_manifest(DATA_DIR))
    status, seen = task_messages.follow_job(client, started.headers["Location"], headers, total,
                                            TIMEOUT_S)
    assert status["state"] == "SUCCESS", (status, worker.poll())
    assert status["progress"] == {"done": total, "total": total, "stage": "done"}
    # Progress was visible while the worker ran: some intermediate count was observed.
    assert any(state == "PROGRESS" and 0 < done < total for state, done in seen), seen[:20]
    assert client.get(status["result_url"], headers=headers).json["ok"] is True
