"""A screening split into tiles runs as a Celery chord on two real workers over Redis.

Needs Redis (``FONDO_TEST_REDIS_URL``). Two ``celery -A fondo.worker worker`` processes
share the 9 tiles of a ~20 x 20 km box at Aguascalientes (2 km cells, 25-cell tiles); the
stored cells must equal the engine's in-process run of the same area.
"""

from __future__ import annotations

import re
import time

import pandas as pd
import pytest
import shapely


pytestmark = pytest.mark.integration
#: How long the workers may take to start, load the layers and finish. [s]
TIMEOUT_S = 240
#: How long the store task may take to log its success after the job row says so. [s]
LOG_WAIT_S = 15
#: Workers sharing the tiles.
WORKERS = 2
AGS_POLYGON = shapely.geometry.mapping(shapely.box(-102.4, 21.75, -102.2, 21.93))
BODY = {"geometry": AGS_POLYGON, "technology": "wind", "resolution_km": 2.0, "tile_cells": 25}
#: Tiles of BODY (3 x 3 blocks of 5 x 5 lattice cells hold the box's 110 cells).
TILES = 9


@pytest.fixture
def workers(start_workers, tmp_path):
    return [(process, None, tmp_path / f"worker-{n}.log")
            for n, process in enumerate(start_workers(WORKERS))]


def test_screening_tiles_run_on_workers_and_equal_an_in_process_run(worker_settings, workers,
                                                                     auth_headers):
    from fondo.screening import service as svc
    from fondo.db import session_scope
    from fondo.screening.bundle import screening_bundle
    from siting.screening import screen_tiles
    from web import create_app

    client = create_app(worker_settings).test_client()
    headers = auth_headers("officer")
    started = client.post("/api/v1/screenings", json=BODY, headers=headers)
    assert started.status_code == 202, started.get_json()
    task_url = started.headers["Location"]
    seen = []
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        status = client.get(task_url, headers=headers).get_json()
        seen.append((status["state"], status["progress"]["done"]))
        if status["state"] in {"SUCCESS", "FAILURE"}:
            break
        time.sleep(0.05)
    store_done = re.compile(r"Task fondo\.screening\.store\[[^\]]+\] succeeded")
    log_deadline = time.monotonic() + LOG_WAIT_S  # the store task logs after its last commit
    logs = "".join(path.read_text() for _p, _l, path in workers)
    while status["state"] == "SUCCESS" and not store_done.search(logs) and time.monotonic() < log_deadline:
        time.sleep(0.1)
        logs = "".join(path.read_text() for _p, _l, path in workers)
    assert status["state"] == "SUCCESS", (status, logs[-3000:])
    assert status["progress"] == {"done": TILES, "total": TILES, "stage": "done"}
    assert any(state == "PROGRESS" and 0 < done < TILES for state, done in seen), seen[:20]
    # every tile was its own task, run by the workers, then one store task joined them
    tile_done = re.findall(r"Task fondo\.screening\.tile\[[^\]]+\] succeeded", logs)
    assert len(tile_done) == TILES, logs[-3000:]
    assert len(store_done.findall(logs)) == 1

    screening_id = started.get_json()["screening_id"]
    with session_scope(worker_settings) as session:
        stored = svc.load_cells(worker_settings, svc.get_screening(session, screening_id))
    bundle = screening_bundle(worker_settings)
    request = svc.resolve_request(BODY, bundle, worker_settings)
    direct = screen_tiles(request.area_6372, bundle.layers, request.params, BODY["resolution_km"],
                          tile_cells=10**6)
    stored = stored.sort_values("cell_id").reset_index(drop=True)
    direct = direct.sort_values("cell_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(stored.drop(columns="geometry")),
                                  pd.DataFrame(direct.drop(columns="geometry")),
                                  check_dtype=False, check_exact=False, rtol=1e-12)
    assert stored.geometry.geom_equals_exact(direct.geometry, tolerance=1e-6).all()
