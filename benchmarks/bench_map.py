"""Benchmark: the officer map's tiles and click report (issue 14).

Bars (issue 14): each map tile of a corridor screening (~480 000 cells) in <= 100 ms on this
machine (p95 per tile), and a click's report "at once" — taken as the 1 s limit under which a
user's flow of thought is not interrupted (J. Nielsen, *Usability Engineering*, 1993, §5.5:
0.1 s feels instantaneous, 1 s keeps the flow).

The tiles are rendered from the real 1 km EPSG:6372 lattice of both corridors (the cells a
corridor screening at 1 km has, from :func:`siting.grid.screening_grid`); their values are
a smooth function of position, since drawing time does not depend on them (running the whole
screening to get real values is the screening benchmark's job). Tiles sampled: every tile
covering the corridors at zooms 6 and 8, and a fixed random sample of those at 10, 12 and 14
(the zooms an officer pans at), rendered with the screening's colours and the exclusion mask,
PNG encoding included. The raster is built once per screening and process (timed apart).

The click report is :func:`fondo.maps.service.point_report` (site check + quick yield per MW)
at random points of the corridors on a migrated, seeded instance, after one warm-up click
(which loads the layers once per process).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pyproj
import shapely
import shapely.ops

ROOT = Path(__file__).resolve().parents[1]
#: Bars. [s]
TILE_BAR_S = 0.100
CLICK_BAR_S = 1.0
#: Lattice of the corridor screening. [km]
RESOLUTION_KM = 1.0
#: Tiles sampled at each of the deeper zooms, and clicks timed.
SAMPLED_TILES = 60
CLICKS = 20
SEED = 14


def _tiles_over(bounds: tuple[float, float, float, float], z: int) -> list[tuple[int, int]]:
    west, south, east, north = bounds
    n = 2 ** z

    def tx(lon): return int((lon + 180.0) / 360.0 * n)
    def ty(lat): return int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return [(x, y) for x in range(tx(west), tx(east) + 1) for y in range(ty(north), ty(south) + 1)]


def _tile_row(settings) -> dict:
    from fondo.data.service import load_layer
    from fondo.maps.rasters import screening_scale
    from fondo.maps.tiles import lattice_raster, render_tile
    from siting.grid import corridor_area, screening_grid

    states = load_layer(settings["DATA_DIR"], "states").to_crs(6372)
    area = shapely.union_all([corridor_area(states, "bajio"), corridor_area(states, "noreste")])
    grid = screening_grid(area, RESOLUTION_KM, max_cells=2_000_000)
    x, y = grid["x_m"].to_numpy(float), grid["y_m"].to_numpy(float)
    score = 0.5 + 0.5 * np.sin(x / 37_000.0) * np.cos(y / 23_000.0)
    excluded = (np.sin(x / 5_000.0) * np.sin(y / 7_000.0)) > 0.6
    t0 = time.perf_counter()
    raster = lattice_raster(x, y, RESOLUTION_KM * 1000.0,
                            {"score": np.where(excluded, np.nan, score),
                             "excluded": excluded.astype(float)})
    build_s = time.perf_counter() - t0
    scale = screening_scale(None, "score")
    to_4326 = pyproj.Transformer.from_crs(6372, 4326, always_xy=True)
    bounds = shapely.bounds(shapely.ops.transform(to_4326.transform, area))
    rng = np.random.default_rng(SEED)
    tiles = []
    for z in (6, 8, 10, 12, 14):
        over = _tiles_over(tuple(bounds), z)
        if len(over) > SAMPLED_TILES:
            over = [over[i] for i in rng.choice(len(over), SAMPLED_TILES, replace=False)]
        tiles += [(z, tx, ty) for tx, ty in over]
    render_tile(raster, *tiles[0], "score", scale, masked="excluded")  # warm-up (transformer)
    times = []
    for z, tx, ty in tiles:
        t0 = time.perf_counter()
        render_tile(raster, z, tx, ty, "score", scale, masked="excluded")
        times.append(time.perf_counter() - t0)
    p95 = float(np.percentile(times, 95))
    return {"name": f"map tile p95 per tile ({len(grid):,}-cell 1 km corridor lattice, "
                    f"{len(tiles)} tiles at zooms 6-14, PNG included; median "
                    f"{np.median(times) * 1000:.1f} ms; raster built once in {build_s:.2f} s)",
            "value": p95 * 1000.0, "unit": "ms", "reference": "issue 14 bar",
            "reference_value": TILE_BAR_S * 1000.0, "ratio": p95 / TILE_BAR_S,
            "bar": f"<= {TILE_BAR_S * 1000:g} ms", "passed": p95 <= TILE_BAR_S}


def _click_row(settings) -> dict:
    from fondo import migrate
    from fondo.db import session_scope
    from fondo.maps import service as map_service
    from fondo.screening.service import screening_bundle
    from fondo.seed import seed_all

    migrate.upgrade(settings)
    seed_all(settings)
    corridors = screening_bundle(settings).layers.corridors_4326
    rng = np.random.default_rng(SEED)
    west, south, east, north = corridors.bounds
    points = []
    while len(points) < CLICKS + 1:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        if shapely.contains_xy(corridors, lon, lat):
            points.append((float(lon), float(lat)))
    times = []
    with session_scope(settings) as session:
        for k, (lon, lat) in enumerate(points):
            technology = "pv" if k % 2 else "wind"
            t0 = time.perf_counter()
            map_service.point_report(settings, session, {"longitude": lon, "latitude": lat,
                                                         "technology": technology})
            if k:  # the first click loads the layers once per process
                times.append(time.perf_counter() - t0)
    p95 = float(np.percentile(times, 95))
    return {"name": f"click report latency p95 (site check + quick yield per MW, {CLICKS} random "
                    f"corridor points, pv and wind; median {np.median(times) * 1000:.0f} ms)",
            "value": p95 * 1000.0, "unit": "ms", "reference": "Nielsen 1 s flow limit",
            "reference_value": CLICK_BAR_S * 1000.0, "ratio": p95 / CLICK_BAR_S,
            "bar": f"<= {CLICK_BAR_S * 1000:g} ms", "passed": p95 <= CLICK_BAR_S}


def run() -> list[dict]:
    from fondo.config import load_settings

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"INSTANCE_PATH": folder, "DATA_DIR": str(ROOT / "data"),
                                  "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
                                  "BROKER_URL": "memory://", "SECRET_KEY": "bench"})
        return [_tile_row(settings), _click_row(settings)]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value']:.1f} {row['unit']} (bar {row['bar']}: "
              f"{'PASS' if row['passed'] else 'FAIL'})")
