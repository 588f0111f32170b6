"""The Monte Carlo evaluation compiled end to end: one pass per draw, summaries only.

:func:`finance.cashflow.simulate` keeps every line of every draw (arrays ``(n, T)``),
which the annual table of one case needs; a Monte Carlo needs only a few numbers per
draw. :func:`evaluate_draws` runs the same model — operating lines, concessional
schedules, senior sizing and sculpting (the interest ↔ tax circularity), realized tax,
CFADS, the waterfall, the equity split, FX — for each draw in one compiled loop over
the draws axis, on rows ``(T,)`` that stay in cache, and returns per draw the equity
IRRs and NPVs in each holder's currency, the minimum DSCR, the debt at COD, the
guarantee calls and whether senior cover was breached.

The year loops it shares with :func:`~finance.cashflow.simulate` (sizing, tax,
waterfall, equity split, IRR) are the same compiled row functions, and the remaining
arithmetic is written in the same order, so both give the same numbers to rounding;
``tests/finance/test_finance_montecarlo_kernel.py`` checks it on several stacks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from finance.cashflow import (
    SIZING_MAX_ITERATIONS,
    Drivers,
    _fx_base,
    _SeniorPrep,
    _sizing_row,
    _year_lines,
    guarantee_fee_rates,
)
from finance.inputs import CaseInputs, FinanceInputError
from finance.jit import njit_cached
from finance.returns import (
    IRR_LOG_BOUND,
    IRR_MAX_ITERATIONS,
    IRR_RESIDUAL_TOLERANCE,
    IRR_SCAN_STEP,
    IRR_TOLERANCE,
    _irr_row,
)
from finance.tax import LOSS_CARRYFORWARD_YEARS, _tax_total_row, depreciation_schedule, ptu_cap_usd
from finance.waterfall import _first_loss_total, _split_row, _waterfall_row
from finance.debt import MONTHS_PER_YEAR, _schedule_row

__all__ = ["DrawPlan", "DrawSummary", "plan_draws", "evaluate_draws"]

#: Starting rate of the IRR solver (as :func:`finance.returns.irr`). [1/year]
IRR_GUESS = 0.1

# status codes of the kernel, per draw
_OK = 0
_NOT_CONVERGED = 1
_CONCESSIONAL_ABOVE_CAPEX = 2
_NOT_FINITE = 3
_BAD_FX = 4


@dataclass(frozen=True)
class DrawPlan:
    """Draw-independent constants of a case, prepared once for :func:`evaluate_draws`.

    Attributes
    ----------
    case : CaseInputs
    equity_names : tuple of str
        Equity holders in stack order.
    currencies : tuple of str
        Currency of each FX slot (index used by the arrays below).
    arrays : dict of str to numpy.ndarray
        Kernel inputs (year lines, debt terms, equity terms, FX base paths).
    """

    case: CaseInputs
    equity_names: tuple
    currencies: tuple
    arrays: dict


@dataclass(frozen=True)
class DrawSummary:
    """Per-draw results of :func:`evaluate_draws`.

    Attributes
    ----------
    equity_irr : dict of str to numpy.ndarray (n,)
        IRR of each equity holder's flows in its currency (NaN where undefined). [1/year]
    equity_npv : dict of str to numpy.ndarray (n,)
        NPV at the holder's discount rate, own currency.
    min_dscr : numpy.ndarray (n,)
        Minimum of CFADS / senior service over the years it is due (NaN: none due). [-]
    min_dscr_total : numpy.ndarray (n,)
        Minimum of CFADS / (senior + concessional service) (NaN: none due). [-]
    debt_usd : numpy.ndarray (n,)
        All debt at COD. [USD]
    guarantee_calls_usd : numpy.ndarray (n,)
        Total guarantee calls. [USD]
    breach : numpy.ndarray (n,) of bool
        Minimum DSCR below the threshold, or senior service left unpaid.
    """

    equity_irr: dict
    equity_npv: dict
    min_dscr: np.ndarray
    debt_usd: np.ndarray
    min_dscr_total: np.ndarray
    guarantee_calls_usd: np.ndarray
    breach: np.ndarray


def plan_draws(case: CaseInputs, sizing_tolerance: float) -> DrawPlan:
    """Prepare the draw-independent constants of ``case`` (same lines as ``simulate``).

    Parameters
    ----------
    case : CaseInputs
        Validated inputs.
    sizing_tolerance : float
        Convergence of the senior sizing, as a fraction of each draw's CAPEX. [-]

    Returns
    -------
    DrawPlan
    """
    t_max, c, life = case.n_years, case.construction_years, case.life_years
    fractions = np.asarray(case.capex_fractions(), dtype=float)
    tranches = case.tranches
    senior = [tr for tr in tranches if tr.kind == "senior_debt"]
    conc = [tr for tr in tranches if tr.kind == "concessional_debt"]
    debt = senior + conc
    guarantees = [tr for tr in tranches if tr.kind == "guarantee"]
    equity = [tr for tr in tranches if tr.is_equity]

    basis_energy = case.energy_p50_mwh
    if "p90" in {tr.sizing_basis or case.sizing_basis for tr in senior}:
        basis_energy = case.energy_p90_mwh
    energy_t, ppa_price, mer_price, cel_price, esc, fixed, decom = _year_lines(case, case.energy_p50_mwh)
    basis_energy_t = energy_t * (basis_energy / case.energy_p50_mwh)
    year = np.stack([energy_t, basis_energy_t, ppa_price, mer_price, cel_price, esc, fixed, decom])

    # depreciation is linear in (generation, grid) cost: the two unit schedules
    unit = depreciation_schedule(np.array([1.0, 0.0]), np.array([0.0, 1.0]), method=case.depreciation,
                                 construction_years=c, life_years=life,
                                 straight_line_rate=case.straight_line_rate,
                                 renewable_rate=case.depreciation_rate)

    currencies = tuple(dict.fromkeys(tr.currency for tr in tranches))
    paths = np.stack([_fx_base(case, ccy) for ccy in currencies])
    slot = {ccy: q for q, ccy in enumerate(currencies)}

    k = len(debt)
    d_rate = np.array([tr.rate for tr in debt], dtype=float)
    d_tenor = np.array([tr.tenor_years for tr in debt], dtype=np.int64)
    d_grace = np.array([tr.grace_years for tr in debt], dtype=np.int64)
    d_fee = np.array([tr.fee for tr in debt], dtype=float)
    d_ccy = np.array([slot[tr.currency] for tr in debt], dtype=np.int64)
    g_rate = guarantee_fee_rates(case)
    d_gfr = np.array([g_rate.get(tr.name, 0.0) for tr in debt], dtype=float)
    # concessional principal: a share of CAPEX, or a fixed amount (NaN share)
    d_share = np.full(k, np.nan)
    d_amount = np.zeros(k)
    d_crf = np.zeros(k)
    for d, tr in enumerate(debt):
        if tr.kind != "concessional_debt":
            continue
        if tr.share is not None:
            d_share[d] = tr.share
        else:
            d_amount[d] = tr.amount  # in the tranche's currency
        r = np.atleast_1d(float(tr.rate))
        m = tr.tenor_years - tr.grace_years
        with np.errstate(divide="ignore", invalid="ignore"):
            d_crf[d] = np.where(r == 0, 1.0 / m, r / (1.0 - (1.0 + r) ** -m))[0]

    if senior:
        weights = [tr.share if len(senior) > 1 else 1.0 for tr in senior]
        gearing = min(min(tr.max_gearing if tr.max_gearing is not None else 1.0 for tr in senior), 1.0)
        prep = [_SeniorPrep(tr, c, t_max, fractions, _fx_base(case, tr.currency), g_rate.get(tr.name, 0.0))
                for tr in senior]
        s_weight = np.array([w / tr.target_dscr for tr, w in zip(senior, weights)])
        s_fee = np.array([tr.fee for tr in senior])
        s_fx0 = np.array([sp.fx0 for sp in prep])
        s_lines = np.stack([np.stack([sp.repay, sp.pv_factor, sp.disc, sp.open_factor,
                                      sp.r * sp.grace + sp.idc_unit, sp.fx, sp.fee_open, sp.fee_grace])
                            for sp in prep])
    else:
        gearing = 1.0
        s_weight = np.zeros(0)
        s_fee = np.zeros(0)
        s_fx0 = np.zeros(0)
        s_lines = np.zeros((0, 8, t_max))

    debt_names = [tr.name for tr in debt]
    t = np.arange(t_max)
    arrays = {
        "year": np.ascontiguousarray(year),
        "dep_unit": np.ascontiguousarray(unit),
        "fractions": fractions,
        "paths": np.ascontiguousarray(paths),
        "d_rate": d_rate,
        "d_tenor": d_tenor,
        "d_grace": d_grace,
        "d_fee": d_fee,
        "d_ccy": d_ccy,
        "d_gfr": d_gfr,
        "ptu_cap": np.ascontiguousarray(ptu_cap_usd(case.ptu_payroll_usd_per_year, esc)),
        "s_fx0": s_fx0,
        "d_share": d_share,
        "d_amount": d_amount,
        "d_crf": d_crf,
        "s_weight": s_weight,
        "s_fee": s_fee,
        "s_lines": np.ascontiguousarray(s_lines),
        "g_cover": np.array([debt_names.index(g.covers) for g in guarantees], dtype=np.int64),
        "g_coverage": np.array([g.coverage for g in guarantees], dtype=float),
        "g_fee": np.array([g.fee for g in guarantees], dtype=float),
        "e_share": np.array([tr.share for tr in equity], dtype=float),
        "e_first_loss": np.array([tr.kind == "first_loss_equity" for tr in equity], dtype=np.bool_),
        "e_hurdle": np.array([tr.hurdle_rate for tr in equity], dtype=float),
        "e_ccy": np.array([slot[tr.currency] for tr in equity], dtype=np.int64),
        "e_disc": np.ascontiguousarray(np.stack([
            (1.0 + (case.discount_rate if tr.discount_rate is None else tr.discount_rate)) ** -t
            for tr in equity
        ])),
        "scalars": np.array([
            float(case.variable_opex_usd_per_mwh),
            float(case.capex_usd),
            float(case.grid_connection_usd),
            float(case.tax_rate),
            float(case.ptu_rate),
            float(sizing_tolerance),
            float(gearing),
            float(case.dsra_months) / MONTHS_PER_YEAR,
            float(case.max_total_gearing),
        ]),
        "n_senior": len(senior),
    }
    return DrawPlan(case=case, equity_names=tuple(tr.name for tr in equity), currencies=currencies,
                    arrays=arrays)


def _factor(x, n):
    a = np.ascontiguousarray(x, dtype=float)
    if a.shape != (n,):
        raise ValueError(f"driver arrays must have shape ({n},), got {a.shape}")
    if a.size and not (a.min() >= 0.0 and a.max() < np.inf):
        raise ValueError("drivers must be finite and non-negative")
    return a


def evaluate_draws(plan: DrawPlan, drivers: Drivers, breach_dscr: float) -> DrawSummary:
    """Evaluate every draw of ``drivers`` in one compiled pass.

    Parameters
    ----------
    plan : DrawPlan
        From :func:`plan_draws`.
    drivers : Drivers
        Per-draw multipliers.
    breach_dscr : float
        A draw breaches when its minimum DSCR is below this. [-]

    Returns
    -------
    DrawSummary

    Raises
    ------
    FinanceInputError
        Concessional debt reaching CAPEX in a draw (as :func:`finance.cashflow.simulate`).
    ValueError
        Bad driver shapes or values, an unconverged sizing, or a NaN in any line.
    """
    case = plan.case
    a = plan.arrays
    n = drivers.n
    t_max = case.n_years
    ef = _factor(drivers.energy_factor, n)
    pf = _factor(drivers.price_factor, n)
    cf = _factor(drivers.capex_factor, n)
    of = _factor(drivers.opex_factor, n)
    fx_slot = np.full(len(plan.currencies), -1, dtype=np.int64)
    factors = []
    for q, ccy in enumerate(plan.currencies):
        f = drivers.fx_factor.get(ccy)
        if f is None:
            continue
        f = np.asarray(f, dtype=float)
        if f.shape != (n, t_max):
            raise ValueError(f"fx path of {ccy} must be positive and finite with shape ({n}, {t_max})")
        fx_slot[q] = len(factors)
        factors.append(f)
    fx_factors = np.ascontiguousarray(np.stack(factors)) if factors else np.ones((0, n, t_max))

    irr_out, npv_out, min_dscr, debt, calls, breach, status, min_total = _draws_kernel(
        ef, pf, cf, of, fx_slot, fx_factors,
        a["year"], a["dep_unit"], a["fractions"], a["paths"],
        a["d_rate"], a["d_tenor"], a["d_grace"], a["d_fee"], a["d_ccy"], a["d_share"], a["d_amount"], a["d_crf"],
        a["d_gfr"], a["ptu_cap"], a["n_senior"], a["s_weight"], a["s_fee"], a["s_fx0"], a["s_lines"],
        a["g_cover"], a["g_coverage"], a["g_fee"],
        a["e_share"], a["e_first_loss"], a["e_hurdle"], a["e_ccy"], a["e_disc"],
        a["scalars"], case.construction_years, LOSS_CARRYFORWARD_YEARS, SIZING_MAX_ITERATIONS,
        float(breach_dscr), IRR_GUESS, IRR_TOLERANCE, IRR_MAX_ITERATIONS, IRR_RESIDUAL_TOLERANCE,
        IRR_SCAN_STEP, IRR_LOG_BOUND,
    )
    worst = int(status.max()) if n else _OK
    if worst != _OK:
        bad = int(np.argmax(status == worst))
        if worst == _CONCESSIONAL_ABOVE_CAPEX:
            idx = next(i for i, tr in enumerate(case.tranches) if tr.kind == "concessional_debt")
            raise FinanceInputError(f"tranches[{idx}].amount", "concessional debt reaches or exceeds CAPEX")
        if worst == _NOT_CONVERGED:
            raise ValueError("senior debt sizing did not converge (interest/tax circularity)")
        if worst == _BAD_FX:
            raise ValueError(f"fx paths must be positive and finite (draw {bad})")
        raise ValueError(f"draw {bad}: cash-flow lines hold NaN or infinite values")
    names = plan.equity_names
    return DrawSummary(
        equity_irr={name: irr_out[j] for j, name in enumerate(names)},
        equity_npv={name: npv_out[j] for j, name in enumerate(names)},
        min_dscr=min_dscr,
        min_dscr_total=min_total,
        debt_usd=debt,
        guarantee_calls_usd=calls,
        breach=breach,
    )


@njit_cached
def _draws_kernel(ef, pf, cf, of, fx_slot, fx_factors, year, dep_unit, fractions, paths,
                  d_rate, d_tenor, d_grace, d_fee, d_ccy, d_share, d_amount, d_crf,
                  d_gfr, ptu_cap, n_senior, s_weight, s_fee, s_fx0, s_lines, g_cover, g_coverage, g_fee,
                  e_share, e_first_loss, e_hurdle, e_ccy, e_disc,
                  scalars, c, carry_years, max_iterations, breach_dscr,
                  guess, irr_tol, irr_max_iter, irr_residual_tol, irr_step, irr_log_bound):
    n = ef.shape[0]
    t_max = year.shape[1]
    k = d_rate.shape[0]
    g = g_cover.shape[0]
    e = e_share.shape[0]
    n_ccy = paths.shape[0]
    variable_opex = scalars[0]
    capex_usd = scalars[1]
    grid_usd = scalars[2]
    tax_rate = scalars[3]
    ptu_rate = scalars[4]
    sizing_tol = scalars[5]
    gearing = scalars[6]
    dsra_factor = scalars[7]
    max_total_gearing = scalars[8]
    energy_t = year[0]
    basis_t = year[1]
    ppa_price = year[2]
    mer_price = year[3]
    cel_price = year[4]
    esc = year[5]
    fixed = year[6]
    decom = year[7]
    gen_frac = dep_unit[0]
    sl_frac = dep_unit[1]
    s_repay = s_lines[:, 0, :]
    s_pv = s_lines[:, 1, :]
    s_disc = s_lines[:, 2, :]
    s_open = s_lines[:, 3, :]
    s_grace_idc = s_lines[:, 4, :]
    s_fx = s_lines[:, 5, :]
    s_fee_open = s_lines[:, 6, :]
    s_fee_grace = s_lines[:, 7, :]
    fl_total = _first_loss_total(e_share, e_first_loss)
    sizing_end = 0  # end of the longest senior tenor
    for d in range(n_senior):
        sizing_end = max(sizing_end, c + d_tenor[d])
    is_senior = np.zeros(k, dtype=np.bool_)
    for d in range(n_senior):
        is_senior[d] = True

    # outputs
    irr_out = np.empty((e, n))
    npv_out = np.empty((e, n))
    min_dscr = np.empty(n)
    min_total = np.empty(n)
    debt_out = np.empty(n)
    calls_out = np.empty(n)
    breach = np.zeros(n, dtype=np.bool_)
    status = np.zeros(n, dtype=np.int64)

    # scratch rows, reused by every draw
    dep = np.empty(t_max)
    ebitda = np.empty(t_max)
    ebitda_s = np.empty(t_max)
    conc_int = np.empty(t_max)
    profit = np.empty(t_max)
    tax = np.empty(t_max)
    cfads = np.empty(t_max)
    vint = np.empty(t_max)
    ds_row = np.empty(t_max)
    senior_due = np.empty(t_max)
    target = np.empty(t_max)
    dist = np.empty(t_max)
    dsra_bal = np.empty(t_max)
    dsra_draw = np.empty(t_max)
    dsra_flow = np.empty(t_max)
    flow_ccy = np.empty(t_max)
    real = np.empty((n_ccy, t_max))
    bal = np.empty((k, t_max))
    intr = np.empty((k, t_max))
    serv = np.empty((k, t_max))
    ds_due = np.empty((k, t_max))
    paid = np.empty((k, t_max))
    unpaid = np.empty((k, t_max))
    draws = np.empty((k, c))
    idc = np.empty((k, c))
    dpow = np.empty(c)
    gpow = np.empty(c)
    principal = np.empty(k)
    work = np.empty((6, t_max))
    raw = np.empty((n_senior, t_max))
    prin = np.empty(n_senior)
    ds_sen = np.empty((n_senior, t_max))
    p_sen = np.empty(n_senior)
    g_fee_due = np.empty((g, t_max))
    g_calls = np.empty((g, t_max))
    g_fees = np.empty((g, t_max))
    g_reimb = np.empty((g, t_max))
    g_out = np.empty((g, t_max))
    owed = np.empty(g)
    flows = np.empty((e, t_max))
    pref = np.empty(e)

    for i in range(n):
        # ------------------------------------------------ FX of the draw
        fx_ok = True
        for q in range(n_ccy):
            m = fx_slot[q]
            for t in range(t_max):
                if m < 0:
                    real[q, t] = paths[q, t]
                else:
                    x = paths[q, t] * fx_factors[m, i, t]
                    if not (x > 0.0 and x < np.inf):
                        fx_ok = False
                    real[q, t] = x
        if not fx_ok:
            status[i] = _BAD_FX
            continue

        # ------------------------------------------------ operating lines and depreciation
        capex_total = capex_usd * cf[i]
        grid = grid_usd * cf[i]
        gen = capex_total - grid
        e_f = ef[i]
        p_f = pf[i]
        o_f = of[i]
        for t in range(t_max):
            dep[t] = gen * gen_frac[t] + grid * sl_frac[t]
            en = energy_t[t] * e_f
            r_ppa = en * ppa_price[t]
            priced = en * p_f
            r_mer = priced * mer_price[t]
            r_cel = priced * cel_price[t]
            cost = ((fixed[t] + variable_opex * en * esc[t]) + decom[t]) * o_f
            rev = r_ppa + r_mer + r_cel
            ebitda[t] = rev - cost
            es = basis_t[t]
            cost_s = ((fixed[t] + variable_opex * es * esc[t]) + decom[t]) * o_f
            ebitda_s[t] = es * ppa_price[t] + es * mer_price[t] + es * cel_price[t] - cost_s

        # ------------------------------------------------ concessional debt (annuity)
        for d in range(k):
            for t in range(t_max):
                bal[d, t] = 0.0
                intr[d, t] = 0.0
                serv[d, t] = 0.0
        conc_int[:] = 0.0
        conc_total = 0.0
        fees0 = 0.0
        for d in range(n_senior, k):
            q = d_ccy[d]
            spot0 = paths[q, 0]
            if np.isnan(d_share[d]):
                p = d_amount[d]
            else:
                p = d_share[d] * capex_total * spot0
            start_rep = c + d_grace[d]
            end = c + d_tenor[d]
            level = p * d_crf[d]
            for t in range(t_max):
                ds_row[t] = level if (t >= start_rep and t < end) else 0.0
            _schedule_row(p, ds_row, d_rate[d], fractions, c, d_tenor[d], d_grace[d], bal[d], intr[d], serv[d],
                          draws[d], idc[d], dpow, gpow)
            for t in range(t_max):
                x = intr[d, t] + (idc[d, t] if t < c else 0.0)
                if d_gfr[d] != 0.0:
                    x = x + ((d_gfr[d] * bal[d, t - 1]) if (t > 0 and serv[d, t] > 0.0) else 0.0)
                conc_int[t] += x / paths[q, t]
            principal[d] = p / spot0
            conc_total += p / spot0
            fees0 += d_fee[d] * p / spot0
        if conc_total >= capex_total:
            status[i] = _CONCESSIONAL_ABOVE_CAPEX
            continue

        # ------------------------------------------------ senior sizing and schedules
        if n_senior > 0:
            cap = min(min(gearing * capex_total, capex_total - conc_total),
                      max_total_gearing * capex_total - conc_total)
            if cap < 0.0:
                cap = 0.0
            it = _sizing_row(ebitda_s, dep, conc_int, fees0, cap, sizing_tol * capex_total, s_weight, s_fee,
                             s_repay, s_pv, s_disc, s_open, s_grace_idc, s_fx, s_fx0, s_fee_open, s_fee_grace,
                             tax_rate, ptu_rate, carry_years, ptu_cap, max_iterations, sizing_end, ds_sen, p_sen,
                             work, raw, prin)
            if it < 0:
                status[i] = _NOT_CONVERGED
                continue
            senior_fees = 0.0
            for d in range(n_senior):
                _schedule_row(p_sen[d], ds_sen[d], d_rate[d], fractions, c, d_tenor[d], d_grace[d], bal[d],
                              intr[d], serv[d], draws[d], idc[d], dpow, gpow)
                principal[d] = p_sen[d] / s_fx0[d]
                senior_fees += s_fee[d] * p_sen[d] / s_fx0[d]
            fees0 = fees0 + senior_fees

        # ------------------------------------------------ realized tax and CFADS
        for j in range(g):
            d = g_cover[j]
            q = d_ccy[d]
            for t in range(t_max):
                opening = bal[d, t - 1] if t > 0 else 0.0
                exposure = g_coverage[j] * (opening / real[q, t])
                g_fee_due[j, t] = g_fee[j] * exposure if serv[d, t] > 0.0 else 0.0
        for t in range(t_max):
            interest = 0.0
            for d in range(k):
                q = d_ccy[d]
                interest += intr[d, t] / real[q, t] + (idc[d, t] / real[q, t] if t < c else 0.0)
            profit[t] = (ebitda[t] - dep[t]) - interest
            if g > 0:
                fee_total = 0.0
                for j in range(g):
                    fee_total += g_fee_due[j, t]
                profit[t] -= fee_total
        profit[0] -= fees0
        _tax_total_row(profit, tax, vint, tax_rate, ptu_rate, carry_years, ptu_cap)
        check = 0.0
        for t in range(t_max):
            cfads[t] = ebitda[t] - tax[t] if t >= c else 0.0
            check += cfads[t] + tax[t]

        # ------------------------------------------------ waterfall inputs
        for t in range(t_max):
            senior_due[t] = 0.0
            for d in range(k):
                ds_due[d, t] = serv[d, t] / real[d_ccy[d], t]
                paid[d, t] = 0.0
                unpaid[d, t] = 0.0
                check += bal[d, t] / real[d_ccy[d], t]
            for d in range(n_senior):
                senior_due[t] += ds_due[d, t]
        for t in range(t_max - 1):
            target[t] = senior_due[t + 1] * dsra_factor
        target[t_max - 1] = 0.0 * dsra_factor
        dsra0 = target[c - 1]
        for t in range(c - 1):
            target[t] = 0.0
        for j in range(g):
            for t in range(t_max):
                g_calls[j, t] = 0.0
                g_fees[j, t] = 0.0
                g_reimb[j, t] = 0.0
                g_out[j, t] = 0.0
        for t in range(t_max):
            dist[t] = 0.0
            dsra_bal[t] = 0.0
            dsra_draw[t] = 0.0
            dsra_flow[t] = 0.0
        _waterfall_row(cfads, c, ds_due, is_senior, n_senior, target, dsra0, g_cover, g_coverage, g_fee_due,
                       paid, unpaid, dsra_bal, dsra_draw, dsra_flow, g_calls, g_fees, g_reimb, g_out, dist,
                       owed)

        # ------------------------------------------------ equity in, distributions, split
        for t in range(c):
            uses = capex_total * fractions[t] + (fees0 if t == 0 else 0.0)
            if t == c - 1:
                uses += dsra0
            for d in range(k):
                uses -= draws[d, t] / real[d_ccy[d], t]
            dist[t] = -(uses if uses > 0.0 else 0.0)
        for t in range(t_max):
            check += dist[t]
        if not np.isfinite(check):
            status[i] = _NOT_FINITE
            continue
        for j in range(e):
            for t in range(t_max):
                flows[j, t] = 0.0
        _split_row(dist, c, e_share, e_first_loss, fl_total, e_hurdle, flows, pref)

        # ------------------------------------------------ summaries
        for j in range(e):
            q = e_ccy[j]
            v = 0.0
            for t in range(t_max):
                x = flows[j, t] * real[q, t]
                flow_ccy[t] = x
                v += x * e_disc[j, t]
            npv_out[j, i] = v
            irr_out[j, i] = _irr_row(flow_ccy, guess, irr_tol, irr_max_iter, irr_residual_tol, irr_step,
                                     irr_log_bound)
        lowest = np.inf
        has = False
        for t in range(t_max):
            if senior_due[t] > 0.0:
                has = True
                x = cfads[t] / senior_due[t]
                if x < lowest:
                    lowest = x
        min_dscr[i] = lowest if has else np.nan
        lowest_total = np.inf
        has_total = False
        for t in range(t_max):
            due = 0.0
            for d in range(k):
                due += ds_due[d, t]
            if due > 0.0:
                has_total = True
                x = cfads[t] / due
                if x < lowest_total:
                    lowest_total = x
        min_total[i] = lowest_total if has_total else np.nan
        short = 0.0
        for d in range(n_senior):
            for t in range(t_max):
                short += unpaid[d, t]
        breach[i] = (has and lowest < breach_dscr) or short > 0.0
        total_calls = 0.0
        for j in range(g):
            for t in range(t_max):
                total_calls += g_calls[j, t]
        calls_out[i] = total_calls
        total_debt = 0.0
        for d in range(k):
            total_debt += principal[d]
        debt_out[i] = total_debt
    return irr_out, npv_out, min_dscr, debt_out, calls_out, breach, status, min_total
