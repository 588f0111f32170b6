"""Social risk level of a project, from its consultation's state.

Notes
-----
Rule (fund decision; thresholds are the named constants below). The first line that
matches gives the level:

=========  ==================================================================
level      when
=========  ==================================================================
critical   community withheld consent / refused, or overdue grievances >=
           :data:`CRITICAL_OVERDUE_GRIEVANCES`, or late commitments >=
           :data:`CRITICAL_LATE_COMMITMENTS`
high       overdue grievances >= :data:`HIGH_OVERDUE_GRIEVANCES`, or late
           commitments >= :data:`HIGH_LATE_COMMITMENTS`, or escalated grievances
           >= :data:`HIGH_ESCALATED_GRIEVANCES`, or at least one overdue
           grievance *and* at least one late commitment
medium     any overdue grievance, late commitment or escalated grievance; or open
           grievances >= :data:`MEDIUM_OPEN_GRIEVANCES`; or a consultation that is
           required and has not reached ``seguimiento`` (no agreement yet, or not
           started: phase ``"not_started"``)
low        otherwise (agreements reached and followed, or consultation not
           required, and no open problem above)
=========  ==================================================================

The reasoning: unanswered grievances and broken commitments are what turns community
concern into litigation (IFC PS1 para. 35; the policy paper behind the fund); a
consultation still before its agreements is an open legal risk for permits (SCJN
2a. XXIX/2016: consultation must be prior); a consultation closed without consent (protocol
version 2) withholds consent as a refusal does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "RISK_LEVELS",
    "NOT_STARTED",
    "PRE_AGREEMENT_PHASES",
    "CRITICAL_OVERDUE_GRIEVANCES",
    "CRITICAL_LATE_COMMITMENTS",
    "HIGH_OVERDUE_GRIEVANCES",
    "HIGH_LATE_COMMITMENTS",
    "HIGH_ESCALATED_GRIEVANCES",
    "MEDIUM_OPEN_GRIEVANCES",
    "social_risk",
]

RISK_LEVELS = ("low", "medium", "high", "critical")
"""Levels in increasing order."""

NOT_STARTED = "not_started"
"""Phase value for a required consultation that has not been opened."""

PRE_AGREEMENT_PHASES = frozenset(
    {NOT_STARTED, "preparacion", "acuerdos_previos", "informativa", "deliberativa", "consultiva"}
)
"""Phases before agreements exist (protocol fondo-ca-mx-2026.1)."""

KNOWN_PHASES = PRE_AGREEMENT_PHASES | {"seguimiento", "cerrada", "cerrada_sin_consentimiento",
                                       "cerrada_sin_afectacion"}
"""Every phase value accepted."""

CRITICAL_OVERDUE_GRIEVANCES = 3
"""Overdue grievances that make the risk critical. [count] (fund decision)"""
CRITICAL_LATE_COMMITMENTS = 3
"""Late commitments that make the risk critical. [count] (fund decision)"""
HIGH_OVERDUE_GRIEVANCES = 2
"""Overdue grievances that make the risk high. [count] (fund decision)"""
HIGH_LATE_COMMITMENTS = 2
"""Late commitments that make the risk high. [count] (fund decision)"""
HIGH_ESCALATED_GRIEVANCES = 2
"""Escalated grievances that make the risk high. [count] (fund decision)"""
MEDIUM_OPEN_GRIEVANCES = 10
"""Open grievances that make the risk at least medium. [count] (fund decision)"""


def _counts(value, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer)
                                 or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be counts (integers), got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.mod(arr, 1) == 0):
        raise ValueError(f"{name} must be whole counts")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0")
    return arr.astype(np.int64)


def social_risk(
    phase,
    open_grievances,
    overdue_grievances,
    late_commitments,
    escalated_grievances=0,
    consent_withheld=False,
    consultation_required=True,
):
    """Social risk level "low" | "medium" | "high" | "critical" (vectorised).

    Parameters
    ----------
    phase : str or array-like of str
        Current phase id, or ``"not_started"``.
    open_grievances, overdue_grievances, late_commitments, escalated_grievances : int or array
        Counts. [count]
    consent_withheld : bool or array
        The community refused or withheld consent in the consultiva phase.
    consultation_required : bool or array
        Output of the trigger rule.

    Returns
    -------
    str, numpy.ndarray of str, or pandas.Series (same kind as ``phase``)

    Examples
    --------
    >>> social_risk("seguimiento", 0, 0, 0)
    'low'
    >>> social_risk("informativa", 1, 1, 0)
    'medium'
    """
    index = phase.index if isinstance(phase, pd.Series) else None
    phase_arr = np.asarray(phase, dtype=object)
    unknown = {p for p in np.atleast_1d(phase_arr).tolist() if p not in KNOWN_PHASES}
    if unknown:
        raise ValueError(f"unknown phase(s) {sorted(map(str, unknown))}; valid: {sorted(KNOWN_PHASES)}")
    open_g = _counts(open_grievances, "open_grievances")
    overdue_g = _counts(overdue_grievances, "overdue_grievances")
    late_c = _counts(late_commitments, "late_commitments")
    escal_g = _counts(escalated_grievances, "escalated_grievances")
    refused = np.asarray(consent_withheld, dtype=bool)
    required = np.asarray(consultation_required, dtype=bool)
    if np.any(overdue_g > open_g + escal_g):
        raise ValueError("overdue_grievances cannot exceed open + escalated grievances")
    pre_agreement = np.isin(phase_arr, list(PRE_AGREEMENT_PHASES))
    try:
        arrays = np.broadcast_arrays(phase_arr, open_g, overdue_g, late_c, escal_g, refused,
                                     required, pre_agreement)
    except ValueError as exc:
        raise ValueError(f"inputs do not broadcast to one shape: {exc}") from None
    _, open_g, overdue_g, late_c, escal_g, refused, required, pre_agreement = arrays
    critical = refused | (overdue_g >= CRITICAL_OVERDUE_GRIEVANCES) | (
        late_c >= CRITICAL_LATE_COMMITMENTS)
    high = ((overdue_g >= HIGH_OVERDUE_GRIEVANCES) | (late_c >= HIGH_LATE_COMMITMENTS)
            | (escal_g >= HIGH_ESCALATED_GRIEVANCES) | ((overdue_g >= 1) & (late_c >= 1)))
    medium = ((overdue_g >= 1) | (late_c >= 1) | (escal_g >= 1)
              | (open_g >= MEDIUM_OPEN_GRIEVANCES) | (required & pre_agreement))
    level = np.select([critical, high, medium], ["critical", "high", "medium"], default="low")
    if index is not None:
        return pd.Series(level, index=index, name="social_risk")
    if level.ndim == 0:
        return str(level)
    return level
