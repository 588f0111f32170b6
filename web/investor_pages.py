"""The investor dashboard under ``/fund``: the fund (commitments, called, distributed, NAV,
fund IRR, TVPI, DPI), the investor's own LP position in its own currency, each project's
and tranche's IRR, NPV, DSCR, LLCR and LCOE, charts (annual cash flows and distributions,
the Monte Carlo distribution of the fund's IRR with P10/P50/P90 marked, portfolio energy
P50/P90 with the diversification benefit, exposure by state and technology), ESG figures
and the IFRS S2 table, with CSV and XLSX downloads.

Every figure is the one the API serves: :func:`fondo.fund.portfolio.portfolio_summary`
(``GET /api/v1/portfolio/summary``), :func:`~fondo.fund.portfolio.lp_summary`
(``GET /api/v1/portfolio/lp/<id>``), :func:`fondo.fund.esg.esg_report`
(``GET /api/v1/portfolio/esg``) and the finance cases (``GET /api/v1/finance/cases/<id>``),
with the same visibility: an investor sees only the funds where they act for an LP and
only their own LP's position (another LP's page is a 404, as in the API).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from babel import numbers as babel_numbers
from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from fondo.accounts.models import Role
from fondo.errors import FondoError
from fondo.finance import service as finance_service
from fondo.fund import esg as esg_service
from fondo.fund import portfolio as portfolio_service
from fondo.fund import service as fund_service
from web import work_charts
from web.context import db, settings
from web.i18n import NUMBER_LOCALES, language
from web.i18n import page_gettext as _
from web.pages import page_roles
from web.work_labels import work_label

bp = Blueprint("investor_pages", __name__, url_prefix="/fund")
bp.add_app_template_global(work_label, "work_label")

#: Who sees the dashboard: investors (their funds only) and officers (every fund).
DASHBOARD_ROLES = (Role.INVESTOR, Role.OFFICER)
#: Draws of the fund-IRR Monte Carlo drawn on the dashboard (about a second of engine
#: time for the demo's four projects; the API's ``?draws=`` takes up to its own maximum).
DASHBOARD_MONTECARLO_DRAWS = 1000
#: Seed of that Monte Carlo (fixed: the chart and its table show the same draws).
DASHBOARD_MONTECARLO_SEED = 0
#: Project metrics shown per project: (key of the case's metrics, format).
PROJECT_METRICS = (("equity_irr", "percent"), ("project_irr_after_tax", "percent"),
                   ("npv_usd", "usd"), ("min_dscr_senior", "ratio"), ("llcr_senior", "ratio"),
                   ("lcoe_real_usd_per_mwh", "price"))
#: Charts of the dashboard.
CHARTS = ("cashflows", "montecarlo", "energy", "exposure")
#: Leading characters that a spreadsheet reads as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def money(value: Any, currency: str) -> str:
    """An amount in ``currency`` in the page's locale (``1 234 567,89 $ CA`` in French)."""
    if value in (None, ""):
        return "—"
    return babel_numbers.format_currency(float(value), currency,
                                         locale=NUMBER_LOCALES.get(language(), language()))


bp.add_app_template_global(money, "money")



def _visible() -> set[int] | None:
    """Funds the user sees: ``None`` for officers and admins (all)."""
    if current_user.role is Role.INVESTOR:
        return fund_service.fund_ids_of_user(db(), current_user.id)
    return None


def _fund():
    raw = request.args.get("fund_id")
    try:
        fund_id = int(raw) if raw else None
    except ValueError:
        abort(404)
    return portfolio_service.resolve_fund(db(), fund_id, _visible())


def visible_funds() -> list[Any]:
    """The funds the user may open (investors: theirs; staff: all), by id."""
    from sqlalchemy import select

    visible = _visible()
    query = select(fund_service.Fund).order_by(fund_service.Fund.id)
    if visible is not None:
        query = query.where(fund_service.Fund.id.in_(sorted(visible)))
    return list(db().scalars(query))


def _summary(fund, draws: int = 0) -> dict[str, Any]:
    return portfolio_service.portfolio_summary(db(), fund, settings=settings(), draws=draws,
                                               seed=DASHBOARD_MONTECARLO_SEED)


def _own_positions(fund_id: int) -> list[dict[str, Any]]:
    if current_user.role is not Role.INVESTOR:
        return []
    mine = fund_service.limited_partner_ids_of_user(db(), current_user.id)
    out = []
    for lp_id in mine:
        record = portfolio_service.lp_summary(db(), lp_id, lp_ids=set(mine))
        if record["fund_id"] == fund_id:
            out.append(record)
    return out


def project_rows(summary: dict[str, Any], fund_ids: set[int] | None) -> list[dict[str, Any]]:
    """Each project with its finance case's metrics and tranches (none without a case)."""
    rows = []
    for project in summary["projects"]:
        row = dict(project)
        row["metrics"], row["tranches"], row["montecarlo"] = {}, [], None
        if project.get("finance_case_id"):
            try:
                case = finance_service.case_json(finance_service.get_case(
                    db(), project["finance_case_id"], fund_ids=fund_ids))
            except FondoError:
                case = None
            if case is not None:
                row["metrics"], row["tranches"] = case["metrics"], case["tranches"]
                row["montecarlo"] = newest_equity_irr_percentiles(project["finance_case_id"])
        rows.append(row)
    return rows


def newest_equity_irr_percentiles(case_id: int) -> dict[str, Any] | None:
    """P10/P50/P90 of the first equity holder's IRR in the case's newest finished Monte
    Carlo run (``GET /api/v1/finance/cases/<id>/montecarlo``), or None without one."""
    for run in finance_service.list_montecarlo_runs(db(), case_id):
        if run.summary and run.summary.get("equity_irr"):
            holder, percentiles = next(iter(run.summary["equity_irr"].items()))
            return {"holder": holder, "n_draws": run.summary.get("n_draws"),
                    **{k: percentiles.get(k) for k in ("p10", "p50", "p90")}}
    return None


@bp.get("")
@page_roles(*DASHBOARD_ROLES)
def dashboard():
    """The fund, the investor's own position, projects, risk, exposure and ESG."""
    if current_user.role is Role.INVESTOR and not _visible():
        return render_template("investor/no_fund.html")
    fund = _fund()
    summary = _summary(fund, DASHBOARD_MONTECARLO_DRAWS)
    return render_template(
        "investor/dashboard.html", s=summary, positions=_own_positions(fund.id),
        funds=visible_funds(),
        projects=project_rows(summary, _visible()), metrics=PROJECT_METRICS,
        esg=esg_service.esg_report(db(), fund, settings()), fmt=_fmt,
        fund_query=f"?fund_id={fund.id}")


@bp.get("/lp/<int:lp_id>")
@page_roles(*DASHBOARD_ROLES)
def lp(lp_id: int):
    """One LP's position and projected returns in its own currency (investors: their own
    LP only; another LP is a 404, as in the API)."""
    own = (set(fund_service.limited_partner_ids_of_user(db(), current_user.id))
           if current_user.role is Role.INVESTOR else None)
    record = portfolio_service.lp_summary(db(), lp_id, lp_ids=own)
    return render_template("investor/lp.html", lp=record, fmt=_fmt)


def _fmt(value: Any, kind: str) -> str:
    from web.finance_pages import fmt

    return fmt(value, kind)


def _chart_figure(name: str, summary: dict[str, Any]):
    if name == "cashflows":
        if not summary.get("returns"):
            abort(404)
        years = [r["year"] for r in summary["returns"]["by_year"]]
        rows = summary["returns"]["by_year"]
        return work_charts.bar_lines_figure(
            years, {_("Paid in by the LPs"): [-r["paid_in_usd"] for r in rows],
                    _("Distributions to the LPs"): [r["lp_distribution_usd"] for r in rows]},
            {_("Distributions to the GP"): [r["gp_distribution_usd"] for r in rows]},
            xlabel=_("Year"), ylabel=_("Million USD"),
            title=_("Fund cash flows and distributions by year"))
    if name == "montecarlo":
        mc = summary.get("montecarlo") or {}
        if not mc.get("net_irr"):
            abort(404)
        return work_charts.percentile_figure(
            mc.get("net_irr") or {}, marked=("P10", "P50", "P90"), xlabel=_("Fund net IRR [%]"),
            ylabel=_("Probability of a lower IRR [%]"),
            title=_("Monte Carlo of the fund's net IRR"))
    if name == "energy":
        risk = summary.get("energy_risk")
        if not risk:
            abort(404)
        labels = [_("1 year"), _("10 years")]
        bars = {_("P50 of the portfolio"): [risk[k]["energy_p50_mwh"] for k in ("1_year", "10_year")],
                _("P90 of the portfolio"): [risk[k]["energy_p90_mwh"] for k in ("1_year", "10_year")],
                _("Sum of the projects' P90"): [risk[k]["sum_of_p90_mwh"]
                                                for k in ("1_year", "10_year")]}
        figure = work_charts.bar_lines_figure(
            [0, 1], bars, xlabel="", ylabel=_("Energy [GWh/year]"),
            title=_("Portfolio energy P50/P90 and the diversification benefit"), scale=1e3)
        figure.axes[0].set_xticks([0, 1], labels)
        return figure
    exposure = summary["exposure"]
    keys = [("state", k) for k in exposure["state"]] + [("technology", k)
                                                        for k in exposure["technology"]]
    values = [exposure[d][k]["fraction"] * 100.0 for d, k in keys]
    figure = work_charts.bar_lines_figure(
        list(range(len(keys))), {_("Share of the fund's allocations [%]"): values},
        xlabel="", ylabel="%", title=_("Exposure by state and technology"), scale=1.0)
    figure.axes[0].set_xticks(range(len(keys)), [exposure_label(d, k) for d, k in keys],
                              rotation=30, ha="right")
    return figure


def exposure_label(dimension: str, key: str) -> str:
    """A state (INEGI key) or a technology, in words."""
    if dimension == "technology":
        return work_label("technology", key)
    return STATE_NAMES.get(key, key)


#: INEGI state keys → names (INEGI, *Catálogo Único de Claves de Áreas Geoestadísticas
#: Estatales, Municipales y Localidades*); states outside the list show their key.
STATE_NAMES = {"01": "Aguascalientes", "05": "Coahuila", "11": "Guanajuato", "19": "Nuevo León",
               "22": "Querétaro", "24": "San Luis Potosí", "28": "Tamaulipas",
               "32": "Zacatecas", "14": "Jalisco"}


bp.add_app_template_global(exposure_label, "exposure_label")


@bp.get("/projects.geojson")
@page_roles(*DASHBOARD_ROLES)
def project_sites():
    """The fund's project sites as points (centroids, EPSG:4326) for the exposure map:
    name, technology, capacity and state of each, nothing else."""
    import shapely

    session = db()
    features = []
    for project in portfolio_service.portfolio_projects(session, _fund()):
        if project.site_id is None:
            continue
        site = fund_service.get_site(session, project.site_id)
        if site.geometry is None:
            continue
        point = shapely.centroid(site.geometry)
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                         "properties": {"name": project.name,
                                        "technology": work_label("technology",
                                                                 project.technology),
                                        "capacity_mw": project.capacity_ac_mw,
                                        "state": STATE_NAMES.get(project.state_key or "",
                                                                 project.state_key)}})
    return {"type": "FeatureCollection", "features": features}


@bp.get("/charts/<name>.svg")
@page_roles(*DASHBOARD_ROLES)
def chart(name: str):
    """One dashboard chart as SVG (its table is on the dashboard)."""
    if name not in CHARTS:
        abort(404)
    fund = _fund()
    summary = _summary(fund, DASHBOARD_MONTECARLO_DRAWS if name == "montecarlo" else 0)
    return Response(work_charts.render(_chart_figure(name, summary), "svg"),
                    mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=300"})


def dashboard_rows(summary: dict[str, Any], positions: list[dict[str, Any]],
                   projects: list[dict[str, Any]], esg: dict[str, Any]) -> list[list[Any]]:
    """The dashboard's figures as rows (section, item, figure, value, unit) for CSV/XLSX."""
    net = summary["returns"]["net"] if summary.get("returns") else {}
    ledger = summary["ledger"]
    rows: list[list[Any]] = [["section", "item", "figure", "value", "unit"]]
    for key in ("committed", "called", "distributed", "unfunded"):
        rows.append(["fund", summary["fund"]["name"], key, ledger[key], ledger["currency"]])
    for key in ("nav", "irr", "tvpi", "dpi", "rvpi"):
        rows.append(["fund", summary["fund"]["name"], key, net.get(key),
                     ledger["currency"] if key == "nav" else "-"])
    rows.append(["fund", summary["fund"]["name"], "capacity_mw", summary["capacity_mw"], "MW"])
    for lp_record in positions:
        currency = lp_record["position"]["currency"]
        for key in ("committed", "called", "distributed", "unfunded", "nav_share"):
            rows.append(["lp", lp_record["name"], key, lp_record["position"][key],
                         "-" if key == "nav_share" else currency])
        for key in ("irr", "tvpi", "dpi", "nav"):
            rows.append(["lp", lp_record["name"], key, (lp_record["returns"] or {}).get(key),
                         currency if key == "nav" else "-"])
    for project in projects:
        for key, _kind in PROJECT_METRICS:
            rows.append(["project", project["name"], key, project["metrics"].get(key), key])
        for tranche in project["tranches"]:
            for key in ("irr", "npv"):
                rows.append(["tranche", f"{project['name']} / {tranche['name']}", key,
                             tranche.get(key), tranche.get("currency") if key == "npv" else "-"])
    for period, risk in (summary.get("energy_risk") or {}).items():
        if isinstance(risk, dict) and "energy_p90_mwh" in risk:
            for key in ("energy_p50_mwh", "energy_p90_mwh", "sum_of_p90_mwh",
                        "diversification_benefit_mwh"):
                rows.append(["energy_risk", period, key, risk[key], "MWh"])
    rows.append(["esg", "fund", "clean_energy_mwh_per_year", esg["clean_energy_mwh_per_year"],
                 "MWh/year"])
    rows.append(["esg", "fund", "avoided_tco2e_per_year", esg["avoided_tco2e_per_year"],
                 "tCO2e/year"])
    return rows


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) \
            and not _is_decimal_text(value):
        return "'" + value
    return value


@bp.get("/dashboard.<fmt_name>")
@page_roles(*DASHBOARD_ROLES)
def download(fmt_name: str):
    """The dashboard's figures as CSV or XLSX (user-typed names never read as formulas)."""
    if fmt_name not in ("csv", "xlsx"):
        abort(404)
    fund = _fund()
    summary = _summary(fund)
    rows = dashboard_rows(summary, _own_positions(fund.id), project_rows(summary, _visible()),
                          esg_service.esg_report(db(), fund, settings()))
    rows = [[_safe(v) for v in row] for row in rows]
    name = f"fund-{fund.id}-dashboard.{fmt_name}"
    if fmt_name == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return Response(buffer.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "dashboard"
    for row in rows:
        sheet.append([float(v) if _is_decimal_text(v) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=esg_service.XLSX_MIME,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _is_decimal_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True
