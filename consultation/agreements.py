"""Agreements of the consultiva phase as commitments followed up in seguimiento.

A commitment (benefit sharing, compensation, mitigation) has an owner (who must do it)
and a due date; its status is public. Canada's impact-benefit agreements and IFC PS7
paras. 18-20 (mitigation and development benefits) are the models.

Notes
-----
Status model::

    pending ──► in_progress ──► fulfilled
       │             │
       └─────────────┴──► cancelled   (only by mutual agreement: reason required)

A commitment is *late* when it is neither fulfilled nor cancelled and ``today`` is after
its due date (the due date itself is still on time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CommitmentKind",
    "CommitmentStatus",
    "COMMITMENT_TRANSITIONS",
    "CLOSED_COMMITMENT_STATUSES",
    "Commitment",
    "new_commitment",
    "change_status",
    "is_late",
    "late_commitments",
    "late_mask",
    "public_commitments",
]


class CommitmentKind(str, enum.Enum):
    """Kinds of commitment; labels in :data:`KIND_LABELS`."""

    BENEFIT_SHARING = "benefit_sharing"
    COMPENSATION = "compensation"
    MITIGATION = "mitigation"


KIND_LABELS: Mapping[CommitmentKind, tuple[str, str]] = {
    CommitmentKind.BENEFIT_SHARING: ("Beneficios compartidos", "Benefit sharing"),
    CommitmentKind.COMPENSATION: ("Compensación", "Compensation"),
    CommitmentKind.MITIGATION: ("Mitigación", "Mitigation"),
}
"""(Spanish, English) labels."""


class CommitmentStatus(str, enum.Enum):
    """Status of a commitment."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


STATUS_LABELS: Mapping[CommitmentStatus, tuple[str, str]] = {
    CommitmentStatus.PENDING: ("Pendiente", "Pending"),
    CommitmentStatus.IN_PROGRESS: ("En curso", "In progress"),
    CommitmentStatus.FULFILLED: ("Cumplido", "Fulfilled"),
    CommitmentStatus.CANCELLED: ("Cancelado de común acuerdo", "Cancelled by mutual agreement"),
}
"""(Spanish, English) labels."""

COMMITMENT_TRANSITIONS: Mapping[CommitmentStatus, frozenset[CommitmentStatus]] = {
    CommitmentStatus.PENDING: frozenset({CommitmentStatus.IN_PROGRESS, CommitmentStatus.FULFILLED,
                                         CommitmentStatus.CANCELLED}),
    CommitmentStatus.IN_PROGRESS: frozenset({CommitmentStatus.FULFILLED,
                                             CommitmentStatus.CANCELLED}),
    CommitmentStatus.FULFILLED: frozenset(),
    CommitmentStatus.CANCELLED: frozenset(),
}
"""Allowed status changes."""

CLOSED_COMMITMENT_STATUSES = frozenset({CommitmentStatus.FULFILLED, CommitmentStatus.CANCELLED})
"""Statuses that end the follow-up of a commitment."""


@dataclasses.dataclass(frozen=True)
class Commitment:
    """A commitment reached in the consultiva phase.

    Attributes
    ----------
    amount_mxn : float or None
        Money involved, if any. [MXN, nominal]
    """

    commitment_id: str
    kind: CommitmentKind
    description: str
    owner: str
    due_date: dt.date
    agreed_on: dt.date
    status: CommitmentStatus = CommitmentStatus.PENDING
    amount_mxn: float | None = None
    status_reason: str = ""
    fulfilled_on: dt.date | None = None


def new_commitment(
    commitment_id: str,
    kind: str | CommitmentKind,
    description: str,
    owner: str,
    due_date: dt.date,
    agreed_on: dt.date,
    amount_mxn: float | None = None,
) -> Commitment:
    """Validate and build a :class:`Commitment` (status pending).

    Raises
    ------
    ValueError
        Unknown kind, empty description/owner/id, due date before the agreement, or a
        negative or non-finite amount.
    """
    try:
        kind = CommitmentKind(kind)
    except ValueError:
        raise ValueError(
            f"kind {kind!r} is not one of {[k.value for k in CommitmentKind]}") from None
    for name, value in (("commitment_id", commitment_id), ("description", description),
                        ("owner", owner)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"commitment {name} is required")
    for name, value in (("due_date", due_date), ("agreed_on", agreed_on)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ValueError(f"{name} must be a date, got {value!r}")
    if due_date < agreed_on:
        raise ValueError(f"due_date {due_date} is before the agreement date {agreed_on}")
    if amount_mxn is not None and (not np.isfinite(amount_mxn) or amount_mxn < 0):
        raise ValueError(f"amount_mxn must be a finite amount >= 0, got {amount_mxn!r}")
    return Commitment(commitment_id.strip(), kind, description.strip(), owner.strip(),
                      due_date, agreed_on, amount_mxn=amount_mxn)


def change_status(
    commitment: Commitment, new_status: str | CommitmentStatus, on: dt.date, reason: str = ""
) -> Commitment:
    """A copy of ``commitment`` with a new status.

    Raises
    ------
    ValueError
        Transition not allowed, or cancellation without a reason.
    """
    new_status = CommitmentStatus(new_status)
    allowed = COMMITMENT_TRANSITIONS[commitment.status]
    if new_status not in allowed:
        names = ", ".join(sorted(s.value for s in allowed)) or "none (final status)"
        raise ValueError(
            f"commitment {commitment.commitment_id}: cannot go from "
            f"{commitment.status.value!r} to {new_status.value!r}; allowed: {names}"
        )
    if new_status is CommitmentStatus.CANCELLED and not reason.strip():
        raise ValueError("cancelling a commitment needs the reason agreed with the community")
    return dataclasses.replace(
        commitment,
        status=new_status,
        status_reason=reason.strip(),
        fulfilled_on=on if new_status is CommitmentStatus.FULFILLED else commitment.fulfilled_on,
    )


def is_late(commitment: Commitment, today: dt.date) -> bool:
    """True if open and past its due date."""
    return commitment.status not in CLOSED_COMMITMENT_STATUSES and today > commitment.due_date


def late_commitments(commitments: Iterable[Commitment], today: dt.date) -> tuple[Commitment, ...]:
    """The late commitments, in input order."""
    return tuple(c for c in commitments if is_late(c, today))


def late_mask(frame: pd.DataFrame, today: dt.date) -> pd.Series:
    """Vectorised lateness over a table with ``status`` and ``due_date`` columns.

    Returns
    -------
    pandas.Series of bool, index of ``frame``.
    """
    for col in ("status", "due_date"):
        if col not in frame.columns:
            raise ValueError(f"frame lacks column {col!r}")
    closed = frame["status"].isin([s.value for s in CLOSED_COMMITMENT_STATUSES])
    due = pd.to_datetime(frame["due_date"]).to_numpy(dtype="datetime64[D]")
    return pd.Series(~closed.to_numpy() & (due < np.datetime64(today, "D")), index=frame.index)


def public_commitments(commitments: Sequence[Commitment], today: dt.date) -> list[dict]:
    """Public status of each commitment (JSON-able), with labels and a ``late`` flag."""
    out = []
    for c in commitments:
        kind_es, kind_en = KIND_LABELS[c.kind]
        st_es, st_en = STATUS_LABELS[c.status]
        out.append({
            "commitment_id": c.commitment_id,
            "kind": c.kind.value, "kind_label_es": kind_es, "kind_label_en": kind_en,
            "description": c.description,
            "owner": c.owner,
            "agreed_on": c.agreed_on.isoformat(),
            "due_date": c.due_date.isoformat(),
            "status": c.status.value, "status_label_es": st_es, "status_label_en": st_en,
            "fulfilled_on": c.fulfilled_on.isoformat() if c.fulfilled_on else None,
            "amount_mxn": c.amount_mxn,
            "late": is_late(c, today),
        })
    return out
