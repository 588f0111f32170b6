"""Terrain: metres per degree, slope in metres, raster index math, real DEM."""

import math

import numpy as np
import pandas as pd
import pytest
from affine import Affine

from siting.terrain import (
    meters_per_degree_latitude,
    meters_per_degree_longitude,
    raster_index,
    sample_raster,
    slope_percent,
)

try:
    from .screening_conftest import DATA_DIR, real_layers  # noqa: F401
except ImportError:
    from screening_conftest import DATA_DIR, real_layers  # noqa: F401

#: Tolerance against the tabulated WGS84 degree lengths (table rounded to 1 m). [-]
RTOL_TABLE = 1e-5
#: Tolerance of the spherical hand formula against the ellipsoidal one near 21° N. [-]
RTOL_SPHERE = 5e-3


def test_degree_lengths_match_published_table():
    # Published WGS84 values (e.g. NGA / Wikipedia "Length of a degree"):
    # latitude 0°: 110,574 m; 45°: 111,132 m; longitude at 0°: 111,320 m; at 30°: 96,486 m.
    np.testing.assert_allclose(meters_per_degree_latitude([0.0, 45.0]), [110_574.0, 111_132.0], rtol=RTOL_TABLE)
    np.testing.assert_allclose(meters_per_degree_longitude([0.0, 30.0]), [111_320.0, 96_486.0], rtol=RTOL_TABLE)


def test_slope_of_an_eastward_ramp():
    # 20 m rise per 0.01° of longitude at ~21° N: slope = 20 / (0.01 * 111,320 * cos 21°) = 1.924 %
    rise_m, res_deg = 20.0, 0.01
    dem = 1000.0 + rise_m * np.tile(np.arange(6, dtype=float), (5, 1))
    t = Affine(res_deg, 0, -101.0, 0, -res_deg, 21.025)
    slope = slope_percent(dem, t)
    hand = 100 * rise_m / (res_deg * 111_320.0 * math.cos(math.radians(21.0)))
    np.testing.assert_allclose(slope, hand, rtol=RTOL_SPHERE)


def test_slope_of_a_northward_ramp():
    # 10 m drop per 0.01° southward: slope = 10 / (0.01 * 110,700) = 0.903 % near 21° N
    dem = 1000.0 + 10.0 * np.arange(5, dtype=float)[::-1, None] * np.ones((5, 4))
    t = Affine(0.01, 0, -101.0, 0, -0.01, 21.025)
    np.testing.assert_allclose(slope_percent(dem, t), 100 * 10.0 / (0.01 * 110_700.0), rtol=RTOL_SPHERE)


def test_slope_nan_next_to_missing():
    dem = np.ones((4, 4))
    dem[1, 1] = np.nan
    s = slope_percent(dem, Affine(0.01, 0, 0, 0, -0.01, 1))
    assert np.isnan(s[1, 1]) and np.isnan(s[1, 2]) and s[3, 3] == 0.0


def test_bad_dem_and_transform():
    with pytest.raises(ValueError, match="2-D"):
        slope_percent(np.ones(5), Affine(0.01, 0, 0, 0, -0.01, 0))
    with pytest.raises(ValueError, match="north-up"):
        slope_percent(np.ones((3, 3)), Affine(0.01, 0, 0, 0, 0.01, 0))


def test_raster_index_math():
    t = Affine(0.5, 0, 10.0, 0, -0.5, 20.0)  # 4 x 4 cells over x 10-12, y 18-20
    row, col, inside = raster_index(t, (4, 4), [10.1, 11.9, 12.1], [19.9, 18.1, 19.0])
    assert row.tolist()[:2] == [0, 3] and col.tolist()[:2] == [0, 3]
    assert inside.tolist() == [True, True, False]
    arr = np.arange(16, dtype=float).reshape(4, 4)
    out = sample_raster(arr, t, [10.6, 12.5], [19.4, 19.0])
    assert out[0] == arr[1, 1] and np.isnan(out[1])


def test_real_dem_against_inegi_altitudes(real_layers):
    # SOURCES-geo.md §5: median |DEM - INEGI altitude| is 10 m over the 12,166 localities.
    loc = pd.read_csv(DATA_DIR / "geo" / "localidades_inegi_puntos.csv", usecols=["lat", "lon", "altitud_m"]).dropna()
    loc = loc.iloc[:: max(1, len(loc) // 2000)]
    dem = sample_raster(real_layers.dem_m, real_layers.dem_transform, loc["lon"], loc["lat"])
    ok = np.isfinite(dem)
    assert ok.mean() > 0.99
    assert np.median(np.abs(dem[ok] - loc["altitud_m"].to_numpy()[ok])) < 20.0
