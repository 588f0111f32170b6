"""Weather parsing, quality checks, stacking and station choice."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ellipe

from siting.weather import (HOURS_PER_YEAR, STATION_CORRIDORS, Station, WeatherFileError,
                            choose_station, haversine_km, parse_epw, stack_weather)

#: Coordinates are copied from the LOCATION lines; tolerance for float parsing.
COORD_ATOL_DEG = 1e-6
#: The same distance computed twice (symmetry, broadcasting).
DISTANCE_RTOL = 1e-9
#: Published geodesic distances are given to the millimetre (19959679.267 m). [-]
PUBLISHED_DISTANCE_RTOL = 1e-10
#: WGS84 defining parameters (NIMA TR8350.2): semi-major axis [m] and flattening [-].
WGS84_SEMI_MAJOR_AXIS_M = 6378137.0
WGS84_FLATTENING = 1.0 / 298.257223563
#: Meridian arc by the midpoint radius of curvature, rounded to 1 cm over 110 km. [-]
MERIDIAN_ARC_RTOL = 1e-6
#: Largest relative gap between the WGS84 geodesic and the mean-radius sphere. [-]
SPHERE_RTOL = 0.005

AGUASCALIENTES = "765710"

# data/SOURCES-weather.md tables: WMO → (lat, lon, elevation_m)
SOURCES_TABLE = {
    "765710": (21.8511, -102.2911, 1877.0), "765770": (21.0140, -101.2660, 1999.0),
    "766250": (20.5634, -100.3694, 1880.0), "765390": (22.1758, -100.9875, 1883.0),
    "766120": (20.6670, -103.3830, 1551.0), "765260": (22.7500, -102.5000, 2440.0),
    "763930": (25.6825, -100.2717, 515.0), "763900": (25.3514, -101.0239, 1790.0),
    "763420": (26.9003, -101.4339, 615.0), "762430": (28.6270, -100.5350, 274.6),
    "763820": (25.5200, -103.4161, 1124.1), "762863": (27.4440, -99.5700, 147.5),
    "763503": (26.0090, -98.2290, 42.4), "763990": (25.8670, -97.5170, 12.0),
    "764910": (23.7330, -99.1330, 355.0), "765480": (22.2000, -97.8500, 25.0),
}


def _lines(path):
    return path.read_bytes().decode().splitlines(keepends=True)


def _edit(path, row, column, value):
    """Bytes of an EPW with data row ``row`` (0-based) field ``column`` replaced."""
    lines = _lines(path)
    k = 8 + row
    fields = lines[k].rstrip("\r\n").split(",")
    fields[column] = value
    ending = lines[k][len(lines[k].rstrip("\r\n")):]
    lines[k] = ",".join(fields) + ending
    return "".join(lines).encode()


def test_all_bundled_files_parse(parsed):
    assert set(parsed) == set(SOURCES_TABLE)
    for wmo, (frame, station) in parsed.items():
        assert len(frame) == HOURS_PER_YEAR
        lat, lon, elev = SOURCES_TABLE[wmo]
        np.testing.assert_allclose([station.latitude, station.longitude], [lat, lon],
                                   atol=COORD_ATOL_DEG)
        assert station.elevation_m == pytest.approx(elev)
        assert station.station_id == wmo
        assert station.corridor == STATION_CORRIDORS[wmo]
        assert frame.index.tz is not None


def test_time_label_is_interval_start_and_values_match_file(parsed, epw_paths):
    frame, station = parsed[AGUASCALIENTES]
    assert frame.index[0] == pd.Timestamp("2019-01-01 00:00", tz="Etc/GMT+6")
    assert frame.index[-1] == pd.Timestamp("2019-12-31 23:00", tz="Etc/GMT+6")
    # first data line: 2019,1,1,1,0,...,6.80 (temp),...,81068 (Pa),...,2.70 (wind)
    first = _lines(epw_paths[AGUASCALIENTES])[8].split(",")
    assert frame["temp_air"].iloc[0] == float(first[6]) == 6.8
    assert frame["atmospheric_pressure"].iloc[0] == float(first[9]) == 81068.0
    assert frame["wind_speed"].iloc[0] == float(first[21]) == 2.7
    assert station.name == "Aguascalientes, AGU"


def test_missing_hour_is_named(epw_paths):
    path = epw_paths[AGUASCALIENTES]
    lines = _lines(path)
    del lines[8 + 100]  # drop hour 101 (Jan 5 04:00-05:00)
    with pytest.raises(WeatherFileError) as err:
        parse_epw("".join(lines).encode(), path.name)
    assert err.value.field == "hour" and err.value.hour == 101
    assert path.name in str(err.value) and "hour 101" in str(err.value)


def test_truncated_file_is_named(epw_paths):
    path = epw_paths[AGUASCALIENTES]
    lines = _lines(path)[: 8 + 8000]
    with pytest.raises(WeatherFileError) as err:
        parse_epw("".join(lines).encode(), path.name)
    assert err.value.field == "hour" and err.value.hour == 8001


@pytest.mark.parametrize("column, value, field", [
    (13, "-5", "ghi"),            # negative irradiance
    (13, "1600", "ghi"),          # GHI above 1500 W/m²
    (14, "1500", "dni"),          # DNI above the solar constant at perihelion
    (15, "9999", "dhi"),          # missing-value sentinel
    (6, "99.9", "temp_air"),      # EPW missing temperature
    (21, "999", "wind_speed"),    # EPW missing wind
    (21, "-1", "wind_speed"),
    (9, "999999", "atmospheric_pressure"),
])
def test_impossible_values_are_named(epw_paths, column, value, field):
    path = epw_paths[AGUASCALIENTES]
    data = _edit(path, 4000, column, value)
    with pytest.raises(WeatherFileError) as err:
        parse_epw(data, path.name)
    assert err.value.field == field and err.value.hour == 4001
    assert err.value.source == path.name
    assert field in str(err.value) and "4001" in str(err.value)


def test_not_an_epw():
    with pytest.raises(WeatherFileError, match="bad.epw"):
        parse_epw(b"hello,world\n1,2,3\n", "bad.epw")
    with pytest.raises(TypeError):
        parse_epw("text, not bytes")


def test_stack_weather(weather_stack, parsed):
    w = weather_stack
    assert w.ghi.shape == (16, HOURS_PER_YEAR) and w.pressure.shape == (16, HOURS_PER_YEAR)
    assert w.wind_height_m == 10.0
    k = w.index_of(AGUASCALIENTES)
    frame, _ = parsed[AGUASCALIENTES]
    np.testing.assert_array_equal(w.dni[k], frame["dni"].to_numpy())
    with pytest.raises(ValueError, match="station_id"):
        w.index_of("000000")


def test_stack_weather_rejects_bad_input(parsed):
    frame, station = parsed[AGUASCALIENTES]
    with pytest.raises(ValueError, match="at least one"):
        stack_weather([])
    with pytest.raises(ValueError, match="duplicated"):
        stack_weather([(station, frame), (station, frame)])
    other = Station("1", "x", 20.0, -100.0, 0.0)
    with pytest.raises(ValueError, match="common"):
        stack_weather([(station, frame), (other, frame.iloc[:-1])])


def test_geodesic_distance_published_values():
    # GeographicLib documentation example (Karney): Wellington, NZ (41.32 S, 174.81 E) to
    # Salamanca, Spain (40.96 N, 5.50 W) on WGS84 is 19959679.267 m.
    np.testing.assert_allclose(haversine_km(-41.32, 174.81, 40.96, -5.50), 19959.679267,
                               rtol=PUBLISHED_DISTANCE_RTOL)
    # WGS84 quarter meridian, equator to pole, is a quarter of the meridian ellipse:
    # a·E(e²) with the complete elliptic integral of the second kind,
    # 6378137 m · E(0.00669438) = 10001965.729 m.
    e2 = WGS84_FLATTENING * (2.0 - WGS84_FLATTENING)
    quarter_meridian_km = WGS84_SEMI_MAJOR_AXIS_M * ellipe(e2) / 1000.0
    np.testing.assert_allclose(quarter_meridian_km, 10001.965729, rtol=PUBLISHED_DISTANCE_RTOL)
    np.testing.assert_allclose(haversine_km(0.0, -100.0, 90.0, -100.0), quarter_meridian_km,
                               rtol=DISTANCE_RTOL)


def test_geodesic_vs_sphere_over_mexico():
    # 1° of meridian at 20–21° N by hand: e² = f(2 - f) = 0.00669438, meridian radius
    # at the midpoint 20.5° N M = a(1 - e²)/(1 - e² sin²φ)^1.5 = 6335439.33 / 0.99876870 = 6343249.76 m,
    # arc = M·π/180 = 110710.59 m (the midpoint rule is exact to 2e-7 here).
    # That is 0.43 % below the 111.19508 km of the sphere of radius 6371.0088 km.
    sphere_km = 6371.0088 * math.pi / 180.0
    d = haversine_km(20.0, -100.0, 21.0, -100.0)
    assert sphere_km * (1 - SPHERE_RTOL) < d < sphere_km
    np.testing.assert_allclose(d, 110.71059, rtol=MERIDIAN_ARC_RTOL)
    # vectorized: scalars against arrays broadcast, Series keep their index
    lat = pd.Series([21.0, 22.0], index=["a", "b"])
    out = haversine_km(20.0, -100.0, lat, -100.0)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"]
    np.testing.assert_allclose(out.to_numpy(), haversine_km(20.0, -100.0, lat.to_numpy(),
                                                            np.full(2, -100.0)),
                               rtol=DISTANCE_RTOL)
    with pytest.raises(ValueError, match="lat2 must lie in"):
        haversine_km(20.0, -100.0, 95.0, -100.0)


@settings(max_examples=30, deadline=None)
@given(st.floats(14, 33), st.floats(-118, -86), st.floats(14, 33), st.floats(-118, -86))
def test_geodesic_symmetric_nonnegative(a, b, c, d):
    d1 = haversine_km(a, b, c, d)
    assert d1 >= 0
    np.testing.assert_allclose(d1, haversine_km(c, d, a, b), rtol=DISTANCE_RTOL)


def test_choose_station(parsed):
    stations = [s for _, s in parsed.values()]
    # a site in León, Gto (21.12 N, -101.68 W): nearest Bajío station is Guanajuato 765770
    c = choose_station(stations, 21.12, -101.68, corridor="bajio", site_elevation_m=1815)
    assert c.station.station_id == "765770"
    assert c.distance_km == pytest.approx(haversine_km(21.12, -101.68, 21.014, -101.266))
    assert c.elevation_difference_m == pytest.approx(1815 - 1999.0)
    # a site near Monterrey but in the Bajío corridor list only picks Bajío stations
    c = choose_station(stations, 25.7, -100.3, corridor="bajio")
    assert c.station.corridor == "bajio"
    c = choose_station(stations, 25.7, -100.3)
    assert c.station.station_id == "763930"
    c = choose_station(stations, 25.7, -100.3, station_id="763990")
    assert c.station.station_id == "763990" and c.distance_km > 200


def test_choose_station_bad_input(parsed):
    stations = [s for _, s in parsed.values()]
    with pytest.raises(ValueError, match="station_id"):
        choose_station(stations, 21.0, -101.0, station_id="123456")
    with pytest.raises(ValueError, match="corridor"):
        choose_station(stations, 21.0, -101.0, corridor="yucatan")
    with pytest.raises(ValueError, match="no weather stations"):
        choose_station([], 21.0, -101.0)
