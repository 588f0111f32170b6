"""Monte Carlo over energy, price, CAPEX, OPEX and FX, vectorized over draws.

Each draw carries its own debt sizing and sculpting (on its bankers' case: the draw's
CAPEX and OPEX with P50/P90 energy, see :mod:`finance.cashflow`), its own Mexican tax and
its own IRRs. All draws of a chunk run in one compiled pass over the draws axis
(:mod:`finance.montecarlo_kernel`) that keeps per-draw summaries only; it equals
:func:`finance.cashflow.simulate` on the same drivers (tested draw by draw).

Distributions
-------------
* Energy: a persistent (whole-life) factor, normal with mean 1 and standard deviation
  :math:`\\sigma_E = (P50 - P90) / (z_{0.9} P50)`, :math:`z_{0.9} = 1.2816`, so the
  draws' 10th percentile equals the given P90 (treating the one-year P90 spread as
  persistent is conservative).
* Merchant and CEL price, CAPEX, OPEX: lognormal factors with median 1 and the given
  log standard deviations.
* FX: for each non-USD currency a random walk from COD, :math:`F_t = F^{base}_t
  \\exp(\\sigma \\sqrt{t - t_{COD} + 1} z - \\tfrac12 \\sigma^2 (t - t_{COD} + 1))`, one
  :math:`z` per draw, ``sigma`` the path's ``volatility``.

Defaults
--------
Every sigma but the energy's defaults to 0: no published, citable distribution of CAPEX
overrun, OPEX, merchant price or peso/Canadian-dollar volatility for this fund's projects
is bundled with Fondo, and a default without a source would look like knowledge it is
not. So a risk is drawn only when the request gives its sigma (or, for FX, the path's
``volatility``), and every result says which risks were drawn and which were not
(:meth:`MonteCarloResult.summary`, ``risks_drawn`` / ``risks_not_drawn``): a run with
only the energy drawn is the energy risk alone, not the project's whole risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import ndtri  # the standard normal quantile (what scipy.stats.norm.ppf calls)

from finance.case import dscr_lines
from finance.cashflow import Drivers, simulate
from finance.inputs import CaseInputs
from finance.montecarlo_kernel import DrawPlan, evaluate_draws, plan_draws
from finance.returns import irr, npv

__all__ = [
    "MonteCarloSpec",
    "MonteCarloResult",
    "draw_drivers",
    "run_montecarlo",
    "tornado",
    "Z_P90",
    "DSCR_BREACH_THRESHOLD",
    "risks_drawn",
    "RISKS_NOT_DRAWN_NOTE",
]

#: What every Monte Carlo result says when some risks were not drawn.
RISKS_NOT_DRAWN_NOTE = ("Risks in risks_not_drawn were held at their base value in every draw (their sigma is "
                        "0: Fondo has no cited default for them); the spread of the results understates the "
                        "project's risk by theirs.")

#: Standard normal quantile of the 90 % exceedance level. [-]
Z_P90 = float(ndtri(0.9))
#: A draw breaches when its minimum DSCR falls below this (cash no longer covers senior
#: debt service) or any senior service goes unpaid. [-]
DSCR_BREACH_THRESHOLD = 1.0
#: Draws per vectorized chunk (progress is reported after each). 
DEFAULT_CHUNK = 2500
#: Sizing convergence used by the Monte Carlo (fraction of CAPEX): one part in a
#: million moves a draw's DSCR by ~1e-6, far below the spread being estimated. [-]
MC_SIZING_TOLERANCE = 1e-6
#: Percentiles reported for each distribution. [%]
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)


@dataclass(frozen=True)
class MonteCarloSpec:
    """Uncertainty of the drivers.

    Parameters
    ----------
    n_draws : int
        Number of draws.
    seed : int
        Seed of the generator (results are reproducible).
    price_sigma, capex_sigma, opex_sigma : float
        Log standard deviation of each multiplicative factor. [-]
    energy_sigma : float or None
        Standard deviation of the energy factor; from P50/P90 when None. [-]
    breach_dscr : float
        DSCR below which a draw counts as a breach. [-]
    chunk : int
        Draws per vectorized chunk.
    """

    n_draws: int = 10_000
    seed: int = 0
    price_sigma: float = 0.0
    capex_sigma: float = 0.0
    opex_sigma: float = 0.0
    energy_sigma: float | None = None
    breach_dscr: float = DSCR_BREACH_THRESHOLD
    chunk: int = DEFAULT_CHUNK

    def __post_init__(self):
        if self.n_draws < 1:
            raise ValueError(f"n_draws must be >= 1, got {self.n_draws}")
        if self.chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {self.chunk}")
        for name in ("price_sigma", "capex_sigma", "opex_sigma"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.energy_sigma is not None and self.energy_sigma < 0:
            raise ValueError(f"energy_sigma must be >= 0, got {self.energy_sigma}")


def _energy_sigma(case: CaseInputs, spec: MonteCarloSpec) -> float:
    if spec.energy_sigma is not None:
        return spec.energy_sigma
    if case.energy_p90_mwh is None:
        return 0.0
    return (case.energy_p50_mwh - case.energy_p90_mwh) / (Z_P90 * case.energy_p50_mwh)


def risks_drawn(case: CaseInputs, spec: MonteCarloSpec) -> tuple[dict, list]:
    """Which risks a run draws (with their sigma) and which it holds at the base value.

    Returns
    -------
    tuple of (dict of str to float, list of str)
        ``({"energy": 0.061, …}, ["capex", "fx_MXN", …])``; merchant price is listed only
        when the case sells merchant or CEL energy, FX only for currencies of the stack.
    """
    candidates = {"energy": _energy_sigma(case, spec), "capex": spec.capex_sigma, "opex": spec.opex_sigma}
    if case.merchant_price_usd_per_mwh > 0 or case.cel_price_usd_per_mwh > 0:
        candidates["merchant_price"] = spec.price_sigma
    used = {tr.currency for tr in case.tranches}
    for f in case.fx:
        if f.currency in used:
            candidates[f"fx_{f.currency}"] = f.volatility
    drawn = {k: float(v) for k, v in candidates.items() if v > 0}
    return drawn, [k for k, v in candidates.items() if not v > 0]


def draw_drivers(case: CaseInputs, spec: MonteCarloSpec, n: int, rng: np.random.Generator) -> Drivers:
    """Draw ``n`` sets of driver factors (see module notes)."""
    e = 1.0 + _energy_sigma(case, spec) * rng.standard_normal(n)
    e = np.maximum(e, 0.0)

    def lognormal(sigma):
        return np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma**2) if sigma > 0 else np.ones(n)

    price, capex, opex = lognormal(spec.price_sigma), lognormal(spec.capex_sigma), lognormal(spec.opex_sigma)
    fx = {}
    t = np.arange(case.n_years)
    tau = np.where(t >= case.construction_years, t - case.construction_years + 1, 0.0)
    for f in case.fx:
        if f.volatility > 0:
            z = rng.standard_normal(n)[:, None]
            fx[f.currency] = np.exp(f.volatility * np.sqrt(tau) * z - 0.5 * f.volatility**2 * tau)
    return Drivers(e, price, capex, opex, fx)


@dataclass(frozen=True)
class MonteCarloResult:
    """Distributions from :func:`run_montecarlo`.

    Attributes
    ----------
    equity_irr : dict of str to numpy.ndarray (n_draws,)
        Each equity holder's IRR in its own currency (NaN where undefined, counted in
        ``irr_undefined``). [1/year]
    equity_npv : dict of str to numpy.ndarray
        NPV at the holder's discount rate, own currency.
    min_dscr : numpy.ndarray (n_draws,)
        Minimum DSCR of senior debt (NaN without senior debt). [-]
    debt_usd : numpy.ndarray
        Debt at COD of each draw. [USD]
    guarantee_calls_usd : numpy.ndarray
        Total guarantee calls of each draw. [USD]
    p_dscr_breach, p_guarantee_call : float
        Probabilities. [-]
    irr_undefined : dict of str to int
        Draws whose IRR does not exist, per holder.
    risks_drawn : dict of str to float
        Risks drawn and their sigma.
    risks_not_drawn : list of str
        Risks held at their base value (sigma 0).
    """

    n_draws: int
    equity_irr: dict
    equity_npv: dict
    min_dscr: np.ndarray
    debt_usd: np.ndarray
    guarantee_calls_usd: np.ndarray
    p_dscr_breach: float
    p_guarantee_call: float
    irr_undefined: dict
    min_dscr_total: np.ndarray = field(default_factory=lambda: np.zeros(0))
    risks_drawn: dict = field(default_factory=dict)
    risks_not_drawn: list = field(default_factory=list)

    def summary(self) -> dict:
        """JSON-able percentiles and probabilities (NaN-free)."""

        def pct(a):
            a = a[np.isfinite(a)]
            if a.size == 0:
                return None
            return {f"p{p}": float(v) for p, v in zip(PERCENTILES, np.percentile(a, PERCENTILES))} | {
                "mean": float(a.mean())
            }

        return {
            "n_draws": self.n_draws,
            "equity_irr": {k: pct(v) for k, v in self.equity_irr.items()},
            "equity_npv": {k: pct(v) for k, v in self.equity_npv.items()},
            "min_dscr": pct(self.min_dscr),
            "min_dscr_senior": pct(self.min_dscr),
            "min_dscr_total": pct(self.min_dscr_total),
            "debt_usd": pct(self.debt_usd),
            "p_dscr_breach": self.p_dscr_breach,
            "p_guarantee_call": self.p_guarantee_call,
            "irr_undefined": dict(self.irr_undefined),
            "risks_drawn": dict(self.risks_drawn),
            "risks_not_drawn": list(self.risks_not_drawn),
            "risks_note": RISKS_NOT_DRAWN_NOTE if self.risks_not_drawn else None,
        }


def _evaluate_simulated(case: CaseInputs, drivers: Drivers, breach_dscr: float):
    """:func:`_evaluate` through :func:`finance.cashflow.simulate` (every line kept)."""
    sim = simulate(case, drivers, sizing_tolerance=MC_SIZING_TOLERANCE)
    equity = [tr for tr in case.tranches if tr.is_equity]
    flows = np.concatenate([sim.tranche_flows_ccy[tr.name] for tr in equity], axis=0)
    rates = irr(flows)
    n = drivers.n
    out_irr, out_npv = {}, {}
    for j, tr in enumerate(equity):
        out_irr[tr.name] = rates[j * n:(j + 1) * n]
        dr = case.discount_rate if tr.discount_rate is None else tr.discount_rate
        out_npv[tr.name] = npv(dr, sim.tranche_flows_ccy[tr.name])  # one rate for all draws
    dscr = dscr_lines(sim)
    has = np.isfinite(dscr).any(axis=1)
    min_dscr = np.full(n, np.nan)
    min_dscr[has] = np.nanmin(dscr[has], axis=1)
    unpaid = sim.senior_unpaid_usd.sum(axis=1) > 0
    breach = (has & (min_dscr < breach_dscr)) | unpaid
    calls = sim.guarantee_call_usd.sum(axis=1)
    service = sim.senior_service_usd + sim.concessional_service_usd  # all debt service due
    due = service > 0
    with np.errstate(over="ignore"):
        cover = np.where(due, sim.cfads_usd / np.where(due, service, 1.0), np.inf)
    min_total = np.where(due.any(axis=1), cover.min(axis=1), np.nan)
    return out_irr, out_npv, min_dscr, sim.debt_principal_cod_usd, calls, breach, min_total


def _evaluate(case: CaseInputs, drivers: Drivers, breach_dscr: float, plan: DrawPlan | None = None):
    """Per-draw equity IRR and NPV, minimum DSCR, debt, guarantee calls and breach flag.

    One compiled pass over the draws (:mod:`finance.montecarlo_kernel`); the same numbers
    as :func:`_evaluate_simulated` without keeping every line of every draw.
    """
    plan = plan or plan_draws(case, MC_SIZING_TOLERANCE)
    out = evaluate_draws(plan, drivers, breach_dscr)
    return (out.equity_irr, out.equity_npv, out.min_dscr, out.debt_usd, out.guarantee_calls_usd, out.breach,
            out.min_dscr_total)


def run_montecarlo(
    case: CaseInputs,
    spec: MonteCarloSpec,
    on_progress: Callable[[int, int], None] | None = None,
) -> MonteCarloResult:
    """Run ``spec.n_draws`` draws in vectorized chunks.

    Parameters
    ----------
    case : CaseInputs
        The base case.
    spec : MonteCarloSpec
        Uncertainties, draws, seed.
    on_progress : callable, optional
        ``on_progress(done, total)`` after each chunk.

    Returns
    -------
    MonteCarloResult
    """
    rng = np.random.default_rng(spec.seed)
    drawn, not_drawn = risks_drawn(case, spec)
    plan = plan_draws(case, MC_SIZING_TOLERANCE)
    total = spec.n_draws
    parts = []
    done = 0
    while done < total:
        n = min(spec.chunk, total - done)
        drivers = draw_drivers(case, spec, n, rng)
        parts.append(_evaluate(case, drivers, spec.breach_dscr, plan))
        done += n
        if on_progress is not None:
            on_progress(done, total)
    names = list(parts[0][0])
    eq_irr = {k: np.concatenate([p[0][k] for p in parts]) for k in names}
    eq_npv = {k: np.concatenate([p[1][k] for p in parts]) for k in names}
    min_dscr = np.concatenate([p[2] for p in parts])
    debt = np.concatenate([p[3] for p in parts])
    calls = np.concatenate([p[4] for p in parts])
    breach = np.concatenate([p[5] for p in parts])
    min_total = np.concatenate([p[6] for p in parts])
    return MonteCarloResult(
        n_draws=total,
        equity_irr=eq_irr,
        equity_npv=eq_npv,
        min_dscr=min_dscr,
        min_dscr_total=min_total,
        debt_usd=debt,
        guarantee_calls_usd=calls,
        p_dscr_breach=float(breach.mean()),
        p_guarantee_call=float((calls > 0).mean()),
        irr_undefined={k: int(np.sum(~np.isfinite(v))) for k, v in eq_irr.items()},
        risks_drawn=drawn,
        risks_not_drawn=not_drawn,
    )


#: Default swings of the tornado: (driver, low factor, high factor).
TORNADO_SWINGS = (
    ("energy", 0.9, 1.1),
    ("merchant_price", 0.8, 1.2),
    ("capex", 0.9, 1.1),
    ("opex", 0.9, 1.1),
)


def tornado(case: CaseInputs, swings=TORNADO_SWINGS, *, holder: str | None = None) -> list[dict]:
    """Sensitivity of one equity holder's IRR to each driver, one vectorized batch.

    Parameters
    ----------
    case : CaseInputs
        Base case.
    swings : sequence of (driver, low, high)
        Driver in ``energy``, ``merchant_price``, ``capex``, ``opex`` or ``fx_<CCY>``
        (multiplier on the whole operating FX path), with low and high factors.
    holder : str, optional
        Equity tranche name; the first equity tranche by default.

    Returns
    -------
    list of dict
        Rows ``driver, low_factor, high_factor, low_irr, high_irr, base_irr, swing``
        sorted by decreasing ``swing`` (``|high_irr - low_irr|``); IRRs in the holder's
        currency, ``None`` where undefined.
    """
    equity = [tr for tr in case.tranches if tr.is_equity]
    name = holder or equity[0].name
    if name not in {tr.name for tr in equity}:
        raise ValueError(f"holder must name an equity tranche, got {name!r}")
    n = 1 + 2 * len(swings)
    factors = {k: np.ones(n) for k in ("energy", "merchant_price", "capex", "opex")}
    fx = {}
    t = np.arange(case.n_years)
    op = t >= case.construction_years
    for i, (driver, lo, hi) in enumerate(swings):
        for j, f in ((1 + 2 * i, lo), (2 + 2 * i, hi)):
            if driver in factors:
                factors[driver][j] = f
            elif driver.startswith("fx_") and case.fx_inputs(driver[3:]) is not None:
                ccy = driver[3:]
                fx.setdefault(ccy, np.ones((n, case.n_years)))
                fx[ccy][j] = np.where(op, f, 1.0)
            else:
                raise ValueError(f"unknown tornado driver {driver!r}")
    drivers = Drivers(factors["energy"], factors["merchant_price"], factors["capex"], factors["opex"], fx)
    sim = simulate(case, drivers)
    rates = irr(sim.tranche_flows_ccy[name])

    def clean(x):
        return float(x) if np.isfinite(x) else None

    rows = []
    for i, (driver, lo, hi) in enumerate(swings):
        lo_r, hi_r = rates[1 + 2 * i], rates[2 + 2 * i]
        swing = abs(hi_r - lo_r) if np.isfinite(lo_r) and np.isfinite(hi_r) else None
        rows.append({
            "driver": driver,
            "low_factor": lo,
            "high_factor": hi,
            "low_irr": clean(lo_r),
            "high_irr": clean(hi_r),
            "base_irr": clean(rates[0]),
            "swing": swing,
        })
    rows.sort(key=lambda r: -(r["swing"] or 0.0))
    return rows


def python_loop_reference(case: CaseInputs, drivers: Drivers, breach_dscr: float = DSCR_BREACH_THRESHOLD):
    """The same evaluation as :func:`run_montecarlo`, one draw at a time in Python.

    Each draw runs through :func:`finance.cashflow.simulate` (the full model, every line
    kept), independently of the compiled Monte Carlo pass: reference for the benchmark
    (speed) and the tests (identical results).

    Returns
    -------
    dict of str to numpy.ndarray
        Equity IRR per holder, one value per draw.
    """
    out = None
    for i in range(drivers.n):
        one = Drivers(
            drivers.energy_factor[i:i + 1],
            drivers.price_factor[i:i + 1],
            drivers.capex_factor[i:i + 1],
            drivers.opex_factor[i:i + 1],
            {k: v[i:i + 1] for k, v in drivers.fx_factor.items()},
        )
        irr_i = _evaluate_simulated(case, one, breach_dscr)[0]
        if out is None:
            out = {k: np.empty(drivers.n) for k in irr_i}
        for k, v in irr_i.items():
            out[k][i] = v[0]
    return out
