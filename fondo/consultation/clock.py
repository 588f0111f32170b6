"""The consultation services' clock: UTC, timezone-aware, replaceable.

Every service asks :func:`now`, which calls this module's :func:`clock` at call time, so a
test can move time forward through the protocol's minimum durations by replacing
``fondo.consultation.clock.clock`` (``monkeypatch.setattr``), and the demo can walk its
consultation through the phases with :func:`clock_replaced`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from consultation import sla
from fondo.orm import utcnow


def clock() -> dt.datetime:
    """Now, UTC, timezone-aware (module attribute: tests replace it to move time)."""
    return utcnow()


def now() -> dt.datetime:
    """What :func:`clock` says now (looked up on every call, so a replacement takes effect)."""
    return clock()


def local_today(moment: dt.datetime) -> dt.date:
    """The calendar date of ``moment`` in central Mexico (commitments' due dates)."""
    return moment.astimezone(sla.MEXICO_CITY_TZ).date()


@contextmanager
def clock_replaced(replacement: Callable[[], dt.datetime]) -> Iterator[None]:
    """Run the services on ``replacement`` as their clock; the real clock is restored after."""
    global clock
    real = clock
    clock = replacement
    try:
        yield
    finally:
        clock = real
