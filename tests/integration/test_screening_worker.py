"""A screening split into tiles runs as a Celery chord on two real workers over Redis.

Needs Redis (``FONDO_TEST_REDIS_URL``). Two ``celery -A fondo.worker worker`` processes
share the 9 tiles of a ~20 x 20 km box at Aguascalientes (2 km cells, 25-cell tiles); the
stored cells must equal the engine's in-process run of the same area.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from celery.states import READY_STATES

from fondo.db import session_scope
from fondo.screening import service as svc
from siting.screening import screen_tiles
from web import create_app

pytestmark = pytest.mark.integration
#: How long the workers may take to start, load the layers and finish. [s]
TIMEOUT_S = 240
#: Celery names of the tile tasks and of the task that joins and stores them.
TILE_TASK, STORE_TASK = "fondo.screening.tile", "fondo.screening.store"
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
                                                                     auth_headers, task_messages):
    client = create_app(worker_settings).test_client()
    headers = auth_headers("officer")
    started = client.post("/api/v1/screenings", json=BODY, headers=headers)
    assert started.status_code == 202, started.get_json()
    task_url = started.headers["Location"]
    seen, tiles_done, store_meta = [], set(), None
    # Woken by each task state the workers publish; when a tile finishes (it counted itself on
    # the job row, which the API reads, before it returned) ask the API once. The store task
    # finishes after its last commit.
    for meta in task_messages.follow(TIMEOUT_S):
        if meta["status"] == "FAILURE" or (meta.get("name") == STORE_TASK
                                           and meta["status"] in READY_STATES):
            store_meta = meta
            break
        if meta.get("name") == TILE_TASK and meta["status"] == "SUCCESS":
            tiles_done.add(meta["task_id"])
            status = client.get(task_url, headers=headers).get_json()
            seen.append((status["state"], status["progress"]["done"]))
    status = client.get(task_url, headers=headers).get_json()
    logs = "".join(path.read_text() for _p, _l, path in workers)
    assert store_meta is not None and store_meta["status"] == "SUCCESS", (store_meta,
                                                                           logs[-3000:])
    assert status["state"] == "SUCCESS", (status, logs[-3000:])
    assert status["progress"] == {"done": TILES, "total": TILES, "stage": "done"}
    assert any(state == "PROGRESS" and 0 < done < TILES for state, done in seen), seen[:20]
    # every tile was its own task, run by the workers, then one store task joined them
    assert len(tiles_done) == TILES, logs[-3000:]

    screening_id = started.get_json()["screening_id"]
    with session_scope(worker_settings) as session:
        stored = svc.load_cells(worker_settings, svc.get_screening(session, screening_id))
    bundle = svc.screening_bundle(worker_settings)
    request = svc.resolve_request(BODY, bundle, worker_settings)
    direct = screen_tiles(request.area_6372, bundle.layers, request.params, BODY["resolution_km"],
                          tile_cells=10**6)
    stored = stored.sort_values("cell_id").reset_index(drop=True)
    direct = direct.sort_values("cell_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(stored.drop(columns="geometry")),
                                  pd.DataFrame(direct.drop(columns="geometry")),
                                  check_dtype=False, check_exact=False, rtol=1e-12)
    assert stored.geometry.geom_equals_exact(direct.geometry, tolerance=1e-6).all()
