"""Fixtures of the yield-engine tests: bundled weather files, and SAM's solar resource.

:func:`sam_solar_resource` builds PySAM's input from a parsed EPW; it is used by
``tests/reference/yield/make_sam_references.py`` (the stored SAM references) and by the
freshness test in ``test_vs_sam.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siting.weather import parse_epw, stack_weather

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def epw_paths(data_dir) -> dict:
    """WMO id → path of each bundled EPW file."""
    paths = sorted((data_dir / "weather").glob("*.epw"))
    assert paths, "bundled EPW files are missing"
    return {_wmo(p.name): p for p in paths}


def _wmo(name: str) -> str:
    # e.g. MEX_AGU_Aguascalientes.765710_TMYx.2011-2025.epw -> 765710
    return name.split("_TMYx")[0].rsplit(".", 1)[-1]


@pytest.fixture(scope="session")
def parsed(epw_paths) -> dict:
    """WMO id → (frame, station) for every bundled file."""
    return {wmo: parse_epw(path.read_bytes(), path.name) for wmo, path in epw_paths.items()}


@pytest.fixture(scope="session")
def weather_stack(parsed):
    return stack_weather([(station, frame) for frame, station in parsed.values()])


def sam_solar_resource(frame, station) -> dict:
    """PySAM ``solar_resource_data`` with the same values as our parsed frame.

    ``minute = 30`` tells SAM that each hourly value belongs to the middle of
    its interval (the EPW convention our model uses), so both models put the
    sun at the same instant. Plain Python floats: PySAM segfaults on numpy
    scalars.
    """
    def col(values):
        return tuple(float(x) for x in np.asarray(values, dtype=float))

    idx = frame.index
    return {
        "year": col(idx.year), "month": col(idx.month), "day": col(idx.day),
        "hour": col(idx.hour), "minute": (30.0,) * len(idx),
        "dn": col(frame["dni"]), "df": col(frame["dhi"]), "gh": col(frame["ghi"]),
        "tdry": col(frame["temp_air"]), "wspd": col(frame["wind_speed"]),
        "pres": col(frame["atmospheric_pressure"] / 100.0),
        "alb": col(frame["albedo"].fillna(0.2)),
        "lat": float(station.latitude), "lon": float(station.longitude),
        "tz": -6.0, "elev": float(station.elevation_m),
    }
