"""Working days (LFT art. 74) and SLA timers, worked by hand."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from consultation import sla
from consultation.sla import MEXICO_CITY_TZ as MX

UTC = dt.timezone.utc


def dates(year):
    return [d.date.isoformat() for d in sla.mexican_federal_rest_days(year)]


def test_rest_days_2026_published_calendar():
    # 2026: Feb 2 = 1st Monday of Feb; Mar 16 = 3rd Monday (Mar 2, 9, 16); Nov 16 = 3rd
    # Monday (Nov 2, 9, 16). No presidential transition (2026 - 2024 = 2, not a multiple of 6).
    assert dates(2026) == ["2026-01-01", "2026-02-02", "2026-03-16", "2026-05-01",
                           "2026-09-16", "2026-11-16", "2026-12-25"]


def test_rest_days_transition_years():
    # 2024: Feb 5, Mar 18, Nov 18 and Oct 1 (inauguration of the president, LFT art. 74 VII).
    assert dates(2024) == ["2024-01-01", "2024-02-05", "2024-03-18", "2024-05-01",
                           "2024-09-16", "2024-10-01", "2024-11-18", "2024-12-25"]
    assert "2030-10-01" in dates(2030) and "2029-10-01" not in dates(2029)
    # 2018: last transition on 1 December under the previous text.
    assert "2018-12-01" in dates(2018) and "2018-10-01" not in dates(2018)
    assert not any(d.endswith("-12-01") for d in dates(2024))
    for d in sla.mexican_federal_rest_days(2024):
        assert d.basis.startswith("LFT art. 74") and d.name_es and d.name_en


def test_bad_year():
    with pytest.raises(ValueError, match="1970..2200"):
        sla.mexican_federal_rest_days(1800)


def test_is_working_day():
    assert sla.is_working_day(dt.date(2026, 3, 16)) is False   # 3rd Monday of March
    assert sla.is_working_day(dt.date(2026, 3, 17)) is True
    assert sla.is_working_day(dt.date(2026, 4, 2)) is True     # Holy Thursday: not in LFT 74
    out = sla.is_working_day(np.array(["2026-03-14", "2026-03-15", "2026-09-16"],
                                      dtype="datetime64[D]"))
    assert out.tolist() == [False, False, False]
    assert sla.is_working_day(dt.date(2026, 4, 2), extra_rest_days=[dt.date(2026, 4, 2)]) is False


def test_acknowledge_due_over_march_holiday(protocol):
    # Received Friday 13 March 2026, 10:00 local. Working days after it: Mon 16 is a rest
    # day; Tue 17 (1), Wed 18 (2), Thu 19 (3), Fri 20 (4), Mon 23 (5) -> ends at the end
    # of Monday 23 March: overdue from 2026-03-24 00:00 (UTC-6).
    received = dt.datetime(2026, 3, 13, 10, 0, tzinfo=MX)
    assert sla.acknowledge_due_at(received, protocol.sla) == dt.datetime(2026, 3, 24, tzinfo=MX)
    # Answer in 30: Mar 17-20 (4), 23-27 (9), 30-31 (11), Apr 1-3 (14), 6-10 (19),
    # 13-17 (24), 20-24 (29), Mon 27 Apr (30) -> overdue from 2026-04-28 00:00.
    assert sla.answer_due_at(received, protocol.sla) == dt.datetime(2026, 4, 28, tzinfo=MX)


def test_due_across_transition_and_labour_day(protocol):
    # Fri 27 Sep 2024: Mon 30 Sep (1), Tue 1 Oct rest day, Wed 2 (2), Thu 3 (3),
    # Fri 4 (4), Mon 7 Oct (5).
    received = dt.datetime(2024, 9, 27, 18, 0, tzinfo=MX)
    assert sla.acknowledge_due_at(received, protocol.sla) == dt.datetime(2024, 10, 8, tzinfo=MX)
    # Received on Saturday 25 Apr 2026: Mon 27 (1), 28 (2), 29 (3), 30 (4), Fri 1 May rest
    # day, Mon 4 May (5).
    received = dt.datetime(2026, 4, 25, 9, 0, tzinfo=MX)
    assert sla.acknowledge_due_at(received, protocol.sla) == dt.datetime(2026, 5, 5, tzinfo=MX)


def test_local_day_not_utc_day(protocol):
    # 2026-03-14 03:00 UTC is still Friday 13 March 21:00 in Mexico City.
    received = dt.datetime(2026, 3, 14, 3, 0, tzinfo=UTC)
    assert sla.acknowledge_due_at(received, protocol.sla) == dt.datetime(2026, 3, 24, tzinfo=MX)
    with pytest.raises(ValueError, match="timezone-aware"):
        sla.due_at(dt.datetime(2026, 3, 13), 5)


def test_add_and_count_working_days_vectorised():
    start = np.array(["2026-03-13", "2026-03-14", "2026-12-24"], dtype="datetime64[D]")
    out = sla.add_working_days(start, np.array([5, 0, 1]))
    # Dec 24 2026 (Thu) + 1: Fri 25 Dec is a rest day -> Mon 28 Dec.
    assert out.tolist() == [dt.date(2026, 3, 23), dt.date(2026, 3, 14), dt.date(2026, 12, 28)]
    assert sla.working_days_between(dt.date(2026, 3, 13), dt.date(2026, 3, 23)) == 5
    with pytest.raises(ValueError, match=">= 0"):
        sla.add_working_days(dt.date(2026, 1, 1), -1)
    with pytest.raises(ValueError, match="integers"):
        sla.add_working_days(dt.date(2026, 1, 1), 1.5)


def test_overdue_frame(protocol):
    items = pd.DataFrame({
        "receipt_code": ["A", "B", "C", "D"],
        "received_at": pd.to_datetime(["2026-03-13T16:00Z", "2026-03-13T16:00Z",
                                       "2026-03-20T16:00Z", "2026-03-13T16:00Z"], utc=True),
        "acknowledged_at": pd.to_datetime([None, "2026-03-17T16:00Z", None,
                                           "2026-03-25T16:00Z"], utc=True),
        "answered_at": pd.to_datetime([None, None, None, None], utc=True),
    })
    # now = Tue 24 Mar 2026 00:30 local: A's acknowledgement (due end of Mon 23) is late;
    # B was acknowledged in time; C (received Fri 20) is due end of Fri 27; D will be
    # acknowledged late on 25 Mar but is pending at 'now'.
    now = dt.datetime(2026, 3, 24, 0, 30, tzinfo=MX)
    out = sla.overdue(items, now, protocol.sla)
    assert out["acknowledge_overdue"].tolist() == [True, False, False, True]
    assert out["answer_overdue"].tolist() == [False] * 4
    assert out["overdue"].tolist() == [True, False, False, True]
    assert out["acknowledged_late"].tolist() == [False, False, False, True]
    assert out.loc[2, "acknowledge_due_at"] == pd.Timestamp("2026-03-28", tz=MX)
    # Exactly at the deadline instant counts as overdue; one second before does not.
    at = sla.overdue(items.iloc[:1], dt.datetime(2026, 3, 24, 0, 0, tzinfo=MX), protocol.sla)
    before = sla.overdue(items.iloc[:1], dt.datetime(2026, 3, 23, 23, 59, 59, tzinfo=MX),
                         protocol.sla)
    assert bool(at["overdue"].iloc[0]) and not bool(before["overdue"].iloc[0])
    assert len(sla.overdue(items.iloc[:0], now, protocol.sla)) == 0
    with pytest.raises(ValueError, match="lacks column"):
        sla.overdue(items.drop(columns="answered_at"), now, protocol.sla)
    naive = items.assign(received_at=items["received_at"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="timezone-aware"):
        sla.overdue(naive, now, protocol.sla)
