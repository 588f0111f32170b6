"""A task launched through the API finishes in a real Celery worker, with visible progress.

Needs Redis (``FONDO_TEST_REDIS_URL``, set by ``.ci/run``); the worker is a real
``celery -A fondo.worker worker`` process reading the same settings from the environment.
"""

import os
import subprocess
import sys
import time

import pytest
import redis

from tests_support import REDIS_URL, ROOT
from fondo.datasets import load_manifest
from tests_support import DATA_DIR

pytestmark = pytest.mark.integration
#: How long a worker may take to start and finish the task. [s]
TIMEOUT_S = 120


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        pytest.skip("FONDO_TEST_REDIS_URL is not set (run through .ci/run)")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"FONDO_TEST_REDIS_URL={REDIS_URL} is set but Redis does not answer")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def worker_settings(settings, redis_url):
    return {**settings, "BROKER_URL": redis_url, "RESULT_BACKEND": redis_url,
            "TASK_ALWAYS_EAGER": False}


@pytest.fixture
def worker(worker_settings, tmp_path):
    env = {**os.environ}
    env.update({f"FONDO_{k}": str(worker_settings[k]) for k in
                ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND")})
    with open(tmp_path / "worker.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "fondo.worker", "worker", "--pool", "solo",
             "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_task_finishes_in_a_real_worker_with_progress(worker_settings, worker, auth_headers):
    from web import create_app

    client = create_app(worker_settings).test_client()
    headers = auth_headers("officer")
    started = client.post("/api/v1/data/check", headers=headers)
    assert started.status_code == 202
    url = started.headers["Location"]
    seen = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        status = client.get(url, headers=headers).json
        seen.append((status["state"], status["progress"]["done"]))
        if status["state"] in {"SUCCESS", "FAILURE"}:
            break
        time.sleep(0.005)
    total = len(load_manifest(DATA_DIR))
    assert status["state"] == "SUCCESS", (status, worker.poll())
    assert status["progress"] == {"done": total, "total": total, "stage": "done"}
    # Progress was visible while the worker ran: some intermediate count was observed.
    assert any(state == "PROGRESS" and 0 < done < total for state, done in seen), seen[:20]
    assert client.get(status["result_url"], headers=headers).json["ok"] is True
