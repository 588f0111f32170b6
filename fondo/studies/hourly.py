"""The stored hourly series of a yield study: one CSV per study under ``INSTANCE_PATH``.

The file has two columns, :data:`HOURLY_TIME_COLUMN` (start of the hour, ISO 8601 with its
UTC offset, local standard time UTC-6) and :data:`HOURLY_ENERGY_COLUMN` (AC energy of the
hour, kWh), and is written atomically (a temporary file renamed over the target), so a
worker that dies mid-write never leaves half a series.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fondo.errors import Conflict
from fondo.studies.models import YieldStudy

#: Folder (under INSTANCE_PATH) of the stored hourly series.
STUDIES_FOLDER = "studies"
#: Column of the hour's start (local standard time UTC-6, ISO 8601 with offset).
HOURLY_TIME_COLUMN = "time_start"
#: Column of the hour's AC energy. [kWh]
HOURLY_ENERGY_COLUMN = "energy_ac_kwh"


def hourly_relative_path(study_id: int) -> str:
    """Path of a study's hourly CSV relative to INSTANCE_PATH (what the row stores)."""
    return f"{STUDIES_FOLDER}/{study_id}.csv"


def hourly_path(settings: Mapping[str, Any], study: YieldStudy) -> Path:
    """Absolute path of a stored study's hourly CSV.

    Raises
    ------
    Conflict
        The study has no hourly series yet.
    """
    if not study.hourly_file:
        raise Conflict(f"Yield study {study.id} has no hourly series (status "
                       f"{study.status.value}).")
    return Path(settings["INSTANCE_PATH"]) / study.hourly_file


def hourly_csv_text(times: pd.DatetimeIndex, energy_kwh: np.ndarray) -> str:
    """The hourly CSV: interval start (ISO 8601 with offset) and AC energy. [kWh]"""
    frame = pd.DataFrame({HOURLY_TIME_COLUMN: [t.isoformat() for t in times],
                          HOURLY_ENERGY_COLUMN: np.asarray(energy_kwh, dtype=float)})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, float_format="%.17g", lineterminator="\n")
    return buffer.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
