"""The embedded mode as a new user runs it: ``fondo serve`` on a fresh instance folder.

First start migrates the SQLite database, seeds the real reference data and the demo fund,
starts a worker on the filesystem broker (no server), and a task launched through the API
finishes with its progress visible.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests_support import ROOT

pytestmark = pytest.mark.integration
#: Time allowed for the first start (migrations, seed of 16 weather files). [s]
START_TIMEOUT_S = 180
TASK_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token=None, method="GET"):
    request = urllib.request.Request(url, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


@pytest.fixture
def embedded(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONDO_")}
    env["FONDO_INSTANCE_PATH"] = str(tmp_path / "instance")
    fondo = [sys.executable, "-m", "web.cli"]
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen([*fondo, "serve", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                try:
                    if _get(f"{base}/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)  # first start migrates and seeds for tens of seconds
            yield base, env, fondo
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_fresh_embedded_start_serves_seeds_and_runs_tasks(embedded):
    base, env, fondo = embedded
    page = urllib.request.urlopen(f"{base}/", timeout=10).read().decode()
    assert "DEMOSTRACIÓN" in page  # demo fund seeded on first start, labelled
    subprocess.run([*fondo, "users", "create", "--email", "officer@example.org", "--role",
                    "officer", "--password", "a long passphrase"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    token = subprocess.run([*fondo, "tokens", "create", "--email", "officer@example.org"],
                           cwd=ROOT, env=env, check=True, capture_output=True,
                           text=True).stdout.strip()
    status, body = _get(f"{base}/api/v1/data/check", token, method="POST")
    assert status == 202
    deadline = time.monotonic() + TASK_TIMEOUT_S
    while time.monotonic() < deadline:
        _, body = _get(f"{base}/api/v1/tasks/{body['id']}", token)
        if body["state"] in {"SUCCESS", "FAILURE"}:
            break
        time.sleep(0.2)
    assert body["state"] == "SUCCESS", body
    assert body["progress"]["done"] == body["progress"]["total"] > 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FONDO_BROKER_URL", "redis://127.0.0.1:1/0", "FONDO_BROKER_URL redis://127.0.0.1:1/0 is unreachable"),
        ("FONDO_DATABASE_URL", "mongodb://x/y", "FONDO_DATABASE_URL has unknown scheme 'mongodb'"),
        ("FONDO_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none",
         "FONDO_DATABASE_URL 127.0.0.1:1/none is unreachable"),
    ],
)
def test_wrong_setting_stops_start_up_with_one_line(tmp_path, variable, value, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONDO_")}
    env.update({"FONDO_INSTANCE_PATH": str(tmp_path / "instance"), variable: value})
    result = subprocess.run([sys.executable, "-m", "web.cli", "serve", "--port",
                             str(_free_port())], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), result.stderr


def test_stopping_the_server_stops_its_worker(embedded):
    """SIGTERM to ``fondo serve`` leaves no orphan Celery worker behind."""
    base, env, _fondo = embedded
    instance = env["FONDO_INSTANCE_PATH"]
    workers = subprocess.run(["pgrep", "-f", "fondo.worker worker"], capture_output=True,
                             text=True).stdout.split()
    mine = [pid for pid in workers
            if instance in Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")]
    assert len(mine) == 1
    server_pid = int(Path(f"/proc/{mine[0]}/stat").read_text().split()[3])  # the worker's parent
    os.kill(server_pid, 15)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and os.path.exists(f"/proc/{mine[0]}"):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{mine[0]}")


def test_wsgi_entry_refuses_an_unreachable_broker_in_one_line(tmp_path):
    """Production start (gunicorn imports web.wsgi) stops on a wrong setting, in one line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONDO_")}
    env.update({"FONDO_INSTANCE_PATH": str(tmp_path / "instance"),
                "FONDO_BROKER_URL": "redis://127.0.0.1:1/0"})
    result = subprocess.run([sys.executable, "-c", "import web.wsgi"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: FONDO_BROKER_URL redis://127.0.0.1:1/0 is unreachable")
