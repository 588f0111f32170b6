"""``/api/v1/map``, the screening tiles and cells, ``/api/v1/sites`` and ``fondo map`` (issue 14).

Checked against independent computations: the screening's own cells (its GeoPackage export,
read with geopandas) located with shapely under each tested pixel and point; the colours of
matplotlib's colormaps; the site check and quick yield answered by their own endpoints
(``/api/v1/sites/check``, ``/api/v1/yield/pv``). Bad input is one 422 problem naming the
field, and nothing is stored; the CLI says the same in one line with a non-zero exit.
"""

from __future__ import annotations

import io
import json
import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from matplotlib import colormaps
from PIL import Image
from sqlalchemy import func, select
from tests_support import DATA_DIR

from fondo.cli import main as fondo_main
from fondo.db import session_scope
from fondo.fund.service import Project, Site
from fondo.orm import Technology
from fondo.screening import service as screening_service

#: A 0.2° x 0.18° box at the city of Aguascalientes, screened at 2 km (as test_screening_api).
AGS_POLYGON = {"type": "Polygon", "coordinates": [[
    [-102.4, 21.75], [-102.2, 21.75], [-102.2, 21.93], [-102.4, 21.93], [-102.4, 21.75]]]}
#: A point east of the city, outside its urban area (lon, lat). [°]
OPEN_POINT = (-102.21, 21.80)
PROBLEM = "application/problem+json"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """OpenStreetMap wiki's slippy-map tile of a point."""
    n = 2 ** z
    return (int((lon + 180.0) / 360.0 * n),
            int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n))


@pytest.fixture
def officer(auth_headers):
    return auth_headers("officer")


@pytest.fixture
def screened(client, settings, officer, tmp_path):
    """A finished 2 km PV screening of the Aguascalientes box and its cells (EPSG:6372)."""
    started = client.post("/api/v1/screenings", headers=officer, json={
        "geometry": AGS_POLYGON, "technology": "pv", "resolution_km": 2.0, "tile_cells": 100})
    assert started.status_code == 202, started.json
    screening_id = started.json["screening_id"]
    path = tmp_path / "cells.gpkg"
    with client.get(f"/api/v1/screenings/{screening_id}/cells.gpkg", headers=officer) as got:
        path.write_bytes(got.data)
    cells = gpd.read_file(path).to_crs(6372)
    return screening_id, cells


# --------------------------------------------------------------------------- layers


def test_layer_catalogue_lists_every_layer_with_its_sources(client, officer):
    answer = client.get("/api/v1/map/layers", headers=officer)
    assert answer.status_code == 200
    layers = {layer["id"]: layer for layer in answer.json["layers"]}
    assert set(layers) == {"corridors", "states", "municipalities", "grid_lines", "substations",
                           "protected_areas", "localities", "indigenous_municipalities",
                           "power_plants", "ghi", "wind"}
    for layer in layers.values():
        assert layer["sources"], layer["id"]
        assert all(s["licence"] and s["source"] for s in layer["sources"])
    assert layers["ghi"]["kind"] == "raster" and len(layers["ghi"]["legend"]) == 5


def test_layer_geojson_of_a_view(client, officer):
    answer = client.get("/api/v1/map/layers/states.geojson?zoom=9&bbox=-102.5,21.7,-102.0,22.1",
                        headers=officer)
    assert answer.status_code == 200
    assert answer.mimetype == "application/geo+json"
    states = gpd.read_file(DATA_DIR / "geo" / "corridor_states_inegi.geojson")
    expected = states[states.intersects(shapely.box(-102.5, 21.7, -102.0, 22.1))]["cve_ent"]
    assert sorted(f["properties"]["cve_ent"] for f in answer.json["features"]) == sorted(expected)


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/map/layers/nope.geojson?zoom=5", "layer"),
    ("/api/v1/map/layers/states.geojson?zoom=40", "zoom"),
    ("/api/v1/map/layers/states.geojson", "zoom"),
    ("/api/v1/map/layers/states.geojson?zoom=five", "zoom"),
    ("/api/v1/map/layers/states.geojson?zoom=5&bbox=1,2,3", "bbox"),
    ("/api/v1/map/layers/states.geojson?zoom=5&bbox=5,0,1,1", "bbox"),
    ("/api/v1/map/layers/states.geojson?zoom=5&bbox=a,b,c,d", "bbox"),
    ("/api/v1/map/resource/ghi/30/0/0.png", "z"),
    ("/api/v1/map/resource/ghi/3/9/0.png", "x"),
    ("/api/v1/map/resource/sun/3/1/1.png", "layer"),
    ("/api/v1/map/screening-parameters/coal", "technology"),
])
def test_bad_map_requests_are_problems_naming_the_field(client, officer, url, field):
    answer = client.get(url, headers=officer)
    assert answer.status_code == 422, answer.data
    assert answer.mimetype == PROBLEM
    assert answer.json["field"] == field


@pytest.mark.parametrize(("role", "status"), [("investor", 403), (None, 401)])
def test_the_map_api_is_for_staff(client, auth_headers, role, status):
    headers = auth_headers(role) if role else {}
    assert client.get("/api/v1/map/layers", headers=headers).status_code == status
    assert client.post("/api/v1/map/report", headers=headers,
                       json={"longitude": -102.3, "latitude": 21.85}).status_code == status


def test_resource_tile_colours_the_engines_ghi(client, officer, settings):
    from fondo.maps.rasters import RESOURCE_LATTICE_KM, resource_raster  # the same lattice
    from fondo.screening.service import screening_bundle
    from siting.parameters import default_parameters
    from siting.resource import ghi_kwh_m2_day

    z = 8
    x, y = _tile_of(*OPEN_POINT, z)
    answer = client.get(f"/api/v1/map/resource/ghi/{z}/{x}/{y}.png", headers=officer)
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    image = np.asarray(Image.open(io.BytesIO(answer.data)).convert("RGBA"))
    # Pixel (128, 128): its centre, taken to EPSG:6372, lies in one 5 km lattice square
    # whose centre's GHI the engine gives directly.
    size = 2 * math.pi * 6378137.0 / 2 ** z
    mx = -math.pi * 6378137.0 + x * size + 128.5 * size / 256
    my = math.pi * 6378137.0 - y * size - 128.5 * size / 256
    px, py = pyproj.Transformer.from_crs(3857, 6372, always_xy=True).transform(mx, my)
    step = RESOURCE_LATTICE_KM * 1000.0
    cx, cy = (math.floor(px / step) + 0.5) * step, (math.floor(py / step) + 0.5) * step
    lon, lat = pyproj.Transformer.from_crs(6372, 4326, always_xy=True).transform(cx, cy)
    layers = screening_bundle(settings).layers
    ghi = float(ghi_kwh_m2_day(np.array([lat]), np.array([lon]), np.array([cx]), np.array([cy]),
                               layers.stations, layers.station_xy_m, layers.merra2,
                               default_parameters("pv").resource)[0])
    assert 4.5 < ghi < 7.0
    index = int(np.clip((np.float32(ghi) - 4.5) / 2.5 * 255, 0, 255))
    expected = np.round(np.array(colormaps["inferno"](index / 255)[:3]) * 255)
    np.testing.assert_allclose(image[128, 128, :3], expected, atol=1)
    assert resource_raster(settings, "ghi").resolution_m == step


# --------------------------------------------------------------------------- screening tiles


def test_screening_tile_pixels_show_the_cell_under_them(client, officer, screened):
    screening_id, cells = screened
    z = 11
    x, y = _tile_of(-102.3, 21.84, z)
    answer = client.get(f"/api/v1/screenings/{screening_id}/tiles/{z}/{x}/{y}.png?by=score",
                        headers=officer)
    assert answer.status_code == 200
    assert "max-age" in answer.headers["Cache-Control"]
    image = np.asarray(Image.open(io.BytesIO(answer.data)).convert("RGBA"))
    size = 2 * math.pi * 6378137.0 / 2 ** z
    cols = rows = (np.arange(256) + 0.5) * size / 256
    mx, my = np.meshgrid(-math.pi * 6378137.0 + x * size + cols, math.pi * 6378137.0 - y * size - rows)
    px, py = pyproj.Transformer.from_crs(3857, 6372, always_xy=True).transform(mx, my)
    tree = shapely.STRtree(cells.geometry.values)
    lut = (colormaps["viridis"](np.linspace(0, 1, 256)) * 255).round().astype(int)
    seen = {"coloured": 0, "excluded": 0, "empty": 0}
    for row in range(2, 256, 9):
        for col in range(2, 256, 9):
            hits = tree.query(shapely.Point(px[row, col], py[row, col]), predicate="within")
            pixel = image[row, col].tolist()
            if hits.size == 0:
                assert pixel[3] == 0
                seen["empty"] += 1
                continue
            cell = cells.iloc[int(hits[0])]
            if cell["excluded"]:
                assert pixel == [110, 110, 110, 150]
                seen["excluded"] += 1
            else:
                index = int(np.clip(np.float32(cell["score"]) * 255, 0, 255))
                assert pixel == lut[index, :3].tolist() + [200]
                seen["coloured"] += 1
    assert min(seen.values()) > 0, seen  # the tile shows all three cases

    lcoe = client.get(f"/api/v1/screenings/{screening_id}/tiles/{z}/{x}/{y}.png?by=lcoe",
                      headers=officer)
    assert lcoe.status_code == 200 and lcoe.data != answer.data


def test_a_click_on_a_screening_finds_its_cell_and_reasons(client, officer, screened):
    screening_id, cells = screened
    excluded = cells[cells["excluded"]].iloc[0]
    available = cells[~cells["excluded"]].iloc[0]
    for cell in (excluded, available):
        centre = gpd.GeoSeries([cell.geometry.centroid], crs=6372).to_crs(4326).iloc[0]
        answer = client.get(f"/api/v1/screenings/{screening_id}/cell?longitude={centre.x}"
                            f"&latitude={centre.y}", headers=officer)
        assert answer.status_code == 200
        assert answer.json["cell_id"] == cell["cell_id"]
        expected = [r for r in str(cell["exclusion_reasons"] or "").split("; ") if r]
        assert answer.json["exclusion_reasons"] == expected
        assert answer.json["excluded"] is bool(cell["excluded"])
    outside = client.get(f"/api/v1/screenings/{screening_id}/cell?longitude=-100&latitude=25",
                         headers=officer)
    assert outside.status_code == 404 and outside.mimetype == PROBLEM
    bad = client.get(f"/api/v1/screenings/{screening_id}/cell?longitude=500&latitude=25",
                     headers=officer)
    assert bad.status_code == 422 and bad.json["field"] == "longitude"
    legend = client.get(f"/api/v1/screenings/{screening_id}/legend", headers=officer).json
    assert legend["lcoe"]["legend"][0]["value"] == 20.0  # the score's lcoe_best (siting.parameters)
    assert legend["lcoe"]["legend"][-1]["value"] == 120.0


def test_tiles_of_a_screening_that_has_not_finished_are_a_conflict(client, settings, officer):
    with session_scope(settings) as session:
        request = screening_service.ScreeningRequestSchema().load(
            {"geometry": AGS_POLYGON, "technology": "pv", "resolution_km": 2.0})
        run, _job = screening_service.create_screening(session, settings, request)
        run_id = run.id
    answer = client.get(f"/api/v1/screenings/{run_id}/tiles/10/220/450.png", headers=officer)
    assert answer.status_code == 409 and answer.mimetype == PROBLEM
    assert client.get("/api/v1/screenings/999999/tiles/10/220/450.png",
                      headers=officer).status_code == 404


def test_bad_tile_colouring_is_refused(client, officer, screened):
    screening_id, _cells = screened
    answer = client.get(f"/api/v1/screenings/{screening_id}/tiles/10/1/1.png?by=price",
                        headers=officer)
    assert answer.status_code == 422 and answer.json["field"] == "by"


# --------------------------------------------------------------------------- point report


def test_point_report_is_the_site_check_and_a_quick_yield_per_mw(client, officer):
    lon, lat = OPEN_POINT
    report = client.post("/api/v1/map/report", headers=officer,
                         json={"longitude": lon, "latitude": lat, "technology": "pv"})
    assert report.status_code == 200, report.json
    check = client.post("/api/v1/sites/check", headers=officer, json={
        "geometry": {"type": "Point", "coordinates": [lon, lat]}, "technology": "pv"}).json
    assert report.json["check"]["constraints"] == check["constraints"]
    assert report.json["check"]["nearest_station"] == check["nearest_station"]
    quick = client.post("/api/v1/yield/pv", headers=officer,
                        json={"lat": lat, "lon": lon, "capacity_dc_kw": 1000.0}).json
    assert report.json["quick_yield"]["energy_mwh_per_mw"] == pytest.approx(
        quick["energy_annual_kwh"] / 1000.0, rel=1e-12)
    assert report.json["quick_yield"]["station"]["id"] == quick["station"]["id"]


@pytest.mark.parametrize(("body", "field"), [
    ({"longitude": -60.0, "latitude": 10.0}, "longitude"),
    ({"longitude": -102.3}, "latitude"),
    ({"longitude": "west", "latitude": 21.0}, "longitude"),
    ({"longitude": -102.3, "latitude": 95.0}, "latitude"),
    ({"longitude": -102.3, "latitude": 21.85, "technology": "coal"}, "technology"),
    ({"longitude": -102.3, "latitude": 21.85, "colour": "red"}, "colour"),
])
def test_bad_points_are_refused_naming_the_field(client, officer, body, field):
    answer = client.post("/api/v1/map/report", headers=officer, json=body)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"] == field


def test_analysts_read_the_map_but_do_not_check_points(client, auth_headers):
    analyst = auth_headers("analyst")
    assert client.get("/api/v1/map/layers", headers=analyst).status_code == 200
    assert client.post("/api/v1/map/report", headers=analyst,
                       json={"longitude": -102.3, "latitude": 21.85}).status_code == 403


# --------------------------------------------------------------------------- sites


def _project(settings, technology="pv") -> int:
    with session_scope(settings) as session:
        project = Project(name="Parque Llanos", technology=Technology(technology))
        session.add(project)
        session.flush()
        return project.id


def _site_count(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(Site))


def test_a_drawn_polygon_is_checked_and_saved_linked_to_its_project(client, settings, officer):
    project_id = _project(settings)
    polygon = {"type": "Polygon", "coordinates": [[[-102.22, 21.79], [-102.20, 21.79],
                                                   [-102.20, 21.81], [-102.22, 21.81],
                                                   [-102.22, 21.79]]]}
    answer = client.post("/api/v1/sites", headers=officer, json={
        "name": "Llanos <b>norte</b>", "geometry": polygon, "technology": "pv",
        "project_id": project_id})
    assert answer.status_code == 201, answer.json
    site = answer.json
    assert answer.headers["Location"] == f"/api/v1/sites/{site['id']}"
    assert site["name"] == "Llanos <b>norte</b>"  # stored as typed, escaped where shown
    assert site["project_ids"] == [project_id] and site["corridor"] == "bajio"
    area = gpd.GeoSeries([shapely.geometry.shape(polygon)], crs=4326).to_crs(6372).area.iloc[0]
    assert site["area_km2"] == pytest.approx(area / 1e6, rel=1e-6)
    check = client.post("/api/v1/sites/check", headers=officer,
                        json={"geometry": polygon, "technology": "pv"}).json
    assert site["check"]["constraints"] == check["constraints"]
    with session_scope(settings) as session:
        assert session.get(Project, project_id).site_id == site["id"]
    assert client.get(f"/api/v1/sites/{site['id']}", headers=officer).json["id"] == site["id"]
    listed = client.get("/api/v1/sites", headers=auth_analyst(client, settings)).json["sites"]
    assert [s["id"] for s in listed] == [site["id"]]


def auth_analyst(client, settings):
    from fondo.accounts.service import create_token, create_user

    with session_scope(settings) as session:
        create_user(session, "analyst-sites@example.org", "analyst", "correct horse")
        token = create_token(session, "analyst-sites@example.org", "test")
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "   "}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Sitio\x00norte"}, "name"),  # PostgreSQL text holds no NUL
    ({"geometry": {"type": "Point", "coordinates": [-60.0, 10.0]}}, "geometry"),
    ({"geometry": {"type": "Point"}}, "geometry"),
    ({"technology": "coal"}, "technology"),
    ({"project_id": 999_999}, "project_id"),
    ({"project_id": "wind"}, "project_id"),
])
def test_bad_sites_are_refused_naming_the_field_and_nothing_is_stored(client, settings, officer,
                                                                      change, field):
    body = {"name": "Sitio", "geometry": {"type": "Point", "coordinates": list(OPEN_POINT)},
            "technology": "pv"} | change
    answer = client.post("/api/v1/sites", headers=officer, json=body)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"].split(".")[0] == field  # geometry.coordinates is finer still
    assert _site_count(settings) == 0


def test_a_site_for_a_project_of_the_other_technology_is_refused(client, settings, officer):
    project_id = _project(settings, "wind")
    answer = client.post("/api/v1/sites", headers=officer, json={
        "name": "Sitio", "geometry": {"type": "Point", "coordinates": list(OPEN_POINT)},
        "technology": "pv", "project_id": project_id})
    assert answer.status_code == 422 and answer.json["field"] == "project_id"
    assert _site_count(settings) == 0


def test_analysts_may_not_save_sites(client, auth_headers):
    answer = client.post("/api/v1/sites", headers=auth_headers("analyst"), json={
        "name": "Sitio", "geometry": {"type": "Point", "coordinates": list(OPEN_POINT)},
        "technology": "pv"})
    assert answer.status_code == 403


# --------------------------------------------------------------------------- CLI


def _cli(settings, args, stdin=None):
    env = {"FONDO_INSTANCE_PATH": settings["INSTANCE_PATH"],
           "FONDO_DATABASE_URL": settings["DATABASE_URL"], "FONDO_DATA_DIR": settings["DATA_DIR"]}
    return CliRunner().invoke(fondo_main, args, input=stdin, env=env)


def test_the_cli_prints_what_the_api_answers(client, settings, officer):
    body = {"longitude": OPEN_POINT[0], "latitude": OPEN_POINT[1], "technology": "pv"}
    printed = _cli(settings, ["map", "report", "--input", "-"], json.dumps(body))
    assert printed.exit_code == 0, printed.output
    api = client.post("/api/v1/map/report", headers=officer, json=body).json
    assert json.loads(printed.output) == api
    layer = _cli(settings, ["map", "layer", "states", "--zoom", "5"])
    assert json.loads(layer.output)["feature_count"] == 8
    saved = _cli(settings, ["map", "save-site", "--input", "-"], json.dumps(
        {"name": "Desde la terminal", "technology": "pv",
         "geometry": {"type": "Point", "coordinates": list(OPEN_POINT)}}))
    assert saved.exit_code == 0, saved.output
    site_id = json.loads(saved.output)["id"]
    assert client.get(f"/api/v1/sites/{site_id}", headers=officer).json["name"] == "Desde la terminal"


@pytest.mark.parametrize(("args", "stdin", "says"), [
    (["map", "report", "--input", "-"], '{"longitude": -60, "latitude": 10}', "(longitude)"),
    (["map", "save-site", "--input", "-"], '{"name": " ", "technology": "pv", "geometry": '
     '{"type": "Point", "coordinates": [-102.2, 21.8]}}', "(name)"),
    (["map", "layer", "nope", "--zoom", "5"], None, "(layer)"),
    (["map", "layer", "states", "--zoom", "5", "--bbox", "1,2"], None, "(bbox)"),
])
def test_bad_cli_input_is_one_line_and_a_failure(settings, args, stdin, says):
    result = _cli(settings, args, stdin)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], result.output
    assert _site_count(settings) == 0
