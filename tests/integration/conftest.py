"""Real Celery workers on Redis for the integration tests (``FONDO_TEST_REDIS_URL``)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis
from celery.states import READY_STATES

from tests_support import REDIS_URL, ROOT

#: Settings a worker process receives through its environment (those set).
WORKER_SETTING_KEYS = ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "RESULT_BACKEND",
                       "JOB_HEARTBEAT_S", "JOB_STALE_AFTER_S", "JOB_MAX_ATTEMPTS",
                       "TASK_MAX_RUNTIME_S")


@pytest.fixture
def redis_url():
    """The test Redis, emptied before and after the test (skip when not configured)."""
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


#: Channels on which Celery's Redis result backend publishes every task state it stores.
TASK_META_CHANNELS = "celery-task-meta-*"


class TaskMessages:
    """Celery's task-state messages, read as the result backend publishes them.

    Celery's Redis result backend publishes each state it stores (``PROGRESS`` from
    ``update_state``, then ``SUCCESS``, ``RETRY`` or ``FAILURE``) on
    ``celery-task-meta-<task id>``; ``result_extended`` adds the task's ``name`` and
    ``worker``. The test waits on the subscription instead of polling the API.
    """

    def __init__(self, pubsub):
        self._pubsub = pubsub

    def follow(self, timeout_s: float) -> Iterator[dict]:
        """Each message (Celery's meta: ``status``, ``result``, ``task_id``, ``name``) until
        the timeout; blocks until the next one arrives."""
        deadline = time.monotonic() + timeout_s
        while (remaining := deadline - time.monotonic()) > 0:
            message = self._pubsub.get_message(timeout=remaining)
            if message is not None and message["type"] == "pmessage":
                yield json.loads(message["data"])

    def follow_job(self, client, url: str, headers: dict, total: int,
                   timeout_s: float) -> tuple[dict, list[tuple[str, int]]]:
        """Follow the task of the job at ``url`` (its last path segment is the task id) until
        it is ready or the timeout; at each mid-run count it publishes (``0 < done < total``,
        already written to the job row, which the API reads) ask the API once.

        Returns the job's status from the API afterwards, and the ``(state, done)`` pairs the
        API answered on the way (the proof that progress was visible while the worker ran).
        """
        task_id = url.rsplit("/", 1)[-1]
        seen = []
        for meta in self.follow(timeout_s):
            if meta["task_id"] != task_id:
                continue
            if meta["status"] in READY_STATES:
                break
            if meta["status"] == "PROGRESS" and 0 < meta["result"]["done"] < total:
                status = client.get(url, headers=headers).json
                seen.append((status["state"], status["progress"]["done"]))
        return client.get(url, headers=headers).json, seen


@pytest.fixture
def task_messages(redis_url):
    """Subscribed to every task's state before the test launches anything (none is missed)."""
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    pubsub.psubscribe(TASK_META_CHANNELS)
    confirmed = pubsub.get_message(timeout=10)
    assert confirmed is not None and confirmed["type"] == "psubscribe", confirmed
    yield TaskMessages(pubsub)
    pubsub.close()
    client.close()


@pytest.fixture
def worker_settings(settings, redis_url):
    """The test database's settings with Redis as broker and result backend, tasks not eager."""
    return {**settings, "BROKER_URL": redis_url, "RESULT_BACKEND": redis_url,
            "TASK_ALWAYS_EAGER": False}


@pytest.fixture
def start_workers(worker_settings, tmp_path):
    """Start N real ``celery -A fondo.worker worker`` processes; stopped after the test.

    Workers are numbered across calls (``worker-<n>.log``), and each leads its own process
    group (a test may kill a worker's whole group without touching pytest).
    """
    env = {**os.environ}
    env.update({f"FONDO_{k}": str(worker_settings[k]) for k in WORKER_SETTING_KEYS
                if worker_settings.get(k) is not None})
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(count: int = 1) -> list[subprocess.Popen]:
            processes = []
            for _ in range(count):
                number = next(numbers)
                log = stack.enter_context(open(tmp_path / f"worker-{number}.log", "w"))
                process = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "fondo.worker", "worker",
                     "--pool", "solo", "-n", f"test{number}@%h", "--loglevel", "INFO",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True)
                stack.callback(_stop, process)
                processes.append(process)
            return processes

        yield start


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
