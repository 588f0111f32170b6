"""Stored values shown by the work pages (desk, pipeline, finance, investor) in words, in
the page's language: pipeline stages, feedback kinds, statuses and actions, social risk.

Each value maps to an English msgid translated by :func:`web.i18n.page_gettext`
(Spanish and French in ``web/translations/strings_investor.py``); an unknown value (a
state added later) is shown humanised, never as an error.
"""

from __future__ import annotations

from typing import Any

from web.i18n import page_gettext

#: Stored value → English msgid, per kind of value.
WORK_VALUE_MSGIDS = {
    "stage": {
        "origination": "Origination", "screening": "Screening",
        "due_diligence": "Due diligence", "consultation": "Consultation",
        "financial_close": "Financial close", "construction": "Construction",
        "operation": "Operation", "dropped": "Dropped",
    },
    "action": {"acknowledge": "Acknowledge", "answer": "Answer", "escalate": "Escalate",
               "close": "Close"},
    "kind": {"grievance": "Grievance", "feedback": "Opinion or question"},
    "feedback_status": {"received": "Received", "acknowledged": "Acknowledged",
                        "answered": "Answered", "escalated": "Escalated", "closed": "Closed"},
    "risk": {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"},
    "technology": {"pv": "Solar photovoltaic", "wind": "Wind"},
    "commitment_status": {"pending": "Pending", "in_progress": "In progress",
                          "fulfilled": "Fulfilled", "cancelled": "Cancelled"},
    "tranche_kind": {"senior_debt": "Senior debt", "concessional_debt": "Concessional debt",
                     "equity": "Equity", "first_loss_equity": "First-loss equity",
                     "guarantee": "Guarantee"},
    "tranche_field": {"rate": "Rate [fraction/year]", "tenor_years": "Tenor [years]",
                      "target_dscr": "Target DSCR", "max_gearing": "Maximum gearing",
                      "share": "Equity share"},
}


def work_label(kind: str, value: Any) -> str:
    """``value`` of ``kind`` in the page's language (humanised when unknown)."""
    raw = getattr(value, "value", value)
    if raw is None:
        return "—"
    msgid = WORK_VALUE_MSGIDS.get(kind, {}).get(str(raw))
    if msgid is None:
        return str(raw).replace("_", " ").capitalize()
    return page_gettext(msgid)
