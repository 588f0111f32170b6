"""Exchange-rate paths against the US dollar.

A path gives, for each model year, the units of a currency one US dollar buys
(``MXN/USD``, ``CAD/USD``). The model computes in USD; a tranche denominated in another
currency converts its flows year by year with its path, so each investor's returns come
out in its own currency.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fx_path", "flat_path", "parity_path"]


def flat_path(spot_per_usd, n_years: int):
    """The spot rate held in every year. [currency/USD]"""
    if n_years < 1:
        raise ValueError(f"n_years must be >= 1, got {n_years}")
    spot = float(spot_per_usd)
    if not spot > 0:
        raise ValueError(f"spot_per_usd must be > 0, got {spot}")
    return np.full(n_years, spot)


def parity_path(spot_per_usd, interest_rate, usd_interest_rate, n_years: int):
    """Forward rates by covered interest-rate parity.

    Parameters
    ----------
    spot_per_usd : float
        Spot rate at year 0. [currency/USD]
    interest_rate : float
        The currency's interest rate. [1/year]
    usd_interest_rate : float
        The US dollar interest rate. [1/year]
    n_years : int
        Model years.

    Returns
    -------
    numpy.ndarray, shape (n_years,)
        :math:`F_t = S\\,((1+i_{ccy})/(1+i_{USD}))^t`. [currency/USD]

    Examples
    --------
    >>> parity_path(20.0, 0.10, 0.05, 3).round(4)
    array([20.    , 20.9524, 21.9501])
    """
    base = flat_path(spot_per_usd, n_years)
    if interest_rate <= -1 or usd_interest_rate <= -1:
        raise ValueError("interest rates must be > -1")
    t = np.arange(n_years)
    return base * ((1.0 + interest_rate) / (1.0 + usd_interest_rate)) ** t


def fx_path(spec, n_years: int):
    """Path of one currency from its :class:`finance.inputs.FxPathInputs`.

    Returns
    -------
    numpy.ndarray, shape (n_years,)
        [currency/USD]
    """
    if spec.mode == "flat":
        return flat_path(spec.spot_per_usd, n_years)
    if spec.mode == "parity":
        return parity_path(spec.spot_per_usd, spec.interest_rate, spec.usd_interest_rate, n_years)
    if spec.mode == "path":
        p = np.asarray(spec.path_per_usd, dtype=float)
        if p.size >= n_years:
            return p[:n_years].copy()
        return np.concatenate([p, np.full(n_years - p.size, p[-1])])
    raise ValueError(f"fx mode must be flat, parity or path, got {spec.mode!r}")
