"""Debt: sizing, sculpted and annuity repayment, interest during construction, DSRA.

Arrays run over model years (year 0 = first construction year) with an optional leading
draws axis ``(n_draws, n_years)``. Debt drawn during construction accrues interest
that is capitalized (IDC); the *principal at COD* is the balance at the end of the last
construction year (index ``start_year - 1``), and debt service is paid in the operating
years ``start_year … start_year + tenor_years - 1``: the first ``grace_years``
interest only, then repayment.

References
----------
E. R. Yescombe, *Principles of Project Finance*, 2nd ed., Academic Press (2014),
chapters on debt sizing, sculpting and reserve accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from finance.jit import njit_cached

__all__ = [
    "sculpted_debt_service",
    "annuity_debt_service",
    "construction_draws",
    "DebtSchedule",
    "debt_schedule",
    "dsra_target",
    "MONTHS_PER_YEAR",
]

#: Months in a year.
MONTHS_PER_YEAR = 12.0


def _2d(x):
    a = np.asarray(x, dtype=float)
    return a[None, :] if a.ndim == 1 else a


def _col(x, n):
    a = np.asarray(x, dtype=float)
    return np.broadcast_to(a.reshape(-1, 1) if a.ndim else a, (n, 1))


def _check_terms(n_years, start_year, tenor_years, grace_years):
    if not 1 <= start_year < n_years:
        raise ValueError(f"start_year must be in [1, {n_years - 1}], got {start_year}")
    if tenor_years < 1 or start_year + tenor_years > n_years:
        raise ValueError(
            f"tenor_years={tenor_years} from start_year={start_year} runs beyond the {n_years} model years"
        )
    if not 0 <= grace_years < tenor_years:
        raise ValueError(f"grace_years must be in [0, tenor_years), got {grace_years}")


def sculpted_debt_service(cfads_usd, target_dscr, rate, *, start_year: int, tenor_years: int,
                          grace_years: int = 0):
    """Debt service sculpted to a constant DSCR, and the debt it supports.

    Parameters
    ----------
    cfads_usd : array_like, shape (T,) or (n, T)
        Cash flow available for debt service of each model year. [USD]
    target_dscr : float or array_like, shape (n,)
        Debt service coverage ratio to hold in every repayment year; must be > 1. [-]
    rate : float or array_like, shape (n,)
        Interest rate. [1/year]
    start_year : int
        First operating year (index of COD year + 1 in model years).
    tenor_years : int
        Years of debt service, grace included.
    grace_years : int
        Interest-only years at the start.

    Returns
    -------
    repayment_service_usd : numpy.ndarray, shape (n, T)
        Sculpted debt service in the repayment years (zero elsewhere; grace-year
        interest is not included). [USD]
    principal_usd : numpy.ndarray, shape (n,)
        Principal outstanding at COD that this service repays exactly. [USD]

    Notes
    -----
    .. math::

        DS_t = \\frac{\\max(CFADS_t, 0)}{DSCR}, \\qquad
        P = \\sum_{t \\in repay} DS_t (1+r)^{-(t - t_0)}, \\quad t_0 = start + grace - 1

    During grace years the balance stays at :math:`P`, so the same :math:`P` is the
    principal at COD.

    Examples
    --------
    >>> ds, p = sculpted_debt_service([0, 130, 130], 1.3, 0.0, start_year=1, tenor_years=2)
    >>> ds, p
    (array([[  0., 100., 100.]]), array([200.]))
    """
    cf = _2d(cfads_usd)
    n, t_max = cf.shape
    _check_terms(t_max, start_year, tenor_years, grace_years)
    dscr = _col(target_dscr, n)
    if np.any(dscr <= 1):
        raise ValueError(f"target_dscr must be > 1, got {np.min(dscr)}")
    r = _col(rate, n)
    if np.any(r <= -1):
        raise ValueError("rate must be > -1")
    if not np.all(np.isfinite(cf)):
        raise ValueError("cfads_usd holds NaN or infinite values")
    t = np.arange(t_max)
    repay = (t >= start_year + grace_years) & (t < start_year + tenor_years)
    ds = np.where(repay, np.maximum(cf, 0.0) / dscr, 0.0)
    t0 = start_year + grace_years - 1
    principal = (ds * (1.0 + r) ** -(t - t0)).sum(axis=1)
    return ds, principal


def annuity_debt_service(principal_usd, rate, *, n_years: int, start_year: int, tenor_years: int,
                         grace_years: int = 0):
    """Level (annuity) repayment after an interest-only grace period.

    Parameters
    ----------
    principal_usd : float or array_like, shape (n,)
        Principal at COD. [USD]
    rate : float or array_like, shape (n,)
        Interest rate. [1/year]
    n_years, start_year, tenor_years, grace_years : int
        Model years and the loan's terms (see module notes).

    Returns
    -------
    numpy.ndarray, shape (n, n_years)
        Repayment-period service :math:`P\\,CRF(r, tenor - grace)`; zero elsewhere (grace
        interest not included). [USD]
    """
    _check_terms(n_years, start_year, tenor_years, grace_years)
    p = np.atleast_1d(np.asarray(principal_usd, float))
    r = np.broadcast_to(np.atleast_1d(np.asarray(rate, float)), p.shape)
    m = tenor_years - grace_years
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = np.where(r == 0, 1.0 / m, r / (1.0 - (1.0 + r) ** -m))
    t = np.arange(n_years)
    repay = (t >= start_year + grace_years) & (t < start_year + tenor_years)
    return np.where(repay, (p * crf)[:, None], 0.0)


def construction_draws(principal_usd, rate, capex_fractions):
    """Draws during construction that, with capitalized interest, reach a COD principal.

    Parameters
    ----------
    principal_usd : float or array_like, shape (n,)
        Balance at the end of the last construction year. [USD]
    rate : float or array_like, shape (n,)
        Interest rate. [1/year]
    capex_fractions : sequence of float, length C
        Fraction of CAPEX spent (and debt drawn, pro rata) in each construction year.

    Returns
    -------
    draws_usd : numpy.ndarray, shape (n, C)
        Debt drawn in each construction year. [USD]
    idc_usd : numpy.ndarray, shape (n, C)
        Interest capitalized in each construction year. [USD]

    Notes
    -----
    A draw in year :math:`j` accrues :math:`(1+r)^{C-1-j}` by the end of year
    :math:`C-1`; a one-year construction therefore has no IDC (the first operating year's
    service pays the first year of interest).
    """
    p = np.atleast_1d(np.asarray(principal_usd, float))
    r = np.broadcast_to(np.atleast_1d(np.asarray(rate, float)), p.shape)
    s = np.asarray(capex_fractions, float)
    c = s.size
    growth = (1.0 + r[:, None]) ** (c - 1 - np.arange(c))
    total_draw = p / (s * growth).sum(axis=1)
    draws = total_draw[:, None] * s
    bal = np.cumsum(draws * (1.0 + r[:, None]) ** -np.arange(c), axis=1) * (1.0 + r[:, None]) ** np.arange(c)
    opening = np.concatenate([np.zeros((p.size, 1)), bal[:, :-1]], axis=1)
    idc = r[:, None] * opening
    return draws, idc


@dataclass(frozen=True)
class DebtSchedule:
    """A loan's year-by-year lines, arrays ``(n, n_years)`` [USD].

    Attributes
    ----------
    draw_usd : debt drawn (construction years).
    idc_usd : interest capitalized during construction.
    interest_usd : interest due in operating years.
    principal_usd : principal repaid in operating years.
    debt_service_usd : interest + principal due.
    balance_usd : closing balance of each year.
    principal_at_cod_usd : array (n,), balance at the end of construction.
    """

    draw_usd: np.ndarray
    idc_usd: np.ndarray
    interest_usd: np.ndarray
    principal_usd: np.ndarray
    debt_service_usd: np.ndarray
    balance_usd: np.ndarray
    principal_at_cod_usd: np.ndarray


def debt_schedule(principal_at_cod_usd, repayment_service_usd, rate, *, start_year: int,
                  tenor_years: int, grace_years: int, capex_fractions) -> DebtSchedule:
    """Complete schedule of a loan from its COD principal and repayment service.

    Parameters
    ----------
    principal_at_cod_usd : array_like, shape (n,)
        Balance at the end of construction. [USD]
    repayment_service_usd : array_like, shape (n, T)
        Service of the repayment years whose present value at the end of grace equals
        the principal (as returned by :func:`sculpted_debt_service` or
        :func:`annuity_debt_service`, possibly scaled with the principal). [USD]
    rate : float or array_like, shape (n,)
        Interest rate. [1/year]
    start_year, tenor_years, grace_years : int
        Terms.
    capex_fractions : sequence of float
        Construction spending profile (length ``start_year``).

    Returns
    -------
    DebtSchedule
    """
    ds = np.ascontiguousarray(_2d(repayment_service_usd))
    n, t_max = ds.shape
    _check_terms(t_max, start_year, tenor_years, grace_years)
    p = np.ascontiguousarray(np.broadcast_to(np.atleast_1d(np.asarray(principal_at_cod_usd, float)), (n,)))
    r = np.ascontiguousarray(np.broadcast_to(np.atleast_1d(np.asarray(rate, float)), (n,)))
    fractions = np.ascontiguousarray(capex_fractions, dtype=float)
    if fractions.shape != (start_year,):
        raise ValueError(f"capex_fractions must hold start_year={start_year} values, got {fractions.size}")
    draw, idc, balance, interest, service, principal = _schedule_kernel(p, ds, r, fractions, start_year,
                                                                         tenor_years, grace_years)
    return DebtSchedule(
        draw_usd=draw,
        idc_usd=idc,
        interest_usd=interest,
        principal_usd=principal,
        debt_service_usd=service,
        balance_usd=balance,
        principal_at_cod_usd=p.copy(),
    )


@njit_cached
def _construction_growth(rate, fractions, dpow, gpow):
    """Powers of ``1 + rate`` for the construction draws; returns ``sum_j s_j (1+r)^(C-1-j)``."""
    c = fractions.shape[0]
    growth = 1.0 + rate
    total = 0.0
    for j in range(c):
        dpow[j] = growth ** (-j)
        gpow[j] = growth ** j
        total += fractions[j] * growth ** (c - 1 - j)
    return total


@njit_cached
def _construction_row(p, rate, fractions, draws, idc, balance, dpow, gpow):
    """Construction draws and capitalized interest reaching the COD principal ``p``.

    Writes ``draws`` and ``idc`` ``(C,)`` and the closing balances of the construction
    years before the last into ``balance`` (the last one is ``p``); see
    :func:`construction_draws` for the equations. ``dpow`` and ``gpow`` are scratch.
    """
    c = fractions.shape[0]
    total_draw = p / _construction_growth(rate, fractions, dpow, gpow)
    acc = 0.0
    prev = 0.0
    built = 0.0
    for j in range(c):
        draws[j] = total_draw * fractions[j]
        acc += draws[j] * dpow[j]
        idc[j] = rate * prev  # interest on the opening balance, capitalized
        prev = acc * gpow[j]
        built += draws[j] + idc[j]
        if j < c - 1:
            balance[j] = built


@njit_cached
def _idc_per_unit(rate, fractions):
    """Interest capitalized in each construction year per unit of COD principal. [-]"""
    c = fractions.shape[0]
    draws = np.empty(c)
    idc = np.empty(c)
    balance = np.empty(c)
    dpow = np.empty(c)
    gpow = np.empty(c)
    _construction_row(1.0, rate, fractions, draws, idc, balance, dpow, gpow)
    return idc


@njit_cached
def _schedule_row(p, ds, rate, fractions, start, tenor, grace, balance, interest, service, draws, idc, dpow,
                  gpow):
    """One loan of one draw (rows ``(T,)``; ``draws``, ``idc`` ``(C,)``), as :func:`debt_schedule`.

    ``balance``, ``interest`` and ``service`` must hold zeros on entry; ``dpow`` and
    ``gpow`` ``(C,)`` are scratch.
    """
    _construction_row(p, rate, fractions, draws, idc, balance, dpow, gpow)
    growth = 1.0 + rate
    end = start + tenor  # first year after the tenor
    repay0 = start + grace  # first repayment year
    # repayment years: balance = PV of the service still to come
    b = 0.0
    for t in range(end - 1, repay0 - 1, -1):
        balance[t] = b
        b = (b + ds[t]) / growth
    for t in range(start - 1, repay0):  # end of construction and grace years
        balance[t] = p
    for t in range(start, end):
        due = rate * balance[t - 1]
        interest[t] = due
        service[t] = due if t < repay0 else ds[t]


@njit_cached
def _schedule_kernel(principal_cod, ds, rate, fractions, start, tenor, grace):
    """Draws, IDC, balance, interest, service and principal lines of :func:`debt_schedule`."""
    n, t_max = ds.shape
    c = fractions.shape[0]
    draw = np.zeros((n, t_max))
    idc = np.zeros((n, t_max))
    balance = np.zeros((n, t_max))
    interest = np.zeros((n, t_max))
    service = np.zeros((n, t_max))
    principal = np.zeros((n, t_max))
    dpow = np.empty(c)
    gpow = np.empty(c)
    for i in range(n):
        _schedule_row(principal_cod[i], ds[i], rate[i], fractions, start, tenor, grace, balance[i], interest[i],
                      service[i], draw[i, :c], idc[i, :c], dpow, gpow)
        for t in range(start, start + tenor):
            principal[i, t] = service[i, t] - interest[i, t]
    return draw, idc, balance, interest, service, principal


def dsra_target(senior_debt_service_usd, months: float):
    """Debt service reserve target: ``months`` of the *next* year's senior debt service.

    Parameters
    ----------
    senior_debt_service_usd : array_like, shape (n, T)
        Scheduled senior debt service. [USD]
    months : float
        Reserve size. [months]

    Returns
    -------
    numpy.ndarray, shape (n, T)
        Target balance at the end of each year. [USD]
    """
    if months < 0:
        raise ValueError(f"dsra months must be >= 0, got {months}")
    ds = _2d(senior_debt_service_usd)
    nxt = np.concatenate([ds[:, 1:], np.zeros((ds.shape[0], 1))], axis=1)
    return nxt * (months / MONTHS_PER_YEAR)
