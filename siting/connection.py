"""Grid connection: distance to the nearest line and substation, connection cost.

Distances are planar in EPSG:6372 (Mexico LCC, scale error below about 1 %
inside the country).  The OSM lines are straight node-to-node segments
(SOURCES-geo.md §2), hence screening-grade distances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from siting.parameters import ConnectionParameters

__all__ = [
    "M_PER_KM",
    "SEARCH_BLOCKS_M",
    "LineIndex",
    "line_index",
    "point_segment_distance_m",
    "nearest_line",
    "nearest_line_strtree",
    "nearest_substation",
    "voltage_class_kv",
    "connection_cost_usd",
]

#: Metres per kilometre.
M_PER_KM = 1000.0


#: Block sizes of the hierarchical candidate search, coarse to fine. [m]
SEARCH_BLOCKS_M = (32_000.0, 4_000.0)
#: Base of the block key ``bx * base + (by + base / 2)`` (block indices within ±2**31). [-]
_KEY_BASE = 2**32
#: Slack on the candidate bound against rounding. [m]
BOUND_SLACK_M = 1e-6


@dataclass(frozen=True)
class LineIndex:
    """Lines cut into straight segments for the exact nearest-line search.

    Attributes
    ----------
    segments_m : ndarray (n_segments, 4)
        ``ax, ay, bx, by`` of every segment. [m]
    segment_line : ndarray of int (n_segments,)
        Index of the line each segment belongs to.
    """

    segments_m: np.ndarray
    segment_line: np.ndarray


def line_index(lines) -> LineIndex:
    """Build a :class:`LineIndex` over (Multi)LineStrings in EPSG:6372.

    Parameters
    ----------
    lines : array_like of shapely geometries
        Lines. [EPSG:6372]

    Returns
    -------
    LineIndex
    """
    geoms = np.asarray(lines)
    if geoms.size == 0:
        raise ValueError("no lines to index")
    parts, part_line = shapely.get_parts(geoms, return_index=True)
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    same = coord_part[1:] == coord_part[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    seg_line = part_line[coord_part[:-1][same]]
    if len(a) == 0:
        raise ValueError("the lines have no segment")
    return LineIndex(np.column_stack([a, b]), seg_line.astype(np.int64))


def point_segment_distance_m(px, py, segments_m: np.ndarray) -> np.ndarray:
    """Planar distance from points to segments (broadcast). [m]

    Parameters
    ----------
    px, py : ndarray
        Points. [m]
    segments_m : ndarray (..., 4)
        ``ax, ay, bx, by`` broadcast against the points. [m]

    Returns
    -------
    ndarray
        ``|p - (a + t (b - a))|`` with ``t = clip((p - a)·(b - a) / |b - a|², 0, 1)``. [m]
    """
    ax, ay, bx, by = np.moveaxis(segments_m, -1, 0)
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(len2 > 0, ((px - ax) * dx + (py - ay) * dy) / len2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _groups(x: np.ndarray, y: np.ndarray, block_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block of each point: (group code, block centre x, block centre y)."""
    bx = np.floor(x / block_m).astype(np.int64)
    by = np.floor(y / block_m).astype(np.int64)
    code, uniq = pd.factorize(bx * _KEY_BASE + (by + _KEY_BASE // 2))
    ux = uniq // _KEY_BASE
    uy = uniq - ux * _KEY_BASE - _KEY_BASE // 2
    return code, (ux + 0.5) * block_m, (uy + 0.5) * block_m


def _expand(ptr: np.ndarray, seg: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs of children from their parent's CSR candidate list."""
    counts = ptr[parent + 1] - ptr[parent]
    child = np.repeat(np.arange(parent.size), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return child, seg[np.repeat(ptr[parent], counts) + offset]


def _prune(child: np.ndarray, seg: np.ndarray, dist: np.ndarray, n_child: int, radius_m: float):
    """Keep pairs within ``min + 2 radius`` of each child; return CSR (ptr, seg)."""
    dmin = np.full(n_child, np.inf)
    np.minimum.at(dmin, child, dist)
    keep = dist <= dmin[child] + 2.0 * radius_m + BOUND_SLACK_M
    child, seg = child[keep], seg[keep]
    order = np.argsort(child, kind="stable")
    child, seg = child[order], seg[order]
    ptr = np.zeros(n_child + 1, dtype=np.int64)
    np.add.at(ptr, child + 1, 1)
    return np.cumsum(ptr), seg


def nearest_line(x_m, y_m, index: LineIndex) -> tuple[np.ndarray, np.ndarray]:
    """Exact distance to, and index of, the nearest line, by hierarchical pruning.

    Parameters
    ----------
    x_m, y_m : array_like
        Points in EPSG:6372. [m]
    index : LineIndex
        From :func:`line_index`.

    Returns
    -------
    distance_km : ndarray
        Planar distance to the nearest line. [km]
    index : ndarray of int
        Index of that line.

    Notes
    -----
    The distance to the nearest segment is 1-Lipschitz: for a block of
    centre ``c`` and radius ``R`` (half diagonal), the segment nearest to any
    point of the block is among those with ``d(c, S) <= min_S d(c, S) + 2R``.
    The points are grouped into 32 km blocks (tested against every segment),
    then 4 km blocks (against their parent's candidates), then each point is
    tested exactly against its block's candidates — all vectorized, exact,
    and a few candidates per point.

    Examples
    --------
    >>> import shapely
    >>> idx = line_index([shapely.LineString([(0, 0), (10_000, 0)])])
    >>> nearest_line([5_000.0], [3_000.0], idx)[0].tolist()
    [3.0]
    """
    x = np.asarray(x_m, dtype=float).ravel()
    y = np.asarray(y_m, dtype=float).ravel()
    if x.size == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    segs = index.segments_m
    n_seg = len(segs)
    # level 0: coarse blocks against every segment
    b0 = SEARCH_BLOCKS_M[0]
    g0, cx0, cy0 = _groups(x, y, b0)
    child = np.repeat(np.arange(cx0.size), n_seg)
    seg = np.tile(np.arange(n_seg), cx0.size)
    dist = point_segment_distance_m(cx0[child], cy0[child], segs[seg])
    ptr, cand = _prune(child, seg, dist, cx0.size, b0 / np.sqrt(2.0))
    parent_of_point = g0
    for block in SEARCH_BLOCKS_M[1:]:
        # finer blocks inherit their parent's candidates; a finer block lies in one parent
        code, cx, cy = _groups(x, y, block)
        parent = np.zeros(cx.size, dtype=np.int64)
        parent[code] = parent_of_point
        child, seg = _expand(ptr, cand, parent)
        dist = point_segment_distance_m(cx[child], cy[child], segs[seg])
        ptr, cand = _prune(child, seg, dist, cx.size, block / np.sqrt(2.0))
        parent_of_point = code
    # points against their finest block's candidates
    child, seg = _expand(ptr, cand, parent_of_point)
    dist = point_segment_distance_m(x[child], y[child], segs[seg])
    order = np.lexsort((dist, child))
    first = np.ones(order.size, dtype=bool)
    first[1:] = child[order][1:] != child[order][:-1]
    best = order[first]
    return dist[best] / M_PER_KM, index.segment_line[seg[best]]


def nearest_line_strtree(x_m, y_m, tree: shapely.STRtree) -> tuple[np.ndarray, np.ndarray]:
    """Distance to, and index of, the nearest line (shapely 2 STRtree; reference path).

    Parameters
    ----------
    x_m, y_m : array_like
        Points in EPSG:6372. [m]
    tree : shapely.STRtree
        Tree over the line geometries in EPSG:6372.

    Returns
    -------
    distance_km : ndarray
        Planar distance to the nearest line. [km]
    index : ndarray of int
        Index of that line in the tree's geometries.

    Examples
    --------
    >>> import shapely
    >>> tree = shapely.STRtree([shapely.LineString([(0, 0), (10_000, 0)])])
    >>> nearest_line_strtree([5_000.0], [3_000.0], tree)[0].tolist()
    [3.0]
    """
    pts = shapely.points(np.asarray(x_m, dtype=float).ravel(), np.asarray(y_m, dtype=float).ravel())
    if len(tree) == 0:
        raise ValueError("the grid-line tree is empty")
    (src, idx), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(src, kind="stable")
    return dist[order] / M_PER_KM, idx[order].astype(np.int64)


def nearest_substation(x_m, y_m, tree: cKDTree) -> tuple[np.ndarray, np.ndarray]:
    """Distance to, and index of, the nearest substation (k-d tree).

    Parameters
    ----------
    x_m, y_m : array_like
        Points in EPSG:6372. [m]
    tree : scipy.spatial.cKDTree
        Tree over the substation coordinates in EPSG:6372. [m]

    Returns
    -------
    distance_km : ndarray [km]
    index : ndarray of int
    """
    d, i = tree.query(np.column_stack([np.ravel(x_m), np.ravel(y_m)]))
    return d / M_PER_KM, i.astype(np.int64)


def voltage_class_kv(line_voltage_kv, classes_kv, unknown_voltage_kv: float) -> np.ndarray:
    """Cost class of a line: the smallest class at or above its voltage.

    Parameters
    ----------
    line_voltage_kv : array_like
        Line voltage, NaN when unknown. [kV]
    classes_kv : sequence of float
        Voltage classes with a cost. [kV]
    unknown_voltage_kv : float
        Class used when the voltage is unknown. [kV]

    Returns
    -------
    ndarray
        Voltage class; lines above the top class get the top class. [kV]

    Examples
    --------
    >>> voltage_class_kv([69.0, 115.0, 138.0, float("nan"), 765.0], [115, 230, 400], 115.0).tolist()
    [115.0, 115.0, 230.0, 115.0, 400.0]
    """
    v = np.asarray(line_voltage_kv, dtype=float)
    cls = np.sort(np.asarray(list(classes_kv), dtype=float))
    v = np.where(np.isfinite(v), v, unknown_voltage_kv)
    pos = np.clip(np.searchsorted(cls, v, side="left"), 0, cls.size - 1)
    return cls[pos]


def connection_cost_usd(dist_line_km, line_voltage_kv, params: ConnectionParameters = ConnectionParameters()):
    """Cost of connecting the reference plant to the nearest line.

    Parameters
    ----------
    dist_line_km : array_like
        Straight distance to the nearest line. [km]
    line_voltage_kv : array_like
        That line's voltage (NaN if unknown). [kV]
    params : ConnectionParameters
        Cost tables, routing factor, unknown-voltage class.

    Returns
    -------
    ndarray
        ``spur_cost_usd_per_km[V] * routing_factor * dist_line_km
        + tap_substation_cost_usd[V]``. [USD]

    Examples
    --------
    >>> round(float(connection_cost_usd(10.0, 230.0)))
    18720000
    """
    d = np.asarray(dist_line_km, dtype=float)
    if (d < 0).any():
        raise ValueError("dist_line_km must be >= 0")
    if set(params.spur_cost_usd_per_km) != set(params.tap_substation_cost_usd):
        raise ValueError("spur_cost_usd_per_km and tap_substation_cost_usd need the same voltage classes")
    classes = np.sort(np.asarray(list(params.spur_cost_usd_per_km), dtype=float))
    vclass = voltage_class_kv(line_voltage_kv, classes, params.unknown_voltage_kv)
    pos = np.searchsorted(classes, vclass)
    per_km = np.asarray([params.spur_cost_usd_per_km[k] for k in classes])[pos]
    tap = np.asarray([params.tap_substation_cost_usd[k] for k in classes])[pos]
    return per_km * params.routing_factor * d + tap
