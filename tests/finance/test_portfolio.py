"""Fund waterfall, roll-up and return multiples (finance/portfolio.py), worked by hand.

The waterfall examples are worked step by step in the comments (ILPA's order: return of
capital, preferred return, GP catch-up, carried interest); the IRRs are checked against
numpy-financial; the laws (the waterfall pays out exactly what comes in, LP shares sum
to the whole, roll-up totals equal the sum of the holdings) are Hypothesis properties.
"""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from finance.portfolio import (
    WaterfallTerms,
    exposure,
    fund_cash_flows,
    fund_metrics,
    fund_waterfall,
    lp_flows,
    lp_shares,
    management_fees,
    roll_up,
)

#: Sums of a few floats. [-]
RTOL = 1e-12
#: Absolute tolerance on amounts of order 1e2–1e8. [currency]
ATOL = 1e-6


def test_full_catch_up_worked_by_hand():
    # 100 paid in year 0; 150 back in year 2; hurdle 8 % compounded: pref = 100·1.08² − 100
    # = 16.64. ROC 100, pref 16.64, catch-up to 20 % of profits: x = 0.2·16.64/0.8 = 4.16
    # (all to GP), then 150 − 100 − 16.64 − 4.16 = 29.2 split 23.36 / 5.84.
    w = fund_waterfall([100, 0, 0], [0, 0, 150], WaterfallTerms(0.08, 0.20, 1.0))
    lp_roc, _ = w.tiers["return_of_capital"]
    assert_allclose(lp_roc, [0, 0, 100])
    assert_allclose(w.tiers["preferred_return"][0][2], 16.64, rtol=RTOL)
    assert_allclose(w.tiers["catch_up"][1][2], 4.16, rtol=RTOL)
    assert_allclose(w.tiers["carried_interest"][0][2], 23.36, rtol=RTOL)
    assert_allclose(w.tiers["carried_interest"][1][2], 5.84, rtol=RTOL)
    assert_allclose(w.gp[2], 10.0, rtol=RTOL)  # 20 % of the 50 profit: the catch-up completed
    assert_allclose(w.lp[2], 140.0, rtol=RTOL)


def test_shortfall_never_reaches_the_gp():
    # 100 in, 105 out a year later: capital 100, pref owed 8 but only 5 paid, nothing to GP
    w = fund_waterfall([100, 0], [0, 105], WaterfallTerms(0.08, 0.20, 1.0))
    assert_allclose(w.lp, [0, 105])
    assert_allclose(w.gp, [0, 0])
    assert_allclose(w.unpaid_preferred[..., 1], 3.0, rtol=RTOL)


def test_partial_catch_up_and_no_catch_up():
    # 50 % catch-up: after ROC 100 and pref 8, x = (0.2·8 − 0)/(0.5 − 0.2) = 5.333…, half
    # to GP (2.666…); rest 150 − 108 − 5.333 = 36.666… split 80/20.
    w = fund_waterfall([100, 0], [0, 150], WaterfallTerms(0.08, 0.20, 0.5))
    assert_allclose(w.tiers["catch_up"][1][1], 8 / 3, rtol=RTOL)
    assert_allclose(w.gp[1], 8 / 3 + 0.2 * (150 - 108 - 16 / 3), rtol=RTOL)
    # no catch-up: GP only carries the profit above the pref: 0.2·(150 − 108)
    w0 = fund_waterfall([100, 0], [0, 150], WaterfallTerms(0.08, 0.20, 0.0))
    assert_allclose(w0.gp[1], 0.2 * 42, rtol=RTOL)


@pytest.mark.parametrize("kwargs", [
    {"preferred_return_rate": -0.01}, {"carried_interest_rate": 1.0},
    {"catch_up_rate": 0.1, "carried_interest_rate": 0.2}, {"preferred_return_rate": float("nan")},
])
def test_bad_terms_are_refused(kwargs):
    with pytest.raises(ValueError):
        WaterfallTerms(**kwargs)


def test_negative_flows_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        fund_waterfall([-1, 0], [0, 2], WaterfallTerms())


flows = st.lists(st.floats(0, 1e8, allow_nan=False), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(flows, flows, st.floats(0, 0.2), st.floats(0, 0.3), st.sampled_from([0.0, 0.5, 1.0]))
def test_the_waterfall_pays_out_exactly_what_comes_in(c, d, h, k, kc):
    n = min(len(c), len(d))
    terms = WaterfallTerms(h, k, kc if kc == 0 or kc > k else 1.0)
    w = fund_waterfall(np.array(c[:n]), np.array(d[:n]), terms)
    assert_allclose(w.lp + w.gp, d[:n], rtol=1e-9, atol=1e-6)
    assert np.all(w.lp >= -1e-9) and np.all(w.gp >= -1e-9)


def test_vectorized_over_draws_equals_row_by_row():
    rng = np.random.default_rng(1)
    c = rng.uniform(0, 100, (5, 8)) * (rng.uniform(size=(5, 8)) < 0.4)
    d = rng.uniform(0, 120, (5, 8))
    w = fund_waterfall(c, d, WaterfallTerms())
    for i in range(5):
        wi = fund_waterfall(c[i], d[i], WaterfallTerms())
        assert_allclose(w.lp[i], wi.lp, rtol=RTOL)
        assert_allclose(w.gp[i], wi.gp, rtol=RTOL)


def test_gp_holds_the_carry_share_of_profits_when_the_catch_up_completes():
    c = np.array([100.0, 50.0, 0, 0, 0])
    d = np.array([0.0, 0, 60, 90, 200])
    w = fund_waterfall(c, d, WaterfallTerms(0.08, 0.2, 1.0))
    profit = d.sum() - c.sum()
    assert_allclose(w.gp.sum(), 0.2 * profit, rtol=1e-12)


def test_roll_up_totals_equal_the_sum_of_holdings():
    a, b = np.array([-10.0, 3, 4, 5]), np.array([-20.0, 8, 9])
    out = roll_up([a, b], [0, 2], 6)
    assert_allclose(out, [-10, 3, -16, 13, 9, 0])
    assert_allclose(out.sum(), a.sum() + b.sum())
    with pytest.raises(ValueError, match="does not fit"):
        roll_up([a], [3], 6)


def test_fund_cash_flows_and_fees():
    fees = management_fees(1000.0, 0.02, 1, 3, 6)
    assert_allclose(fees, [0, 20, 20, 20, 0, 0])
    paid, dist = fund_cash_flows([-100.0, -50, 30, 80, 90, 0], fees)
    assert_allclose(paid, [100, 70, 20, 20, 0, 0])
    assert_allclose(dist, [0, 0, 30, 80, 90, 0])


def test_metrics_against_numpy_financial_and_by_hand():
    paid = np.array([100.0, 50, 0, 0, 0])
    got = np.array([0.0, 10, 40, 60, 120])
    m = fund_metrics(paid, got, as_of_index=2, discount_rate=0.1)
    assert_allclose(m["irr"], npf.irr(got - paid), rtol=1e-9)
    assert m["paid_in"] == 150 and m["distributed"] == 50
    nav = 60 / 1.1 + 120 / 1.1**2  # end of year 2: years 3 and 4 discounted
    assert_allclose(m["nav"], nav, rtol=RTOL)
    assert_allclose(m["dpi"], 50 / 150, rtol=RTOL)
    assert_allclose(m["rvpi"], nav / 150, rtol=RTOL)
    assert_allclose(m["tvpi"], (50 + nav) / 150, rtol=RTOL)
    assert_allclose(m["multiple_total"], 230 / 150, rtol=RTOL)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=10).filter(lambda x: sum(x) > 1))
def test_lp_shares_sum_to_the_whole(commitments):
    shares = lp_shares(commitments)
    assert_allclose(shares.sum(), 1.0, rtol=1e-12)
    paid, got = np.array([100.0, 0]), np.array([0.0, 130])
    parts = [lp_flows(s, paid, got, 1.0) for s in shares]
    assert_allclose(sum(p for p, _ in parts), paid, rtol=1e-12)
    assert_allclose(sum(g for _, g in parts), got, rtol=1e-12)


def test_lp_flows_in_own_currency_keep_the_irr_at_a_flat_rate():
    p, g = lp_flows(0.25, [100.0, 0], [0.0, 110], 18.5)
    assert_allclose(p, [462.5, 0])
    assert_allclose(npf.irr(g - p), 0.10, rtol=1e-12)
    with pytest.raises(ValueError):
        lp_flows(0.5, [1.0], [1.0], 0.0)


def test_exposure_fractions():
    out = exposure([30.0, 10.0, 60.0], ["pv", None, "pv"])
    assert out == {"pv": {"amount": 90.0, "fraction": 0.9},
                   "unknown": {"amount": 10.0, "fraction": 0.1}}
