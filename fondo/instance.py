"""A Fondo instance ready for work: schema at head and reference data loaded.

``fondo serve`` prepares its instance on start (:func:`fondo.runner.prepare`); a command
run on an instance folder that was never served does the same on first use, so a person
running one command gets an answer instead of ``no such table``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fondo import migrate
from fondo.seed import is_seeded, seed_all


def ensure_ready(settings: Mapping[str, Any]) -> dict[str, int] | None:
    """Migrate the database to head and seed the reference data if missing.

    The demo fund is not loaded here (only ``fondo serve`` on first start or ``fondo seed
    --demo`` load it). Idempotent: on a ready instance it only reads the schema version.

    Returns
    -------
    dict or None
        The seed counts when reference data was loaded now, else ``None``.
    """
    if set(migrate.current_revisions(settings)) != set(migrate.head_revisions()):
        migrate.upgrade(settings)
    if not is_seeded(settings):
        return seed_all(settings, demo=False)
    return None
