"""``/api/v1/portfolio``: the fund's portfolio summary, one LP's position and returns, and
the ESG / IFRS S2 figures (JSON and XLSX) (issue 11).

``GET /api/v1/portfolio/summary`` is what ``fondo portfolio summary`` prints: the fund's
projects (each with ``capacity_mw``) and their total ``capacity_mw``, the ledger totals,
projected returns through the fund's waterfall, exposure, limits, correlated P50/P90 and,
with ``draws``, a Monte Carlo of the fund's IRR.

Who sees what: officers, analysts and admins see every fund's summary; an investor sees
the summary of the funds in which they act for an LP (another fund is a 404) and only
their own LP position (another LP is a 404); analysts see no LP position (403).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from fondo.accounts.models import Role
from fondo.fund import esg as esg_service
from fondo.fund import portfolio as portfolio_service
from fondo.fund import service as fund_service
from fondo.fund.portfolio_schemas import PortfolioMonteCarloRequestSchema, PortfolioQuerySchema
from fondo.jobs import job_status, launch
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.permissions import visible_fund_ids
from web.auth import api_user, require_role
from web.api.schemas import TaskSchema
from web.context import celery_app, db, settings

blp = Blueprint("portfolio", __name__, url_prefix="/api/v1/portfolio",
                description="Portfolio: returns, risk, ESG and IFRS S2 figures of the fund")

#: Who reads a fund's portfolio (investors only their funds').
READ_ROLES = (Role.OFFICER, Role.ANALYST, Role.INVESTOR)
#: Who reads an LP's position (investors only their own).
LP_ROLES = (Role.OFFICER, Role.INVESTOR)
#: The ESG workbook's labels (:data:`fondo.fund.esg.XLSX_LABELS`), written out so that
#: ``pybabel extract`` finds them; the workbook is labelled in the request's language.
XLSX_LABELS = (_l("Figure"), _l("Value"), _l("Unit"), _l("Fund"), _l("Clean energy (MWh/year)"),
               _l("Avoided emissions (tCO2e/year)"),
               _l("Emission factor of the national electricity system"), _l("Source"),
               _l("Contribution to the 2030 clean-generation goal"),
               _l("Share of national generation"), _l("Demo figures: not real investments"))


def _fund(query: dict[str, Any]) -> Any:
    return portfolio_service.resolve_fund(db(), query.get("fund_id"),
                                          visible_fund_ids(db(), api_user()))


@blp.get("/summary")
@require_role(*READ_ROLES)
@blp.arguments(PortfolioQuerySchema, location="query")
@blp.doc(**responses_doc(200, None, "The portfolio summary.", errors=(401, 403, 404, 422)))
def summary(query: dict[str, Any]):
    """Projects, totals, ledger, projected returns, exposure, limits, P50/P90, Monte Carlo."""
    fund = _fund(query)
    return strict_json(portfolio_service.portfolio_summary(
        db(), fund, settings=settings(), as_of_year=query.get("as_of_year"),
        draws=query["draws"], seed=query["seed"]))


@blp.get("/lp/<int:lp_id>")
@require_role(*LP_ROLES)
@blp.arguments(PortfolioQuerySchema, location="query")
@blp.doc(**responses_doc(200, None, "The LP's position and returns in its currency.",
                         errors=(401, 403, 404, 422)))
def lp(query: dict[str, Any], lp_id: int):
    """One LP: committed, called, distributed, unfunded, NAV share; IRR, TVPI, DPI, RVPI
    and projected distributions by year in the LP's own currency."""
    user = api_user()
    own = (set(fund_service.limited_partner_ids_of_user(db(), user.id))
           if user.role is Role.INVESTOR else None)
    return strict_json(portfolio_service.lp_summary(db(), lp_id, lp_ids=own,
                                                    as_of_year=query.get("as_of_year")))


@blp.get("/esg")
@require_role(*READ_ROLES)
@blp.arguments(PortfolioQuerySchema, location="query")
@blp.doc(**responses_doc(200, None, "ESG and IFRS S2 climate metrics.", errors=(401, 403, 404, 422)))
def esg(query: dict[str, Any]):
    """Clean MWh, avoided tCO2e, the 2030 goal, social risk, IFRS S2 climate metrics."""
    return strict_json(esg_service.esg_report(db(), _fund(query), settings()))


@blp.get("/esg.xlsx")
@require_role(*READ_ROLES)
@blp.arguments(PortfolioQuerySchema, location="query")
@blp.doc(**responses_doc(200, None, "Sheets summary, projects, ifrs_s2.",
                         mime=esg_service.XLSX_MIME, errors=(401, 403, 404, 422)))
def esg_xlsx(query: dict[str, Any]):
    """The ESG figures as an XLSX workbook, labelled in the request's language (`?lang=`)."""
    fund = _fund(query)
    body = esg_service.esg_xlsx(esg_service.esg_report(db(), fund, settings()), gettext)
    return Response(body, mimetype=esg_service.XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="fund-{fund.id}-esg.xlsx"'})


@blp.post("/montecarlo")
@require_role(Role.OFFICER, Role.ANALYST)
@blp.arguments(PortfolioMonteCarloRequestSchema, required=False,
               description="Fund, draws (default 10 000), seed, as-of year.")
@blp.doc(**responses_doc(202, TaskSchema, "The task; follow `Location`.",
                         errors=(401, 403, 404, 422)))
def start_montecarlo(body: dict[str, Any]):
    """Start the Monte Carlo of the fund's IRR (every project's case drawn, energy
    correlated) as a task with progress; its result is the task's `result`."""
    session = db()
    fund = _fund(body)
    job = portfolio_service.create_montecarlo_job(session, fund, body, api_user().id)
    session.commit()
    launch(celery_app(), portfolio_service.MONTECARLO_TASK, job, job.params)
    session.refresh(job)
    return strict_json(job_status(job), 202, {"Location": f"/api/v1/tasks/{job.id}"})
