"""Screening grid: square cells on a fixed EPSG:6372 lattice, tiles, input areas.

Every cell of every screening lies on one global lattice: at resolution ``r``
metres, cell ``(ix, iy)`` is the square ``[ix*r, (ix+1)*r) x [iy*r, (iy+1)*r)``
in EPSG:6372 (Mexico ITRF2008 / LCC) coordinates.  Its ``cell_id`` is
``"6372:{r}:{x_ll}:{y_ll}"`` built from the resolution and the lower-left
corner [m], so the same cell has the same id in every run and every tile.  A
cell belongs to an area when its centroid lies inside the area (centroid rule,
the same rule used for state and municipality).

This module also turns request geometries (GeoJSON, EPSG:4326) into a
validated area and raises :class:`ScreeningInputError` with the offending
field and a precise reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio import features
from shapely.geometry.base import BaseGeometry

from siting.parameters import (
    CORRIDOR_STATES,
    DEFAULT_RESOLUTION_KM,
    GEOGRAPHIC_CRS,
    MAX_CELLS_DEFAULT,
    PROJECTED_CRS,
)

__all__ = [
    "ScreeningInputError",
    "AreaRequest",
    "Tile",
    "M_PER_KM",
    "BORDER_TOLERANCE_M",
    "MIN_RESOLUTION_KM",
    "MAX_RESOLUTION_KM",
    "corridor_area",
    "parse_area",
    "validate_area",
    "split_tiles",
    "screening_grid",
    "cell_ids",
    "cell_index_of",
    "estimate_cell_count",
    "resolution_m",
]

#: Metres per kilometre.
M_PER_KM = 1000.0
#: Tolerance of the "inside Mexico" test: the national outline
#: (Natural Earth 10 m, about 4 decimals, SOURCES-geo.md §1) is generalised, so
#: a polygon may stick out of it by this much before it "crosses the border". [m]
BORDER_TOLERANCE_M = 2000.0
#: Smallest resolution accepted (the DEM is ~1 km; 0.1 km keeps site-scale use). [km]
MIN_RESOLUTION_KM = 0.1
#: Largest resolution accepted (the MERRA-2 layer is 3°, ~330 km). [km]
MAX_RESOLUTION_KM = 100.0


class ScreeningInputError(ValueError):
    """A screening or site-check request that cannot be answered.

    Parameters
    ----------
    field : str
        The request field at fault (``"geometry"``, ``"geometry.crs"``,
        ``"corridor"``, ``"resolution_km"``, ...).
    reason : str
        A precise, human-readable reason.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class AreaRequest:
    """A validated screening area.

    Attributes
    ----------
    geometry_4326 : shapely geometry
        The area in EPSG:4326 (repaired if it was invalid).
    geometry_6372 : shapely geometry
        The same area in EPSG:6372.
    area_km2 : float
        Area. [km²]
    repairs : tuple of str
        What was repaired (e.g. a self-intersection fixed with ``make_valid``).
    """

    geometry_4326: BaseGeometry
    geometry_6372: BaseGeometry
    area_km2: float
    repairs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tile:
    """A block of the global lattice: columns ``ix0..ix0+ncols-1``, rows ``iy0..iy0+nrows-1``.

    Attributes
    ----------
    ix0, iy0 : int
        Lattice index of the lower-left cell.
    ncols, nrows : int
        Size of the block [cells].
    resolution_m : float
        Cell size. [m]
    """

    ix0: int
    iy0: int
    ncols: int
    nrows: int
    resolution_m: float

    @property
    def transform(self) -> Affine:
        """Affine transform of the block as a north-up raster (row 0 at the top)."""
        r = self.resolution_m
        return Affine(r, 0.0, self.ix0 * r, 0.0, -r, (self.iy0 + self.nrows) * r)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` in EPSG:6372. [m]"""
        r = self.resolution_m
        return (self.ix0 * r, self.iy0 * r, (self.ix0 + self.ncols) * r, (self.iy0 + self.nrows) * r)


def resolution_m(resolution_km: float) -> float:
    """Cell side in metres of a checked resolution (:class:`ScreeningInputError` on ``resolution_km``). [km] -> [m]"""
    if not (isinstance(resolution_km, (int, float)) and math.isfinite(resolution_km)):
        raise ScreeningInputError("resolution_km", f"must be a finite number, got {resolution_km!r}")
    if not MIN_RESOLUTION_KM <= resolution_km <= MAX_RESOLUTION_KM:
        raise ScreeningInputError(
            "resolution_km",
            f"must be between {MIN_RESOLUTION_KM} and {MAX_RESOLUTION_KM} km, got {resolution_km}",
        )
    return float(resolution_km) * M_PER_KM


def corridor_area(states: gpd.GeoDataFrame, corridor: str) -> BaseGeometry:
    """Union of a corridor's state polygons, in the CRS of ``states``.

    Parameters
    ----------
    states : GeoDataFrame
        INEGI states with a ``cve_ent`` column.
    corridor : str
        ``"bajio"`` or ``"noreste"``.

    Returns
    -------
    shapely geometry

    Raises
    ------
    ScreeningInputError
        Unknown corridor.
    """
    key = str(corridor).strip().lower().replace("í", "i")
    if key not in CORRIDOR_STATES:
        raise ScreeningInputError("corridor", f"must be one of {sorted(CORRIDOR_STATES)}, got {corridor!r}")
    chosen = states[states["cve_ent"].isin(CORRIDOR_STATES[key])]
    return shapely.union_all(chosen.geometry.values)


def _geometry_from_geojson(geojson) -> tuple[BaseGeometry, tuple[str, ...]]:
    if isinstance(geojson, (bytes, str)):
        try:
            geojson = json.loads(geojson)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ScreeningInputError("geometry", f"is not valid JSON ({exc})") from None
    if not isinstance(geojson, dict):
        raise ScreeningInputError("geometry", f"must be a GeoJSON object, got {type(geojson).__name__}")
    crs = geojson.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
        accepted = ("EPSG:4326", "urn:ogc:def:crs:EPSG::4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84")
        if name.upper() not in {a.upper() for a in accepted}:
            raise ScreeningInputError(
                "geometry.crs", f"must be EPSG:4326 (longitude/latitude, RFC 7946), got {name or crs!r}"
            )
    kind = geojson.get("type")
    if kind == "FeatureCollection":
        features_ = geojson.get("features") or []
        if not features_:
            raise ScreeningInputError("geometry.features", "the FeatureCollection has no features")
        parts = [_geometry_from_geojson(f)[0] for f in features_]
        return shapely.union_all(parts), ()
    if kind == "Feature":
        geom = geojson.get("geometry")
        if not geom:
            raise ScreeningInputError("geometry.geometry", "the Feature has no geometry")
        return _geometry_from_geojson(geom)
    if kind not in ("Point", "MultiPoint", "Polygon", "MultiPolygon"):
        raise ScreeningInputError(
            "geometry.type", f"must be Point, Polygon or MultiPolygon (or a Feature of one), got {kind!r}"
        )
    coords = geojson.get("coordinates")
    if coords is None or (hasattr(coords, "__len__") and len(coords) == 0):
        raise ScreeningInputError("geometry.coordinates", f"the {kind} has no coordinates")
    try:
        geom = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise ScreeningInputError("geometry.coordinates", f"cannot build a {kind} from them ({exc})") from None
    if geom.is_empty:
        raise ScreeningInputError("geometry.coordinates", f"the {kind} is empty")
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise ScreeningInputError("geometry.coordinates", "contain a non-finite number")
    if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise ScreeningInputError(
            "geometry.coordinates",
            "are not longitude/latitude degrees (|lon| <= 180, |lat| <= 90); is the CRS EPSG:4326?",
        )
    return geom, ()


def parse_area(geojson, *, mexico_4326: BaseGeometry, corridors_4326: BaseGeometry | None = None) -> AreaRequest:
    """Parse a GeoJSON geometry / Feature / FeatureCollection into a validated area.

    Parameters
    ----------
    geojson : dict or str or bytes
        GeoJSON in EPSG:4326 (RFC 7946 axis order: longitude, latitude).  A
        legacy ``crs`` member other than EPSG:4326 / CRS84 is refused.
    mexico_4326 : shapely geometry
        National outline (union of ``mx_states_ne10m.geojson``). [EPSG:4326]
    corridors_4326 : shapely geometry, optional
        Union of the corridor states; when given the area must intersect it.

    Returns
    -------
    AreaRequest

    Raises
    ------
    ScreeningInputError
        With ``field`` and ``reason`` for: invalid JSON, non-4326 CRS, missing
        coordinates, a polygon outside Mexico or crossing its border, an empty
        intersection with the corridors.  A self-intersecting polygon is
        repaired with ``shapely.make_valid`` and the repair is reported in
        ``AreaRequest.repairs``.
    """
    geom, _ = _geometry_from_geojson(geojson)
    return validate_area(geom, mexico_4326=mexico_4326, corridors_4326=corridors_4326)


def validate_area(
    geom: BaseGeometry, *, mexico_4326: BaseGeometry, corridors_4326: BaseGeometry | None = None
) -> AreaRequest:
    """Validate an EPSG:4326 geometry as a screening area (see :func:`parse_area`)."""
    repairs: list[str] = []
    if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_valid:
        why = shapely.is_valid_reason(geom)
        geom = shapely.make_valid(geom)
        geom = shapely.union_all(
            [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        )
        repairs.append(f"invalid polygon ({why}) repaired with make_valid")
        if geom.is_empty:
            raise ScreeningInputError("geometry", f"invalid polygon ({why}) has no area after make_valid")
    series = gpd.GeoSeries([geom, mexico_4326], crs=GEOGRAPHIC_CRS).to_crs(PROJECTED_CRS)
    geom_6372, mexico_6372 = series.iloc[0], series.iloc[1]
    outside = shapely.difference(geom_6372, shapely.buffer(mexico_6372, BORDER_TOLERANCE_M))
    if not shapely.intersects(geom_6372, mexico_6372):
        raise ScreeningInputError("geometry", "lies entirely outside Mexico")
    if not outside.is_empty:
        if geom_6372.geom_type in ("Point", "MultiPoint"):
            raise ScreeningInputError("geometry", "a point lies outside Mexico")
        raise ScreeningInputError(
            "geometry",
            f"crosses Mexico's border: {outside.area / M_PER_KM**2:.1f} km² lie outside "
            f"(tolerance {BORDER_TOLERANCE_M / M_PER_KM:.0f} km)",
        )
    if corridors_4326 is not None and not shapely.intersects(geom, corridors_4326):
        raise ScreeningInputError("geometry", "does not intersect the Bajío or northeast corridor states")
    return AreaRequest(geom, geom_6372, float(geom_6372.area) / M_PER_KM**2, tuple(repairs))


def estimate_cell_count(area_6372: BaseGeometry, resolution_km: float) -> int:
    """Expected number of cells of an area: area / cell area, rounded up. [-]"""
    r = resolution_m(resolution_km)
    return int(math.ceil(float(area_6372.area) / (r * r)))


def split_tiles(
    area_6372: BaseGeometry,
    resolution_km: float = DEFAULT_RESOLUTION_KM,
    tile_cells: int = 50_000,
    *,
    max_cells: int = MAX_CELLS_DEFAULT,
) -> list[Tile]:
    """Split an area's lattice window into square-ish blocks of at most ``tile_cells`` cells.

    Every cell of :func:`screening_grid` over the area falls in exactly one
    tile, so screening the tiles separately and concatenating them gives the
    screening of the area.  Tiles that do not touch the area are dropped.

    Parameters
    ----------
    area_6372 : shapely geometry
        Area in EPSG:6372. [m]
    resolution_km : float
        Cell size. [km]
    tile_cells : int
        Largest number of lattice cells per tile.
    max_cells : int
        Refuse areas with more cells than this.

    Returns
    -------
    list of Tile

    Raises
    ------
    ScreeningInputError
        On a resolution out of range or too many cells (field ``resolution_km``).
    """
    if tile_cells < 1:
        raise ValueError(f"tile_cells must be >= 1, got {tile_cells}")
    r = resolution_m(resolution_km)
    n = estimate_cell_count(area_6372, resolution_km)
    if n > max_cells:
        raise ScreeningInputError(
            "resolution_km",
            f"{resolution_km} km over {area_6372.area / M_PER_KM**2:,.0f} km² makes about {n:,} cells, "
            f"more than the maximum {max_cells:,}; use a coarser resolution or a smaller area",
        )
    xmin, ymin, xmax, ymax = area_6372.bounds
    ix0, iy0 = math.floor(xmin / r), math.floor(ymin / r)
    ix1, iy1 = math.floor(xmax / r), math.floor(ymax / r)
    side = max(1, int(math.isqrt(tile_cells)))
    prepared = area_6372
    shapely.prepare(prepared)
    tiles = []
    for ty in range(iy0, iy1 + 1, side):
        for tx in range(ix0, ix1 + 1, side):
            tile = Tile(tx, ty, min(side, ix1 + 1 - tx), min(side, iy1 + 1 - ty), r)
            if shapely.intersects(prepared, shapely.box(*tile.bounds)):
                tiles.append(tile)
    return tiles


def cell_ids(ix: np.ndarray, iy: np.ndarray, resolution_m: float) -> np.ndarray:
    """Stable cell ids ``"6372:{res}:{x_ll}:{y_ll}"`` (integer metres).

    Parameters
    ----------
    ix, iy : ndarray of int
        Lattice indices.
    resolution_m : float
        Cell size. [m]

    Returns
    -------
    ndarray of str
    """
    r = int(round(resolution_m))
    x = (np.asarray(ix, dtype=np.int64) * r).astype(str).astype(object)
    y = (np.asarray(iy, dtype=np.int64) * r).astype(str).astype(object)
    return (f"6372:{r}:" + x + ":" + y).astype(str)


def cell_index_of(x_m: np.ndarray, y_m: np.ndarray, resolution_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Lattice indices ``(ix, iy)`` of the cells holding EPSG:6372 points. [m]"""
    return (
        np.floor(np.asarray(x_m, dtype=float) / resolution_m).astype(np.int64),
        np.floor(np.asarray(y_m, dtype=float) / resolution_m).astype(np.int64),
    )


def screening_grid(
    area_6372: BaseGeometry,
    resolution_km: float = DEFAULT_RESOLUTION_KM,
    *,
    tile: Tile | None = None,
    max_cells: int = MAX_CELLS_DEFAULT,
) -> gpd.GeoDataFrame:
    """Cells of the global EPSG:6372 lattice whose centroid lies in the area.

    Parameters
    ----------
    area_6372 : shapely geometry
        Area in EPSG:6372. [m]
    resolution_km : float
        Cell size. [km]
    tile : Tile, optional
        Restrict to one tile of :func:`split_tiles`.
    max_cells : int
        Refuse more cells than this (field ``resolution_km``).

    Returns
    -------
    GeoDataFrame
        Columns ``cell_id``, ``ix``, ``iy``, ``x_m``, ``y_m`` (centroid,
        EPSG:6372), ``cell_area_km2`` and the square ``geometry``; CRS EPSG:6372.
        Rows ordered north to south, west to east.

    Notes
    -----
    Membership is computed by rasterising the area on the lattice block with
    GDAL's default rule (a cell is burnt when its centre is inside), i.e. the
    centroid rule, without any per-cell Python loop.

    Examples
    --------
    >>> from shapely import box
    >>> len(screening_grid(box(0, 0, 4000, 4000), 2.0))
    4
    """
    r = resolution_m(resolution_km)
    if tile is None:
        tiles = split_tiles(area_6372, resolution_km, tile_cells=2**62, max_cells=max_cells)
        if not tiles:
            return _empty_grid()
        tile = tiles[0]
    elif not math.isclose(tile.resolution_m, r):
        raise ValueError(f"tile resolution {tile.resolution_m} m differs from resolution_km={resolution_km}")
    mask = features.rasterize(
        [(area_6372, 1)], out_shape=(tile.nrows, tile.ncols), transform=tile.transform, fill=0, dtype="uint8"
    ).astype(bool)
    rows, cols = np.nonzero(mask)
    if rows.size > max_cells:
        raise ScreeningInputError("resolution_km", f"{rows.size:,} cells exceed the maximum {max_cells:,}")
    ix = tile.ix0 + cols.astype(np.int64)
    iy = tile.iy0 + tile.nrows - 1 - rows.astype(np.int64)
    return _grid_frame(ix, iy, r)


def _grid_frame(ix: np.ndarray, iy: np.ndarray, r: float) -> gpd.GeoDataFrame:
    x0 = ix * r
    y0 = iy * r
    geometry = shapely.box(x0, y0, x0 + r, y0 + r)
    return gpd.GeoDataFrame(
        {
            "cell_id": cell_ids(ix, iy, r),
            "ix": ix,
            "iy": iy,
            "x_m": x0 + r / 2.0,
            "y_m": y0 + r / 2.0,
            "cell_area_km2": np.full(ix.shape, (r / M_PER_KM) ** 2),
        },
        geometry=geometry,
        crs=PROJECTED_CRS,
    )


def _empty_grid() -> gpd.GeoDataFrame:
    return _grid_frame(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 1.0)
