"""Exports of a stored finance case: the annual cash flows as CSV, the whole case as XLSX.

Both read the stored request and the engine's stored answer (:class:`FinanceCase`); none
recomputes anything or touches the database. Values are the stored JSON's, unrounded; a
value that does not exist (the DSCR of a year without debt service) is an empty cell.
openpyxl is imported when a workbook is made, not with the module.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from fondo.finance.models import SHELL_FIELDS, FinanceCase


def _columns(rows: list[Mapping[str, Any]]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return columns


def cashflows_csv(row: FinanceCase) -> str:
    """The annual cash-flow table as CSV: one row per model year, unit-named columns.

    Empty cells are values that do not exist (the DSCR of a year without debt service).
    """
    rows = row.result["cashflows"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = _columns(rows)
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r.get(c) is None else repr(r[c]) if isinstance(r[c], float)
                         else r[c] for c in columns])
    return out.getvalue()


#: Units of metric names by suffix (longest first), for the XLSX metrics sheet.
_UNIT_SUFFIXES = (
    ("_usd_per_mwh", "USD/MWh"),
    ("_usd", "USD"),
    ("_mwh", "MWh"),
    ("_years", "year"),
    ("_mw", "MW"),
)


#: Units that say which money a metric is in (issue 12: the real LCOE is SAM's, in year-0
#: money; prices and costs are read as first-operating-year money).
_MONEY_OF = {
    "lcoe_real_usd_per_mwh": "USD/MWh, year-0 money (real, deflated to model year 0 as NREL SAM)",
    "lcoe_nominal_usd_per_mwh": "USD/MWh, nominal (levelized at the nominal discount rate)",
}

#: Rows of the ``conventions`` sheet: how the inputs, the LCOE and the debt are to be read.
CONVENTIONS = (
    ("inputs", "Prices and costs are read as money of the first operating year (year-1 money) and "
               "escalate from there."),
    ("lcoe_real_usd_per_mwh", "In year-0 money: nominal costs levelized, energy discounted at the real "
                              "rate (SAM's convention)."),
    ("debt", "Each debt tranche is drawn, charged and repaid in its own currency, converted to USD at the "
             "FX path of the year paid."),
)


def _unit(name: str) -> str:
    if name in _MONEY_OF:
        return _MONEY_OF[name]
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    if "irr" in name or name in {"gearing", "discount_rate"}:
        return "fraction (1/year)" if "irr" in name else "fraction"
    if "dscr" in name or name == "llcr":
        return "-"
    return ""


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            out.extend(_flatten(v, f"{prefix}[{i}]"))
        return out
    return [(prefix, value)]


def cashflows_xlsx(row: FinanceCase) -> bytes:
    """The case as an XLSX workbook: sheets ``metrics``, ``cashflows``, ``tranches``, ``inputs``,
    ``conventions``.

    Values are the stored JSON's, unrounded; a value that does not exist is an empty cell.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "metrics"
    ws.append(["metric", "value", "unit"])
    metrics = row.result["metrics"]
    notes = metrics.get("notes") or {}
    for key, value in _flatten({k: v for k, v in metrics.items() if k != "notes"}):
        ws.append([key, value, _unit(key.rsplit(".", 1)[-1])])
    if notes:
        ws.append([])
        ws.append(["note", "reason"])
        for key, reason in notes.items():
            ws.append([key, reason])

    for cell in ws[1]:
        cell.font = bold
    ws.column_dimensions["A"].width = 32

    ws = wb.create_sheet("cashflows")
    rows = row.result["cashflows"]
    columns = _columns(rows)
    ws.append(columns)
    for r in rows:
        ws.append([r.get(c) for c in columns])
    for cell in ws[1]:
        cell.font = bold
    ws.freeze_panes = "B2"

    ws = wb.create_sheet("tranches")
    tranches = row.result["tranches"]
    columns = _columns(tranches)
    ws.append(columns)
    for t in tranches:  # a list (the IRR roots) is written as its JSON text
        ws.append([json.dumps(t[c]) if isinstance(t.get(c), (list, dict)) else t.get(c) for c in columns])
    for cell in ws[1]:
        cell.font = bold

    ws = wb.create_sheet("inputs")
    ws.append(["field", "value"])
    for key, value in _flatten(row.request):
        ws.append([key, value])
    for key in SHELL_FIELDS:
        if getattr(row, key) is not None:
            ws.append([key, getattr(row, key)])
    for cell in ws[1]:
        cell.font = bold
    ws.column_dimensions["A"].width = 36

    ws = wb.create_sheet("conventions")
    ws.append(["convention", "how to read it"])
    for key, text in CONVENTIONS:
        ws.append([key, text])
    for cell in ws[1]:
        cell.font = bold
    ws.column_dimensions["A"].width = 28

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
