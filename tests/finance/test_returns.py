"""IRR, NPV and payback against numpy-financial (the reference implementation)."""

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from finance.returns import IRR_REASON_NO_SIGN_CHANGE, irr, irr_report, npv, payback_years

#: Bar of issue 4: IRR and NPV identical to numpy-financial.
NPF_RTOL = 1e-9
#: |NPV at the IRR| relative to the flows' scale.
NPV_AT_IRR_RTOL = 1e-9

FLOWS = [
    [-100.0, 39, 59, 55, 20],  # numpy-financial docstring example, irr = 0.28095
    [-100.0, 0, 0, 74],  # irr = -0.0955
    [-100.0, 100, 0, -7],  # -0.0833
    [-100.0, 100, 0, 7],  # 0.0623
    [-5.0, 10.5, 1, -8, 1],  # 0.0886
    [-90e6] + [10e6] * 30,
]


@pytest.mark.parametrize("flows", FLOWS)
def test_irr_equals_numpy_financial(flows):
    assert_allclose(irr(flows), npf.irr(flows), rtol=NPF_RTOL, atol=1e-12)


def test_irr_published_value():
    # numpy-financial documentation: irr([-100, 39, 59, 55, 20]) = 0.28095
    assert round(irr([-100, 39, 59, 55, 20]), 5) == 0.28095


def test_irr_vectorized_rows_equal_each_row():
    rng = np.random.default_rng(3)
    v = np.concatenate([-rng.uniform(50, 150, (200, 1)), rng.uniform(0, 30, (200, 25))], axis=1)
    expected = np.array([npf.irr(row) for row in v])
    assert_allclose(irr(v), expected, rtol=NPF_RTOL)


@pytest.mark.parametrize("rate", [0.0, 0.05, -0.2, 0.35])
@pytest.mark.parametrize("flows", FLOWS)
def test_npv_equals_numpy_financial(rate, flows):
    assert_allclose(npv(rate, flows), npf.npv(rate, flows), rtol=NPF_RTOL)


def test_npv_vectorized_rates():
    v = np.array([[-100.0, 60, 60], [-50.0, 30, 40]])
    assert_allclose(npv(np.array([0.1, 0.2]), v), [npf.npv(0.1, v[0]), npf.npv(0.2, v[1])], rtol=NPF_RTOL)


def test_no_sign_change_is_reported_not_nan():
    assert irr_report([100.0, 10, 10]) == (None, IRR_REASON_NO_SIGN_CHANGE)
    assert irr_report([-100.0, -10]) == (None, IRR_REASON_NO_SIGN_CHANGE)
    assert np.isnan(irr([0.0, 0.0]))


def test_irr_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        irr([-1.0, np.nan])


def test_payback_hand_worked():
    # cumulative: -100, -40, +20 -> 1 + 40/60 years
    assert_allclose(payback_years([-100, 60, 60]), 1 + 40 / 60, rtol=1e-12)
    assert np.isnan(payback_years([-100, 10, 10]))


conventional = st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e3)), min_size=2, max_size=40).filter(lambda x: sum(x) > 1e-3)


@settings(max_examples=60, deadline=None)
@given(invest=st.floats(1.0, 1e4), inflows=conventional)
@example(invest=5001.0, inflows=[0.5, 0.0])  # 1 + r = 1e-4: outside Newton's reach from 0.1
@example(invest=1.0, inflows=[1e3])  # r = 999
@example(invest=1e4, inflows=[1e-3])  # 1 + r = 1e-7
def test_law_npv_at_irr_is_zero(invest, inflows):
    v = np.array([-invest] + inflows)
    r = irr(v)
    assert np.isfinite(r)
    assert abs(npv(r, v)) <= NPV_AT_IRR_RTOL * np.abs(v).sum()
    assert_allclose(r, npf.irr(v), rtol=1e-7, atol=1e-9)
