"""The project cash-flow model, vectorized over a leading draws axis.

:func:`simulate` runs one case for ``n`` draws at once: every line is an array
``(n_draws, n_years)``; a deterministic case is ``n_draws = 1``. Per draw it

1. builds revenues (PPA, merchant, CELs) and OPEX from the *realized* drivers;
2. schedules each concessional tranche *in its own currency* (principal fixed in it at
   the spot of financial close, annuity at its own rate);
3. sizes and sculpts the senior debt on the *bankers' case* — the draw's CAPEX and OPEX
   (fixed by the EPC and O&M contracts at financial close), the P50 or P90 energy and
   base prices and FX — in each tranche's currency, solving the interest ↔ tax ↔ CFADS
   circularity by fixed-point iteration (converged to :data:`SIZING_TOLERANCE` × CAPEX);
4. converts every debt line to USD at the realized FX path of its year, and computes
   Mexican tax (ISR, PTU capped by payroll when given, the elected depreciation rate,
   losses carried forward and their expiry, interest and guarantee fees deducted),
   levered and unlevered;
5. runs the waterfall (:mod:`finance.waterfall`) on the realized CFADS and splits the
   distributions among the equity holders;
6. converts each tranche's flows into its own currency (a loan's are then exactly its
   own-currency draws and payments).

Debt never exceeds CAPEX (senior capped at ``min(max_gearing, 1)`` of the draw's CAPEX
net of concessional debt, and all debt at ``max_total_gearing``), equity contributions
are never negative, and any NaN raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from finance.debt import annuity_debt_service, debt_schedule, dsra_target
from finance.fx import fx_path
from finance.inputs import CaseInputs, FinanceInputError
from finance.debt import _idc_per_unit
from finance.jit import njit_cached
from finance.tax import (
    LOSS_CARRYFORWARD_YEARS,
    _tax_total_kernel,
    _tax_total_row,
    depreciation_schedule,
    income_tax,
    ptu_cap_usd,
)
from finance.waterfall import run_waterfall, split_equity

__all__ = ["Drivers", "Simulation", "simulate", "SIZING_TOLERANCE", "SIZING_MAX_ITERATIONS",
           "guarantee_fee_rates"]

#: Fixed-point iteration on the interest ↔ tax circularity stops when interest and fees
#: move less than this fraction of CAPEX. [-]
SIZING_TOLERANCE = 1e-11
#: Iterations allowed before the sizing is declared not converged (raises).
SIZING_MAX_ITERATIONS = 60
#: Relative tolerance of the gearing limits (fraction of CAPEX). [-]
GEARING_TOLERANCE = 1e-9


def guarantee_fee_rates(case: CaseInputs) -> dict:
    """Annual guarantee fee per unit of each debt tranche's balance: sum of fee × coverage. [1/year]"""
    out: dict = {}
    for g in case.tranches:
        if g.kind == "guarantee":
            out[g.covers] = out.get(g.covers, 0.0) + g.fee * g.coverage
    return out


def _fee_due(sch, rate):
    """Guarantee fee due on a schedule's opening balance where service is due (own currency)."""
    opening = np.zeros_like(sch.balance_usd)
    opening[:, 1:] = sch.balance_usd[:, :-1]
    return np.where(sch.debt_service_usd > 0, rate * opening, 0.0)


@dataclass(frozen=True)
class Drivers:
    """Per-draw multipliers on the base case, arrays of shape ``(n,)``.

    Parameters
    ----------
    energy_factor : numpy.ndarray
        Realized energy / P50 energy. [-]
    price_factor : numpy.ndarray
        Realized / base merchant and CEL prices (the PPA price is contracted). [-]
    capex_factor : numpy.ndarray
        Realized / base CAPEX (known at financial close, so it enters the sizing). [-]
    opex_factor : numpy.ndarray
        Realized / base OPEX (contracted at close, so it enters the sizing). [-]
    fx_factor : dict of str to numpy.ndarray (n, n_years)
        Realized / base FX path per currency (1 where absent). [-]
    """

    energy_factor: np.ndarray
    price_factor: np.ndarray
    capex_factor: np.ndarray
    opex_factor: np.ndarray
    fx_factor: dict = field(default_factory=dict)

    @classmethod
    def base(cls, n: int = 1) -> "Drivers":
        one = np.ones(n)
        return cls(one, one, one, one, {})

    @property
    def n(self) -> int:
        return int(np.asarray(self.energy_factor).shape[0])


@dataclass
class Simulation:
    """All lines of a simulated case; arrays ``(n, T)`` [USD or MWh] unless noted.

    Per-tranche arrays are dicts keyed by tranche name. ``debt_schedules`` hold each debt
    tranche's lines *in its own currency* (the ``*_usd`` attribute names of
    :class:`~finance.debt.DebtSchedule` are those of a USD loan); every other line is USD
    at the realized FX path. ``total_limit_binds`` (n,) is true where the total-gearing
    limit, not the senior tranches' own terms, bounded the debt.
    """

    case: CaseInputs
    years: np.ndarray
    operating: np.ndarray
    energy_mwh: np.ndarray
    revenue_ppa_usd: np.ndarray
    revenue_merchant_usd: np.ndarray
    revenue_cel_usd: np.ndarray
    revenue_usd: np.ndarray
    opex_usd: np.ndarray
    ebitda_usd: np.ndarray
    capex_usd: np.ndarray
    depreciation_usd: np.ndarray
    interest_usd: np.ndarray
    fees_usd: np.ndarray
    taxable_profit_usd: np.ndarray
    loss_used_usd: np.ndarray
    loss_balance_usd: np.ndarray
    isr_usd: np.ndarray
    ptu_usd: np.ndarray
    tax_usd: np.ndarray
    tax_unlevered_usd: np.ndarray
    cfads_usd: np.ndarray
    senior_service_usd: np.ndarray
    concessional_service_usd: np.ndarray
    senior_paid_usd: np.ndarray
    senior_unpaid_usd: np.ndarray
    concessional_paid_usd: np.ndarray
    concessional_unpaid_usd: np.ndarray
    debt_balance_usd: np.ndarray
    senior_balance_cod_usd: np.ndarray
    senior_rate: np.ndarray
    senior_tenor_end: int
    dsra_balance_usd: np.ndarray
    dsra_flow_usd: np.ndarray
    dsra_draw_usd: np.ndarray
    guarantee_call_usd: np.ndarray
    guarantee_fee_usd: np.ndarray
    guarantee_reimbursement_usd: np.ndarray
    distributions_usd: np.ndarray
    equity_contribution_usd: np.ndarray
    project_fcf_pre_tax_usd: np.ndarray
    project_fcf_after_tax_usd: np.ndarray
    debt_principal_cod_usd: np.ndarray
    senior_principal_cod_usd: np.ndarray
    total_rate: np.ndarray
    total_tenor_end: int
    loss_expired_usd: np.ndarray
    guarantee_fee_deducted_usd: np.ndarray
    total_limit_binds: np.ndarray
    ptu_cap_usd: np.ndarray
    sizing_iterations: int
    tranche_flows_usd: dict
    tranche_flows_ccy: dict
    tranche_fx: dict
    debt_schedules: dict
    guarantee_lines: dict


def _factor(x, n):
    a = np.asarray(x, dtype=float)
    if a.shape != (n,):
        raise ValueError(f"driver arrays must have shape ({n},), got {a.shape}")
    # NaN fails ">= 0", an infinity fails "< inf": two reductions, no temporaries
    if a.size and not (a.min() >= 0.0 and a.max() < np.inf):
        raise ValueError("drivers must be finite and non-negative")
    return a[:, None]


def _year_lines(case: CaseInputs, energy_first_year_mwh):
    """Per-year base lines (T,): energy, unit prices, fixed and variable OPEX factors."""
    t_max, c, life = case.n_years, case.construction_years, case.life_years
    t = np.arange(t_max)
    op = t >= c
    k = np.where(op, t - c, 0)
    energy = np.where(op, energy_first_year_mwh * (1.0 - case.degradation) ** k, 0.0)
    ppa = op & (k < case.ppa_years)
    merchant = op & ~ppa
    cel = op & (k < case.cel_term_years)
    ppa_price = np.where(ppa, case.ppa_price_usd_per_mwh * (1.0 + case.ppa_escalation) ** k, 0.0)
    merchant_price = np.where(merchant, case.merchant_price_usd_per_mwh * (1.0 + case.merchant_escalation) ** k, 0.0)
    cel_price = np.where(cel, case.cel_price_usd_per_mwh * (1.0 + case.cel_escalation) ** k, 0.0)
    esc = np.where(op, (1.0 + case.opex_escalation) ** k, 0.0)
    fixed = (
        case.capacity_mw * 1000.0 * case.opex_usd_per_kw_year
        + case.land_lease_usd_per_year
        + case.insurance_usd_per_year
        + case.asset_management_usd_per_year
    ) * esc
    decom = np.zeros(t_max)
    decom[-1] = case.decommissioning_usd * (1.0 + case.opex_escalation) ** (life - 1)
    return energy, ppa_price, merchant_price, cel_price, esc, fixed, decom


@njit_cached
def _operating_kernel(energy_t, basis_energy_t, ppa_price, merchant_price, cel_price, esc, fixed, decom,
                      variable_opex, energy_factor, price_factor, opex_factor):
    """Realized operating lines of every draw, and the bankers'-case EBITDA, in one pass.

    Realized: energy × ``energy_factor``, merchant and CEL prices × ``price_factor``;
    bankers' case: the basis energy at base prices. Both with the draw's OPEX factor.
    """
    n = energy_factor.shape[0]
    t_max = energy_t.shape[0]
    energy = np.empty((n, t_max))
    rev_ppa = np.empty((n, t_max))
    rev_mer = np.empty((n, t_max))
    rev_cel = np.empty((n, t_max))
    revenue = np.empty((n, t_max))
    opex = np.empty((n, t_max))
    ebitda = np.empty((n, t_max))
    ebitda_s = np.empty((n, t_max))
    for i in range(n):
        ef = energy_factor[i]
        pf = price_factor[i]
        of = opex_factor[i]
        for t in range(t_max):
            e = energy_t[t] * ef
            r_ppa = e * ppa_price[t]
            priced = e * pf
            r_mer = priced * merchant_price[t]
            r_cel = priced * cel_price[t]
            cost = ((fixed[t] + variable_opex * e * esc[t]) + decom[t]) * of
            rev = r_ppa + r_mer + r_cel
            energy[i, t] = e
            rev_ppa[i, t] = r_ppa
            rev_mer[i, t] = r_mer
            rev_cel[i, t] = r_cel
            revenue[i, t] = rev
            opex[i, t] = cost
            ebitda[i, t] = rev - cost
            es = basis_energy_t[t]
            cost_s = ((fixed[t] + variable_opex * es * esc[t]) + decom[t]) * of
            ebitda_s[i, t] = es * ppa_price[t] + es * merchant_price[t] + es * cel_price[t] - cost_s
    return energy, rev_ppa, rev_mer, rev_cel, revenue, opex, ebitda, ebitda_s


class _SeniorPrep:
    """Per-tranche constants of the sizing iteration (linear in the principal).

    All lines are in the tranche's currency except ``fx`` (its base path, currency per
    USD) and ``fx0`` (the spot at financial close), which convert them.
    ``fee_open`` and ``fee_grace`` give the guarantee fees on the tranche (deductible as
    interest, LISR art. 8) per unit of opening balance, like ``open_factor`` and
    ``grace_idc`` give its interest.
    """

    def __init__(self, tr, c, t_max, fractions, fx=None, guarantee_fee_rate=0.0):
        t = np.arange(t_max)
        r = tr.rate
        self.r = r
        repay0, end = c + tr.grace_years, c + tr.tenor_years
        self.repay = np.zeros(t_max)
        self.repay[repay0:end] = 1.0
        self.pv_factor = self.repay * (1.0 + r) ** -(t - (repay0 - 1))
        self.disc = (1.0 + r) ** -t
        self.grace = np.zeros(t_max)
        self.grace[c:repay0] = 1.0
        self.after_grace = self.repay
        # r * opening balance = r * (sum_{s>=t} ds_s disc_s) / disc_{t-1}
        self.open_factor = np.zeros(t_max)
        self.open_factor[1:] = 1.0 / self.disc[:-1] * r * self.after_grace[1:]
        self.idc_unit = np.zeros(t_max)
        self.idc_unit[:c] = _idc_per_unit(float(r), np.asarray(fractions, dtype=float))
        self.fx = np.ones(t_max) if fx is None else np.asarray(fx, dtype=float)
        self.fx0 = float(self.fx[0])
        gfr = float(guarantee_fee_rate)
        self.fee_open = np.zeros(t_max)
        self.fee_open[1:] = gfr * self.after_grace[1:] / self.disc[:-1]
        self.fee_grace = gfr * self.grace * (1.0 if r > 0 else 0.0)

    def interest(self, principal, ds):
        """Interest (operating) + IDC for a principal (n,) and repayment service (n, T)."""
        rev = np.cumsum((ds * self.disc)[:, ::-1], axis=1)[:, ::-1]
        out = rev * self.open_factor
        out += principal[:, None] * (self.r * self.grace + self.idc_unit)
        return out


@njit_cached
def _sizing_row(ebitda_s, dep, conc_interest, fees0, cap, tol, weight_over_dscr, fee, repay, pv_factor,
                disc, open_factor, grace_idc, fx, fx0, fee_open, fee_grace, tax_rate, ptu_rate, carry_years,
                ptu_cap, max_iterations, t_end, ds_out, p_out, work, raw, prin):
    """Senior sizing and sculpting of one draw (rows ``(T,)``), see :func:`_sizing_kernel`.

    Writes the capped service into ``ds_out`` ``(J, T)`` and the principals into ``p_out``
    ``(J,)``, both in each tranche's currency; ``work`` ``(6, T)``, ``raw`` ``(J, T)`` and
    ``prin`` ``(J,)`` are scratch. Returns the iterations used (``-1``: not converged).

    A tranche in another currency is sculpted in it: its service is the USD CFADS over
    the DSCR converted at the base path ``fx`` (currency/USD), its principal the present
    value of that service at its own rate, and its interest and guarantee fees are
    converted back to USD at ``fx`` for the tax; ``cap`` (USD) is compared with the
    principals converted at the spot of financial close ``fx0``.

    Only years before ``t_end`` (the end of the longest senior tenor) are iterated: the
    service, interest and fees depend on nothing later (tax is causal), and every line
    of the sizing is zero from ``t_end`` on.
    """
    t_max = t_end
    n_tr = weight_over_dscr.shape[0]
    interest = work[0]
    new_interest = work[1]
    profit = work[2]
    tax = work[3]
    pos = work[4]
    vint = work[5]
    interest[:] = 0.0
    for j in range(n_tr):
        raw[j, t_end:] = 0.0
    fees = 0.0
    scale = 1.0
    done = -1
    for it in range(1, max_iterations + 1):
        for t in range(t_max):
            profit[t] = ebitda_s[t] - dep[t] - conc_interest[t] - interest[t]
        profit[0] -= fees0 + fees
        _tax_total_row(profit[:t_max], tax, vint, tax_rate, ptu_rate, carry_years, ptu_cap)
        for t in range(t_max):
            x = ebitda_s[t] - tax[t]
            pos[t] = x if x > 0.0 else 0.0
        total = 0.0
        for j in range(n_tr):
            pv = 0.0
            for t in range(t_max):
                ds = pos[t] * weight_over_dscr[j] * repay[j, t] * fx[j, t]
                raw[j, t] = ds
                pv += ds * pv_factor[j, t]
            prin[j] = pv
            total += pv / fx0[j]
        scale = cap / total if total > cap else 1.0
        new_interest[:] = 0.0
        new_fees = 0.0
        for j in range(n_tr):
            p = prin[j] * scale
            rev = 0.0  # PV (at year 0) of the service from t on
            for t in range(t_max - 1, -1, -1):
                rev += raw[j, t] * scale * disc[j, t]
                new_interest[t] += (rev * (open_factor[j, t] + fee_open[j, t])
                                    + p * (grace_idc[j, t] + fee_grace[j, t])) / fx[j, t]
            new_fees += fee[j] * p / fx0[j]
        change = abs(new_fees - fees)
        for t in range(t_max):
            change = max(change, abs(new_interest[t] - interest[t]))
            interest[t] = new_interest[t]
        fees = new_fees
        if change <= tol:
            done = it
            break
    for j in range(n_tr):
        p_out[j] = prin[j] * scale
        for t in range(ds_out.shape[1]):
            ds_out[j, t] = raw[j, t] * scale
    return done


@njit_cached
def _sizing_kernel(ebitda_s, dep, conc_interest, fees0, cap, tol, weight_over_dscr, fee, repay, pv_factor,
                   disc, open_factor, grace_idc, fx, fx0, fee_open, fee_grace, tax_rate, ptu_rate, carry_years,
                   ptu_cap, max_iterations, t_end):
    """Senior sizing and sculpting, each draw iterated on its own interest ↔ tax circularity.

    Per draw: taxable profit → tax (ISR + PTU, losses carried) → CFADS → sculpted
    service and the principal it supports (capped) → interest and fees → profit, until
    interest and fees move less than ``tol``. Returns the capped service ``(J, n, T)``,
    principals ``(J, n)`` and the iterations per draw (``-1``: not converged).
    """
    n, t_max = ebitda_s.shape
    n_tr = weight_over_dscr.shape[0]
    ds_out = np.zeros((n_tr, n, t_max))
    p_out = np.zeros((n_tr, n))
    iters = np.zeros(n, dtype=np.int64)
    work = np.empty((6, t_max))
    raw = np.empty((n_tr, t_max))
    prin = np.empty(n_tr)
    ds_row = np.empty((n_tr, t_max))
    p_row = np.empty(n_tr)
    for i in range(n):
        iters[i] = _sizing_row(ebitda_s[i], dep[i], conc_interest[i], fees0[i], cap[i], tol[i],
                               weight_over_dscr, fee, repay, pv_factor, disc, open_factor, grace_idc,
                               fx, fx0, fee_open, fee_grace, tax_rate, ptu_rate, carry_years, ptu_cap,
                               max_iterations, t_end, ds_row, p_row, work, raw, prin)
        for j in range(n_tr):
            p_out[j, i] = p_row[j]
            for t in range(t_max):
                ds_out[j, i, t] = ds_row[j, t]
    return ds_out, p_out, iters


def _stack_rows(rows):
    """``np.stack(rows)`` of 1-D rows; one row becomes a (1, T) view (no copy)."""
    if len(rows) == 1:
        return rows[0][None, :]
    return np.stack(rows)


def _fx_base(case: CaseInputs, currency: str):
    if currency == "USD":
        return np.ones(case.n_years)
    return fx_path(case.fx_inputs(currency), case.n_years)


def simulate(case: CaseInputs, drivers: Drivers | None = None, *,
             sizing_tolerance: float = SIZING_TOLERANCE) -> Simulation:
    """Run a case for one or many draws.

    Parameters
    ----------
    case : CaseInputs
        Validated inputs.
    drivers : Drivers, optional
        Per-draw multipliers; the base case (one draw) when omitted.
    sizing_tolerance : float
        Convergence of the sizing iteration, as a fraction of CAPEX. [-]

    Returns
    -------
    Simulation

    Raises
    ------
    FinanceInputError
        When the stack cannot be financed as asked (concessional debt above CAPEX).
    ValueError
        On a NaN or an unconverged sizing (never passed on silently).
    """
    if drivers is None:  # the base case: one draw, every factor exactly one
        drivers = Drivers.base(1)
        n = 1
        ef = pf = cf = of = np.ones((1, 1))
    else:
        n = drivers.n
        ef = _factor(drivers.energy_factor, n)
        pf = _factor(drivers.price_factor, n)
        cf = _factor(drivers.capex_factor, n)
        of = _factor(drivers.opex_factor, n)
    t_max, c, life = case.n_years, case.construction_years, case.life_years
    years = np.arange(t_max)
    op = years >= c
    fractions = np.asarray(case.capex_fractions())

    capex_total = case.capex_usd * cf[:, 0]  # (n,)
    capex = np.zeros((n, t_max))
    capex[:, :c] = capex_total[:, None] * fractions
    grid = case.grid_connection_usd * cf[:, 0]
    dep = depreciation_schedule(
        capex_total - grid,
        grid,
        method=case.depreciation,
        construction_years=c,
        life_years=life,
        straight_line_rate=case.straight_line_rate,
        renewable_rate=case.depreciation_rate,
    )

    # realized operating lines, and the bankers' case EBITDA the senior debt is sized on
    tranches = case.tranches
    senior = [tr for tr in tranches if tr.kind == "senior_debt"]
    basis_energy = case.energy_p50_mwh
    if "p90" in {tr.sizing_basis or case.sizing_basis for tr in senior}:
        basis_energy = case.energy_p90_mwh
    energy_t, ppa_price, mer_price, cel_price, esc, fixed, decom = _year_lines(case, case.energy_p50_mwh)
    ptu_cap = ptu_cap_usd(case.ptu_payroll_usd_per_year, esc)
    basis_energy_t = energy_t * (basis_energy / case.energy_p50_mwh)
    energy, rev_ppa, rev_mer, rev_cel, revenue, opex, ebitda, ebitda_s = _operating_kernel(
        energy_t, basis_energy_t, ppa_price, mer_price, cel_price, esc, fixed, decom,
        float(case.variable_opex_usd_per_mwh), ef[:, 0], pf[:, 0], of[:, 0],
    )

    # ---------------------------------------------------------------- debt
    conc = [tr for tr in tranches if tr.kind == "concessional_debt"]
    fx_base = {ccy: _fx_base(case, ccy) for ccy in dict.fromkeys(tr.currency for tr in tranches)}
    # realized FX paths (n, T); a currency without a factor keeps its base path (a broadcast
    # view, read-only)
    fx_real = {}
    for ccy, path in fx_base.items():
        factor = drivers.fx_factor.get(ccy)
        if factor is None:
            if n == 1:  # the same read-only view as broadcast_to gives, without its overhead
                view = path[None, :]
                view.flags.writeable = False
                fx_real[ccy] = view
            else:
                fx_real[ccy] = np.broadcast_to(path, (n, t_max))
            continue
        a = path[None, :] * np.asarray(factor, float)
        if a.shape != (n, t_max) or not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"fx path of {ccy} must be positive and finite with shape ({n}, {t_max})")
        fx_real[ccy] = a
    guarantees = [tr for tr in tranches if tr.kind == "guarantee"]
    g_rate = guarantee_fee_rates(case)

    schedules = {}  # each debt tranche's lines in its own currency
    fees0 = np.zeros(n)
    # concessional interest, IDC and guarantee fees (deductible) in USD at the base FX path
    conc_interest = np.zeros((n, t_max))
    conc_principal_total = np.zeros(n)
    for tr in conc:
        spot0 = float(fx_base[tr.currency][0])
        if tr.share is not None:
            p = tr.share * capex_total * spot0
        else:
            p = np.full(n, float(tr.amount))
        ds = annuity_debt_service(p, tr.rate, n_years=t_max, start_year=c, tenor_years=tr.tenor_years,
                                  grace_years=tr.grace_years)
        sch = debt_schedule(p, ds, tr.rate, start_year=c, tenor_years=tr.tenor_years,
                            grace_years=tr.grace_years, capex_fractions=fractions)
        schedules[tr.name] = sch
        deductible = sch.interest_usd + sch.idc_usd
        if g_rate.get(tr.name):
            deductible = deductible + _fee_due(sch, g_rate[tr.name])
        conc_interest += deductible if tr.currency == "USD" else deductible / fx_base[tr.currency]
        conc_principal_total += p / spot0
        fees0 += tr.fee * p / spot0
    if np.any(conc_principal_total >= capex_total):
        idx = next(i for i, tr in enumerate(tranches) if tr.kind == "concessional_debt")
        raise FinanceInputError(f"tranches[{idx}].amount", "concessional debt reaches or exceeds CAPEX")

    iterations = 0
    cap_total = case.max_total_gearing * capex_total - conc_principal_total
    total_limit_binds = conc_principal_total > case.max_total_gearing * capex_total * (1.0 + GEARING_TOLERANCE)
    if senior:
        weights = [tr.share if len(senior) > 1 else 1.0 for tr in senior]
        gearing = min(min(tr.max_gearing if tr.max_gearing is not None else 1.0 for tr in senior), 1.0)
        cap_own = np.minimum(gearing * capex_total, capex_total - conc_principal_total)
        cap = np.maximum(np.minimum(cap_own, cap_total), 0.0)
        prep = [_SeniorPrep(tr, c, t_max, fractions, fx_base[tr.currency], g_rate.get(tr.name, 0.0))
                for tr in senior]
        ds_all, p_all, iters = _sizing_kernel(
            np.ascontiguousarray(ebitda_s),
            np.ascontiguousarray(dep),
            np.ascontiguousarray(conc_interest),
            np.ascontiguousarray(fees0),
            np.ascontiguousarray(cap),
            sizing_tolerance * capex_total,
            np.array([w / tr.target_dscr for tr, w in zip(senior, weights)]),
            np.array([tr.fee for tr in senior]),
            _stack_rows([sp.repay for sp in prep]),
            _stack_rows([sp.pv_factor for sp in prep]),
            _stack_rows([sp.disc for sp in prep]),
            _stack_rows([sp.open_factor for sp in prep]),
            _stack_rows([sp.r * sp.grace + sp.idc_unit for sp in prep]),
            _stack_rows([sp.fx for sp in prep]),
            np.array([sp.fx0 for sp in prep]),
            _stack_rows([sp.fee_open for sp in prep]),
            _stack_rows([sp.fee_grace for sp in prep]),
            float(case.tax_rate),
            float(case.ptu_rate),
            LOSS_CARRYFORWARD_YEARS,
            ptu_cap,
            SIZING_MAX_ITERATIONS,
            max(c + tr.tenor_years for tr in senior),
        )
        if np.any(iters < 0):
            raise ValueError("senior debt sizing did not converge (interest/tax circularity)")
        iterations = int(iters.max())
        senior_fees = np.zeros(n)
        senior_usd = np.zeros(n)
        for j, tr in enumerate(senior):
            schedules[tr.name] = debt_schedule(p_all[j], ds_all[j], tr.rate, start_year=c,
                                               tenor_years=tr.tenor_years, grace_years=tr.grace_years,
                                               capex_fractions=fractions)
            senior_fees += tr.fee * p_all[j] / prep[j].fx0
            senior_usd += p_all[j] / prep[j].fx0
        fees0 = fees0 + senior_fees
        # the total limit, not the senior's own terms, cut the senior debt
        total_limit_binds |= (cap_total < cap_own) & (senior_usd >= cap_total - GEARING_TOLERANCE * capex_total)

    # ---------------------------------------------------------------- realized tax and CFADS
    debt_names = [tr.name for tr in senior] + [tr.name for tr in conc]
    currency = {name: case.tranche(name).currency for name in debt_names}
    spot = {name: float(fx_base[currency[name]][0]) for name in debt_names}

    def in_usd(x, name):  # a debt line in its currency -> USD at the realized path
        return x if currency[name] == "USD" else x / fx_real[currency[name]]

    interest_real = np.zeros((n, t_max))
    for name in debt_names:
        sch = schedules[name]
        interest_real += in_usd(sch.interest_usd, name) + in_usd(sch.idc_usd, name)
    # guarantee fees accrue on the covered balance; deducted as interest (LISR art. 8)
    g_fee_due = np.zeros((len(guarantees), n, t_max))
    exposure = {}
    for j, g in enumerate(guarantees):
        sch = schedules[g.covers]
        opening = np.zeros((n, t_max))
        opening[:, 1:] = sch.balance_usd[:, :-1]
        exposure[g.name] = g.coverage * in_usd(opening, g.covers)
        g_fee_due[j] = np.where(sch.debt_service_usd > 0, g.fee * exposure[g.name], 0.0)
    g_fee_deducted = g_fee_due.sum(axis=0) if guarantees else np.zeros((n, t_max))
    fees = np.zeros((n, t_max))
    fees[:, 0] = fees0
    ebitda_less_dep = ebitda - dep
    profit = ebitda_less_dep - interest_real
    if guarantees:
        profit -= g_fee_deducted
    profit[:, 0] -= fees0
    tax = income_tax(profit, tax_rate=case.tax_rate, ptu_rate=case.ptu_rate, ptu_cap_usd=ptu_cap)
    cfads = ebitda - tax.tax_usd
    cfads[:, :c] = 0.0
    tax_u = _tax_total_kernel(ebitda_less_dep, case.tax_rate, case.ptu_rate, LOSS_CARRYFORWARD_YEARS, ptu_cap)

    # ---------------------------------------------------------------- waterfall
    k = len(debt_names)
    ds_due = np.empty((k, n, t_max))
    for d, name in enumerate(debt_names):
        ds_due[d] = in_usd(schedules[name].debt_service_usd, name)
    n_sen = len(senior)
    is_senior = np.array([d < n_sen for d in range(k)], dtype=bool)

    def over_tranches(a, lo, hi):  # sum of a[lo:hi] along the tranche axis, no copy for one
        if hi - lo == 1:
            return a[lo]
        return a[lo:hi].sum(axis=0) if hi > lo else np.zeros((n, t_max))

    senior_due = over_tranches(ds_due, 0, n_sen)
    conc_due = over_tranches(ds_due, n_sen, k)
    target = dsra_target(senior_due, case.dsra_months)
    dsra0 = target[:, c - 1].copy()
    target[:, : c - 1] = 0.0

    g_cover = np.array([debt_names.index(g.covers) for g in guarantees], dtype=np.int64)
    g_cov = np.array([g.coverage for g in guarantees], dtype=float)
    wf = run_waterfall(
        cfads,
        start_year=c,
        debt_service_usd=ds_due,
        senior=is_senior,
        dsra_target_usd=target,
        dsra_initial_usd=dsra0,
        guarantee_covers=g_cover,
        guarantee_coverage=g_cov,
        guarantee_fee_due_usd=g_fee_due,
    )

    uses = capex[:, :c] + fees[:, :c]  # construction years
    uses[:, c - 1] += dsra0
    for name in debt_names:
        uses -= in_usd(schedules[name].draw_usd, name)[:, :c]
    equity_in = np.zeros((n, t_max))
    np.maximum(uses, 0.0, out=equity_in[:, :c])
    distributions = wf.distributable_usd.copy()
    np.negative(equity_in[:, :c], out=distributions[:, :c])

    equity = [tr for tr in tranches if tr.is_equity]
    eq_flows = split_equity(
        distributions,
        start_year=c,
        shares=np.array([tr.share for tr in equity]),
        first_loss=np.array([tr.kind == "first_loss_equity" for tr in equity]),
        hurdle_rates=np.array([tr.hurdle_rate for tr in equity]),
    )

    flows_usd, flows_ccy, tr_fx = {}, {}, {}
    for j, tr in enumerate(equity):
        flows_usd[tr.name] = eq_flows[j]
    for d, name in enumerate(debt_names):
        tr = case.tranche(name)
        sch = schedules[name]
        f = wf.paid_usd[d] - in_usd(sch.draw_usd, name)
        f[:, 0] += tr.fee * sch.principal_at_cod_usd / spot[name]  # paid at close, at the spot
        flows_usd[name] = f
    g_lines = {}
    for j, g in enumerate(guarantees):
        flows_usd[g.name] = wf.guarantee_fee_usd[j] + wf.guarantee_reimbursement_usd[j] - wf.guarantee_call_usd[j]
        g_lines[g.name] = {
            "call_usd": wf.guarantee_call_usd[j],
            "fee_usd": wf.guarantee_fee_usd[j],
            "reimbursement_usd": wf.guarantee_reimbursement_usd[j],
            "outstanding_usd": wf.guarantee_outstanding_usd[j],
            "fee_due_usd": g_fee_due[j],
            "exposure_usd": exposure[g.name],
        }
    for tr in tranches:
        tr_fx[tr.name] = fx_real[tr.currency]
        if tr.currency == "USD" and "USD" not in drivers.fx_factor:
            flows_ccy[tr.name] = flows_usd[tr.name]  # x 1.0
        else:
            flows_ccy[tr.name] = flows_usd[tr.name] * fx_real[tr.currency]

    balance = np.zeros((n, t_max))
    for name in debt_names:
        balance += in_usd(schedules[name].balance_usd, name)
    principal_usd = {name: schedules[name].principal_at_cod_usd / spot[name] for name in debt_names}
    senior_bal_cod = np.zeros(n)
    rate_w = np.zeros(n)
    tenor_end = c
    for tr in senior:
        p = principal_usd[tr.name]
        senior_bal_cod += p
        rate_w += p * tr.rate
        tenor_end = max(tenor_end, c + tr.tenor_years)
    # principal-weighted rate where there is senior debt, 0 elsewhere (no division by 0)
    senior_rate = np.divide(rate_w, senior_bal_cod, out=np.zeros(n), where=senior_bal_cod > 0)
    total_bal_cod = senior_bal_cod.copy()
    total_rate_w = rate_w.copy()
    total_tenor_end = tenor_end
    for tr in conc:
        p = principal_usd[tr.name]
        total_bal_cod += p
        total_rate_w += p * tr.rate
        total_tenor_end = max(total_tenor_end, c + tr.tenor_years)
    total_rate = np.divide(total_rate_w, total_bal_cod, out=np.zeros(n), where=total_bal_cod > 0)

    fcf_pre = ebitda.copy()
    fcf_pre[:, :c] -= capex[:, :c]  # CAPEX falls in construction years only
    fcf_after = ebitda - tax_u
    fcf_after[:, :c] -= capex[:, :c]
    sim = Simulation(
        case=case,
        years=years,
        operating=op,
        energy_mwh=energy,
        revenue_ppa_usd=rev_ppa,
        revenue_merchant_usd=rev_mer,
        revenue_cel_usd=rev_cel,
        revenue_usd=revenue,
        opex_usd=opex,
        ebitda_usd=ebitda,
        capex_usd=capex,
        depreciation_usd=dep,
        interest_usd=interest_real,
        fees_usd=fees,
        taxable_profit_usd=profit,
        loss_used_usd=tax.loss_used_usd,
        loss_balance_usd=tax.loss_balance_usd,
        isr_usd=tax.isr_usd,
        ptu_usd=tax.ptu_usd,
        tax_usd=tax.tax_usd,
        tax_unlevered_usd=tax_u,
        cfads_usd=cfads,
        senior_service_usd=senior_due,
        concessional_service_usd=conc_due,
        senior_paid_usd=over_tranches(wf.paid_usd, 0, n_sen),
        senior_unpaid_usd=over_tranches(wf.unpaid_usd, 0, n_sen),
        concessional_paid_usd=over_tranches(wf.paid_usd, n_sen, k),
        concessional_unpaid_usd=over_tranches(wf.unpaid_usd, n_sen, k),
        debt_balance_usd=balance,
        senior_balance_cod_usd=senior_bal_cod,
        senior_rate=senior_rate,
        senior_tenor_end=tenor_end,
        dsra_balance_usd=wf.dsra_balance_usd,
        dsra_flow_usd=wf.dsra_flow_usd,
        dsra_draw_usd=wf.dsra_draw_usd,
        guarantee_call_usd=over_tranches(wf.guarantee_call_usd, 0, len(guarantees)),
        guarantee_fee_usd=over_tranches(wf.guarantee_fee_usd, 0, len(guarantees)),
        guarantee_reimbursement_usd=over_tranches(wf.guarantee_reimbursement_usd, 0, len(guarantees)),
        distributions_usd=distributions,
        equity_contribution_usd=equity_in,
        project_fcf_pre_tax_usd=fcf_pre,
        project_fcf_after_tax_usd=fcf_after,
        debt_principal_cod_usd=sum((principal_usd[nm] for nm in debt_names), np.zeros(n)),
        senior_principal_cod_usd=senior_bal_cod,
        total_rate=total_rate,
        total_tenor_end=total_tenor_end,
        loss_expired_usd=tax.loss_expired_usd,
        guarantee_fee_deducted_usd=g_fee_deducted,
        total_limit_binds=total_limit_binds,
        ptu_cap_usd=ptu_cap,
        sizing_iterations=iterations,
        tranche_flows_usd=flows_usd,
        tranche_flows_ccy=flows_ccy,
        tranche_fx=tr_fx,
        debt_schedules=schedules,
        guarantee_lines=g_lines,
    )
    for name in ("cfads_usd", "distributions_usd", "tax_usd", "debt_balance_usd"):
        # a NaN or an infinity anywhere makes the sum non-finite (one pass, no temporary)
        if not np.isfinite(getattr(sim, name).sum()):
            raise ValueError(f"{name} holds NaN or infinite values")
    return sim
