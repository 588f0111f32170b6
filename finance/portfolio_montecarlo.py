"""Monte Carlo of the fund's IRR: every project's finance case drawn at once, with the
projects' energy correlated, rolled up to the fund and through its waterfall.

Each project's draws are the finance engine's own (:func:`finance.montecarlo.draw_drivers`
for price, CAPEX, OPEX and FX, evaluated by :func:`finance.cashflow.simulate`, debt sized
per draw), except the energy factor, which is replaced by the portfolio's correlated
factor (:func:`finance.portfolio_risk.energy_factor_draws`) so that projects sharing a
model, a weather file or a region move together. The fund's flows of a draw are summed
over holdings, pass through :func:`finance.portfolio.fund_waterfall` and give the LPs'
net IRR and multiple of that draw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from finance.cashflow import Drivers, simulate
from finance.inputs import CaseInputs
from finance.montecarlo import PERCENTILES, MonteCarloSpec, draw_drivers
from finance.portfolio import WaterfallTerms, fund_cash_flows, fund_waterfall
from finance.returns import irr

__all__ = ["Holding", "portfolio_montecarlo", "percentiles"]


@dataclass(frozen=True)
class Holding:
    """The fund's share of one tranche of one project's case.

    Parameters
    ----------
    case : CaseInputs
    tranche : str
        Name of the tranche held (equity or debt).
    share : float
        Fraction of the tranche's flows the fund holds (0–1]. [-]
    offset : int
        Calendar index of the case's model year 0.
    asset_index : int
        Column of this project in the energy-factor draws.
    price_sigma, capex_sigma, opex_sigma : float
        This project's spreads (its own Monte Carlo spec's, see
        :class:`finance.montecarlo.MonteCarloSpec`). [-]
    """

    case: CaseInputs
    tranche: str
    share: float
    offset: int
    asset_index: int
    price_sigma: float = 0.0
    capex_sigma: float = 0.0
    opex_sigma: float = 0.0

    def __post_init__(self):
        if not (0.0 < self.share <= 1.0):
            raise ValueError(f"share must be in (0, 1], got {self.share}")
        if self.tranche not in {t.name for t in self.case.tranches}:
            raise ValueError(f"tranche {self.tranche!r} is not a tranche of the case")
        if self.offset < 0:
            raise ValueError(f"offset must be >= 0, got {self.offset}")


def percentiles(values: np.ndarray) -> dict | None:
    """Percentiles (:data:`finance.montecarlo.PERCENTILES`) and mean of the finite values."""
    a = np.asarray(values, dtype=float)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return None
    return {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(a, PERCENTILES))} | {
        "mean": float(a.mean())}


def portfolio_montecarlo(holdings: Sequence[Holding], energy_factors: np.ndarray,
                         spec: MonteCarloSpec, *, n_years: int, fees: np.ndarray,
                         terms: WaterfallTerms,
                         on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Draws of the fund's gross and net IRR and net multiple.

    Parameters
    ----------
    holdings : sequence of Holding
    energy_factors : numpy.ndarray, shape (spec.n_draws, n_assets)
        Correlated energy factors (:func:`finance.portfolio_risk.energy_factor_draws`). [-]
    spec : MonteCarloSpec
        Draws and seed (each holding's spreads replace the spec's).
    n_years : int
        Calendar years of the portfolio.
    fees : numpy.ndarray, shape (n_years,)
        Management fees paid by LPs. [USD]
    terms : WaterfallTerms
    on_progress : callable, optional
        ``on_progress(done, total)`` after each holding.

    Returns
    -------
    dict
        ``n_draws``, ``gross_irr``, ``net_irr``, ``net_multiple`` (percentiles and mean of
        the finite draws), ``irr_undefined`` (draws without a net IRR) and the raw draws
        under ``draws`` (numpy arrays, for the caller's tests; not JSON).
    """
    n = spec.n_draws
    factors = np.asarray(energy_factors, dtype=float)
    if factors.ndim != 2 or factors.shape[0] != n:
        raise ValueError(f"energy_factors must be ({n}, n_assets), got {factors.shape}")
    rng = np.random.default_rng(spec.seed)
    gross = np.zeros((n, int(n_years)))
    for done, h in enumerate(holdings, start=1):
        own = replace(spec, price_sigma=h.price_sigma, capex_sigma=h.capex_sigma,
                      opex_sigma=h.opex_sigma)
        drawn = draw_drivers(h.case, own, n, rng)
        drivers = Drivers(factors[:, h.asset_index], drawn.price_factor, drawn.capex_factor,
                          drawn.opex_factor, drawn.fx_factor)
        flows = simulate(h.case, drivers).tranche_flows_usd[h.tranche]
        if h.offset + flows.shape[1] > n_years:
            raise ValueError(f"a holding of {flows.shape[1]} years at offset {h.offset} does "
                             f"not fit in {n_years} years")
        gross[:, h.offset:h.offset + flows.shape[1]] += h.share * flows
        if on_progress is not None:
            on_progress(done, len(holdings))
    paid, dist = fund_cash_flows(gross, fees)
    w = fund_waterfall(paid, dist, terms)
    net = w.lp - paid
    gross_rate = irr(gross)
    net_rate = irr(net)
    with np.errstate(divide="ignore", invalid="ignore"):
        multiple = w.lp.sum(axis=1) / paid.sum(axis=1)
    return {"n_draws": n, "gross_irr": percentiles(gross_rate), "net_irr": percentiles(net_rate),
            "net_multiple": percentiles(multiple),
            "irr_undefined": int(np.sum(~np.isfinite(net_rate))),
            "draws": {"gross_irr": gross_rate, "net_irr": net_rate, "net_multiple": multiple}}
