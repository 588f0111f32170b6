"""The work of a run: screen each tile into its file, count them, join them, store the run.

Idempotent, so retried or re-delivered tasks never duplicate a result: a tile whose file
exists is not recomputed, and storing a run that has succeeded returns its stored result
without writing anything. Files are written with
:func:`~fondo.screening.storage.atomic_write`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from fondo.db import session_scope
from fondo.heartbeat import JobLost
from fondo.jobs import Job, JobState
from fondo.orm import utcnow
from fondo.request_body import non_finite_path
from fondo.screening.models import ScreeningRun
from fondo.screening.request import jsonable, tile_from_json
from fondo.screening.runs import links, load_run_row, run_inputs
from fondo.screening.storage import (
    atomic_write,
    gpkg_writer,
    read_cells,
    run_dir,
    tile_path,
)
from siting.screening import EXCLUDED_FRACTION_PREFIX, concat_tiles, prepared_triggers, screen_area
from siting.supply_curve import supply_curve

__all__ = ["TOP_CELLS", "screen_tile", "store_screening", "summarize", "tile_progress"]

#: Cells listed in a run's summary as the best ranked.
TOP_CELLS = 10
#: Area and capacity columns of the cells, checked finite in every cell before a run is stored.
AREA_COLUMNS = ("cell_area_km2", "available_fraction", "available_km2", "available_area_km2",
                "outside_area_fraction", "capacity_mw")


def screen_tile(settings: Mapping[str, Any], screening_id: int, tile: Mapping[str, Any]) -> Path:
    """Screen one tile of a run and write its cells; do nothing if its file exists.

    Returns
    -------
    pathlib.Path
        The tile's GeoPackage.
    """
    path = tile_path(settings, screening_id, tile)
    if path.exists():
        return path
    request, bundle = run_inputs(settings, screening_id)
    params = request.params
    frame = screen_area(
        request.area_6372, bundle.layers, params, request.resolution_km, tile=tile_from_json(tile),
        exclusion_layers=bundle.exclusion_layers(params),
        triggers=prepared_triggers(bundle.layers, params),
    )
    return atomic_write(path, gpkg_writer(frame))


def tile_progress(settings: Mapping[str, Any], job_id: str, screening_id: int,
                  holder: str | None = None) -> int:
    """Record how many tiles of a run are done (counted from their files); return it.

    Also stamps the job's heartbeat. ``holder`` is the delivery that screens the tiles one
    after the other (None for a tile task of a chord, which holds no job).

    Raises
    ------
    JobLost
        ``holder`` no longer holds the job: another delivery took it over.
    """
    folder = run_dir(settings, screening_id) / "tiles"
    done = sum(1 for _ in folder.glob("*.gpkg")) if folder.is_dir() else 0
    with session_scope(settings) as session:
        job = session.execute(select(Job).where(Job.id == job_id).with_for_update()).scalar_one()
        if holder is not None and job.held_by != holder:
            raise JobLost(f"job {job_id} was taken over by another delivery")
        if job.state in (JobState.SUCCESS, JobState.FAILURE):
            return done
        job.done = max(job.done or 0, min(done, job.total or done))
        job.updated_at = utcnow()
        if job.state is JobState.PENDING and holder is None:
            return done  # re-queued: a late tile of the old chord leaves it queued
        job.state = JobState.PROGRESS
        job.stage = f"screened {job.done} of {job.total} tiles"
        job.heartbeat_at = job.updated_at
        run = session.get(ScreeningRun, screening_id)
        if run is not None and run.status is JobState.PENDING:
            run.status = JobState.PROGRESS
    return done


def _stats(cells: pd.DataFrame, column: str, mask: np.ndarray | None = None) -> dict[str, Any]:
    values = cells[column].to_numpy(float)
    values = values[mask] if mask is not None else values
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"min": None, "median": None, "max": None}
    return {"min": float(values.min()), "median": float(np.median(values)),
            "max": float(values.max())}


def summarize(cells: pd.DataFrame, notes: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """JSON summary of a screening's cells (counts, totals, ranges, exclusions, best cells).

    ``available_km2`` and ``capacity_mw`` add up the cells that are not ``excluded`` (what
    the supply curve offers); ``excluded_km2_by_reason`` is the area each exclusion takes
    (share x cell area, by code, overlaps counted in each; ``outside_area``: the parts of
    the cells outside the screened area); ``exclusions`` counts the excluded cells each
    reason reaches.

    Raises
    ------
    ValueError
        A cell's area or capacity, a total or a best cell's value is infinite (an overflow):
        the run fails with the column or the summary's path as its reason, and nothing is
        stored. (A NaN is a value that does
        not exist, served as ``null``.)
    """
    area_columns = [c for c in cells.columns if c in AREA_COLUMNS or c.startswith(EXCLUDED_FRACTION_PREFIX)]
    for column in area_columns:  # columns, not cells: the totals add only the open cells, so check every cell
        if np.isinf(cells[column].to_numpy(float)).any():
            raise ValueError(f"the screening's cells hold a value that is not a finite number ({column})")
    excluded = cells["excluded"].to_numpy(bool)
    parts = cells.loc[excluded, "exclusion_reasons"].astype(str).str.split("; ").explode()
    stems = parts[parts != ""].str.split(":").str[0]
    reasons = {k: int(v) for k, v in stems.value_counts().sort_index().items()}
    open_ = ~excluded
    cell_km2 = cells["cell_area_km2"].to_numpy(float)
    by_reason = {
        column.removeprefix(EXCLUDED_FRACTION_PREFIX): float((cells[column].to_numpy(float) * cell_km2).sum())
        for column in cells.columns if column.startswith(EXCLUDED_FRACTION_PREFIX)
    }
    by_reason["outside_area"] = float((cells["outside_area_fraction"].to_numpy(float) * cell_km2).sum())
    curve = supply_curve(cells, by_corridor=True)
    by_corridor = {
        str(corridor): {"capacity_mw": float(g["capacity_mw"].sum()),
                        "energy_gwh_per_year": float(g["energy_gwh_per_year"].sum()),
                        "cell_count": len(g),
                        "lcoe_min_usd_per_mwh": float(g["lcoe_usd_per_mwh"].min())}
        for corridor, g in curve.groupby("corridor", sort=True)
    }
    ranked = cells[cells["rank"].notna()].sort_values("rank").head(TOP_CELLS)
    top = [
        {"rank": int(r["rank"]), "cell_id": r["cell_id"], "longitude": float(r["longitude"]),
         "latitude": float(r["latitude"]), "score": float(r["score"]),
         "lcoe_usd_per_mwh": float(r["lcoe_usd_per_mwh"]), "capacity_mw": float(r["capacity_mw"]),
         "municipality_name": r["municipality_name"]}
        for _, r in ranked.iterrows()
    ]
    summary = {
        "cell_count": len(cells),
        "excluded_count": int(excluded.sum()),
        "cell_area_km2": float(cell_km2.sum()),
        "available_km2": float(cells["available_km2"].to_numpy(float)[open_].sum()),
        "available_area_km2": float(cells["available_km2"].to_numpy(float)[open_].sum()),
        "capacity_mw": float(cells["capacity_mw"].to_numpy(float)[open_].sum()),
        "excluded_km2_by_reason": by_reason,
        "available_fraction": _stats(cells, "available_fraction", open_),
        "consultation_required_count": int(cells["consultation_required"].to_numpy(bool)[open_].sum()),
        "exclusions": reasons,
        "ghi_kwh_m2_day": _stats(cells, "ghi_kwh_m2_day"),
        "wind_speed_100m_m_s": _stats(cells, "wind_speed_100m_m_s"),
        "capacity_factor": _stats(cells, "capacity_factor", open_),
        "lcoe_usd_per_mwh": _stats(cells, "lcoe_usd_per_mwh", open_),
        "dist_line_km": _stats(cells, "dist_line_km", open_),
        "supply_by_corridor": by_corridor,
        "top_cells": top,
        "notes": list(notes),
    }
    where = non_finite_path(summary, nan_ok=True)
    if where is not None:
        raise ValueError(f"the screening's summary is not a finite number ({where})")
    return jsonable(summary)


def store_screening(settings: Mapping[str, Any], job_id: str, screening_id: int) -> dict[str, Any]:
    """Join a run's tiles, write ``cells.gpkg`` atomically and finish the run and job rows.

    Idempotent: a run already stored returns its result without writing anything.

    Returns
    -------
    dict
        The job's result (screening id, cell count, links).

    Raises
    ------
    RuntimeError
        A tile file is missing (never a partial result).
    """
    with session_scope(settings) as session:
        run = load_run_row(session, screening_id)
        job = session.get(Job, job_id)
        if run.status is JobState.SUCCESS and job is not None and job.state is JobState.SUCCESS:
            return dict(job.result or {})
        tiles = list(job.params["tiles"])
        notes = list(run.params.get("notes", []))
    paths = [tile_path(settings, screening_id, t) for t in tiles]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise RuntimeError(f"screening {screening_id}: tile file(s) {missing[:5]} are missing")
    with session_scope(settings) as session:
        job = session.get(Job, job_id)
        job.stage = "storing cells"
        job.updated_at = utcnow()
    cells = concat_tiles([read_cells(p) for p in paths])
    summary = summarize(cells, notes)
    target = run_dir(settings, screening_id) / "cells.gpkg"
    result = {"screening_id": screening_id, "cell_count": len(cells),
              "links": links(screening_id)}
    atomic_write(target, gpkg_writer(cells))
    try:
        with session_scope(settings) as session:
            run = load_run_row(session, screening_id)
            run.cell_count = len(cells)
            run.summary = summary
            run.cells_file = target.relative_to(Path(settings["INSTANCE_PATH"])).as_posix()
            run.status = JobState.SUCCESS
            job = session.get(Job, job_id)
            job.state = JobState.SUCCESS
            job.done = job.total = len(tiles)
            job.stage = "done"
            job.result = result
            job.result_url = f"/api/v1/screenings/{screening_id}"
            job.updated_at = utcnow()
    except BaseException:
        target.unlink(missing_ok=True)  # no cells file without its stored run
        raise
    shutil.rmtree(run_dir(settings, screening_id) / "tiles", ignore_errors=True)
    return result
