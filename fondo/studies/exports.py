"""Exports of a stored yield study: JSON, XLSX and a PDF report (the CSV is the stored file).

Each takes the study's JSON (:func:`fondo.studies.service.study_json`) and, where needed, its
hourly table (:mod:`fondo.studies.hourly`); none touches the database. The XLSX has the
sheets ``summary``, ``monthly``, ``loss tree``, ``p-values`` and ``assumptions``; the PDF
report is :mod:`fondo.studies.report`. openpyxl, reportlab and matplotlib are imported when
an export is made, not with the module.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from fondo.studies.hourly import HOURLY_ENERGY_COLUMN, HOURLY_TIME_COLUMN

#: Export formats of a stored study.
EXPORT_FORMATS = ("csv", "xlsx", "pdf", "json")
#: MIME type per export format.
EXPORT_MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
}
#: Month labels of the monthly tables.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Sheet names of the XLSX export.
SHEET_SUMMARY, SHEET_MONTHLY, SHEET_LOSSES, SHEET_PVALUES, SHEET_ASSUMPTIONS = (
    "summary", "monthly", "loss tree", "p-values", "assumptions")
#: Summary rows: (result key, label with unit).
SUMMARY_ROWS = (
    ("energy_annual_kwh", "Annual AC energy [kWh]"),
    ("capacity_kw", "Capacity (DC for PV, nameplate for wind) [kW]"),
    ("capacity_factor", "Capacity factor [fraction]"),
    ("specific_yield_kwh_per_kwp", "Specific yield [kWh/kWp]"),
    ("performance_ratio", "Performance ratio [fraction]"),
    ("p50_kwh", "P50, 1 year [kWh]"),
    ("p75_kwh", "P75, 1 year [kWh]"),
    ("p90_kwh", "P90, 1 year [kWh]"),
    ("p99_kwh", "P99, 1 year [kWh]"),
    ("p90_10_year_kwh", "P90, 10 years [kWh]"),
)


def _cell(value: Any) -> Any:
    """A spreadsheet cell: numbers, text and booleans as they are, the rest as JSON."""
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return json.dumps(value, ensure_ascii=False)


def study_json_bytes(record: dict[str, Any], hourly: pd.DataFrame) -> bytes:
    """The study's JSON with its hourly series (``times``, ``energy_hourly_kwh``)."""
    body = dict(record)
    body["hourly"] = {"times": hourly[HOURLY_TIME_COLUMN].tolist(),
                      "energy_hourly_kwh": [float(x) for x in hourly[HOURLY_ENERGY_COLUMN]],
                      "time_label": "interval start, local standard time UTC-6"}
    return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


def study_xlsx(record: dict[str, Any], hourly: pd.DataFrame | None = None) -> bytes:
    """Workbook with summary, monthly, loss tree, P-values and assumptions sheets."""
    from openpyxl import Workbook

    result = record["result"]
    station = result["station"]
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_SUMMARY
    sheet.append(["item", "value"])
    sheet.append(["Study id", record["id"]])
    sheet.append(["Technology", record["technology"]])
    sheet.append(["Station", f"{station['name']} (WMO {station['id']})"])
    sheet.append(["Station distance [km]", station["distance_km"]])
    sheet.append(["Station elevation difference [m]", station.get("elevation_difference_m")])
    for key, label in SUMMARY_ROWS:
        if result.get(key) is not None:
            sheet.append([label, result[key]])
    sheet.append(["Created at (UTC)", record.get("created_at")])

    monthly = book.create_sheet(SHEET_MONTHLY)
    monthly.append(["month", "energy_kwh"])
    for month, value in zip(MONTHS, result["energy_monthly_kwh"], strict=True):
        monthly.append([month, value])
    monthly.append(["Year", result["energy_annual_kwh"]])

    losses = book.create_sheet(SHEET_LOSSES)
    losses.append(["step", "fraction", "energy_lost_kwh"])
    for step in result["losses"]:
        losses.append([step["name"], step["fraction"], step["energy_kwh"]])

    pvalues = book.create_sheet(SHEET_PVALUES)
    pvalues.append(["horizon", "exceedance", "energy_kwh"])
    for horizon, values in result.get("p_values_kwh", {}).items():
        for name, value in values.items():
            pvalues.append([horizon, name, value])

    assumptions = book.create_sheet(SHEET_ASSUMPTIONS)
    assumptions.append(["name", "value"])
    for name, value in result["assumptions"].items():
        assumptions.append([name, _cell(value)])
    for name, value in (record.get("request") or {}).items():
        assumptions.append([f"request.{name}", _cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def study_pdf(record: dict[str, Any], settings: Mapping[str, Any] | None = None) -> bytes:
    """The study's PDF report (:func:`fondo.studies.report.study_report_pdf`).

    With ``settings``, the station's typical-year weather file is read to add the monthly
    resource (irradiance or wind, and temperature) to the report; without, or when the file
    cannot be read, the report says what it knows of the station only.
    """
    from fondo.studies.report import study_report_pdf

    if settings is None:
        return study_report_pdf(record)
    prepared_by, project = _people_and_project(settings, record)
    return study_report_pdf(record, weather=_station_weather(settings, record),
                            prepared_by=prepared_by, project=project)


def _people_and_project(settings: Mapping[str, Any], record: dict[str, Any]
                        ) -> tuple[str | None, str | None]:
    """Who requested the study (name or email) and the project of its site, if any."""
    from sqlalchemy import select

    from fondo.accounts.service import User
    from fondo.db import session_scope
    from fondo.fund.service import Project

    with session_scope(settings) as session:
        user = session.get(User, record["created_by_id"]) if record.get("created_by_id") else None
        author = (user.display_name or user.email) if user is not None else None
        project = None
        if record.get("site_id") is not None:
            project = session.scalar(select(Project.name).where(
                Project.site_id == record["site_id"]).order_by(Project.id).limit(1))
    return author, project


def _station_weather(settings: Mapping[str, Any], record: dict[str, Any]) -> pd.DataFrame | None:
    """The weather of the station a study used (None when it is not in the catalogue)."""
    from fondo.db import session_scope
    from fondo.errors import FondoError
    from fondo.studies.catalogue import load_weather, station_rows

    station_id = str(record["result"]["station"]["id"])
    with session_scope(settings) as session:
        rows = [r for r in station_rows(session) if str(r.id) == station_id]
        if not rows:
            return None
        try:
            weather, _station = load_weather(settings, rows[0])
        except FondoError:
            return None
    return weather
