"""The cash-flow waterfall and the split of distributions among equity holders.

Order of each operating year (all amounts USD):

1. CFADS (revenue − OPEX − tax) is available.
2. Senior debt service, tranche by tranche in stack order. A shortfall is met first
   from the debt service reserve account (DSRA), then by calls on the guarantees
   covering that tranche (each up to ``coverage`` × the service due); what remains is
   recorded as unpaid senior service (a payment default).
3. Guarantee fees, then reimbursement of earlier guarantee calls (guarantors rank after
   senior lenders and ahead of subordinated ones).
4. Concessional (subordinated) debt service; its shortfalls may be met by guarantees
   covering it, otherwise recorded as unpaid.
5. DSRA top-up to its target (or release of the excess, e.g. after the last senior
   payment).
6. The rest is distributable to equity; a negative rest is a cash call on equity.

Distributions are split by :func:`split_equity`: senior equity first recovers its
capital (plus its hurdle, if any), then first-loss equity, then the residual is shared by
``share``; cash calls in operation fall on first-loss equity first. So first-loss equity
absorbs shortfalls before the other holders.

The year loops run compiled (numba) over a leading draws axis; they are sequential by
nature (reserve and arrears balances carry over).
"""

from __future__ import annotations

import numpy as np

from finance.jit import njit_cached

__all__ = ["run_waterfall", "split_equity", "WaterfallResult"]


@njit_cached
def _waterfall_row(cash, start, ds, senior, n_senior, dsra_target, dsra_initial, g_cover, g_coverage,
                   g_fee_due, paid, unpaid, dsra_bal, dsra_draw, dsra_flow, calls, fees, reimb, outstanding,
                   dist, owed):
    """The waterfall of one draw: rows ``(T,)``, per-tranche rows ``(k, T)`` / ``(g, T)``.

    The output rows must hold zeros on entry; ``owed`` ``(g,)`` is scratch.
    """
    t_max = cash.shape[0]
    k = ds.shape[0]
    g = g_cover.shape[0]
    dsra = 0.0
    owed[:] = 0.0
    for t in range(t_max):
        if t == start - 1:
            dsra = dsra_initial
        if t < start:
            dsra_bal[t] = dsra
            continue
        avail = cash[t]
        for d in range(k + 1):
            if d == n_senior:
                # guarantee fees, then reimbursement of calls
                for j in range(g):
                    f = min(max(avail, 0.0), g_fee_due[j, t])
                    avail -= f
                    fees[j, t] = f
                    r = min(max(avail, 0.0), owed[j])
                    avail -= r
                    owed[j] -= r
                    reimb[j, t] = r
            if d == k:
                break
            due = ds[d, t]
            if due <= 0.0:
                continue
            pay = min(max(avail, 0.0), due)
            avail -= pay
            short = due - pay
            if short > 0.0 and senior[d]:
                x = min(dsra, short)
                dsra -= x
                short -= x
                pay += x
                dsra_draw[t] += x
            if short > 0.0:
                for j in range(g):
                    if g_cover[j] == d and short > 0.0:
                        c = min(short, g_coverage[j] * due)
                        short -= c
                        pay += c
                        owed[j] += c
                        calls[j, t] += c
            paid[d, t] = pay
            unpaid[d, t] = short
        target = dsra_target[t]
        if dsra < target:
            top = min(max(avail, 0.0), target - dsra)
            dsra += top
            avail -= top
            dsra_flow[t] = top
        elif dsra > target:
            rel = dsra - target
            dsra = target
            avail += rel
            dsra_flow[t] = -rel
        dsra_bal[t] = dsra
        for j in range(g):
            outstanding[j, t] = owed[j]
        dist[t] = avail


@njit_cached
def _waterfall_kernel(cash, start, ds, senior, dsra_target, dsra_initial, g_cover, g_coverage, g_fee_due):
    n, t_max = cash.shape
    k = ds.shape[0]
    g = g_cover.shape[0]
    paid = np.zeros((k, n, t_max))
    unpaid = np.zeros((k, n, t_max))
    dsra_bal = np.zeros((n, t_max))
    dsra_draw = np.zeros((n, t_max))
    dsra_flow = np.zeros((n, t_max))  # + top-up, - release
    calls = np.zeros((g, n, t_max))
    fees = np.zeros((g, n, t_max))
    reimb = np.zeros((g, n, t_max))
    outstanding = np.zeros((g, n, t_max))
    dist = np.zeros((n, t_max))
    n_senior = 0
    for d in range(k):
        if senior[d]:
            n_senior += 1
    owed = np.empty(g)
    for i in range(n):
        _waterfall_row(cash[i], start, ds[:, i, :], senior, n_senior, dsra_target[i], dsra_initial[i],
                       g_cover, g_coverage, g_fee_due[:, i, :], paid[:, i, :], unpaid[:, i, :], dsra_bal[i],
                       dsra_draw[i], dsra_flow[i], calls[:, i, :], fees[:, i, :], reimb[:, i, :],
                       outstanding[:, i, :], dist[i], owed)
    return paid, unpaid, dsra_bal, dsra_draw, dsra_flow, calls, fees, reimb, outstanding, dist


class WaterfallResult:
    """Arrays of the waterfall [USD]: ``paid_usd``/``unpaid_usd`` (k, n, T) per debt
    tranche; ``dsra_balance_usd``, ``dsra_draw_usd``, ``dsra_flow_usd`` (top-up +,
    release −) (n, T); ``guarantee_call_usd``, ``guarantee_fee_usd``,
    ``guarantee_reimbursement_usd``, ``guarantee_outstanding_usd`` (g, n, T);
    ``distributable_usd`` (n, T)."""

    __slots__ = (
        "paid_usd",
        "unpaid_usd",
        "dsra_balance_usd",
        "dsra_draw_usd",
        "dsra_flow_usd",
        "guarantee_call_usd",
        "guarantee_fee_usd",
        "guarantee_reimbursement_usd",
        "guarantee_outstanding_usd",
        "distributable_usd",
    )

    def __init__(self, *arrays):
        for name, a in zip(self.__slots__, arrays):
            setattr(self, name, a)


def run_waterfall(cfads_usd, *, start_year: int, debt_service_usd, senior, dsra_target_usd,
                  dsra_initial_usd, guarantee_covers, guarantee_coverage, guarantee_fee_due_usd):
    """Run the waterfall over draws and years.

    Parameters
    ----------
    cfads_usd : array (n, T)
        Cash flow available for debt service. [USD]
    start_year : int
        First operating year.
    debt_service_usd : array (k, n, T)
        Service due per debt tranche, senior tranches first. [USD]
    senior : array (k,) of bool
        Which debt tranches are senior.
    dsra_target_usd : array (n, T)
        DSRA target at each year end. [USD]
    dsra_initial_usd : array (n,)
        DSRA funded at COD (end of year ``start_year - 1``). [USD]
    guarantee_covers : array (g,) of int
        Index (into the debt axis) of the tranche each guarantee covers.
    guarantee_coverage : array (g,)
        Fraction of the service due each guarantee pays when short. [-]
    guarantee_fee_due_usd : array (g, n, T)
        Guarantee fees due. [USD]

    Returns
    -------
    WaterfallResult
    """
    cash = np.ascontiguousarray(cfads_usd, dtype=float)
    if not np.all(np.isfinite(cash)):
        raise ValueError("cfads_usd holds NaN or infinite values")
    out = _waterfall_kernel(
        cash,
        int(start_year),
        np.ascontiguousarray(debt_service_usd, dtype=float),
        np.ascontiguousarray(senior, dtype=np.bool_),
        np.ascontiguousarray(dsra_target_usd, dtype=float),
        np.ascontiguousarray(dsra_initial_usd, dtype=float),
        np.ascontiguousarray(guarantee_covers, dtype=np.int64),
        np.ascontiguousarray(guarantee_coverage, dtype=float),
        np.ascontiguousarray(guarantee_fee_due_usd, dtype=float),
    )
    return WaterfallResult(*out)


@njit_cached
def _split_row(dist, start, shares, first_loss, fl_total, hurdle, flows, pref):
    """Split of one draw's equity flow ``(T,)`` into ``flows`` ``(e, T)`` (zeros on entry);
    ``pref`` ``(e,)`` is scratch."""
    t_max = dist.shape[0]
    e = shares.shape[0]
    pref[:] = 0.0
    for t in range(t_max):
        if t > 0:
            for j in range(e):
                pref[j] *= 1.0 + hurdle[j]
        x = dist[t]
        if x < 0.0:
            call = -x
            for j in range(e):
                if t >= start and fl_total > 0.0:
                    part = call * shares[j] / fl_total if first_loss[j] else 0.0
                else:
                    part = call * shares[j]
                flows[j, t] = -part
                pref[j] += part
            continue
        for tier in range(2):
            want_fl = tier == 1
            tot = 0.0
            for j in range(e):
                if first_loss[j] == want_fl:
                    tot += pref[j]
            if tot <= 0.0 or x <= 0.0:
                continue
            pay = min(x, tot)
            for j in range(e):
                if first_loss[j] == want_fl:
                    part = pay * pref[j] / tot
                    flows[j, t] += part
                    pref[j] -= part
            x -= pay
        if x > 0.0:
            for j in range(e):
                flows[j, t] += x * shares[j]


@njit_cached
def _first_loss_total(shares, first_loss):
    total = 0.0
    for j in range(shares.shape[0]):
        if first_loss[j]:
            total += shares[j]
    return total


@njit_cached
def _split_kernel(dist, start, shares, first_loss, hurdle):
    n, t_max = dist.shape
    e = shares.shape[0]
    flows = np.zeros((e, n, t_max))
    fl_total = _first_loss_total(shares, first_loss)
    pref = np.empty(e)
    for i in range(n):
        _split_row(dist[i], start, shares, first_loss, fl_total, hurdle, flows[:, i, :], pref)
    return flows


def split_equity(distributions_usd, *, start_year: int, shares, first_loss, hurdle_rates):
    """Split equity flows among holders.

    Parameters
    ----------
    distributions_usd : array (n, T)
        Flow to all equity (negative: contributions and cash calls). [USD]
    start_year : int
        First operating year; before it contributions are pro rata by share.
    shares : array (e,)
        Equity shares (sum to one). [-]
    first_loss : array (e,) of bool
        Which holders are first-loss.
    hurdle_rates : array (e,)
        Preferred return on unreturned capital. [1/year]

    Returns
    -------
    numpy.ndarray, shape (e, n, T)
        Each holder's flow (negative = paid in). [USD]

    Notes
    -----
    The holders' flows always sum to ``distributions_usd`` (no cash is created or lost).
    """
    d = np.ascontiguousarray(np.atleast_2d(distributions_usd), dtype=float)
    if not np.all(np.isfinite(d)):
        raise ValueError("distributions_usd holds NaN or infinite values")
    return _split_kernel(
        d,
        int(start_year),
        np.ascontiguousarray(shares, dtype=float),
        np.ascontiguousarray(first_loss, dtype=np.bool_),
        np.ascontiguousarray(hurdle_rates, dtype=float),
    )
