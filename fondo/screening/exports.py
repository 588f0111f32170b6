"""Exports of a finished screening: its cells and its supply curve, built once per format.

``cells.geojson`` (RFC 7946) and ``cells.gpkg`` are in EPSG:4326, ``cells.csv`` holds the
attributes with each cell's centre ``longitude``/``latitude``; ``supply-curve.csv`` is the
cumulative available capacity against LCOE per corridor (:mod:`siting.supply_curve`) and
``supply-curve.png`` its figure. Each is written atomically next to the run's cells
(``screenings/<id>/exports/``) on first request and served from there afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from fondo.errors import Conflict, InvalidInput, NotFound
from fondo.jobs import JobState
from fondo.screening.models import ScreeningRun
from fondo.screening.storage import atomic_write, gpkg_writer, read_cells
from siting.parameters import GEOGRAPHIC_CRS
from siting.supply_curve import figure_png, supply_curve, supply_curve_figure

__all__ = [
    "CELL_FORMATS",
    "CURVE_FORMATS",
    "MIME_TYPES",
    "cells_export",
    "load_cells",
    "supply_curve_export",
    "write_cells",
]

#: Formats of ``cells.<format>`` and ``supply-curve.<format>``.
CELL_FORMATS = ("geojson", "gpkg", "csv")
CURVE_FORMATS = ("csv", "png")
#: MIME type of each export.
MIME_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv",
    "png": "image/png",
}


def _finished_cells_path(settings: Mapping[str, Any], run: ScreeningRun) -> Path:
    if run.status is not JobState.SUCCESS or not run.cells_file:
        raise Conflict(f"screening {run.id} is {run.status.value}; its cells are served once it "
                       "has succeeded")
    path = Path(settings["INSTANCE_PATH"]) / run.cells_file
    if not path.is_file():
        raise NotFound(f"the cells file of screening {run.id} is missing ({run.cells_file})")
    return path


def load_cells(settings: Mapping[str, Any], run: ScreeningRun,
               columns: Sequence[str] | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
    """Every cell of a finished run (EPSG:6372), ``rank`` as a nullable integer; with
    ``columns``, only those attributes and no geometry (:func:`read_cells`)."""
    return read_cells(_finished_cells_path(settings, run), columns)


def _cells_writer(cells: gpd.GeoDataFrame, fmt: str) -> Callable[[Path], None]:
    """A writer of ``cells`` as ``fmt`` (for :func:`~fondo.screening.storage.atomic_write`)."""
    if fmt == "csv":
        return lambda path: pd.DataFrame(cells.drop(columns="geometry")).to_csv(path, index=False)
    cells_4326 = cells.to_crs(GEOGRAPHIC_CRS)
    if fmt == "gpkg":
        return gpkg_writer(cells_4326)

    def write_geojson(path: Path) -> None:
        out = cells_4326.copy()
        out["rank"] = out["rank"].astype("float64")
        out.to_file(path, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES"})

    return write_geojson


def cells_export(settings: Mapping[str, Any], run: ScreeningRun, fmt: str) -> Path:
    """A finished run's cells as ``geojson`` / ``gpkg`` (EPSG:4326) or ``csv`` (built once).

    Raises
    ------
    InvalidInput, Conflict, NotFound
        Unknown format; run not finished; cells file missing.
    """
    if fmt not in CELL_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(CELL_FORMATS)}", field="format")
    source = _finished_cells_path(settings, run)
    target = source.parent / "exports" / f"cells.{fmt}"
    if target.is_file():
        return target
    return atomic_write(target, _cells_writer(read_cells(source), fmt))


def supply_curve_export(settings: Mapping[str, Any], run: ScreeningRun, fmt: str) -> Path:
    """A finished run's supply curve as ``csv`` or ``png`` (built once).

    Raises
    ------
    InvalidInput, Conflict, NotFound
        As :func:`cells_export`.
    """
    if fmt not in CURVE_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(CURVE_FORMATS)}", field="format")
    source = _finished_cells_path(settings, run)
    target = source.parent / "exports" / f"supply-curve.{fmt}"
    if target.is_file():
        return target
    curve = supply_curve(read_cells(source), by_corridor=True)
    if fmt == "csv":
        return atomic_write(target, lambda path: curve.to_csv(path, index=False))
    title = f"Supply curve — screening {run.id} ({run.technology.value}, {run.resolution_km:g} km)"
    png = figure_png(supply_curve_figure(curve, title=title))
    return atomic_write(target, lambda path: path.write_bytes(png))


def write_cells(cells: gpd.GeoDataFrame, path: Path) -> Path:
    """Write cells to ``path`` by its suffix (.gpkg, .geojson in EPSG:4326; .csv), atomically.

    Raises
    ------
    InvalidInput
        Another suffix (field ``out``).
    """
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in CELL_FORMATS:
        raise InvalidInput(f"the output file must end in .{', .'.join(CELL_FORMATS)}", field="out")
    return atomic_write(path, _cells_writer(cells, suffix))
