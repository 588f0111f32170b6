"""Exclusions: which cells cannot host a plant, each with its reason.

A cell is excluded by a polygon layer when its centre lies in one of the
layer's (buffered) polygons — the centroid rule of the whole screening — and
by slope when its DEM slope exceeds the technology limit.  Layers:

=====================  ==========================================================
code                   what (source; buffer parameter)
=====================  ==========================================================
``protected_area``     state protected natural areas (CONABIO 2009; ``protected_area_buffer_m``)
``urban_area``         urban localities (INEGI ``ambito == 'urbano'``; ``urban_buffer_m``)
``village``            rural block localities (INEGI ``ambito == 'rural'``; ``village_buffer_m``)
``water_body``         lakes and reservoirs (GSHHG; ``water_buffer_m``)
``<name>``             any officer-imported layer (e.g. federal ANPs; ``extra_buffer_m``)
``slope``              slope above ``TechnologyParameters.slope_limit_pct``
``no_terrain_data``    no DEM value (sea, outside Mexico)
=====================  ==========================================================

Polygons are rasterised on the cells' lattice (GDAL burns a cell when its
centre is inside), so no per-cell Python loop runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio import features

from siting.parameters import PROJECTED_CRS, ExclusionParameters

__all__ = [
    "BUFFER_QUAD_SEGMENTS",
    "ExclusionLayer",
    "prepare_exclusion_layers",
    "rasterize_index",
    "combine_reasons",
    "row_codes",
    "overlap_km2",
]

#: Segments per quarter circle of the buffers (4 keeps the rounding error of a
#: 1 km buffer under 1 %, ``1 - cos(π/16)``, at a fraction of the cost of 16).
BUFFER_QUAD_SEGMENTS = 4
_NAME_COLUMNS = ("nombre", "name", "nom_loc", "NOMBRE", "NAME")


@dataclass(frozen=True)
class ExclusionLayer:
    """One buffered exclusion layer, ready to rasterise.

    Attributes
    ----------
    code : str
        Short code (``protected_area``, ``urban_area``, ...).
    reason : str
        Human-readable reason stem, e.g. ``"state protected area (+0 m)"``.
    geometries : ndarray of shapely geometries
        Buffered polygons. [EPSG:6372]
    labels : ndarray of str
        Name of each polygon (``""`` when unnamed).
    """

    code: str
    reason: str
    geometries: np.ndarray
    labels: np.ndarray

    @cached_property
    def shapes(self) -> list:
        """GeoJSON-like mappings of the geometries (rasterisation input, built once)."""
        return [g.__geo_interface__ for g in self.geometries]

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree over the geometries (built on demand; site checks only)."""
        return shapely.STRtree(self.geometries)


def _labels(frame: gpd.GeoDataFrame) -> np.ndarray:
    for col in _NAME_COLUMNS:
        if col in frame.columns:
            return frame[col].fillna("").astype(str).to_numpy()
    return np.full(len(frame), "", dtype=object).astype(str)


def _layer(code: str, reason: str, frame: gpd.GeoDataFrame, buffer_m: float) -> ExclusionLayer:
    if frame.crs is None or frame.crs != PROJECTED_CRS:
        raise ValueError(f"exclusion layer {code!r} must be in {PROJECTED_CRS}, got {frame.crs}")
    if buffer_m < 0:
        raise ValueError(f"buffer of {code!r} must be >= 0 m, got {buffer_m}")
    geoms = frame.geometry.values
    keep = ~(shapely.is_missing(np.asarray(geoms)) | shapely.is_empty(np.asarray(geoms)))
    geoms = np.asarray(geoms)[keep]
    if buffer_m > 0:
        geoms = shapely.buffer(geoms, buffer_m, quad_segs=BUFFER_QUAD_SEGMENTS)
    return ExclusionLayer(code, f"{reason} (+{buffer_m:g} m)", geoms, _labels(frame)[keep])


def prepare_exclusion_layers(
    *,
    protected_areas: gpd.GeoDataFrame,
    localities_polygons: gpd.GeoDataFrame,
    water_bodies: gpd.GeoDataFrame,
    params: ExclusionParameters = ExclusionParameters(),
    extra_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
) -> tuple[ExclusionLayer, ...]:
    """Buffer the exclusion layers once (reused by every tile of a run).

    Parameters
    ----------
    protected_areas : GeoDataFrame
        State protected areas, ``nombre``. [EPSG:6372]
    localities_polygons : GeoDataFrame
        INEGI localities with ``ambito`` (``urbano`` / ``rural``). [EPSG:6372]
    water_bodies : GeoDataFrame
        Lakes. [EPSG:6372]
    params : ExclusionParameters
        Buffers.
    extra_layers : mapping of str to GeoDataFrame, optional
        Officer-imported layers by name (any CRS; reprojected to EPSG:6372).

    Returns
    -------
    tuple of ExclusionLayer
    """
    urban = localities_polygons[localities_polygons["ambito"] == "urbano"]
    rural = localities_polygons[localities_polygons["ambito"] == "rural"]
    out = [
        _layer("protected_area", "state protected area", protected_areas, params.protected_area_buffer_m),
        _layer("urban_area", "urban locality", urban, params.urban_buffer_m),
        _layer("village", "village (rural block locality)", rural, params.village_buffer_m),
        _layer("water_body", "lake or reservoir", water_bodies, params.water_buffer_m),
    ]
    for name, frame in (extra_layers or {}).items():
        if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
            raise ValueError(f"extra layer {name!r} must be a GeoDataFrame with a CRS")
        code = str(name).strip().replace(" ", "_") or "extra"
        if code in {layer.code for layer in out} or code in ("slope", "no_terrain_data"):
            raise ValueError(f"extra layer name {name!r} collides with a built-in exclusion")
        out.append(_layer(code, f"imported layer '{name}'", frame.to_crs(PROJECTED_CRS), params.extra_buffer_m))
    return tuple(out)


def rasterize_index(
    geometries: np.ndarray, transform: Affine, shape: tuple[int, int], shapes: list | None = None
) -> np.ndarray:
    """Rasterise polygons, burning ``index + 1`` of the polygon holding each cell centre.

    Parameters
    ----------
    geometries : ndarray of shapely geometries
        Polygons in the CRS of ``transform``.
    transform : Affine
        North-up transform of the cell block.
    shape : tuple of int
        ``(rows, cols)``.
    shapes : list, optional
        Pre-built GeoJSON-like mappings of ``geometries`` (same order).

    Returns
    -------
    ndarray of int32 (rows, cols)
        0 where no polygon holds the centre, else 1 + the polygon's index (the
        last polygon wins where several overlap).
    """
    if len(geometries) == 0:
        return np.zeros(shape, dtype=np.int32)
    xmin = transform.c
    ymax = transform.f
    xmax = xmin + transform.a * shape[1]
    ymin = ymax + transform.e * shape[0]
    window = shapely.box(xmin, ymin, xmax, ymax)
    hit = np.nonzero(shapely.intersects(geometries, window))[0]
    if hit.size == 0:
        return np.zeros(shape, dtype=np.int32)
    source = geometries[hit] if shapes is None else [shapes[i] for i in hit]
    pairs = zip(source, (hit + 1).astype(np.int32))
    return features.rasterize(pairs, out_shape=shape, transform=transform, fill=0, dtype="int32")


def combine_reasons(codes: list[str], index: np.ndarray, labels: list[np.ndarray]) -> np.ndarray:
    """Build one ``exclusion_reasons`` string per cell without a per-cell loop.

    Parameters
    ----------
    codes : list of str
        Reason stem of each layer (e.g. ``"state protected area (+0 m)"``).
    index : ndarray of int (n_cells, n_layers)
        0 = not excluded by the layer, else 1 + the polygon index.
    labels : list of ndarray of str
        Names of each layer's polygons (``labels[k][index - 1]``).

    Returns
    -------
    ndarray of str (n_cells,)
        ``"stem: name; stem: name"`` ("" when not excluded).

    Notes
    -----
    The distinct rows of ``index`` are found by hashing (``row_codes``) and
    only those (a few thousand at most) are formatted.
    """
    if index.shape[0] == 0:
        return np.zeros(0, dtype=object).astype(str)
    inverse, first = row_codes(index)
    uniq = index[first]
    texts = []
    for row in uniq:  # loop over distinct combinations, not cells
        parts = []
        for k, v in enumerate(row):
            if v:
                name = labels[k][v - 1] if labels[k].size else ""
                parts.append(f"{codes[k]}: {name}" if name else codes[k])
        texts.append("; ".join(parts))
    return np.asarray(texts, dtype=object)[inverse]


def row_codes(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each distinct row of an integer table, without sorting rows.

    Parameters
    ----------
    table : ndarray of int (n, m)

    Returns
    -------
    codes : ndarray of int (n,)
        Equal rows get equal codes, ``0..n_distinct-1``.
    first : ndarray of int (n_distinct,)
        Position of the first row of each code.
    """
    table = np.asarray(table)
    codes = np.zeros(table.shape[0], dtype=np.int64)
    for j in range(table.shape[1]):  # columns, not cells
        col_codes, col_uniques = pd.factorize(table[:, j])
        codes, _ = pd.factorize(codes * (len(col_uniques) + 1) + col_codes)
    n_codes = int(codes.max()) + 1 if codes.size else 0
    first = np.full(n_codes, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]
    return codes, first


def overlap_km2(layer: ExclusionLayer, geometry_6372) -> tuple[float, list[str]]:
    """Area of a site polygon covered by an exclusion layer, and the names hit.

    Parameters
    ----------
    layer : ExclusionLayer
        Buffered layer. [EPSG:6372]
    geometry_6372 : shapely geometry
        Site polygon or point. [EPSG:6372]

    Returns
    -------
    area_km2 : float
        Covered area (0 for a point outside; for a point inside, 0 as well —
        use the names list). [km²]
    names : list of str
        Names of the polygons that intersect the site.
    """
    if len(layer.geometries) == 0:
        return 0.0, []
    hits = layer.tree.query(geometry_6372, predicate="intersects")
    if hits.size == 0:
        return 0.0, []
    covered = shapely.intersection(shapely.union_all(layer.geometries[hits]), geometry_6372)
    names = sorted({str(x) for x in layer.labels[hits] if str(x)})
    return float(covered.area) / 1e6, names or [layer.code]
