"""The sponsor's depreciation election: the rate that is worth the most after tax.

LISR art. 34 fr. XIII lets renewable generation assets be deducted 100 % in the first
operating year, but art. 31 lets the taxpayer take any lower rate. With the ten-year loss
carry-forward of art. 57 a 100 % deduction can create losses that expire unused; a lower
rate spreads the deduction over years that have profit to absorb it. This module scans
the rates and returns the one that maximises an after-tax NPV.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.optimize import minimize_scalar

from finance.case import run_case
from finance.inputs import CaseInputs, FinanceInputError
from finance.tax import RENEWABLE_FIRST_YEAR_DEDUCTION

__all__ = ["best_depreciation_rate", "ELECTION_OBJECTIVES", "ELECTION_GRID_STEP", "ELECTION_RATE_TOLERANCE"]

#: Metrics the election may maximise: the after-tax project NPV (unlevered tax) or the
#: equity holders' NPV (levered tax, financing included). [USD]
ELECTION_OBJECTIVES = ("npv_usd", "equity_npv_usd")
#: Step of the first scan of rates (50 cases, then about 15 for the refinement). [1/year]
ELECTION_GRID_STEP = 0.02
#: The refinement stops when the bracket of the best rate is narrower than this. [1/year]
ELECTION_RATE_TOLERANCE = 1e-5


def _evaluate(case: CaseInputs, rate: float) -> dict | None:
    """Metrics of ``case`` with depreciation at ``rate``; None if the case is refused."""
    try:  # the rate is in (0, 1] by construction; the rest of the case was validated
        trial = replace(case, depreciation="mx_renewable_100", depreciation_rate=float(rate))
        return run_case(trial).metrics
    except FinanceInputError:
        return None


def best_depreciation_rate(case: CaseInputs, *, objective: str = "npv_usd",
                           grid_step: float = ELECTION_GRID_STEP) -> dict:
    """The annual depreciation rate, up to 100 %, that maximises an after-tax NPV.

    Parameters
    ----------
    case : CaseInputs
        The case; its own ``depreciation`` settings are ignored (every trial uses
        ``mx_renewable_100`` at the trial rate).
    objective : {"npv_usd", "equity_npv_usd"}
        Metric to maximise. [USD]
    grid_step : float
        Step of the first scan over ``(0, 1]``. [1/year]

    Returns
    -------
    dict
        ``best_rate``, ``objective``, ``best_value_usd``, ``maximum_rate_value_usd`` (at
        100 %), ``gain_usd``; ``best`` and ``at_maximum_rate``: the main metrics at both
        rates (``project_irr_after_tax``, ``npv_usd``, ``equity_irr``, ``equity_npv_usd``,
        ``tax_losses_expired_usd``); ``scan``: ``[{"rate", "value_usd"}, …]`` of the grid.

    Raises
    ------
    FinanceInputError
        ``objective`` unknown, or no rate gives a case the model accepts.

    Notes
    -----
    A grid scan (the NPV is piecewise smooth in the rate, with kinks where a loss starts
    or stops expiring, so a local search alone could stop at a kink) followed by a
    bounded Brent search in the two grid cells around the best point.
    """
    if objective not in ELECTION_OBJECTIVES:
        raise FinanceInputError("objective", f"must be one of {', '.join(ELECTION_OBJECTIVES)}; got {objective!r}")
    if not 0 < grid_step <= RENEWABLE_FIRST_YEAR_DEDUCTION:
        raise ValueError(f"grid_step must be in (0, 1], got {grid_step}")
    top = RENEWABLE_FIRST_YEAR_DEDUCTION
    grid = np.unique(np.append(np.arange(grid_step, top, grid_step), top))
    scan = []
    for rate in grid:
        m = _evaluate(case, rate)
        if m is not None:
            scan.append({"rate": float(rate), "value_usd": float(m[objective])})
    if not scan:
        raise FinanceInputError("depreciation_rate", "no depreciation rate gives a case the model accepts")
    i = int(np.argmax([s["value_usd"] for s in scan]))
    lo = scan[max(i - 1, 0)]["rate"]
    hi = scan[min(i + 1, len(scan) - 1)]["rate"]
    best_rate, best_value = scan[i]["rate"], scan[i]["value_usd"]
    if hi > lo:
        def loss(rate):
            m = _evaluate(case, rate)
            return np.inf if m is None else -m[objective]

        res = minimize_scalar(loss, bounds=(lo, hi), method="bounded",
                              options={"xatol": ELECTION_RATE_TOLERANCE})
        if np.isfinite(res.fun) and -res.fun > best_value:
            best_rate, best_value = float(res.x), float(-res.fun)
    keys = ("project_irr_after_tax", "npv_usd", "equity_irr", "equity_npv_usd", "tax_losses_expired_usd")
    best = _evaluate(case, best_rate)
    at_max = _evaluate(case, top)
    return {
        "objective": objective,
        "best_rate": best_rate,
        "best_value_usd": best_value,
        "maximum_rate_value_usd": None if at_max is None else float(at_max[objective]),
        "gain_usd": None if at_max is None else best_value - float(at_max[objective]),
        "best": {k: best[k] for k in keys},
        "at_maximum_rate": None if at_max is None else {k: at_max[k] for k in keys},
        "scan": scan,
    }
