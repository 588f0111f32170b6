"""Typical-year weather: EPW parsing, quality checks, station catalogue and choice.

The core never opens files: :func:`parse_epw` takes the bytes of an
EnergyPlus weather file (the shell reads ``data/weather/*.epw``) and returns a
quality-checked hourly frame and its :class:`Station`.

Time convention: EPW hour ``h`` covers ``h-1:00``–``h:00`` local standard
time; pvlib labels it ``h-1:00`` (interval start), and so does every series
here. All files are coerced to the non-leap year :data:`TYPICAL_YEAR` so that
stations stack on one index.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import pvlib
import pyproj

__all__ = [
    "TYPICAL_YEAR",
    "HOURS_PER_YEAR",
    "STATION_CORRIDORS",
    "WeatherFileError",
    "Station",
    "StationWeather",
    "StationChoice",
    "parse_epw",
    "stack_weather",
    "haversine_km",
    "choose_station",
]

#: Year every typical-year file is coerced to (non-leap). [-]
TYPICAL_YEAR = 2019
#: Hours in a typical (non-leap) year. [h]
HOURS_PER_YEAR = 8760
#: Height of the EPW wind observations (WMO standard anemometer). [m]
#: Source: EnergyPlus Auxiliary Programs, EPW field 22 "Wind Speed".
EPW_WIND_HEIGHT_M = 10.0
#: Metres per kilometre.
M_PER_KM = 1000.0
#: The WGS84 ellipsoid for geodesic distances (PROJ's GeographicLib, Karney 2013).
_WGS84 = pyproj.Geod(ellps="WGS84")

#: Corridor of each bundled station, by WMO id. Source: data/SOURCES-weather.md
#: ("Bajío corridor (+ Zacatecas, Guadalajara)" and "Northeast corridor"); ids as in fondo.data.loaders.
STATION_CORRIDORS = {
    "765710": "bajio", "765770": "bajio", "766250": "bajio", "765390": "bajio",
    "766120": "bajio", "765260": "bajio",
    "763930": "noreste", "763900": "noreste", "763420": "noreste",
    "762430": "noreste", "763820": "noreste", "762863": "noreste",
    "763503": "noreste", "763990": "noreste", "764910": "noreste",
    "765480": "noreste",
}

# Quality-check limits: (lower, upper) per field, with units and source.
#: Global horizontal irradiance ceiling. [W/m²] Source: Fondo issue 3 (GHI >
#: 1500 W/m² is not a surface value; the BSRN extremely-rare limit at the
#: zenith is 1.2·S0 + 50 ≈ 1690).
GHI_MAX_W_M2 = 1500.0
#: Direct normal ceiling: solar constant at perihelion. [W/m²] Source: Long &
#: Dutton 2002, BSRN physically-possible limit (DNI < S0·(r0/r)²).
DNI_MAX_W_M2 = 1414.0
#: Diffuse horizontal ceiling. [W/m²] Source: Long & Dutton 2002, BSRN
#: physically-possible limit 0.95·S0·μ0^1.2 + 50 at μ0 = 1.
DHI_MAX_W_M2 = 0.95 * 1367.0 + 50.0
#: Air temperature range. [°C] Source: WMO world extremes −89.2 °C and 56.7 °C.
TEMP_AIR_RANGE_C = (-90.0, 60.0)
#: Hourly mean wind speed range at 10 m. [m/s] Source: WMO record sustained
#: winds stay below 75 m/s; EPW missing sentinel is 999.
WIND_SPEED_RANGE_M_S = (0.0, 75.0)
#: Station pressure range. [Pa] Source: surface records (Everest summit ≈ 33 kPa,
#: highest sea-level 108.4 kPa); EPW missing sentinel is 999999.
PRESSURE_RANGE_PA = (30000.0, 110000.0)

_CHECKS = {
    "ghi": (0.0, GHI_MAX_W_M2, "W/m²"),
    "dni": (0.0, DNI_MAX_W_M2, "W/m²"),
    "dhi": (0.0, DHI_MAX_W_M2, "W/m²"),
    "temp_air": (*TEMP_AIR_RANGE_C, "°C"),
    "wind_speed": (*WIND_SPEED_RANGE_M_S, "m/s"),
    "atmospheric_pressure": (*PRESSURE_RANGE_PA, "Pa"),
}

#: Columns a parsed frame keeps. [W/m², °C, m/s, Pa, fraction]
WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed", "atmospheric_pressure",
                   "albedo")


class WeatherFileError(ValueError):
    """A weather file failed a quality check.

    Attributes
    ----------
    source : str
        File name given to :func:`parse_epw`.
    field : str or None
        Offending field (pvlib column name).
    hour : int or None
        Hour of the year, 1-based as in the EPW (1 = Jan 1 00:00–01:00).
    """

    def __init__(self, message, *, source, field=None, hour=None):
        super().__init__(message)
        self.source = source
        self.field = field
        self.hour = hour


@dataclass(frozen=True)
class Station:
    """A weather station with a typical-year file.

    Attributes
    ----------
    station_id : str
        WMO id as a string, e.g. ``"765710"``.
    name : str
        City and state as the file gives them.
    latitude, longitude : float
        [°]
    elevation_m : float
        [m]
    corridor : str or None
        ``"bajio"`` or ``"noreste"`` for the bundled stations.
    """

    station_id: str
    name: str
    latitude: float
    longitude: float
    elevation_m: float
    corridor: str | None = None


@dataclass(frozen=True)
class StationWeather:
    """Typical years of N stations stacked on one hourly index.

    Attributes
    ----------
    station_ids : tuple of str
    latitude, longitude, elevation_m : numpy.ndarray
        Shape (n,). [°, °, m]
    times : pandas.DatetimeIndex
        8760 tz-aware interval starts.
    ghi, dni, dhi : numpy.ndarray
        Shape (n, 8760). [W/m²]
    temp_air : numpy.ndarray
        [°C]
    wind_speed : numpy.ndarray
        At ``wind_height_m``. [m/s]
    pressure : numpy.ndarray
        [Pa]
    wind_height_m : float
        Measurement height of ``wind_speed``. [m]
    albedo : numpy.ndarray or None
        Ground albedo, shape (n, 8760), when the files carry it. [fraction]
    """

    station_ids: tuple
    latitude: np.ndarray
    longitude: np.ndarray
    elevation_m: np.ndarray
    times: pd.DatetimeIndex
    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    temp_air: np.ndarray
    wind_speed: np.ndarray
    pressure: np.ndarray
    wind_height_m: float = EPW_WIND_HEIGHT_M
    albedo: np.ndarray | None = None

    @property
    def n_stations(self) -> int:
        return len(self.station_ids)

    def index_of(self, station_id: str) -> int:
        """Row of a station; ValueError naming ``station_id`` if unknown."""
        try:
            return self.station_ids.index(str(station_id))
        except ValueError:
            raise ValueError(f"station_id {station_id!r} is not in the weather stack") from None


@dataclass(frozen=True)
class StationChoice:
    """The station chosen for a site.

    Attributes
    ----------
    station : Station
    index : int
        Position in the list given to :func:`choose_station`.
    distance_km : float
        Geodesic (WGS84) distance site–station. [km]
    elevation_difference_m : float or None
        Site elevation minus station elevation. [m]
    """

    station: Station
    index: int
    distance_km: float
    elevation_difference_m: float | None


def _fail(source, field, hour, message):
    raise WeatherFileError(f"{source}: {message}", source=source, field=field, hour=hour)


def parse_epw(data: bytes, source: str = "<epw>") -> tuple[pd.DataFrame, Station]:
    """Parse and quality-check an EPW typical-year file.

    Parameters
    ----------
    data : bytes
        The file's content.
    source : str
        File name used in error messages.

    Returns
    -------
    frame : pandas.DataFrame
        8760 rows indexed by tz-aware interval starts in :data:`TYPICAL_YEAR`,
        columns ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C],
        ``wind_speed`` [m/s at 10 m], ``atmospheric_pressure`` [Pa],
        ``albedo`` [fraction, NaN where invalid].
    station : Station
        From the LOCATION line; corridor from :data:`STATION_CORRIDORS`.

    Raises
    ------
    WeatherFileError
        Unreadable file, missing or duplicated hours, missing-value sentinels,
        negative or impossible irradiance, temperature, wind or pressure out of
        physical range; the message names the file, field and hour.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("parse_epw expects the file's bytes")
    text = bytes(data).decode("utf-8", errors="replace")
    try:
        raw, meta = pvlib.iotools.read_epw(io.StringIO(text), coerce_year=TYPICAL_YEAR)
    except Exception as exc:  # pvlib/pandas raise many types on malformed text
        raise WeatherFileError(f"{source}: not a readable EPW file ({exc})",
                               source=source) from exc
    n = len(raw)
    # Missing or duplicated hours: the (month, day, hour) sequence must be
    # exactly the 8760 hours of a non-leap year.
    expected = pd.date_range(f"{TYPICAL_YEAR}-01-01", periods=HOURS_PER_YEAR, freq="h")
    got = pd.to_datetime(dict(year=TYPICAL_YEAR, month=raw["month"].to_numpy(),
                              day=raw["day"].to_numpy(), hour=raw["hour"].to_numpy() - 1),
                         errors="coerce")
    m = min(n, HOURS_PER_YEAR)
    mismatch = np.flatnonzero(got.to_numpy()[:m] != expected.to_numpy()[:m])
    if mismatch.size:
        k = int(mismatch[0])
        _fail(source, "hour", k + 1,
              f"missing or out-of-order hour: expected {expected[k]:%m-%d %H:00} at hour {k + 1}"
              f" but found month {raw['month'].iat[k]} day {raw['day'].iat[k]}"
              f" hour {raw['hour'].iat[k]}")
    if n != HOURS_PER_YEAR:
        k = m
        what = "missing hours" if n < HOURS_PER_YEAR else "extra rows"
        _fail(source, "hour", k + 1,
              f"{what}: {n} hourly rows instead of {HOURS_PER_YEAR} (first gap at hour {k + 1})")
    for field, (lo, hi, unit) in _CHECKS.items():
        values = pd.to_numeric(raw[field], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < lo) | (values > hi)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            _fail(source, field, k + 1,
                  f"field {field} at hour {k + 1} ({expected[k]:%m-%d %H:00}) is {values[k]:g} {unit},"
                  f" outside the physical range [{lo:g}, {hi:g}] {unit}"
                  f" ({int(bad.sum())} bad hours)")
    frame = raw[list(WEATHER_COLUMNS)].astype(float).copy()
    alb = frame["albedo"].to_numpy()
    frame["albedo"] = np.where((alb > 0.0) & (alb < 1.0), alb, np.nan)
    station_id = str(meta.get("WMO_code", "")).strip()
    city = str(meta.get("city", "")).strip()
    state = str(meta.get("state-prov", "")).strip()
    station = Station(
        station_id=station_id,
        name=f"{city}, {state}" if state else city,
        latitude=float(meta["latitude"]),
        longitude=float(meta["longitude"]),
        elevation_m=float(meta["altitude"]),
        corridor=STATION_CORRIDORS.get(station_id),
    )
    return frame, station


def stack_weather(frames: Sequence[tuple[Station, pd.DataFrame]]) -> StationWeather:
    """Stack parsed station years into one :class:`StationWeather`.

    Parameters
    ----------
    frames : sequence of (Station, pandas.DataFrame)
        Outputs of :func:`parse_epw` (station first).

    Returns
    -------
    StationWeather

    Raises
    ------
    ValueError
        No frames, duplicated station ids, or frames on different hourly indexes.
    """
    if len(frames) == 0:
        raise ValueError("stack_weather needs at least one (station, frame) pair")
    stations = [s for s, _ in frames]
    ids = tuple(str(s.station_id) for s in stations)
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicated station_id in {ids}")
    times = frames[0][1].index
    for station, frame in frames:
        if len(frame) != HOURS_PER_YEAR or not frame.index.equals(times):
            raise ValueError(f"weather of station {station.station_id} is not on the common "
                             f"{HOURS_PER_YEAR}-hour index")

    def col(name):
        return np.stack([f[name].to_numpy(dtype=float) for _, f in frames])

    albedo = col("albedo") if all("albedo" in f for _, f in frames) else None
    return StationWeather(
        station_ids=ids,
        latitude=np.array([s.latitude for s in stations], dtype=float),
        longitude=np.array([s.longitude for s in stations], dtype=float),
        elevation_m=np.array([s.elevation_m for s in stations], dtype=float),
        times=times,
        ghi=col("ghi"), dni=col("dni"), dhi=col("dhi"), temp_air=col("temp_air"),
        wind_speed=col("wind_speed"), pressure=col("atmospheric_pressure"),
        wind_height_m=EPW_WIND_HEIGHT_M, albedo=albedo,
    )


def haversine_km(lat1, lon1, lat2, lon2):
    """Geodesic distance on the WGS84 ellipsoid (no longer a haversine).

    The name is kept for its callers; the distance is the exact ellipsoidal
    geodesic, not the great circle of a sphere.

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : float, array_like or pandas.Series
        End points, broadcast against each other. [°]

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Shortest distance along the WGS84 ellipsoid surface: a float when all
        inputs are scalars, a Series on the index of the first Series input,
        else an array of the broadcast shape; NaN where an input is NaN. [km]

    Raises
    ------
    ValueError
        A latitude outside [-90°, 90°].

    Notes
    -----
    Karney's (2013) solution of the inverse geodesic problem, accurate to
    about 15 nm, evaluated by ``pyproj.Geod(ellps="WGS84").inv`` (PROJ's copy
    of GeographicLib). Over Mexico (14–33° N) it differs from the haversine on
    a sphere of the mean radius 6371.0088 km used before by -0.5 % (north–south
    lines) to +0.2 % (east–west lines).

    References
    ----------
    .. [1] Karney, C. F. F., 2013, "Algorithms for geodesics", Journal of
       Geodesy 87, 43-55, doi:10.1007/s00190-012-0578-z.

    Examples
    --------
    >>> round(haversine_km(-41.32, 174.81, 40.96, -5.50), 6)  # Wellington–Salamanca
    19959.679267
    """
    values = [np.asarray(v, dtype=float) for v in (lat1, lon1, lat2, lon2)]
    for name, lat in (("lat1", values[0]), ("lat2", values[2])):
        bad = np.abs(lat) > 90.0
        if np.any(bad):
            raise ValueError(f"{name} must lie in [-90, 90] degrees, got {lat[bad].flat[0]:g}")
    b_lat1, b_lon1, b_lat2, b_lon2 = np.broadcast_arrays(*values)
    _, _, dist_m = _WGS84.inv(b_lon1.ravel(), b_lat1.ravel(), b_lon2.ravel(), b_lat2.ravel())
    distance_km = np.asarray(dist_m, dtype=float).reshape(b_lat1.shape) / M_PER_KM
    if distance_km.ndim == 0:
        return float(distance_km)
    for v in (lat1, lon1, lat2, lon2):
        if isinstance(v, pd.Series):
            return pd.Series(distance_km, index=v.index)
    return distance_km


def choose_station(stations: Sequence[Station], latitude: float, longitude: float,
                   corridor: str | None = None, station_id: str | None = None,
                   site_elevation_m: float | None = None) -> StationChoice:
    """Choose the weather station for a site.

    The nearest station of the same corridor (all stations when ``corridor``
    is None), unless ``station_id`` names one.

    Parameters
    ----------
    stations : sequence of Station
    latitude, longitude : float
        Site. [°]
    corridor : str, optional
        Corridor of the site.
    station_id : str, optional
        WMO id forcing the choice.
    site_elevation_m : float, optional
        Site elevation, to report the difference. [m]

    Returns
    -------
    StationChoice

    Raises
    ------
    ValueError
        Unknown ``station_id`` (the message names ``station_id``), no station
        in ``corridor``, or no stations.
    """
    if len(stations) == 0:
        raise ValueError("no weather stations to choose from")
    lat = np.array([s.latitude for s in stations])
    lon = np.array([s.longitude for s in stations])
    dist = np.atleast_1d(haversine_km(latitude, longitude, lat, lon))
    if station_id is not None:
        ids = [str(s.station_id) for s in stations]
        if str(station_id) not in ids:
            raise ValueError(f"station_id {station_id!r} is unknown; known: {', '.join(ids)}")
        idx = ids.index(str(station_id))
    else:
        if corridor is not None:
            eligible = np.array([s.corridor == corridor for s in stations])
            if not eligible.any():
                raise ValueError(f"corridor {corridor!r} has no weather station")
            dist_eligible = np.where(eligible, dist, np.inf)
        else:
            dist_eligible = dist
        idx = int(np.argmin(dist_eligible))
    station = stations[idx]
    elev_diff = None if site_elevation_m is None else float(site_elevation_m) - station.elevation_m
    return StationChoice(station=station, index=idx, distance_km=float(dist[idx]),
                         elevation_difference_m=elev_diff)
