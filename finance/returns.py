"""Time value of money: NPV, IRR (vectorized), payback.

Sign and period conventions follow numpy-financial: outflows are negative, ``values[..., 0]``
is period 0 and is not discounted. Every function accepts a 1-D flow vector or a stack
``(n_draws, n_periods)`` and works along the last axis.

An IRR that does not exist (flows with no sign change) or that the solver cannot find is
never a silent NaN: :func:`irr` returns NaN *and* :func:`irr_defined` / :func:`irr_report`
say why, and the case result reports ``None`` with the reason.
"""

from __future__ import annotations

import numpy as np

from finance.jit import njit_cached

__all__ = [
    "npv",
    "irr",
    "irr_report",
    "IRR_TOLERANCE",
    "IRR_MAX_ITERATIONS",
    "IRR_REASON_NO_SIGN_CHANGE",
    "IRR_REASON_NOT_FOUND",
    "payback_years",
    "mirr",
    "sign_changes",
    "irr_roots",
]

#: Newton stops when the rate moves less than this. [1/year]
IRR_TOLERANCE = 1e-13
#: Newton iterations before the bracketed fallback.
IRR_MAX_ITERATIONS = 50
#: Newton's rate is accepted when |NPV| at it is below this fraction of sum |v_t|. [-]
IRR_RESIDUAL_TOLERANCE = 1e-9
#: Step of the fallback scan for a sign change, in u = ln(1 + r). [-]
IRR_SCAN_STEP = 1.0 / 64.0
#: The fallback scans |ln(1 + r)| up to this (e^700 is near the largest float). [-]
IRR_LOG_BOUND = 700.0
#: Reason reported when flows never change sign.
IRR_REASON_NO_SIGN_CHANGE = "undefined: the cash flows never change sign"
#: Reason reported when no root was found.
IRR_REASON_NOT_FOUND = "undefined: no rate above -100 % makes the NPV zero"


def npv(rate, values):
    """Net present value, numpy-financial convention.

    Parameters
    ----------
    rate : float or array_like, shape (n,)
        Discount rate per period. [1/period]
    values : array_like, shape (T,) or (n, T)
        Cash flows, ``values[..., 0]`` at period 0. [currency]

    Returns
    -------
    float or numpy.ndarray, shape (n,)
        :math:`\\sum_t v_t / (1+r)^t`. [currency]

    Examples
    --------
    >>> round(npv(0.1, [-100, 60, 60]), 6)
    4.132231
    """
    v = np.asarray(values, dtype=float)
    r = np.asarray(rate, dtype=float)
    if r.ndim > 1:
        raise ValueError(f"rate must be a scalar or 1-D, got shape {r.shape}")
    t = np.arange(v.shape[-1])
    if r.ndim == 0:  # one rate: discount factors once, then a matrix-vector product
        out = v @ ((1.0 + r) ** -t)
    else:
        out = (v * (1.0 + r[..., None]) ** -t).sum(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def _sign_change(v):
    return np.any(v > 0, axis=-1) & np.any(v < 0, axis=-1)


def irr(values, *, guess: float = 0.1):
    """Internal rate of return, vectorized over a leading axis.

    Parameters
    ----------
    values : array_like, shape (T,) or (n, T)
        Cash flows, ``values[..., 0]`` at period 0. [currency]
    guess : float
        Starting rate for Newton's method; must be > -1. [1/period]

    Returns
    -------
    float or numpy.ndarray, shape (n,)
        The rate ``r > -1`` with ``npv(r, values) = 0``; NaN where none exists (see
        :func:`irr_report` for the reason). [1/period]

    Notes
    -----
    Each row is solved by a compiled kernel (one call for all rows):

    1. Newton's method on :math:`f(r) = \\sum_t v_t x^t`, :math:`x = (1+r)^{-1}`
       (Horner's rule), from ``guess``; the rate is accepted when the step falls below
       :data:`IRR_TOLERANCE` and :math:`|f| \\le` :data:`IRR_RESIDUAL_TOLERANCE`
       :math:`\\sum_t |v_t|`.
    2. Otherwise (Newton left ``r > -1``, diverged or stalled), a bracketed search on
       :math:`u = \\ln(1+r)`, which covers the whole domain :math:`r > -1`: every
       positive root :math:`x` of the polynomial lies within Cauchy's bounds
       :math:`[1/(1 + \\max_{t>m} |v_t/v_m|),\\ 1 + \\max_{t<d} |v_t/v_d|]` (``m``,
       ``d`` the first and last non-zero periods), which are scanned from
       :math:`u = 0` outwards in steps of :data:`IRR_SCAN_STEP` for the sign change
       nearest to zero on each side; the bracket is bisected to machine precision and
       the root with the smaller :math:`|r|` is returned (numpy-financial's choice).
       :math:`f` is evaluated as :math:`\\sum v_t x^t` for :math:`x \\le 1` and as
       :math:`\\sum v_t x^{t-T+1}` for :math:`x > 1` (same sign, no overflow).

    For flows with one sign change the root is unique (Descartes' rule of signs) and
    equals ``numpy_financial.irr``; with several roots Newton's answer is the one it
    reaches from ``guess`` (numpy-financial returns the one closest to zero). Two roots
    closer together than the scan step, or a root of even multiplicity, that Newton
    does not reach are not found (NaN, reported as not found).

    Examples
    --------
    >>> round(irr([-100, 60, 60]), 10)
    0.1306623863
    >>> round(irr([-5001.0, 0.5, 0.0]), 8)  # 1 + r = 0.5 / 5001
    -0.99990002
    """
    v = np.asarray(values, dtype=float)
    scalar = v.ndim == 1
    v2 = np.atleast_2d(v)
    if v2.ndim != 2:
        raise ValueError(f"values must be 1-D or 2-D, got shape {v.shape}")
    if v2.shape[1] < 1:
        raise ValueError("values must hold at least one period")
    if not np.all(np.isfinite(v2)):
        raise ValueError("values hold NaN or infinite cash flows")
    if not (np.isfinite(guess) and guess > -1.0):
        raise ValueError(f"guess must be a finite rate > -1, got {guess}")
    rates = _irr_kernel(np.ascontiguousarray(v2), float(guess), IRR_TOLERANCE, IRR_MAX_ITERATIONS,
                        IRR_RESIDUAL_TOLERANCE, IRR_SCAN_STEP, IRR_LOG_BOUND)
    return float(rates[0]) if scalar else rates


@njit_cached
def _horner(row, x):
    """f(x) = sum v_t x^t and f'(x), by Horner's rule."""
    t_max = row.shape[0]
    f = row[t_max - 1]
    g = 0.0
    for t in range(t_max - 2, -1, -1):
        g = g * x + f
        f = f * x + row[t]
    return f, g


@njit_cached
def _sign_at(row, u):
    """Sign of f at x = exp(-u), evaluated without overflow."""
    t_max = row.shape[0]
    if u >= 0.0:
        x = np.exp(-u)
        f = row[t_max - 1]
        for t in range(t_max - 2, -1, -1):
            f = f * x + row[t]
    else:
        y = np.exp(u)  # f(x) / x^(T-1) = sum v_t y^(T-1-t)
        f = row[0]
        for t in range(1, t_max):
            f = f * y + row[t]
    if f > 0.0:
        return 1
    if f < 0.0:
        return -1
    return 0


@njit_cached
def _bracket_root(row, u0, u_end, step):
    """Root of f nearest to u0 on [u0, u_end] (either direction); NaN when none."""
    s0 = _sign_at(row, u0)
    if s0 == 0:
        return u0
    n_steps = int(np.ceil(abs(u_end - u0) / step))
    direction = 1.0 if u_end > u0 else -1.0
    a = u0
    for k in range(1, n_steps + 1):
        b = u0 + direction * k * step
        if direction * (b - u_end) > 0.0:
            b = u_end
        s = _sign_at(row, b)
        if s == 0:
            return b
        if s != s0:
            for _ in range(200):  # bisection to float resolution
                mid = 0.5 * (a + b)
                if mid == a or mid == b:
                    break
                sm = _sign_at(row, mid)
                if sm == 0:
                    return mid
                if sm == s0:
                    a = mid
                else:
                    b = mid
            return 0.5 * (a + b)
        a = b
    return np.nan


@njit_cached
def _irr_scan(row, step, log_bound):
    t_max = row.shape[0]
    m = 0
    while row[m] == 0.0:
        m += 1
    d = t_max - 1
    while row[d] == 0.0:
        d -= 1
    hi_ratio = 0.0  # Cauchy bound of the largest positive root x
    for t in range(m, d):
        hi_ratio = max(hi_ratio, abs(row[t]) / abs(row[d]))
    lo_ratio = 0.0  # same for the reversed polynomial (smallest root)
    for t in range(m + 1, d + 1):
        lo_ratio = max(lo_ratio, abs(row[t]) / abs(row[m]))
    u_min = -min(np.log1p(hi_ratio), log_bound)  # x large: r close to -1
    u_max = min(np.log1p(lo_ratio), log_bound)  # x small: r large
    u_pos = _bracket_root(row, 0.0, u_max, step)
    u_neg = _bracket_root(row, 0.0, u_min, step)
    r_pos = np.expm1(u_pos)
    r_neg = np.expm1(u_neg)
    if np.isnan(r_pos):
        return r_neg
    if np.isnan(r_neg):
        return r_pos
    return r_pos if abs(r_pos) <= abs(r_neg) else r_neg


@njit_cached
def _irr_row(row, guess, tol, max_iter, residual_tol, step, log_bound):
    """IRR of one flow row (see :func:`irr`): Newton, then the bracketed scan; NaN if none."""
    t_max = row.shape[0]
    has_pos = False
    has_neg = False
    scale = 0.0
    for t in range(t_max):
        if row[t] > 0.0:
            has_pos = True
        elif row[t] < 0.0:
            has_neg = True
        scale += abs(row[t])
    if not (has_pos and has_neg):
        return np.nan
    # 1. Newton on r
    r = guess
    ok = True
    converged = False
    f = np.inf
    for _ in range(max_iter):
        x = 1.0 / (1.0 + r)
        f, g = _horner(row, x)
        df = -g * x * x  # d/dr of f(1/(1+r))
        step_r = f / df
        new = r - step_r
        if not np.isfinite(new) or new <= -1.0:
            ok = False
            break
        converged = abs(step_r) < tol * max(1.0, abs(r))
        r = new
        if converged:
            break
    if ok:
        if not converged:
            f, _ = _horner(row, 1.0 / (1.0 + r))
        # when converged, f is the NPV one (tiny) step before r: |NPV(r)| is smaller
        if abs(f) < residual_tol * scale:
            return r
    # 2. bracketed search over the whole domain r > -1
    return _irr_scan(row, step, log_bound)


@njit_cached
def _irr_kernel(v, guess, tol, max_iter, residual_tol, step, log_bound):
    n = v.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = _irr_row(v[i], guess, tol, max_iter, residual_tol, step, log_bound)
    return out


def irr_report(values, *, guess: float = 0.1):
    """IRR of one flow vector as ``(rate or None, reason or None)``.

    Parameters
    ----------
    values : array_like, shape (T,)
        Cash flows. [currency]

    Returns
    -------
    tuple
        ``(rate, None)`` when the IRR exists, ``(None, reason)`` otherwise; never NaN.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"irr_report takes one flow vector, got shape {v.shape}")
    if not _sign_change(v[None, :])[0]:
        return None, IRR_REASON_NO_SIGN_CHANGE
    rate = irr(v, guess=guess)
    if not np.isfinite(rate):
        return None, IRR_REASON_NOT_FOUND
    return float(rate), None


def irr_reasons(values):
    """Reason per row for the NaN rows of :func:`irr` (None where the IRR exists)."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    rates = irr(v)
    out = []
    sc = _sign_change(v)
    for ok, r in zip(sc, rates):
        if not ok:
            out.append(IRR_REASON_NO_SIGN_CHANGE)
        elif not np.isfinite(r):
            out.append(IRR_REASON_NOT_FOUND)
        else:
            out.append(None)
    return out


def mirr(values, finance_rate, reinvest_rate):
    """Modified internal rate of return, numpy-financial's formula, vectorized.

    Parameters
    ----------
    values : array_like, shape (T,) or (n, T)
        Cash flows, ``values[..., 0]`` at period 0. [currency]
    finance_rate : float
        Rate paid on the money put in (outflows are discounted to period 0 at it). [1/period]
    reinvest_rate : float
        Rate earned on the money taken out (inflows are compounded to the last period at
        it). [1/period]

    Returns
    -------
    float or numpy.ndarray, shape (n,)
        NaN where the flows do not hold both signs. [1/period]

    Notes
    -----
    .. math::

        MIRR = \\left(\\frac{|NPV(r_{re}, v^+)|}{|NPV(r_{fi}, v^-)|}\\right)^{1/(T-1)}
               (1 + r_{re}) - 1

    Unlike the IRR it is unique whatever the number of sign changes.

    References
    ----------
    numpy-financial ``mirr``; R. A. Brealey, S. C. Myers, F. Allen, *Principles of
    Corporate Finance*, McGraw-Hill, chapter on the IRR's pitfalls.

    Examples
    --------
    >>> round(mirr([-100, 230, -132], 0.08, 0.12), 10)
    0.0992872384
    """
    v = np.asarray(values, dtype=float)
    scalar = v.ndim == 1
    v2 = np.atleast_2d(v)
    if v2.ndim != 2 or v2.shape[1] < 2:
        raise ValueError(f"values must be 1-D or 2-D with at least two periods, got shape {v.shape}")
    if not np.all(np.isfinite(v2)):
        raise ValueError("values hold NaN or infinite cash flows")
    for name, r in (("finance_rate", finance_rate), ("reinvest_rate", reinvest_rate)):
        if not (np.isfinite(r) and r > -1.0):
            raise ValueError(f"{name} must be a finite rate > -1, got {r}")
    n_periods = v2.shape[1]
    t = np.arange(n_periods)
    numer = np.abs(np.maximum(v2, 0.0) @ ((1.0 + float(reinvest_rate)) ** -t))  # npv of inflows
    denom = np.abs(np.minimum(v2, 0.0) @ ((1.0 + float(finance_rate)) ** -t))  # npv of outflows
    ok = (numer > 0) & (denom > 0)
    out = np.full(v2.shape[0], np.nan)
    with np.errstate(over="ignore"):  # an overflow is an infinite MIRR, reported as such
        out[ok] = (numer[ok] / denom[ok]) ** (1.0 / (n_periods - 1)) * (1.0 + reinvest_rate) - 1.0
    return float(out[0]) if scalar else out


def sign_changes(values) -> int:
    """Number of sign changes of a flow vector, zeros skipped (Descartes' rule of signs).

    The number of IRRs (positive roots of the NPV polynomial in :math:`1/(1+r)`) is this
    number or less by an even number.

    Examples
    --------
    >>> sign_changes([-100, 0, 230, -132])
    2
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"sign_changes takes one flow vector, got shape {v.shape}")
    s = np.sign(v[v != 0])
    return int(np.count_nonzero(s[1:] != s[:-1]))


def _signs_on_grid(row, u):
    """Sign of the NPV at x = exp(-u) for every u of a grid, without overflow."""
    out = np.empty(u.shape)
    hi = u >= 0
    if hi.any():
        out[hi] = np.sign(np.polyval(row[::-1], np.exp(-u[hi])))
    if (~hi).any():  # f(x) / x^(T-1) = sum v_t y^(T-1-t), y = exp(u)
        out[~hi] = np.sign(np.polyval(row, np.exp(u[~hi])))
    return out


def irr_roots(values, *, step: float = IRR_SCAN_STEP, log_bound: float = IRR_LOG_BOUND) -> list:
    """Every rate ``r > -1`` at which the NPV of a flow vector is zero, ascending.

    Parameters
    ----------
    values : array_like, shape (T,)
        Cash flows, ``values[0]`` at period 0. [currency]
    step : float
        Grid step in :math:`u = \\ln(1+r)`. [-]
    log_bound : float
        Largest :math:`|u|` scanned. [-]

    Returns
    -------
    list of float
        The rates. [1/period]

    Notes
    -----
    With one sign change the root is unique (Descartes) and is :func:`irr`'s. Otherwise
    the NPV's sign is evaluated on a grid of ``u`` over Cauchy's bounds of the roots (as
    :func:`irr`'s fallback does) and every bracket is bisected to float resolution; the
    root :func:`irr` returns is added if the grid missed it. Two roots closer than
    ``step`` in ``u``, or a root of even multiplicity that :func:`irr` does not reach,
    are not found.

    Examples
    --------
    >>> [round(r, 6) for r in irr_roots([-100, 230, -132])]
    [0.1, 0.2]
    """
    v = np.asarray(values, dtype=float)
    changes = sign_changes(v)
    if changes == 0:
        return []
    main = irr(v)
    if changes == 1:
        return [float(main)] if np.isfinite(main) else []
    nz = np.nonzero(v)[0]
    row = v[nz[0]:nz[-1] + 1]
    hi_ratio = np.max(np.abs(row[:-1]) / abs(row[-1]))
    lo_ratio = np.max(np.abs(row[1:]) / abs(row[0]))
    u_min = -min(np.log1p(hi_ratio), log_bound)
    u_max = min(np.log1p(lo_ratio), log_bound)
    grid = np.concatenate([-np.arange(0.0, -u_min + step, step)[::-1], np.arange(step, u_max + step, step)])
    signs = _signs_on_grid(row, grid)
    roots = [float(grid[i]) for i in np.nonzero(signs == 0)[0]]
    for i in np.nonzero((signs[:-1] * signs[1:]) < 0)[0]:
        a, b = float(grid[i]), float(grid[i + 1])
        sa = signs[i]
        for _ in range(200):
            mid = 0.5 * (a + b)
            if mid in (a, b):
                break
            sm = _sign_at(row, mid)
            if sm == 0:
                a = b = mid
                break
            if sm == sa:
                a = mid
            else:
                b = mid
        roots.append(0.5 * (a + b))
    rates = sorted(float(np.expm1(u)) for u in roots)
    if np.isfinite(main) and all(abs(main - r) > 1e-9 * max(1.0, abs(r)) for r in rates):
        rates = sorted(rates + [float(main)])
    return rates


def payback_years(values):
    """Simple payback: years from period 0 until cumulative flows turn non-negative.

    Parameters
    ----------
    values : array_like, shape (T,) or (n, T)
        Cash flows. [currency]

    Returns
    -------
    float or numpy.ndarray
        Fractional years (linear within the crossing year); NaN where the cumulative flow
        never recovers. [year]

    Examples
    --------
    >>> round(payback_years([-100, 60, 60]), 6)
    1.666667
    """
    v = np.asarray(values, dtype=float)
    scalar = v.ndim == 1
    v2 = np.atleast_2d(v)
    cum = np.cumsum(v2, axis=1)
    neg = cum < 0
    # last period with negative cumulative flow
    any_neg = neg.any(axis=1)
    last_neg = v2.shape[1] - 1 - np.argmax(neg[:, ::-1], axis=1)
    recovered = any_neg & (last_neg < v2.shape[1] - 1)
    out = np.full(v2.shape[0], np.nan)
    idx = np.nonzero(recovered)[0]
    k = last_neg[idx]
    flow_next = v2[idx, k + 1]
    out[idx] = k + (-cum[idx, k]) / flow_next
    out[~any_neg] = 0.0
    return float(out[0]) if scalar else out
