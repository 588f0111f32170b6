"""Commitments and the social risk rule."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from consultation import agreements as ag
from consultation.risk import social_risk

D0 = dt.date(2026, 6, 1)


def commitment(**kw):
    args = dict(commitment_id="C-1", kind="benefit_sharing",
                description="1 % de ingresos al fondo comunitario", owner="Promovente",
                due_date=dt.date(2026, 12, 31), agreed_on=D0)
    args.update(kw)
    return ag.new_commitment(**args)


def test_lifecycle_and_lateness():
    c = commitment()
    assert not ag.is_late(c, dt.date(2026, 12, 31))      # due date itself is on time
    assert ag.is_late(c, dt.date(2027, 1, 1))
    c2 = ag.change_status(c, "in_progress", dt.date(2026, 7, 1))
    done = ag.change_status(c2, "fulfilled", dt.date(2027, 1, 5))
    assert not ag.is_late(done, dt.date(2027, 2, 1)) and done.fulfilled_on == dt.date(2027, 1, 5)
    with pytest.raises(ValueError, match="final status"):
        ag.change_status(done, "in_progress", dt.date(2027, 2, 1))
    with pytest.raises(ValueError, match="reason"):
        ag.change_status(c, "cancelled", dt.date(2026, 7, 1))
    cancelled = ag.change_status(c, "cancelled", dt.date(2026, 7, 1), reason="Acta 12: sustituido")
    assert not ag.is_late(cancelled, dt.date(2030, 1, 1))
    late = ag.late_commitments([c, done, cancelled], dt.date(2027, 1, 1))
    assert late == (c,)


def test_late_mask_matches_scalar_rule():
    frame = pd.DataFrame({"status": ["pending", "in_progress", "fulfilled", "pending"],
                          "due_date": ["2026-12-31", "2026-06-30", "2026-01-01", "2027-01-01"]})
    assert ag.late_mask(frame, dt.date(2027, 1, 1)).tolist() == [True, True, False, False]


@pytest.mark.parametrize("kw, msg", [
    ({"kind": "royalty"}, "not one of"),
    ({"owner": " "}, "owner is required"),
    ({"due_date": dt.date(2026, 5, 1)}, "before the agreement"),
    ({"amount_mxn": -5.0}, "amount_mxn"),
    ({"due_date": dt.datetime(2026, 12, 31)}, "must be a date"),
])
def test_commitment_refusals(kw, msg):
    with pytest.raises(ValueError, match=msg):
        commitment(**kw)


def test_public_commitments():
    rows = ag.public_commitments([commitment(kind="mitigation")], dt.date(2027, 1, 2))
    assert rows[0]["kind_label_es"] == "Mitigación" and rows[0]["late"] is True
    assert rows[0]["status_label_en"] == "Pending"


@pytest.mark.parametrize("args, kw, level", [
    (("seguimiento", 0, 0, 0), {}, "low"),
    (("cerrada", 2, 0, 0), {}, "low"),
    (("informativa", 0, 0, 0), {"consultation_required": False}, "low"),
    (("informativa", 0, 0, 0), {}, "medium"),             # required, no agreement yet
    (("not_started", 0, 0, 0), {}, "medium"),
    (("seguimiento", 10, 0, 0), {}, "medium"),            # many open
    (("seguimiento", 1, 1, 0), {}, "medium"),             # one overdue
    (("seguimiento", 0, 0, 1), {}, "medium"),             # one late commitment
    (("seguimiento", 1, 1, 1), {}, "high"),               # both at once
    (("seguimiento", 2, 2, 0), {}, "high"),
    (("seguimiento", 0, 0, 2), {}, "high"),
    (("seguimiento", 0, 0, 0), {"escalated_grievances": 2}, "high"),
    (("seguimiento", 3, 3, 0), {}, "critical"),
    (("seguimiento", 0, 0, 3), {}, "critical"),
    (("consultiva", 0, 0, 0), {"consent_withheld": True}, "critical"),
])
def test_social_risk_rule(args, kw, level):
    assert social_risk(*args, **kw) == level


def test_social_risk_vectorised_and_refusals():
    phases = pd.Series(["seguimiento", "informativa", "seguimiento"], index=[7, 8, 9])
    out = social_risk(phases, np.array([0, 0, 3]), np.array([0, 0, 3]), 0)
    assert out.tolist() == ["low", "medium", "critical"] and out.index.tolist() == [7, 8, 9]
    arr = social_risk(np.array(["seguimiento", "seguimiento"]), [1, 2], [1, 2], [0, 0])
    assert isinstance(arr, np.ndarray) and arr.tolist() == ["medium", "high"]
    with pytest.raises(ValueError, match="unknown phase"):
        social_risk("construction", 0, 0, 0)
    with pytest.raises(ValueError, match=">= 0"):
        social_risk("seguimiento", -1, 0, 0)
    with pytest.raises(ValueError, match="cannot exceed"):
        social_risk("seguimiento", 0, 2, 0)
    with pytest.raises(ValueError, match="whole counts"):
        social_risk("seguimiento", 1.5, 0, 0)
