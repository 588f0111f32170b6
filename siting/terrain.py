"""Terrain: slope of a geographic DEM and raster sampling by index math.

The bundled DEM (``dem_corridor_1km.tif``) is on a regular EPSG:4326 lattice
(0.008983°).  Slope is computed in metres: the degree spacing of each row is
converted with the WGS84 lengths of a degree of latitude and longitude at that
row's latitude.
"""

from __future__ import annotations

import numpy as np
from affine import Affine

__all__ = [
    "meters_per_degree_latitude",
    "meters_per_degree_longitude",
    "slope_percent",
    "raster_index",
    "sample_raster",
]

# Series for the length of one degree on the WGS84 ellipsoid, as tabulated in
# Bowditch, *The American Practical Navigator* (NGA Pub. 9, 2019), Table
# "Length of a degree of latitude and longitude". [m]
_LAT_C0, _LAT_C2, _LAT_C4, _LAT_C6 = 111_132.92, -559.82, 1.175, -0.0023
_LON_C1, _LON_C3, _LON_C5 = 111_412.84, -93.5, 0.118


def meters_per_degree_latitude(latitude):
    """Length of one degree of latitude on WGS84.

    Parameters
    ----------
    latitude : array_like
        Latitude. [°]

    Returns
    -------
    ndarray
        Metres per degree of latitude. [m/°]

    Notes
    -----
    ``111132.92 - 559.82 cos 2φ + 1.175 cos 4φ - 0.0023 cos 6φ``.

    References
    ----------
    Bowditch, *The American Practical Navigator*, NGA Pub. 9 (2019).

    Examples
    --------
    >>> round(float(meters_per_degree_latitude(0.0)))
    110574
    """
    phi = np.radians(np.asarray(latitude, dtype=float))
    return _LAT_C0 + _LAT_C2 * np.cos(2 * phi) + _LAT_C4 * np.cos(4 * phi) + _LAT_C6 * np.cos(6 * phi)


def meters_per_degree_longitude(latitude):
    """Length of one degree of longitude on WGS84 at a latitude.

    Parameters
    ----------
    latitude : array_like
        Latitude. [°]

    Returns
    -------
    ndarray
        Metres per degree of longitude. [m/°]

    Notes
    -----
    ``111412.84 cos φ - 93.5 cos 3φ + 0.118 cos 5φ`` (Bowditch, NGA Pub. 9).
    """
    phi = np.radians(np.asarray(latitude, dtype=float))
    return _LON_C1 * np.cos(phi) + _LON_C3 * np.cos(3 * phi) + _LON_C5 * np.cos(5 * phi)


def slope_percent(dem_m: np.ndarray, transform: Affine) -> np.ndarray:
    """Slope of a north-up EPSG:4326 DEM, by central differences in metres.

    Parameters
    ----------
    dem_m : ndarray (rows, cols)
        Elevation, NaN where missing. [m]
    transform : Affine
        Geotransform ``(a, 0, c, 0, e, f)`` in degrees, ``e < 0``. [°]

    Returns
    -------
    ndarray (rows, cols)
        Slope ``100 * sqrt((dz/dx)² + (dz/dy)²)``, NaN where the cell or a
        neighbour is missing. [%]

    Notes
    -----
    ``dx = a * m_lon(φ_row)``, ``dy = |e| * m_lat(φ_row)`` with ``φ_row`` the
    latitude of the row centre; ``numpy.gradient`` gives second-order central
    differences inside and one-sided differences at the edges (Horn's
    3x3 kernel would smooth more; at ~1 km either underestimates real slopes,
    SOURCES-geo.md §5).
    """
    dem_m = np.asarray(dem_m, dtype=float)
    if dem_m.ndim != 2 or min(dem_m.shape) < 2:
        raise ValueError(f"dem_m must be 2-D with at least 2x2 cells, got shape {dem_m.shape}")
    if transform.b != 0 or transform.d != 0 or transform.e >= 0:
        raise ValueError(f"transform must be north-up without rotation, got {transform!r}")
    rows = np.arange(dem_m.shape[0])
    lat = transform.f + (rows + 0.5) * transform.e
    dx_m = (transform.a * meters_per_degree_longitude(lat))[:, None]
    dy_m = (abs(transform.e) * meters_per_degree_latitude(lat))[:, None]
    dz_row, dz_col = np.gradient(dem_m)
    slope = 100.0 * np.hypot(dz_col / dx_m, dz_row / dy_m)
    slope[np.isnan(dem_m)] = np.nan
    return slope


def raster_index(transform: Affine, shape: tuple[int, int], x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of the raster cells holding points (rasterio index math).

    Parameters
    ----------
    transform : Affine
        North-up geotransform.
    shape : tuple of int
        ``(rows, cols)`` of the raster.
    x, y : array_like
        Point coordinates in the raster's CRS.

    Returns
    -------
    row, col : ndarray of int
        Indices (clipped into range).
    inside : ndarray of bool
        Whether the point falls inside the raster.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    col = np.floor((x - transform.c) / transform.a).astype(np.int64)
    row = np.floor((y - transform.f) / transform.e).astype(np.int64)
    inside = (row >= 0) & (row < shape[0]) & (col >= 0) & (col < shape[1])
    return np.clip(row, 0, shape[0] - 1), np.clip(col, 0, shape[1] - 1), inside


def sample_raster(array: np.ndarray, transform: Affine, x, y) -> np.ndarray:
    """Value of the raster cell holding each point; NaN outside the raster.

    Parameters
    ----------
    array : ndarray (rows, cols)
        Raster values (float; NaN where missing).
    transform : Affine
        North-up geotransform.
    x, y : array_like
        Point coordinates in the raster's CRS (longitude, latitude for the DEM).

    Returns
    -------
    ndarray
        Sampled values.

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> sample_raster(np.array([[1.0, 2.0], [3.0, 4.0]]), Affine(1, 0, 0, 0, -1, 2), [1.5], [0.5]).tolist()
    [4.0]
    """
    row, col, inside = raster_index(transform, array.shape, x, y)
    return np.where(inside, array[row, col].astype(float), np.nan)
