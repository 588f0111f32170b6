"""Mexican income tax of a generation project company: ISR, PTU, depreciation, losses.

Each statutory value is a named constant with its legal source. The functions are
vectorized over a leading draws axis: arrays are ``(n_draws, n_years)`` and the year
loop (loss carry-forward is sequential by nature) runs compiled, never over draws in
Python.

Simplifications, stated once
----------------------------
* Annual model: PTU of a year is paid in that year (in law it is paid in the next
  May) and deducted for ISR in it.
* Deductions and tax losses are not restated for inflation (LISR art. 31 and 57 allow
  updating them by the INPC factor); the result is conservative.
* Foreign-exchange gains and losses on debt are not taxed or deducted.
"""

from __future__ import annotations

import numpy as np

from finance.jit import njit_cached

__all__ = [
    "ISR_RATE",
    "PTU_RATE",
    "RENEWABLE_FIRST_YEAR_DEDUCTION",
    "STRAIGHT_LINE_RATE_ELECTRICITY",
    "LOSS_CARRYFORWARD_YEARS",
    "PTU_CAP_MONTHS",
    "DEPRECIATION_METHODS",
    "ptu_cap_usd",
    "expired_losses",
    "depreciation_schedule",
    "income_tax",
    "TaxResult",
]

#: Corporate income tax (impuesto sobre la renta) rate: 30 %.
#: Source: Ley del Impuesto sobre la Renta (LISR), art. 9, first paragraph. [-]
ISR_RATE = 0.30

#: Employees' profit share (participación de los trabajadores en las utilidades): 10 % of
#: the taxable profit, due where the project company has employees. This is the *uncapped*
#: rate; the 2021 reform caps each employee's share (:data:`PTU_CAP_MONTHS`).
#: Source: Ley Federal del Trabajo (LFT), art. 117, and the Resolución del H. Consejo de
#: Representantes de la *Quinta* Comisión Nacional para la Participación de los Trabajadores
#: en las Utilidades de las Empresas (DOF 2009-02-03), which set the share at 10 % (this
#: constant's note used to call it the "Sexta Resolución": the 2009 resolution is the Fifth
#: Commission's). The base is the taxable income of LISR art. 9 without deducting tax
#: losses carried forward (LISR art. 9, last part). [-]
PTU_RATE = 0.10

#: Cap of an employee's PTU since the 2021 reform: three months of the employee's current
#: salary, or the average of the PTU received in the last three years if that is higher.
#: Source: LFT art. 127 fr. VIII (reform DOF 2021-04-23). Applied to the whole payroll: the
#: sum of the employees' caps is an upper bound of the capped total (a worker below their
#: own cap cannot give the slack to another), so the modelled PTU is never too low. [months]
PTU_CAP_MONTHS = 3.0

#: Years over which LFT art. 127 fr. VIII averages the PTU received. [year]
PTU_CAP_AVERAGE_YEARS = 3

#: Months in a year.
MONTHS_PER_YEAR = 12.0

#: Deduction in the first year for machinery and equipment generating energy from
#: renewable sources: 100 % (the asset must stay in operation for five years).
#: Source: LISR art. 34, fracción XIII. [-]
RENEWABLE_FIRST_YEAR_DEDUCTION = 1.0

#: Straight-line rate for machinery and equipment used in the generation, conduction,
#: transformation and distribution of electricity: 5 % a year.
#: Source: LISR art. 35, fracción I. [1/year]
STRAIGHT_LINE_RATE_ELECTRICITY = 0.05

#: A tax loss may be deducted from the taxable profit of the ten following years.
#: Source: LISR art. 57, first and second paragraphs. [year]
LOSS_CARRYFORWARD_YEARS = 10

#: Depreciation methods a case may ask for.
DEPRECIATION_METHODS = ("mx_renewable_100", "straight_line")


def depreciation_schedule(
    depreciable_usd,
    grid_connection_usd,
    *,
    method: str,
    construction_years: int,
    life_years: int,
    straight_line_rate: float = STRAIGHT_LINE_RATE_ELECTRICITY,
    renewable_rate: float = RENEWABLE_FIRST_YEAR_DEDUCTION,
):
    """Tax depreciation of the plant, year by year.

    Parameters
    ----------
    depreciable_usd : float or array_like, shape (n,)
        Depreciable cost of the generation assets (CAPEX without grid connection). [USD]
    grid_connection_usd : float or array_like, shape (n,)
        Depreciable cost of the grid connection (lines, substation), always
        straight-line. [USD]
    method : {"mx_renewable_100", "straight_line"}
        ``mx_renewable_100`` deducts generation assets at ``renewable_rate`` a year, at
        most 100 % (all in the first operating year; LISR art. 34 fr. XIII);
        ``straight_line`` deducts them at ``straight_line_rate``.
    construction_years : int
        Years before the first operating year (the year assets start being used).
    life_years : int
        Operating years; any undeducted balance is deducted in the last one (the asset is
        retired, LISR art. 31).
    straight_line_rate : float
        Annual rate. [1/year]
    renewable_rate : float
        Annual rate the sponsor elects under ``mx_renewable_100``, in (0, 1]: LISR art. 31
        lets a taxpayer take a lower rate than the maximum (the election then binds for
        the asset's life). 1 (the default) deducts everything in the first operating year.
        [1/year]

    Returns
    -------
    numpy.ndarray, shape (n, construction_years + life_years)
        Deduction per model year. [USD]

    Examples
    --------
    >>> depreciation_schedule(100.0, 0.0, method="mx_renewable_100",
    ...                       construction_years=1, life_years=3)
    array([[  0., 100.,   0.,   0.]])
    """
    if method not in DEPRECIATION_METHODS:
        raise ValueError(f"depreciation: must be one of {DEPRECIATION_METHODS}, got {method!r}")
    if not 0 < straight_line_rate <= 1:
        raise ValueError(f"straight_line_rate must be in (0, 1], got {straight_line_rate}")
    if not 0 < renewable_rate <= RENEWABLE_FIRST_YEAR_DEDUCTION:
        raise ValueError(f"renewable_rate must be in (0, {RENEWABLE_FIRST_YEAR_DEDUCTION}], "
                         f"got {renewable_rate}")
    gen = np.atleast_1d(np.asarray(depreciable_usd, dtype=float))[:, None]
    grid = np.atleast_1d(np.asarray(grid_connection_usd, dtype=float))[:, None]
    n_years = construction_years + life_years
    sl = _straight_line_fractions(straight_line_rate, life_years)
    if method == "mx_renewable_100":
        gen_frac = _straight_line_fractions(renewable_rate, life_years)
    else:
        gen_frac = sl
    out = np.zeros((np.broadcast_shapes(gen.shape, grid.shape)[0], n_years))
    out[:, construction_years:] = gen * gen_frac + grid * sl
    return out


def _straight_line_fractions(rate: float, life_years: int):
    """Fraction deducted in each operating year at ``rate``; the rest in the last year. [-]"""
    cum = np.minimum(np.arange(1, life_years + 1) * rate, 1.0)  # deducted by the end of each year
    out = np.empty(life_years)
    out[0] = cum[0]
    out[1:] = cum[1:] - cum[:-1]
    out[-1] += 1.0 - cum[-1]
    return out


def ptu_cap_usd(payroll_usd_per_year, escalation_factor):
    """Cap of the year's PTU from the payroll: three months of it (LFT art. 127 fr. VIII).

    Parameters
    ----------
    payroll_usd_per_year : float or None
        Annual payroll of the project company's employees in the first operating year;
        ``None`` means no cap (the uncapped :data:`PTU_RATE` applies). [USD/year]
    escalation_factor : array_like, shape (T,)
        Payroll of each model year over the first operating year's (0 before operation). [-]

    Returns
    -------
    numpy.ndarray, shape (T,)
        :math:`\\frac{3}{12} W_t`, infinite where uncapped. [USD]

    Notes
    -----
    The kernels apply :math:`PTU_t = \\min(r\\,\\max(P_t, 0),\\ \\max(cap_t,
    \\overline{PTU}_{t-3..t-1}))`: the higher of three months' salary and the average PTU
    of the three previous years (years before the first count as zero).
    """
    esc = np.asarray(escalation_factor, dtype=float)
    if payroll_usd_per_year is None:
        return np.full(esc.shape, np.inf)
    if not payroll_usd_per_year >= 0:
        raise ValueError(f"payroll must be >= 0, got {payroll_usd_per_year}")
    return payroll_usd_per_year * esc * (PTU_CAP_MONTHS / MONTHS_PER_YEAR)


@njit_cached
def _capped_ptu(uncapped, cap, h1, h2, h3):
    """PTU after the LFT art. 127 fr. VIII cap, given the three previous years' PTU."""
    avg = (h1 + h2 + h3) / 3.0
    limit = cap if cap > avg else avg
    return uncapped if uncapped <= limit else limit


@njit_cached
def _tax_kernel(profit, tax_rate, ptu_rate, carry_years, ptu_base_floor, ptu_cap):
    n, t_max = profit.shape
    isr = np.empty((n, t_max))
    ptu = np.empty((n, t_max))
    loss_used = np.empty((n, t_max))
    loss_created = np.empty((n, t_max))
    loss_expired = np.empty((n, t_max))
    loss_balance = np.empty((n, t_max))
    vint = np.empty(t_max)  # remaining loss by vintage year
    for i in range(n):
        first = 0  # vintages before it hold no loss (used and expired oldest first)
        h1 = 0.0
        h2 = 0.0
        h3 = 0.0
        for t in range(t_max):
            vint[t] = 0.0
            p = profit[i, t]
            ptu_t = _capped_ptu(ptu_rate * max(p, ptu_base_floor), ptu_cap[t], h1, h2, h3)
            h3 = h2
            h2 = h1
            h1 = ptu_t
            base = p - ptu_t
            used = 0.0
            isr_t = 0.0
            if base < 0.0:
                vint[t] = -base
                loss_created[i, t] = -base
            else:
                loss_created[i, t] = 0.0
                remaining = base
                for s in range(max(first, t - carry_years), t):  # oldest first
                    if remaining <= 0.0:
                        break
                    use = min(vint[s], remaining)
                    vint[s] -= use
                    remaining -= use
                    used += use
                isr_t = tax_rate * remaining
            isr[i, t] = isr_t
            loss_used[i, t] = used
            # a loss of year s can be used up to year s + carry_years
            s_exp = t - carry_years
            expired = 0.0
            if s_exp >= 0 and vint[s_exp] > 0.0:
                expired = vint[s_exp]
                vint[s_exp] = 0.0
            loss_expired[i, t] = expired
            ptu[i, t] = ptu_t
            while first <= t and vint[first] == 0.0:
                first += 1
            bal = 0.0
            for s in range(max(first, t - carry_years + 1), t + 1):
                bal += vint[s]
            loss_balance[i, t] = bal
    return isr, ptu, loss_used, loss_created, loss_expired, loss_balance


@njit_cached
def _tax_total_row(profit, out, vint, tax_rate, ptu_rate, carry_years, ptu_cap):
    """ISR + PTU of one draw's years into ``out`` (same rules as ``_tax_kernel``).

    ``vint`` is scratch space of the row's length. Vintages are used and expire oldest
    first, so those before ``first`` hold nothing and are skipped: the loop is O(T) when
    there are no losses to carry.
    """
    t_max = profit.shape[0]
    first = 0
    h1 = 0.0
    h2 = 0.0
    h3 = 0.0
    for t in range(t_max):
        vint[t] = 0.0
        p = profit[t]
        ptu_t = _capped_ptu(ptu_rate * p if p > 0.0 else 0.0, ptu_cap[t], h1, h2, h3)
        h3 = h2
        h2 = h1
        h1 = ptu_t
        base = p - ptu_t
        isr = 0.0
        if base < 0.0:
            vint[t] = -base
        else:
            remaining = base
            for s in range(max(first, t - carry_years), t):
                if remaining <= 0.0:
                    break
                use = vint[s] if vint[s] < remaining else remaining
                vint[s] -= use
                remaining -= use
            isr = tax_rate * remaining
        out[t] = isr + ptu_t
        s_exp = t - carry_years
        if s_exp >= 0:
            vint[s_exp] = 0.0
        while first <= t and vint[first] == 0.0:
            first += 1


@njit_cached
def _tax_total_kernel(profit, tax_rate, ptu_rate, carry_years, ptu_cap):
    """ISR + PTU only (same rules as ``_tax_kernel``), for the hot loops."""
    n, t_max = profit.shape
    tax = np.empty((n, t_max))
    vint = np.empty(t_max)
    for i in range(n):
        _tax_total_row(profit[i], tax[i], vint, tax_rate, ptu_rate, carry_years, ptu_cap)
    return tax


class TaxResult:
    """Year-by-year tax lines, each an array ``(n_draws, n_years)`` [USD].

    Attributes
    ----------
    taxable_profit_usd : profit before PTU and losses (income − deductions).
    ptu_usd : employees' profit share.
    loss_used_usd, loss_created_usd, loss_expired_usd : carry-forward movements.
    loss_balance_usd : losses still available at year end.
    isr_usd : income tax.
    tax_usd : ISR + PTU.
    """

    __slots__ = (
        "taxable_profit_usd",
        "ptu_usd",
        "loss_used_usd",
        "loss_created_usd",
        "loss_expired_usd",
        "loss_balance_usd",
        "isr_usd",
        "tax_usd",
    )

    def __init__(self, profit, isr, ptu, used, created, expired, balance):
        self.taxable_profit_usd = profit
        self.isr_usd = isr
        self.ptu_usd = ptu
        self.loss_used_usd = used
        self.loss_created_usd = created
        self.loss_expired_usd = expired
        self.loss_balance_usd = balance
        self.tax_usd = isr + ptu


def income_tax(
    taxable_profit_usd,
    *,
    tax_rate: float = ISR_RATE,
    ptu_rate: float = PTU_RATE,
    carryforward_years: int = LOSS_CARRYFORWARD_YEARS,
    ptu_cap_usd=None,
) -> TaxResult:
    """ISR and PTU of each year with tax losses carried forward.

    Parameters
    ----------
    taxable_profit_usd : array_like, shape (n_years,) or (n_draws, n_years)
        Cumulative income less deductions (depreciation, interest, fees) of each fiscal
        year, before PTU and before losses of earlier years. [USD]
    tax_rate : float
        ISR rate. [-]
    ptu_rate : float
        PTU rate on ``max(profit, 0)``. [-]
    carryforward_years : int
        Years a loss can be carried forward. [year]
    ptu_cap_usd : array_like, shape (n_years,), optional
        Cap of each year's PTU (:func:`ptu_cap_usd`); no cap when omitted. [USD]

    Returns
    -------
    TaxResult
        Arrays of shape ``(n_draws, n_years)`` (a 1-D input gives ``n_draws = 1``).

    Notes
    -----
    For each year ``t``:

    .. math::

        PTU_t = r_{PTU} \\max(P_t, 0), \\qquad B_t = P_t - PTU_t

        B_t < 0 \\Rightarrow \\text{loss } -B_t \\text{ created (usable in } t+1 … t+10)

        B_t \\ge 0 \\Rightarrow U_t = \\min(B_t, \\text{available losses, oldest first}),
        \\quad ISR_t = r_{ISR} (B_t - U_t)

    References
    ----------
    LISR arts. 9, 57; LFT art. 117.

    Examples
    --------
    >>> r = income_tax([-100.0, 60.0, 60.0], tax_rate=0.3, ptu_rate=0.0)
    >>> r.isr_usd
    array([[0., 0., 6.]])
    """
    profit = np.asarray(taxable_profit_usd, dtype=float)
    if profit.ndim == 1:
        profit = profit[None, :]
    if profit.ndim != 2:
        raise ValueError(f"taxable_profit_usd must be 1-D or 2-D, got shape {profit.shape}")
    if not np.all(np.isfinite(profit)):
        raise ValueError("taxable_profit_usd holds NaN or infinite values")
    if not 0 <= tax_rate < 1 or not 0 <= ptu_rate < 1:
        raise ValueError(f"tax_rate and ptu_rate must be in [0, 1), got {tax_rate}, {ptu_rate}")
    if carryforward_years < 0:
        raise ValueError(f"carryforward_years must be >= 0, got {carryforward_years}")
    cap = np.full(profit.shape[1], np.inf) if ptu_cap_usd is None else np.ascontiguousarray(ptu_cap_usd, float)
    if cap.shape != (profit.shape[1],) or np.any(np.isnan(cap)) or np.any(cap < 0):
        raise ValueError(f"ptu_cap_usd must hold {profit.shape[1]} non-negative values")
    isr, ptu, used, created, expired, balance = _tax_kernel(
        np.ascontiguousarray(profit), float(tax_rate), float(ptu_rate), int(carryforward_years), 0.0, cap
    )
    return TaxResult(profit, isr, ptu, used, created, expired, balance)


def expired_losses(loss_expired_usd, years):
    """Tax losses that expired unused, as ``[{"year": t, "amount_usd": x}, …]``.

    Parameters
    ----------
    loss_expired_usd : array_like, shape (T,)
        Loss expiring at the end of each model year (LISR art. 57: ten years after the
        year it arose). [USD]
    years : array_like, shape (T,)
        Model year of each entry.

    Returns
    -------
    list of dict
        One entry per year with a positive expiry.
    """
    x = np.asarray(loss_expired_usd, dtype=float)
    return [{"year": int(y), "amount_usd": float(v)} for y, v in zip(years, x) if v > 0.0]
