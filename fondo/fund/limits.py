"""Concentration limits of the fund: by state, corridor, technology and single project.

A limit caps the fund's own allocations (equity and debt, in the fund's currency) to one
group as a fraction of the fund's total commitments (the usual base of a limited
partnership agreement's diversification clause). Each limit answers ``ok``, ``warning``
(from ``warn_at × max_fraction``, 90 % of the limit by default) or ``breach``.

A project that does not say its state or corridor belongs to no group of that dimension
(it is not lumped with the others under "unknown").

Which allocations count: :func:`evaluate` counts every allocation of the fund (what an
allocation request adds to); the pipeline's financial-close gate
(:func:`concentration_limit_problems`) counts the projects at or beyond financial close,
and the project being moved there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fondo.errors import InvalidInput, NotFound
from fondo.fund.ledger import fund_commitments, lock_fund
from fondo.fund.ledger_models import Allocation, ConcentrationLimit, HolderKind, LimitDimension
from fondo.fund.models import Fund, Project
from fondo.fund.money import amount_text

__all__ = ["COMMITTED_STAGES", "set_limit", "list_limits", "limit_json", "evaluate",
           "concentration_limit_problems", "project_key"]

#: Stages at which the fund's money is committed to a project: financial close and after
#: (``financing`` is the name of financial close before the pipeline of issue 11).
COMMITTED_STAGES = frozenset({"financial_close", "financing", "construction", "operation"})


def project_key(project: Project, dimension: LimitDimension) -> str | None:
    """The group of ``project`` in ``dimension`` (None when the project does not say)."""
    if dimension is LimitDimension.STATE:
        return project.state_key
    if dimension is LimitDimension.CORRIDOR:
        return project.corridor_id
    if dimension is LimitDimension.TECHNOLOGY:
        tech = project.technology
        return getattr(tech, "value", tech)
    return str(project.id)


def set_limit(session: Session, fund_id: int, body: Mapping[str, Any]) -> ConcentrationLimit:
    """Create or replace the limit of (``dimension``, ``key``) (flushed; under the fund's
    lock)."""
    fund = lock_fund(session, fund_id)
    dimension = LimitDimension(body["dimension"])
    key = body.get("key")
    if dimension is LimitDimension.PROJECT and key is not None:
        project = session.get(Project, int(key)) if key.isdigit() else None
        if project is None or project.fund_id != fund.id:
            raise InvalidInput(f"No project {key!r} in fund {fund.id}.", field="key")
    if dimension is LimitDimension.TECHNOLOGY and key is not None and key not in ("pv", "wind"):
        raise InvalidInput(f"Technology is pv or wind, got {key!r}.", field="key")
    row = session.scalar(select(ConcentrationLimit).where(
        ConcentrationLimit.fund_id == fund.id, ConcentrationLimit.dimension == dimension,
        ConcentrationLimit.key.is_(None) if key is None else ConcentrationLimit.key == key))
    if row is None:
        row = ConcentrationLimit(fund_id=fund.id, dimension=dimension, key=key)
        session.add(row)
    row.max_fraction, row.warn_at = float(body["max_fraction"]), float(body["warn_at"])
    session.flush()
    return row


def list_limits(session: Session, fund_id: int) -> list[ConcentrationLimit]:
    """The fund's limits by id."""
    return list(session.scalars(select(ConcentrationLimit)
                                .where(ConcentrationLimit.fund_id == fund_id)
                                .order_by(ConcentrationLimit.id)))


def limit_json(row: ConcentrationLimit) -> dict[str, Any]:
    """One limit's terms."""
    return {"id": row.id, "dimension": row.dimension.value, "key": row.key,
            "max_fraction": row.max_fraction, "warn_at": row.warn_at}


def _held(session: Session, fund: Fund, stages: Iterable[str] | None
          ) -> list[tuple[Project, Decimal]]:
    """(project, fund-currency amount) of the fund's own allocations."""
    query = (select(Project, Allocation.amount_fund_currency)
             .join(Allocation, Allocation.project_id == Project.id)
             .where(Allocation.fund_id == fund.id, Allocation.holder_kind == HolderKind.FUND))
    rows = [(p, Decimal(a)) for p, a in session.execute(query)]
    if stages is not None:
        wanted = set(stages)
        rows = [(p, a) for p, a in rows if getattr(p.stage, "value", p.stage) in wanted]
    return rows


def evaluate(session: Session, fund: Fund, *, extra: Iterable[tuple[Project, Decimal]] = (),
             stages: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every limit of the fund against the fund's allocations (plus ``extra``).

    Returns
    -------
    list of dict
        Per limit and group: ``limit_id``, ``dimension``, ``key``, ``exposure`` (exact
        text, fund currency), ``fraction`` of commitments, ``max_fraction``, ``level``
        (``ok``/``warning``/``breach``) and a ``message`` for warnings and breaches.
    """
    held = _held(session, fund, stages) + list(extra)
    base = fund_commitments(session, fund)
    out = []
    for limit in list_limits(session, fund.id):
        sums: dict[str | None, Decimal] = {}
        for project, amount in held:
            key = project_key(project, limit.dimension)
            if key is None:  # a project that does not say its state/corridor: no group
                continue
            if limit.key is None or key == limit.key:
                sums[key] = sums.get(key, Decimal(0)) + amount
        if limit.key is not None:
            sums.setdefault(limit.key, Decimal(0))
        for key, amount in sorted(sums.items(), key=lambda kv: str(kv[0])):
            fraction = float(amount / base) if base > 0 else (0.0 if amount == 0 else float("inf"))
            level = ("breach" if fraction > limit.max_fraction
                     else "warning" if fraction >= limit.warn_at * limit.max_fraction
                     else "ok")
            label = f"{limit.dimension.value} {key if key is not None else '(none)'}"
            row = {"limit_id": limit.id, "dimension": limit.dimension.value, "key": key,
                   "exposure": amount_text(amount, fund.base_currency),
                   "fraction": fraction if base > 0 else None,
                   "max_fraction": limit.max_fraction, "level": level, "message": None}
            if level != "ok":
                shown = f"{fraction:.1%}" if base > 0 else "all (no commitments)"
                row["message"] = (f"Concentration limit {label}: {shown} of commitments "
                                  f"against a limit of {limit.max_fraction:.1%}"
                                  + (" (breach)." if level == "breach" else
                                     f" (warning from {limit.warn_at:.0%} of the limit)."))
            out.append(row)
    return out


def concentration_limit_problems(session: Session, project_id: int, target_stage: str
                                 ) -> list[str]:
    """Why moving ``project_id`` to ``target_stage`` would break a concentration limit.

    Empty when within every limit, when the target stage commits no money
    (:data:`COMMITTED_STAGES`), or when the project belongs to no fund. Counts the fund's
    allocations to projects at committed stages, the project's own included.
    """
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    if target_stage not in COMMITTED_STAGES or project.fund_id is None:
        return []
    fund = session.get(Fund, project.fund_id)
    stages = set(COMMITTED_STAGES)
    current = getattr(project.stage, "value", project.stage)
    extra = []
    if current not in stages:  # count the project as if it were there already
        extra = [(p, a) for p, a in _held(session, fund, None) if p.id == project.id]
    rows = evaluate(session, fund, extra=extra, stages=stages)
    return [r["message"] for r in rows if r["level"] == "breach"]
