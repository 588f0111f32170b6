"""``/api/v1/finance``: finance cases (issue 4) — run and store, export, Monte Carlo, tornado.

Request bodies are loaded by the feature's request schemas (:mod:`fondo.finance.schemas`,
the same the ``fondo finance`` commands load: types, required fields, plain bounds); the
finance engine (``finance.CaseInputs.from_dict``) then checks the rules that join fields,
so fields it knows beyond the contract pass through and every rejection is one 422 problem
naming the field.

Who sees what (:mod:`web.api.permissions`): officers, analysts and admins see and create
every case; an investor reads, read-only, the cases whose project belongs to a fund in
which they act for a limited partner: another case is a 404, creating a case or starting
a Monte Carlo run a 403.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields

from fondo.finance import exports
from fondo.finance import service as svc
from fondo.finance.schemas import (
    CaseListQuerySchema,
    FinanceCaseRequestSchema,
    MonteCarloRequestSchema,
)
from finance.election import ELECTION_OBJECTIVES
from fondo.jobs import job_status, launch
from web.api.docs import Blueprint, responses_doc, strict_json
from web.api.idempotency import idempotency_doc, idempotent
from web.api.permissions import FINANCE_READ_ROLES, FINANCE_WRITE_ROLES, visible_fund_ids
from web.api.schemas import TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db

blp = Blueprint("finance", __name__, url_prefix="/api/v1/finance",
                description="Finance cases: cash flows, capital stack, returns, risk")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _float(description: str) -> fields.Float:
    return fields.Float(allow_none=True, metadata={"description": description})


class MetricsSchema(Schema):
    """Case metrics (``null`` where a number does not exist; the reason in ``notes``).

    Inputs (prices, costs) are read as money of the first operating year (year-1 money);
    the real LCOE is in year-0 money (SAM's convention)."""

    project_irr_pre_tax = _float("When the flows change sign more than once, every root is in "
                                 "irr_roots and notes says so. [fraction/year]")
    project_irr_after_tax = _float("[fraction/year]")
    npv_usd = fields.Float(metadata={"description": "After-tax project NPV at discount_rate. [USD]"})
    lcoe_real_usd_per_mwh = fields.Float(metadata={
        "description": "Real LCOE in year-0 money: PV of nominal CAPEX and OPEX over energy "
                       "discounted at the real rate (NREL SAM's convention). [USD/MWh]"})
    lcoe_nominal_usd_per_mwh = fields.Float(metadata={"description": "Nominal LCOE. [USD/MWh]"})
    min_dscr = _float("Senior: the same as min_dscr_senior. [-]")
    avg_dscr = _float("Senior: the same as avg_dscr_senior. [-]")
    llcr = _float("Senior: the same as llcr_senior. [-]")
    min_dscr_senior = _float("Lowest CFADS / senior debt service due. [-]")
    avg_dscr_senior = _float("Mean CFADS / senior debt service due. [-]")
    llcr_senior = _float("PV of CFADS over the senior tenor at the senior rate / senior debt at "
                         "COD. [-]")
    min_dscr_total = _float("Lowest CFADS / (senior + concessional debt service due). [-]")
    avg_dscr_total = _float("Mean CFADS / (senior + concessional debt service due). [-]")
    llcr_total = _float("PV of CFADS to the end of the longest tenor at the principal-weighted "
                        "rate of all debt / all debt at COD. [-]")
    payback_years = _float("[year]")
    debt_usd = fields.Float(metadata={"description": "All debt at COD. [USD]"})
    gearing = fields.Float(metadata={"description": "debt_usd / capex_usd, all debt. [-]"})
    senior_gearing = fields.Float(metadata={"description": "Senior debt at COD / capex_usd. [-]"})
    tax_losses_expired_usd = fields.Float(metadata={
        "description": "Tax losses that expired unused (LISR art. 57). [USD]"})
    tax_losses_expired = fields.List(fields.Dict(), metadata={
        "description": "Each expiry: model year and amount_usd."})
    ptu_usd = fields.Float(metadata={"description": "PTU over the life (capped when "
                                                    "ptu_payroll_usd_per_year is given). [USD]"})
    project_mirr_pre_tax = _float("Modified IRR (numpy-financial's mirr; finance and "
                                  "reinvestment rates in mirr_*_rate). [fraction/year]")
    project_mirr_after_tax = _float("[fraction/year]")
    equity_mirr = _float("[fraction/year]")
    irr_roots = fields.Dict(metadata={"description": "For an IRR whose flows change sign more "
                                                     "than once: every rate with NPV 0."})
    notes = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "Why a metric is null, several IRRs, expiring "
                                                 "losses."})


class FinanceCaseSchema(Schema):
    """A stored finance case with the engine's answer."""

    id = fields.Integer()
    name = fields.String(allow_none=True)
    project_id = fields.Integer(allow_none=True)
    study_id = fields.Integer(allow_none=True)
    is_demo = fields.Boolean()
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.String()
    capacity_mw = fields.Float()
    capex_usd = fields.Float()
    metrics = fields.Nested(MetricsSchema)
    request = fields.Dict(metadata={"description": "The request as the engine read it."})
    tranches = fields.List(fields.Dict(), metadata={"description": "Per tranche: amounts, irr "
                                                                   "(null + irr_reason), npv."})
    cashflows = fields.List(fields.Dict(), metadata={"description": "One row per model year, "
                                                                    "unit-named columns."})
    links = fields.Dict(keys=fields.String(), values=fields.String())


class MonteCarloRunSchema(Schema):
    """A Monte Carlo run: state and progress of its task, and its summary when finished."""

    id = fields.Integer()
    case_id = fields.Integer()
    task_id = fields.String()
    state = fields.String()
    progress = fields.Dict()
    error = fields.String(allow_none=True)
    spec = fields.Dict()
    summary = fields.Dict(allow_none=True, metadata={
        "description": "Percentiles of each equity holder's IRR and NPV, of the minimum DSCR "
                       "(min_dscr = min_dscr_senior; min_dscr_total over all debt service) and of "
                       "debt; p_dscr_breach, p_guarantee_call; risks_drawn (with their "
                       "sigma) and risks_not_drawn (held at base: no cited default sigma)."})
    links = fields.Dict()


class DepreciationElectionSchema(Schema):
    """The depreciation rate that maximises an after-tax NPV."""

    objective = fields.String(metadata={"description": "npv_usd or equity_npv_usd."})
    best_rate = fields.Float(metadata={"description": "[fraction/year]"})
    best_value_usd = fields.Float(metadata={"description": "The objective at best_rate. [USD]"})
    maximum_rate_value_usd = _float("The objective at 100 % in the first year. [USD]")
    gain_usd = _float("best_value_usd - maximum_rate_value_usd. [USD]")
    best = fields.Dict(metadata={"description": "IRRs, NPVs and expired losses at best_rate."})
    at_maximum_rate = fields.Dict(allow_none=True, metadata={"description": "The same at 100 %."})
    scan = fields.List(fields.Dict(), metadata={"description": "rate, value_usd of the grid."})


def _visible_case(case_id: int) -> svc.FinanceCase:
    """The case if the caller may see it, else the same 404 as an unknown id."""
    return svc.get_case(db(), case_id, fund_ids=visible_fund_ids(db(), api_user()))


@blp.post("/cases")
@require_role(*FINANCE_WRITE_ROLES)
@idempotent
@blp.arguments(FinanceCaseRequestSchema, description="The case.")
@blp.doc(**idempotency_doc(201))
@blp.doc(**responses_doc(201, FinanceCaseSchema, "Stored; metrics, tranches and cash flows.",
                         errors=(401, 403, 422)))
def create_case(body: dict[str, Any]):
    """Run a finance case and store it; 201 with `Location` of the stored case.

    Bad input (negative CAPEX, equity shares not summing to 1, DSCR target ≤ 1, tenor beyond
    life, a guarantee covering an unknown tranche, malformed JSON) is a 422 problem whose
    `field` names the field; nothing is stored.
    """
    session = db()
    row = svc.create_case(session, body, user_id=api_user().id)
    session.commit()
    return strict_json(svc.case_json(row), 201, {"Location": f"/api/v1/finance/cases/{row.id}"})


@blp.get("/cases")
@require_role(*FINANCE_READ_ROLES)
@blp.arguments(CaseListQuerySchema, location="query")
def list_cases(query: dict[str, Any]):
    """Stored cases, newest first, with their metrics (no cash-flow tables)."""
    project_id = query["project_id"]
    rows = svc.list_cases(db(), project_id, fund_ids=visible_fund_ids(db(), api_user()))
    return strict_json({"cases": [svc.case_summary_json(r) for r in rows]})


@blp.get("/cases/<int:case_id>")
@require_role(*FINANCE_READ_ROLES)
@blp.doc(**responses_doc(200, FinanceCaseSchema, "The stored case."))
def get_case(case_id: int):
    """A stored case: request, metrics, tranches and the annual cash-flow table."""
    return strict_json(svc.case_json(_visible_case(case_id)))


@blp.get("/cases/<int:case_id>/cashflows.csv")
@require_role(*FINANCE_READ_ROLES)
@blp.doc(**responses_doc(200, None, "One row per model year, unit-named columns.", mime="text/csv"))
def get_cashflows_csv(case_id: int):
    """The annual cash-flow table as CSV."""
    row = _visible_case(case_id)
    return Response(exports.cashflows_csv(row), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="finance-case-{case_id}-cashflows.csv"'})


@blp.get("/cases/<int:case_id>/cashflows.xlsx")
@require_role(*FINANCE_READ_ROLES)
@blp.doc(**responses_doc(200, None, "Sheets metrics, cashflows, tranches, inputs.", mime=XLSX_MIME))
def get_cashflows_xlsx(case_id: int):
    """The case as an XLSX workbook (metrics, cash flows, tranches, inputs)."""
    row = _visible_case(case_id)
    return Response(exports.cashflows_xlsx(row), mimetype=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="finance-case-{case_id}.xlsx"'})


@blp.get("/cases/<int:case_id>/tornado")
@require_role(*FINANCE_READ_ROLES)
@blp.doc(parameters=[{"in": "query", "name": "holder", "schema": {"type": "string"},
                      "required": False, "description": "Equity tranche (default: the first)."}])
def get_tornado(case_id: int):
    """Sensitivity of an equity holder's IRR to energy, merchant price, CAPEX and OPEX."""
    row = _visible_case(case_id)
    return strict_json(svc.tornado_json(row, request.args.get("holder")))


@blp.get("/cases/<int:case_id>/depreciation-election")
@require_role(*FINANCE_READ_ROLES)
@blp.doc(parameters=[{"in": "query", "name": "objective", "required": False,
                      "schema": {"type": "string", "enum": list(ELECTION_OBJECTIVES)},
                      "description": "npv_usd (after-tax project NPV, default) or equity_npv_usd "
                                     "(the equity holders' NPV, levered tax)."}])
@blp.doc(**responses_doc(200, DepreciationElectionSchema, "The best rate and the scan.",
                         errors=(401, 403, 404, 422)))
def get_depreciation_election(case_id: int):
    """The depreciation rate, up to 100 % a year, that maximises an after-tax NPV of the case.

    LISR art. 34 fr. XIII allows 100 % in the first operating year; art. 31 lets the sponsor
    take a lower rate, which can be worth more when a 100 % deduction makes tax losses that
    expire unused (art. 57). Computed when asked (a scan of rates and a Brent search), not
    stored; an unknown objective is a 422 naming `objective`.
    """
    row = _visible_case(case_id)
    return strict_json(svc.depreciation_election_json(row, request.args.get("objective")))


@blp.post("/cases/<int:case_id>/montecarlo")
@require_role(*FINANCE_WRITE_ROLES)
@blp.arguments(MonteCarloRequestSchema, required=False,
               description="Uncertainties and draws (all optional; an empty body takes the "
                           "defaults).")
@blp.doc(**responses_doc(202, TaskSchema, "The task; follow `Location`.",
                         errors=(401, 403, 404, 422)))
def start_montecarlo(body: dict[str, Any], case_id: int):
    """Start a Monte Carlo of a stored case as a task with progress (202 + `Location`).

    The summary is served at `links.self` of the run (and at the task's `result_url`).
    """
    session = db()
    job, run = svc.create_montecarlo_run(session, case_id, body, user_id=api_user().id)
    session.commit()
    launch(celery_app(), svc.MONTECARLO_TASK, job, job.params)
    session.refresh(job)
    answer = job_status(job) | {"run": svc.montecarlo_run_url(case_id, run.id)}
    return strict_json(answer, 202, {"Location": f"/api/v1/tasks/{job.id}"})


@blp.get("/cases/<int:case_id>/montecarlo")
@require_role(*FINANCE_READ_ROLES)
def list_montecarlo(case_id: int):
    """Monte Carlo runs of a case, newest first."""
    session = db()
    _visible_case(case_id)
    runs = svc.list_montecarlo_runs(session, case_id)
    return strict_json({"runs": [svc.montecarlo_run_json(session, r) for r in runs]})


@blp.get("/cases/<int:case_id>/montecarlo/<int:run_id>")
@require_role(*FINANCE_READ_ROLES)
@blp.doc(**responses_doc(200, MonteCarloRunSchema, "The run."))
def get_montecarlo(case_id: int, run_id: int):
    """A Monte Carlo run: its state and progress, and its summary once finished."""
    session = db()
    _visible_case(case_id)
    run = svc.get_montecarlo_run(session, case_id, run_id)
    session.refresh(run)
    return strict_json(svc.montecarlo_run_json(session, run))
