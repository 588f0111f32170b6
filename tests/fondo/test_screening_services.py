"""Screening services: tiles equal the in-process engine, idempotence, atomic files, imported
exclusion layers, parameter overrides and the ``fondo screen`` / ``fondo sites check`` commands
(their bad inputs refused by the API's schemas, and a fresh instance folder).

All on the real bundled layers, a ~20 x 20 km box at Aguascalientes at 2 km in 25-cell tiles.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import func, select
from tests_support import DATA_DIR

from fondo.cli import main
from fondo.data.service import import_layer_recorded, layers_dir, remove_imported_layer
from fondo.db import session_scope
from fondo.errors import InvalidInput
from fondo.jobs import Job, JobState
from fondo.request_body import load_request
from fondo.screening import service as svc
from fondo.screening.storage import atomic_write
from siting.screening import screen_tiles

#: The screened box at Aguascalientes (EPSG:4326). [°]
AGS_BOX = (-102.4, 21.75, -102.2, 21.93)
AGS_POLYGON = shapely.geometry.mapping(shapely.box(*AGS_BOX))
#: Resolution and tile size. [km], [cells]
RESOLUTION_KM = 2.0
TILE_CELLS = 25
#: An officer-drawn exclusion zone: the south-west quarter of the box (not data of any
#: source; a zone of the fund's own, as ``extra_exclusion_<slug>`` layers are). [°]
ZONE_BOX = (-102.4, 21.75, -102.3, 21.84)
ZONE_LAYER = "extra_exclusion_test_zone"


def _body(**extra):
    return {"geometry": AGS_POLYGON, "technology": "wind", "resolution_km": RESOLUTION_KM,
            "tile_cells": TILE_CELLS} | extra


def _request(**extra):
    """The request of :func:`_body`, loaded by the API's schema."""
    return load_request(svc.ScreeningRequestSchema(), _body(**extra))


def _run_inline(settings, request):
    """Create a run and screen its tiles here, the way the eager task does."""
    with session_scope(settings) as session:
        run, job = svc.create_screening(session, settings, request)
        run_id, job_id, tiles = run.id, job.id, list(job.params["tiles"])
    for tile in tiles:
        svc.screen_tile(settings, run_id, tile)
        svc.tile_progress(settings, job_id, run_id)
    svc.store_screening(settings, job_id, run_id)
    return run_id, job_id, tiles


def _cells(settings, run_id):
    with session_scope(settings) as session:
        return svc.load_cells(settings, svc.get_screening(session, run_id))


def test_tiles_joined_equal_the_engine_run_in_one_go(settings):
    run_id, job_id, tiles = _run_inline(settings, _request())
    assert len(tiles) == 9
    stored = _cells(settings, run_id).sort_values("cell_id").reset_index(drop=True)
    bundle = svc.screening_bundle(settings)
    request = svc.resolve_request(_request(), bundle, settings)
    direct = screen_tiles(request.area_6372, bundle.layers, request.params, RESOLUTION_KM,
                          tile_cells=10**6).sort_values("cell_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(stored.drop(columns="geometry")),
                                  pd.DataFrame(direct.drop(columns="geometry")),
                                  check_dtype=False, check_exact=False, rtol=1e-12)
    assert stored.geometry.geom_equals_exact(direct.geometry, tolerance=1e-6).all()
    with session_scope(settings) as session:
        run = session.get(svc.ScreeningRun, run_id)
        job = session.get(Job, job_id)
        assert run.status is JobState.SUCCESS and run.cell_count == len(direct)
        assert run.cells_file == f"screenings/{run_id}/cells.gpkg"
        assert (job.state, job.done, job.total, job.stage) == (JobState.SUCCESS, 9, 9, "done")
    folder = svc.run_dir(settings, run_id)
    assert not (folder / "tiles").exists()  # intermediate tiles removed once stored
    assert not [p for p in folder.rglob("*") if ".tmp" in p.name]


def test_a_tile_is_computed_once_and_storing_twice_changes_nothing(settings):
    with session_scope(settings) as session:
        run, job = svc.create_screening(session, settings, _request())
        run_id, job_id, tiles = run.id, job.id, list(job.params["tiles"])
    first = svc.screen_tile(settings, run_id, tiles[0])
    stamp = first.stat().st_mtime_ns
    assert svc.screen_tile(settings, run_id, tiles[0]) == first  # re-delivered tile: skipped
    assert first.stat().st_mtime_ns == stamp
    assert svc.tile_progress(settings, job_id, run_id) == 1
    with pytest.raises(RuntimeError, match="missing"):
        svc.store_screening(settings, job_id, run_id)  # never a partial result
    for tile in tiles[1:]:
        svc.screen_tile(settings, run_id, tile)
    result = svc.store_screening(settings, job_id, run_id)
    cells_file = svc.run_dir(settings, run_id) / "cells.gpkg"
    stamp = cells_file.stat().st_mtime_ns
    assert svc.store_screening(settings, job_id, run_id) == result
    assert cells_file.stat().st_mtime_ns == stamp


def test_atomic_write_leaves_nothing_when_the_writer_dies(tmp_path):
    target = tmp_path / "cells.gpkg"

    def dies(path: Path) -> None:
        path.write_bytes(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, dies)
    assert list(tmp_path.iterdir()) == []


def _parameters(overrides):
    """``parameters`` of a screening request, loaded by the API's schema."""
    return load_request(svc.ScreeningRequestSchema(), _body(parameters=overrides))["parameters"]


def test_parameters_overrides_are_applied_checked_and_echoed():
    overrides = _parameters(
        {"exclusions": {"urban_buffer_m": 2000}, "technology": {"slope_limit_pct": 5,
         "costs": {"capital_cost_usd_per_kw": 700}},
         "connection": {"spur_cost_usd_per_km": {"115": 500000, "400": 1e6},
                        "tap_substation_cost_usd": {"115": 6e6, "400": 14e6}},
         "consultation": {"trigger_typology": ["A"], "max_localities_listed": 2.0}})
    json.dumps(overrides)  # a loaded request is plain JSON: it is stored with the run
    params = svc.parameters_from_request("pv", overrides, max_cells=1000)
    assert params.exclusions.urban_buffer_m == 2000.0
    assert params.technology.slope_limit_pct == 5.0 and params.technology.costs.capital_cost_usd_per_kw == 700
    assert dict(params.connection.spur_cost_usd_per_km) == {115.0: 500000.0, 400.0: 1e6}
    assert params.consultation.trigger_typology == ("A",) and params.max_cells == 1000
    assert params.consultation.max_localities_listed == 2
    echoed = svc.parameters_json(params)
    assert echoed["connection"]["spur_cost_usd_per_km"] == {"115": 500000.0, "400": 1e6}
    json.dumps(echoed)
    for bad, field in [({"weights": {"lcoe": "high"}}, "parameters.weights.lcoe"),
                       ({"exclusions": {"exclude_dem_nodata": 1}}, "parameters.exclusions.exclude_dem_nodata"),
                       ({"technology": {"technology": "wind"}}, "parameters.technology.technology"),
                       ({"technology": {"power_density_mw_per_km2": 0}},
                        "parameters.technology.power_density_mw_per_km2"),
                       ({"consultation": {"max_localities_listed": 2.5}},
                        "parameters.consultation.max_localities_listed"),
                       ({"connection": {"spur_cost_usd_per_km": {"high": 1}}},
                        "parameters.connection.spur_cost_usd_per_km.high"),
                       ({"connection": {"spur_cost_usd_per_km": {}}},
                        "parameters.connection.spur_cost_usd_per_km"),
                       ({"fixed_charge_rate": 1.5}, "parameters.fixed_charge_rate"),
                       ([1, 2], "parameters")]:
        with pytest.raises(InvalidInput) as caught:
            _parameters(bad)
        assert caught.value.field == field, bad
    # what needs the merged parameters is checked after the schema, by the service
    for bad, field in (({"weights": {"lcoe": 0, "grid": 0, "community": 0, "confidence": 0,
                                     "available_area": 0}},
                        "parameters.weights"),
                       ({"weights": {"lcoe_worst_usd_per_mwh": 10}}, "parameters.weights"),
                       ({"connection": {"spur_cost_usd_per_km": {"115": 5e5, "400": 1e6}}},
                        "parameters.connection.spur_cost_usd_per_km")):
        with pytest.raises(InvalidInput) as caught:
            svc.parameters_from_request("pv", _parameters(bad), max_cells=1000)
        assert caught.value.field == field, bad


def test_an_imported_exclusion_layer_excludes_cells_with_its_reason(settings, tmp_path):
    zone = tmp_path / "zone.geojson"
    gpd.GeoDataFrame({"name": ["Zona de prueba del fondo"]}, geometry=[shapely.box(*ZONE_BOX)],
                     crs=4326).to_file(zone, driver="GeoJSON", engine="pyogrio")
    import_layer_recorded(settings, ZONE_LAYER, zone, source="drawn by the test",
                          licence="CC0", imported_by="officer@example.org")
    try:
        run_id, _job_id, _tiles = _run_inline(settings, _request())
        cells = _cells(settings, run_id)
        # each cell's share of the zone is its exact overlap inside the screened polygon (100 m raster: two
        # slanted edges across a 2 km cell err by 0.05 of it at most, and cancel on average)
        zone_6372, area_6372 = gpd.GeoSeries([shapely.box(*ZONE_BOX), shapely.geometry.shape(AGS_POLYGON)],
                                             crs=4326).to_crs(6372)
        boxes = cells.geometry.to_numpy()
        exact = shapely.area(shapely.intersection(shapely.intersection(boxes, zone_6372), area_6372)) / shapely.area(boxes)
        share = cells[f"excluded_fraction_{ZONE_LAYER}"].to_numpy(float)
        np.testing.assert_allclose(share, exact, atol=0.05)
        np.testing.assert_allclose(share.sum(), exact.sum(), rtol=0.02)
        whole = exact == 1.0
        assert whole.sum() >= 4 and cells.loc[whole, "excluded"].all()
        assert cells.loc[whole, "exclusion_reasons"].str.contains(
            f"imported layer '{ZONE_LAYER}' \\(\\+0 m\\): 100 % \\(Zona de prueba del fondo\\)").all()
        assert not cells.loc[share == 0, "exclusion_reasons"].str.contains(ZONE_LAYER).any()
        with session_scope(settings) as session:
            shown = svc.screening_json(session, svc.get_screening(session, run_id))
        assert [r["layer"] for r in shown["imported_layers"]] == [ZONE_LAYER]
        site = load_request(svc.SiteCheckRequestSchema(), {"geometry": shapely.geometry.mapping(
            shapely.box(-102.39, 21.76, -102.38, 21.77)), "technology": "wind"})
        check = svc.check_site_request(settings, site)
        zone_check = {c["name"]: c for c in check["constraints"]}[f"{ZONE_LAYER}_overlap_km2"]
        assert zone_check["passed"] is False
    finally:
        remove_imported_layer(layers_dir(settings), ZONE_LAYER)


# --------------------------------------------------------------------------- command line


def _invoke(settings, *args):
    env = {f"FONDO_{k}": str(settings[k]) for k in
           ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "TASK_ALWAYS_EAGER")}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_cli_screen_writes_cells_and_prints_the_api_json(settings, tmp_path):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(_body(technology="pv")))
    out = tmp_path / "cells.csv"
    result = _invoke(settings, "screen", "--input", str(request), "--out", str(out))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["status"] == "SUCCESS" and shown["task"]["progress"]["done"] == 9
    table = pd.read_csv(out)
    assert len(table) == shown["cell_count"] == shown["summary"]["cell_count"]
    with session_scope(settings) as session:
        assert svc.screening_json(session, svc.get_screening(session, shown["id"])) == shown

    geojson = tmp_path / "cells.geojson"
    check = tmp_path / "site.json"
    check.write_text(json.dumps({"geometry": {"type": "Point", "coordinates": [-102.3, 21.85]},
                                 "technology": "pv"}))
    result = _invoke(settings, "sites", "check", "--input", str(check))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attributes"]["municipality_cvegeo"] == "01001"
    assert not geojson.exists()


def test_cli_screen_bad_input_exits_1_and_stores_nothing(settings, tmp_path):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(_body(technology="geothermal")))
    result = _invoke(settings, "screen", "--input", str(request))
    assert result.exit_code == 1 and "error:" in result.output and "(technology)" in result.output
    result = _invoke(settings, "screen", "--input", str(request), "--out", str(tmp_path / "x.shp"))
    assert result.exit_code == 1 and "(out)" in result.output
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(svc.ScreeningRun)) == 0
    assert not (Path(settings["INSTANCE_PATH"]) / "screenings").exists()


def _fresh_env(instance: Path) -> dict[str, str | None]:
    """Environment of a first command on a never-served instance folder (default settings)."""
    unset = {k: None for k in os.environ if k.startswith("FONDO_") and not k.startswith("FONDO_TEST_")}
    return unset | {"FONDO_INSTANCE_PATH": str(instance), "FONDO_DATA_DIR": str(DATA_DIR)}


def test_cli_on_a_fresh_instance_folder_answers_with_json(tmp_path):
    instance = tmp_path / "fresh"
    site = tmp_path / "site.json"
    site.write_text(json.dumps({"geometry": {"type": "Point", "coordinates": [-102.3, 21.85]},
                                "technology": "pv"}))
    env = _fresh_env(instance)
    result = CliRunner().invoke(main, ["sites", "check", "--input", str(site)], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["attributes"]["municipality_cvegeo"] == "01001"
    assert not instance.exists()  # a site check reads the layers only, never the database

    bad = tmp_path / "bad.json"
    bad.write_text('{"geometry": {"type": "Point", "coordinates": [-99.9, 31.1]}, "technology": "pv"}')
    result = CliRunner().invoke(main, ["sites", "check", "--input", str(bad)], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 1 and "outside Mexico (geometry)" in result.output

    request = tmp_path / "request.json"
    request.write_text(json.dumps(_body(technology="pv", resolution_km=4.0, tile_cells=100)))
    result = CliRunner().invoke(main, ["screen", "--input", str(request)], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output  # migrated and seeded on first use
    shown = json.loads(result.output)
    assert shown["status"] == "SUCCESS" and shown["cell_count"] == shown["summary"]["cell_count"] > 0
    assert (instance / "fondo.sqlite").is_file()
