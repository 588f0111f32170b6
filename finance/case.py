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

from finance.cashflow import GEARING_TOLERANCE, Simulation, simulate
from finance.inputs import CaseInputs, FinanceInputError
from finance.jit import njit_cached
from finance.returns import IRR_REASON_NO_SIGN_CHANGE, IRR_REASON_NOT_FOUND, irr, irr_roots
from finance.tax import LOSS_CARRYFORWARD_YEARS, expired_losses

__all__ = ["CashflowColumn", "CaseResult", "run_case", "dscr_lines", "MIN_DSCR_REASON", "TOTAL_DSCR_REASON",
           "IRR_KEYS_MIRR"]

#: Reason given when DSCR metrics do not exist.
MIN_DSCR_REASON = "undefined: the case has no senior debt service"
#: Reason given when total DSCR metrics do not exist.
TOTAL_DSCR_REASON = "undefined: the case has no debt service"
#: The MIRR reported beside each IRR metric.
IRR_KEYS_MIRR = {"project_irr_pre_tax": "project_mirr_pre_tax",
                 "project_irr_after_tax": "project_mirr_after_tax",
                 "equity_irr": "equity_mirr"}


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
    LOSS_EXPIRED_USD = "loss_expired_usd"  #: losses expiring unused this year (LISR art. 57) [USD]
    GUARANTEE_FEES_DUE_USD = "guarantee_fees_due_usd"  #: accrued, deducted as interest (LISR art. 8) [USD]
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
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf: refused by the shell
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
            CashflowColumn.LOSS_EXPIRED_USD: s.loss_expired_usd[0],
            CashflowColumn.GUARANTEE_FEES_DUE_USD: s.guarantee_fee_deducted_usd[0],
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


@njit_cached
def _coverage(cfads, service, c, end, rate):
    """Debt-service coverage of one debt service row, in compiled code.

    Returns
    -------
    tuple
        ``n_due`` (years with service due), ``min_dscr`` and ``mean_dscr`` over them
        (``inf`` and NaN when none is due), and the PV at ``rate`` of CFADS from year ``c``
        to ``end`` (exclusive), discounted to year ``c - 1`` (the LLCR's numerator).
    """
    t_max = cfads.shape[0]
    n_due = 0
    lowest = np.inf
    total = 0.0
    for t in range(t_max):
        if service[t] > 0.0:
            x = cfads[t] / service[t]
            n_due += 1
            total += x
            if x < lowest:
                lowest = x
    pv = 0.0
    g = 1.0 + rate
    for t in range(c, min(end, t_max)):
        pv += cfads[t] * g ** (-float(t - (c - 1)))
    mean = total / n_due if n_due > 0 else np.nan
    return n_due, lowest, mean, pv


@njit_cached
def _case_numbers(flows, rates, cost, energy, d_nom, d_real, cfads, senior_service, c, tenor_end, senior_rate,
                  payback_row):
    """The discounted and scanned numbers of one case, in one compiled pass.

    Parameters
    ----------
    flows : numpy.ndarray, shape (k, T)
        Flow rows. [currency]
    rates : numpy.ndarray, shape (k,)
        Discount rate of each row. [1/year]
    cost, energy : numpy.ndarray, shape (T,)
        CAPEX + OPEX [USD] and energy [MWh] for the discounted LCOE.
    d_nom, d_real : float
        Nominal and real discount rates of the LCOE. [1/year]
    cfads, senior_service : numpy.ndarray, shape (T,)
        CFADS and senior debt service due. [USD]
    c, tenor_end : int
        First operating year; first year after the longest senior tenor.
    senior_rate : float
        Principal-weighted senior rate (LLCR discounting). [1/year]
    payback_row : int
        Row of ``flows`` whose simple payback is computed.

    Returns
    -------
    tuple
        ``npv (k,)``, ``sign_change (k,)``, ``pv_cost``, ``pv_energy_nominal``,
        ``pv_energy_real``, ``n_dscr``, ``min_dscr``, ``mean_dscr``, ``llcr_pv_cfads``,
        ``payback``: the same formulas as :func:`finance.returns.npv`,
        :func:`finance.lcoe.lcoe_discounted`, :func:`dscr_lines` and
        :func:`finance.returns.payback_years` (sums in year order).
    """
    k, t_max = flows.shape
    out_npv = np.empty(k)
    sign_change = np.empty(k, dtype=np.bool_)
    for i in range(k):
        growth = 1.0 + rates[i]
        acc = 0.0
        pos = False
        neg = False
        for t in range(t_max):
            x = flows[i, t]
            acc += x * growth ** (-float(t))
            if x > 0.0:
                pos = True
            elif x < 0.0:
                neg = True
        out_npv[i] = acc
        sign_change[i] = pos and neg
    g_nom = 1.0 + d_nom
    g_real = 1.0 + d_real
    pv_cost = 0.0
    pv_e_nom = 0.0
    pv_e_real = 0.0
    for t in range(t_max):
        f_nom = g_nom ** (-float(t))
        pv_cost += cost[t] * f_nom
        pv_e_nom += energy[t] * f_nom
        pv_e_real += energy[t] * g_real ** (-float(t))
    n_dscr, min_dscr, mean_dscr, llcr_pv = _coverage(cfads, senior_service, c, tenor_end, senior_rate)
    # simple payback: after the last year with a negative cumulative flow
    cum = 0.0
    last_neg = -1
    cum_at = 0.0
    for t in range(t_max):
        cum += flows[payback_row, t]
        if cum < 0.0:
            last_neg = t
            cum_at = cum
    if last_neg < 0:
        payback = 0.0
    elif last_neg == t_max - 1:
        payback = np.nan
    else:
        payback = last_neg + (-cum_at) / flows[payback_row, last_neg + 1]
    return out_npv, sign_change, pv_cost, pv_e_nom, pv_e_real, n_dscr, min_dscr, mean_dscr, llcr_pv, payback


def _total_gearing_message(case: CaseInputs, sim: Simulation) -> str:
    capex = float(sim.capex_usd[0].sum())
    debt = float(sim.debt_principal_cod_usd[0])
    senior = float(sim.senior_principal_cod_usd[0])
    conc = debt - senior
    return (f"debt of every rank would exceed {case.max_total_gearing:.2%} of CAPEX: concessional debt is "
            f"{conc / capex:.2%} and the senior debt its own terms (target_dscr, max_gearing) allow would "
            f"take the total above the limit; lower a tranche's share, amount or max_gearing, or raise "
            f"max_total_gearing")


@njit_cached
def _more_numbers(flows, fin_rate, reinvest_rate, cfads, service, c, end, rate):
    """Issue 12's figures in one compiled pass (the formulas of :func:`finance.returns`).

    Returns
    -------
    tuple
        ``sign_changes (k,)`` (zeros skipped), ``mirr (k,)`` (numpy-financial's formula,
        NaN without both signs), and over all debt service ``service``: ``n_due``,
        ``min_dscr``, ``mean_dscr`` and the PV at ``rate`` of CFADS from ``c`` to ``end``
        (discounted to year ``c - 1``).
    """
    k, t_max = flows.shape
    changes = np.zeros(k, dtype=np.int64)
    out_mirr = np.empty(k)
    g_fin = 1.0 + fin_rate
    g_rei = 1.0 + reinvest_rate
    for i in range(k):
        last = 0.0
        numer = 0.0
        denom = 0.0
        for t in range(t_max):
            x = flows[i, t]
            if x > 0.0:
                numer += x * g_rei ** (-float(t))
                if last < 0.0:
                    changes[i] += 1
                last = 1.0
            elif x < 0.0:
                denom += x * g_fin ** (-float(t))
                if last > 0.0:
                    changes[i] += 1
                last = -1.0
        if numer > 0.0 and denom < 0.0 and t_max > 1:
            out_mirr[i] = (numer / -denom) ** (1.0 / (t_max - 1)) * g_rei - 1.0
        else:
            out_mirr[i] = np.nan
    n_due, lowest, mean, pv = _coverage(cfads, service, c, end, rate)
    return changes, out_mirr, n_due, lowest, mean, pv


def _irr_or_reason(changes, rate):
    """``(rate or None, reason or None)`` of one IRR, never NaN."""
    if not changes:
        return None, IRR_REASON_NO_SIGN_CHANGE
    if not math.isfinite(rate):
        return None, IRR_REASON_NOT_FOUND
    return rate, None


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
    * ``min_dscr``, ``avg_dscr`` (= ``*_senior``): CFADS / senior debt service over the
      years it is due; ``*_total``: over senior + concessional service.
    * ``llcr`` (= ``llcr_senior``): PV at the senior rate of CFADS over the senior tenor /
      senior debt at COD; ``llcr_total``: at the rate of all debt, to the end of the longest
      tenor, over all debt at COD.
    * ``payback_years``: from year 0 on after-tax project flows.
    * ``debt_usd``: all debt at COD (IDC included, at the close spot); ``gearing`` =
      debt_usd / CAPEX; over ``max_total_gearing`` the case is refused
      (:class:`FinanceInputError` naming ``max_total_gearing``).
    * ``tax_losses_expired_usd`` and ``tax_losses_expired`` (year, amount): losses that
      expired unused (LISR art. 57).
    * ``project_mirr_*``, ``equity_mirr``, ``tranches[].mirr``: modified IRRs
      (numpy-financial's); with more than one sign change, ``irr_roots`` lists every rate
      with NPV zero and ``notes`` says so.

    Inputs are read as year-1 money; the real LCOE is in year-0 money (SAM's convention).
    """
    sim = simulate(inputs)
    case = inputs
    if bool(sim.total_limit_binds[0]):
        raise FinanceInputError("max_total_gearing", _total_gearing_message(case, sim))
    c = case.construction_years
    notes: dict[str, str] = {}
    tranches_in = case.tranches
    m = len(tranches_in)
    equity_in = [tr for tr in tranches_in if tr.is_equity]

    # every flow row at once: project (pre, after tax), all equity, each tranche in its own
    # currency, then each equity holder in USD (amounts only)
    flow_rows = [sim.project_fcf_pre_tax_usd, sim.project_fcf_after_tax_usd, sim.distributions_usd]
    flow_rows += [sim.tranche_flows_ccy[tr.name] for tr in tranches_in]
    flow_rows += [sim.tranche_flows_usd[tr.name] for tr in equity_in]
    flows = np.concatenate(flow_rows, axis=0)
    rates_all = [case.discount_rate if tr.discount_rate is None else tr.discount_rate for tr in tranches_in]
    row_rates = np.array([case.discount_rate] * 3 + rates_all + [0.0] * len(equity_in))
    d_real = (1.0 + case.discount_rate) / (1.0 + case.inflation_rate) - 1.0
    sen_service = sim.senior_service_usd[0]
    (npv_rows, sign_change, pv_cost, pv_e_nom, pv_e_real, n_dscr, min_dscr, avg_dscr, llcr_pv,
     pb) = _case_numbers(flows, row_rates, sim.capex_usd[0] + sim.opex_usd[0], sim.energy_mwh[0],
                         float(case.discount_rate), float(d_real), sim.cfads_usd[0], sen_service, c,
                         int(sim.senior_tenor_end), float(sim.senior_rate[0]), 1)
    n_irr = 3 + m
    irr_rates = irr(flows[:n_irr]).tolist()
    irr_results = [_irr_or_reason(ch, r) for ch, r in zip(sign_change[:n_irr].tolist(), irr_rates)]
    npv_rows = npv_rows.tolist()
    invested_all = (-np.minimum(flows, 0.0).sum(axis=1)).tolist()
    received_all = np.maximum(flows, 0.0).sum(axis=1).tolist()
    if not pv_e_nom > 0:
        raise ValueError("energy_mwh has no positive present value")
    lcoe_nom, lcoe_real = pv_cost / pv_e_nom, pv_cost / pv_e_real

    if n_dscr > 0:
        llcr = llcr_pv / float(sim.senior_balance_cod_usd[0])
    else:
        min_dscr = avg_dscr = llcr = None
        notes["min_dscr"] = notes["avg_dscr"] = notes["llcr"] = MIN_DSCR_REASON
    if not math.isfinite(pb):
        notes["payback_years"] = "undefined: cumulative after-tax flows never recover"
    # total cover (senior + concessional service), sign changes and modified IRRs
    fin_rate, reinvest_rate = case.mirr_rates
    changes, mirr_all, n_tot, min_tot, avg_tot, llcr_tot_pv = _more_numbers(
        flows[:n_irr], float(fin_rate), float(reinvest_rate), sim.cfads_usd[0],
        sim.senior_service_usd[0] + sim.concessional_service_usd[0], c, int(sim.total_tenor_end),
        float(sim.total_rate[0]))
    debt_cod = float(sim.debt_principal_cod_usd[0])
    if n_tot > 0:
        total = {"min_dscr_total": min_tot, "avg_dscr_total": avg_tot,
                 "llcr_total": llcr_tot_pv / debt_cod if debt_cod > 0 else None}
    else:
        total = {"min_dscr_total": None, "avg_dscr_total": None, "llcr_total": None}
        for key in ("min_dscr_total", "avg_dscr_total", "llcr_total"):
            notes[key] = TOTAL_DSCR_REASON
    if n_dscr == 0:
        for key in ("min_dscr_senior", "avg_dscr_senior", "llcr_senior"):
            notes[key] = MIN_DSCR_REASON

    # several sign changes: every root, said out loud, and the modified IRR (unique)
    mirr_rates = mirr_all.tolist()
    changes = changes.tolist()
    roots_of: dict[int, list] = {}
    for i in range(n_irr):
        if changes[i] > 1:
            roots_of[i] = irr_roots(flows[i])

    def roots_note(i, mirr_key):
        roots = roots_of.get(i)
        if not roots or len(roots) < 2:
            return None
        listed = ", ".join(f"{r:.4%}" for r in roots)
        chosen = irr_results[i][0]
        said = f"{chosen:.4%}" if chosen is not None else "none"
        return (f"{changes[i]} sign changes in the cash flows: {len(roots)} rates make the NPV "
                f"zero ({listed}); the IRR reported is {said}. The modified IRR {mirr_key} (finance rate "
                f"{fin_rate:.2%}, reinvestment rate {reinvest_rate:.2%}) is unique.")

    expired = expired_losses(sim.loss_expired_usd[0], sim.years)
    expired_total = float(sum(e["amount_usd"] for e in expired))
    if expired:
        notes["tax_losses_expired_usd"] = (
            f"{expired_total:,.0f} USD of tax losses expired unused (LISR art. 57: "
            f"{LOSS_CARRYFORWARD_YEARS} years to use them), in years "
            f"{', '.join(str(e['year']) for e in expired)}; a lower depreciation_rate may be worth more "
            "(see the depreciation-rate helper)."
        )

    def irr_metric(key, i):
        rate, reason = irr_results[i]
        if reason:
            notes[key] = reason
        return rate

    # year sums of the lines reported as totals, one reduction for all
    g_lines = sim.guarantee_lines
    debt_in = [tr for tr in tranches_in if tr.is_debt]
    guar_in = [tr for tr in tranches_in if not (tr.is_equity or tr.is_debt)]
    sum_rows = [sim.equity_contribution_usd, sim.energy_mwh, sim.tax_usd, sim.guarantee_call_usd,
                sim.senior_unpaid_usd]
    for tr in debt_in:
        sch = sim.debt_schedules[tr.name]
        fx_t = sim.tranche_fx[tr.name]  # own-currency lines to USD at the realized path
        sum_rows += [sch.draw_usd / fx_t, sch.idc_usd / fx_t, sch.interest_usd / fx_t]
    for tr in guar_in:
        g = g_lines[tr.name]
        sum_rows += [g["call_usd"], g["fee_usd"], g["reimbursement_usd"]]
    sums = np.concatenate(sum_rows, axis=0).sum(axis=1).tolist()
    exposure_max = {name: float(g["exposure_usd"][0].max()) for name, g in g_lines.items()}

    debt = float(sim.debt_principal_cod_usd[0])
    metrics = {
        "project_irr_pre_tax": irr_metric("project_irr_pre_tax", 0),
        "project_irr_after_tax": irr_metric("project_irr_after_tax", 1),
        "npv_usd": npv_rows[1],
        "npv_pre_tax_usd": npv_rows[0],
        "lcoe_real_usd_per_mwh": float(lcoe_real),
        "lcoe_nominal_usd_per_mwh": float(lcoe_nom),
        "min_dscr": min_dscr,
        "avg_dscr": avg_dscr,
        "llcr": llcr,
        "min_dscr_senior": min_dscr,
        "avg_dscr_senior": avg_dscr,
        "llcr_senior": llcr,
        **total,
        "payback_years": _clean(pb),
        "debt_usd": debt,
        "gearing": debt / case.capex_usd,
        "senior_gearing": float(sim.senior_principal_cod_usd[0]) / case.capex_usd,
        "max_total_gearing": case.max_total_gearing,
        "capex_usd": case.capex_usd,
        "equity_usd": sums[0],
        "equity_irr": irr_metric("equity_irr", 2),
        "equity_npv_usd": npv_rows[2],
        "energy_lifetime_mwh": sums[1],
        "tax_total_usd": sums[2],
        "guarantee_exposure_usd": float(sum(exposure_max.values())),
        "guarantee_calls_usd": sums[3],
        "senior_unpaid_usd": sums[4],
        "sizing_iterations": int(sim.sizing_iterations),
        "tax_losses_expired_usd": expired_total,
        "tax_losses_expired": expired,
        "depreciation_rate": case.depreciation_rate if case.depreciation == "mx_renewable_100" else case.straight_line_rate,
        "ptu_usd": float(sim.ptu_usd[0].sum()),
        "ptu_capped": case.ptu_payroll_usd_per_year is not None,
        "project_mirr_pre_tax": _clean(mirr_rates[0]),
        "project_mirr_after_tax": _clean(mirr_rates[1]),
        "equity_mirr": _clean(mirr_rates[2]),
        "mirr_finance_rate": fin_rate,
        "mirr_reinvestment_rate": reinvest_rate,
        "irr_roots": {},
        "notes": notes,
    }
    for i, key in enumerate(("project_irr_pre_tax", "project_irr_after_tax", "equity_irr")):
        if i in roots_of:
            metrics["irr_roots"][key] = roots_of[i]
        note = roots_note(i, IRR_KEYS_MIRR[key])
        if note:
            notes[key] = note

    tranches = []
    n_eq = n_debt = n_guar = 0
    for i, tr in enumerate(tranches_in):
        rate, reason = irr_results[3 + i]
        row = {
            "name": tr.name,
            "kind": tr.kind,
            "currency": tr.currency,
            "irr": rate,
            "irr_reason": reason,
            "discount_rate": rates_all[i],
            "npv": npv_rows[3 + i],
            "invested": invested_all[3 + i],
            "received": received_all[3 + i],
            "mirr": _clean(mirr_rates[3 + i]),
        }
        if 3 + i in roots_of:
            row["irr_roots"] = roots_of[3 + i]
            note = roots_note(3 + i, "mirr")
            if note:
                row["irr_note"] = note
        if tr.is_equity:
            u = 3 + m + n_eq  # the holder's USD row
            n_eq += 1
            row.update(share=tr.share, contribution_usd=invested_all[u], distributions_usd=received_all[u])
        elif tr.is_debt:
            sch = sim.debt_schedules[tr.name]
            p_own = float(sch.principal_at_cod_usd[0])  # in the tranche's currency
            spot0 = float(sim.tranche_fx[tr.name][0][0])
            b = 5 + 3 * n_debt
            n_debt += 1
            row.update(
                principal_usd=p_own / spot0,
                principal=p_own,
                drawn_usd=sums[b],
                idc_usd=sums[b + 1],
                interest_usd=sums[b + 2],
                fee_usd=float(tr.fee * p_own / spot0),
                rate=tr.rate,
                tenor_years=tr.tenor_years,
                grace_years=tr.grace_years,
            )
        else:
            g = g_lines[tr.name]
            b = 5 + 3 * len(debt_in) + 3 * n_guar
            n_guar += 1
            row.update(
                covers=tr.covers,
                coverage=tr.coverage,
                exposure_max_usd=exposure_max[tr.name],
                calls_usd=sums[b],
                fees_usd=sums[b + 1],
                reimbursed_usd=sums[b + 2],
                outstanding_end_usd=float(g["outstanding_usd"][0, -1]),
            )
        tranches.append(row)
    return CaseResult(inputs=inputs, metrics=metrics, tranches=tranches, simulation=sim)
