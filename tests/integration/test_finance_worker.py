"""A finance Monte Carlo launched through the API runs in a real Celery worker on Redis.

Needs Redis (``FONDO_TEST_REDIS_URL``, set by ``.ci/run``); the worker is a real
``celery -A fondo.worker worker`` process reading the same settings from the environment.
"""

import copy
import json

import pytest
from celery.states import READY_STATES

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
    url = started.headers["Location"]
    task_id = url.rsplit("/", 1)[-1]
    seen = []
    # Woken by each state the worker publishes; at each mid-run count (already written to the
    # job row, which the API reads) ask the API once.
    for meta in task_messages.follow(TIMEOUT_S):
        if meta["task_id"] != task_id:
            continue
        if meta["status"] in READY_STATES:
            break
        if meta["status"] == "PROGRESS" and 0 < meta["result"]["done"] < N_DRAWS:
            status = client.get(url, headers=headers).json
            seen.append((status["state"], status["progress"]["done"]))
    status = client.get(url, headers=headers).json
    assert status["state"] == "SUCCESS", (status, finance_worker.poll())
    assert status["progress"] == {"done": N_DRAWS, "total": N_DRAWS, "stage": "done"}
    assert any(state == "PROGRESS" and 0 < done < N_DRAWS for state, done in seen), seen[:20]
    run = client.get(status["result_url"], headers=headers)

    def refuse(name):
        raise AssertionError(f"non-JSON constant {name}")

    run = json.loads(run.get_data(), parse_constant=refuse)
    assert run["state"] == "SUCCESS" and run["summary"]["n_draws"] == N_DRAWS
    assert set(run["summary"]["equity_irr"]) == {"Sponsor"}
