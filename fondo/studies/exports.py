"""Exports of a stored yield study: JSON, XLSX and a PDF report (the CSV is the stored file).

Each takes the study's JSON (:func:`fondo.studies.service.study_json`) and, where needed, its
hourly table (:mod:`fondo.studies.hourly`); none touches the database. The XLSX has the
sheets ``summary``, ``monthly``, ``loss tree``, ``p-values`` and ``assumptions``; the PDF
report (reportlab, with a matplotlib chart) shows the assumptions, the station and its
distance, a monthly bar chart, the loss tree and the P-values table. openpyxl, reportlab and
matplotlib are imported when an export is made, not with the module.
"""

from __future__ import annotations

import io
import json
from typing import Any
from xml.sax.saxutils import escape

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
    losses.append(["step", "fraction", "energy_kwh"])
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


def _monthly_chart_png(result: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 2.8), dpi=150)
    axes = figure.add_subplot()
    axes.bar(MONTHS, [v / 1000.0 for v in result["energy_monthly_kwh"]], color="#2f6f4e")
    axes.set_ylabel("AC energy [MWh]")
    axes.set_title("Monthly energy (typical year)")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def study_pdf(record: dict[str, Any]) -> bytes:
    """A PDF report: station and distance, summary, monthly chart, loss tree, P-values,
    assumptions. Page streams are left uncompressed (text searchable in the bytes; the
    chart image is still compressed) and the station name
    is also in the document's subject."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    result = record["result"]
    station = result["station"]
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6efe9")),
                       ("FONTSIZE", (0, 0), (-1, -1), 8)])
    technology = "Photovoltaic" if record["technology"] == "pv" else "Wind"
    title = f"Fondo yield study {record['id']}: {technology}"
    station_line = (f"Weather station: {station['name']} (WMO {station['id']}), "
                    f"{station['distance_km']:.1f} km from the site")
    if station.get("elevation_difference_m") is not None:
        station_line += f", site {station['elevation_difference_m']:+.0f} m above the station"
    story = [Paragraph(escape(title), styles["Title"]),
             Paragraph(escape(station_line), styles["BodyText"]),
             Paragraph(escape(f"Site: {record['request'].get('lat')}, "
                              f"{record['request'].get('lon')}"), styles["BodyText"]),
             Spacer(1, 0.3 * cm)]
    summary = [["Figure", "Value"]] + [[label, _fmt(result[key])] for key, label in SUMMARY_ROWS
                                       if result.get(key) is not None]
    story += [Table(summary, style=grid, hAlign="LEFT"), Spacer(1, 0.3 * cm)]
    story += [Image(io.BytesIO(_monthly_chart_png(result)), width=17 * cm, height=6.8 * cm)]
    monthly = [["Month"] + list(MONTHS),
               ["MWh"] + [f"{v / 1000:,.1f}" for v in result["energy_monthly_kwh"]]]
    story += [Table(monthly, style=grid, hAlign="LEFT"), Spacer(1, 0.3 * cm)]
    story += [Paragraph("Loss tree", styles["Heading2"])]
    losses = [["Step", "Loss [%]", "Energy after the step [kWh]"]] + [
        [s["name"], f"{100 * s['fraction']:.2f}", f"{s['energy_kwh']:,.0f}"]
        for s in result["losses"]]
    story += [Table(losses, style=grid, hAlign="LEFT")]
    story += [Paragraph("Exceedance values (P-values)", styles["Heading2"])]
    horizons = list(result.get("p_values_kwh", {}))
    names = list(next(iter(result["p_values_kwh"].values()))) if horizons else []
    pvalues = [["Horizon"] + [n.upper() + " [kWh]" for n in names]] + [
        [h.replace("_", " ")] + [f"{result['p_values_kwh'][h][n]:,.0f}" for n in names]
        for h in horizons]
    story += [Table(pvalues, style=grid, hAlign="LEFT")]
    story += [Paragraph("Assumptions", styles["Heading2"])]
    rows = [["Name", "Value"]] + [
        [Paragraph(escape(str(k)), small), Paragraph(escape(_fmt(v)), small)]
        for k, v in result["assumptions"].items()]
    story += [Table(rows, style=grid, colWidths=[5.5 * cm, 11.5 * cm], hAlign="LEFT")]
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, title=title, author="Fondo",
                                 subject=station_line, leftMargin=2 * cm, rightMargin=2 * cm,
                                 topMargin=1.5 * cm, bottomMargin=1.5 * cm,
                                 pageCompression=0)
    document.build(story)
    return out.getvalue()
