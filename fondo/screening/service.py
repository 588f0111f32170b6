"""The screening feature's public face: request schemas, runs, their tiles, exports, site checks.

Other features, the web app and the tests reach the screening only through this module. A
request is loaded by its schema (:mod:`fondo.screening.schemas`: shape, types, ranges),
then checked against the layers (:mod:`fondo.screening.request`); a bad one is a single
:class:`~fondo.errors.InvalidInput` (422) naming the field, and nothing is stored. A run is
stored with its tiles (:mod:`fondo.screening.runs`), its tiles are screened and joined by the
Celery tasks (:mod:`fondo.screening.tiles`, :mod:`fondo.screening.tasks`), its files live
under ``INSTANCE_PATH/screenings/<id>`` (:mod:`fondo.screening.storage`) and are exported on
demand (:mod:`fondo.screening.exports`). A site check is answered now and stored nowhere
(:mod:`fondo.screening.site_check`).
"""

from __future__ import annotations

from fondo.screening.bundle import (
    ScreeningBundle,
    clear_screening_cache,
    screening_bundle,
)
from fondo.screening.exports import (
    CELL_FORMATS,
    CURVE_FORMATS,
    MIME_TYPES,
    cells_export,
    load_cells,
    supply_curve_export,
    write_cells,
)
from fondo.screening.models import ScreeningRun
from fondo.screening.request import (
    ScreeningRequest,
    parameters_from_request,
    parameters_json,
    resolve_request,
)
from fondo.screening.runs import (
    JOB_KIND,
    SCREENING_TASK,
    STORE_TASK,
    TILE_TASK,
    ScreeningLayersChanged,
    create_screening,
    get_screening,
    list_screenings,
    mark_failed,
    mark_started,
    screening_json,
)
from fondo.screening.schemas import (
    DEFAULT_TILE_CELLS,
    ParametersSchema,
    ScreeningRequestSchema,
    SiteCheckRequestSchema,
)
from fondo.screening.site_check import check_site_request
from fondo.screening.storage import run_dir
from fondo.screening.tiles import screen_tile, store_screening, summarize, tile_progress

__all__ = [
    "CELL_FORMATS",
    "CURVE_FORMATS",
    "DEFAULT_TILE_CELLS",
    "JOB_KIND",
    "MIME_TYPES",
    "SCREENING_TASK",
    "STORE_TASK",
    "TILE_TASK",
    "ParametersSchema",
    "ScreeningBundle",
    "ScreeningLayersChanged",
    "ScreeningRequest",
    "ScreeningRequestSchema",
    "ScreeningRun",
    "SiteCheckRequestSchema",
    "cells_export",
    "check_site_request",
    "clear_screening_cache",
    "create_screening",
    "get_screening",
    "list_screenings",
    "load_cells",
    "mark_failed",
    "mark_started",
    "parameters_from_request",
    "parameters_json",
    "resolve_request",
    "run_dir",
    "screen_tile",
    "screening_bundle",
    "screening_json",
    "store_screening",
    "summarize",
    "supply_curve_export",
    "tile_progress",
    "write_cells",
]
