"""Fixtures for the consultation core tests."""

import datetime as dt
import pathlib

import pandas as pd
import pytest

from consultation.protocol import V1_PROTOCOL_VERSION, load_protocol

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def data_geo_dir() -> pathlib.Path:
    return REPO / "data" / "geo"


@pytest.fixture(scope="session")
def reference_dir() -> pathlib.Path:
    return REPO / "tests" / "reference" / "consultation"


@pytest.fixture(scope="session")
def protocol():
    return load_protocol(V1_PROTOCOL_VERSION)  # version 1 (issue 6); version 2 in test_protocol_v2.py


@pytest.fixture(scope="session")
def typology(data_geo_dir) -> pd.DataFrame:
    return pd.read_csv(data_geo_dir / "indigenous_municipal_typology_inpi2020.csv",
                       dtype={"cvegeo": str, "cve_ent": str})


@pytest.fixture(scope="session")
def localities(data_geo_dir) -> pd.DataFrame:
    return pd.read_csv(data_geo_dir / "localidades_inegi_puntos.csv",
                       dtype={"cvegeo": str, "cve_ent": str, "cve_mun": str, "cve_loc": str})


UTC = dt.timezone.utc
