"""Place: the INEGI state and municipality of each cell, by the centroid rule.

A cell (or site) belongs to the municipality whose polygon holds its centre;
the state is the municipality's state (the INEGI states are the dissolved
municipalities, so both agree).  Cells are assigned by rasterising the
municipalities on the cells' lattice; single points by an STRtree query.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from siting.exclusions import rasterize_index
from siting.parameters import PROJECTED_CRS

__all__ = ["PLACE_COLUMNS", "municipality_index_grid", "municipality_index_points", "place_columns"]

#: Output columns of :func:`place_columns` and the municipality columns they copy.
PLACE_COLUMNS = {
    "state_cve_ent": "cve_ent",
    "state_name": "nom_ent",
    "municipality_cvegeo": "cvegeo",
    "municipality_name": "nom_mun",
}


def _check(municipalities: gpd.GeoDataFrame) -> None:
    if municipalities.crs != PROJECTED_CRS:
        raise ValueError(f"municipalities must be in {PROJECTED_CRS}, got {municipalities.crs}")


def municipality_index_grid(
    municipalities: gpd.GeoDataFrame, transform: Affine, shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray,
    shapes: list | None = None,
) -> np.ndarray:
    """Row index in ``municipalities`` of the polygon holding each cell centre (-1 if none).

    Parameters
    ----------
    municipalities : GeoDataFrame
        INEGI municipalities. [EPSG:6372]
    transform : Affine
        North-up transform of the cell block. [m]
    shape : tuple of int
        ``(rows, cols)`` of the block.
    rows, cols : ndarray of int
        Block position of each cell.
    shapes : list, optional
        Pre-built GeoJSON-like mappings of the municipalities.

    Returns
    -------
    ndarray of int
    """
    _check(municipalities)
    raster = rasterize_index(np.asarray(municipalities.geometry.values), transform, shape, shapes)
    return raster[rows, cols].astype(np.int64) - 1


def municipality_index_points(municipalities: gpd.GeoDataFrame, x_m, y_m) -> np.ndarray:
    """Row index in ``municipalities`` of the polygon holding each point (-1 if none).

    Parameters
    ----------
    municipalities : GeoDataFrame
        INEGI municipalities. [EPSG:6372]
    x_m, y_m : array_like
        Points in EPSG:6372. [m]

    Returns
    -------
    ndarray of int
        The first match where polygons share a border point.
    """
    _check(municipalities)
    pts = shapely.points(np.ravel(x_m).astype(float), np.ravel(y_m).astype(float))
    src, idx = shapely.STRtree(municipalities.geometry.values).query(pts, predicate="within")
    out = np.full(len(pts), -1, dtype=np.int64)
    first = np.unique(src, return_index=True)[1]
    out[src[first]] = idx[first]
    return out


def place_columns(municipalities: gpd.GeoDataFrame, index: np.ndarray) -> pd.DataFrame:
    """State and municipality keys and names for municipality indices.

    Parameters
    ----------
    municipalities : GeoDataFrame
        INEGI municipalities with ``cvegeo``, ``cve_ent``, ``nom_ent``, ``nom_mun``
        and ``tipo_code`` (INPI typology; may be missing).
    index : ndarray of int
        Row indices, -1 for none.

    Returns
    -------
    DataFrame
        ``state_cve_ent``, ``state_name``, ``municipality_cvegeo``,
        ``municipality_name``, ``inpi_typology`` (missing where ``index`` is -1).
    """
    index = np.asarray(index, dtype=np.int64)
    ok = index >= 0
    out = {}
    cols = dict(PLACE_COLUMNS)
    if "tipo_code" in municipalities.columns:
        cols["inpi_typology"] = "tipo_code"
    for name, src in cols.items():
        values = municipalities[src].astype(object).to_numpy()
        col = np.full(index.shape, None, dtype=object)
        col[ok] = values[index[ok]]
        out[name] = col
    return pd.DataFrame(out)
