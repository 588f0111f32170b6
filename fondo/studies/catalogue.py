"""The weather-station catalogue and its typical-year files, as yield studies read them.

The catalogue is the table ``weather_stations`` (seeded from the bundled EPW files, one row
per WMO station with the file's SHA-256). A station's file is read from ``DATA_DIR``,
checked against the catalogue's SHA-256 and parsed by :func:`siting.weather.parse_epw`;
parsed files are kept in an in-process LRU cache keyed by that SHA-256, so a second study
on the same station parses nothing and a changed file is never served stale.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.data.service import WeatherStation
from fondo.errors import FondoError, InvalidInput
from siting.turbines import list_turbines
from siting.weather import Station, WeatherFileError, parse_epw

#: Parsed weather files kept in memory (each ≈ 1 MB). [-]
WEATHER_CACHE_ENTRIES = 32

#: ``read(settings, row) -> bytes``: where a station's file comes from when not the bundle.
WeatherReader = Callable[[Mapping[str, Any], WeatherStation], bytes]

_WEATHER_CACHE: LRUCache[str, pd.DataFrame] = LRUCache(maxsize=WEATHER_CACHE_ENTRIES)
_WEATHER_LOCK = threading.Lock()


def clear_weather_cache() -> None:
    """Forget every parsed weather file (tests, data refresh)."""
    with _WEATHER_LOCK:
        _WEATHER_CACHE.clear()


def station_from_row(row: WeatherStation) -> Station:
    """The engine's :class:`~siting.weather.Station` of a ``weather_stations`` row."""
    return Station(station_id=str(row.id), name=row.name, latitude=float(row.latitude),
                   longitude=float(row.longitude), elevation_m=float(row.elevation_m),
                   corridor=row.corridor_id)


def station_rows(session: Session) -> list[WeatherStation]:
    """Every station of the catalogue, by WMO id."""
    return list(session.scalars(select(WeatherStation).order_by(WeatherStation.id)))


def stations_json(session: Session) -> dict[str, Any]:
    """``GET /api/v1/stations``: the catalogue (id, name, position, elevation, corridor)."""
    return {"stations": [{"id": r.id, "name": r.name, "latitude": r.latitude,
                          "longitude": r.longitude, "elevation_m": r.elevation_m,
                          "corridor": r.corridor_id, "file": r.file,
                          "file_sha256": r.file_sha256} for r in station_rows(session)]}


def turbines_json() -> dict[str, Any]:
    """``GET /api/v1/turbines``: windpowerlib's bundled types with a power curve."""
    return {"source": "windpowerlib oedb turbine library (bundled, offline)",
            "turbines": [t.to_dict() for t in list_turbines()]}


def read_station_file(settings: Mapping[str, Any], row: WeatherStation) -> bytes:
    """Bytes of a station's bundled EPW file, checked against the catalogue's SHA-256."""
    path = Path(settings["DATA_DIR"]) / row.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FondoError(f"weather file of station {row.id} is missing: {path} "
                         f"({exc.strerror})") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != row.file_sha256:
        raise FondoError(f"weather file {row.file} of station {row.id} is corrupted: sha256 "
                         f"{actual}, catalogue expects {row.file_sha256}")
    return data


def weather_from_bytes(data: bytes, source: str) -> tuple[pd.DataFrame, Station]:
    """Parse an EPW file; a failed quality check is a 422 naming file, field and hour.

    Raises
    ------
    InvalidInput
        ``field`` is ``"weather_file"``; ``extra`` carries ``weather_field`` and ``hour``.
    """
    try:
        return parse_epw(data, source=source)
    except WeatherFileError as exc:
        raise InvalidInput(str(exc), field="weather_file",
                           extra={"weather_file": exc.source, "weather_field": exc.field,
                                  "hour": exc.hour}) from None
    except ValueError as exc:
        raise InvalidInput(f"{source}: {exc}", field="weather_file") from None


def load_weather(settings: Mapping[str, Any], row: WeatherStation,
                 read: WeatherReader | None = None) -> tuple[pd.DataFrame, Station]:
    """Parsed weather of a station, cached by the file's SHA-256 (default reader only).

    A caller-supplied ``read`` (tests hand a damaged file this way) is parsed and never
    cached. The station is always the catalogue's row, not the file's header.
    """
    if read is not None:
        frame, _parsed = weather_from_bytes(read(settings, row), row.file)
        return frame, station_from_row(row)
    with _WEATHER_LOCK:
        frame = _WEATHER_CACHE.get(row.file_sha256)
    if frame is None:
        frame, _parsed = weather_from_bytes(read_station_file(settings, row), row.file)
        with _WEATHER_LOCK:
            frame = _WEATHER_CACHE.setdefault(row.file_sha256, frame)
    return frame, station_from_row(row)
