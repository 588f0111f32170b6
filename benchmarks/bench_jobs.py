"""Jobs benchmark: how fast a request that starts a task answers when the broker is down.

Figures: seconds for ``POST /api/v1/screenings``, ``/studies`` and ``/data/check`` to answer
503 (nothing stored) with the broker on a closed port, best of a few after one warm-up
request (which loads the layers and weather the endpoint checks), as a ratio against the
issue's bar of 2 s. Before the fix these requests hung ~20 s (Celery's result-store
reconnection) and then answered 500.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import shapely

#: The issue's bar: a request that starts a task answers within this with the broker down. [s]
BAR_S = 2.0
REPEATS = 3
#: A Redis URL on a port where nothing listens.
DOWN_BROKER_URL = "redis://127.0.0.1:1/0"
SCREENING = {"geometry": shapely.geometry.mapping(shapely.box(-102.4, 21.75, -102.2, 21.93)),
             "technology": "wind", "resolution_km": 2.0, "tile_cells": 25}
STUDY = {"technology": "pv", "request": {
    "lat": 21.88, "lon": -102.3, "capacity_dc_kw": 2000.0, "dc_ac_ratio": 1.25, "tilt_deg": 22.0,
    "azimuth_deg": 180.0, "tracking": "fixed", "gcr": 0.4, "system_losses": 0.14}}
STARTS = {"/api/v1/screenings": SCREENING, "/api/v1/studies": STUDY, "/api/v1/data/check": None}


def run() -> list[dict]:
    from fondo import migrate
    from fondo.accounts.service import create_token, create_user
    from fondo.config import load_settings
    from fondo.db import session_scope
    from fondo.seed import seed_all
    from web import create_app

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"INSTANCE_PATH": str(Path(folder) / "instance"),
                    "DATABASE_URL": f"sqlite:///{Path(folder) / 'fondo.sqlite'}",
                    "BROKER_URL": DOWN_BROKER_URL, "RESULT_BACKEND": DOWN_BROKER_URL,
                    "RATELIMIT_STORAGE_URL": "memory://", "SEED_DEMO_ON_FIRST_START": False,
                    "SECRET_KEY": "bench"})
        migrate.upgrade(settings)
        seed_all(settings)
        with session_scope(settings) as session:
            create_user(session, "officer@example.org", "officer", "a long passphrase")
            token = create_token(session, "officer@example.org", "bench")
        client = create_app(settings).test_client()
        headers = {"Authorization": f"Bearer {token}"}
        for path, body in STARTS.items():
            best = float("inf")
            for attempt in range(REPEATS + 1):
                t0 = time.perf_counter()
                response = client.post(path, json=body, headers=headers) if body else \
                    client.post(path, headers=headers)
                elapsed = time.perf_counter() - t0
                if attempt:  # the first loads what the endpoint checks
                    best = min(best, elapsed)
            rows.append({
                "name": f"jobs.broker_down_503.{path.rsplit('/', 1)[-1]}", "value": best,
                "unit": "s", "reference": "the issue's bar", "reference_value": BAR_S,
                "ratio": best / BAR_S, "bar": f"<= {BAR_S} s and 503",
                "passed": response.status_code == 503 and best <= BAR_S,
            })
    return rows


if __name__ == "__main__":
    from run import format_row

    for r in run():
        print(format_row(r))
