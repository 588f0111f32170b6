"""A finance Monte Carlo launched through the API runs in a real Celery worker on Redis.

Needs Redis (``FONDO_TEST_REDIS_URL``, set by ``.ci/run``); the worker is a real
``celery -A fondo.worker worker`` process reading the same settings from the environment.
"""

import copy
import json

import pytest

from web import create_app

pytestmark = pytest.mark.integration
#: How long a worker may take to start and finish the run. [s]
TIMEOUT_S = 180
#: Draws and chunk: 20 progress steps, each a vectorized chunk of 1 000 draws.
N_DRAWS, CHUNK = 20_000, 1_000

#: A 30 MW case with USD senior debt and one sponsor (illustrative inputs, not data).
CASE = {
    "capacity_mw": 30,
    "energy_p50_mwh": 70_000,
    "energy_p90_mwh": 64_000,
    "life_years": 25,
    "capex_usd": 28e6,
    "opex_usd_per_kw_year": 14,
    "opex_escalation": 0.02,
    "ppa_price_usd_per_mwh": 50,
    "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "rate": 0.065, "tenor_years": 15,
         "target_dscr": 1.3, "max_gearing": 0.8},
        {"name": "Sponsor", "kind": "equity", "share": 1.0},
    ],
}


@pytest.fixture
def finance_worker_settings(worker_settings):
    return worker_settings


@pytest.fixture
def finance_worker(start_workers):
    return start_workers(1)[0]


def test_montecarlo_finishes_in_a_real_worker_with_progress(finance_worker_settings,
                                                            finance_worker, auth_headers,
                                                            task_messages):
    client = create_app(finance_worker_settings).test_client()
    headers = auth_headers("analyst")
    created = client.post("/api/v1/finance/cases", json=copy.deepcopy(CASE), headers=headers)
    assert created.status_code == 201
    started = client.post(created.json["links"]["montecarlo"], headers=headers,
                          json={"n_draws": N_DRAWS, "chunk": CHUNK, "seed": 11,
                                "price_sigma": 0.1, "capex_sigma": 0.08})
    assert started.status_code == 202
    status, seen = task_messages.follow_job(client, started.headers["Location"], headers,
                                            N_DRAWS, TIMEOUT_S)
    assert status["state"] == "SUCCESS", (status, finance_worker.poll())
    assert status["progress"] == {"done": N_DRAWS, "total": N_DRAWS, "stage": "done"}
    assert any(state == "PROGRESS" and 0 < done < N_DRAWS for state, done in seen), seen[:20]
    run = client.get(status["result_url"], headers=headers)

    def refuse(name):
        raise AssertionError(f"non-JSON constant {name}")

    run = json.loads(run.get_data(), parse_constant=refuse)
    assert run["state"] == "SUCCESS" and run["summary"]["n_draws"] == N_DRAWS
    assert set(run["summary"]["equity_irr"]) == {"Sponsor"}


# --------------------------------------------------------------------------- first request

#: Issue 12's bar: the first case and the first 10 000-draw Monte Carlo after start each take
#: under a second of service time. [s]
FIRST_REQUEST_BAR_S = 1.0
#: Time allowed for the fresh process: migrations, seed, and compiling every kernel. [s]
FRESH_TIMEOUT_S = 600

#: A fresh instance in a new interpreter with an empty numba cache (nothing compiled): it
#: starts as ``fondo serve`` does (prepare, then the warm-up before serving), then times
#: the first case and the first Monte Carlo through the API in-process (tasks eager, so the
#: Monte Carlo's whole service time is inside its request).
FRESH_INSTANCE = r"""
import json, sys, time
from fondo import runner
from fondo.accounts.service import create_token, create_user
from fondo.config import load_settings
from fondo.db import session_scope
from web import create_app

settings = load_settings(json.loads(sys.argv[1]))
case = json.loads(sys.argv[2])
t0 = time.perf_counter()
runner.prepare(settings)
prepared = time.perf_counter() - t0
warm = runner.warm_up()
app = create_app(settings)
with session_scope(settings) as session:
    create_user(session, "analyst@example.org", "analyst", "correct horse")
    token = create_token(session, "analyst@example.org", "timing")
client = app.test_client()
headers = {"Authorization": f"Bearer {token}"}
t = time.perf_counter()
created = client.post("/api/v1/finance/cases", json=case, headers=headers)
case_s = time.perf_counter() - t
assert created.status_code == 201, created.get_data(as_text=True)
t = time.perf_counter()
started = client.post(created.json["links"]["montecarlo"], headers=headers,
                      json={"n_draws": 10000, "seed": 3, "price_sigma": 0.1, "capex_sigma": 0.08})
montecarlo_s = time.perf_counter() - t
assert started.status_code == 202, started.get_data(as_text=True)
run = client.get(started.json["run"], headers=headers).json
print(json.dumps({"case_s": case_s, "montecarlo_s": montecarlo_s, "state": run["state"],
                  "n_draws": (run["summary"] or {}).get("n_draws"), "warm_up": warm,
                  "prepare_s": prepared}))
"""


def test_first_case_and_first_montecarlo_after_start_answer_at_once(tmp_path):
    """Issue 12: a fresh instance (empty numba cache, new process) warms its kernels at
    start, so its first case and first 10 000-draw Monte Carlo are as fast as later ones."""
    import os
    import subprocess
    import sys

    from tests_support import DATA_DIR, ROOT

    settings = {"INSTANCE_PATH": str(tmp_path / "instance"),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}",
                "BROKER_URL": "memory://", "TASK_ALWAYS_EAGER": True,
                "SECRET_KEY": "first-request", "SEED_DEMO_ON_FIRST_START": False, "TESTING": True}
    settings["DATA_DIR"] = str(DATA_DIR)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FONDO_", "NUMBA_"))}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba-cache")  # empty: nothing compiled yet
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", FRESH_INSTANCE, json.dumps(settings), json.dumps(CASE)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=FRESH_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print("fresh instance:", json.dumps(out))  # the figures, shown with pytest -s
    assert out["state"] == "SUCCESS" and out["n_draws"] == 10_000, out
    assert out["warm_up"] is not None, done.stderr[-2000:]
    assert any((tmp_path / "numba-cache").rglob("*.nbi")), "the warm-up wrote no numba cache"
    assert out["case_s"] < FIRST_REQUEST_BAR_S, out
    assert out["montecarlo_s"] < FIRST_REQUEST_BAR_S, out
