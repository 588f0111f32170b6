"""``/api/v1/finance``: finance cases (issue 4) — run and store, export, Monte Carlo, tornado.

The request schemas below document the contract in the OpenAPI document; the finance
engine (``finance.CaseInputs.from_dict``) does the validation, so fields it knows beyond
the contract pass through and every rejection is one 422 problem naming the field.
"""

from __future__ import annotations


from flask import Response, request
from web.api.docs import Blueprint
from marshmallow import Schema, fields, validate

from fondo.finance import service as svc
from fondo.jobs import job_status, launch
from fondo.accounts.models import Role
from fondo.request_body import parse_json_body
from web.api.docs import json_body_doc, request_json, responses_doc, strict_json
from web.api.schemas import TaskSchema
from web.auth import api_user, require_role
from web.context import celery_app, db

blp = Blueprint("finance", __name__, url_prefix="/api/v1/finance",
                description="Finance cases: cash flows, capital stack, returns, risk")

#: Roles that may create and read finance cases (admins pass every check).
FINANCE_ROLES = (Role.INVESTOR, Role.ANALYST, Role.OFFICER)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _num(description: str, **kw) -> fields.Float:
    return fields.Float(metadata={"description": description}, **kw)


def _int(description: str, **kw) -> fields.Integer:
    return fields.Integer(metadata={"description": description}, **kw)


class TrancheRequestSchema(Schema):
    """One tranche of the capital stack (terms by kind)."""

    name = fields.String(required=True, metadata={"description": "Unique tranche name."})
    kind = fields.String(required=True, validate=validate.OneOf(svc.TRANCHE_KINDS),
                         metadata={"description": "Kind of tranche."})
    currency = fields.String(load_default="USD", validate=validate.OneOf(svc.CURRENCIES),
                             metadata={"description": "Currency of the tranche's amounts and "
                                                      "returns (non-USD needs an `fx` path)."})
    rate = _num("Debt: nominal interest rate in the tranche currency. [fraction/year]")
    tenor_years = _int("Debt: years of debt service from COD, grace included (≤ life_years).")
    grace_years = _int("Debt: interest-only years at the start of the tenor.")
    target_dscr = _num("Senior debt: DSCR the sculpted repayment holds (> 1). [-]")
    max_gearing = _num("Senior debt: most debt at COD as a fraction of CAPEX, in (0, 1]. [-]")
    share = _num("Equity kinds: fraction of equity (equity shares sum to 1). Concessional "
                 "debt: principal as a fraction of CAPEX. Several senior tranches: fraction of "
                 "senior debt service. [-]")
    covers = fields.String(metadata={"description": "Guarantee: name of the debt tranche covered."})
    coverage = _num("Guarantee: fraction of the covered debt service it pays when short. [-]")
    fee = _num("Debt: up-front fee, fraction of principal. Guarantee: annual fee, fraction of "
               "the guaranteed balance. [-]")
    discount_rate = _num("Rate of the tranche's NPV in its currency (default: the case's). "
                         "[fraction/year]")
    amount = _num("Concessional debt: principal in the tranche currency (instead of share).")
    hurdle_rate = _num("Equity kinds: preferred return before residual sharing. [fraction/year]")
    repayment = fields.String(validate=validate.OneOf(("sculpted", "annuity")),
                              metadata={"description": "Senior: sculpted; concessional: annuity."})
    sizing_basis = fields.String(validate=validate.OneOf(("p50", "p90")),
                                 metadata={"description": "Senior: CFADS to size on."})


class FxPathSchema(Schema):
    """Exchange-rate path of one currency against the US dollar."""

    spot_per_usd = _num("Spot at year 0. [currency/USD]", required=True)
    mode = fields.String(validate=validate.OneOf(("flat", "parity", "path")),
                         metadata={"description": "flat, parity (covered interest parity) or path."})
    interest_rate = _num("Currency interest rate for parity. [fraction/year]")
    usd_interest_rate = _num("USD interest rate for parity. [fraction/year]")
    path_per_usd = fields.List(fields.Float(), metadata={"description": "Explicit path, one per "
                                                                        "model year. [currency/USD]"})
    volatility = _num("Annual log-volatility for the Monte Carlo. [1/sqrt(year)]")


class FinanceCaseRequestSchema(Schema):
    """A finance case (issue 4 contract names). Rates and shares are fractions, never percent."""

    name = fields.String(metadata={"description": "Label of the case (shell field)."})
    project_id = _int("Project the case belongs to (optional).")
    study_id = _int("Stored yield study whose P50/P90 energy the case uses (then omit "
                    "energy_p50_mwh and energy_p90_mwh).")
    capacity_mw = _num("Installed capacity. [MW]", required=True)
    energy_p50_mwh = _num("Net energy of the first operating year at P50. [MWh]")
    energy_p90_mwh = _num("Same at P90 (one-year); needed for P90 sizing and the Monte Carlo. [MWh]")
    degradation = _num("Energy lost each year after the first. [fraction/year]")
    life_years = _int("Operating life. [year]", required=True)
    construction_years = _int("Construction years; with 1, CAPEX falls in year 0 and operation "
                              "runs in years 1…life_years. [year]")
    capex_usd = _num("Total CAPEX, grid connection included (> 0). [USD]", required=True)
    capex_components_usd = fields.Dict(keys=fields.String(), values=fields.Float(),
                                       metadata={"description": "CAPEX by component, summing to "
                                                                "capex_usd (grid_connection is "
                                                                "depreciated straight-line). [USD]"})
    capex_schedule = fields.List(fields.Float(), metadata={"description": "Fraction of CAPEX per "
                                                                          "construction year. [-]"})
    opex_usd_per_kw_year = _num("Fixed O&M. [USD/(kW·year)]")
    opex_escalation = _num("Escalation of operating costs. [fraction/year]")
    variable_opex_usd_per_mwh = _num("Variable O&M. [USD/MWh]")
    land_lease_usd_per_year = _num("Land lease, first operating year. [USD/year]")
    insurance_usd_per_year = _num("Insurance, first operating year. [USD/year]")
    asset_management_usd_per_year = _num("Asset management, first operating year. [USD/year]")
    ppa_price_usd_per_mwh = _num("PPA price in the first operating year. [USD/MWh]", required=True)
    ppa_escalation = _num("PPA indexation. [fraction/year]")
    ppa_term_years = _int("Years of PPA from COD (default life_years). [year]")
    merchant_price_usd_per_mwh = _num("Merchant price after the PPA, first-year money. [USD/MWh]")
    merchant_escalation = _num("Merchant price escalation. [fraction/year]")
    cel_price_usd_per_mwh = _num("Clean energy certificate (CEL) price. [USD/MWh]")
    cel_escalation = _num("CEL price escalation. [fraction/year]")
    cel_years = _int("Years of CEL sales from COD. [year]")
    decommissioning_usd = _num("Decommissioning net of salvage, last operating year. [USD]")
    tax_rate = _num("ISR rate (default 0.30, LISR art. 9). [-]")
    ptu_rate = _num("PTU rate (default 0.10, LFT art. 117). [-]")
    depreciation = fields.String(validate=validate.OneOf(svc.DEPRECIATION_METHODS),
                                 metadata={"description": "mx_renewable_100 (LISR art. 34 fr. "
                                                          "XIII) or straight_line."})
    straight_line_rate = _num("Straight-line rate when chosen. [fraction/year]")
    discount_rate = _num("Nominal discount rate for NPV and LCOE. [fraction/year]", required=True)
    inflation_rate = _num("Inflation for the real LCOE. [fraction/year]")
    dsra_months = _num("Debt service reserve. [months]")
    sizing_basis = fields.String(validate=validate.OneOf(("p50", "p90")),
                                 metadata={"description": "CFADS the senior debt is sized on."})
    fx = fields.Dict(keys=fields.String(validate=validate.OneOf(svc.CURRENCIES)),
                     values=fields.Nested(FxPathSchema),
                     metadata={"description": "FX path per non-USD currency used by a tranche."})
    tranches = fields.List(fields.Nested(TrancheRequestSchema), required=True,
                           metadata={"description": "The capital stack."})


class MetricsSchema(Schema):
    """Case metrics (``null`` where a number does not exist; the reason in ``notes``)."""

    project_irr_pre_tax = fields.Float(allow_none=True, metadata={"description": "[fraction/year]"})
    project_irr_after_tax = fields.Float(allow_none=True, metadata={"description": "[fraction/year]"})
    npv_usd = fields.Float(metadata={"description": "After-tax project NPV at discount_rate. [USD]"})
    lcoe_real_usd_per_mwh = fields.Float(metadata={"description": "[USD/MWh]"})
    lcoe_nominal_usd_per_mwh = fields.Float(metadata={"description": "[USD/MWh]"})
    min_dscr = fields.Float(allow_none=True)
    avg_dscr = fields.Float(allow_none=True)
    llcr = fields.Float(allow_none=True)
    payback_years = fields.Float(allow_none=True, metadata={"description": "[year]"})
    debt_usd = fields.Float(metadata={"description": "All debt at COD. [USD]"})
    gearing = fields.Float(metadata={"description": "debt_usd / capex_usd. [-]"})
    notes = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "Why a metric is null."})


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


class MonteCarloRequestSchema(Schema):
    """Uncertainty of a Monte Carlo run (all optional)."""

    n_draws = _int(f"Draws (1 … {svc.MAX_DRAWS}; default 10 000).")
    seed = _int("Seed (same seed, same draws).")
    price_sigma = _num("Log standard deviation of the merchant and CEL price factor. [-]")
    capex_sigma = _num("Log standard deviation of the CAPEX factor. [-]")
    opex_sigma = _num("Log standard deviation of the OPEX factor. [-]")
    energy_sigma = _num("Standard deviation of the energy factor (default from P50/P90). [-]")
    breach_dscr = _num("DSCR under which a draw counts as a breach (default 1.0). [-]")
    chunk = _int("Draws per vectorized chunk (one progress step).")


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
                       "and of debt; p_dscr_breach, p_guarantee_call."})
    links = fields.Dict()


@blp.post("/cases")
@require_role(*FINANCE_ROLES)
@blp.doc(**json_body_doc(FinanceCaseRequestSchema, "The case (the engine validates it)."),
         **responses_doc(201, FinanceCaseSchema, "Stored; metrics, tranches and cash flows.",
                      errors=(401, 403, 422)))
def create_case():
    """Run a finance case and store it; 201 with `Location` of the stored case.

    Bad input (negative CAPEX, equity shares not summing to 1, DSCR target ≤ 1, tenor beyond
    life, a guarantee covering an unknown tranche, malformed JSON) is a 422 problem whose
    `field` names the field; nothing is stored.
    """
    session = db()
    body = request_json()
    row = svc.create_case(session, body, user_id=api_user().id)
    session.commit()
    return strict_json(svc.case_json(row), 201, {"Location": f"/api/v1/finance/cases/{row.id}"})


@blp.get("/cases")
@require_role(*FINANCE_ROLES)
@blp.doc(parameters=[{"in": "query", "name": "project_id", "schema": {"type": "integer"},
                      "required": False, "description": "Only the cases of this project."}])
def list_cases():
    """Stored cases, newest first, with their metrics (no cash-flow tables)."""
    project_id = request.args.get("project_id", type=int)
    rows = svc.list_cases(db(), project_id)
    return strict_json({"cases": [svc.case_summary_json(r) for r in rows]})


@blp.get("/cases/<int:case_id>")
@require_role(*FINANCE_ROLES)
@blp.doc(**responses_doc(200, FinanceCaseSchema, "The stored case."))
def get_case(case_id: int):
    """A stored case: request, metrics, tranches and the annual cash-flow table."""
    return strict_json(svc.case_json(svc.get_case(db(), case_id)))


@blp.get("/cases/<int:case_id>/cashflows.csv")
@require_role(*FINANCE_ROLES)
@blp.doc(**responses_doc(200, None, "One row per model year, unit-named columns.", mime="text/csv"))
def get_cashflows_csv(case_id: int):
    """The annual cash-flow table as CSV."""
    row = svc.get_case(db(), case_id)
    return Response(svc.cashflows_csv(row), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="finance-case-{case_id}-cashflows.csv"'})


@blp.get("/cases/<int:case_id>/cashflows.xlsx")
@require_role(*FINANCE_ROLES)
@blp.doc(**responses_doc(200, None, "Sheets metrics, cashflows, tranches, inputs.", mime=XLSX_MIME))
def get_cashflows_xlsx(case_id: int):
    """The case as an XLSX workbook (metrics, cash flows, tranches, inputs)."""
    row = svc.get_case(db(), case_id)
    return Response(svc.cashflows_xlsx(row), mimetype=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="finance-case-{case_id}.xlsx"'})


@blp.get("/cases/<int:case_id>/tornado")
@require_role(*FINANCE_ROLES)
@blp.doc(parameters=[{"in": "query", "name": "holder", "schema": {"type": "string"},
                      "required": False, "description": "Equity tranche (default: the first)."}])
def get_tornado(case_id: int):
    """Sensitivity of an equity holder's IRR to energy, merchant price, CAPEX and OPEX."""
    row = svc.get_case(db(), case_id)
    return strict_json(svc.tornado_json(row, request.args.get("holder")))


@blp.post("/cases/<int:case_id>/montecarlo")
@require_role(*FINANCE_ROLES)
@blp.doc(**json_body_doc(MonteCarloRequestSchema, "Uncertainties and draws (all optional)."),
         **responses_doc(202, TaskSchema, "The task; follow `Location`.", errors=(401, 403, 404, 422)))
def start_montecarlo(case_id: int):
    """Start a Monte Carlo of a stored case as a task with progress (202 + `Location`).

    The summary is served at `links.self` of the run (and at the task's `result_url`).
    """
    session = db()
    raw = request.get_data()
    body = parse_json_body(raw) if raw.strip() else {}
    job, run = svc.create_montecarlo_run(session, case_id, body, user_id=api_user().id)
    session.commit()
    launch(celery_app(), svc.MONTECARLO_TASK, job, job.params)
    session.refresh(job)
    body = job_status(job) | {"run": svc.montecarlo_run_url(case_id, run.id)}
    return strict_json(body, 202, {"Location": f"/api/v1/tasks/{job.id}"})


@blp.get("/cases/<int:case_id>/montecarlo")
@require_role(*FINANCE_ROLES)
def list_montecarlo(case_id: int):
    """Monte Carlo runs of a case, newest first."""
    session = db()
    runs = svc.list_montecarlo_runs(session, case_id)
    return strict_json({"runs": [svc.montecarlo_run_json(session, r) for r in runs]})


@blp.get("/cases/<int:case_id>/montecarlo/<int:run_id>")
@require_role(*FINANCE_ROLES)
@blp.doc(**responses_doc(200, MonteCarloRunSchema, "The run."))
def get_montecarlo(case_id: int, run_id: int):
    """A Monte Carlo run: its state and progress, and its summary once finished."""
    session = db()
    run = svc.get_montecarlo_run(session, case_id, run_id)
    session.refresh(run)
    return strict_json(svc.montecarlo_run_json(session, run))
