"""LCOE against NREL SAM (PySAM ``Lcoefcr`` and ``LcoefcrDesign``)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from finance.lcoe import KWH_PER_MWH, capital_recovery_factor, fixed_charge_rate, lcoe_discounted, lcoe_fcr

Lcoefcr = pytest.importorskip("PySAM.Lcoefcr")
LcoefcrDesign = pytest.importorskip("PySAM.LcoefcrDesign")

#: Bar of issue 4: lcoe_fcr within 0.5 % of SAM.
SAM_RTOL = 0.005
#: What we actually expect (same formula, double precision).
SAM_RTOL_TIGHT = 1e-10

CASES = [
    # fcr, capital [USD], fixed O&M [USD/yr], variable [USD/MWh], energy [MWh]
    (0.0708, 90e6, 1.2e6, 0.0, 250_000.0),
    (0.095, 55e6, 750e3, 2.5, 120_000.0),
    (0.12, 1.0e6, 20e3, 4.0, 1_800.0),
]


@pytest.mark.parametrize("fcr, cc, foc, voc, aep", CASES)
def test_lcoe_fcr_matches_pysam(fcr, cc, foc, voc, aep):
    m = Lcoefcr.new()
    m.SimpleLCOE.fixed_charge_rate = fcr
    m.SimpleLCOE.capital_cost = cc
    m.SimpleLCOE.fixed_operating_cost = foc
    m.SimpleLCOE.variable_operating_cost = voc / KWH_PER_MWH  # $/kWh
    m.SimpleLCOE.annual_energy = aep * KWH_PER_MWH  # kWh
    m.execute(0)
    sam = m.Outputs.lcoe_fcr * KWH_PER_MWH  # $/kWh -> $/MWh
    ours = lcoe_fcr(fcr, cc, foc, voc, aep)
    assert_allclose(ours, sam, rtol=SAM_RTOL)
    assert_allclose(ours, sam, rtol=SAM_RTOL_TIGHT)


def test_lcoe_fcr_vectorized():
    out = lcoe_fcr(np.array([0.08, 0.1]), 1e6, 0.0, 0.0, 1e4)
    assert_allclose(out, [8.0, 10.0], rtol=1e-12)


FCR_CASES = [
    # inflation, equity return, debt fraction, interest, tax, life, depreciation, cons. interest, cons. schedule
    (0.025, 0.10, 0.5, 0.05, 0.25, 30, [20, 32, 19.2, 11.52, 11.52, 5.76], 0.04, [100]),
    (0.03, 0.12, 0.7, 0.07, 0.30, 25, [100], 0.07, [60, 40]),
    (0.02, 0.09, 0.0, 0.06, 0.30, 20, [5] * 20, 0.0, [100]),
]


@pytest.mark.parametrize("i, roe, df, k, tr, n, dep, kc, con", FCR_CASES)
def test_fixed_charge_rate_matches_sam_design(i, roe, df, k, tr, n, dep, kc, con):
    m = LcoefcrDesign.new()
    m.SystemControl.sim_type = 2  # design only
    s = m.SimpleLCOE
    s.ui_fcr_input_option = 1
    s.c_inflation = i * 100
    s.c_equity_return = roe * 100
    s.c_debt_percent = df * 100
    s.c_nominal_interest_rate = k * 100
    s.c_tax_rate = tr * 100
    s.c_lifetime = n
    s.c_depreciation_schedule = dep
    s.c_construction_interest = kc * 100
    s.c_construction_cost = con
    m.execute(0)
    ours = fixed_charge_rate(i, roe, df, k, tr, n, np.array(dep) / 100, kc, np.array(con) / 100)
    assert_allclose(ours, m.Outputs.fixed_charge_rate_calc, rtol=SAM_RTOL_TIGHT)


def test_capital_recovery_factor_textbook():
    # r(1+r)^n / ((1+r)^n - 1) for r = 7 %, n = 20: 0.0943929 (standard annuity tables)
    assert_allclose(capital_recovery_factor(0.07, 20), 0.07 * 1.07**20 / (1.07**20 - 1), rtol=1e-12)
    assert_allclose(capital_recovery_factor(0.0, 20), 1 / 20, rtol=1e-12)


def test_lcoe_discounted_hand_worked():
    # cost 100 at t0, 10 at t1 ; energy 0, 1 at t1 ; d = 10 %, inflation 0:
    # PV cost = 100 + 10/1.1 = 109.0909 ; PV energy = 1/1.1 -> 120.0
    nom, real = lcoe_discounted([100.0, 10.0], [0.0, 1.0], 0.10)
    assert_allclose([nom, real], [120.0, 120.0], rtol=1e-12)
    nom, real = lcoe_discounted([100.0, 10.0], [0.0, 1.0], 0.10, 0.02)
    # real rate (1.1/1.02 - 1); PV energy = 1.02/1.1
    assert_allclose(real, (100 + 10 / 1.1) / (1.02 / 1.1), rtol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="annual_energy_mwh"):
        lcoe_fcr(0.1, 1, 1, 1, 0.0)
    with pytest.raises(ValueError, match="life_years"):
        capital_recovery_factor(0.05, 0)
