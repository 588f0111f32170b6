"""The public register of the fund's projects (issue 11 item 7): JSON and CSV, no account.

What is in it, for every project held by a fund (a project without a fund is an officer's
draft and is not listed): its id, name, technology, AC capacity, state and municipality
keys (INEGI), pipeline stage, the consultation's status (the protocol phase, or ``none``)
and requirement, and how many grievances its consultation received and answered.

What is never in it: anything personal (names, e-mail, phone, location or text of
submissions — only counts), anything of the limited partners or the fund's ledger, any
finance figure (CAPEX, returns, DSCR), the site's geometry, who moved the project or why.
:data:`REGISTER_COLUMNS` is the whole list; the tests check nothing else leaks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.consultation import service as consultation_service
from fondo.fund.models import Project

#: English name of each stage (the msgid the web translates; Spanish first on the web).
STAGE_LABELS = {"origination": "Origination", "screening": "Screening",
                "due_diligence": "Due diligence", "consultation": "Consultation",
                "financial_close": "Financial close", "construction": "Construction",
                "operation": "Operation", "dropped": "Dropped"}

#: The register's columns, in order (JSON keys and the CSV header).
REGISTER_COLUMNS = ("id", "name", "technology", "capacity_ac_mw", "state_key",
                    "municipality_key", "stage", "stage_label", "consultation_status",
                    "consultation_requirement", "grievances_received", "grievances_answered",
                    "is_demo")
#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
#: Injection"): a text cell starting with one is prefixed with an apostrophe.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Feedback statuses that count as answered (the public answer was given).
ANSWERED_STATUSES = frozenset({"answered", "closed"})


def _grievance_counts(session: Session, consultation_id: int | None) -> tuple[int, int]:
    if consultation_id is None:
        return 0, 0
    items = [i for i in consultation_service.public_feedback_list(session, consultation_id)
             if i["kind"] == "grievance"]
    return len(items), sum(i["status"] in ANSWERED_STATUSES for i in items)


def register_rows(session: Session, translate: Callable[[str], str] | None = None
                  ) -> list[dict[str, Any]]:
    """One row per project held by a fund, by id, with :data:`REGISTER_COLUMNS` only.

    ``translate`` maps a stage's English name (:data:`STAGE_LABELS`) to the reader's
    language (the web's, Spanish first); without it, English.
    """
    translate = translate or (lambda text: text)
    rows = []
    for project in session.scalars(select(Project).where(Project.fund_id.is_not(None))
                                   .order_by(Project.id)):
        facts = consultation_service.project_consultation_gates(session, project.id)
        received, answered = _grievance_counts(session, facts["consultation_id"])
        rows.append({
            "id": project.id, "name": project.name, "technology": project.technology.value,
            "capacity_ac_mw": project.capacity_ac_mw, "state_key": project.state_key,
            "municipality_key": project.municipality_key, "stage": project.stage.value,
            "stage_label": translate(STAGE_LABELS[project.stage.value]),
            "consultation_status": facts["state"] or "none",
            "consultation_requirement": facts["requirement"],
            "grievances_received": received, "grievances_answered": answered,
            "is_demo": project.is_demo,
        })
    return rows


def register_json(session: Session, translate: Callable[[str], str] | None = None
                  ) -> dict[str, Any]:
    """``GET /api/v1/register``: the columns and the projects."""
    return {"columns": list(REGISTER_COLUMNS), "projects": register_rows(session, translate)}


def _cell(value: Any) -> Any:
    """A CSV cell: empty for None, text that a spreadsheet would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def register_csv(session: Session, translate: Callable[[str], str] | None = None) -> str:
    """``GET /api/v1/register.csv``: the same rows as CSV (UTF-8, header row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REGISTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in register_rows(session, translate):
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()
