"""Layer-import checks and idempotent creation benchmark (issue 10, items 9 and 11).

Figures:

- seconds for the land check and area of an imported layer
  (:func:`fondo.data.layer_extent.check_on_land` after reprojection to EPSG:6372, plus
  :func:`~fondo.data.layer_extent.area_km2`) on the largest bundled vector layer, INEGI's
  12,200 urban locality polygons, as a ratio against reading that file with geopandas
  (what every import pays anyway). Bar (ours): ≤ 1× — the check must not dominate an
  import. Mexico's land is built once per process beforehand (its first build is reported
  as a separate figure, against the same read; bar ≤ 5×);
- seconds to answer a replayed ``POST /api/v1/finance/cases`` (same ``Idempotency-Key``
  and body) as a ratio against the first, creating request, on SQLite. Bar (ours): ≤ 0.5×
  — a replay must cost less than doing the work again.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
#: The largest bundled vector layer (INEGI urban localities, 12,200 polygons).
LAYER_FILE = DATA_DIR / "geo" / "localidades_amanzanadas_inegi.geojson"
#: Largest acceptable cost of the land check relative to reading the file.
BAR_LAND_RATIO = 1.0
#: Largest acceptable cost of building Mexico's land (once per process) relative to the read.
BAR_LAND_BUILD_RATIO = 5.0
#: Largest acceptable cost of a replay relative to the creating request.
BAR_REPLAY_RATIO = 0.5
REPEATS = 3

#: A 40 MW solar case (illustrative inputs, as in tests/web/test_idempotency.py).
CASE = {
    "name": "Bajío PV 40 MW (benchmark)", "capacity_mw": 40, "energy_p50_mwh": 96_000,
    "energy_p90_mwh": 88_000, "degradation": 0.005, "life_years": 25,
    "construction_years": 1, "capex_usd": 36e6, "opex_usd_per_kw_year": 14,
    "opex_escalation": 0.02, "ppa_price_usd_per_mwh": 52, "ppa_escalation": 0.01,
    "ppa_term_years": 15, "merchant_price_usd_per_mwh": 42, "tax_rate": 0.30,
    "ptu_rate": 0.10, "depreciation": "mx_renewable_100", "discount_rate": 0.08,
    "tranches": [
        {"name": "Senior", "kind": "senior_debt", "currency": "USD", "rate": 0.068,
         "tenor_years": 15, "target_dscr": 1.35, "max_gearing": 0.8, "fee": 0.01},
        {"name": "Pension", "kind": "equity", "currency": "USD", "share": 1.0},
    ],
}


def _land_rows() -> list[dict]:
    import geopandas as gpd

    from fondo.data.cache import clear_cache
    from fondo.data.layer_extent import LAND_TOLERANCE_M, area_km2, check_on_land, projected
    from fondo.data.loaders import mexico_land

    best_read = best_check = best_build = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        frame = gpd.read_file(LAYER_FILE, engine="pyogrio")
        best_read = min(best_read, time.perf_counter() - t0)
        clear_cache()
        t0 = time.perf_counter()
        mexico_land(DATA_DIR, buffer_m=LAND_TOLERANCE_M)
        best_build = min(best_build, time.perf_counter() - t0)
        t0 = time.perf_counter()
        geometries = projected(frame)
        check = check_on_land(geometries, LAYER_FILE.name, DATA_DIR)
        area_km2(geometries)
        best_check = min(best_check, time.perf_counter() - t0)
    reference = f"geopandas read of {LAYER_FILE.name} ({len(frame)} polygons)"
    check_ratio, build_ratio = best_check / best_read, best_build / best_read
    return [
        {"name": f"land check + area of {len(frame)} polygons", "value": best_check,
         "unit": "s", "reference": reference, "reference_value": best_read,
         "ratio": check_ratio, "bar": f"<= {BAR_LAND_RATIO}x reference",
         "passed": check.partly_outside_count == 0 and check_ratio <= BAR_LAND_RATIO},
        {"name": "build Mexico's land (once per process)", "value": best_build, "unit": "s",
         "reference": reference, "reference_value": best_read, "ratio": build_ratio,
         "bar": f"<= {BAR_LAND_BUILD_RATIO}x reference",
         "passed": build_ratio <= BAR_LAND_BUILD_RATIO},
    ]


def _replay_rows() -> list[dict]:
    from fondo import migrate
    from fondo.accounts.service import create_token, create_user
    from fondo.db import engine_for, session_scope
    from web import create_app

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        settings = {"INSTANCE_PATH": f"{folder}/instance", "DATA_DIR": str(DATA_DIR),
                    "DATABASE_URL": url, "BROKER_URL": "memory://", "TASK_ALWAYS_EAGER": True,
                    "SECRET_KEY": uuid.uuid4().hex, "SEED_DEMO_ON_FIRST_START": False,
                    "TESTING": True}
        migrate.upgrade(settings)
        with session_scope(settings) as session:
            create_user(session, "bench@example.org", "analyst", "a long passphrase")
            token = create_token(session, "bench@example.org", "bench")
        client = create_app(settings).test_client()
        body = json.dumps(CASE)
        best_first = best_replay = float("inf")
        replayed = True
        for repeat in range(REPEATS):
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{repeat}"}
            t0 = time.perf_counter()
            first = client.post("/api/v1/finance/cases", data=body, headers=headers,
                                content_type="application/json")
            best_first = min(best_first, time.perf_counter() - t0)
            t0 = time.perf_counter()
            again = client.post("/api/v1/finance/cases", data=body, headers=headers,
                                content_type="application/json")
            best_replay = min(best_replay, time.perf_counter() - t0)
            replayed &= (first.status_code == 201 and again.data == first.data
                         and again.headers.get("Idempotent-Replayed") == "true")
        engine_for(url).dispose()
    ratio = best_replay / best_first
    return [{"name": "replayed POST /api/v1/finance/cases (SQLite)", "value": best_replay,
             "unit": "s", "reference": "the creating request", "reference_value": best_first,
             "ratio": ratio, "bar": f"<= {BAR_REPLAY_RATIO}x reference",
             "passed": replayed and ratio <= BAR_REPLAY_RATIO}]


def run() -> list[dict]:
    return _land_rows() + _replay_rows()


if __name__ == "__main__":
    from run import format_row

    for row in run():
        print(format_row(row))
