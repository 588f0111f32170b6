"""Working-day arithmetic in Mexico and grievance service-level timers.

Notes
-----
A working day is Monday to Friday, except the mandatory rest days of the Ley Federal
del Trabajo, art. 74 (listed by :func:`mexican_federal_rest_days`) and any extra days
the caller passes (election days under LFT art. 74 fr. IX, office closures). Saturdays
and Sundays are not working days for federal offices (Ley Federal de Procedimiento
Administrativo, art. 28), which the fund follows for its grievance office.

Counting convention (fund decision, mirroring Mexican procedural terms that start on
the day after notification): the day of receipt is day 0, whatever the hour; the term
ends at the end of the *n*-th working day after it, in America/Mexico_City time. An item
is overdue when ``now`` is at or after the local midnight that closes that day.

References
----------
.. [1] Ley Federal del Trabajo, art. 74, fracciones I-IX (DOF, texto vigente; fr. VII
   moved to 1 October from 2024 after the reform of art. 83 of the Constitution, DOF
   10-02-2014, which moved the presidential inauguration to 1 October).
.. [2] Ley Federal de Procedimiento Administrativo, art. 28 (días hábiles).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

__all__ = [
    "MEXICO_CITY_TZ",
    "WEEKMASK",
    "TRANSITION_OCT1_FIRST_YEAR",
    "TRANSITION_DEC1_LAST_YEAR",
    "TRANSITION_PERIOD_YEARS",
    "RestDay",
    "mexican_federal_rest_days",
    "rest_days_between",
    "is_working_day",
    "add_working_days",
    "working_days_between",
    "due_at",
    "acknowledge_due_at",
    "answer_due_at",
    "overdue",
]

MEXICO_CITY_TZ = ZoneInfo("America/Mexico_City")
"""Time zone of the fund's grievance office (central Mexico, no DST since 2022)."""

WEEKMASK = "1111100"
"""Monday-Friday working week (LFPA art. 28 excludes Saturdays and Sundays)."""

TRANSITION_OCT1_FIRST_YEAR = 2024
"""First presidential transition on 1 October (LFT art. 74 fr. VII, after the 2014
reform of Constitution art. 83)."""

TRANSITION_DEC1_LAST_YEAR = 2018
"""Last presidential transition on 1 December (LFT art. 74 fr. VII, previous text)."""

TRANSITION_PERIOD_YEARS = 6
"""Presidential term, hence the period of the transition rest day. [years]"""


@dataclasses.dataclass(frozen=True)
class RestDay:
    """A mandatory rest day with its legal basis."""

    date: dt.date
    name_es: str
    name_en: str
    basis: str


def _nth_monday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (0 - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def mexican_federal_rest_days(year: int) -> tuple[RestDay, ...]:
    """Mandatory rest days of LFT art. 74 in ``year`` (fractions I-VIII).

    Parameters
    ----------
    year : int

    Returns
    -------
    tuple of RestDay, in date order

    Notes
    -----
    Fraction IX (election days) depends on each electoral calendar: pass those dates as
    ``extra_rest_days`` to the other functions.

    Examples
    --------
    >>> [d.date.isoformat() for d in mexican_federal_rest_days(2026)][:3]
    ['2026-01-01', '2026-02-02', '2026-03-16']
    """
    if not isinstance(year, (int, np.integer)) or not 1970 <= int(year) <= 2200:
        raise ValueError(f"year must be an integer in 1970..2200, got {year!r}")
    year = int(year)
    days = [
        RestDay(dt.date(year, 1, 1), "Año Nuevo", "New Year's Day", "LFT art. 74 fr. I"),
        RestDay(_nth_monday(year, 2, 1), "Día de la Constitución (5 de febrero)",
                "Constitution Day (5 February)", "LFT art. 74 fr. II"),
        RestDay(_nth_monday(year, 3, 3), "Natalicio de Benito Juárez (21 de marzo)",
                "Benito Juárez's birthday (21 March)", "LFT art. 74 fr. III"),
        RestDay(dt.date(year, 5, 1), "Día del Trabajo", "Labour Day", "LFT art. 74 fr. IV"),
        RestDay(dt.date(year, 9, 16), "Día de la Independencia", "Independence Day",
                "LFT art. 74 fr. V"),
        RestDay(_nth_monday(year, 11, 3), "Día de la Revolución (20 de noviembre)",
                "Revolution Day (20 November)", "LFT art. 74 fr. VI"),
        RestDay(dt.date(year, 12, 25), "Navidad", "Christmas Day", "LFT art. 74 fr. VIII"),
    ]
    if year >= TRANSITION_OCT1_FIRST_YEAR and (
        year - TRANSITION_OCT1_FIRST_YEAR) % TRANSITION_PERIOD_YEARS == 0:
        days.append(RestDay(dt.date(year, 10, 1), "Transmisión del Poder Ejecutivo Federal",
                            "Presidential transition", "LFT art. 74 fr. VII"))
    if year <= TRANSITION_DEC1_LAST_YEAR and (
        TRANSITION_DEC1_LAST_YEAR - year) % TRANSITION_PERIOD_YEARS == 0:
        days.append(RestDay(dt.date(year, 12, 1), "Transmisión del Poder Ejecutivo Federal",
                            "Presidential transition", "LFT art. 74 fr. VII (text before 2024)"))
    return tuple(sorted(days, key=lambda d: d.date))


def rest_days_between(
    start_year: int, end_year: int, extra_rest_days: Iterable[dt.date] = ()
) -> np.ndarray:
    """Sorted ``datetime64[D]`` array of rest days in ``start_year..end_year`` plus extras."""
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} is before start_year {start_year}")
    dates = [d.date for y in range(start_year, end_year + 1) for d in mexican_federal_rest_days(y)]
    dates.extend(extra_rest_days)
    return np.unique(np.array(dates, dtype="datetime64[D]"))


def _holidays_for(days: np.ndarray, extra_rest_days, span_years: int) -> np.ndarray:
    years = days.astype("datetime64[Y]").astype(int) + 1970
    lo = int(years.min()) if years.size else 2000
    hi = int(years.max()) + span_years if years.size else 2000
    return rest_days_between(lo, hi, extra_rest_days)


def _as_day_array(dates) -> tuple[np.ndarray, bool]:
    scalar = isinstance(dates, (dt.date, np.datetime64, str))
    arr = np.atleast_1d(np.asarray(dates, dtype="datetime64[D]"))
    return arr, scalar


def is_working_day(dates, extra_rest_days: Iterable[dt.date] = ()):
    """True where a date is a working day in Mexico.

    Parameters
    ----------
    dates : date, str, datetime64 or array-like of them
    extra_rest_days : iterable of date
        Further non-working days (election days, office closures).

    Returns
    -------
    bool or numpy.ndarray of bool (same shape as ``dates``)
    """
    arr, scalar = _as_day_array(dates)
    holidays = _holidays_for(arr, tuple(extra_rest_days), 0)
    out = np.is_busday(arr, weekmask=WEEKMASK, holidays=holidays)
    return bool(out[0]) if scalar else out


def add_working_days(dates, working_days, extra_rest_days: Iterable[dt.date] = ()):
    """The ``working_days``-th working day after each date (vectorised).

    Parameters
    ----------
    dates : date or array-like of dates
        Day 0 (the day of receipt), working or not.
    working_days : int or array-like of int, >= 0
        [working days]
    extra_rest_days : iterable of date

    Returns
    -------
    date or numpy.ndarray of datetime64[D]

    Notes
    -----
    Day 0 is not counted: result = the n-th date d > day0 with is_working_day(d)
    (for n = 0, day 0 itself).
    """
    arr, scalar = _as_day_array(dates)
    n = np.asarray(working_days)
    if not np.issubdtype(n.dtype, np.integer):
        raise ValueError(f"working_days must be integers, got dtype {n.dtype}")
    if np.any(n < 0):
        raise ValueError("working_days must be >= 0")
    span = int(n.max()) // 200 + 2 if n.size else 2
    holidays = _holidays_for(arr, tuple(extra_rest_days), span)
    # Roll day 0 forward to the next working day *after* it, then count n-1 more.
    out = np.where(
        n == 0,
        arr,
        np.busday_offset(arr, np.maximum(n, 1), roll="backward", weekmask=WEEKMASK,
                         holidays=holidays),
    )
    if scalar and np.ndim(n) == 0:
        return out.reshape(-1)[0].astype(dt.date)
    return out


def working_days_between(start, end, extra_rest_days: Iterable[dt.date] = ()):
    """Number of working days d with start < d <= end (vectorised). [working days]"""
    a, scalar_a = _as_day_array(start)
    b, _ = _as_day_array(end)
    holidays = _holidays_for(np.concatenate([a, b]), tuple(extra_rest_days), 0)
    out = np.busday_count(a + 1, b + 1, weekmask=WEEKMASK, holidays=holidays)
    return int(out[0]) if scalar_a and out.size == 1 else out


def _local_day(ts: dt.datetime) -> dt.date:
    if not isinstance(ts, dt.datetime) or ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {ts!r}")
    return ts.astimezone(MEXICO_CITY_TZ).date()


def due_at(received_at: dt.datetime, working_days: int,
           extra_rest_days: Iterable[dt.date] = ()) -> dt.datetime:
    """End of the term: local midnight after the ``working_days``-th working day.

    Parameters
    ----------
    received_at : datetime
        Timezone-aware instant of receipt.
    working_days : int
        [working days]

    Returns
    -------
    datetime
        Timezone-aware, America/Mexico_City; overdue when now >= this instant.
    """
    last = add_working_days(_local_day(received_at), int(working_days), extra_rest_days)
    nxt = last + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=MEXICO_CITY_TZ)


def acknowledge_due_at(received_at: dt.datetime, sla, extra_rest_days=()) -> dt.datetime:
    """Acknowledgement deadline under ``sla`` (a :class:`~consultation.protocol.SlaParameters`)."""
    return due_at(received_at, sla.grievance_acknowledge_working_days, extra_rest_days)


def answer_due_at(received_at: dt.datetime, sla, extra_rest_days=()) -> dt.datetime:
    """Answer deadline under ``sla`` (a :class:`~consultation.protocol.SlaParameters`)."""
    return due_at(received_at, sla.grievance_answer_working_days, extra_rest_days)


def _local_days(series: pd.Series, name: str) -> np.ndarray:
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise ValueError(f"column {name!r} must be timezone-aware datetimes, got {series.dtype}")
    return series.dt.tz_convert(MEXICO_CITY_TZ).dt.tz_localize(None).to_numpy(
        dtype="datetime64[D]"
    )


def overdue(
    items: pd.DataFrame,
    now: dt.datetime,
    sla,
    extra_rest_days: Sequence[dt.date] = (),
) -> pd.DataFrame:
    """Flag submissions whose acknowledgement or answer is overdue (vectorised).

    Parameters
    ----------
    items : pandas.DataFrame
        Columns ``received_at`` (tz-aware), ``acknowledged_at`` and ``answered_at``
        (tz-aware, NaT while pending). Other columns are kept.
    now : datetime
        Timezone-aware.
    sla : SlaParameters
    extra_rest_days : sequence of date

    Returns
    -------
    pandas.DataFrame
        ``items`` plus ``acknowledge_due_at``, ``answer_due_at`` (America/Mexico_City),
        ``acknowledge_overdue``, ``answer_overdue`` and ``overdue`` (bool), as of ``now``
        (an acknowledgement or answer stamped after ``now`` counts as not yet done). An
        item done late but done is not overdue; lateness of done items is in ``acknowledged_late``
        and ``answered_late``.
    """
    for col in ("received_at", "acknowledged_at", "answered_at"):
        if col not in items.columns:
            raise ValueError(f"items lacks column {col!r}")
    now_ts = pd.Timestamp(now)
    if now_ts.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    out = items.copy()
    if len(items) == 0:
        for col in ("acknowledge_due_at", "answer_due_at"):
            out[col] = pd.Series([], dtype=f"datetime64[ns, {MEXICO_CITY_TZ.key}]")
        for col in ("acknowledge_overdue", "answer_overdue", "overdue",
                    "acknowledged_late", "answered_late"):
            out[col] = pd.Series([], dtype=bool)
        return out
    day0 = _local_days(items["received_at"], "received_at")
    for col in ("acknowledged_at", "answered_at"):
        if items[col].notna().any():
            _local_days(items[col], col)
    n_ack = np.full(day0.shape, int(sla.grievance_acknowledge_working_days))
    n_ans = np.full(day0.shape, int(sla.grievance_answer_working_days))
    ack_last = add_working_days(day0, n_ack, extra_rest_days)
    ans_last = add_working_days(day0, n_ans, extra_rest_days)

    def to_local_midnight(days: np.ndarray) -> pd.Series:
        naive = pd.to_datetime((days + np.timedelta64(1, "D")).astype("datetime64[ns]"))
        return pd.Series(naive, index=items.index).dt.tz_localize(MEXICO_CITY_TZ)

    out["acknowledge_due_at"] = to_local_midnight(ack_last)
    out["answer_due_at"] = to_local_midnight(ans_last)
    ack = pd.to_datetime(items["acknowledged_at"], utc=True)
    ans = pd.to_datetime(items["answered_at"], utc=True)
    now_utc = now_ts.tz_convert("UTC")
    # Done means done by `now`, so the table can be evaluated "as of" any instant.
    answered = (ans <= now_utc).fillna(False).astype(bool)
    ack_done = (ack <= now_utc).fillna(False).astype(bool) | answered
    out["acknowledge_overdue"] = (~ack_done) & (now_utc >= out["acknowledge_due_at"])
    out["answer_overdue"] = (~answered) & (now_utc >= out["answer_due_at"])
    out["overdue"] = out["acknowledge_overdue"] | out["answer_overdue"]
    first_ack = ack.where(ack.notna(), ans)
    out["acknowledged_late"] = (first_ack >= out["acknowledge_due_at"]).fillna(False).astype(bool)
    out["answered_late"] = (ans >= out["answer_due_at"]).fillna(False).astype(bool)
    return out
