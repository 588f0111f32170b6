"""Mexican tax: hand-worked cases with the arithmetic shown."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from finance.tax import (
    ISR_RATE,
    LOSS_CARRYFORWARD_YEARS,
    PTU_RATE,
    STRAIGHT_LINE_RATE_ELECTRICITY,
    depreciation_schedule,
    income_tax,
)

#: Hand arithmetic is exact to rounding.
HAND_RTOL = 1e-12


def test_statutory_constants():
    assert ISR_RATE == 0.30  # LISR art. 9
    assert PTU_RATE == 0.10  # LFT art. 117
    assert LOSS_CARRYFORWARD_YEARS == 10  # LISR art. 57
    assert STRAIGHT_LINE_RATE_ELECTRICITY == 0.05  # LISR art. 35 fr. I


def test_hand_worked_first_year_deduction_and_loss_carryforward():
    """CAPEX 1000 deducted 100 % in the first operating year, EBITDA 300 a year.

    Year:            0      1      2      3      4      5
    EBITDA           0    300    300    300    300    300
    depreciation     0   1000      0      0      0      0   (LISR art. 34 fr. XIII)
    profit P         0   -700    300    300    300    300
    PTU = 10%·max(P,0)   0     30     30     30     30   (base not reduced by losses)
    base B = P - PTU     -700   270    270    270    270
    loss pool        0    700    430    160      0      0
    loss used        0      0    270    270    160      0
    taxable          0      0      0      0    110    270
    ISR = 30%        0      0      0      0     33     81
    """
    dep = depreciation_schedule(1000.0, 0.0, method="mx_renewable_100", construction_years=1, life_years=5)
    assert_allclose(dep[0], [0, 1000, 0, 0, 0, 0], rtol=HAND_RTOL)
    ebitda = np.array([0, 300, 300, 300, 300, 300.0])
    r = income_tax(ebitda - dep[0], tax_rate=0.30, ptu_rate=0.10)
    assert_allclose(r.ptu_usd[0], [0, 0, 30, 30, 30, 30], rtol=HAND_RTOL)
    assert_allclose(r.loss_used_usd[0], [0, 0, 270, 270, 160, 0], rtol=HAND_RTOL)
    assert_allclose(r.loss_balance_usd[0], [0, 700, 430, 160, 0, 0], rtol=HAND_RTOL, atol=1e-12)
    assert_allclose(r.isr_usd[0], [0, 0, 0, 0, 33, 81], rtol=HAND_RTOL, atol=1e-12)
    assert_allclose(r.tax_usd[0], [0, 0, 30, 30, 63, 111], rtol=HAND_RTOL, atol=1e-12)


def test_hand_worked_straight_line():
    """Same plant, straight-line 5 %/yr: depreciation 50, profit 250, PTU 25,
    ISR = 30 % × (250 - 25) = 67.5 every year; no losses."""
    dep = depreciation_schedule(1000.0, 0.0, method="straight_line", construction_years=1, life_years=5)
    # 5 years x 50 = 250; the 750 not yet deducted when the plant retires go in year 5
    assert_allclose(dep[0], [0, 50, 50, 50, 50, 800], rtol=HAND_RTOL)
    r = income_tax(np.array([0, 300, 300, 300, 300.0]) - dep[0, :5], tax_rate=0.30, ptu_rate=0.10)
    assert_allclose(r.isr_usd[0, 1:], [67.5] * 4, rtol=HAND_RTOL)


def test_losses_expire_after_ten_years():
    """A loss of 100 in year 0 can be used in years 1..10 only (LISR art. 57).

    Profit 0 in years 1..10, 50 in year 11: the loss has expired, ISR = 30 % × 50 = 15.
    Profit 50 in year 10 instead: covered by the loss, ISR 0.
    """
    p = np.zeros(12)
    p[0], p[11] = -100, 50
    r = income_tax(p, tax_rate=0.3, ptu_rate=0.0)
    assert_allclose(r.isr_usd[0, 11], 15.0, rtol=HAND_RTOL)
    assert_allclose(r.loss_expired_usd[0, 10], 100.0, rtol=HAND_RTOL)
    p = np.zeros(12)
    p[0], p[10] = -100, 50
    r = income_tax(p, tax_rate=0.3, ptu_rate=0.0)
    assert r.isr_usd[0, 10] == 0.0


def test_oldest_loss_used_first():
    # losses 100 (y0) and 100 (y5); profit 150 in y10 uses y0's 100 then 50 of y5's;
    # in y11 y0's vintage would be gone anyway, 50 of y5 remains: profit 80 -> ISR 0.3*30
    p = np.zeros(12)
    p[0], p[5], p[10], p[11] = -100, -100, 150, 80
    r = income_tax(p, tax_rate=0.3, ptu_rate=0.0)
    assert_allclose(r.loss_used_usd[0, 10:], [150, 50], rtol=HAND_RTOL)
    assert_allclose(r.isr_usd[0, 11], 9.0, rtol=HAND_RTOL)


def test_vectorized_over_draws():
    p = np.array([[-100, 60, 60.0], [10, 10, 10.0]])
    r = income_tax(p, tax_rate=0.3, ptu_rate=0.0)
    assert_allclose(r.isr_usd, [[0, 0, 6], [3, 3, 3]], rtol=HAND_RTOL)


def test_grid_connection_always_straight_line():
    d = depreciation_schedule(900.0, 100.0, method="mx_renewable_100", construction_years=1, life_years=30)
    assert_allclose(d[0, 1], 900 + 5, rtol=HAND_RTOL)
    assert_allclose(d[0].sum(), 1000, rtol=HAND_RTOL)


def test_bad_inputs():
    with pytest.raises(ValueError, match="NaN"):
        income_tax([1.0, np.nan])
    with pytest.raises(ValueError, match="depreciation"):
        depreciation_schedule(1.0, 0.0, method="macrs", construction_years=1, life_years=5)
