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

__all__ = [
    "npv",
    "irr",
    "irr_report",
    "IRR_TOLERANCE",
    "IRR_MAX_ITERATIONS",
    "IRR_REASON_NO_SIGN_CHANGE",
    "IRR_REASON_NOT_FOUND",
    "payback_years",
]

#: Newton stops when the rate moves less than this. [1/year]
IRR_TOLERANCE = 1e-13
#: Newton iterations before the bisection fallback.
IRR_MAX_ITERATIONS = 50
#: Bracket searched by the bisection fallback. [1/year]
IRR_BRACKET = (-0.9999, 100.0)
#: Reason reported when flows never change sign.
IRR_REASON_NO_SIGN_CHANGE = "undefined: the cash flows never change sign"
#: Reason reported when no root was found in the bracket.
IRR_REASON_NOT_FOUND = "undefined: no rate in (-99.99 %, 10000 %) makes the NPV zero"


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
    disc = (1.0 + r[..., None]) ** -t
    out = (v * disc).sum(axis=-1)
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
        Starting rate for Newton's method. [1/period]

    Returns
    -------
    float or numpy.ndarray, shape (n,)
        The rate ``r > -1`` with ``npv(r, values) = 0``; NaN where none exists (see
        :func:`irr_report` for the reason). [1/period]

    Notes
    -----
    Newton's method on :math:`f(r) = \\sum_t v_t (1+r)^{-t}` for all rows at once,
    then bisection on :data:`IRR_BRACKET` for rows Newton did not settle. For flows with
    one sign change the root is unique and equals ``numpy_financial.irr``; with several
    roots this returns the one Newton reaches from ``guess`` (numpy-financial returns
    the one closest to zero).

    Examples
    --------
    >>> round(irr([-100, 60, 60]), 10)
    0.1306623863
    """
    v = np.asarray(values, dtype=float)
    scalar = v.ndim == 1
    v2 = np.atleast_2d(v)
    if v2.ndim != 2:
        raise ValueError(f"values must be 1-D or 2-D, got shape {v.shape}")
    if not np.all(np.isfinite(v2)):
        raise ValueError("values hold NaN or infinite cash flows")
    rates = _irr_rows(v2, guess)
    return float(rates[0]) if scalar else rates


def _irr_rows(v, guess):
    n, t_max = v.shape
    t = np.arange(t_max, dtype=float)
    ok = _sign_change(v)
    scale = np.abs(v).sum(axis=1)
    scale[scale == 0] = 1.0
    r = np.full(n, guess)
    active = ok.copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _newton(v, t, r, active)
    # verify: residual small relative to the flows' scale
    good = ok & np.isfinite(r) & (r > -1.0)
    if good.any():
        idx = np.nonzero(good)[0]
        with np.errstate(over="ignore", invalid="ignore"):
            res = np.abs((v[idx] * (1.0 + r[idx, None]) ** -t).sum(axis=1)) / scale[idx]
        good[idx] = res < 1e-9
    fallback = ok & ~good
    if fallback.any():
        with np.errstate(over="ignore", invalid="ignore"):
            r[fallback] = _bisect_rows(v[fallback], t)
    r[~ok] = np.nan
    return r


#: Above this many cells Newton evaluates the polynomial by Horner's rule (a loop over
#: periods of vector operations), below it by powers (fewer, larger numpy calls).
_HORNER_MIN_CELLS = 4096


def _newton(v, t, r, active):
    horner = v.size >= _HORNER_MIN_CELLS
    vt = v * t
    cols = np.ascontiguousarray(v.T)
    for _ in range(IRR_MAX_ITERATIONS):
        x = 1.0 / (1.0 + r)
        if horner:
            # f(x) = sum v_t x^t and f'(x) = sum t v_t x^(t-1) by Horner's rule
            f = cols[-1].copy()
            g = np.zeros_like(f)
            for row in cols[-2::-1]:
                g *= x
                g += f
                f *= x
                f += row
            df = -g * x * x  # d/dr of f(1/(1+r))
        else:
            powers = x[:, None] ** t
            f = np.einsum("ij,ij->i", v, powers)
            df = -np.einsum("ij,ij->i", vt, powers) * x
        step = f / df
        new = r - step
        bad = ~np.isfinite(new) | (new <= -1.0)
        step_ok = np.abs(step) < IRR_TOLERANCE * np.maximum(1.0, np.abs(r))
        r[active] = np.where(bad, np.nan, new)[active]
        active &= ~step_ok & ~bad
        if not active.any():
            break


def _bisect_rows(v, t):
    lo = np.full(v.shape[0], IRR_BRACKET[0])
    hi = np.full(v.shape[0], IRR_BRACKET[1])

    def f(r):
        # scaled to avoid overflow at r close to -1
        return (v * np.exp(-t * np.log1p(r)[:, None])).sum(axis=1)

    f_lo, f_hi = f(lo), f(hi)
    found = np.sign(f_lo) != np.sign(f_hi)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
        if np.all(hi - lo < IRR_TOLERANCE):
            break
    out = 0.5 * (lo + hi)
    out[~found] = np.nan
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
