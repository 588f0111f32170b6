"""A worker killed (SIGKILL) in the middle of a screening: the screening still completes, once.

Two brokers, two ways back:

* **Redis**: a real ``celery -A fondo.worker worker`` runs the screening's tile tasks (a
  chord); it is killed mid-tile and a new worker is started. The new worker screens the
  tiles still queued; the killed tile stays unacknowledged in Redis (until the visibility
  timeout), so the job's heartbeat goes stale and the new worker's sweep re-queues the run,
  which screens only the missing tile and joins them.
* **Embedded** (filesystem broker, which forgets a message once taken): ``fondo serve`` runs
  the screening in its worker child; the child is killed, ``serve`` reaps it and starts
  another, whose sweep re-queues the run; the new delivery skips the tiles already written.

In both, the job ends SUCCESS after exactly one re-queue, with every cell of the area once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import shapely

from fondo.db import session_scope
from fondo.jobs import Job, JobState
from fondo.screening import service as svc
from tests_support import ROOT
from web import create_app

pytestmark = pytest.mark.integration

#: Liveness settings of these tests: a worker stamps its job every second, a job unstamped
#: for 10 s is orphaned (ten missed beats: a loaded 2-core machine never misses that many;
#: the defaults, 10 s and 60 s, would only make the test slower).
LIVENESS = {"JOB_HEARTBEAT_S": 1, "JOB_STALE_AFTER_S": 10, "JOB_MAX_ATTEMPTS": 3,
            # the longest task here (joining 110 tiles) takes seconds: Redis may hand a
            # killed worker's task back after 60 s
            "TASK_MAX_RUNTIME_S": 60}
#: A 20 x 20 km box at Aguascalientes at 2 km, one cell per tile: 110 tiles of ~0.2 s each,
#: long enough to kill a worker in the middle.
BODY = {"geometry": shapely.geometry.mapping(shapely.box(-102.4, 21.75, -102.2, 21.93)),
        "technology": "wind", "resolution_km": 2.0, "tile_cells": 1}
#: Tiles (and cells) of BODY.
TILES = 110
#: Tiles screened before the worker is killed.
KILL_AFTER_TILES = 5
#: Workers killed at most, should a tile finish before the kill that follows its start.
KILL_TRIES = 3
#: From the kill to the stored screening: a new worker starts (~10 s), the job goes stale
#: (10 s), the remaining ~105 tiles are screened (~30 s on one core) and joined, with room
#: for a loaded 2-core machine. [s]
RECOVERY_BOUND_S = 240
#: Time allowed for a worker or the server to start and for the first tiles. [s]
START_TIMEOUT_S = 180


def _job(settings, job_id: str) -> Job:
    with session_scope(settings) as session:
        return session.get(Job, job_id)


def _assert_stored_once(settings, screening_id: int, job_id: str) -> None:
    """The run succeeded with every cell of the area exactly once, after one re-queue."""
    job = _job(settings, job_id)
    assert job.state is JobState.SUCCESS, (job.state, job.stage, job.error)
    assert (job.done, job.total, job.stage) == (TILES, TILES, "done")
    assert job.attempts == 2  # the first delivery, and the one re-queued after the kill
    with session_scope(settings) as session:
        runs = svc.list_screenings(session)
        assert [r.id for r in runs] == [screening_id]
        run = runs[0]
        cells = svc.load_cells(settings, run)
        assert run.status is JobState.SUCCESS and run.cell_count == TILES
    assert len(cells) == TILES and cells["cell_id"].is_unique
    assert (job.result["screening_id"], job.result["cell_count"]) == (screening_id, TILES)
    assert job.result_url == f"/api/v1/screenings/{screening_id}"
    folder = svc.run_dir(settings, screening_id)
    assert not (folder / "tiles").exists()
    assert not [p for p in folder.rglob("*") if ".tmp" in p.name]


# --------------------------------------------------------------------------- Redis


@pytest.fixture
def worker_settings(worker_settings):
    return {**worker_settings, **LIVENESS}


def _kill_mid_tile(start_workers, task_messages, celery, log_dir: Path) -> tuple[int, str]:
    """Start a worker and SIGKILL it as a tile starts, once KILL_AFTER_TILES tiles are done.

    A tile takes ~0.1 s and the kill follows its STARTED message within milliseconds; should
    the tile still have finished first, nothing was lost: start another worker and kill that
    one instead (at most KILL_TRIES times). Returns (killed workers, the tile's task id).
    """
    tiles_done = killed = 0
    for _ in range(KILL_TRIES):
        (worker,) = start_workers(1)
        killed += 1
        for meta in task_messages.follow(START_TIMEOUT_S):
            if meta.get("name") != "fondo.screening.tile":
                continue
            tiles_done += meta["status"] == "SUCCESS"
            if meta["status"] == "STARTED" and tiles_done >= KILL_AFTER_TILES:
                os.killpg(worker.pid, signal.SIGKILL)  # the worker leads its own group
                break
        else:
            logs = "".join(p.read_text() for p in sorted(log_dir.glob("worker-*.log")))
            raise AssertionError(f"no tile started: {logs[-3000:]}")
        worker.wait(timeout=30)
        assert worker.returncode == -signal.SIGKILL
        if celery.AsyncResult(meta["task_id"]).state == "STARTED":  # killed mid-tile
            return killed, meta["task_id"]
    raise AssertionError(f"every tile finished before its worker was killed ({KILL_TRIES} tries)")


def test_sigkill_mid_screening_on_redis_completes_once(worker_settings, start_workers,
                                                       auth_headers, task_messages, tmp_path):
    app = create_app(worker_settings)
    client, headers = app.test_client(), auth_headers("officer")
    started = client.post("/api/v1/screenings", json=BODY, headers=headers)
    assert started.status_code == 202, started.get_json()
    job_id, screening_id = started.get_json()["id"], started.get_json()["screening_id"]

    killed, tile_id = _kill_mid_tile(start_workers, task_messages, app.extensions["celery"],
                                     tmp_path)
    killed_at = time.monotonic()
    assert 0 < _job(worker_settings, job_id).done < TILES  # killed in the middle

    start_workers(1)
    for meta in task_messages.follow(RECOVERY_BOUND_S):
        if meta.get("name") == "fondo.screening.store" and meta["status"] == "SUCCESS":
            break
    elapsed_s = time.monotonic() - killed_at
    last_log = (tmp_path / f"worker-{killed}.log").read_text()
    assert _job(worker_settings, job_id).state is JobState.SUCCESS, last_log[-3000:]
    assert elapsed_s < RECOVERY_BOUND_S
    # the killed tile never finished: the job went stale and was re-queued, once
    assert last_log.count(f"job {job_id} re-queued (attempt 2 of 3)") == 1, last_log[-3000:]
    _assert_stored_once(worker_settings, screening_id, job_id)


# --------------------------------------------------------------------------- embedded


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:  # a problem: its status and body
        return error.code, json.loads(error.read())


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _wait_for(predicate, timeout_s: float, what: str, log: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)  # the server's work (tiles of ~0.2 s, a worker start) is no faster
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def test_sigkill_of_the_embedded_worker_mid_screening_completes_once(settings, make_user,
                                                                      tmp_path):
    port, log_path = _free_port(), tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONDO_")}
    env.update({"FONDO_INSTANCE_PATH": settings["INSTANCE_PATH"],
                "FONDO_DATABASE_URL": settings["DATABASE_URL"],
                "FONDO_SEED_DEMO_ON_FIRST_START": "false"})
    env.update({f"FONDO_{k}": str(v) for k, v in LIVENESS.items()})
    embedded = {**settings, "BROKER_URL": "filesystem://", **LIVENESS}
    _email, _password, token = make_user("officer")
    base = f"http://127.0.0.1:{port}/api/v1"
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def healthy():
            assert server.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                    return True
            except OSError:
                return False

        _wait_for(healthy, START_TIMEOUT_S, "the server", log_path)
        status, body = _call(f"{base}/screenings", token, BODY)
        assert status == 202, body
        job_id, screening_id = body["id"], body["screening_id"]

        def tiles_done():
            return _call(f"{base}/tasks/{job_id}", token)[1]["progress"]["done"] >= KILL_AFTER_TILES

        _wait_for(tiles_done, START_TIMEOUT_S, f"{KILL_AFTER_TILES} tiles", log_path)
        (worker,) = _children(server.pid)
        os.killpg(worker, signal.SIGKILL)  # the worker leads its own process group
        killed_at = time.monotonic()
        assert 0 < _job(settings, job_id).done < TILES  # killed in the middle

        def new_worker():
            return [pid for pid in _children(server.pid) if pid != worker]

        _wait_for(new_worker, START_TIMEOUT_S, "a new worker", log_path)
        assert not Path(f"/proc/{worker}").exists()  # reaped: no zombie left

        def finished():
            state = _call(f"{base}/tasks/{job_id}", token)[1]["state"]
            assert state != "FAILURE", _job(settings, job_id).error
            return state == "SUCCESS"

        _wait_for(finished, RECOVERY_BOUND_S, "the screening", log_path)
        assert time.monotonic() - killed_at < RECOVERY_BOUND_S
    finally:
        server.terminate()
        server.wait(timeout=30)
    serve_log = log_path.read_text()
    assert f"worker (pid {worker}) exited with code -9" in serve_log
    assert serve_log.count(f"job {job_id} re-queued (attempt 2 of 3)") == 1, serve_log[-3000:]
    _assert_stored_once(embedded, screening_id, job_id)
