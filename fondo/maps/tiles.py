"""XYZ map tiles (Web Mercator, EPSG:3857) rendered from a square-cell lattice in EPSG:6372.

A screening's cells lie on a lattice of ``resolution_m`` squares in EPSG:6372 (Mexico
ITRF2008 LCC, :mod:`siting.grid`): cell ``(ix, iy)`` covers ``[ix r, (ix + 1) r) x
[iy r, (iy + 1) r)``. A :class:`LatticeRaster` holds one value per lattice cell of a
rectangle of the lattice (NaN where there is no cell). A tile is rendered pixel-exactly: the
centre of every one of its 256 x 256 pixels is taken from EPSG:3857 to EPSG:6372 (in closed
form, :mod:`fondo.maps.projection`, equal to pyproj's to well under a millimetre) and looks up
the cell it falls in; the value is coloured through a matplotlib colormap and the
tile is written as PNG with Pillow. No cell is ever resampled, so the map shows the cells as
the screening computed them.

Tile maths (the OSGeo "Tile Map Service" / slippy-map convention used by Leaflet and
OpenStreetMap): at zoom ``z`` the square ``[-E, E]²`` of EPSG:3857, ``E = π · 6 378 137 m``,
is cut into ``2^z x 2^z`` tiles numbered from the north-west corner, ``x`` eastwards and
``y`` southwards.
"""

from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
from matplotlib import colormaps
from PIL import Image

from fondo.errors import InvalidInput
from fondo.maps.projection import lambert_6372, mercator_to_lonlat_deg

__all__ = [
    "EARTH_RADIUS_WEB_MERCATOR_M",
    "MAX_ZOOM",
    "TILE_SIZE_PX",
    "ColourScale",
    "LatticeRaster",
    "empty_tile_png",
    "lattice_index",
    "pixel_centres_3857",
    "pixel_centres_6372",
    "raster_bounds_4326",
    "render_tile",
    "tile_bounds_3857",
]

#: Sphere radius of Web Mercator (EPSG:3857 uses the WGS 84 semi-major axis). [m]
EARTH_RADIUS_WEB_MERCATOR_M = 6_378_137.0
#: Half the side of the EPSG:3857 square. [m]
ORIGIN_SHIFT_M = math.pi * EARTH_RADIUS_WEB_MERCATOR_M
#: Side of a tile. [px]
TILE_SIZE_PX = 256
#: Deepest zoom served: at 18 a pixel is about 0.6 m, finer than the 100 m finest lattice.
MAX_ZOOM = 18
#: zlib level of the PNG tiles: 1 is several times faster than 6 for a few % more bytes.
PNG_COMPRESS_LEVEL = 1

#: Lattice index given to points that did not project (beyond any raster, exact in float64).
FAR_INDEX = 2**52

_LOCAL = threading.local()


def _transformer() -> pyproj.Transformer:
    """EPSG:3857 -> EPSG:6372 (x, y order), one per thread (pyproj objects are not shared)."""
    found = getattr(_LOCAL, "to_6372", None)
    if found is None:
        found = _LOCAL.to_6372 = pyproj.Transformer.from_crs(3857, 6372, always_xy=True)
    return found


def check_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`InvalidInput` naming ``z``, ``x`` or ``y`` when the tile does not exist."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"zoom must be from 0 to {MAX_ZOOM}, got {z}", field="z")
    n = 1 << z
    if not 0 <= x < n:
        raise InvalidInput(f"x must be from 0 to {n - 1} at zoom {z}, got {x}", field="x")
    if not 0 <= y < n:
        raise InvalidInput(f"y must be from 0 to {n - 1} at zoom {z}, got {y}", field="y")


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of tile ``z/x/y`` in EPSG:3857. [m]"""
    check_tile(z, x, y)
    size = 2.0 * ORIGIN_SHIFT_M / (1 << z)
    west = -ORIGIN_SHIFT_M + x * size
    north = ORIGIN_SHIFT_M - y * size
    return west, north - size, west + size, north


def pixel_centres_3857(z: int, x: int, y: int, size_px: int = TILE_SIZE_PX
                       ) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:3857 coordinates of the centres of a tile's pixels, row 0 at the north. [m]

    Returns
    -------
    (xs, ys) : ndarray (size_px, size_px)
    """
    west, south, east, north = tile_bounds_3857(z, x, y)
    step = (east - west) / size_px
    offsets = (np.arange(size_px) + 0.5) * step
    return np.meshgrid(west + offsets, north - offsets)


def pixel_centres_6372(z: int, x: int, y: int, size_px: int = TILE_SIZE_PX
                       ) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:6372 coordinates of the centres of a tile's pixels, row 0 at the north. [m]

    Closed form and separable (:mod:`fondo.maps.projection`): Mercator columns give the
    longitudes and rows the latitudes, then LCC's radius and angle combine them.
    """
    west, south, east, north = tile_bounds_3857(z, x, y)
    step = (east - west) / size_px
    offsets = (np.arange(size_px) + 0.5) * step
    lon, _ = mercator_to_lonlat_deg(west + offsets, np.zeros(size_px))
    _, lat = mercator_to_lonlat_deg(np.zeros(size_px), north - offsets)
    return lambert_6372().grid(lon, lat)


def lattice_index(x_m: np.ndarray, y_m: np.ndarray, resolution_m: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Lattice cell ``(ix, iy)`` holding each EPSG:6372 point (``floor(x / r)``).

    A point that did not project (infinite or NaN: a pole, the far side of the Earth) gets
    the index :data:`FAR_INDEX`, which no raster reaches.
    """
    def index(v: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            q = np.floor(np.asarray(v, float) / resolution_m)
        q = np.where(np.isfinite(q), np.clip(q, -FAR_INDEX, FAR_INDEX), FAR_INDEX)
        return q.astype(np.int64)

    return index(x_m), index(y_m)


@dataclass(frozen=True)
class ColourScale:
    """How values become colours: a matplotlib colormap over ``[vmin, vmax]``.

    Attributes
    ----------
    colormap : str
        Matplotlib colormap name (``viridis``, ``viridis_r``, ``cividis``, ...).
    vmin, vmax : float
        Values given the first and the last colour (clipped beyond).
    alpha : int
        Opacity of a coloured cell, 0-255.
    """

    colormap: str
    vmin: float
    vmax: float
    alpha: int = 200

    def lut(self) -> np.ndarray:
        """256 x 4 RGBA lookup table (uint8)."""
        return _lut(self.colormap, self.alpha)

    def colours(self, values: np.ndarray) -> np.ndarray:
        """RGBA (uint8, ``values.shape + (4,)``) of finite values; NaN is transparent."""
        finite = np.isfinite(values)
        span = self.vmax - self.vmin
        scaled = (values - self.vmin) / span if span > 0 else np.zeros_like(values)
        index = np.clip(np.nan_to_num(scaled) * 255.0, 0, 255).astype(np.uint8)
        rgba = self.lut()[index]
        rgba[~finite] = 0
        return rgba

    def legend(self, stops: int = 5) -> list[dict]:
        """``[{"value", "colour"}]`` at ``stops`` evenly spaced values (for the page)."""
        values = np.linspace(self.vmin, self.vmax, stops)
        rgba = self.colours(values)
        return [{"value": float(v), "colour": "#{:02x}{:02x}{:02x}".format(*c[:3])}
                for v, c in zip(values, rgba, strict=True)]


@lru_cache(maxsize=32)
def _lut(name: str, alpha: int) -> np.ndarray:
    lut = (colormaps[name](np.linspace(0.0, 1.0, 256)) * 255.0).round().astype(np.uint8)
    lut[:, 3] = alpha
    lut.setflags(write=False)
    return lut


@dataclass(frozen=True)
class LatticeRaster:
    """Values on a rectangle of the EPSG:6372 lattice of side ``resolution_m``.

    Attributes
    ----------
    resolution_m : float
        Cell side. [m]
    ix0, iy0 : int
        Lattice index of ``values[0, 0]`` (``values[row, col]`` is cell ``(ix0 + col,
        iy0 + row)``; rows go north).
    layers : dict of str to ndarray (rows, cols)
        Named value grids (float, NaN where no value) and, optionally, ``"row"`` (int64,
        -1 where no cell): the row of the source table of each cell.
    """

    resolution_m: float
    ix0: int
    iy0: int
    layers: dict

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return next(iter(self.layers.values())).shape

    @property
    def bounds_6372(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` covered. [m]"""
        rows, cols = self.shape
        r = self.resolution_m
        return (self.ix0 * r, self.iy0 * r, (self.ix0 + cols) * r, (self.iy0 + rows) * r)

    def lookup(self, name: str, x_m: np.ndarray, y_m: np.ndarray, fill=np.nan) -> np.ndarray:
        """Value of grid ``name`` at EPSG:6372 points (``fill`` outside the rectangle)."""
        grid = self.layers[name]
        ix, iy = lattice_index(x_m, y_m, self.resolution_m)
        col, row = ix - self.ix0, iy - self.iy0
        rows, cols = grid.shape
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        out = np.full(np.shape(x_m), fill, dtype=np.result_type(grid.dtype, np.asarray(fill)))
        out[inside] = grid[row[inside], col[inside]]
        return out


def lattice_raster(x_m: np.ndarray, y_m: np.ndarray, resolution_m: float,
                   values: dict[str, np.ndarray]) -> LatticeRaster:
    """A :class:`LatticeRaster` from cell centres (EPSG:6372) and per-cell values.

    Parameters
    ----------
    x_m, y_m : ndarray (n,)
        Cell centres (or any point inside each cell). [m]
    resolution_m : float
        Lattice cell side. [m]
    values : dict of str to ndarray (n,)
        Per-cell values; the grid ``"row"`` (each cell's position ``0..n-1``) is added.

    Raises
    ------
    ValueError
        Two cells fall in one lattice cell, or the arrays differ in length.
    """
    x_m, y_m = np.asarray(x_m, float), np.asarray(y_m, float)
    if x_m.shape != y_m.shape or any(np.shape(v) != x_m.shape for v in values.values()):
        raise ValueError("cell coordinates and values must have one length")
    if not resolution_m > 0:
        raise ValueError(f"resolution_m must be > 0, got {resolution_m}")
    if x_m.size == 0:
        return LatticeRaster(resolution_m, 0, 0, {"row": np.full((0, 0), -1, np.int64)}
                             | {k: np.full((0, 0), np.nan) for k in values})
    ix, iy = lattice_index(x_m, y_m, resolution_m)
    ix0, iy0 = int(ix.min()), int(iy.min())
    shape = (int(iy.max()) - iy0 + 1, int(ix.max()) - ix0 + 1)
    rows, cols = iy - iy0, ix - ix0
    row_grid = np.full(shape, -1, np.int64)
    row_grid[rows, cols] = np.arange(x_m.size)
    if int((row_grid >= 0).sum()) != x_m.size:
        raise ValueError("two cells fall in one lattice cell: wrong resolution_m?")
    layers = {"row": row_grid}
    for name, v in values.items():
        grid = np.full(shape, np.nan, np.float32)
        grid[rows, cols] = np.asarray(v, np.float32)
        layers[name] = grid
    return LatticeRaster(float(resolution_m), ix0, iy0, layers)


def raster_bounds_4326(raster: LatticeRaster) -> list[float] | None:
    """``[west, south, east, north]`` of a raster's rectangle in EPSG:4326 (its outline
    densified, so the LCC curvature is inside), or None when it is empty. [°]"""
    if raster.layers["row"].size == 0:
        return None
    xmin, ymin, xmax, ymax = raster.bounds_6372
    t = np.linspace(0.0, 1.0, 17)
    xs = np.concatenate([xmin + (xmax - xmin) * t, np.full(17, xmax), xmax - (xmax - xmin) * t,
                         np.full(17, xmin)])
    ys = np.concatenate([np.full(17, ymin), ymin + (ymax - ymin) * t, np.full(17, ymax),
                         ymax - (ymax - ymin) * t])
    lon, lat = pyproj.Transformer.from_crs(6372, 4326, always_xy=True).transform(xs, ys)
    return [float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))]


@lru_cache(maxsize=4)
def empty_tile_png(size_px: int = TILE_SIZE_PX) -> bytes:
    """A fully transparent PNG tile."""
    buffer = io.BytesIO()
    Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def _tile_misses(raster: LatticeRaster, z: int, x: int, y: int) -> bool:
    """True when the tile surely lies outside the raster (its densified outline, taken to
    EPSG:6372, has a bounding box disjoint from the raster's, with one cell of margin)."""
    west, south, east, north = tile_bounds_3857(z, x, y)
    t = np.linspace(0.0, 1.0, 9)
    xs = np.concatenate([west + (east - west) * t, np.full(9, east),
                         east - (east - west) * t, np.full(9, west)])
    ys = np.concatenate([np.full(9, north), north - (north - south) * t,
                         np.full(9, south), south + (north - south) * t])
    px, py = _transformer().transform(xs, ys)
    xmin, ymin, xmax, ymax = raster.bounds_6372
    r = raster.resolution_m
    return bool(np.nanmax(px) < xmin - r or np.nanmin(px) > xmax + r
                or np.nanmax(py) < ymin - r or np.nanmin(py) > ymax + r)


def render_tile(raster: LatticeRaster, z: int, x: int, y: int, layer: str,
                scale: ColourScale, *, masked: str | None = None,
                mask_rgba: tuple[int, int, int, int] = (110, 110, 110, 150),
                size_px: int = TILE_SIZE_PX) -> bytes:
    """PNG of tile ``z/x/y``: each pixel coloured by the lattice cell under its centre.

    Parameters
    ----------
    raster : LatticeRaster
    z, x, y : int
        The tile (slippy-map numbering).
    layer : str
        Grid of ``raster`` to colour through ``scale``.
    scale : ColourScale
    masked : str, optional
        A grid whose non-zero cells are painted ``mask_rgba`` instead (excluded cells).
    size_px : int

    Returns
    -------
    bytes
        PNG (RGBA); transparent where there is no cell.

    Raises
    ------
    InvalidInput
        The tile does not exist (field ``z``, ``x`` or ``y``).
    """
    check_tile(z, x, y)
    if raster.layers["row"].size == 0 or _tile_misses(raster, z, x, y):
        return empty_tile_png(size_px)
    px, py = pixel_centres_6372(z, x, y, size_px)
    values = raster.lookup(layer, px, py)
    rgba = scale.colours(values)
    if masked is not None:
        hide = raster.lookup(masked, px, py, fill=0.0)
        rgba[np.nan_to_num(hide) != 0] = mask_rgba
    if not rgba[..., 3].any():
        return empty_tile_png(size_px)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()
