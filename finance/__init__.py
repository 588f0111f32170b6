"""Fondo's finance engine: what a project is worth, and to whom.

Pure and vectorized (numpy; numba for the sequential year loops). Entry points:

* :class:`~finance.inputs.CaseInputs` ``.from_dict(request)`` → validated inputs
  (:class:`~finance.inputs.FinanceInputError` names the bad field);
* :func:`~finance.case.run_case` → :class:`~finance.case.CaseResult` (``to_dict()``,
  ``cashflow_frame()``);
* :func:`~finance.montecarlo.run_montecarlo`, :func:`~finance.montecarlo.tornado`;
* textbook functions: :mod:`finance.returns` (``npv``, ``irr``), :mod:`finance.lcoe`
  (``lcoe_fcr`` as NREL SAM), :mod:`finance.debt` (``sculpted_debt_service``),
  :mod:`finance.tax` (Mexican ISR/PTU).
"""

from finance.case import CaseResult, CashflowColumn, run_case
from finance.debt import sculpted_debt_service
from finance.inputs import CaseInputs, FinanceInputError, TrancheInputs
from finance.lcoe import capital_recovery_factor, fixed_charge_rate, lcoe_fcr
from finance.montecarlo import MonteCarloResult, MonteCarloSpec, run_montecarlo, tornado
from finance.returns import irr, npv

__all__ = [
    "CaseInputs",
    "CaseResult",
    "CashflowColumn",
    "FinanceInputError",
    "MonteCarloResult",
    "MonteCarloSpec",
    "TrancheInputs",
    "capital_recovery_factor",
    "fixed_charge_rate",
    "irr",
    "lcoe_fcr",
    "npv",
    "run_case",
    "run_montecarlo",
    "sculpted_debt_service",
    "tornado",
]
