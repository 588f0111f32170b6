"""Rate limits that hold across web workers: counters in Redis, one budget for the tier.

Production runs several gunicorn workers; a limit kept in each worker's memory would allow
``workers × limit``. These tests count sign-in attempts through two app instances (each
with its own storage connection, as two worker processes have) and through a real
gunicorn with two workers, on the test Redis (``FONDO_TEST_REDIS_URL``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import pytest
import redis
import requests

from tests_support import ROOT
from web import create_app

pytestmark = pytest.mark.integration
#: Sign-in attempts allowed per client address and minute (web.auth.LOGIN_RATE_LIMIT). [-]
LOGIN_LIMIT = 10
#: Time allowed for gunicorn's workers to import the app and answer. [s]
START_TIMEOUT_S = 120


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _failed_logins(client, n: int) -> list[int]:
    token = _csrf(client.get("/login").get_data(as_text=True))
    return [client.post("/login", data={"email": "nobody@example.org", "password": "wrong pw",
                                        "csrf_token": token}).status_code for _ in range(n)]


def _two_instances(settings, storage_url: str) -> tuple[list[int], list[int]]:
    """Six failed sign-ins through one app instance, then six through a second one."""
    first = create_app({**settings, "RATELIMIT_STORAGE_URL": storage_url})
    first_codes = _failed_logins(first.test_client(), 6)
    second = create_app({**settings, "RATELIMIT_STORAGE_URL": storage_url})  # own storage
    return first_codes, _failed_logins(second.test_client(), 6)


def test_two_app_instances_on_redis_share_the_login_budget(settings, redis_url):
    first, second = _two_instances(settings, redis_url)
    assert first == [401] * 6
    assert second == [401] * (LOGIN_LIMIT - 6) + [429] * 2
    # Counted in each instance's memory, the second starts from zero: 12 attempts pass.
    assert _two_instances(settings, "memory://") == ([401] * 6, [401] * 6)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn_two_workers(settings, redis_url, tmp_path):
    """``gunicorn --workers 2 web.wsgi:app`` in production mode: broker on Redis and no
    explicit rate-limit storage (so the default is under test)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FONDO_")}
    env.update({"FONDO_INSTANCE_PATH": settings["INSTANCE_PATH"],
                "FONDO_DATA_DIR": settings["DATA_DIR"],
                "FONDO_DATABASE_URL": settings["DATABASE_URL"],
                "FONDO_BROKER_URL": redis_url, "FONDO_SECRET_KEY": settings["SECRET_KEY"],
                "FONDO_SECURE_COOKIES": "false"})  # plain HTTP on the loopback
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "web.wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                try:  # the socket accepts before the workers have imported the app
                    if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
                assert process.poll() is None, log_path.read_text()
                time.sleep(0.5)  # the workers import the app for several seconds
            else:
                pytest.fail(f"gunicorn did not answer in {START_TIMEOUT_S} s")
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_gunicorn_workers_count_sign_ins_against_one_budget(gunicorn_two_workers, redis_url):
    base = gunicorn_two_workers
    browser = requests.Session()
    token = _csrf(browser.get(f"{base}/login", timeout=10).text)
    codes = []
    for _ in range(LOGIN_LIMIT + 4):
        # a new connection each time, so that both workers take requests
        response = browser.post(f"{base}/login", headers={"Connection": "close"}, timeout=30,
                                data={"email": "nobody@example.org", "password": "wrong pw",
                                      "csrf_token": token})
        codes.append(response.status_code)
    assert codes == [401] * LOGIN_LIMIT + [429] * 4
    # the counters live in Redis (the broker), where every worker reads them
    keys = redis.Redis.from_url(redis_url).keys("LIMITS:LIMITER/*")
    assert any(b"auth.login" in key for key in keys), keys
