"""Suspension of a consultation: the phase and every clock frozen until it resumes.

A consultation is suspended by a court's suspension order (suspensión en amparo), a report
of coercion, pressure or inducement that must be looked into before the process goes on,
or an electoral blackout (veda electoral). While it is suspended:

* the phase cannot change and its minimum duration does not run
  (:func:`suspended_seconds` is subtracted from the time spent in the phase);
* the grievance service-level clocks stop: every local day of the suspension is a
  non-working day for the SLA (:func:`paused_local_days`, passed to
  :func:`consultation.sla.overdue` as ``extra_rest_days``).

Resuming restarts both clocks where they stopped.

Notes
-----
Day convention for the SLA (fund decision): a suspension from instant S to instant R
pauses the local (America/Mexico_City) dates from S's date to the day before R's date; a
suspension begun and lifted on the same day pauses no day; an open suspension pauses
S's date through today. The phase clock counts the exact seconds suspended.

References
----------
.. [1] CDI (2013), Protocolo para la implementación de consultas…: the consultation is
   suspended where its conditions (free, in good faith) are not met.
.. [2] Ley de Amparo (DOF 02-04-2013), arts. 125-158 (suspensión del acto reclamado).
.. [3] IFC Performance Standard 7 (2012), para. 12 (FPIC free of coercion); UNDRIP art. 32(2).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable, Mapping, Sequence

from consultation.sla import MEXICO_CITY_TZ

__all__ = [
    "SUSPENSION_KINDS",
    "SUSPENDED_EVENT",
    "RESUMED_EVENT",
    "Suspension",
    "suspend",
    "resume",
    "is_suspended",
    "suspended_seconds",
    "paused_local_days",
    "suspensions_from_events",
]

SUSPENSION_KINDS = ("court_suspension", "coercion_report", "electoral_blackout")
"""Why a consultation is suspended: a court order, a coercion report, an electoral blackout."""

SUSPENDED_EVENT = "consultation_suspended"
RESUMED_EVENT = "consultation_resumed"
"""Event kinds of the chain that open and close a suspension."""


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Suspension:
    """One suspension: why, from when, until when (None while open)."""

    kind: str
    started_at: dt.datetime
    reason: str
    ended_at: dt.datetime | None = None

    def __post_init__(self):
        if self.kind not in SUSPENSION_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SUSPENSION_KINDS)}, got {self.kind!r}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("reason: a suspension needs its reason")
        object.__setattr__(self, "started_at", _utc(self.started_at, "started_at"))
        if self.ended_at is not None:
            end = _utc(self.ended_at, "ended_at")
            if end < self.started_at:
                raise ValueError(f"ended_at ({end.isoformat()}) is before started_at "
                                 f"({self.started_at.isoformat()})")
            object.__setattr__(self, "ended_at", end)


def is_suspended(suspensions: Sequence[Suspension]) -> bool:
    """True when the last suspension is still open."""
    return bool(suspensions) and suspensions[-1].ended_at is None


def suspend(suspensions: Sequence[Suspension], kind: str, at: dt.datetime,
            reason: str) -> tuple[Suspension, ...]:
    """Open a suspension; ``ValueError`` if one is open or ``at`` precedes the last one."""
    if is_suspended(suspensions):
        raise ValueError(f"already suspended ({suspensions[-1].kind}) since "
                         f"{suspensions[-1].started_at.isoformat()}")
    new = Suspension(kind, at, reason)
    if suspensions and new.started_at < suspensions[-1].ended_at:
        raise ValueError("at: a suspension cannot start before the previous one ended")
    return tuple(suspensions) + (new,)


def resume(suspensions: Sequence[Suspension], at: dt.datetime) -> tuple[Suspension, ...]:
    """Close the open suspension at ``at``; ``ValueError`` if none is open."""
    if not is_suspended(suspensions):
        raise ValueError("the consultation is not suspended")
    last = suspensions[-1]
    return tuple(suspensions[:-1]) + (dataclasses.replace(last, ended_at=at),)


def suspended_seconds(suspensions: Iterable[Suspension], start: dt.datetime,
                      end: dt.datetime) -> float:
    """Seconds of [start, end] covered by suspensions (an open one runs to ``end``). [s]"""
    start, end = _utc(start, "start"), _utc(end, "end")
    total = 0.0
    for s in suspensions:
        lo = max(start, s.started_at)
        hi = min(end, s.ended_at or end)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def paused_local_days(suspensions: Iterable[Suspension], now: dt.datetime) -> tuple[dt.date, ...]:
    """Local dates on which the SLA clocks stood still (see the module notes), as of ``now``."""
    now = _utc(now, "now")
    days: set[dt.date] = set()
    for s in suspensions:
        if s.started_at > now:
            continue
        first = s.started_at.astimezone(MEXICO_CITY_TZ).date()
        if s.ended_at is None or s.ended_at > now:
            last = now.astimezone(MEXICO_CITY_TZ).date()
        else:
            last = s.ended_at.astimezone(MEXICO_CITY_TZ).date() - dt.timedelta(days=1)
        d = first
        while d <= last:
            days.add(d)
            d += dt.timedelta(days=1)
    return tuple(sorted(days))


def suspensions_from_events(rows: Iterable[Mapping]) -> tuple[Suspension, ...]:
    """The suspensions a chain records (events ``consultation_suspended`` / ``_resumed``).

    ``rows`` are chain events as dicts with ``kind``, ``payload`` and ``occurred_at``
    (UTC ISO-8601).
    """
    out: tuple[Suspension, ...] = ()
    for r in rows:
        if r["kind"] not in (SUSPENDED_EVENT, RESUMED_EVENT):
            continue
        at = dt.datetime.fromisoformat(str(r["occurred_at"]).replace("Z", "+00:00"))
        if r["kind"] == SUSPENDED_EVENT:
            out = suspend(out, r["payload"]["kind"], at, r["payload"]["reason"])
        else:
            out = resume(out, at)
    return out
