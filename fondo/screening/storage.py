"""Where a screening run keeps its files, and how they are written without half files.

Layout under ``INSTANCE_PATH``::

    screenings/<id>/tiles/<ix0>_<iy0>.gpkg   one tile's cells (EPSG:6372), while running
    screenings/<id>/cells.gpkg               every cell of the run (EPSG:6372), layer "cells"
    screenings/<id>/exports/cells.{geojson,gpkg,csv}, supply-curve.{csv,png}  (on demand)

Every file is written to a temporary name in its folder and moved into place with
:func:`os.replace` (:func:`atomic_write`), so a worker killed mid-write never leaves a half
file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

__all__ = [
    "CELLS_LAYER",
    "atomic_write",
    "gpkg_writer",
    "read_cells",
    "run_dir",
    "tile_path",
]

#: Layer name of the GeoPackages written here.
CELLS_LAYER = "cells"


def run_dir(settings: Mapping[str, Any], screening_id: int) -> Path:
    """``INSTANCE_PATH/screenings/<id>``."""
    return Path(settings["INSTANCE_PATH"]) / "screenings" / str(int(screening_id))


def tile_path(settings: Mapping[str, Any], screening_id: int, tile: Mapping[str, Any]) -> Path:
    """``INSTANCE_PATH/screenings/<id>/tiles/<ix0>_<iy0>.gpkg`` of a tile (as JSON)."""
    return run_dir(settings, screening_id) / "tiles" / f"{int(tile['ix0'])}_{int(tile['iy0'])}.gpkg"


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary)`` then move the temporary file onto ``path`` (same folder).

    Whatever happens in ``write``, no temporary file (nor SQLite journal) is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
        for suffix in ("-journal", "-wal", "-shm"):
            Path(f"{temporary}{suffix}").unlink(missing_ok=True)
    return path


def gpkg_writer(frame: gpd.GeoDataFrame) -> Callable[[Path], None]:
    """A writer of ``frame`` as the GeoPackage layer ``cells`` (for :func:`atomic_write`)."""
    def write(path: Path) -> None:
        out = frame.copy()
        if "rank" in out.columns:
            out["rank"] = out["rank"].astype("float64")  # GeoPackage has no nullable integer
        out.to_file(path, layer=CELLS_LAYER, driver="GPKG", engine="pyogrio")

    return write


def read_cells(path: Path, columns: Sequence[str] | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
    """The cells of a GeoPackage written by :func:`gpkg_writer`, ``rank`` as ``Int64``.

    With ``columns``, only those attributes (the ones the file has) and no geometry: a
    corridor's 480,000 cells carry about 50 attributes, and decoding all of them (and the
    polygons) takes most of a full read.
    """
    if columns is None:
        frame = gpd.read_file(path, layer=CELLS_LAYER, engine="pyogrio")
    else:
        present = set(pyogrio.read_info(path, layer=CELLS_LAYER)["fields"])
        frame = pyogrio.read_dataframe(path, layer=CELLS_LAYER, read_geometry=False,
                                       columns=[c for c in columns if c in present])
    if "rank" in frame.columns:
        frame["rank"] = frame["rank"].astype("Int64")
    return frame
