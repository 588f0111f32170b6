"""One finance case: run it, and report metrics, tranches and the annual cash-flow table.

``run_case(CaseInputs) -> CaseResult``; ``CaseResult.to_dict()`` is the response of
``POST /api/v1/finance/cases`` (issue 4 contract: ``metrics``, ``tranches``,
``cashflows``) and ``CaseResult.cashflow_frame()`` the table the shell exports as CSV or
XLSX. Numbers that do not exist (an IRR without sign change, a DSCR without debt) are
``None`` with a reason, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from finance.cashflow import Simulation, simulate
from finance.inputs import CaseInputs
from finance.lcoe import lcoe_discounted
from finance.returns import IRR_REASON_NO_SIGN_CHANGE, IRR_REASON_NOT_FOUND, irr, npv, payback_years

__all__ = ["CashflowColumn", "CaseResult", "run_case", "dscr_lines", "MIN_DSCR_REASON"]

#: Reason given when DSCR metrics do not exist.
MIN_DSCR_REASON = "undefined: the case has no senior debt service"


class CashflowColumn(StrEnum):
    """Columns of the annual cash-flow table, each named with its unit."""

    YEAR = "year"  #: model year, 0 = first construction year
    PHASE = "phase"  #: "construction" or "operation"
    ENERGY_MWH = "energy_mwh"  #: net energy sold [MWh]
    REVENUE_PPA_USD = "revenue_ppa_usd"  #: PPA sales [USD]
    REVENUE_MERCHANT_USD = "revenue_merchant_usd"  #: merchant sales [USD]
    REVENUE_CEL_USD = "revenue_cel_usd"  #: clean energy certificates [USD]
    REVENUE_USD = "revenue_usd"  #: total revenue [USD]
    OPEX_USD = "opex_usd"  #: operating costs incl. decommissioning [USD]
    EBITDA_USD = "ebitda_usd"  #: revenue - OPEX [USD]
    CAPEX_USD = "capex_usd"  #: capital expenditure [USD]
    DEPRECIATION_USD = "depreciation_usd"  #: tax depreciation [USD]
    INTEREST_USD = "interest_usd"  #: interest incl. capitalized IDC [USD]
    FEES_USD = "fees_usd"  #: up-front financing fees [USD]
    TAXABLE_PROFIT_USD = "taxable_profit_usd"  #: before PTU and losses [USD]
    LOSS_USED_USD = "loss_used_usd"  #: losses carried forward used [USD]
    LOSS_BALANCE_USD = "loss_balance_usd"  #: losses still available [USD]
    ISR_USD = "isr_usd"  #: income tax [USD]
    PTU_USD = "ptu_usd"  #: employees' profit share [USD]
    TAX_USD = "tax_usd"  #: ISR + PTU [USD]
    CFADS_USD = "cfads_usd"  #: cash flow available for debt service [USD]
    SENIOR_DEBT_SERVICE_USD = "senior_debt_service_usd"  #: due [USD]
    CONCESSIONAL_DEBT_SERVICE_USD = "concessional_debt_service_usd"  #: due [USD]
    DSCR = "dscr"  #: CFADS / senior debt service [-]
    DEBT_BALANCE_USD = "debt_balance_usd"  #: all debt, year end [USD]
    DSRA_BALANCE_USD = "dsra_balance_usd"  #: reserve, year end [USD]
    GUARANTEE_CALLS_USD = "guarantee_calls_usd"  #: paid by guarantors [USD]
    GUARANTEE_FEES_USD = "guarantee_fees_usd"  #: paid to guarantors [USD]
    GUARANTEE_REIMBURSEMENT_USD = "guarantee_reimbursement_usd"  #: repaid to guarantors [USD]
    EQUITY_CONTRIBUTION_USD = "equity_contribution_usd"  #: paid in by equity [USD]
    DISTRIBUTIONS_USD = "distributions_usd"  #: to equity (negative: cash call) [USD]
    PROJECT_FCF_PRE_TAX_USD = "project_fcf_pre_tax_usd"  #: EBITDA - CAPEX [USD]
    PROJECT_FCF_AFTER_TAX_USD = "project_fcf_after_tax_usd"  #: minus unlevered tax [USD]


def dscr_lines(sim: Simulation):
    """DSCR of each year (NaN where no senior service is due), shape (n, T). [-]"""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sim.senior_service_usd > 0, sim.cfads_usd / sim.senior_service_usd, np.nan)


def _clean(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class CaseResult:
    """Result of :func:`run_case`.

    Attributes
    ----------
    inputs : CaseInputs
    metrics : dict
        Contract metrics (``project_irr_pre_tax``, … ``gearing``) and extras; ``None`` for a
        metric that does not exist, its reason in ``metrics["notes"]``.
    tranches : list of dict
        Per tranche: name, kind, currency, amounts in USD and own currency, ``irr``
        (own currency; ``None`` + ``irr_reason``), ``npv`` at its discount rate.
    simulation : Simulation
        All lines (one draw).
    """

    inputs: CaseInputs
    metrics: dict
    tranches: list
    simulation: Simulation

    def cashflow_frame(self) -> pd.DataFrame:
        """Annual cash-flow table, one row per model year, unit-named columns."""
        s = self.simulation
        dscr = dscr_lines(s)[0]
        cols = {
            CashflowColumn.YEAR: s.years,
            CashflowColumn.PHASE: np.where(s.operating, "operation", "construction"),
            CashflowColumn.ENERGY_MWH: s.energy_mwh[0],
            CashflowColumn.REVENUE_PPA_USD: s.revenue_ppa_usd[0],
            CashflowColumn.REVENUE_MERCHANT_USD: s.revenue_merchant_usd[0],
            CashflowColumn.REVENUE_CEL_USD: s.revenue_cel_usd[0],
            CashflowColumn.REVENUE_USD: s.revenue_usd[0],
            CashflowColumn.OPEX_USD: s.opex_usd[0],
            CashflowColumn.EBITDA_USD: s.ebitda_usd[0],
            CashflowColumn.CAPEX_USD: s.capex_usd[0],
            CashflowColumn.DEPRECIATION_USD: s.depreciation_usd[0],
            CashflowColumn.INTEREST_USD: s.interest_usd[0],
            CashflowColumn.FEES_USD: s.fees_usd[0],
            CashflowColumn.TAXABLE_PROFIT_USD: s.taxable_profit_usd[0],
            CashflowColumn.LOSS_USED_USD: s.loss_used_usd[0],
            CashflowColumn.LOSS_BALANCE_USD: s.loss_balance_usd[0],
            CashflowColumn.ISR_USD: s.isr_usd[0],
            CashflowColumn.PTU_USD: s.ptu_usd[0],
            CashflowColumn.TAX_USD: s.tax_usd[0],
            CashflowColumn.CFADS_USD: s.cfads_usd[0],
            CashflowColumn.SENIOR_DEBT_SERVICE_USD: s.senior_service_usd[0],
            CashflowColumn.CONCESSIONAL_DEBT_SERVICE_USD: s.concessional_service_usd[0],
            CashflowColumn.DSCR: dscr,
            CashflowColumn.DEBT_BALANCE_USD: s.debt_balance_usd[0],
            CashflowColumn.DSRA_BALANCE_USD: s.dsra_balance_usd[0],
            CashflowColumn.GUARANTEE_CALLS_USD: s.guarantee_call_usd[0],
            CashflowColumn.GUARANTEE_FEES_USD: s.guarantee_fee_usd[0],
            CashflowColumn.GUARANTEE_REIMBURSEMENT_USD: s.guarantee_reimbursement_usd[0],
            CashflowColumn.EQUITY_CONTRIBUTION_USD: s.equity_contribution_usd[0],
            CashflowColumn.DISTRIBUTIONS_USD: s.distributions_usd[0],
            CashflowColumn.PROJECT_FCF_PRE_TAX_USD: s.project_fcf_pre_tax_usd[0],
            CashflowColumn.PROJECT_FCF_AFTER_TAX_USD: s.project_fcf_after_tax_usd[0],
        }
        frame = pd.DataFrame({str(k): v for k, v in cols.items()})
        for name in self.inputs.tranches:
            frame[f"flow_{_slug(name.name)}_{name.currency.lower()}"] = s.tranche_flows_ccy[name.name][0]
        return frame

    def to_dict(self) -> dict:
        """JSON-able response: ``metrics``, ``tranches``, ``cashflows`` (one row per year)."""
        frame = self.cashflow_frame()
        rows = []
        for rec in frame.to_dict(orient="records"):
            rows.append({k: (_clean(v) if isinstance(v, (float, np.floating)) else
                             int(v) if isinstance(v, (np.integer,)) else v) for k, v in rec.items()})
        return {"metrics": dict(self.metrics), "tranches": [dict(t) for t in self.tranches], "cashflows": rows}


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")


def _irrs_or_reasons(rows):
    """IRR of each flow row in one vectorized call, as ``(rate or None, reason or None)``."""
    v = np.asarray(rows, float)
    rates = irr(v).tolist()
    sign_change = ((v > 0).any(axis=1) & (v < 0).any(axis=1)).tolist()
    out = []
    for changes, rate in zip(sign_change, rates):
        if not changes:
            out.append((None, IRR_REASON_NO_SIGN_CHANGE))
        elif not math.isfinite(rate):
            out.append((None, IRR_REASON_NOT_FOUND))
        else:
            out.append((rate, None))
    return out


def run_case(inputs: CaseInputs) -> CaseResult:
    """Run one deterministic case.

    Parameters
    ----------
    inputs : CaseInputs
        Validated case (see :meth:`CaseInputs.from_dict`).

    Returns
    -------
    CaseResult

    Notes
    -----
    Metrics (USD unless noted):

    * ``project_irr_pre_tax``: IRR of EBITDA − CAPEX; ``project_irr_after_tax``: of
      EBITDA − unlevered tax − CAPEX; ``npv_usd``: NPV of the latter at ``discount_rate``.
    * ``lcoe_nominal_usd_per_mwh`` = PV(CAPEX + OPEX, d) / PV(energy, d);
      ``lcoe_real_usd_per_mwh`` = PV(CAPEX + OPEX, d) / PV(energy, d_real) (SAM's
      convention), tax and financing excluded.
    * ``min_dscr``, ``avg_dscr``: CFADS / senior debt service over the years it is due.
    * ``llcr``: PV at the senior rate of CFADS over the senior tenor / senior debt at COD.
    * ``payback_years``: from year 0 on after-tax project flows.
    * ``debt_usd``: all debt at COD (IDC included); ``gearing`` = debt_usd / CAPEX.
    """
    sim = simulate(inputs)
    case = inputs
    c = case.construction_years
    notes: dict[str, str] = {}

    pre = sim.project_fcf_pre_tax_usd[0]
    post = sim.project_fcf_after_tax_usd[0]
    equity_flows = sim.distributions_usd[0]
    rows = [pre, post, equity_flows] + [sim.tranche_flows_ccy[tr.name][0] for tr in case.tranches]
    irr_results = _irrs_or_reasons(rows)
    metric_irr = dict(zip(("project_irr_pre_tax", "project_irr_after_tax", "equity_irr"), irr_results[:3]))
    tranche_irr = irr_results[3:]

    def irr_metric(key, _flows):
        rate, reason = metric_irr[key]
        if reason:
            notes[key] = reason
        return rate
    cost = sim.capex_usd[0] + sim.opex_usd[0]
    lcoe_nom, lcoe_real = lcoe_discounted(cost, sim.energy_mwh[0], case.discount_rate, case.inflation_rate)

    dscr = dscr_lines(sim)[0]
    has_dscr = np.isfinite(dscr)
    if has_dscr.any():
        min_dscr, avg_dscr = float(np.min(dscr[has_dscr])), float(np.mean(dscr[has_dscr]))
        t = np.arange(case.n_years)
        window = (t >= c) & (t < sim.senior_tenor_end)
        r = float(sim.senior_rate[0])
        pv = float(np.sum(np.where(window, sim.cfads_usd[0], 0.0) * (1.0 + r) ** -(t - (c - 1))))
        llcr = pv / float(sim.senior_balance_cod_usd[0])
    else:
        min_dscr = avg_dscr = llcr = None
        notes["min_dscr"] = notes["avg_dscr"] = notes["llcr"] = MIN_DSCR_REASON
    pb = payback_years(post)
    if not math.isfinite(pb):
        notes["payback_years"] = "undefined: cumulative after-tax flows never recover"
    debt = float(sim.debt_principal_cod_usd[0])
    metrics = {
        "project_irr_pre_tax": irr_metric("project_irr_pre_tax", pre),
        "project_irr_after_tax": irr_metric("project_irr_after_tax", post),
        "npv_usd": float(npv(case.discount_rate, post)),
        "npv_pre_tax_usd": float(npv(case.discount_rate, pre)),
        "lcoe_real_usd_per_mwh": float(lcoe_real),
        "lcoe_nominal_usd_per_mwh": float(lcoe_nom),
        "min_dscr": min_dscr,
        "avg_dscr": avg_dscr,
        "llcr": llcr,
        "payback_years": _clean(pb),
        "debt_usd": debt,
        "gearing": debt / case.capex_usd,
        "capex_usd": case.capex_usd,
        "equity_usd": float(sim.equity_contribution_usd[0].sum()),
        "equity_irr": irr_metric("equity_irr", equity_flows),
        "equity_npv_usd": float(npv(case.discount_rate, equity_flows)),
        "energy_lifetime_mwh": float(sim.energy_mwh[0].sum()),
        "tax_total_usd": float(sim.tax_usd[0].sum()),
        "guarantee_exposure_usd": float(
            sum(float(g["exposure_usd"][0].max()) for g in sim.guarantee_lines.values())
        ),
        "guarantee_calls_usd": float(sim.guarantee_call_usd[0].sum()),
        "senior_unpaid_usd": float(sim.senior_unpaid_usd[0].sum()),
        "sizing_iterations": int(sim.sizing_iterations),
        "notes": notes,
    }

    # NPV, amounts invested and received of every tranche at once (own currency)
    flows_all = np.asarray(rows[3:], dtype=float)
    rates_all = [case.discount_rate if tr.discount_rate is None else tr.discount_rate for tr in case.tranches]
    npv_all = np.atleast_1d(npv(np.asarray(rates_all), flows_all)).tolist()
    invested_all = (-np.minimum(flows_all, 0.0).sum(axis=1)).tolist()
    received_all = np.maximum(flows_all, 0.0).sum(axis=1).tolist()
    tranches = []
    for m, (tr, (rate, reason)) in enumerate(zip(case.tranches, tranche_irr)):
        fx = sim.tranche_fx[tr.name][0]
        dr = rates_all[m]
        row = {
            "name": tr.name,
            "kind": tr.kind,
            "currency": tr.currency,
            "irr": rate,
            "irr_reason": reason,
            "discount_rate": dr,
            "npv": npv_all[m],
            "invested": invested_all[m],
            "received": received_all[m],
        }
        if tr.is_equity:
            contrib = -np.minimum(sim.tranche_flows_usd[tr.name][0], 0.0)
            row.update(share=tr.share, contribution_usd=float(contrib.sum()),
                       distributions_usd=float(np.maximum(sim.tranche_flows_usd[tr.name][0], 0.0).sum()))
        elif tr.is_debt:
            sch = sim.debt_schedules[tr.name]
            row.update(
                principal_usd=float(sch.principal_at_cod_usd[0]),
                principal=float(sch.principal_at_cod_usd[0] * fx[0]),
                drawn_usd=float(sch.draw_usd[0].sum()),
                idc_usd=float(sch.idc_usd[0].sum()),
                interest_usd=float(sch.interest_usd[0].sum()),
                fee_usd=float(tr.fee * sch.principal_at_cod_usd[0]),
                rate=tr.rate,
                tenor_years=tr.tenor_years,
                grace_years=tr.grace_years,
            )
        else:
            g = sim.guarantee_lines[tr.name]
            row.update(
                covers=tr.covers,
                coverage=tr.coverage,
                exposure_max_usd=float(g["exposure_usd"][0].max()),
                calls_usd=float(g["call_usd"][0].sum()),
                fees_usd=float(g["fee_usd"][0].sum()),
                reimbursed_usd=float(g["reimbursement_usd"][0].sum()),
                outstanding_end_usd=float(g["outstanding_usd"][0, -1]),
            )
        tranches.append(row)
    return CaseResult(inputs=inputs, metrics=metrics, tranches=tranches, simulation=sim)
