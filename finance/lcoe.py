"""Levelized cost of energy: the fixed-charge-rate method of NREL SAM and the discounted one.

All functions broadcast (numpy) over their arguments.

References
----------
.. [1] W. Short, D. J. Packey, T. Holt, *A Manual for the Economic Evaluation of Energy
   Efficiency and Renewable Energy Technologies*, NREL/TP-462-5173 (1995).
.. [2] NREL System Advisor Model, compute modules ``lcoefcr`` and ``lcoefcr_design``
   (SAM Simulation Core, https://github.com/NREL/ssc).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "capital_recovery_factor",
    "fixed_charge_rate",
    "lcoe_fcr",
    "lcoe_discounted",
    "real_discount_rate",
    "KWH_PER_MWH",
]

#: kWh in one MWh.
KWH_PER_MWH = 1000.0


def _ret(x):
    return float(x) if np.ndim(x) == 0 else x


def capital_recovery_factor(discount_rate, life_years):
    """Capital recovery factor: the annuity that repays one unit over ``life_years``.

    Parameters
    ----------
    discount_rate : float or array_like
        Discount rate. [1/year]
    life_years : float or array_like
        Recovery period. [year]

    Returns
    -------
    float or numpy.ndarray
        :math:`CRF = r / (1 - (1+r)^{-n})`, and ``1/n`` at ``r = 0``. [1/year]

    Examples
    --------
    >>> round(capital_recovery_factor(0.07, 20), 6)
    0.094393
    """
    r = np.asarray(discount_rate, dtype=float)
    n = np.asarray(life_years, dtype=float)
    if np.any(n <= 0):
        raise ValueError("life_years must be > 0")
    if np.any(r <= -1):
        raise ValueError("discount_rate must be > -1")
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = np.where(r == 0, 1.0 / n, r / (1.0 - (1.0 + r) ** -n))
    return _ret(crf)


def real_discount_rate(nominal_rate, inflation_rate):
    """Real rate from a nominal one (Fisher): ``(1+n)/(1+i) - 1``. [1/year]"""
    return _ret((1.0 + np.asarray(nominal_rate, float)) / (1.0 + np.asarray(inflation_rate, float)) - 1.0)


def fixed_charge_rate(
    inflation_rate,
    equity_return,
    debt_fraction,
    debt_interest_rate,
    tax_rate,
    life_years,
    depreciation_schedule,
    construction_interest_rate=0.0,
    construction_schedule=(1.0,),
):
    """Fixed charge rate as NREL SAM's ``lcoefcr_design`` computes it.

    Parameters
    ----------
    inflation_rate : float
        Inflation. [1/year]
    equity_return : float
        Nominal internal rate of return on equity. [1/year]
    debt_fraction : float
        Debt as a fraction of capital. [-]
    debt_interest_rate : float
        Nominal interest rate on debt. [1/year]
    tax_rate : float
        Effective income tax rate. [-]
    life_years : float
        Analysis period. [year]
    depreciation_schedule : sequence of float
        Fraction of the investment deducted in years 1, 2, … (sums to one). [-]
    construction_interest_rate : float
        Nominal interest on construction financing. [1/year]
    construction_schedule : sequence of float
        Fraction of the investment spent in each construction year (sums to one). [-]

    Returns
    -------
    float or numpy.ndarray
        :math:`FCR = CRF \\cdot PFF \\cdot CFF`. [1/year]

    Notes
    -----
    With inflation :math:`i`, nominal equity return :math:`e`, debt fraction :math:`d`,
    nominal interest :math:`k`, tax :math:`T`:

    .. math::

        WACC = \\frac{1 + (1-d) e + d k (1-T)}{1+i} - 1 \\quad (real)

        CRF = \\frac{WACC}{1 - (1+WACC)^{-n}}, \\qquad
        PFF = \\frac{1 - T \\sum_j D_j ((1+WACC)(1+i))^{-j}}{1 - T}

        CFF = \\sum_j C_j \\left(1 + (1-T)\\left((1+k_c)^{j+0.5} - 1\\right)\\right)

    References
    ----------
    NREL SAM ``cmod_lcoefcr_design.cpp`` (SSC), after Short, Packey & Holt (1995).

    Examples
    --------
    >>> round(fixed_charge_rate(0.025, 0.10, 0.5, 0.05, 0.25, 30, [1.0]), 6)
    0.061009
    """
    i = np.asarray(inflation_rate, float)
    df = np.asarray(debt_fraction, float)
    tr = np.asarray(tax_rate, float)
    if np.any((df < 0) | (df > 1)):
        raise ValueError("debt_fraction must be in [0, 1]")
    if np.any((tr < 0) | (tr >= 1)):
        raise ValueError("tax_rate must be in [0, 1)")
    dep = np.asarray(depreciation_schedule, float)
    con = np.asarray(construction_schedule, float)
    if dep.ndim != 1 or con.ndim != 1 or dep.size == 0 or con.size == 0:
        raise ValueError("depreciation_schedule and construction_schedule must be non-empty 1-D")
    wacc = (1.0 + (1.0 - df) * np.asarray(equity_return, float)
            + df * np.asarray(debt_interest_rate, float) * (1.0 - tr)) / (1.0 + i) - 1.0
    crf = np.asarray(capital_recovery_factor(wacc, life_years))
    j = np.arange(1, dep.size + 1)
    pvd = (dep * ((1.0 + wacc[..., None]) * (1.0 + i[..., None])) ** -j).sum(axis=-1)
    pff = (1.0 - tr * pvd) / (1.0 - tr)
    kc = np.asarray(construction_interest_rate, float)
    jc = np.arange(con.size) + 0.5
    cff = (con * (1.0 + (1.0 - tr[..., None]) * ((1.0 + kc[..., None]) ** jc - 1.0))).sum(axis=-1)
    return _ret(crf * pff * cff)


def lcoe_fcr(
    fixed_charge_rate,
    capital_cost_usd,
    fixed_operating_cost_usd_per_year,
    variable_operating_cost_usd_per_mwh,
    annual_energy_mwh,
):
    """LCOE by the fixed-charge-rate method (SAM ``Lcoefcr``).

    Parameters
    ----------
    fixed_charge_rate : float or array_like
        Fixed charge rate. [1/year]
    capital_cost_usd : float or array_like
        Total installed cost. [USD]
    fixed_operating_cost_usd_per_year : float or array_like
        Annual fixed operating cost. [USD/year]
    variable_operating_cost_usd_per_mwh : float or array_like
        Variable operating cost. [USD/MWh]
    annual_energy_mwh : float or array_like
        Annual energy. [MWh]

    Returns
    -------
    float or numpy.ndarray
        :math:`(FCR \\cdot CC + FOC)/AEP + VOC`. [USD/MWh]

    Examples
    --------
    >>> lcoe_fcr(0.1, 1_000_000, 20_000, 2.0, 4_000)
    32.0
    """
    aep = np.asarray(annual_energy_mwh, float)
    if np.any(aep <= 0):
        raise ValueError("annual_energy_mwh must be > 0")
    out = (np.asarray(fixed_charge_rate, float) * np.asarray(capital_cost_usd, float)
           + np.asarray(fixed_operating_cost_usd_per_year, float)) / aep + np.asarray(
        variable_operating_cost_usd_per_mwh, float
    )
    return _ret(out)


def lcoe_discounted(cost_usd, energy_mwh, discount_rate, inflation_rate=0.0):
    """Discounted LCOE, nominal and real (SAM's convention), along the last axis.

    Parameters
    ----------
    cost_usd : array_like, shape (..., T)
        Costs of each year (CAPEX, OPEX, decommissioning; no tax, no financing), year 0
        first, as positive numbers. [USD]
    energy_mwh : array_like, shape (..., T)
        Energy of each year. [MWh]
    discount_rate : float
        Nominal discount rate. [1/year]
    inflation_rate : float
        Inflation. [1/year]

    Returns
    -------
    tuple of (nominal, real)
        ``PV(cost, d) / PV(energy, d)`` and ``PV(cost, d) / PV(energy, d_real)`` with
        :math:`d_{real} = (1+d)/(1+i) - 1`. [USD/MWh]
    """
    c = np.asarray(cost_usd, float)
    e = np.asarray(energy_mwh, float)
    t = np.arange(c.shape[-1])
    pv_cost = (c * (1.0 + discount_rate) ** -t).sum(axis=-1)
    pv_e_nom = (e * (1.0 + discount_rate) ** -t).sum(axis=-1)
    d_real = (1.0 + discount_rate) / (1.0 + inflation_rate) - 1.0
    pv_e_real = (e * (1.0 + d_real) ** -t).sum(axis=-1)
    if np.any(pv_e_nom <= 0):
        raise ValueError("energy_mwh has no positive present value")
    return _ret(pv_cost / pv_e_nom), _ret(pv_cost / pv_e_real)
