"""Job liveness on a real database: claims, the heartbeat, the reaper, the worker supervisor.

The end-to-end cases (a real worker killed with SIGKILL on Redis and on the embedded broker)
are in ``tests/integration/test_worker_kill.py``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from fondo.celery_app import celery_config, make_celery
from fondo.cli import main
from fondo.config import ConfigError, load_settings
from fondo.db import session_scope
from fondo.heartbeat import Claim, beating, claim, heartbeat_for, new_holder, stamp
from fondo.jobs import (
    SUBTASK_IDS_KEY,
    Job,
    JobState,
    create_job,
    reap_job,
    reap_stale_jobs,
)
from fondo.orm import utcnow
from fondo.runner import RESTART_BACKOFF_FIRST_S, WorkerSupervisor
from fondo.studies.models import YieldStudy

#: Liveness settings of these tests (the defaults are 10 s and 60 s). [s]
HEARTBEAT_S, STALE_S = 1, 4


@pytest.fixture
def live(settings):
    """Settings with a 1 s heartbeat and a 4 s stale bound, defaults filled in."""
    return load_settings({**settings, "JOB_HEARTBEAT_S": HEARTBEAT_S,
                          "JOB_STALE_AFTER_S": STALE_S})


def _job(settings, job_id) -> Job:
    with session_scope(settings) as session:
        return session.get(Job, job_id)


def _new_job(settings, **fields) -> str:
    with session_scope(settings) as session:
        job = create_job(session, "data_check", {})
        for key, value in fields.items():
            setattr(job, key, value)
        return job.id


def _age(settings, job_id, seconds: float) -> None:
    """Make the job's last heartbeat ``seconds`` old (its worker stopped then)."""
    with session_scope(settings) as session:
        session.get(Job, job_id).heartbeat_at = utcnow() - timedelta(seconds=seconds)


def test_a_job_is_held_by_one_live_delivery_and_handed_over_when_stale(live):
    job_id = _new_job(live)
    first, second = new_holder(), new_holder()
    assert claim(live, job_id, first) is Claim.TAKEN
    assert claim(live, job_id, second) is Claim.BUSY  # the first beats: the copy is dropped
    assert _job(live, job_id).held_by == first
    _age(live, job_id, STALE_S + 1)
    assert claim(live, job_id, second) is Claim.TAKEN  # the first stopped beating
    assert not stamp(live, job_id, first, done=1)  # the first learns it lost the job
    assert stamp(live, job_id, second, done=1)
    job = _job(live, job_id)
    assert (job.held_by, job.state, job.done) == (second, JobState.STARTED, 1)
    assert claim(live, "no-such-job", first) is Claim.MISSING


def test_a_finished_job_is_never_taken_again(live):
    job_id = _new_job(live, state=JobState.SUCCESS, result={"ok": True})
    assert claim(live, job_id, new_holder()) is Claim.DONE
    assert _job(live, job_id).held_by is None


def test_the_heartbeat_thread_stamps_held_jobs_and_notices_a_takeover(live):
    job_id = _new_job(live)
    holder = new_holder()
    assert claim(live, job_id, holder) is Claim.TAKEN
    _age(live, job_id, STALE_S - 1)
    aged = _job(live, job_id).heartbeat_at
    with beating(live, job_id, holder) as heartbeat:
        deadline = time.monotonic() + 10 * HEARTBEAT_S
        while _job(live, job_id).heartbeat_at == aged and time.monotonic() < deadline:
            time.sleep(HEARTBEAT_S / 4)  # the thread beats every HEARTBEAT_S
        assert _job(live, job_id).heartbeat_at > aged
        # another delivery takes the job over: the next beat tells this holder
        with session_scope(live) as session:
            session.get(Job, job_id).held_by = "other-host:1:000000000000"
        while not heartbeat.has_lost(job_id, holder) and time.monotonic() < deadline:
            time.sleep(HEARTBEAT_S / 4)
        assert heartbeat.has_lost(job_id, holder)
    assert not heartbeat_for(live).has_lost(job_id, holder)  # forgotten once released


def test_a_copy_delivered_while_the_job_runs_elsewhere_is_dropped(live):
    job_id = _new_job(live, task_name="fondo.data_check")
    holder = new_holder()
    assert claim(live, job_id, holder) is Claim.TAKEN
    celery = make_celery({**live, "TASK_ALWAYS_EAGER": True})
    result = celery.tasks["fondo.data_check"].apply(args=[job_id, {}], task_id=job_id)
    assert result.state == "IGNORED"
    job = _job(live, job_id)
    assert (job.state, job.held_by, job.result) == (JobState.STARTED, holder, None)


def _queue_only(settings):
    """A Celery app whose tasks go to an in-memory queue that no worker reads."""
    return make_celery({**settings, "BROKER_URL": "memory://", "RESULT_BACKEND": "cache+memory://",
                        "TASK_ALWAYS_EAGER": False})


def test_a_stale_job_is_requeued_once_however_many_reapers_sweep(live):
    job_id = _new_job(live, state=JobState.PROGRESS, task_name="fondo.data_check", attempts=1,
                      held_by="gone-host:1:000000000000", done=4, total=13)
    _age(live, job_id, STALE_S + 1)
    celery = _queue_only(live)
    assert reap_stale_jobs(live, celery) == {job_id: "requeued"}
    assert reap_job(live, celery, job_id) is None  # a second reaper finds nothing to do
    job = _job(live, job_id)
    assert (job.state, job.attempts, job.held_by, job.done) == (JobState.PENDING, 2, None, 4)
    assert job.stage.startswith("re-queued: its worker stopped") and "attempt 2 of 3" in job.stage


def test_a_job_whose_tiles_wait_in_the_queue_is_not_orphaned(live):
    """While a tile task it was split into has not started, the job waits; after the
    visibility timeout the tiles are no longer trusted to come."""
    job_id = _new_job(live, state=JobState.PROGRESS, task_name="fondo.screening.run",
                      attempts=1, params={"screening_id": 1, "tiles": [],
                                          SUBTASK_IDS_KEY: ["never-started-tile"]})
    _age(live, job_id, STALE_S + 1)
    celery = _queue_only(live)
    assert reap_job(live, celery, job_id) is None
    assert _job(live, job_id).state is JobState.PROGRESS
    _age(live, job_id, live["TASK_MAX_RUNTIME_S"] + 1)
    assert reap_job(live, celery, job_id) == "requeued"


def test_stale_bound_must_leave_room_for_missed_beats(settings):
    with pytest.raises(ConfigError, match="FONDO_JOB_STALE_AFTER_S=15 must be at least twice"):
        load_settings({**settings, "JOB_HEARTBEAT_S": 10, "JOB_STALE_AFTER_S": 15})


def _exists(pid: int) -> bool:
    """True while ``pid`` is a process, zombies included (a zombie was never reaped)."""
    return Path(f"/proc/{pid}").exists()


def test_the_supervisor_reaps_a_killed_worker_and_starts_another_with_backoff():
    lines: list[str] = []
    supervisor = WorkerSupervisor(
        lambda: subprocess.Popen(["sleep", "600"], start_new_session=True), lines.append)
    supervisor.start()
    try:
        for restart in (1, 2):
            killed = supervisor.process.pid
            supervisor.process.send_signal(signal.SIGKILL)
            deadline = time.monotonic() + 10 * RESTART_BACKOFF_FIRST_S * 2 ** restart
            while supervisor.restarts < restart and time.monotonic() < deadline:
                time.sleep(0.1)  # the supervisor looks every 0.5 s, then waits its back-off
            assert supervisor.restarts == restart, lines
            assert not _exists(killed)  # reaped, not a zombie
            assert supervisor.process.pid != killed and supervisor.process.poll() is None
        wait_s = [RESTART_BACKOFF_FIRST_S, 2 * RESTART_BACKOFF_FIRST_S]
        assert [line.split(" in ")[-1] for line in lines if "exited" in line] == [
            f"{s:g} s" for s in wait_s]
        assert all("exited with code -9" in line for line in lines if "exited" in line)
    finally:
        last = supervisor.process
        supervisor.stop()
    assert last.poll() == -signal.SIGTERM


def test_redis_hands_a_dead_workers_task_back_after_the_longest_task(settings):
    """Redis's visibility timeout is the longest task's bound; connections give up in 1 s."""
    redis = load_settings({**settings, "BROKER_URL": "redis://127.0.0.1:6379/12",
                           "TASK_ALWAYS_EAGER": False, "TASK_MAX_RUNTIME_S": 2400})
    conf = celery_config(redis)
    assert conf["broker_transport_options"] == {"visibility_timeout": 2400}
    assert conf["broker_connection_timeout"] <= 1.0
    assert conf["redis_socket_connect_timeout"] <= 1.0
    embedded = celery_config(load_settings({**settings, "BROKER_URL": "filesystem://"}))
    assert "visibility_timeout" not in embedded["broker_transport_options"]


def test_a_queued_study_on_a_broker_that_is_down_is_one_line_and_stores_nothing(settings,
                                                                              tmp_path):
    body = tmp_path / "study.json"
    body.write_text(json.dumps({"technology": "pv", "request": {
        "lat": 21.88, "lon": -102.3, "capacity_dc_kw": 2000.0, "dc_ac_ratio": 1.25,
        "tilt_deg": 22.0, "azimuth_deg": 180.0, "tracking": "fixed", "gcr": 0.4,
        "system_losses": 0.14}}))
    env = {f"FONDO_{k}": str(settings[k]) for k in ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL")}
    env |= {"FONDO_BROKER_URL": "redis://127.0.0.1:1/0", "FONDO_TASK_ALWAYS_EAGER": "false"}
    out = CliRunner().invoke(main, ["study", "create", "--queue", "--input", str(body)], env=env)
    assert out.exit_code != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "the task broker redis://127.0.0.1:1/0 is unreachable" in lines[0]
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(YieldStudy)) == 0
