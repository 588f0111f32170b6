"""``/api/v1/screenings`` and ``/api/v1/sites/check`` over the real bundled layers (issue 5).

The area is a 0.2° x 0.18° box (about 20 x 20 km, 408 km²) at the city of Aguascalientes,
screened at 2 km in 25-cell tiles (9 tiles), on SQLite and PostgreSQL. Answers are checked
against the bundled files read independently here: the lattice cells whose centre lies in
the box, the CONABIO state protected area "Cerro del Muerto", the INEGI municipalities and
the weather stations seeded from the EPW headers. Bad bodies are refused alike by the API
and by ``fondo screen`` / ``fondo sites check``, which load them with the same schemas.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from numpy.testing import assert_allclose
from sqlalchemy import func, select
from tests_support import DATA_DIR

from fondo.cli import main as fondo_main
from fondo.data.service import WeatherStation, load_layer
from fondo.db import session_scope
from fondo.jobs import Job
from fondo.request_body import load_request
from fondo.screening import service as svc
from siting.screening import CELL_COLUMNS
from web import create_app

#: The screened box at Aguascalientes (EPSG:4326, lon/lat). [°]
AGS_WEST, AGS_SOUTH, AGS_EAST, AGS_NORTH = -102.4, 21.75, -102.2, 21.93
AGS_POLYGON = {"type": "Polygon", "coordinates": [[
    [AGS_WEST, AGS_SOUTH], [AGS_EAST, AGS_SOUTH], [AGS_EAST, AGS_NORTH],
    [AGS_WEST, AGS_NORTH], [AGS_WEST, AGS_SOUTH]]]}
#: Error allowed on a 2 km cell's share of a layer from the 100 m raster against the exact overlap: a pixel
#: is burnt when its centre is inside, so each pixel an edge crosses errs by half its area at most; two
#: slanted edges across a cell (a polygon's corner) cross about 2 x 2.8 km / 0.1 km pixels: 0.05 of a
#: 4 km² cell in the worst case, the errors of one edge cancelling on average. [-]
CELL_SHARE_ATOL = 0.05
#: Resolution and tile size of the test screenings. [km], [cells]
RESOLUTION_KM = 2.0
TILE_CELLS = 25
#: The state protected area inside the box (CONABIO 2009, bundled).
ANP_NAME = "Cerro del Muerto"
#: A point in the centre of the city of Aguascalientes (Jardín de San Marcos area). [°]
AGS_CITY = (-102.30, 21.85)
#: INEGI key of the municipality of Aguascalientes and WMO id of its station.
AGS_MUNICIPALITY = "01001"
AGS_STATION = "765710"
#: Mean Earth radius of the haversine check (IUGG). [km]
EARTH_RADIUS_KM = 6371.0088
#: Projected (EPSG:6372) vs great-circle distance over < 5 km at 22° N. [-]
DISTANCE_RTOL = 0.01
#: Dimensions of the EPSG:6372 lattice. [m]
M_PER_KM = 1000.0


def _request(**extra):
    return {"geometry": AGS_POLYGON, "technology": "pv", "resolution_km": RESOLUTION_KM,
            "tile_cells": TILE_CELLS} | extra


def _count_rows(settings):
    with session_scope(settings) as session:
        return (session.scalar(select(func.count()).select_from(svc.ScreeningRun)),
                session.scalar(select(func.count()).select_from(Job)))


def _screenings_dir(settings):
    return Path(settings["INSTANCE_PATH"]) / "screenings"


def _expected_cell_count() -> int:
    """Lattice cells (2 km, EPSG:6372, origin 0) whose centre lies in the box, counted here."""
    box = gpd.GeoSeries([shapely.geometry.shape(AGS_POLYGON)], crs=4326).to_crs(6372).iloc[0]
    step = RESOLUTION_KM * M_PER_KM
    xmin, ymin, xmax, ymax = box.bounds
    xs = (np.arange(np.floor(xmin / step), np.ceil(xmax / step)) + 0.5) * step
    ys = (np.arange(np.floor(ymin / step), np.ceil(ymax / step)) + 0.5) * step
    gx, gy = np.meshgrid(xs, ys)
    return int(shapely.contains_xy(box, gx.ravel(), gy.ravel()).sum())


def _haversine_km(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _download(client, url, headers):
    """GET a file and close the response (``send_file`` keeps the file open until then)."""
    with client.get(url, headers=headers) as response:
        response.data  # noqa: B018 - read the body before the file closes
        return response


@pytest.fixture
def officer(auth_headers):
    return auth_headers("officer")


def test_officer_screens_a_polygon_and_the_cells_are_right(client, settings, officer):
    started = client.post("/api/v1/screenings", json=_request(), headers=officer)
    assert started.status_code == 202, started.get_json()
    task = started.get_json()
    assert started.headers["Location"] == f"/api/v1/tasks/{task['id']}"
    assert task["kind"] == "screening" and task["state"] == "SUCCESS", task
    assert task["progress"]["total"] == 9 and task["progress"]["done"] == 9
    assert client.get(started.headers["Location"], headers=officer).get_json()["state"] == "SUCCESS"

    run = client.get(task["screening"], headers=officer).get_json()
    expected = _expected_cell_count()
    assert run["status"] == "SUCCESS" and run["cell_count"] == expected
    assert run["tile_count"] == 9 and run["technology"] == "pv" and run["resolution_km"] == 2.0
    assert run["parameters"]["exclusions"]["urban_buffer_m"] == 1000.0
    assert run["summary"]["cell_count"] == expected
    assert set(run["links"]) >= {"cells.geojson", "cells.gpkg", "cells.csv",
                                 "supply-curve.csv", "supply-curve.png"}

    geo = _download(client, run["links"]["cells.geojson"], officer)
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    cells = gpd.read_file(io.BytesIO(geo.data))
    assert len(cells) == expected and cells.crs.to_epsg() == 4326

    # a cell's share of the bundled state protected area is its exact overlap inside the screened polygon
    # (100 m raster); a cell inside it whole is excluded with that reason
    anp = load_layer(DATA_DIR, "protected_areas_state")
    anp = anp[anp["nombre"] == ANP_NAME].geometry.union_all()
    anp_6372, area_6372 = gpd.GeoSeries([anp, shapely.geometry.shape(AGS_POLYGON)], crs=4326).to_crs(6372)
    boxes = cells.to_crs(6372).geometry.to_numpy()
    exact = shapely.area(shapely.intersection(shapely.intersection(boxes, anp_6372), area_6372)) / shapely.area(boxes)
    share = cells["excluded_fraction_protected_area"].to_numpy(float)
    assert_allclose(share, exact, atol=CELL_SHARE_ATOL)
    assert_allclose(share.sum(), exact.sum(), rtol=0.02)
    top = int(np.argmax(share))
    assert exact[top] > 0.5
    assert f"state protected area (+0 m): {100 * share[top]:.3g} % ({ANP_NAME})" in cells["exclusion_reasons"][top]
    assert_allclose(cells["available_fraction"][top], 1 - share[top] - cells["outside_area_fraction"][top],
                    atol=1e-12)  # nothing else reaches that cell
    assert cells.loc[share == 1.0, "excluded"].all()
    assert not cells.loc[share == 0, "exclusion_reasons"].str.contains(ANP_NAME).any()
    assert_allclose(cells["capacity_mw"], cells["available_km2"] * 48.0, rtol=1e-12)

    # the municipality of each cell centre is the INEGI municipality holding it
    munis = load_layer(DATA_DIR, "municipalities")
    centres = gpd.GeoDataFrame(geometry=gpd.points_from_xy(cells["longitude"], cells["latitude"]), crs=4326)
    joined = gpd.sjoin(centres, munis[["cvegeo", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    assert (joined["cvegeo"].to_numpy() == cells["municipality_cvegeo"].to_numpy()).all()

    # the nearest station is the one at the smallest great-circle distance (seeded from EPW)
    with session_scope(settings) as session:
        stations = pd.DataFrame([(s.id, s.longitude, s.latitude) for s in session.scalars(
            select(WeatherStation))], columns=["id", "lon", "lat"])
    d = _haversine_km(cells["longitude"].to_numpy()[:, None], cells["latitude"].to_numpy()[:, None],
                      stations["lon"].to_numpy()[None, :], stations["lat"].to_numpy()[None, :])
    assert (stations["id"].to_numpy()[d.argmin(axis=1)] == cells["nearest_station_id"].to_numpy()).all()
    assert_allclose(cells["dist_station_km"], d.min(axis=1), rtol=DISTANCE_RTOL)

    csv = _download(client, run["links"]["cells.csv"], officer)
    table = pd.read_csv(io.StringIO(csv.data.decode()), dtype={"municipality_cvegeo": str})
    assert csv.mimetype == "text/csv" and len(table) == expected
    assert set(CELL_COLUMNS) <= set(table.columns)

    gpkg = _download(client, run["links"]["cells.gpkg"], officer)
    assert gpkg.status_code == 200 and gpkg.data[:16] == b"SQLite format 3\x00"

    curve = _download(client, run["links"]["supply-curve.csv"], officer)
    curve = pd.read_csv(io.StringIO(curve.data.decode()))
    open_cells = cells[~cells["excluded"]]
    assert len(curve) == len(open_cells) and (curve["corridor"] == "bajio").all()
    assert (np.diff(curve["lcoe_usd_per_mwh"]) >= 0).all()
    assert_allclose(curve["cumulative_capacity_mw"].iloc[-1], open_cells["capacity_mw"].sum(), rtol=1e-12)
    png = _download(client, run["links"]["supply-curve.png"], officer)
    assert png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_self_intersecting_polygon_is_repaired_and_said_so(client, officer):
    bowtie = {"type": "Polygon", "coordinates": [[
        [AGS_WEST, AGS_SOUTH], [AGS_EAST, AGS_NORTH], [AGS_EAST, AGS_SOUTH],
        [AGS_WEST, AGS_NORTH], [AGS_WEST, AGS_SOUTH]]]}
    started = client.post("/api/v1/screenings", json=_request(geometry=bowtie), headers=officer)
    assert started.status_code == 202, started.get_json()
    assert any("make_valid" in note for note in started.get_json()["notes"])
    run = client.get(started.get_json()["screening"], headers=officer).get_json()
    assert run["status"] == "SUCCESS" and any("Self-intersection" in n for n in run["notes"])


def test_polygon_sticking_out_of_the_corridors_is_clipped_and_said_so(client, officer):
    # a quarter of this box lies in Aguascalientes, the rest in Zacatecas (not a corridor state)
    box = {"type": "Polygon", "coordinates": [[[-102.5, 22.3], [-102.2, 22.3], [-102.2, 22.6],
                                               [-102.5, 22.6], [-102.5, 22.3]]]}
    started = client.post("/api/v1/screenings", json=_request(geometry=box, resolution_km=4.0),
                          headers=officer)
    assert started.status_code == 202, started.get_json()
    assert any("clipped to the corridor states" in n for n in started.get_json()["notes"])


_OUTSIDE = {"type": "Polygon", "coordinates": [[[-100.0, 31.0], [-99.8, 31.0], [-99.8, 31.2],
                                                [-100.0, 31.2], [-100.0, 31.0]]]}  # Texas
_ACROSS = {"type": "Polygon", "coordinates": [[[-99.7, 27.3], [-99.3, 27.3], [-99.3, 27.7],
                                               [-99.7, 27.7], [-99.7, 27.3]]]}  # Nuevo Laredo
_OAXACA = {"type": "Polygon", "coordinates": [[[-96.8, 17.0], [-96.6, 17.0], [-96.6, 17.2],
                                               [-96.8, 17.2], [-96.8, 17.0]]]}
_TINY = {"type": "Polygon", "coordinates": [[[-102.3, 21.85], [-102.2995, 21.85], [-102.2995, 21.8505],
                                             [-102.3, 21.8505], [-102.3, 21.85]]]}


BAD_SCREENINGS = [
    (_request(geometry=_OUTSIDE), "geometry", "outside Mexico"),
    (_request(geometry=_ACROSS), "geometry", "crosses Mexico's border"),
    (_request(geometry=_OAXACA), "geometry", "does not intersect"),
    (_request(geometry={"type": "Polygon"}), "geometry.coordinates", "no coordinates"),
    (_request(geometry={"type": "Polygon", "coordinates": []}), "geometry.coordinates", "no coordinates"),
    (_request(geometry=AGS_POLYGON | {"crs": {"type": "name", "properties": {"name": "EPSG:6372"}}}),
     "geometry.crs", "EPSG:4326"),
    (_request(geometry={"type": "Point", "coordinates": list(AGS_CITY)}), "geometry.type", "sites/check"),
    (_request(geometry=_TINY), "resolution_km", "no cell centre"),
    (_request(resolution_km=0.01), "resolution_km", "between"),
    (_request(technology="geothermal"), "technology", "'pv' or 'wind'"),
    ({"corridor": "sureste", "technology": "pv"}, "corridor", "bajio"),
    ({"corridor": "bajio", "geometry": AGS_POLYGON, "technology": "pv"}, "corridor", "not both"),
    ({"technology": "pv"}, "geometry", "corridor"),
    (_request(parameters={"exclusions": {"urban_buffer": 5}}), "parameters.exclusions.urban_buffer",
     "unknown parameter"),
    (_request(parameters={"exclusions": {"urban_buffer_m": -5}}), "parameters.exclusions.urban_buffer_m",
     ">= 0"),
    (_request(parameters={"max_cells": 10**9}), "parameters.max_cells", "server"),
    (_request(parameters={"exclusions": {"exclusion_resolution_m": 5}}),
     "parameters.exclusions.exclusion_resolution_m", ">= 10"),
    (_request(parameters={"exclusions": {"exclusion_resolution_m": 5000}}),
     "parameters.exclusions.exclusion_resolution_m", "<= 1000"),
    (_request(parameters={"exclusions": {"min_plant_mw": -0.5}}), "parameters.exclusions.min_plant_mw", ">= 0"),
    (_request(resolution_km=20.0, parameters={"exclusions": {"exclusion_resolution_m": 10}}),
     "parameters.exclusions.exclusion_resolution_m", "more than 1000"),
    ({"corridor": "bajio", "technology": "pv", "resolution_km": 1.0,
      "parameters": {"exclusions": {"exclusion_resolution_m": 10}}},  # 185,968 cells x 100 x 100 pixels
     "parameters.exclusions.exclusion_resolution_m", "pixels, more than the maximum"),
    (_request(parameters={"exclusions": {"river_buffer_m": 60_000}}), "parameters.exclusions.river_buffer_m",
     "<= 50000"),
    (_request(parameters={"weights": {"available_area": -1}}), "parameters.weights.available_area", ">= 0"),
    (_request(tile_cells=0), "tile_cells", "whole number"),
    (_request(colour="red"), "colour", "unknown field"),
]


def test_bad_screening_requests_are_422_and_store_nothing(client, settings, officer):
    before = _count_rows(settings)
    for body, field, words in BAD_SCREENINGS:
        answer = client.post("/api/v1/screenings", json=body, headers=officer)
        assert answer.status_code == 422, (body, answer.get_json())
        assert answer.mimetype == "application/problem+json"
        problem = answer.get_json()
        assert problem["field"] == field and words in problem["detail"], (body, problem)
        assert _count_rows(settings) == before
        assert not _screenings_dir(settings).exists()


def test_too_many_cells_for_the_configured_maximum_is_422(settings, make_user):
    client = create_app({**settings, "SCREENING_MAX_CELLS": 50}).test_client()
    _email, _password, token = make_user("officer")
    before = _count_rows(settings)
    answer = client.post("/api/v1/screenings", json=_request(),
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    problem = answer.get_json()
    assert problem["field"] == "resolution_km" and "more than the maximum 50" in problem["detail"]
    assert _count_rows(settings) == before and not _screenings_dir(settings).exists()


def test_body_that_is_not_json_is_422(client, settings, officer):
    answer = client.post("/api/v1/screenings", data=b"{not json", headers=officer | {
        "Content-Type": "application/json"})
    assert answer.status_code == 422 and answer.get_json()["field"] == "body"
    assert _count_rows(settings) == (0, 0)


def test_roles_officers_screen_analysts_read(client, settings, auth_headers):
    analyst, investor = auth_headers("analyst"), auth_headers("investor")
    assert client.post("/api/v1/screenings", json=_request()).status_code == 401
    assert client.post("/api/v1/screenings", json=_request(), headers=analyst).status_code == 403
    assert client.post("/api/v1/sites/check", json={"geometry": AGS_POLYGON, "technology": "pv"},
                       headers=analyst).status_code == 403
    assert _count_rows(settings) == (0, 0)
    started = client.post("/api/v1/screenings", json=_request(), headers=auth_headers("admin"))
    assert started.status_code == 202
    url = started.get_json()["screening"]
    assert client.get(url, headers=analyst).status_code == 200
    assert _download(client, url + "/cells.csv", analyst).status_code == 200
    assert client.get(url, headers=investor).status_code == 403
    assert client.get("/api/v1/screenings", headers=analyst).get_json()["screenings"][0]["id"] == \
        started.get_json()["screening_id"]


def test_unknown_screening_404_and_unfinished_409(client, settings, officer):
    assert client.get("/api/v1/screenings/999", headers=officer).status_code == 404
    with session_scope(settings) as session:  # stored but never launched: still PENDING
        request = load_request(svc.ScreeningRequestSchema(), _request())
        run, _job = svc.create_screening(session, settings, request)
        run_id = run.id
    answer = client.get(f"/api/v1/screenings/{run_id}/cells.geojson", headers=officer)
    assert answer.status_code == 409 and "PENDING" in answer.get_json()["detail"]
    assert client.get(f"/api/v1/screenings/{run_id}/supply-curve.png", headers=officer).status_code == 409
    assert client.get(f"/api/v1/screenings/{run_id}", headers=officer).get_json()["status"] == "PENDING"


def test_site_check_of_a_point_in_the_city(client, settings, officer):
    answer = client.post("/api/v1/sites/check", headers=officer, json={
        "geometry": {"type": "Point", "coordinates": list(AGS_CITY)}, "technology": "pv"})
    assert answer.status_code == 200, answer.get_json()
    check = answer.get_json()
    assert check["attributes"]["municipality_cvegeo"] == AGS_MUNICIPALITY
    assert check["attributes"]["municipality_name"] == "Aguascalientes"
    assert check["nearest_station"]["station_id"] == AGS_STATION
    with session_scope(settings) as session:
        station = session.get(WeatherStation, AGS_STATION)
        expected_km = _haversine_km(*AGS_CITY, station.longitude, station.latitude)
    assert_allclose(check["nearest_station"]["distance_km"], expected_km, rtol=DISTANCE_RTOL)
    by_name = {c["name"]: c for c in check["constraints"]}
    assert set(by_name["urban_area_overlap_km2"]) == {"name", "passed", "value", "limit", "reason"}
    assert by_name["urban_area_overlap_km2"]["passed"] is False
    assert "Aguascalientes" in by_name["urban_area_overlap_km2"]["reason"]
    assert check["passed"] is False and check["capacity_mw"] == 0.0
    assert any("reference plant" in n for n in check["notes"])
    # the point's 2 km screening cell, in the city's built-up area: nothing available, urban buffer 100 %
    cell = check["cell"]
    assert cell["cell_id"].startswith("6372:2000:") and cell["resolution_km"] == 2.0
    assert cell["excluded"] is True and cell["available_fraction"] == 0.0 and cell["capacity_mw"] == 0.0
    assert cell["excluded_km2_by_reason"]["urban_area"] == 4.0
    assert "urban locality (+1000 m): 100 % (Aguascalientes)" in cell["exclusion_reasons"]
    assert_allclose(check["excluded_km2_by_reason"]["urban_area"], by_name["urban_area_overlap_km2"]["value"],
                    rtol=1e-12)


def test_site_check_of_a_polygon_in_the_protected_area(client, officer):
    anp = load_layer(DATA_DIR, "protected_areas_state")
    anp = anp[anp["nombre"] == ANP_NAME].geometry.union_all()
    site = shapely.buffer(shapely.point_on_surface(anp), 0.004)  # ~0.4 km radius, inside the ANP
    assert anp.contains(site)
    answer = client.post("/api/v1/sites/check", headers=officer, json={
        "geometry": shapely.geometry.mapping(site), "technology": "wind"})
    check = answer.get_json()
    protected = {c["name"]: c for c in check["constraints"]}["protected_area_overlap_km2"]
    assert protected["passed"] is False and ANP_NAME in protected["reason"]
    assert_allclose(protected["value"], check["area_km2"], rtol=1e-6)
    assert_allclose(check["excluded_km2_by_reason"]["protected_area"], check["area_km2"], rtol=1e-6)
    assert check["cell"] is None and check["available_fraction"] == 0.0


BAD_SITE_CHECKS = [
    ({"geometry": _OUTSIDE, "technology": "pv"}, "geometry"),
    ({"geometry": {"type": "Point"}, "technology": "pv"}, "geometry.coordinates"),
    ({"geometry": AGS_POLYGON, "technology": "hydro"}, "technology"),
    ({"technology": "pv"}, "geometry"),
    ({"geometry": AGS_POLYGON, "technology": "pv", "resolution_km": 0.0}, "resolution_km"),
    ({"geometry": AGS_POLYGON, "technology": "pv", "resolution_km": "2"}, "resolution_km"),
    ({"geometry": AGS_POLYGON, "technology": "pv", "resolution_km": 50,
      "parameters": {"exclusions": {"exclusion_resolution_m": 10}}}, "parameters.exclusions.exclusion_resolution_m"),
    ({"geometry": AGS_POLYGON, "technology": "pv", "parameters": {"exclusions": {"min_plant_mw": -1}}},
     "parameters.exclusions.min_plant_mw"),
]


def test_bad_site_checks_are_422(client, officer):
    for body, field in BAD_SITE_CHECKS:
        answer = client.post("/api/v1/sites/check", json=body, headers=officer)
        assert answer.status_code == 422 and answer.get_json()["field"] == field, (body, answer.get_json())


# --------------------------------------------------------------------------- one schema, API and CLI

_NAN = float("nan")  # json.dumps writes it as the literal NaN, which strict JSON refuses
_TEXAS_POINT = {"type": "Point", "coordinates": [-99.9, 31.1]}

#: (body, field, words in the detail) refused alike by POST /api/v1/screenings and fondo screen.
SCREENING_SCHEMA_CASES = [
    (_request(resolution_km=_NAN), "resolution_km", "NaN is not a JSON number"),
    (_request(geometry={"type": "Polygon", "coordinates": [[[_NAN, 21.8], [-102.2, 21.8],
                                                            [-102.2, 21.9], [_NAN, 21.8]]]}),
     "geometry.coordinates[0][0][0]", "NaN is not a JSON number"),
    (_request(resolution_km="2"), "resolution_km", "must be a number"),
    (_request(technology=5), "technology", "'pv' or 'wind'"),
    (_request(tile_cells=2.5), "tile_cells", "whole number"),
    (_request(geometry="POLYGON ((-102.4 21.75, -102.2 21.75, -102.2 21.93, -102.4 21.75))"),
     "geometry", "GeoJSON object"),
    (_request(parameters={"exclusions": {"urban_buffer_m": "1000"}}),
     "parameters.exclusions.urban_buffer_m", "must be a number"),
    (_request(parameters={"exclusions": {"exclude_dem_nodata": "yes"}}),
     "parameters.exclusions.exclude_dem_nodata", "true or false"),
    ({"geometry": AGS_POLYGON, "resolution_km": RESOLUTION_KM}, "technology", "is required"),
    ({"technology": "pv", "resolution_km": RESOLUTION_KM}, "geometry", "give a corridor"),
    (_request(colour="red"), "colour", "unknown field"),
    (_request(parameters={"exclusions": {"urban_buffer": 5}}), "parameters.exclusions.urban_buffer",
     "unknown parameter"),
    (_request(geometry=_OUTSIDE), "geometry", "outside Mexico"),
    ([_request()], "body", "JSON object"),
]

#: The same for POST /api/v1/sites/check and fondo sites check.
SITE_SCHEMA_CASES = [
    ({"geometry": {"type": "Point", "coordinates": [_NAN, 21.85]}, "technology": "pv"},
     "geometry.coordinates[0]", "NaN is not a JSON number"),
    ({"geometry": "POINT (-102.3 21.85)", "technology": "pv"}, "geometry", "GeoJSON object"),
    ({"geometry": {"type": "Point", "coordinates": list(AGS_CITY)}, "technology": ["pv"]},
     "technology", "'pv' or 'wind'"),
    ({"geometry": {"type": "Point", "coordinates": list(AGS_CITY)}, "technology": "pv",
      "parameters": {"weights": {"lcoe": True}}}, "parameters.weights.lcoe", "must be a number"),
    ({"technology": "pv"}, "geometry", "is required"),
    ({"geometry": {"type": "Point", "coordinates": list(AGS_CITY)}}, "technology", "is required"),
    ({"geometry": {"type": "Point", "coordinates": list(AGS_CITY)}, "technology": "pv",
      "radius_km": 5}, "radius_km", "unknown field"),
    ({"geometry": _TEXAS_POINT, "technology": "pv"}, "geometry", "outside Mexico"),
    ({"geometry": _OUTSIDE, "technology": "wind"}, "geometry", "outside Mexico"),
]


def _invoke(settings, tmp_path, *args, body):
    """Run ``fondo *args --input FILE`` with ``body`` (as JSON, NaN written as NaN) in FILE."""
    path = tmp_path / "input.json"
    path.write_text(json.dumps(body))
    env = {f"FONDO_{k}": str(settings[k]) for k in
           ("INSTANCE_PATH", "DATA_DIR", "DATABASE_URL", "BROKER_URL", "TASK_ALWAYS_EAGER")}
    return CliRunner().invoke(fondo_main, [*args, "--input", str(path)], env=env,
                              catch_exceptions=False)


@pytest.mark.parametrize(("url", "command", "cases"), [
    ("/api/v1/screenings", ("screen",), SCREENING_SCHEMA_CASES),
    ("/api/v1/sites/check", ("sites", "check"), SITE_SCHEMA_CASES),
], ids=["screening", "site-check"])
def test_bad_bodies_are_refused_alike_by_the_api_and_the_cli(client, settings, officer, tmp_path,
                                                               url, command, cases):
    before = _count_rows(settings)
    for body, field, words in cases:
        answer = client.post(url, data=json.dumps(body), headers=officer | {
            "Content-Type": "application/json"})
        problem = answer.get_json()
        assert answer.status_code == 422, (body, problem)
        assert answer.mimetype == "application/problem+json"
        assert problem["field"] == field and words in problem["detail"], (body, problem)
        result = _invoke(settings, tmp_path, *command, body=body)
        assert result.exit_code == 1, (body, result.output)
        line = result.output.strip()
        assert line.startswith("error:") and line.endswith(f"({field})"), (body, line)
        assert words in line, (body, line)
    assert _count_rows(settings) == before and not _screenings_dir(settings).exists()


def test_openapi_documents_the_screening_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert "/api/v1/screenings" in paths and "/api/v1/sites/check" in paths
    assert "/api/v1/screenings/{screening_id}/cells.{fmt}" in paths
    for path, name in [("/api/v1/screenings", "ScreeningRequest"),
                       ("/api/v1/sites/check", "SiteCheckRequest")]:
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["ScreeningRequest"]["required"]) == {"technology"}
    assert schemas["ScreeningRequest"]["properties"]["technology"]["enum"] == ["pv", "wind"]
    assert schemas["SiteCheckRequest"]["required"] == ["geometry", "technology"]
    # the parameters are documented field by field, with their units, from siting.parameters
    exclusions = schemas["ExclusionParameters"]["properties"]["urban_buffer_m"]
    assert exclusions["type"] == "number" and exclusions["minimum"] == 0
    assert exclusions["description"].endswith("[m]")
    assert schemas["ScreeningParameters"]["properties"]["max_cells"]["readOnly"] is True
    json.dumps(spec)
