"""Yield shell services: station catalogue and choice, weather cache, validation, stored
studies, the CLI — on SQLite and PostgreSQL.

Numbers are checked against the pure engine called directly on the same bundled file
(the service must add nothing to them) and against hand-worked geography (which corridor
and which station a site gets).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from marshmallow import ValidationError, validate
from numpy.testing import assert_allclose

from fondo.db import session_scope
from fondo.errors import InvalidInput
from fondo.studies import service as svc
from fondo.studies.runs import REQUEST_CLASSES
from fondo.studies.schemas import REQUEST_SCHEMAS, JSONInteger
from siting.weather import choose_station, haversine_km, parse_epw
from siting.yield_study import PVRequest, YieldInputError, run_pv_study
from tests_support import DATA_DIR

#: The service passes the engine's numbers through unchanged. [-]
SAME_RTOL = 1e-12
#: León, Guanajuato (Bajío corridor), a site with no station of its own.
LEON = {"lat": 21.12, "lon": -101.68}
PV_BODY = LEON | {"capacity_dc_kw": 1000.0, "dc_ac_ratio": 1.2, "tilt_deg": 20.0,
                  "azimuth_deg": 180.0, "tracking": "fixed", "gcr": 0.4,
                  "system_losses": 0.14}
#: Near Reynosa, Tamaulipas (northeast corridor).
WIND_BODY = {"lat": 25.9, "lon": -98.1, "turbine_type": "V126/3300", "hub_height_m": 117.0,
             "turbine_count": 5, "roughness_length_m": 0.1}


def _epw_bytes(wmo: str) -> tuple[bytes, str]:
    path = next((DATA_DIR / "weather").glob(f"*.{wmo}_TMYx*.epw"))
    return path.read_bytes(), path.name


def _gappy_reader(settings, row) -> bytes:
    """The station's real file with the line of hour 100 removed (a gap)."""
    lines = (Path(settings["DATA_DIR"]) / row.file).read_bytes().split(b"\n")
    del lines[8 + 99]  # 8 header lines, then hour 1 …
    return b"\n".join(lines)


def test_catalogue_is_the_bundled_files(settings):
    files = sorted((DATA_DIR / "weather").glob("*.epw"))
    with session_scope(settings) as session:
        stations = svc.stations_json(session)["stations"]
    assert len(stations) == len(files)
    by_id = {s["id"]: s for s in stations}
    # the LOCATION line of the Aguascalientes file: 765710, 21.8511 N, -102.2911, 1877 m
    agu = by_id["765710"]
    assert (agu["latitude"], agu["longitude"], agu["elevation_m"]) == (21.8511, -102.2911, 1877.0)
    assert agu["corridor"] == "bajio" and by_id["763930"]["corridor"] == "noreste"


def test_station_choice_nearest_in_corridor(settings):
    with session_scope(settings) as session:
        prepared = svc.prepare(settings, session, "pv", PV_BODY)
        rows = svc.station_rows(session)
    assert prepared.corridor == "bajio"
    bajio = [r for r in rows if r.corridor_id == "bajio"]
    distances = [haversine_km(LEON["lat"], LEON["lon"], r.latitude, r.longitude) for r in bajio]
    nearest = bajio[int(np.argmin(distances))]
    assert prepared.station.station_id == nearest.id
    assert_allclose(prepared.distance_km, min(distances), rtol=SAME_RTOL)
    # site elevation from the bundled DEM, difference reported against the station
    assert prepared.site_elevation_source == "dem_corridor_1km"
    assert_allclose(prepared.elevation_difference_m,
                    prepared.request.site_elevation_m - nearest.elevation_m, rtol=SAME_RTOL)


def test_station_id_forces_the_choice(settings):
    with session_scope(settings) as session:
        prepared = svc.prepare(settings, session, "pv", PV_BODY | {"station_id": "763930"})
    assert prepared.station.station_id == "763930" and prepared.distance_km > 500


def test_weather_cache_by_sha256(settings):
    with session_scope(settings) as session:
        row = next(r for r in svc.station_rows(session) if r.id == "765770")
        first, _ = svc.load_weather(settings, row)
        second, station = svc.load_weather(settings, row)
    assert first is second and station.corridor == "bajio"


def test_quick_pv_equals_engine(settings):
    with session_scope(settings) as session:
        out = svc.run_quick(settings, session, "pv", PV_BODY)
        rows = svc.station_rows(session)
    # the engine on the same file, station and elevation, called directly
    row = next(r for r in rows if r.id == out["station"]["id"])
    frame, _ = parse_epw((DATA_DIR / row.file).read_bytes(), row.file)
    stations = [svc.station_from_row(r) for r in rows]
    choice = choose_station(stations, LEON["lat"], LEON["lon"], corridor="bajio",
                            site_elevation_m=out["request"]["site_elevation_m"])
    request = PVRequest.from_dict(PV_BODY | {"site_elevation_m":
                                             out["request"]["site_elevation_m"]})
    # scaled to the same long-term resource as the screening cell there (issue 16)
    site = svc.long_term_resource(settings, LEON["lat"], LEON["lon"])
    direct = run_pv_study(request, frame, choice.station, choice.distance_km,
                          elevation_difference_m=choice.elevation_difference_m, resource=site).to_dict()
    assert out["resource_method"] == direct["resource_method"] == "merra2_station_idw"
    assert out["resource_confidence"] == direct["resource_confidence"] == site["pv_confidence"]
    for key in ("energy_annual_kwh", "capacity_factor", "p50_kwh", "p90_kwh"):
        assert_allclose(out[key], direct[key], rtol=SAME_RTOL)
    assert_allclose(out["energy_monthly_kwh"], direct["energy_monthly_kwh"], rtol=SAME_RTOL)
    assert out["station"]["name"] == choice.station.name


@pytest.mark.parametrize("technology, body", [
    ("pv", {"lat": 25.79, "lon": -100.41, "capacity_dc_kw": 5000.0, "tracking": "single_axis"}),
    ("wind", {"lat": 23.3497, "lon": -101.35142, "turbine_type": "V90/2000", "hub_height_m": 80.0,
              "turbine_count": 50}),
])
def test_quick_answer_is_the_stored_detailed_study(settings, technology, body):
    """Issue 16: the quick path (caches warm) agrees with the stored study within 0.1 %."""
    with session_scope(settings) as session:
        quick = svc.run_quick(settings, session, technology, body)
        _job, study = svc.create_study(settings, session, {"technology": technology, "request": body})
        study_id = study.id
    svc.clear_caches()
    stored = svc.run_stored_study(settings, study_id)["result"]
    for key in ("energy_annual_kwh", "p50_kwh", "p90_kwh"):
        assert_allclose(quick[key], stored[key], rtol=1e-3)
    assert quick["resource_method"] == stored["resource_method"]
    assert quick["resource_confidence"] == stored["resource_confidence"]
    assert 0.0 < quick["resource_confidence"] <= 1.0


def test_quick_wind_says_how(settings):
    with session_scope(settings) as session:
        out = svc.run_quick(settings, session, "wind", WIND_BODY)
    a = out["assumptions"]
    assert a["density_correction_method"] == "sam"
    assert "lib_windwatts" in a["density_correction_source"]
    assert out["station"]["id"] == "763503"  # Reynosa, nearest in the northeast corridor
    assert len(out["energy_monthly_kwh"]) == 12
    assert_allclose(sum(out["energy_monthly_kwh"]), out["energy_annual_kwh"], rtol=1e-12)


BAD = [
    ("pv", PV_BODY | {"lat": 40.0}, "lat"),
    ("pv", PV_BODY | {"lat": 30.5, "lon": -98.0}, "lat"),  # Texas, inside INEGI's bbox
    ("pv", PV_BODY | {"capacity_dc_kw": 0}, "capacity_dc_kw"),
    ("pv", PV_BODY | {"tilt_deg": 95}, "tilt_deg"),
    ("pv", PV_BODY | {"dc_ac_ratio": 2.6}, "dc_ac_ratio"),
    ("pv", PV_BODY | {"station_id": "999999"}, "station_id"),
    ("wind", WIND_BODY | {"turbine_type": "NOPE/1"}, "turbine_type"),
    ("wind", WIND_BODY | {"hub_height_m": 5.0}, "hub_height_m"),
    ("wind", WIND_BODY | {"hub_height_m": 260.0}, "hub_height_m"),
]


@pytest.mark.parametrize("technology, body, field", BAD)
def test_bad_input_names_field_and_stores_nothing(settings, technology, body, field):
    with session_scope(settings) as session:
        with pytest.raises(InvalidInput) as caught:
            svc.create_study(settings, session, {"technology": technology, "request": body})
        assert caught.value.field == field
        assert svc.count_studies(session) == 0


def test_gappy_weather_file_is_422_and_stores_nothing(settings):
    with session_scope(settings) as session:
        with pytest.raises(InvalidInput) as caught:
            svc.create_study(settings, session, {"technology": "pv", "request": PV_BODY},
                             read_weather=_gappy_reader)
        assert svc.count_studies(session) == 0
    error = caught.value
    assert error.field == "weather_file" and error.extra["hour"] == 100
    assert error.extra["weather_file"].endswith(".epw") and "hour 100" in error.detail
    # the cached, verified bundled file is untouched by the damaged copy
    with session_scope(settings) as session:
        assert svc.run_quick(settings, session, "pv", PV_BODY)["energy_annual_kwh"] > 0


def test_weather_from_bytes_negative_irradiance():
    data, name = _epw_bytes("765710")
    lines = data.split(b"\n")
    fields = lines[8 + 11].split(b",")  # hour 12, around noon
    fields[14] = b"-50"  # direct normal irradiance
    lines[8 + 11] = b",".join(fields)
    with pytest.raises(InvalidInput) as caught:
        svc.weather_from_bytes(b"\n".join(lines), name)
    assert caught.value.field == "weather_file" and caught.value.extra["hour"] == 12


def test_stored_study_idempotent(settings):
    with session_scope(settings) as session:
        _job, study = svc.create_study(settings, session, {"technology": "wind",
                                                           "request": WIND_BODY})
        study_id = study.id
        stored_request = dict(study.request)
    assert stored_request["station_id"] == "763503" and stored_request["site_elevation_m"]
    stages = []
    first = svc.run_stored_study(settings, study_id, lambda d, t, s: stages.append(s))
    assert stages == ["loading weather", "simulating", "writing hourly series", "done"]
    path = Path(settings["INSTANCE_PATH"]) / "studies" / f"{study_id}.csv"
    before = path.read_bytes()
    again = svc.run_stored_study(settings, study_id)
    assert again == first and path.read_bytes() == before
    assert not list(path.parent.glob("*.tmp"))
    with session_scope(settings) as session:
        study = svc.get_study(session, study_id)
        assert svc.count_studies(session) == 1
        assert_allclose(study.energy_p50_mwh, study.result["p50_kwh"] / 1000, rtol=SAME_RTOL)
        assert_allclose(study.energy_p90_mwh, study.result["p90_kwh"] / 1000, rtol=SAME_RTOL)


def test_cli_yield_pv_prints_the_api_json(settings):
    from fondo.cli import main

    result = CliRunner().invoke(main, ["yield", "pv", "--input", "-"],
                                input=json.dumps(PV_BODY), obj={"settings": settings})
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    with session_scope(settings) as session:
        direct = svc.run_quick(settings, session, "pv", PV_BODY)
    assert out == json.loads(json.dumps(direct))


def test_cli_bad_input_exits_non_zero(settings):
    from fondo.cli import main

    result = CliRunner().invoke(main, ["yield", "wind", "--input", "-"],
                                input=json.dumps(WIND_BODY | {"hub_height_m": 300}),
                                obj={"settings": settings})
    assert result.exit_code == 1
    assert "hub_height_m" in result.output


# ------------------------------------------------------------------ request schemas


def _range_bounds(schema):
    """(field name, lower, upper, lower inclusive, upper inclusive, integer) of each bound."""
    for name, field in schema().fields.items():
        for check in field.validators:
            if isinstance(check, validate.Range):
                yield (name, check.min, check.max, check.min_inclusive, check.max_inclusive,
                       isinstance(field, JSONInteger))


def _engine_accepts(request_class, body, name) -> bool:
    try:
        request_class.from_dict(body)
    except YieldInputError as exc:
        assert exc.field == name, (exc.field, name)
        return False
    return True


def _schema_accepts(schema, body, name) -> bool:
    try:
        schema().load(body)
    except ValidationError as exc:
        assert list(exc.messages) == [name], exc.messages
        return False
    return True


@pytest.mark.parametrize("technology, base", [("pv", LEON | {"capacity_dc_kw": 1000.0}),
                                              ("wind", WIND_BODY)])
def test_schema_bounds_are_the_engines(technology, base):
    """On each bound and one step outside it, the schema and the engine agree."""
    schema, request_class = REQUEST_SCHEMAS[technology], REQUEST_CLASSES[technology]
    checked = 0
    for name, low, high, low_in, high_in, integer in _range_bounds(schema):
        for bound, inclusive, outward in ((low, low_in, -math.inf), (high, high_in, math.inf)):
            if bound is None:
                continue
            outside = bound + math.copysign(1, outward) if integer else math.nextafter(bound,
                                                                                      outward)
            for value, accepted in ((bound, inclusive), (outside, False)):
                body = base | {name: value}
                assert _schema_accepts(schema, body, name) is accepted, (name, value)
                assert _engine_accepts(request_class, body, name) is accepted, (name, value)
                checked += 1
    assert checked >= 20


def test_null_optional_fields_mean_the_engines_defaults():
    body = PV_BODY | {"tilt_deg": None, "station_id": None, "operating_year": None}
    loaded = REQUEST_SCHEMAS["pv"]().load(body)
    assert PVRequest.from_dict(loaded) == PVRequest.from_dict(
        {k: v for k, v in PV_BODY.items() if k != "tilt_deg"})


# ------------------------------------------------------------------ command line


def _fresh_instance_env(tmp_path: Path) -> dict[str, str | None]:
    """Environment of a never-served instance folder: no FONDO_* but the folder and data."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FONDO_")}
    return env | {"FONDO_INSTANCE_PATH": str(tmp_path / "fresh-instance"),
                  "FONDO_DATA_DIR": str(DATA_DIR)}


def test_cli_yield_pv_on_a_fresh_instance_answers_json(tmp_path):
    from fondo.cli import main

    path = tmp_path / "pv.json"
    path.write_text(json.dumps(PV_BODY))
    result = CliRunner().invoke(main, ["yield", "pv", "--input", str(path)],
                                env=_fresh_instance_env(tmp_path))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["station"]["corridor"] == "bajio" and out["energy_annual_kwh"] > 0
    assert (tmp_path / "fresh-instance" / "fondo.sqlite").exists()


@pytest.mark.parametrize("command, text, field", [
    ("pv", json.dumps(PV_BODY).replace("1000.0", "NaN"), "capacity_dc_kw"),
    ("pv", json.dumps(PV_BODY).replace("1000.0", "Infinity"), "capacity_dc_kw"),
    ("pv", '{"lat": 21.12, "lat": 21.2, "lon": -101.68, "capacity_dc_kw": 1000}', "lat"),
    ("pv", json.dumps(PV_BODY | {"capacity_dc_kw": "1000"}), "capacity_dc_kw"),
    ("pv", json.dumps(PV_BODY | {"tilt_deg": True}), "tilt_deg"),
    ("pv", json.dumps({k: v for k, v in PV_BODY.items() if k != "capacity_dc_kw"}),
     "capacity_dc_kw"),
    ("pv", json.dumps(PV_BODY | {"capacity_dc_kw": -1000}), "capacity_dc_kw"),
    ("pv", json.dumps(PV_BODY | {"capacity_kw": 1000}), "capacity_kw"),
    ("wind", json.dumps(WIND_BODY | {"turbine_count": 2.5}), "turbine_count"),
    ("wind", json.dumps(WIND_BODY | {"land_cover": "moon"}), "land_cover"),
])
def test_cli_refuses_a_bad_body_in_one_line_naming_the_field(settings, command, text, field):
    from fondo.cli import main

    result = CliRunner().invoke(main, ["yield", command, "--input", "-"], input=text,
                                obj={"settings": settings})
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:")
    assert result.stderr.rstrip().endswith(f"({field})"), result.stderr
