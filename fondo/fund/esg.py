"""The fund's ESG and climate disclosure (issue 11): clean MWh, avoided tCO2e, the
contribution to the 2030 clean-generation goal, each project's social-risk level and an
IFRS S2 (NIIF S2)-style climate-metrics table; served as JSON and as an XLSX workbook.

The arithmetic and its sourced parameters are :mod:`finance.esg`. Attribution follows
PCAF's project-finance rule: the fund's allocations to a project (equity and debt) over
the project's total equity and debt at COD (its newest finance case's ``equity_usd`` and
``debt_usd``).
Energy is each project's P50 (its yield study, else its case).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finance import esg
from fondo.consultation import service as consultation_service
from fondo.errors import FondoError
from fondo.fund.allocations import case_of_project
from fondo.fund.ledger_models import Allocation, HolderKind
from fondo.fund.models import Fund
from fondo.fund.portfolio import energy_assets, portfolio_projects

__all__ = ["esg_report", "esg_xlsx", "XLSX_LABELS", "XLSX_MIME"]

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: English labels of the workbook's summary (msgids; ``web.api.portfolio`` lists them for
#: extraction and translates them).
XLSX_LABELS = ("Figure", "Value", "Unit", "Fund", "Clean energy (MWh/year)",
               "Avoided emissions (tCO2e/year)",
               "Emission factor of the national electricity system", "Source",
               "Contribution to the 2030 clean-generation goal",
               "Share of national generation", "Demo figures: not real investments")
#: Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _social_risk(session: Session, settings: Mapping[str, Any] | None, project_id: int
                 ) -> str | None:
    if settings is None:
        return None
    try:
        return consultation_service.social_risk_for_project(session, settings,
                                                            project_id)["social_risk"]
    except (FondoError, OSError, ValueError):
        return None


def esg_report(session: Session, fund: Fund, settings: Mapping[str, Any] | None = None
               ) -> dict[str, Any]:
    """The fund's ESG figures as strict JSON (see the module notes)."""
    projects = portfolio_projects(session, fund)
    cases = {p.id: case_of_project(session, p.id) for p in projects}
    assets, notes = energy_assets(session, projects, cases)
    held = {p.id: 0.0 for p in projects}
    for a in session.scalars(select(Allocation).where(Allocation.fund_id == fund.id,
                                                      Allocation.holder_kind == HolderKind.FUND)):
        if a.project_id in held:
            held[a.project_id] += float(a.amount_fund_currency)
    factor = esg.MX_GRID_EMISSION_FACTOR
    rows, table_rows = [], []
    for p in projects:
        tech = getattr(p.technology, "value", p.technology)
        asset, case = assets.get(p.id), cases[p.id]
        metrics = case.result["metrics"] if case is not None else {}
        total = float(metrics.get("equity_usd") or 0.0) + float(metrics.get("debt_usd") or 0.0)
        attribution = (esg.pcaf_attribution_factor(min(held[p.id], total), total)
                       if total > 0 and fund.base_currency == "USD" else 0.0)
        energy = asset.energy_p50_mwh if asset else 0.0
        row = {"project_id": p.id, "name": p.name, "technology": tech,
               "stage": getattr(p.stage, "value", p.stage),
               "capacity_mw": p.capacity_ac_mw or 0.0, "clean_energy_mwh": energy,
               "avoided_tco2e": esg.avoided_emissions_tco2e(energy, factor),
               "pcaf_attribution": attribution,
               "attributable_avoided_tco2e": attribution * esg.avoided_emissions_tco2e(energy, factor),
               "social_risk": _social_risk(session, settings, p.id)}
        rows.append(row)
        table_rows.append({"technology": tech, "capacity_mw": row["capacity_mw"],
                           "energy_mwh": energy, "attribution": attribution})
    clean = sum(r["clean_energy_mwh"] for r in rows)
    return {
        "fund": {"id": fund.id, "name": fund.name, "is_demo": fund.is_demo},
        "clean_energy_mwh_per_year": clean,
        "avoided_tco2e_per_year": esg.avoided_emissions_tco2e(clean, factor),
        "emission_factor": {"tco2e_per_mwh": factor.tco2e_per_mwh, "year": factor.year,
                            "source": factor.source},
        "goal_2030": esg.goal_contribution(clean) | {
            "source": "SENER, Plan de Fortalecimiento y Expansión del Sistema Eléctrico "
                      "Nacional 2025–2030 (45 % clean generation in 2030, the seed paper's "
                      "goal); national generation: " + esg.MX_NATIONAL_GENERATION_SOURCE},
        "projects": rows,
        "ifrs_s2_climate_metrics": esg.climate_metrics_by_technology(table_rows, factor),
        "method": {
            "financed_emissions": "PCAF Part A (2022) §5.5 project finance: attribution = the "
                                  "fund's allocation / the project's total equity and debt; "
                                  "operational (scope 1+2) emissions of PV and wind are 0; "
                                  "life-cycle per IPCC AR5 WGIII Annex III medians",
            "avoided_emissions": "P50 energy × the national grid emission factor; reported "
                                 "apart from financed emissions, as PCAF and IFRS S2 ask"},
        "notes": notes,
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def esg_xlsx(report: Mapping[str, Any], translate: Callable[[str], str] = str) -> bytes:
    """The ESG report as an XLSX workbook: ``summary``, ``projects``, ``ifrs_s2``.

    ``translate`` turns the summary's English labels (:data:`XLSX_LABELS`) into the
    reader's language (the web passes Flask-Babel's ``gettext``); the fourth column keeps
    the JSON key of each figure. Text typed by users (project names) is written as text,
    never as a formula.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "summary"
    factor, goal = report["emission_factor"], report["goal_2030"]
    ws.append([translate("Figure"), translate("Value"), translate("Unit"), "key"])
    rows = [
        ("Fund", _cell(report["fund"]["name"]), "", "fund.name"),
        ("Clean energy (MWh/year)", report["clean_energy_mwh_per_year"], "MWh/year",
         "clean_energy_mwh_per_year"),
        ("Avoided emissions (tCO2e/year)", report["avoided_tco2e_per_year"], "tCO2e/year",
         "avoided_tco2e_per_year"),
        ("Emission factor of the national electricity system", factor["tco2e_per_mwh"],
         f"tCO2e/MWh ({factor['year']})", "emission_factor.tco2e_per_mwh"),
        ("Source", factor["source"], "", "emission_factor.source"),
        ("Contribution to the 2030 clean-generation goal", goal["share_of_goal"],
         f"- ({goal['goal_fraction']:.0%})",
         "goal_2030.share_of_goal"),
        ("Share of national generation", goal["share_of_national_generation"], "-",
         "goal_2030.share_of_national_generation"),
    ]
    if report["fund"].get("is_demo"):
        rows.append(("Demo figures: not real investments", "", "", "fund.is_demo"))
    for label, value, unit, key in rows:
        ws.append([translate(label), value, unit, key])
    for cell in ws[1]:
        cell.font = bold
    ws.column_dimensions["A"].width = 34
    for title, rows in (("projects", report["projects"]),
                        ("ifrs_s2", report["ifrs_s2_climate_metrics"])):
        ws = wb.create_sheet(title)
        columns = list(rows[0]) if rows else []
        ws.append(columns)
        for row in rows:
            ws.append([_cell(row.get(c)) for c in columns])
        for cell in ws[1]:
            cell.font = bold
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
