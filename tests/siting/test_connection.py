"""Grid distance and connection cost."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.connection import (
    connection_cost_usd,
    line_index,
    nearest_line,
    nearest_line_strtree,
    voltage_class_kv,
)
from siting.parameters import ConnectionParameters

try:
    from .screening_conftest import real_layers  # noqa: F401
except ImportError:
    from screening_conftest import real_layers  # noqa: F401

#: Tolerance of planar distances (floating point on 1e6 m coordinates). [-]
RTOL_DIST = 1e-9


def test_distance_to_a_horizontal_and_a_diagonal_line_by_hand():
    lines = [shapely.LineString([(0, 10_000), (50_000, 10_000)]), shapely.LineString([(0, 20_000), (20_000, 40_000)])]
    idx = line_index(lines)
    # (1000, 1000) -> horizontal line: 10,000 - 1,000 = 9,000 m
    # (15000, 21000) -> diagonal y = x + 20,000: |15,000 - 21,000 + 20,000| / sqrt(2) = 14,000 / 1.41421 = 9,899.49 m
    #   (foot of the perpendicular at x = 15,000 - 7,000 = 8,000, inside the segment), horizontal line: 11,000 m
    # (30000, 45000) -> beyond the diagonal's end (20,000, 40,000): sqrt(10,000² + 5,000²) = 11,180.34 m
    d, i = nearest_line([1_000.0, 15_000.0, 30_000.0], [1_000.0, 21_000.0, 45_000.0], idx)
    np.testing.assert_allclose(d, [9.0, 14.0 / math.sqrt(2.0), math.hypot(10.0, 5.0)], rtol=RTOL_DIST)
    assert i.tolist() == [0, 1, 1]


def test_real_lines_hierarchical_search_equals_strtree(real_layers):
    rng = np.random.default_rng(5)
    b = real_layers.states.total_bounds
    x = rng.uniform(b[0], b[2], 3000)
    y = rng.uniform(b[1], b[3], 3000)
    d, _ = nearest_line(x, y, real_layers.line_index)
    d_ref, _ = nearest_line_strtree(x, y, real_layers.line_tree)
    np.testing.assert_allclose(d, d_ref, rtol=RTOL_DIST)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 1e5), st.floats(0, 1e5), st.floats(0, 1e5)),
                min_size=1, max_size=12),
       st.lists(st.tuples(st.floats(-5e4, 1.5e5), st.floats(-5e4, 1.5e5)), min_size=1, max_size=30))
def test_nearest_line_is_exact(segments, points):
    lines = [shapely.LineString([(a, b), (c, d)]) for a, b, c, d in segments]
    lines = [g for g in lines if g.length > 0] or [shapely.LineString([(0, 0), (1, 1)])]
    px = np.array([p[0] for p in points])
    py = np.array([p[1] for p in points])
    d, _ = nearest_line(px, py, line_index(lines))
    brute = shapely.distance(shapely.points(px, py)[:, None], np.asarray(lines)[None, :]).min(axis=1)
    np.testing.assert_allclose(d * 1000, brute, rtol=1e-9, atol=1e-6)


def test_voltage_class():
    assert voltage_class_kv([69.0, 115.0, 138.0, np.nan, 765.0], [115.0, 230.0, 400.0], 115.0).tolist() == [
        115.0, 115.0, 230.0, 115.0, 400.0]


def test_connection_cost_by_hand():
    p = ConnectionParameters()
    # 230 kV, 10 km: 810,000 USD/km * 1.2 * 10 km + 9,000,000 = 18,720,000 USD
    # unknown voltage -> 115 kV, 0 km: 6,000,000 USD; 400 kV, 5 km: 1,240,000 * 1.2 * 5 + 14,000,000 = 21,440,000
    got = connection_cost_usd([10.0, 0.0, 5.0], [230.0, np.nan, 400.0], p)
    np.testing.assert_allclose(got, [18_720_000.0, 6_000_000.0, 21_440_000.0], rtol=1e-12)
    with pytest.raises(ValueError, match="dist_line_km must be >= 0"):
        connection_cost_usd([-1.0], [230.0], p)
    bad = ConnectionParameters(spur_cost_usd_per_km={115.0: 1.0}, tap_substation_cost_usd={230.0: 1.0})
    with pytest.raises(ValueError, match="same voltage classes"):
        connection_cost_usd([1.0], [230.0], bad)


def test_line_index_rejects_empty():
    with pytest.raises(ValueError, match="no lines"):
        line_index([])
