"""Exclusions: how much of each cell can host a plant, and which layers took the rest.

Every exclusion polygon layer is burnt on a fine raster (``exclusion_resolution_m``,
100 m by default, :data:`siting.parameters.EXCLUSION_RESOLUTION_M`) aligned with the
screening lattice, so that each cell holds ``n x n`` pixels; counting the burnt pixels
per cell gives the share of the cell each layer covers and, from their union, the
cell's available fraction (as NREL's reV aggregates its exclusion rasters into
supply-curve cells).  GDAL burns a pixel when its centre lies inside a polygon
(``all_touched=False``), so the count is an unbiased estimate of the covered area.
Slope stays a per-cell test at the DEM's resolution (~1 km).  Layers:

=====================  ==========================================================
code                   what (source; buffer parameter)
=====================  ==========================================================
``protected_area``     state protected natural areas (CONABIO 2009; ``protected_area_buffer_m``)
``urban_area``         urban localities (INEGI ``ambito == 'urbano'``; ``urban_buffer_m``)
``village``            rural block localities (INEGI ``ambito == 'rural'``; ``village_buffer_m``)
``water_body``         lakes and reservoirs (GSHHG; ``water_buffer_m``)
``river``              major rivers, WDBII classes 1-3 (GSHHG; ``river_buffer_m``)
``<name>``             any officer-imported layer (e.g. federal ANPs; ``extra_buffer_m``)
``slope``              slope above ``TechnologyParameters.slope_limit_pct`` (whole cell)
``no_terrain_data``    no DEM value (sea, outside Mexico; whole cell)
=====================  ==========================================================

Pixels outside the screened area (the sea, a neighbouring state or country beyond
a corridor, the land beyond a drawn polygon) are not available either; they are
counted apart (``outside_area_fraction``).
"""

from __future__ import annotations

import math
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
    "MAX_CHUNK_PIXELS",
    "MAX_SUBDIVISIONS",
    "ExclusionLayer",
    "ExclusionShares",
    "prepare_exclusion_layers",
    "subdivisions",
    "exclusion_shares",
    "reason_texts",
    "rasterize_index",
    "row_codes",
    "overlap_km2",
]

#: Segments per quarter circle of the buffers (4 keeps the rounding error of a
#: 1 km buffer under 1 %, ``1 - cos(π/16)``, at a fraction of the cost of 16).
BUFFER_QUAD_SEGMENTS = 4
_NAME_COLUMNS = ("nombre", "name", "nom_loc", "NOMBRE", "NAME")
#: Codes of the built-in layers and per-cell tests, which an imported layer may not take.
RESERVED_CODES = ("protected_area", "urban_area", "village", "water_body", "river", "slope", "no_terrain_data")
#: Largest fine raster burnt at once (pixels); a tile is cut into blocks of whole cells
#: below it, so memory stays bounded whatever the tile and cell size (~10 MB per layer).
MAX_CHUNK_PIXELS = 10_000_000
#: Most pixels per cell side: a 100 km cell (the coarsest lattice) at the default 100 m, a
#: million pixels per cell; finer rasters for larger cells are refused.
MAX_SUBDIVISIONS = 1000


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

    @cached_property
    def tree(self) -> shapely.STRtree:
        """STRtree over the geometries (built once, on first use)."""
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
    rivers: gpd.GeoDataFrame | None = None,
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
    rivers : GeoDataFrame, optional
        Major river centre lines (GSHHG/WDBII), buffered by ``params.river_buffer_m``;
        no ``river`` layer when omitted or when that buffer is 0. [EPSG:6372]
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
    if rivers is not None and params.river_buffer_m > 0:  # a line has no area: 0 m leaves rivers out
        out.append(_layer("river", "major river", rivers, params.river_buffer_m))
    for name, frame in (extra_layers or {}).items():
        if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None:
            raise ValueError(f"extra layer {name!r} must be a GeoDataFrame with a CRS")
        code = str(name).strip().replace(" ", "_") or "extra"
        if code in {layer.code for layer in out} or code in RESERVED_CODES:
            raise ValueError(f"extra layer name {name!r} collides with a built-in exclusion")
        out.append(_layer(code, f"imported layer '{name}'", frame.to_crs(PROJECTED_CRS), params.extra_buffer_m))
    return tuple(out)


@dataclass(frozen=True)
class ExclusionShares:
    """How much of each cell every exclusion layer covers (:func:`exclusion_shares`).

    Attributes
    ----------
    fractions : ndarray (n_cells, n_layers)
        Share of each cell inside the screened area covered by each layer (layers
        may overlap, so the shares of a cell may add up to more than its excluded
        share). [-]
    label_index : ndarray of int (n_cells, n_layers)
        ``1 +`` the index of the polygon holding the cell's centre, else of the last
        polygon of the layer touching the cell; 0 where none does.
    excluded_fraction : ndarray (n_cells,)
        Share of each cell inside the screened area covered by any layer (the
        union). [-]
    outside_fraction : ndarray (n_cells,)
        Share of each cell outside the screened area. [-]
    subdivisions : int
        Pixels per cell side of the exclusion raster.
    """

    fractions: np.ndarray
    label_index: np.ndarray
    excluded_fraction: np.ndarray
    outside_fraction: np.ndarray
    subdivisions: int

    @property
    def available_fraction(self) -> np.ndarray:
        """Share of each cell inside the screened area and outside every layer. [-]"""
        return np.clip(1.0 - self.outside_fraction - self.excluded_fraction, 0.0, 1.0)


def subdivisions(cell_size_m: float, exclusion_resolution_m: float) -> int:
    """Pixels per cell side: the cell side over the exclusion resolution, rounded up.

    The pixel side is then ``cell_size_m / n``, the resolution asked for or finer,
    so that pixels tile every cell exactly.

    Examples
    --------
    >>> subdivisions(1000.0, 100.0), subdivisions(250.0, 100.0), subdivisions(100.0, 100.0)
    (10, 3, 1)

    Raises
    ------
    ValueError
        More than :data:`MAX_SUBDIVISIONS` pixels per side.
    """
    if not (cell_size_m > 0 and exclusion_resolution_m > 0):
        raise ValueError(f"cell size and exclusion resolution must be > 0 m, got {cell_size_m}, {exclusion_resolution_m}")
    n = max(1, int(math.ceil(cell_size_m / exclusion_resolution_m - 1e-9)))
    if n > MAX_SUBDIVISIONS:
        raise ValueError(
            f"exclusion_resolution_m: {exclusion_resolution_m:g} m makes {n} pixels per side of a "
            f"{cell_size_m:g} m cell, more than {MAX_SUBDIVISIONS}; use a coarser exclusion resolution")
    return n


def _block_sum(fine: np.ndarray, n: int) -> np.ndarray:
    """Burnt pixels per cell of a boolean ``(h n, w n)`` raster: rows of ``n`` first, in small integers."""
    h, w = fine.shape[0] // n, fine.shape[1] // n
    row_dtype = np.uint8 if n <= 255 else np.uint32
    cell_dtype = np.uint16 if n <= 255 else np.uint64
    per_row = np.add.reduce(fine.view(np.uint8).reshape(h * n * w, n), axis=1, dtype=row_dtype)
    return per_row.reshape(h, n, w).sum(axis=1, dtype=cell_dtype)


def _burn(layer: ExclusionLayer, transform: Affine, shape: tuple[int, int], *, value_index: bool = False,
          all_touched: bool = False) -> np.ndarray | None:
    """Raster of a layer over a window (None when no polygon reaches it).

    ``value_index=False``: 1 where a pixel's centre is inside a polygon (uint8);
    ``value_index=True``: ``1 +`` the index of the last polygon burnt (int32).
    """
    if len(layer.geometries) == 0:
        return None
    x0, y1 = transform.c, transform.f
    x1, y0 = x0 + transform.a * shape[1], y1 + transform.e * shape[0]
    hit = np.sort(layer.tree.query(shapely.box(x0, y0, x1, y1), predicate="intersects"))
    if hit.size == 0:
        return None
    shapes = layer.shapes
    values = (hit + 1).astype(np.int32) if value_index else np.ones(hit.size, dtype=np.uint8)
    out = np.zeros(shape, dtype=np.int32 if value_index else np.uint8)
    return features.rasterize(zip((shapes[i] for i in hit), values), out=out, transform=transform,
                              all_touched=all_touched)


def exclusion_shares(
    layers: tuple[ExclusionLayer, ...],
    transform: Affine,
    shape: tuple[int, int],
    rows: np.ndarray,
    cols: np.ndarray,
    n: int,
    *,
    area=None,
    max_pixels: int = MAX_CHUNK_PIXELS,
) -> ExclusionShares:
    """Share of each cell covered by each exclusion layer, from a raster ``n`` times finer.

    Parameters
    ----------
    layers : tuple of ExclusionLayer
        Buffered layers. [EPSG:6372]
    transform : Affine
        North-up transform of the block of cells (one pixel per cell). [EPSG:6372]
    shape : tuple of int
        ``(rows, cols)`` of the block.
    rows, cols : ndarray of int
        Position of each cell in the block.
    n : int
        Pixels per cell side (:func:`subdivisions`).
    area : shapely geometry, optional
        The screened area: pixels outside it are neither available nor excluded
        (``outside_fraction``). [EPSG:6372]
    max_pixels : int
        Largest raster burnt at once (or one cell's, if larger); the block is burnt in
        blocks of whole cells below it.

    Returns
    -------
    ExclusionShares

    Notes
    -----
    Each layer is burnt with ``rasterio.features.rasterize`` (``all_touched=False``:
    a pixel is covered when its centre is inside) on the grid of pixel side
    ``transform.a / n``; the share of layer ``k`` in a cell is its burnt pixels
    inside the area over ``n²``.  The pixel-centre rule errs by at most half a
    pixel along each polygon edge, with no bias, so a cell's share is within
    ``edge length inside the cell x pixel / 2 / cell area`` of the exact overlap.
    The name of a cell's feature is that of the polygon holding the cell's centre
    when the layer covers it, else of the last polygon of the layer touching the cell
    (rasters at the cell size).
    """
    if n < 1:
        raise ValueError(f"subdivisions must be >= 1, got {n}")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    nrows, ncols = shape
    k = len(layers)
    covered = np.zeros((k, nrows, ncols), dtype=np.int64)
    label = np.zeros((k, nrows, ncols), dtype=np.int32)
    union = np.zeros((nrows, ncols), dtype=np.int64)
    inside = np.full((nrows, ncols), n * n, dtype=np.int64)
    col_step = max(1, min(ncols, int(max_pixels) // (n * n)))
    row_step = max(1, int(max_pixels) // (col_step * n * n))
    busy = np.zeros((nrows, ncols), dtype=bool)
    busy[rows, cols] = True
    fine_t = transform @ Affine.scale(1.0 / n)
    if area is not None:
        shapely.prepare(area)
    for r0 in range(0, nrows, row_step):  # blocks of cells of at most max_pixels pixels, not cells
        r1 = min(nrows, r0 + row_step)
        for c0 in range(0, ncols, col_step):
            c1 = min(ncols, c0 + col_step)
            if not busy[r0:r1, c0:c1].any():
                continue
            block = (slice(r0, r1), slice(c0, c1))
            t = fine_t @ Affine.translation(c0 * n, r0 * n)
            fine_shape = ((r1 - r0) * n, (c1 - c0) * n)
            mask = None
            x0, y1 = t.c, t.f
            if area is not None and not shapely.contains_properly(
                    area, shapely.box(x0, y1 + t.e * fine_shape[0], x0 + t.a * fine_shape[1], y1)):
                mask = features.rasterize([(area, 1)], out=np.zeros(fine_shape, dtype=np.uint8), transform=t,
                                          all_touched=False).view(bool)
                inside[block] = _block_sum(mask, n)
                if (inside[block] == n * n).all():
                    mask = None  # the block lies inside the area: nothing to mask
            hit_any = None
            for j, layer in enumerate(layers):
                hit = _burn(layer, t, fine_shape)
                if hit is None:
                    continue
                hit = hit.view(bool)
                if mask is not None:
                    hit &= mask
                covered[(j, *block)] = _block_sum(hit, n)
                coarse_t, coarse_shape = transform @ Affine.translation(c0, r0), (r1 - r0, c1 - c0)
                centre = _burn(layer, coarse_t, coarse_shape, value_index=True)
                touched = _burn(layer, coarse_t, coarse_shape, value_index=True, all_touched=True)
                label[(j, *block)] = np.where(centre > 0, centre, touched)
                if hit_any is None:
                    hit_any = hit
                else:
                    hit_any |= hit
            if hit_any is not None:
                union[block] = _block_sum(hit_any, n)
    pixels = float(n * n)
    return ExclusionShares(
        fractions=(covered[:, rows, cols] / pixels).T.reshape(rows.size, k),
        label_index=label[:, rows, cols].T.reshape(rows.size, k),
        excluded_fraction=union[rows, cols] / pixels,
        outside_fraction=1.0 - inside[rows, cols] / pixels,
        subdivisions=n,
    )


def _percent_text(values: np.ndarray) -> np.ndarray:
    """``"12.3 %"`` for each share (formatted once per distinct rounded value)."""
    uniq, inverse = np.unique(np.round(values, 4), return_inverse=True)
    return np.asarray([f"{100.0 * v:.3g} %" for v in uniq], dtype=object)[inverse]


def reason_texts(stems: list[str], fractions: np.ndarray, names: list[np.ndarray | None]) -> np.ndarray:
    """One ``exclusion_reasons`` text per cell: every reason with its share, and a name.

    Parameters
    ----------
    stems : list of str
        Reason of each column (e.g. ``"state protected area (+0 m)"``).
    fractions : ndarray (n_cells, n_reasons)
        Share of each cell taken by each reason (0 = not at all). [-]
    names : list of (ndarray of str (n_cells,) or None)
        Name of a feature of each reason in each cell (``""`` or None: no name).

    Returns
    -------
    ndarray of str (n_cells,)
        ``"stem: 50 % (name); stem: 100 %"``, reasons in column order, ``""`` for a
        cell nothing takes.

    Notes
    -----
    Built column by column over the cells a reason reaches (no loop over cells);
    shares are formatted once per distinct value.

    Examples
    --------
    >>> reason_texts(["lake"], np.array([[0.5], [0.0]]), [np.array(["Chapala", ""])]).tolist()
    ['lake: 50 % (Chapala)', '']
    """
    fractions = np.asarray(fractions, dtype=float)
    out = np.full(fractions.shape[0], "", dtype=object)
    for j, stem in enumerate(stems):  # reasons, not cells
        idx = np.nonzero(fractions[:, j] > 0)[0]
        if idx.size == 0:
            continue
        part = stem + ": " + _percent_text(fractions[idx, j])
        if names[j] is not None:
            name = np.asarray(names[j], dtype=object)[idx]
            named = name != ""
            part[named] = part[named] + " (" + name[named] + ")"
        current = out[idx]
        out[idx] = np.where(current == "", part, current + "; " + part)
    return out.astype(str)


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
