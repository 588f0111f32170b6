"""The fund's portfolio arithmetic: project flows rolled up to the fund, the fund's
distribution waterfall, fund and LP returns, exposure.

Pure and vectorized over a leading axis of draws (numpy); no database. Conventions follow
numpy-financial: outflows negative, ``values[..., 0]`` is the first period, periods are
calendar years of the portfolio (index 0 = ``first_year``). Projections are model
estimates in floats (the LP ledger of actual calls and distributions is exact decimals,
kept by the shell).

From project to LP
------------------
1. Each holding is a share of one tranche of one project's finance case: the fund's
   flows from it are ``share × tranche flows`` (USD, the engine's ``flow_<tranche>_usd``
   column), placed at the project's first calendar year (:func:`roll_up`).
2. The fund's gross flow of a year ``g_t`` is the sum over holdings (a call of one project
   is netted against another's distribution of the same year). LPs pay in
   ``c_t = max(-g_t, 0) + fee_t`` (the management fee is paid on top of the capital and
   goes to the manager) and the fund distributes ``d_t = max(g_t, 0)``.
3. ``d_t`` goes through the fund's waterfall (:func:`fund_waterfall`) to LPs and the GP.
4. Each LP takes its pro-rata share (commitment over total commitments, in the fund's
   currency) of what LPs pay and receive, converted to its own currency at a stated
   rate (:func:`lp_flows`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from finance.returns import irr, npv

__all__ = [
    "WaterfallTerms",
    "FundWaterfall",
    "roll_up",
    "fund_cash_flows",
    "management_fees",
    "fund_waterfall",
    "fund_metrics",
    "lp_shares",
    "lp_flows",
    "exposure",
    "TIERS",
]

#: Tiers of the fund waterfall, in order of payment.
TIERS = ("return_of_capital", "preferred_return", "catch_up", "carried_interest")


@dataclass(frozen=True)
class WaterfallTerms:
    """Terms of a fund's distribution waterfall (a European, whole-of-fund waterfall).

    Parameters
    ----------
    preferred_return_rate : float
        Hurdle compounded yearly on the LPs' unreturned capital and unpaid preferred
        return. [1/year]
    carried_interest_rate : float
        The GP's share of profits (everything beyond returned capital). [-]
    catch_up_rate : float
        Share of each distribution going to the GP in the catch-up tier, until the GP
        holds ``carried_interest_rate`` of all profits paid; 0 means no catch-up, 1 a full
        catch-up. Must exceed ``carried_interest_rate`` when not 0 (otherwise the catch-up
        never ends). [-]

    References
    ----------
    ILPA Principles 3.0 (2019), §2 "Waterfall": whole-of-fund (European) distribution,
    return of capital, preferred return, GP catch-up, carried interest.
    """

    preferred_return_rate: float = 0.08
    carried_interest_rate: float = 0.20
    catch_up_rate: float = 1.0

    def __post_init__(self):
        for name in ("preferred_return_rate", "carried_interest_rate", "catch_up_rate"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if self.carried_interest_rate >= 1.0:
            raise ValueError("carried_interest_rate must be < 1")
        if self.catch_up_rate != 0.0 and self.catch_up_rate <= self.carried_interest_rate:
            raise ValueError("catch_up_rate must be 0 or exceed carried_interest_rate, got "
                             f"{self.catch_up_rate} <= {self.carried_interest_rate}")


@dataclass(frozen=True)
class FundWaterfall:
    """What :func:`fund_waterfall` pays, arrays shaped like its inputs ``(..., T)``.

    Attributes
    ----------
    lp, gp : numpy.ndarray
        Paid to the LPs (all tiers) and to the GP (catch-up and carry). [currency]
    tiers : dict of str to (lp, gp) arrays
        Each tier of :data:`TIERS`, split between LPs and GP. [currency]
    unreturned_capital, unpaid_preferred : numpy.ndarray
        Balances at the end of each year. [currency]
    """

    lp: np.ndarray
    gp: np.ndarray
    tiers: Mapping[str, tuple[np.ndarray, np.ndarray]]
    unreturned_capital: np.ndarray
    unpaid_preferred: np.ndarray


def roll_up(flows: Sequence[np.ndarray], offsets: Sequence[int], n_years: int) -> np.ndarray:
    """Sum flows that start in different years on one calendar axis.

    Parameters
    ----------
    flows : sequence of array_like, each shape (..., T_i)
        Annual flows, index 0 in the holding's first year; leading axes broadcast. [currency]
    offsets : sequence of int
        Index on the calendar axis of each flow's first year (≥ 0).
    n_years : int
        Length of the calendar axis; a flow beyond it raises.

    Returns
    -------
    numpy.ndarray, shape (..., n_years)
        Sum of the flows, year by year. [currency]

    Examples
    --------
    >>> roll_up([[-10, 4, 8], [-5, 6]], [0, 1], 3).tolist()
    [-10.0, -1.0, 14.0]
    """
    if len(flows) != len(offsets):
        raise ValueError(f"{len(flows)} flows but {len(offsets)} offsets")
    arrays = [np.asarray(f, dtype=float) for f in flows]
    lead = np.broadcast_shapes(*(a.shape[:-1] for a in arrays)) if arrays else ()
    out = np.zeros(lead + (int(n_years),))
    for a, k in zip(arrays, offsets):
        k = int(k)
        if k < 0 or k + a.shape[-1] > n_years:
            raise ValueError(f"a flow of {a.shape[-1]} years at offset {k} does not fit in "
                             f"{n_years} years")
        out[..., k:k + a.shape[-1]] += a
    return out


def management_fees(commitments: float, rate: float, first_index: int, n_fee_years: int,
                    n_years: int) -> np.ndarray:
    """The management fee of each year: ``rate × commitments`` for ``n_fee_years`` years.

    Parameters
    ----------
    commitments : float
        Total commitments. [currency]
    rate : float
        Yearly fee on commitments. [1/year]
    first_index, n_fee_years, n_years : int
        First fee year on the calendar axis, years of fees, length of the axis.

    Returns
    -------
    numpy.ndarray, shape (n_years,)
        [currency/year]
    """
    if commitments < 0 or rate < 0 or n_fee_years < 0:
        raise ValueError("commitments, rate and n_fee_years must be >= 0")
    fees = np.zeros(int(n_years))
    fees[max(first_index, 0):max(first_index, 0) + int(n_fee_years)] = commitments * rate
    return fees


def fund_cash_flows(gross, fees=0.0) -> tuple[np.ndarray, np.ndarray]:
    """What LPs pay in and what the fund distributes, from the fund's gross flows.

    Parameters
    ----------
    gross : array_like, shape (..., T)
        Sum of the fund's holdings' flows (negative: capital needed). [currency]
    fees : float or array_like, shape (T,)
        Management fee of each year, paid by LPs on top of the capital. [currency]

    Returns
    -------
    contributions, distributions : numpy.ndarray, shape (..., T)
        ``max(-gross, 0) + fees`` and ``max(gross, 0)`` (both ≥ 0). [currency]
    """
    g = np.asarray(gross, dtype=float)
    fees = np.broadcast_to(np.asarray(fees, dtype=float), g.shape)
    if np.any(fees < 0):
        raise ValueError("fees must be >= 0")
    return np.maximum(-g, 0.0) + fees, np.maximum(g, 0.0)


def fund_waterfall(contributions, distributions, terms: WaterfallTerms) -> FundWaterfall:
    """Split the fund's distributions between LPs and the GP, year by year.

    Parameters
    ----------
    contributions : array_like, shape (..., T)
        Capital paid in by LPs each year (≥ 0). [currency]
    distributions : array_like, shape (..., T)
        Cash the fund distributes each year (≥ 0). [currency]
    terms : WaterfallTerms

    Returns
    -------
    FundWaterfall
        ``lp + gp == distributions`` in every year and draw.

    Notes
    -----
    Each year, first the preferred return accrues on last year's balances,
    :math:`P \\leftarrow P + h (C + P)`; then the year's contributions join the unreturned
    capital :math:`C`; then the distribution :math:`d` pays, in order:

    1. return of capital to LPs, :math:`\\min(d, C)`;
    2. the preferred return to LPs, :math:`\\min(d, P)`;
    3. the catch-up, a share :math:`k_c` to the GP and :math:`1-k_c` to LPs, until the GP
       holds the carry share :math:`k` of all profits paid :math:`\\Pi` (every tier but the
       first): :math:`x = (k \\Pi - G)/(k_c - k)`;
    4. the rest, :math:`k` to the GP and :math:`1-k` to LPs.

    No clawback: a GP paid ahead of later capital calls keeps what it was paid.

    Examples
    --------
    One LP pays 100, the fund returns 150 a year later, 8 % hurdle, 20 % carry, full
    catch-up: 100 capital, 8 preferred, then the GP catches up 2 (20 % of 10), and the
    last 40 split 32 / 8.

    >>> w = fund_waterfall([100, 0], [0, 150], WaterfallTerms())
    >>> w.lp.round(6).tolist(), w.gp.round(6).tolist()
    ([0.0, 140.0], [0.0, 10.0])
    """
    c = np.asarray(contributions, dtype=float)
    d_all = np.asarray(distributions, dtype=float)
    c, d_all = np.broadcast_arrays(c, d_all)
    if np.any(c < 0) or np.any(d_all < 0):
        raise ValueError("contributions and distributions must be >= 0")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(d_all))):
        raise ValueError("contributions and distributions must be finite")
    h, k, kc = terms.preferred_return_rate, terms.carried_interest_rate, terms.catch_up_rate
    lead, n_years = c.shape[:-1], c.shape[-1]
    tiers = {name: (np.zeros(c.shape), np.zeros(c.shape)) for name in TIERS}
    capital_left, pref_left = np.zeros(c.shape), np.zeros(c.shape)
    cap, pref, profit, gp_paid = (np.zeros(lead) for _ in range(4))
    for t in range(n_years):  # sequential by nature: balances carry over
        pref = pref + h * (cap + pref)
        cap = cap + c[..., t]
        d = d_all[..., t]
        roc = np.minimum(d, cap)
        cap, d = cap - roc, d - roc
        pay = np.minimum(d, pref)
        pref, d = pref - pay, d - pay
        profit = profit + pay
        tiers["return_of_capital"][0][..., t] = roc
        tiers["preferred_return"][0][..., t] = pay
        if kc > 0.0:
            needed = np.maximum(k * profit - gp_paid, 0.0) / (kc - k)
            x = np.minimum(d, needed)
            tiers["catch_up"][0][..., t] = (1.0 - kc) * x
            tiers["catch_up"][1][..., t] = kc * x
            gp_paid, profit, d = gp_paid + kc * x, profit + x, d - x
        tiers["carried_interest"][0][..., t] = (1.0 - k) * d
        tiers["carried_interest"][1][..., t] = k * d
        gp_paid, profit = gp_paid + k * d, profit + d
        capital_left[..., t], pref_left[..., t] = cap, pref
    lp = sum(tiers[name][0] for name in TIERS)
    gp = sum(tiers[name][1] for name in TIERS)
    return FundWaterfall(lp=lp, gp=gp, tiers=tiers, unreturned_capital=capital_left,
                         unpaid_preferred=pref_left)


def fund_metrics(paid_in, received, *, as_of_index: int, discount_rate: float) -> dict:
    """Return multiples and IRR of one investor's (or all LPs') flows.

    Parameters
    ----------
    paid_in, received : array_like, shape (..., T)
        What the investor pays in and receives each year (both ≥ 0). [currency]
    as_of_index : int
        Calendar index of the valuation date (end of that year); flows after it are
        projected.
    discount_rate : float
        Rate discounting the projected net flows after ``as_of_index`` into the net asset
        value. [1/year]

    Returns
    -------
    dict
        ``paid_in``, ``distributed`` (to the as-of date), ``nav`` (present value at the
        as-of date of the later net flows), ``dpi = distributed / paid_in``,
        ``rvpi = nav / paid_in``, ``tvpi = dpi + rvpi`` (NaN when nothing was paid in),
        ``irr`` over the whole projected life (NaN when it does not exist),
        ``paid_in_total`` and ``distributed_total`` over the whole life, and
        ``multiple_total = distributed_total / paid_in_total``.

    Notes
    -----
    ILPA Reporting Template definitions: DPI = cumulative distributions / paid-in
    capital, RVPI = residual (net asset) value / paid-in capital, TVPI = DPI + RVPI.
    """
    p = np.asarray(paid_in, dtype=float)
    r = np.asarray(received, dtype=float)
    p, r = np.broadcast_arrays(p, r)
    n_years = p.shape[-1]
    if not 0 <= as_of_index < n_years:
        raise ValueError(f"as_of_index must be in [0, {n_years}), got {as_of_index}")
    cut = as_of_index + 1
    paid, dist = p[..., :cut].sum(axis=-1), r[..., :cut].sum(axis=-1)
    later = (r - p)[..., cut:]
    nav = npv(discount_rate, later) / (1.0 + discount_rate) if later.shape[-1] else 0.0 * paid
    nav = np.asarray(nav, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        dpi = np.where(paid > 0, dist / np.where(paid > 0, paid, 1.0), np.nan)
        rvpi = np.where(paid > 0, nav / np.where(paid > 0, paid, 1.0), np.nan)
        total_p, total_r = p.sum(axis=-1), r.sum(axis=-1)
        multiple = np.where(total_p > 0, total_r / np.where(total_p > 0, total_p, 1.0), np.nan)
    net = r - p
    rates = irr(net.reshape(-1, n_years)).reshape(net.shape[:-1]) if net.size else np.nan
    out = {"paid_in": paid, "distributed": dist, "nav": nav, "dpi": dpi, "rvpi": rvpi,
           "tvpi": dpi + rvpi, "irr": rates, "paid_in_total": total_p,
           "distributed_total": total_r, "multiple_total": multiple}
    return {key: (float(v) if np.ndim(v) == 0 else v) for key, v in out.items()}


def lp_shares(commitments_fund_currency: Sequence[float]) -> np.ndarray:
    """Each LP's pro-rata share of the fund: commitment over total commitments.

    Parameters
    ----------
    commitments_fund_currency : sequence of float
        Each LP's commitment in the fund's currency (≥ 0, total > 0). [currency]

    Returns
    -------
    numpy.ndarray
        Shares summing to 1. [-]
    """
    c = np.asarray(commitments_fund_currency, dtype=float)
    if c.ndim != 1 or np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ValueError("commitments must be a 1-D array of finite values >= 0")
    total = c.sum()
    if not total > 0:
        raise ValueError("the commitments must sum to more than 0")
    return c / total


def lp_flows(share: float, paid_in, received, fx_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """One LP's flows in its own currency: its share of all LPs', at a flat rate.

    Parameters
    ----------
    share : float
        The LP's share of the fund (:func:`lp_shares`). [-]
    paid_in, received : array_like, shape (..., T)
        What all LPs pay in and receive. [fund currency]
    fx_rate : float
        Units of the LP's currency per unit of the fund's currency (> 0), held over the
        projection (the shell states its date and source). [LP currency / fund currency]

    Returns
    -------
    paid_in, received : numpy.ndarray
        [LP currency]
    """
    if not (0.0 <= share <= 1.0):
        raise ValueError(f"share must be in [0, 1], got {share}")
    if not (np.isfinite(fx_rate) and fx_rate > 0):
        raise ValueError(f"fx_rate must be > 0, got {fx_rate}")
    scale = share * fx_rate
    return np.asarray(paid_in, dtype=float) * scale, np.asarray(received, dtype=float) * scale


def exposure(amounts: Sequence[float], labels: Sequence[str | None]) -> dict[str, dict]:
    """Amounts summed by label, with each label's fraction of the total.

    Parameters
    ----------
    amounts : sequence of float
        One amount per holding (≥ 0). [currency]
    labels : sequence of str or None
        The group of each holding (None counts as ``"unknown"``).

    Returns
    -------
    dict
        ``label → {"amount": sum, "fraction": sum / total}``, labels sorted; fractions are
        0 when the total is 0. [currency], [-]

    Examples
    --------
    >>> exposure([30, 10, 60], ["pv", "wind", "pv"])["pv"]
    {'amount': 90.0, 'fraction': 0.9}
    """
    a = np.asarray(amounts, dtype=float)
    if a.shape != (len(labels),):
        raise ValueError(f"{a.size} amounts but {len(labels)} labels")
    if np.any(a < 0):
        raise ValueError("amounts must be >= 0")
    total = float(a.sum())
    out: dict[str, dict] = {}
    for label in sorted({("unknown" if x is None else str(x)) for x in labels}):
        amount = float(a[[("unknown" if x is None else str(x)) == label for x in labels]].sum())
        out[label] = {"amount": amount, "fraction": amount / total if total > 0 else 0.0}
    return out
